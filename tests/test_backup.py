"""`manage.py backup`: a real pg_dump of the test database restores with pg_restore into a fresh database with the
same rows; a failure exits non-zero naming the cause and leaves no file; --keep prunes only its own backups.

Where only the command's own behaviour is tested (arguments, environment, cleanup of a half-written file), a small
stand-in pg_dump script takes the real one's place: it records what it was given, or fails midway.
"""

import io
import os
import shutil
import stat
import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from psycopg import sql

from tests.factories import AssessmentFactory, RecommendationFactory, UserFactory

REPO = Path(__file__).resolve().parent.parent


def _backup(*args: str) -> str:
    out = io.StringIO()
    call_command("backup", *args, stdout=out)
    return out.getvalue()


def _fake_pg_dump(tmp_path: Path, body: str, *, version: str = "17.2") -> Path:
    """A stand-in pg_dump: answers --version as PostgreSQL's does, else runs `body` (sh) with $out the --file."""
    script = tmp_path / "bin" / "pg_dump"
    script.parent.mkdir(exist_ok=True)
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then echo "pg_dump (PostgreSQL) {version}"; exit 0; fi\n'
        'for arg in "$@"; do case "$arg" in --file=*) out="${arg#--file=}";; esac; done\n'
        f"{body}\n"
    )
    script.chmod(0o755)
    return script


def _server_params(dbname: str) -> dict:
    settings_dict = connection.settings_dict
    return {
        "host": settings_dict["HOST"] or "127.0.0.1",
        "port": settings_dict["PORT"] or 5432,
        "user": settings_dict["USER"],
        "password": settings_dict["PASSWORD"] or None,
        "dbname": dbname,
    }


def _row_counts(cursor) -> dict[str, int]:
    cursor.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
    )
    tables = sorted(row[0] for row in cursor.fetchall())
    counts = {}
    for table in tables:
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cursor.fetchone()[0]
    return counts


@contextmanager
def _fresh_database():
    name = f"uprtrax_restore_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(**_server_params("postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with psycopg.connect(**_server_params("postgres"), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- the real thing ----------------------------------------------------------------------------------------------


def test_a_backup_restores_into_a_fresh_database_with_the_same_rows(committed_db, tmp_path):
    for _ in range(3):
        AssessmentFactory(recommendation=RecommendationFactory())
    UserFactory(email="someone@example.org")
    with connection.cursor() as cursor:
        before = _row_counts(cursor)
    assert before["recommendations_recommendation"] == 3 and before["reviews_state"] > 190

    output = _backup(f"{tmp_path}/backups/")

    (backup,) = (tmp_path / "backups").iterdir()
    assert backup.name.startswith("uprtrax-") and backup.suffix == ".dump"
    assert str(backup) in output
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600  # it holds password hashes and emails
    assert backup.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

    with _fresh_database() as restored:
        params = _server_params(restored)
        env = {**os.environ, "PGPASSWORD": params["password"] or ""}
        result = subprocess.run(  # noqa: S603 - the README's restore command, fixed arguments
            [shutil.which("pg_restore"), "--no-owner", "--exit-on-error", "-h", params["host"],
             "-p", str(params["port"]), "-U", params["user"], "-d", restored, str(backup)],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        with psycopg.connect(**params) as restored_connection, restored_connection.cursor() as cursor:
            after = _row_counts(cursor)

    assert after == before


def test_a_failed_pg_dump_exits_with_its_message_and_leaves_no_file(db, tmp_path, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "NAME", "uprtrax_no_such_database")

    with pytest.raises(CommandError, match=r"pg_dump failed, nothing was kept: .*uprtrax_no_such_database"):
        _backup(f"{tmp_path}/")

    assert list(tmp_path.iterdir()) == []


# --- the command's own behaviour, with a stand-in pg_dump ----------------------------------------------------------


def test_a_pg_dump_that_fails_midway_leaves_no_half_written_file(db, tmp_path):
    pg_dump = _fake_pg_dump(
        tmp_path, 'printf "PGDMP half" > "$out"; echo "pg_dump: error: connection lost" >&2; exit 1'
    )
    target = tmp_path / "out"
    target.mkdir()

    with pytest.raises(CommandError, match="pg_dump: error: connection lost"):
        _backup(str(target), "--pg-dump", str(pg_dump))

    assert list(target.iterdir()) == []


def test_the_password_goes_to_pg_dump_in_its_environment_never_on_its_command_line(db, tmp_path, monkeypatch):
    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "s3cret-for-the-test")
    seen = tmp_path / "seen"
    pg_dump = _fake_pg_dump(tmp_path, f'echo "$@" > {seen}; echo "$PGPASSWORD" >> {seen}; printf PGDMP > "$out"')

    _backup(str(tmp_path / "backup.dump"), "--pg-dump", str(pg_dump))

    arguments, password = seen.read_text().splitlines()
    assert password == "s3cret-for-the-test"
    assert "s3cret" not in arguments
    assert "--format=custom" in arguments and "--no-password" in arguments
    assert arguments.endswith(connection.settings_dict["NAME"])
    assert (tmp_path / "backup.dump").read_bytes() == b"PGDMP"


def test_keep_removes_the_oldest_backups_of_the_directory_and_nothing_else(db, tmp_path):
    pg_dump = _fake_pg_dump(tmp_path, 'printf PGDMP > "$out"')
    directory = tmp_path / "backups"
    directory.mkdir()
    old = ["uprtrax-20240101T000000Z.dump", "uprtrax-20250101T000000Z.dump", "uprtrax-20260101T000000Z.dump"]
    others = ["notes.txt", "uprtrax-before-upgrade.dump"]
    for name in old + others:
        (directory / name).write_bytes(b"x")

    output = _backup(str(directory), "--keep", "2", "--pg-dump", str(pg_dump))

    remaining = sorted(path.name for path in directory.iterdir())
    new = [name for name in remaining if name not in old + others]
    assert len(new) == 1
    assert remaining == sorted([*new, "uprtrax-20260101T000000Z.dump", *others])
    assert "uprtrax-20240101T000000Z.dump" in output and "uprtrax-20250101T000000Z.dump" in output


def test_a_pg_dump_older_than_the_server_is_refused_before_anything_is_written(db, tmp_path):
    pg_dump = _fake_pg_dump(tmp_path, 'printf PGDMP > "$out"', version="9.6.24")
    server = connection.pg_version // 10000

    with pytest.raises(CommandError, match=rf"pg_dump 9, which cannot dump a PostgreSQL {server} server"):
        _backup(f"{tmp_path}/out/", "--pg-dump", str(pg_dump))

    assert not (tmp_path / "out").exists()


def test_a_missing_pg_dump_is_named(db, tmp_path, monkeypatch):
    with pytest.raises(CommandError, match="--pg-dump /nowhere/pg_dump: no such program"):
        _backup(f"{tmp_path}/", "--pg-dump", "/nowhere/pg_dump")

    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match="pg_dump was not found on PATH"):
        _backup(f"{tmp_path}/")


def test_an_existing_file_is_never_overwritten_and_keep_needs_a_directory(db, tmp_path):
    pg_dump = _fake_pg_dump(tmp_path, 'printf PGDMP > "$out"')
    existing = tmp_path / "precious.dump"
    existing.write_bytes(b"keep me")

    with pytest.raises(CommandError, match="exists already"):
        _backup(str(existing), "--pg-dump", str(pg_dump))
    assert existing.read_bytes() == b"keep me"

    with pytest.raises(CommandError, match="--keep applies to a directory"):
        _backup(str(tmp_path / "new.dump"), "--keep", "3", "--pg-dump", str(pg_dump))
    with pytest.raises(CommandError, match="--keep: '0' is not a whole number of 1 or more"):
        _backup(f"{tmp_path}/", "--keep", "0")


def test_sqlite_is_refused_with_the_way_to_copy_it(db, monkeypatch):
    monkeypatch.setattr(connection, "vendor", "sqlite")

    with pytest.raises(CommandError, match=r"PostgreSQL only.*sqlite3 db.sqlite3"):
        _backup()


def test_the_command_exits_1_with_its_message_on_standard_error(tmp_path):
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "manage.py", "backup", f"{tmp_path}/", "--pg-dump", "/nowhere/pg_dump"],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 1
    assert "CommandError: --pg-dump /nowhere/pg_dump: no such program." in result.stderr
    assert list(tmp_path.iterdir()) == []
