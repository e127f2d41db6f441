"""Backups of the database with pg_dump, in its custom format (pg_restore reads it: README, "Backup and restore").

pg_dump gets the connection of DATABASES["default"] the way `manage.py dbshell` does (Django's own
settings_to_cmd_args_env): host, port, user and database name as arguments, the password and TLS settings in its
environment only, never on a command line that `ps` shows. A backup holds every account's email and password hash:
it is written readable by its owner only, under a temporary name, and takes its real name only once pg_dump has
succeeded; a failed or interrupted one leaves nothing behind.
"""

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.client import DatabaseClient

BACKUP_NAME = re.compile(r"^uprtrax-\d{8}T\d{6}Z\.dump$")  # what --keep counts and removes, nothing else
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")


class BackupError(Exception):
    """What went wrong, said so that the person running the backup can act on it."""


@dataclass
class Backup:
    path: Path
    size: int
    seconds: float
    database: str
    server_version: int
    removed: list[Path] = field(default_factory=list)


def database_backup(*, destination: str | None = None, keep: int | None = None, pg_dump: str | None = None) -> Backup:
    """Dump the database to `destination`: a file, or a directory (an existing one, one written with a trailing
    slash, or by default settings.BACKUP_DIR) where the backup is named uprtrax-<UTC time>.dump; then, in that
    directory, remove all but the `keep` newest such backups."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        raise BackupError(
            "manage.py backup dumps PostgreSQL only; this database is SQLite: copy it with "
            "`sqlite3 db.sqlite3 \".backup 'copy.sqlite3'\"` while nothing writes."
        )
    program = _pg_dump_find(pg_dump)
    server_version = connection.pg_version // 10000
    dump_version = _pg_dump_version(program)
    if dump_version < server_version:
        raise BackupError(
            f"{program} is pg_dump {dump_version}, which cannot dump a PostgreSQL {server_version} server: install "
            f"the client tools of version {server_version} or later (postgresql-client-{server_version}), or name "
            f"their pg_dump with --pg-dump."
        )
    target = _target(destination, keep=keep)
    partial = target.with_name(f".{target.name}.partial")
    started = time.monotonic()
    try:
        # Created here, owner-only, so that pg_dump (which opens the file itself) never makes it readable to others.
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        args, env = DatabaseClient.settings_to_cmd_args_env(
            connection.settings_dict, ["--format=custom", "--no-password", f"--file={partial}"]
        )
        result = subprocess.run(  # noqa: S603 - pg_dump with arguments from the settings, no shell
            [program, *args[1:]], env={**os.environ, **(env or {})}, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            message = result.stderr.strip() or f"exit status {result.returncode}"
            raise BackupError(f"pg_dump failed, nothing was kept: {message}")
        partial.rename(target)
    except BaseException:  # an error, or Ctrl-C: no half-written backup is left to be mistaken for a whole one
        partial.unlink(missing_ok=True)
        raise
    backup = Backup(
        path=target,
        size=target.stat().st_size,
        seconds=time.monotonic() - started,
        database=connection.settings_dict["NAME"],
        server_version=server_version,
    )
    if keep is not None:
        backup.removed = _backups_prune(target.parent, keep=keep)
    return backup


def _pg_dump_find(pg_dump: str | None) -> str:
    found = shutil.which(pg_dump or "pg_dump")
    if found is None:
        if pg_dump:
            raise BackupError(f"--pg-dump {pg_dump}: no such program.")
        raise BackupError(
            "pg_dump was not found on PATH: install PostgreSQL's client tools (Debian: postgresql-client), or name "
            "the program with --pg-dump. With Compose, see the README: the postgres container has its own."
        )
    return found


def _pg_dump_version(program: str) -> int:
    try:
        result = subprocess.run(  # noqa: S603 - the program found above, a fixed argument
            [program, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackupError(f"{program} --version did not run: {exc}") from None
    match = _VERSION.search(result.stdout)
    if result.returncode != 0 or match is None:
        raise BackupError(f"{program} --version said {result.stdout.strip()!r}: that is not PostgreSQL's pg_dump.")
    return int(match.group(1))


def _target(destination: str | None, *, keep: int | None) -> Path:
    """The file to write, never an existing one: `destination` itself, or a new timestamped name in it when it is
    a directory."""
    as_directory = destination is None or destination.endswith(os.sep) or Path(destination).is_dir()
    destination = Path(settings.BACKUP_DIR) if destination is None else Path(destination)
    if keep is not None and not as_directory:
        raise BackupError(f"--keep applies to a directory of backups; {destination} is a file name.")
    if as_directory:
        destination.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = destination / datetime.now(UTC).strftime("uprtrax-%Y%m%dT%H%M%SZ.dump")
    else:
        if not destination.parent.is_dir():
            raise BackupError(f"{destination.parent} is not a directory: create it first.")
        target = destination
    if target.exists():
        raise BackupError(f"{target} exists already: give another name, or remove it.")
    return target


def _backups_prune(directory: Path, *, keep: int) -> list[Path]:
    """Remove all but the `keep` newest backups named as this command names them (the time in the name sorts)."""
    backups = sorted((path for path in directory.iterdir() if BACKUP_NAME.match(path.name)), reverse=True)
    removed = backups[keep:]
    for path in removed:
        path.unlink()
    return removed
