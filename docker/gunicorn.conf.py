"""gunicorn's settings for the web container (`gunicorn -c /app/docker/gunicorn.conf.py`, docker-compose.yml and the
Dockerfile), each from the environment, with defaults for a host of 2 cores and a few GB.

Each process holds the search's facet bitmaps and word index (recommendations/bitmaps.py: 132 MB at a million
recommendations, built again after a restart), so a few processes with several threads each serve more requests in
less memory than many single-threaded ones; a request spends much of its time waiting for PostgreSQL, when another
thread runs. A bad value stops the start with a message naming the variable.
"""

import os


def _whole_number(name: str, default: int, *, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ValueError(f"{name}={raw!r} must be a whole number of at least {minimum}.")
    return int(raw)


# Processes; gunicorn's own variable. About one per core.
workers = _whole_number("WEB_CONCURRENCY", 2, minimum=1)
# Threads per process (gthread worker when more than 1): requests served at once = workers x threads.
threads = _whole_number("GUNICORN_THREADS", 4, minimum=1)
# A process silent this long (seconds) is killed and replaced. Long downloads stream through the proxy's buffer.
timeout = _whole_number("GUNICORN_TIMEOUT", 60, minimum=1)
# On a restart or a deploy, requests under way get this long (seconds) to finish.
graceful_timeout = _whole_number("GUNICORN_GRACEFUL_TIMEOUT", 30, minimum=1)
# A process is replaced after this many requests (0: never), give or take the jitter, so that no two are replaced
# at once: memory that crept up is given back. High, because a new process builds the search's bitmaps again.
max_requests = _whole_number("GUNICORN_MAX_REQUESTS", 10_000, minimum=0)
max_requests_jitter = _whole_number("GUNICORN_MAX_REQUESTS_JITTER", 1_000, minimum=0)
# The workers' heartbeat files in memory, not on the container's overlay file system (which can stall them).
worker_tmp_dir = "/dev/shm"  # noqa: S108 - a tmpfs in every container, gunicorn's own advice for Docker
