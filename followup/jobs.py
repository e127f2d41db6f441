"""The statistics recomputes and data dumps as jobs with a record: queued, running, succeeded or failed, and why.

    recompute_queue    a change, an admin or the reaper asks for a recompute: the one already queued covers it, or a
                       new StatisticsRecompute is queued and its task sent to the broker (after the commit). A broker
                       that is down leaves it queued, unsent: the reaper sends it when the broker is back, so that no
                       change's recompute is lost and no write fails for it.
    recompute_execute  the worker's side: claims the queued run (queued -> running in one conditional UPDATE: a
                       duplicate or redelivered message finds nothing to do), or records a nightly one, and runs
                       followup.snapshots.statistics_recompute with a heartbeat (uprtrax.jobs.Heartbeat).
    recompute_now      the same, in this process, for `manage.py compute_statistics`.
    jobs_reap          Celery beat, every UPRTRAX_JOBS_REAP_SECONDS: marks failed the recomputes and dumps whose
                       heartbeat stopped (a killed worker; a recompute is queued again, once), sends the queued
                       recomputes and import runs that the broker never took (or lost), and forgets old records.

A recompute writes its snapshots in one transaction, and a dump switches by a rename once whole: a job whose worker
was killed wrote nothing that anyone reads, and running it again is always safe.
"""

import logging
import shutil
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from followup.models import DataDump, JobTrigger, StatisticsRecompute
from uprtrax.jobs import Heartbeat, silent_for_too_long

logger = logging.getLogger(__name__)

RECOMPUTE_STOPPED = (
    "The worker stopped during the recompute (killed or restarted); the previous statistics stay whole. "
    "Another recompute was queued."
)
RECOMPUTE_STOPPED_AGAIN = (
    "The worker stopped during the recompute (killed or restarted) again; the previous statistics stay whole. "
    "Not queued again: the next change, the nightly run or the admin's button runs it."
)
DUMP_STOPPED = "The worker stopped during the build (killed or restarted); the previous dump stays served."
# A queued recompute still unsent this long after it was queued was refused by the broker (or its process died).
UNSENT_GRACE = timedelta(seconds=5)
# Finished recomputes are kept this long (one per burst of changes: a busy site makes hundreds a day).
RECOMPUTES_KEPT = timedelta(days=30)


# --- Queueing --------------------------------------------------------------------------------------------------------


def recompute_queue(*, trigger: str, user=None, delay: int = 0) -> StatisticsRecompute | None:
    """A recompute that will read the data as it is from now on: the one already queued, or a new one due in `delay`
    seconds, whose task is sent after the commit. None when a racing caller's run was claimed meanwhile (it started
    after this change was committed, so it counts it)."""
    queued = StatisticsRecompute.objects.filter(status=StatisticsRecompute.Status.QUEUED).first()
    if queued is not None:
        return queued
    try:
        with transaction.atomic():
            run = StatisticsRecompute.objects.create(
                trigger=trigger,
                user=user if getattr(user, "pk", None) else None,
                not_before=timezone.now() + timedelta(seconds=delay),
                task_id=uuid.uuid4().hex,
            )
    except IntegrityError:  # another process queued one at the same moment (one queued at most: a constraint)
        return StatisticsRecompute.objects.filter(status=StatisticsRecompute.Status.QUEUED).first()
    transaction.on_commit(partial(_recompute_send, run.pk, run.task_id, delay), robust=True)
    return run


def _recompute_send(run_id: int, task_id: str, countdown: int) -> bool:
    """Hand the task to the broker and note when. A broker that is down is logged and leaves the run unsent: never
    an error for the write that asked (the reaper sends it later). Without a broker the task runs here."""
    from followup.tasks import statistics_recompute_task

    try:
        statistics_recompute_task.apply_async(kwargs={"run_id": run_id}, countdown=countdown, task_id=task_id)
    except Exception as error:
        if statistics_recompute_task.app.conf.task_always_eager:  # no broker: it ran here, failed, and says so
            logger.exception("statistics recompute %s: failed", run_id)
            return False
        logger.warning(
            "statistics recompute %s: not sent to the broker (%s: %s); it stays queued and is sent when the broker "
            "answers again",
            run_id,
            type(error).__name__,
            error,
        )
        return False
    StatisticsRecompute.objects.filter(pk=run_id, status=StatisticsRecompute.Status.QUEUED).update(sent_at=Now())
    return True


# --- Running ---------------------------------------------------------------------------------------------------------


def recompute_execute(*, run_id: int | None) -> dict:
    """Run the queued recompute `run_id`, or (None: Celery beat's nightly run) a new one. Returns {"run", "status",
    "snapshots"}; "skipped" when the run is not queued (a duplicate or late message)."""
    if run_id is None:
        run = StatisticsRecompute.objects.create(
            trigger=JobTrigger.NIGHTLY, status=StatisticsRecompute.Status.RUNNING, started_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )  # fmt: skip
        run_id = run.pk
    else:
        claimed = StatisticsRecompute.objects.filter(pk=run_id, status=StatisticsRecompute.Status.QUEUED).update(
            status=StatisticsRecompute.Status.RUNNING, started_at=Now(), heartbeat_at=Now()
        )
        if not claimed:
            logger.info("statistics recompute %s: not queued (a duplicate or late message), nothing to do", run_id)
            return {"run": run_id, "status": "skipped", "snapshots": 0}
    return _recompute_run(run_id)


def recompute_now(*, trigger: str = JobTrigger.COMMAND, user=None, **options) -> list:
    """Recompute in this process, recorded (`manage.py compute_statistics`); `options` go to statistics_recompute.
    Returns the snapshots stored; raises what the recompute raised, recorded as the run's error."""
    run = StatisticsRecompute.objects.create(
        trigger=trigger, user=user if getattr(user, "pk", None) else None,
        status=StatisticsRecompute.Status.RUNNING, started_at=timezone.now(), heartbeat_at=timezone.now(),
    )  # fmt: skip
    return _recompute_run(run.pk, options=options, returning=True)


def _recompute_run(run_id: int, *, options: dict | None = None, returning: bool = False):
    from followup.snapshots import statistics_recompute

    try:
        with Heartbeat(StatisticsRecompute, run_id):
            stored = statistics_recompute(**(options or {}))
    except BaseException as error:  # a time limit or an interrupt too: the run says so
        _finish(run_id, StatisticsRecompute.Status.FAILED, error=f"{type(error).__name__}: {error}"[:5000])
        raise
    _finish(run_id, StatisticsRecompute.Status.SUCCEEDED, snapshots=len(stored))
    if returning:
        return stored
    return {"run": run_id, "status": StatisticsRecompute.Status.SUCCEEDED, "snapshots": len(stored)}


def _finish(run_id: int, status: str, **values) -> None:
    StatisticsRecompute.objects.filter(pk=run_id).update(status=status, finished_at=Now(), **values)


# --- Reaping ---------------------------------------------------------------------------------------------------------


def jobs_reap() -> dict[str, int]:
    """What Celery beat runs every UPRTRAX_JOBS_REAP_SECONDS; returns how many of each it handled."""
    from recommendations.imports.jobs import runs_requeue

    return {
        "recomputes_failed": recomputes_reap(),
        "dumps_failed": dumps_reap(),
        "recomputes_sent": recomputes_requeue(),
        "imports_sent": runs_requeue(),
        "recomputes_forgotten": StatisticsRecompute.objects.filter(
            status__in=(StatisticsRecompute.Status.SUCCEEDED, StatisticsRecompute.Status.FAILED),
            queued_at__lt=timezone.now() - RECOMPUTES_KEPT,
        ).delete()[0],
    }


def recomputes_reap() -> int:
    """Mark failed the running recomputes whose heartbeat stopped; queue another (once: not after a retry that
    stopped too, which would loop on a recompute that kills its worker). Returns how many were marked."""
    dead = StatisticsRecompute.objects.filter(silent_for_too_long(), status=StatisticsRecompute.Status.RUNNING)
    failed = 0
    for run in dead.only("pk", "trigger"):
        again = run.trigger != JobTrigger.RETRY
        marked = StatisticsRecompute.objects.filter(
            silent_for_too_long(), pk=run.pk, status=StatisticsRecompute.Status.RUNNING
        ).update(
            status=StatisticsRecompute.Status.FAILED,
            finished_at=Now(),
            error=RECOMPUTE_STOPPED if again else RECOMPUTE_STOPPED_AGAIN,
        )
        if marked:
            failed += 1
            logger.warning("statistics recompute %s: heartbeat lost, marked failed", run.pk)
            if again:
                recompute_queue(trigger=JobTrigger.RETRY)
    return failed


def dumps_reap() -> int:
    """Mark failed the running dump builds whose heartbeat stopped, and remove their half-written folder (never
    served: a dump is switched in by a rename once whole). Returns how many were marked."""
    from followup.dumps.build import dumps_root

    dead = list(
        DataDump.objects.filter(silent_for_too_long(), status=DataDump.Status.RUNNING).values_list("pk", flat=True)
    )
    failed = 0
    for pk in dead:
        marked = DataDump.objects.filter(silent_for_too_long(), pk=pk, status=DataDump.Status.RUNNING).update(
            status=DataDump.Status.FAILED, finished_at=Now(), error=DUMP_STOPPED
        )
        if marked:
            failed += 1
            shutil.rmtree(dumps_root() / f".building-{pk}", ignore_errors=True)
            logger.warning("data dump %s: heartbeat lost, marked failed", pk)
    return failed


def recomputes_requeue() -> int:
    """Send the queued recompute again when the broker never took it (sent_at empty) or took it long ago without it
    starting (JOBS_REQUEUE_SECONDS after it was due: lost with a Redis restarted without its data). A change
    written while the broker was down may have missed the search's cache too (the same Redis): the search's data
    version is moved on then. Returns how many were sent."""
    from recommendations.facets import search_data_changed

    now = timezone.now()
    late = now - timedelta(seconds=settings.JOBS_REQUEUE_SECONDS)
    # Unsent for a few seconds: its own send (after its commit) had its chance and failed.
    overdue = Q(sent_at__isnull=True, queued_at__lt=now - UNSENT_GRACE) | Q(sent_at__lt=late, not_before__lt=late)
    sent = 0
    for run in StatisticsRecompute.objects.filter(overdue, status=StatisticsRecompute.Status.QUEUED):
        if run.sent_at is None:
            search_data_changed()
        countdown = max(0, int((run.not_before - timezone.now()).total_seconds())) if run.not_before else 0
        if _recompute_send(run.pk, run.task_id, countdown):
            sent += 1
            logger.info("statistics recompute %s: sent to the broker again", run.pk)
    return sent
