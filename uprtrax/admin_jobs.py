"""The admin's "Background jobs" page (/admin/jobs/, staff only): the Celery jobs with their state (imports,
statistics recomputes, data dumps: queued, running, succeeded or failed and why, when, how long, who asked) and the
live picture (the workers' heartbeats, the tasks waiting in the broker), with buttons to recompute the statistics
or build the data dump now.

Nothing on it waits for Redis: the live picture uses one client with one-second timeouts and no retries, and says
"unavailable" when Redis does not answer. The records come from the database alone.

Why not django-celery-results: it records task results (a row per task, in the database), but what an admin needs
is the job's meaning (which file, which import, why it failed, whether the data is whole), which the job records
already hold; a second record of every task would only duplicate them and grow without bound.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods
from redis.backoff import NoBackoff
from redis.retry import Retry

from followup.models import DataDump, JobTrigger, StatisticsRecompute
from recommendations.models import ImportRun

logger = logging.getLogger(__name__)

RECENT = 15  # jobs of each kind listed
REDIS_TIMEOUT_SECONDS = 1.0


# --- The records ----------------------------------------------------------------------------------------------------


@dataclass
class JobRow:
    """One job, whatever its kind, as the page lists it."""

    name: str
    state: str  # queued, running, succeeded, failed
    state_label: str
    why: str  # who or what asked for it
    queued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    result: str  # what came of it: counts, or the reason it failed
    url: str

    @property
    def duration(self) -> timedelta | None:
        return self.finished_at - self.started_at if self.started_at and self.finished_at else None


@dataclass
class JobKind:
    title: str
    rows: list[JobRow]
    all_url: str
    counts: dict[str, int] = field(default_factory=dict)  # by state, of the listed rows


_IMPORT_STATES = {
    ImportRun.Status.PENDING: ("queued", "Queued"),
    ImportRun.Status.RUNNING: ("running", "Running"),
    ImportRun.Status.SUCCEEDED: ("succeeded", "Succeeded"),
    ImportRun.Status.DRY_RUN: ("succeeded", "Succeeded (preview)"),
    ImportRun.Status.FAILED: ("failed", "Failed"),
}
_DUMP_STATES = {
    DataDump.Status.RUNNING: ("running", "Running"),
    DataDump.Status.SUCCEEDED: ("succeeded", "Succeeded"),
    DataDump.Status.REMOVED: ("succeeded", "Succeeded (since removed)"),
    DataDump.Status.FAILED: ("failed", "Failed"),
}


def _who(user, trigger_label: str) -> str:
    if user is None:
        return trigger_label
    return f"{trigger_label}: {user.get_full_name() or user.get_username()}"


def _imports() -> list[JobRow]:
    runs = ImportRun.objects.select_related("user").order_by("-started_at", "-id")[:RECENT]
    rows = []
    for run in runs:
        state, label = _IMPORT_STATES.get(run.status, (run.status, run.get_status_display()))
        counts = run.counts or {}
        if run.status == ImportRun.Status.FAILED:
            result = run.error_message or "Failed."
        elif run.status in (ImportRun.Status.SUCCEEDED, ImportRun.Status.DRY_RUN):
            result = ", ".join(f"{key} {value:,}" for key, value in counts.items() if isinstance(value, int))
        elif run.status == ImportRun.Status.PENDING and not run.task_id:
            result = "Waiting for the broker, which was unavailable: sent when it answers again."
        else:
            result = ""
        running_or_queued = run.status in (ImportRun.Status.PENDING, ImportRun.Status.RUNNING)
        rows.append(
            JobRow(
                name=f"{run.get_kind_display()}{' preview' if run.dry_run else ''}: {run.file_name or 'import'}",
                state=state,
                state_label=label,
                why=_who(run.user, "By hand (import page or API)" if run.user_id else "Command line"),
                queued_at=run.started_at if run.status == ImportRun.Status.PENDING else None,
                started_at=None if run.status == ImportRun.Status.PENDING else run.started_at,
                finished_at=None if running_or_queued else run.finished_at,
                result=result,
                url=reverse("admin:recommendations_importrun_change", args=[run.pk]),
            )
        )
    return rows


def _recomputes() -> list[JobRow]:
    runs = StatisticsRecompute.objects.select_related("user").order_by("-queued_at", "-id")[:RECENT]
    rows = []
    for run in runs:
        if run.status == StatisticsRecompute.Status.FAILED:
            result = run.error
        elif run.status == StatisticsRecompute.Status.SUCCEEDED:
            result = f"{run.snapshots:,} snapshots stored"
        elif run.status == StatisticsRecompute.Status.QUEUED and run.sent_at is None:
            result = "Waiting for the broker, which was unavailable: sent when it answers again."
        elif run.status == StatisticsRecompute.Status.QUEUED and run.not_before:
            result = f"Due at {timezone.localtime(run.not_before):%H:%M:%S}"
        else:
            result = ""
        rows.append(
            JobRow(
                name=f"Statistics recompute #{run.pk}",
                state=run.status,
                state_label=run.get_status_display(),
                why=_who(run.user, run.get_trigger_display()),
                queued_at=run.queued_at,
                started_at=run.started_at,
                finished_at=run.finished_at,
                result=result,
                url=reverse("admin:followup_statisticsrecompute_change", args=[run.pk]),
            )
        )
    return rows


def _dumps() -> list[JobRow]:
    dumps = DataDump.objects.select_related("user").defer("manifest").order_by("-started_at", "-id")[:RECENT]
    rows = []
    for dump in dumps:
        state, label = _DUMP_STATES.get(dump.status, (dump.status, dump.get_status_display()))
        if dump.status == DataDump.Status.FAILED:
            result = dump.error
        elif dump.status in (DataDump.Status.SUCCEEDED, DataDump.Status.REMOVED):
            result = f"{sum(dump.rows.values()):,} rows, {dump.size / 1e6:,.1f} MB"
        else:
            result = ""
        rows.append(
            JobRow(
                name=f"Data dump #{dump.pk}",
                state=state,
                state_label=label,
                why=_who(dump.user, dump.get_trigger_display()),
                queued_at=None,
                started_at=dump.started_at,
                finished_at=dump.finished_at,
                result=result,
                url=reverse("admin:followup_datadump_change", args=[dump.pk]),
            )
        )
    return rows


def job_kinds(user) -> list[JobKind]:
    """The recent jobs of each kind this staff member may view."""
    kinds = []
    for permission, title, rows, changelist in (
        ("recommendations.view_importrun", "Imports", _imports, "admin:recommendations_importrun_changelist"),
        ("followup.view_statisticsrecompute", "Statistics recomputes", _recomputes,
         "admin:followup_statisticsrecompute_changelist"),
        ("followup.view_datadump", "Data dumps", _dumps, "admin:followup_datadump_changelist"),
    ):  # fmt: skip
        if user.has_perm(permission):
            listed = rows()
            counts = {state: sum(row.state == state for row in listed) for state in ("queued", "running", "failed")}
            kinds.append(JobKind(title=title, rows=listed, all_url=reverse(changelist), counts=counts))
    return kinds


# --- The live picture ------------------------------------------------------------------------------------------------


@dataclass
class Worker:
    name: str
    seconds_ago: float
    alive: bool


@dataclass
class LivePicture:
    broker: str  # where tasks go, without credentials
    broker_error: str = ""  # why it is unavailable ("" when it answered)
    waiting: int | None = None  # messages in the default queue
    taken: int | None = None  # delivered to workers, not yet acknowledged (running, or waiting for their time)
    workers: list[Worker] | None = None  # None: unavailable
    workers_error: str = ""


def _client(url: str) -> redis.Redis:
    """A Redis client that gives up within REDIS_TIMEOUT_SECONDS, once: no retry, no backoff."""
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 0),
    )


def _without_password(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path}"


def live_picture() -> LivePicture:
    """The broker's queue and the workers' heartbeats, each "unavailable" (with the reason) when Redis does not
    answer within a second."""
    url = settings.CELERY_BROKER_URL
    if not url:
        return LivePicture(broker="none", broker_error="No broker is configured: tasks run in the web process.",
                           workers=[], workers_error="No workers: tasks run in the web process.")  # fmt: skip
    picture = LivePicture(broker=_without_password(url))
    try:
        client = _client(url)
        queue = celery_queue_name()
        pipeline = client.pipeline(transaction=False)
        pipeline.llen(queue)
        pipeline.hlen("unacked")  # kombu's Redis transport keeps delivered, unacknowledged messages there
        picture.waiting, picture.taken = pipeline.execute()
        client.close()
    except redis.RedisError as error:
        picture.broker_error = f"Unavailable ({type(error).__name__})."
    picture.workers, picture.workers_error = _workers()
    return picture


def celery_queue_name() -> str:
    from uprtrax.celery import app

    return app.conf.task_default_queue


def _workers() -> tuple[list[Worker] | None, str]:
    """The workers heard from (their heartbeats in Redis: uprtrax.ops.heartbeat), newest first."""
    from uprtrax.ops.heartbeat import heartbeat_redis_url, heartbeats_read

    url = heartbeat_redis_url()
    if url is None:
        return None, "No Redis to read the workers' heartbeats from."
    try:
        client = _client(url)
        beats = heartbeats_read(client)
        client.close()
    except redis.RedisError as error:
        return None, f"Unavailable ({type(error).__name__})."
    stale = settings.WORKER_HEARTBEAT_STALE_SECONDS
    return [Worker(name=name, seconds_ago=round(ago, 1), alive=ago < stale) for name, ago in beats], ""


# --- The page --------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def jobs_page(request):
    """GET: the page. POST action=recompute or action=dump: queue that job now (with its permission), then back to
    the page with a message. Wrapped by admin.site.admin_view (uprtrax/urls.py): staff only, else the login."""
    if request.method == "POST":
        _act(request, request.POST.get("action", ""))
        return redirect("admin_jobs")
    context = {
        **_admin_context(request),
        "title": "Background jobs",
        "kinds": job_kinds(request.user),
        "live": live_picture(),
        "stale_seconds": settings.WORKER_HEARTBEAT_STALE_SECONDS,
        "can_recompute": request.user.has_perm("followup.add_statisticsrecompute"),
        "can_dump": request.user.has_perm("followup.add_datadump"),
    }
    return TemplateResponse(request, "admin/jobs.html", context)


def _admin_context(request) -> dict:
    from django.contrib import admin

    return admin.site.each_context(request)


def _act(request, action: str) -> None:
    if action == "recompute":
        if not request.user.has_perm("followup.add_statisticsrecompute"):
            raise PermissionDenied
        _recompute(request)
    elif action == "dump":
        if not request.user.has_perm("followup.add_datadump"):
            raise PermissionDenied
        _dump(request)
    else:
        messages.error(request, f'Unknown action "{action[:40]}": the actions are recompute and dump.')


def _recompute(request) -> None:
    from followup.jobs import recompute_queue

    queued = StatisticsRecompute.objects.filter(status=StatisticsRecompute.Status.QUEUED).first()
    if queued is not None:
        messages.info(
            request, f"Statistics recompute #{queued.pk} was already queued: it counts the data as it is now."
        )
        return
    run = recompute_queue(trigger=JobTrigger.ADMIN, user=request.user)
    if run is None:
        messages.info(request, "A statistics recompute has just started: it counts the data as it is now.")
        return
    run.refresh_from_db()
    if run.status == StatisticsRecompute.Status.QUEUED and run.sent_at is None:
        messages.warning(
            request,
            f"Statistics recompute #{run.pk} is queued, but the broker is unavailable: it is sent when the broker "
            "answers again.",
        )
    else:
        messages.success(request, f"Statistics recompute #{run.pk} queued.")


def _dump(request) -> None:
    from followup.tasks import dumps_build_task

    try:
        dumps_build_task.apply_async(kwargs={"trigger": JobTrigger.ADMIN, "user_id": request.user.pk})
    except Exception as error:  # the broker is down: say so, nothing is recorded for a build that never started
        if dumps_build_task.app.conf.task_always_eager:  # no broker: it ran here, failed, and is recorded
            messages.error(request, f"The data dump failed: {type(error).__name__}: {error}"[:500])
            return
        logger.warning("The data dump could not be queued: %s: %s", type(error).__name__, error)
        messages.error(
            request,
            f"The data dump could not be queued: the broker is unavailable ({type(error).__name__}). Nothing was "
            "done; try again once it is back.",
        )
        return
    messages.success(request, "The data dump's build was queued: it appears below once a worker starts it.")
