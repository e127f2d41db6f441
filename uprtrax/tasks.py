"""Project-wide Celery tasks: the ones that belong to no single app."""

from celery import shared_task


@shared_task
def ping() -> str:
    """Answer "pong" from a worker: /readyz sends it through the broker to prove that a worker consumes."""
    return "pong"
