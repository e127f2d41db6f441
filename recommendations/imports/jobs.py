"""Import jobs: an uploaded file becomes an ImportRun that a Celery worker previews, then, once confirmed, commits.

    job_start    upload -> stored file, run pending (a preview), task queued after commit
    run_execute  the worker's side: claims a pending run (pending -> running), calls the kind's importer with a
                 heartbeat, and never leaves a run "running" on an error
    job_confirm  a successful preview -> the same run, pending again, dry_run off: the commit
    job_rerun    a new run of the same file (a new preview after the mapping changed, or after a failure)
    run_refresh  a running run whose heartbeat is gone (killed worker) -> failed, with the reason; runs_reap does
                 it for every run (Celery beat, every minute)
    runs_requeue a pending run that the broker never took (it was down when the run was queued: task_id empty) or
                 lost (pending for JOBS_REQUEUE_SECONDS) is sent again (followup.jobs.jobs_reap, Celery beat)

The importers themselves are all-or-nothing (one transaction), so a run that failed, whatever the cause, wrote
nothing, and running it again is always safe.

A run's options hold what was asked for: {"encoding", "sheet", "mapping_name", "mapping"} (and "rerun_of", the
run it repeats). The mapping asked for is kept there because the importer rewrites ImportRun.mapping with the
layout it detected; confirming and rerunning reuse the mapping asked for.
"""

import codecs
import importlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import PurePosixPath
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from recommendations.imports.runs import Progress, progress_get
from recommendations.models import ImportMapping, ImportRun
from uprtrax.cache import cache_available

logger = logging.getLogger(__name__)

WORKER_STOPPED = "The worker stopped during the import (killed or restarted); nothing was written. Run it again."
OPTION_NAMES = ("encoding", "sheet", "mapping_name")
# Suffixes kept on the stored file (for whoever looks at the media directory); the client's name never makes a path.
_STORED_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm"}


class JobError(ValueError):
    """A request the jobs refuse, with the field it is about ("" for the request as a whole)."""

    def __init__(self, message: str, *, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field


class JobConflict(JobError):
    """The run is not in a state that allows this (confirming what is no successful preview, rerunning a running
    run): the API answers 409."""


@dataclass(frozen=True)
class ImportKind:
    """What can be imported, and by what. The kind's module defines FIELDS, REQUIRED, MULTI_VALUED and
    TEMPLATE_COLUMNS; it and the importer are imported only when used, so that one kind's module missing or
    broken never stops the other."""

    name: str
    label: str
    importer: str | Callable[..., Any]  # dotted path or callable, with recommendation_import's signature
    module: str

    def importer_get(self) -> Callable[..., Any]:
        return import_string(self.importer) if isinstance(self.importer, str) else self.importer

    def _definitions(self):
        return importlib.import_module(self.module)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self._definitions().FIELDS)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self._definitions().REQUIRED)

    @property
    def multi_valued(self) -> tuple[str, ...]:
        return tuple(self._definitions().MULTI_VALUED)

    @property
    def template_columns(self) -> tuple:
        return tuple(self._definitions().TEMPLATE_COLUMNS)

    def required_missing(self, fields) -> list[str]:
        """The required fields that the given ones do not provide, by the kind's own rule where it has one
        (recommendations: any of session, date, cycle or document_symbol stands for the session)."""
        definitions, given = self._definitions(), set(fields)
        if hasattr(definitions, "required_missing"):
            return list(definitions.required_missing(given))
        return [name for name in definitions.REQUIRED if name not in given]


IMPORT_KINDS: dict[str, ImportKind] = {
    ImportRun.Kind.RECOMMENDATIONS: ImportKind(
        name=ImportRun.Kind.RECOMMENDATIONS,
        label="Recommendations",
        importer="recommendations.imports.service.recommendation_import",
        module="recommendations.imports.layouts",
    ),
    ImportRun.Kind.ASSESSMENTS: ImportKind(
        name=ImportRun.Kind.ASSESSMENTS,
        label="Assessments",
        importer="followup.imports.assessment_import",
        module="followup.imports",
    ),
}


def kind_get(name: str) -> ImportKind:
    """The kind by name; JobError naming the field "kind" when unknown or when its module cannot be loaded."""
    kind = IMPORT_KINDS.get(name)
    if kind is None:
        raise JobError(f'Unknown kind "{name}"; kinds are: {", ".join(IMPORT_KINDS)}.', field="kind")
    try:
        kind.fields  # noqa: B018 - loads the kind's module
    except ImportError as exc:
        raise JobError(f"{kind.label} imports are not available: {exc}.", field="kind") from None
    return kind


# --- starting, confirming, rerunning ---------------------------------------------------------------------------


def job_start(*, user, kind: str, upload: File, file_name: str, options: dict, mapping: dict | None) -> ImportRun:
    """Store the upload and queue its preview (dry run). Returns the pending run; raises JobError on bad input.

    The upload is checked against IMPORT_MAX_BYTES before anything is stored; its stored name is random (the
    client's file name is kept for display only). mapping_name in options names an ImportMapping preset of the
    same kind, used when no mapping is given.
    """
    import_kind = kind_get(kind)
    size = upload.size or 0
    limit = settings.IMPORT_MAX_BYTES
    if size > limit:
        raise JobError(
            f"The file is {size:,} bytes, over the size limit of {limit:,} bytes (setting IMPORT_MAX_BYTES).",
            field="file",
        )
    if size == 0:
        raise JobError("The file is empty.", field="file")
    options = options_clean(options)
    mapping = _mapping_choose(import_kind, mapping, options)
    display_name = file_name_clean(file_name or getattr(upload, "name", "") or "upload")
    with transaction.atomic():
        run = ImportRun(
            kind=import_kind.name,
            status=ImportRun.Status.PENDING,
            dry_run=True,
            user=_user_or_none(user),
            file_name=display_name,
            size=size,
            mapping=mapping or {},
            options={**options, "mapping": mapping},
        )
        run.upload.save(_stored_name(display_name), upload, save=False)
        _enqueue(run)
    return run


def job_confirm(*, run: ImportRun, user) -> ImportRun:
    """Commit a successful preview: the same run, file and options, now dry_run off, pending, queued.

    Raises JobConflict for anything but a successful preview (status dry_run, hence no errors) with its file.
    """
    with transaction.atomic():
        locked = ImportRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ImportRun.Status.DRY_RUN or not locked.dry_run:
            raise JobConflict(
                f"Only a successful preview can be confirmed; this run is {locked.get_status_display().lower()}"
                f"{'' if locked.dry_run else ' (not a preview)'}."
            )
        _upload_require(locked)
        locked.status, locked.dry_run = ImportRun.Status.PENDING, False
        locked.user = _user_or_none(user) or locked.user
        locked.started_at, locked.finished_at, locked.duration = timezone.now(), None, None
        locked.error_message = ""
        _enqueue(locked)
    return locked


def job_rerun(
    *, run: ImportRun, user, mapping: dict | None = None, options: dict | None = None, dry_run: bool = True
) -> ImportRun:
    """A new run of the same stored file: a preview by default (after the mapping was edited, or a failure), or
    a commit with dry_run=False (after a killed worker). Options and mapping are the run's unless given; a given
    mapping replaces the preset. Raises JobConflict while the run is pending or running, or without a file."""
    run.refresh_from_db()
    if run.status in (ImportRun.Status.PENDING, ImportRun.Status.RUNNING):
        raise JobConflict(f"This run is {run.get_status_display().lower()}; wait for it to finish.")
    _upload_require(run)
    kind = kind_get(run.kind)
    options = options or {}
    merged = options_clean({**{name: run.options.get(name, "") for name in OPTION_NAMES}, **options})
    if mapping is not None:
        merged["mapping_name"] = ""  # an explicit mapping replaces the preset
    elif "mapping_name" not in options:
        mapping = run.options.get("mapping")  # the mapping the run used, as it was then
    mapping = _mapping_choose(kind, mapping, merged)
    with transaction.atomic():
        new = ImportRun(
            kind=run.kind,
            status=ImportRun.Status.PENDING,
            dry_run=dry_run,
            user=_user_or_none(user),
            file_name=run.file_name,
            size=run.size,
            mapping=mapping or {},
            options={**merged, "mapping": mapping, "rerun_of": run.pk},
        )
        new.upload.name = run.upload.name  # the same stored file: never copied, never changed
        _enqueue(new)
    return new


def options_clean(options: dict | None) -> dict[str, str]:
    """{"encoding", "sheet", "mapping_name"} as strings, the encoding checked; JobError naming the field."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise JobError(f"Unknown option {unknown[0]!r}; options are: {', '.join(OPTION_NAMES)}.", field=unknown[0])
    cleaned = {name: str(options.get(name) or "").strip() for name in OPTION_NAMES}
    if cleaned["encoding"]:
        try:
            codecs.lookup(cleaned["encoding"])
        except LookupError:
            raise JobError(
                f'Unknown encoding "{cleaned["encoding"]}"; for example utf-8, cp1252, mac_roman, utf-16.',
                field="encoding",
            ) from None
    return cleaned


def mapping_check(kind: ImportKind, mapping: Any) -> dict:
    """A mapping's shape, and its fields against the kind's: {"columns": {"file column": "field"},
    "synonyms": {"field": {"value": "normalised"}}, "separators": {"field": "sep"}}. JobError naming "mapping"."""

    def refuse(message: str):
        raise JobError(message, field="mapping")

    if not isinstance(mapping, dict):
        refuse('A mapping is a JSON object: {"columns": {"file column": "field", ...}}.')
    unknown = sorted(set(mapping) - {"columns", "synonyms", "separators"})
    if unknown:
        refuse(f'Unknown key "{unknown[0]}" in the mapping; keys are columns, synonyms and separators.')
    columns = mapping.get("columns")
    if not isinstance(columns, dict) or not columns:
        refuse('The mapping needs "columns": {"file column": "field", ...}.')
    fields = kind.fields
    for column, name in columns.items():
        if name not in fields:
            refuse(f'Unknown field "{name}" for column "{column}"; fields are: {", ".join(fields)}.')
    missing = kind.required_missing(columns.values())
    if missing:
        refuse(f"The mapping gives no column for the required field{'s' if len(missing) > 1 else ''} "
               f"{', '.join(missing)}.")  # fmt: skip
    for key in ("synonyms", "separators"):
        value = mapping.get(key, {})
        if not isinstance(value, dict) or any(name not in fields for name in value):
            refuse(f'"{key}" is a JSON object keyed by field ({", ".join(fields)}).')
    if any(not isinstance(values, dict) for values in mapping.get("synonyms", {}).values()):
        refuse('Synonyms map a field to {"value in the file": "value"}.')
    if any(not isinstance(sep, str) for sep in mapping.get("separators", {}).values()):
        refuse("A separator is a string.")
    return mapping


def file_name_clean(name: str) -> str:
    """The client's file name for display: its last path component, printable, at most 255 characters."""
    name = PurePosixPath(name.replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return (name or "upload")[:255]


def _stored_name(display_name: str) -> str:
    suffix = PurePosixPath(display_name).suffix.lower()
    return f"{uuid.uuid4().hex}{suffix if suffix in _STORED_SUFFIXES else ''}"


def _mapping_choose(kind: ImportKind, mapping: dict | None, options: dict[str, str]) -> dict | None:
    """The mapping given, else the named preset of this kind (its current content, kept with the run)."""
    if mapping is not None:
        return mapping_check(kind, mapping)
    name = options.get("mapping_name")
    if not name:
        return None
    preset = ImportMapping.objects.filter(name=name, kind=kind.name).only("mapping").first()
    if preset is None:
        raise JobError(f'No saved mapping "{name}" for {kind.label.lower()}.', field="mapping_name")
    return mapping_check(kind, preset.mapping)


def _upload_require(run: ImportRun) -> None:
    if not run.upload:
        raise JobConflict("This run kept no file (it was imported from the command line): upload the file again.")


def _user_or_none(user):
    return user if getattr(user, "pk", None) else None


# --- queueing ------------------------------------------------------------------------------------------------------


def _enqueue(run: ImportRun) -> None:
    """Give the run its task id and queue the task once the transaction commits (the worker must find the run)."""
    run.task_id = uuid.uuid4().hex
    run.save()
    transaction.on_commit(partial(_task_send, run.pk, run.task_id), robust=True)


def _task_send(run_id: int, task_id: str) -> bool:
    """Send the task (or, without a broker, run it here). A broker that refuses it (down) leaves the run pending
    with no task id: runs_requeue sends it once the broker answers again (the upload is kept, nothing is lost).
    Without a broker, an error of the run itself fails it."""
    from recommendations.imports.tasks import import_run_execute

    try:
        import_run_execute.apply_async(args=[run_id], task_id=task_id)
    except Exception as exc:
        if import_run_execute.app.conf.task_always_eager:  # no broker: it ran here, and failed
            logger.exception("import run %s: failed", run_id)
            _run_fail(run_id, f"The import failed ({type(exc).__name__}: {exc}). Run it again.",
                      statuses=(ImportRun.Status.PENDING,))  # fmt: skip
            return False
        logger.warning("import run %s: not sent to the broker (%s: %s); it stays pending and is sent when the "
                       "broker answers again", run_id, type(exc).__name__, exc)  # fmt: skip
        ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.PENDING, task_id=task_id).update(task_id="")
        return False
    return True


def runs_requeue() -> int:
    """Send again the pending runs that the broker never took (task_id empty: it was down) or that have waited
    JOBS_REQUEUE_SECONDS (their message lost with a Redis restarted without its data); the run's started_at, for a
    pending run the moment it was queued, moves on. A duplicate message is harmless: only a pending run is run.
    Returns how many were sent."""
    late = timezone.now() - timedelta(seconds=settings.JOBS_REQUEUE_SECONDS)
    overdue = ImportRun.objects.filter(status=ImportRun.Status.PENDING).filter(Q(task_id="") | Q(started_at__lt=late))
    sent = 0
    for run_id, old_task_id in overdue.values_list("pk", "task_id"):
        task_id = uuid.uuid4().hex
        taken = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.PENDING, task_id=old_task_id).update(
            task_id=task_id, started_at=timezone.now()
        )
        if taken and _task_send(run_id, task_id):
            logger.info("import run %s: sent to the broker again", run_id)
            sent += 1
    return sent


# --- the worker's side ---------------------------------------------------------------------------------------------


def run_execute(*, run_id: int) -> dict[str, Any]:
    """Run a pending run: claim it (pending -> running in one conditional UPDATE, so that a duplicate or
    redelivered message finds nothing to do), then call its kind's importer with the stored file, a heartbeat
    and the run's options. An unexpected error fails the run with its reason, then propagates."""
    claimed = ImportRun.objects.filter(pk=run_id, status=ImportRun.Status.PENDING).update(
        status=ImportRun.Status.RUNNING, started_at=timezone.now(), finished_at=None, error_message=""
    )
    if not claimed:
        logger.info("import run %s: not pending (a duplicate or late message), nothing to do", run_id)
        return {"run": run_id, "status": "skipped"}
    run = ImportRun.objects.select_related("user").get(pk=run_id)
    try:
        importer = IMPORT_KINDS[run.kind].importer_get()
        with run.upload.open("rb") as source, Progress(run.pk) as progress:
            importer(
                source=source,
                file_name=run.file_name,
                mapping=run.options.get("mapping") or None,
                encoding=run.options.get("encoding") or None,
                sheet=run.options.get("sheet") or None,
                dry_run=run.dry_run,
                user=run.user,
                run=run,
                progress=progress,
            )
    except FileNotFoundError:
        _run_fail(run_id, "The uploaded file is no longer stored; upload it again.")
        raise
    except Exception as exc:
        _run_fail(run_id, f"The import stopped on an unexpected error ({type(exc).__name__}: {exc}); nothing was "
                          "written.")  # fmt: skip
        raise
    # The importer recorded its report on the run; one that returned without doing so must not stay running.
    _run_fail(run_id, "The importer returned without recording its report.")
    status = ImportRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
    return {"run": run_id, "status": status}


def _run_fail(run_id: int, message: str, *, statuses=(ImportRun.Status.PENDING, ImportRun.Status.RUNNING)) -> bool:
    """Mark a run failed with its reason, unless it has already finished (a conditional UPDATE: no race with the
    worker recording its own result)."""
    return bool(
        ImportRun.objects.filter(pk=run_id, status__in=statuses).update(
            status=ImportRun.Status.FAILED,
            finished_at=timezone.now(),
            error_message=message,
            errors=[{"row": None, "column": "", "value": "", "message": message}],
            warnings=[],
            counts={"errors": 1, "warnings": 0},
        )
    )


# --- reading a run's state -----------------------------------------------------------------------------------------


def run_refresh(run: ImportRun) -> ImportRun:
    """A running run whose heartbeat has expired (its worker was killed or restarted) is marked failed, once it
    has been running longer than IMPORT_HEARTBEAT_SECONDS. Returns the run, up to date."""
    if run.status == ImportRun.Status.RUNNING and _is_dead(run.pk, run.started_at):
        if _run_fail(run.pk, WORKER_STOPPED, statuses=(ImportRun.Status.RUNNING,)):
            logger.warning("import run %s: heartbeat lost, marked failed", run.pk)
        run.refresh_from_db()
    return run


def runs_reap() -> int:
    """run_refresh for every running run (Celery beat, every minute). Returns the number marked failed."""
    cutoff = timezone.now() - timedelta(seconds=settings.IMPORT_HEARTBEAT_SECONDS)
    running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING, started_at__lt=cutoff).values_list(
        "pk", flat=True
    )
    failed = 0
    for run_id in running:
        silent = progress_get(run_id) is None and cache_available()  # a cache that is away says nothing of the run
        if silent and _run_fail(run_id, WORKER_STOPPED, statuses=(ImportRun.Status.RUNNING,)):
            logger.warning("import run %s: heartbeat lost, marked failed", run_id)
            failed += 1
    return failed


def _is_dead(run_id: int, started_at) -> bool:
    grace = timedelta(seconds=settings.IMPORT_HEARTBEAT_SECONDS)
    return started_at < timezone.now() - grace and progress_get(run_id) is None and cache_available()


def run_progress(run: ImportRun) -> dict | None:
    """The live progress of a running run ({"phase", "rows", "at"}), "queued" for a pending one, else None."""
    if run.status == ImportRun.Status.PENDING:
        return {"phase": "queued", "rows": 0, "at": None}
    if run.status == ImportRun.Status.RUNNING:
        return progress_get(run.pk)
    return None
