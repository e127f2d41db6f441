# syntax=docker/dockerfile:1
# uprtrax production image: gunicorn serving Django (static files by WhiteNoise), reused by the Celery worker
# and beat with their own command (see docker-compose.yml).

# --- build: a virtualenv holding exactly the locked dependencies --------------------------------------------
FROM python:3.13-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
COPY requirements.lock /tmp/requirements.lock
# --require-hashes: every wheel must match the hash recorded in the lock file.
RUN /opt/venv/bin/pip install --require-hashes --only-binary=:all: -r /tmp/requirements.lock

# --- runtime ---------------------------------------------------------------------------------------------
FROM python:3.13-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=uprtrax.settings \
    DJANGO_MEDIA_ROOT=/var/lib/uprtrax/media
RUN groupadd --system --gid 10001 uprtrax \
    && useradd --system --uid 10001 --gid uprtrax --home-dir /app --no-create-home --shell /usr/sbin/nologin uprtrax \
    && mkdir -p /var/lib/uprtrax /var/lib/uprtrax/media \
    && chown uprtrax:uprtrax /var/lib/uprtrax /var/lib/uprtrax/media
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code stays owned by root: the application user can read it, not change it.
COPY manage.py pyproject.toml ./
COPY uprtrax ./uprtrax
COPY reviews ./reviews
COPY recommendations ./recommendations
COPY followup ./followup
COPY templates ./templates
COPY static ./static
COPY docker ./docker

# Static files are collected into the image (WhiteNoise serves them). The key only lets settings load for this
# one command: it is a build argument, never an ENV of the image, and no secret.
ARG COLLECTSTATIC_SECRET_KEY=collectstatic-only-not-a-secret
RUN DJANGO_SECRET_KEY="$COLLECTSTATIC_SECRET_KEY" python manage.py collectstatic --noinput --verbosity 0

USER uprtrax
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
# Processes, threads, timeouts: docker/gunicorn.conf.py, from the environment (WEB_CONCURRENCY, GUNICORN_*). No
# access log of its own: the application logs each request, with its id (uprtrax/ops/logs.py).
CMD ["gunicorn", "uprtrax.wsgi:application", "--config", "/app/docker/gunicorn.conf.py", "--bind", "0.0.0.0:8000"]
