"""Celery tasks of the import jobs: thin, by id; the work is in recommendations.imports.jobs."""

from celery import shared_task


# ignore_result: the run's record holds what came of it. A task whose result is stored makes its sender subscribe to
# the result first, which waits about 20 s for a Redis that is down before failing (an upload would hang that long).
@shared_task(ignore_result=True)
def import_run_execute(run_id: int) -> dict:
    """Preview or commit one import run. Safe to deliver twice: only a pending run is run (acks_late redelivers
    a killed worker's message, which then finds the run failed and does nothing)."""
    from recommendations.imports.jobs import run_execute

    return run_execute(run_id=run_id)


@shared_task(ignore_result=True)
def import_runs_reap() -> dict:
    """Mark failed every running import whose worker stopped (its heartbeat expired): Celery beat, every minute."""
    from recommendations.imports.jobs import runs_reap

    return {"failed": runs_reap()}
