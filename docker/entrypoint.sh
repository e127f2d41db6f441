#!/bin/sh
# Entry point of the uprtrax image: wait until PostgreSQL answers (it may still be starting when a container
# starts outside Compose's health-checked ordering), then run the command (gunicorn, celery, manage.py).
set -eu

case "${DATABASE_URL:-}" in
    postgres://* | postgresql://* | pgsql://*)
        if [ "${DB_WAIT_TIMEOUT:-60}" != "0" ]; then
            python "$(dirname "$0")/wait_for_db.py" --timeout "${DB_WAIT_TIMEOUT:-60}"
        fi
        ;;
esac

exec "$@"
