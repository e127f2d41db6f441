"""Celery tasks of follow-up: thin; the work is in followup.snapshots."""

from celery import shared_task


@shared_task(ignore_result=True)
def statistics_recompute_task() -> dict:
    """Recompute and store every statistics snapshot. Queued by followup.snapshots.statistics_changed() after
    imports and assessment changes, and nightly by Celery beat. Safe to deliver twice: a second run waits for the
    first and stores the same figures."""
    from followup.snapshots import statistics_recompute

    stored = statistics_recompute()
    return {"snapshots": len(stored), "seconds": stored[0].duration_seconds if stored else 0}
