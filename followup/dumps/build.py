"""Building the public data dump, and finding what to serve.

- dumps_build(): reads every table (followup.dumps.tables) from one consistent snapshot of the database and writes
  a gzipped CSV file per table and one gzipped JSON Lines file holding them all, row by row (bounded memory: rows
  come through server-side cursors and leave through gzip at once), each file's SHA-256 and size counted as it is
  written, into MEDIA_ROOT/dumps/.building-<id>/; then manifest.json; then renames the folder to its final name
  (atomic) and records the DataDump as succeeded, which is what switches the served dump. A failure removes the
  half-written folder and records the error: the previous dump stays served. Two builds never overlap: the second
  returns at once (a PostgreSQL advisory lock, which a killed worker's closed connection releases); with the lock
  held, a build left "running" by a killed process is marked failed and its folder removed (the reaper does it
  sooner, from the build's heartbeat: followup.jobs). Only the newest UPRTRAX_DUMPS_KEEP dumps stay on disk.
- dump_served(), dump_file_find(): the dump the views serve, and one of its files by name.
"""

import csv
import datetime
import gzip
import hashlib
import json
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from followup.dumps.tables import TABLES, Codes, Table
from followup.models import DataDump, JobTrigger
from recommendations.imports.templates_download import FORMULA_STARTS
from uprtrax.jobs import Heartbeat
from uprtrax.locks import advisory_lock

JSONL_NAME = "uprtrax.jsonl.gz"
MANIFEST_NAME = "manifest.json"
# gzip's level 6 (its command's default) against 9 (Python's): files about 2% larger, written twice as fast.
COMPRESS_LEVEL = 6
LINES_PER_WRITE = 500  # lines joined before they go to gzip: one call per 500 rows, not one per row
_LOCK_KEY = 0x75707264  # "uprd": the advisory lock's number, one for the whole database
_FINAL_NAME = re.compile(r"^\d{8}T\d{6}Z-\d+$")
_BUILDING_NAME = re.compile(r"^\.building-\d+$")
# A CSV cell holds a list as its items joined: codes with ";", web addresses (which may hold ";") with a space.
_LIST_SEPARATORS = {"evidence_urls": " "}

NOTES = {
    "consistency": "Every file is read from one snapshot of the database, taken at data_as_of.",
    "compression": "Every file is gzipped (gunzip, zcat, or read directly: pandas.read_csv, R's read.csv).",
    "csv": "UTF-8, comma-separated, a header row, quoted where needed (RFC 4180). A list is its items joined with "
    "';' (evidence_urls: with a space). A text cell that starts with = + - @, a tab or a carriage return is "
    "prefixed with ' so that a spreadsheet never runs it as a formula; the JSON Lines file holds the text as it is.",
    "jsonl": 'One JSON object per line, with a "type" key (the table\'s row type) and the same keys as the CSV '
    "files' columns; lists are arrays, missing values null.",
    "links": "recommendations.review = reviews.id; recommendations.state_under_review and recommending_states = "
    "states.iso3; recommendations.issues = issues.slug; assessments.recommendation = recommendations.id; "
    "assessments.organisation = organisations.slug; sessions.cycle = cycles.number.",
}


def dumps_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "dumps"


# --- Writing --------------------------------------------------------------------------------------------------------


class _Sink:
    """Where gzip writes: the file on disk, with its SHA-256 and size counted on the way."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("xb")
        self.sha256 = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> int:
        if self.file.closed:  # a failed file, given up: gzip, collected later, may still try to finish it
            return len(data)
        self.sha256.update(data)
        self.bytes += len(data)
        return self.file.write(data)

    def flush(self) -> None:
        self.file.flush()


class _Output:
    """One gzipped UTF-8 text file being written, a line (or a CSV row) per write()."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        self._sink = _Sink(path)
        # mtime 0: the same data gives the same bytes, so an unchanged table keeps its checksum (and ETag).
        self._gzip = gzip.GzipFile(path.name, "wb", COMPRESS_LEVEL, self._sink, mtime=0)
        self._lines: list[str] = []
        self.bytes_uncompressed = 0

    def write(self, text: str) -> None:
        self._lines.append(text)
        if len(self._lines) >= LINES_PER_WRITE:
            self._drain()

    def _drain(self) -> None:
        data = "".join(self._lines).encode()
        self._lines.clear()
        self.bytes_uncompressed += len(data)
        self._gzip.write(data)

    def __enter__(self) -> "_Output":
        return self

    def __exit__(self, kind, error, traceback) -> None:
        try:
            if kind is None:
                self._drain()
                self._gzip.close()
                self._sink.flush()
                os.fsync(self._sink.file.fileno())
        finally:
            self._sink.file.close()

    def summary(self) -> dict:
        return {
            "name": self.name,
            "bytes": self._sink.bytes,
            "bytes_uncompressed": self.bytes_uncompressed,
            "sha256": self._sink.sha256.hexdigest(),
        }


def _table_write(table: Table, codes: Codes, out: _Output, jsonl: _Output) -> int:
    """One table's rows into its CSV file and the JSON Lines file; returns how many."""
    writer = csv.writer(out)
    writer.writerow(table.columns)
    separators = [_LIST_SEPARATORS.get(column, ";") for column in table.columns]
    keys = ("type", *table.columns)
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
    rows = 0
    for row in table.rows(codes):
        cells = [sep.join(v) if type(v) is list else v for v, sep in zip(row, separators, strict=True)]
        # recommendations.imports.templates_download.cell_neutralise, inlined: a call per cell (millions of them)
        # would cost a quarter of the whole dump.
        writer.writerow([f"'{c}" if type(c) is str and c.startswith(FORMULA_STARTS) else c for c in cells])
        jsonl.write(encode(dict(zip(keys, (table.type, *row), strict=True))) + "\n")
        rows += 1
    return rows


def dump_write(directory: Path, *, data_as_of: datetime.datetime) -> dict:
    """Write every table into `directory` (created here: it must not exist), then manifest.json; returns the
    manifest. Reads in the caller's transaction: give it one snapshot of the data."""
    started = time.perf_counter()
    directory.mkdir()
    codes = Codes()
    files, types = [], {}
    with _Output(directory / JSONL_NAME) as jsonl:
        for table in TABLES:
            with _Output(directory / f"{table.name}.csv.gz") as out:
                rows = _table_write(table, codes, out, jsonl)
            types[table.type] = rows
            files.append({**out.summary(), "format": "csv", "table": table.name, "type": table.type, "rows": rows,
                          "columns": list(table.columns), "description": table.description})  # fmt: skip
    everything = "Every table's rows, one JSON object per line, tables in the order above."
    files.append({**jsonl.summary(), "format": "jsonl", "table": None, "type": None, "rows": sum(types.values()),
                  "columns": [], "types": types, "description": everything})  # fmt: skip
    manifest = {
        "generated_at": timezone.now().isoformat(),
        "data_as_of": data_as_of.isoformat(),
        "duration_seconds": round(time.perf_counter() - started, 3),
        "notes": NOTES,
        "files": files,
    }
    path = directory / MANIFEST_NAME
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    _fsync(path)
    _fsync(directory)
    return manifest


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _snapshot_write(directory: Path) -> dict:
    """dump_write() from one snapshot of the data: on PostgreSQL a read-only REPEATABLE READ transaction, so that
    the files agree with each other whatever is written meanwhile."""
    outer = connection.in_atomic_block  # a caller's transaction (tests): its snapshot is the one read
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not outer:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        data_as_of = timezone.now()  # the snapshot is taken by the first read, just after
        return dump_write(directory, data_as_of=data_as_of)


# --- The build: lock, switch, tidy ----------------------------------------------------------------------------------


def dumps_build(*, keep: int | None = None, trigger: str = JobTrigger.COMMAND, user=None) -> DataDump | None:
    """Build a new dump and serve it; keep the newest `keep` (UPRTRAX_DUMPS_KEEP) on disk. Returns the DataDump
    (succeeded), or None when another build is running. A failure is recorded (status failed, its error) and
    raised; the previous dump stays served. `trigger` and `user` say why and for whom (the record's)."""
    keep = keep or settings.DUMPS_KEEP
    root = dumps_root()
    root.mkdir(parents=True, exist_ok=True)
    # SQLite (the demo) has no such lock: builds there do not overlap in practice, and would not harm each other
    # (each writes its own folder).
    with advisory_lock(_LOCK_KEY, wait=False) as held:
        if not held:
            return None
        if connection.vendor == "postgresql":  # with the lock held, any other running build is dead
            DataDump.objects.filter(status=DataDump.Status.RUNNING).update(
                status=DataDump.Status.FAILED,
                finished_at=timezone.now(),
                error="Interrupted: the process building it stopped before it finished.",
            )
        _tidy(root, keep)
        dump = DataDump.objects.create(
            trigger=trigger, user=user if getattr(user, "pk", None) else None, heartbeat_at=timezone.now()
        )
        with Heartbeat(DataDump, dump.pk):
            _build(dump, root)
        _tidy(root, keep)
    return dump


def _build(dump: DataDump, root: Path) -> None:
    building = root / f".building-{dump.pk}"
    started = time.perf_counter()
    try:
        manifest = _snapshot_write(building)
        data_as_of = datetime.datetime.fromisoformat(manifest["data_as_of"])
        final = root / f"{data_as_of.astimezone(datetime.UTC):%Y%m%dT%H%M%SZ}-{dump.pk}"
        building.rename(final)  # atomic: the folder is whole under its final name, or not there
        _fsync(root)
    except BaseException as error:  # a time limit or an interrupt too: nothing half-written stays
        shutil.rmtree(building, ignore_errors=True)
        dump.status = DataDump.Status.FAILED
        dump.error = f"{type(error).__name__}: {error}"[:5000]
        dump.finished_at = timezone.now()
        dump.duration_seconds = round(time.perf_counter() - started, 3)
        dump.save()
        raise
    dump.status = DataDump.Status.SUCCEEDED
    dump.finished_at = datetime.datetime.fromisoformat(manifest["generated_at"])
    dump.data_as_of = data_as_of
    dump.directory = final.name
    dump.rows = {entry["table"]: entry["rows"] for entry in manifest["files"] if entry["table"]}
    dump.size = sum(entry["bytes"] for entry in manifest["files"])
    dump.manifest = manifest
    dump.duration_seconds = round(time.perf_counter() - started, 3)
    dump.save()  # from here on this dump is the one served


def _tidy(root: Path, keep: int) -> None:
    """Mark succeeded dumps beyond the newest `keep` removed, then delete every folder of ours that no kept dump
    or running build names (older dumps, leftovers of failed or killed builds)."""
    succeeded = DataDump.objects.filter(status=DataDump.Status.SUCCEEDED).order_by("-finished_at", "-id")
    kept = list(succeeded.values_list("pk", "directory")[:keep])
    DataDump.objects.filter(status=DataDump.Status.SUCCEEDED).exclude(pk__in=[pk for pk, _ in kept]).update(
        status=DataDump.Status.REMOVED
    )
    running = DataDump.objects.filter(status=DataDump.Status.RUNNING).values_list("pk", flat=True)
    wanted = {directory for _, directory in kept} | {f".building-{pk}" for pk in running}
    for entry in root.iterdir():
        if (_FINAL_NAME.match(entry.name) or _BUILDING_NAME.match(entry.name)) and entry.name not in wanted:
            shutil.rmtree(entry, ignore_errors=True)


# --- Serving --------------------------------------------------------------------------------------------------------


def dump_served() -> DataDump | None:
    """The newest succeeded dump whose files are on disk; None before the first one."""
    root = dumps_root()
    newest = DataDump.objects.filter(status=DataDump.Status.SUCCEEDED).order_by("-finished_at", "-id")
    for dump in newest[: settings.DUMPS_KEEP]:
        if (root / dump.directory / MANIFEST_NAME).is_file():
            return dump
    return None


@dataclass(frozen=True)
class DumpFile:
    path: Path
    etag: str
    modified: datetime.datetime
    download_name: str


def dump_file_find(*, name: str) -> DumpFile | None:
    """A file of the served dump by its name in the manifest (or manifest.json itself); None for any other name,
    so that nothing outside the dump's folder is ever reached."""
    dump = dump_served()
    if dump is None:
        return None
    checksums = {entry["name"]: entry["sha256"] for entry in dump.manifest.get("files", [])}
    if name == MANIFEST_NAME:
        etag = f"manifest-{dump.pk}"
    elif name in checksums:
        etag = checksums[name]
    else:
        return None
    directory = (dumps_root() / dump.directory).resolve()
    path = (directory / name).resolve()
    if path.parent != directory or not path.is_file():
        return None
    return DumpFile(path, etag, dump.finished_at, f"uprtrax-{dump.data_as_of:%Y-%m-%d}-{name}")
