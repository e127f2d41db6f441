"""Celery tasks of follow-up: thin; the work is in followup.snapshots and followup.dumps."""

from celery import shared_task


@shared_task(ignore_result=True)
def statistics_recompute_task() -> dict:
    """Recompute and store every statistics snapshot. Queued by followup.snapshots.statistics_changed() after
    imports and assessment changes, and nightly by Celery beat. Safe to deliver twice: a second run waits for the
    first and stores the same figures."""
    from followup.snapshots import statistics_recompute

    stored = statistics_recompute()
    return {"snapshots": len(stored), "seconds": stored[0].duration_seconds if stored else 0}


@shared_task(ignore_result=True)
def dumps_build_task() -> dict:
    """Build the public data dump and serve it (followup.dumps.build). Nightly by Celery beat, or `manage.py
    build_dumps`. Not retried: a failure is recorded on its DataDump and the previous dump stays served until the
    next night. Safe to deliver twice: a second build while one runs returns at once."""
    from followup.dumps.build import dumps_build

    dump = dumps_build()
    if dump is None:
        return {"skipped": "another build is running"}
    return {"dump": dump.pk, "rows": sum(dump.rows.values()), "bytes": dump.size, "seconds": dump.duration_seconds}
