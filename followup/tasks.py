"""Celery tasks of follow-up: thin; the work is in followup.jobs, followup.snapshots and followup.dumps."""

from celery import shared_task


@shared_task(ignore_result=True)
def statistics_recompute_task(run_id: int | None = None) -> dict:
    """Recompute and store every statistics snapshot: the queued StatisticsRecompute `run_id` (queued by
    followup.snapshots.statistics_changed() after imports and assessment changes, or by hand), or a new one (None:
    Celery beat's nightly run). Safe to deliver twice: only a queued run is run, and a second recompute waits for
    the first and stores the same figures."""
    from followup.jobs import recompute_execute

    return recompute_execute(run_id=run_id)


@shared_task(ignore_result=True)
def dumps_build_task(trigger: str = "nightly", user_id: int | None = None) -> dict:
    """Build the public data dump and serve it (followup.dumps.build). Nightly by Celery beat, by hand in the admin,
    or `manage.py build_dumps`. Not retried: a failure is recorded on its DataDump and the previous dump stays served
    until the next night. Safe to deliver twice: a second build while one runs returns at once."""
    from followup.dumps.build import dumps_build
    from followup.models import User

    user = User.objects.filter(pk=user_id).first() if user_id else None
    dump = dumps_build(trigger=trigger, user=user)
    if dump is None:
        return {"skipped": "another build is running"}
    return {"dump": dump.pk, "rows": sum(dump.rows.values()), "bytes": dump.size, "seconds": dump.duration_seconds}


@shared_task(ignore_result=True)
def jobs_reap_task() -> dict:
    """Celery beat, every UPRTRAX_JOBS_REAP_SECONDS: recomputes and dumps whose worker stopped are marked failed, and
    jobs the broker never took (it was down) are sent again (followup.jobs.jobs_reap)."""
    from followup.jobs import jobs_reap

    return jobs_reap()
