"""Benchmark of the recommendation import on PostgreSQL: the five UPR Info files of ../shared/data/real.

Creates a fresh database (uprtrax_bench_import on the server of $BENCH_DATABASE_URL, else $DATABASE_URL, else
postgres://postgres@127.0.0.1:5432), migrates, loads the reference data, then imports the five files end to end
(read, validate, commit) and prints seconds, rows per second, a second (idempotent, dry-run) pass and the peak
RSS. Target: all five files in 15 s or less. The database is dropped at the end unless --keep.

    .venv/bin/python bench/import_recommendations.py [--keep]
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
REAL = Path(os.environ.get("UPRTRAX_REAL_DATA") or REPO.parent / "shared" / "data" / "real")
FILES = ("1-5.csv", "6-9.csv", "10-13.csv", "14-17.csv", "17-20.csv")
BENCH_DATABASE = "uprtrax_bench_import"
TARGET_SECONDS = 15


def bench_database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/uprtrax"
    return urlunsplit(urlsplit(url)._replace(path=f"/{BENCH_DATABASE}"))


def _admin(url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(urlunsplit(urlsplit(url)._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(sql)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the database for inspection")
    args = parser.parse_args()
    missing = [name for name in FILES if not (REAL / name).is_file()]
    if missing:
        print(f"real data absent from {REAL}: {', '.join(missing)}", file=sys.stderr)
        return 2
    url = bench_database_url()
    sys.path.insert(0, str(REPO))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uprtrax.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_HTTPS", "0")
    os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from recommendations.imports.service import recommendation_import
    from reviews.services import reference_data_load

    _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    _admin(url, f'CREATE DATABASE "{BENCH_DATABASE}"')
    try:
        call_command("migrate", verbosity=0)
        reference_data_load()
        print(f"import benchmark: {len(FILES)} UPR Info files into a fresh PostgreSQL database ({os.cpu_count()} CPUs)")
        print(f"  {'file':<12} {'rows':>7} {'created':>8} {'seconds':>8} {'rows/s':>9}")
        for label, dry_run in (("first import", False), ("re-import (dry run, idempotent)", True)):
            print(f"  {label}")
            total_rows, started = 0, time.perf_counter()
            for name in FILES:
                lap = time.perf_counter()
                report = recommendation_import(source=(REAL / name).read_bytes(), file_name=name, dry_run=dry_run)
                seconds = time.perf_counter() - lap
                rows = report.counts.get("rows", 0)
                total_rows += rows
                status = "" if report.ok else f"  ERRORS: {len(report.errors)}"
                print(f"  {name:<12} {rows:>7,} {report.counts.get('create', 0):>8,} {seconds:>8.2f} "
                      f"{rows / seconds:>9,.0f}{status}")  # fmt: skip
            total = time.perf_counter() - started
            print(f"  {'total':<12} {total_rows:>7,} {'':>8} {total:>8.2f} {total_rows / total:>9,.0f}")
            if not dry_run:
                verdict = "within" if total <= TARGET_SECONDS else "OVER"
                print(f"  {verdict} the {TARGET_SECONDS} s target")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"  peak RSS {peak:,.0f} MB")
    finally:
        connections.close_all()
        if not args.keep:
            _admin(url, f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
