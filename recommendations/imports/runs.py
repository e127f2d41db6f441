"""What every import shares, whatever it imports: the report, its record (ImportRun), the source file, and the
live progress of a running job (with the heartbeat that tells a dead worker from a slow one)."""

import hashlib
import io
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from recommendations.imports.problems import ImportFailure, Problem
from recommendations.models import ImportRun

# Problems listed one by one in a report; beyond that they are counted (a file of a million bad rows would
# otherwise make a report of a million lines). counts["errors"] and counts["warnings"] hold the totals.
PROBLEMS_LISTED = 5000

Source = bytes | IO[bytes] | os.PathLike | str


@dataclass
class ImportReport:
    file_name: str
    kind: str = ImportRun.Kind.RECOMMENDATIONS
    sha256: str = ""
    size: int = 0
    encoding: str = ""
    sheet: str = ""
    layout: str = ""
    mapping: dict = field(default_factory=dict)
    dry_run: bool = True
    committed: bool = False
    counts: dict[str, Any] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    error_total: int = 0
    warning_total: int = 0
    duration: float = 0.0
    run_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, problem: Problem) -> None:
        self.error_total += 1
        if len(self.errors) < PROBLEMS_LISTED:
            self.errors.append(problem)

    def warning(self, problem: Problem) -> None:
        self.warning_total += 1
        if len(self.warnings) < PROBLEMS_LISTED:
            self.warnings.append(problem)

    def failure(self, failure: ImportFailure) -> None:
        self.error(Problem(failure.row, failure.column, failure.value, failure.message))

    def sort_problems(self) -> None:
        def order(p):
            return (p.row is not None, p.row or 0)

        self.errors.sort(key=order)
        self.warnings.sort(key=order)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "kind": self.kind,
            "sha256": self.sha256,
            "size": self.size,
            "encoding": self.encoding,
            "sheet": self.sheet,
            "layout": self.layout,
            "dry_run": self.dry_run,
            "committed": self.committed,
            "ok": self.ok,
            "counts": self.counts,
            "error_total": self.error_total,
            "warning_total": self.warning_total,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
            "duration": round(self.duration, 3),
            "run_id": self.run_id,
        }


# --- the source file -----------------------------------------------------------------------------------------------


@dataclass
class SourceFile:
    """A seekable binary file of known size and checksum; checked against the size limit before anything else."""

    file: IO[bytes]
    size: int
    sha256: str

    def head(self, n: int) -> bytes:
        self.file.seek(0)
        data = self.file.read(n)
        self.file.seek(0)
        return data


def source_open(source: Source, *, limit: int | None = None) -> SourceFile:
    """bytes, a path or an open binary file -> SourceFile; raises ImportFailure over the size limit."""
    limit = settings.IMPORT_MAX_BYTES if limit is None else limit
    if isinstance(source, bytes | bytearray):
        file: IO[bytes] = io.BytesIO(source)
    elif isinstance(source, os.PathLike | str):
        file = Path(source).open("rb")  # noqa: SIM115 - closed with the import (source_close)
    else:
        file = source
        if not file.seekable():
            file = io.BytesIO(file.read(limit + 1))
    file.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := file.read(1024 * 1024):
        size += len(chunk)
        if size > limit:
            raise ImportFailure(f"The file is over the size limit of {limit:,} bytes (setting IMPORT_MAX_BYTES).")
        digest.update(chunk)
    file.seek(0)
    return SourceFile(file=file, size=size, sha256=digest.hexdigest())


# --- the record ----------------------------------------------------------------------------------------------------


def run_record(report: ImportReport, *, user=None, started, clock: float, run: ImportRun | None = None) -> ImportRun:
    """Write the report to its ImportRun: a new one for a direct call (command), the job's own for a job."""
    report.duration = time.monotonic() - clock
    if report.errors:
        status = ImportRun.Status.FAILED
    elif report.dry_run:
        status = ImportRun.Status.DRY_RUN
    else:
        status = ImportRun.Status.SUCCEEDED
    counts = {**report.counts, "errors": report.error_total, "warnings": report.warning_total}
    values = {
        "kind": report.kind,
        "status": status,
        "dry_run": report.dry_run,
        "started_at": started,
        "finished_at": timezone.now(),
        "file_name": report.file_name[:255],
        "sha256": report.sha256,
        "size": report.size,
        "encoding": report.encoding[:40],
        "sheet": report.sheet[:100],
        "layout": report.layout[:20],
        "mapping": report.mapping,
        "counts": counts,
        "warnings": [p.as_dict() for p in report.warnings],
        "errors": [p.as_dict() for p in report.errors],
        "duration": timedelta(seconds=report.duration),
        "error_message": str(report.errors[0]) if report.errors else "",
    }
    if run is None:
        run = ImportRun.objects.create(user=user if getattr(user, "pk", None) else None, **values)
    else:
        for name, value in values.items():
            setattr(run, name, value)
        run.save(update_fields=[*values])
    report.run_id = run.pk
    return run


# --- progress and heartbeat ----------------------------------------------------------------------------------------


def _progress_key(run_id: int) -> str:
    return f"uprtrax:import-run:{run_id}:progress"


def progress_get(run_id: int) -> dict | None:
    """The running job's last progress ({"phase", "rows", "at"}), or None when no live worker reports it."""
    return cache.get(_progress_key(run_id))


class Progress:
    """Reports a job's phase and rows read to the cache, where the page and the API read it.

    The cache entry is also the job's heartbeat: it lives IMPORT_HEARTBEAT_SECONDS, and a thread refreshes it
    while the job runs, even during one long SQL statement. A killed worker stops refreshing, the entry
    expires, and the run is then reported as failed (imports.jobs.run_refresh). Without a run (the command),
    progress goes nowhere.
    """

    def __init__(self, run_id: int | None):
        self.run_id = run_id
        self.state = {"phase": "queued", "rows": 0}
        self._last = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, phase: str, rows: int | None = None) -> None:
        self.state["phase"] = phase
        if rows is not None:
            self.state["rows"] = rows
        now = time.monotonic()
        if self.run_id is not None and (now - self._last >= 0.5 or rows is None):
            self._last = now
            self._write()

    def _write(self) -> None:
        cache.set(
            _progress_key(self.run_id),
            {**self.state, "at": timezone.now().isoformat()},
            timeout=settings.IMPORT_HEARTBEAT_SECONDS,
        )

    def __enter__(self) -> "Progress":
        if self.run_id is not None:
            self._write()
            self._thread = threading.Thread(target=self._beat, name=f"import-heartbeat-{self.run_id}", daemon=True)
            self._thread.start()
        return self

    def _beat(self) -> None:
        interval = max(settings.IMPORT_HEARTBEAT_SECONDS / 4, 0.2)
        while not self._stop.wait(interval):
            self._write()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self.run_id is not None:
            cache.delete(_progress_key(self.run_id))
