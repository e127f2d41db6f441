"""Benchmark: a 1,000,000-row canonical CSV through the import pipeline on PostgreSQL, in bounded memory.

Writes a canonical-template CSV of N rows (default 1,000,000; real state names, sessions, issues and responses,
unique texts, 3% voluntary pledges, 0.5% exact duplicate rows) to a temporary file, creates a fresh database
(uprtrax_bench_import_1m on the server of $BENCH_DATABASE_URL, else $DATABASE_URL, else
postgres://postgres@127.0.0.1:5432), then runs the import in a child process, twice: a dry run (preview) and the
commit. The child prints seconds, rows per second and its own peak RSS (ru_maxrss): the target is a peak under
500 MB. The database is dropped at the end unless --keep.

    .venv/bin/python bench/import_canonical_1m.py [--rows N] [--keep]
"""

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "uprtrax_bench_import_1m"
RSS_TARGET_MB = 500
HEADER = ["state_under_review", "session", "recommending_states", "paragraph_ref", "text", "response",
          "action_category", "issues"]  # fmt: skip
VERBS = ["Ratify", "Strengthen", "Continue", "Consider", "Adopt", "Ensure", "Take measures on", "Guarantee"]
THEMES = [
    "the rights of women", "freedom of expression", "the death penalty", "torture prevention",
    "the rights of the child", "human rights education", "access to justice", "the rights of migrants",
]  # fmt: skip


def bench_database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/uprtrax"
    return urlunsplit(urlsplit(url)._replace(path=f"/{BENCH_DATABASE}"))


def _django(url: str) -> None:
    sys.path.insert(0, str(REPO))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uprtrax.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_HTTPS", "0")
    os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
    os.environ["UPRTRAX_IMPORT_MAX_BYTES"] = str(4 * 1024**3)
    import django

    django.setup()


def csv_write(path: Path, rows: int, seed: int = 1) -> None:
    """The canonical CSV, streamed to disk (the reference data's names, so every row is valid)."""
    from recommendations.reference import ISSUES
    from reviews.reference.states import STATES

    rng = random.Random(seed)
    names = [state.short_name for state in STATES]
    issues = list(ISSUES)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        previous = None
        for i in range(rows):
            if previous is not None and rng.random() < 0.005:
                writer.writerow(previous)  # an exact duplicate: imported once, with a warning
                continue
            state = rng.randrange(len(names))
            cycle = rng.randrange(4)
            session = 1 + cycle * 13 + state % 13  # each state reviewed once per cycle
            if rng.random() < 0.03:
                row = [names[state], session, "", "", f"Pledge {i}: {rng.choice(VERBS)} {rng.choice(THEMES)}.",
                       "voluntary pledge", "", ""]  # fmt: skip
            else:
                recommending = ";".join(rng.sample(names, rng.choice((1, 1, 1, 2, 3))))
                row = [names[state], session, recommending, "",
                       f"{rng.choice(VERBS)} {rng.choice(THEMES)} (recommendation {i}).",
                       rng.choice(("accepted", "accepted", "noted", "Supported")), rng.randint(1, 5),
                       ";".join(rng.sample(issues, rng.choice((1, 1, 2, 3))))]  # fmt: skip
            writer.writerow(row)
            previous = row


def child(path: str, url: str) -> int:
    """Runs in its own process, so that its peak RSS is the import's alone."""
    _django(url)
    from recommendations.imports.service import recommendation_import

    for dry_run in (True, False):
        started = time.perf_counter()
        report = recommendation_import(source=Path(path), file_name=Path(path).name, dry_run=dry_run)
        seconds = time.perf_counter() - started
        rows = report.counts.get("rows", 0)
        label = "dry run (preview)" if dry_run else "commit"
        print(f"  {label:<18} {rows:>10,} rows {seconds:>8.1f} s {rows / seconds:>9,.0f} rows/s  "
              f"create {report.counts.get('create', 0):,}, warnings {report.warning_total:,}, "
              f"errors {report.error_total:,}", flush=True)  # fmt: skip
        if report.errors:
            print(f"  first error: {report.errors[0]}")
            return 1
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "under" if peak < RSS_TARGET_MB else "OVER"
    print(f"  peak RSS of the importing process: {peak:,.0f} MB ({verdict} the {RSS_TARGET_MB} MB target)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the database for inspection")
    parser.add_argument("--child", nargs=2, metavar=("CSV", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    url = bench_database_url()
    _django(url)
    import psycopg
    from django.core.management import call_command
    from django.db import connections

    from reviews.services import reference_data_load

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    call_command("migrate", verbosity=0)
    reference_data_load()
    connections.close_all()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "canonical.csv"
        started = time.perf_counter()
        csv_write(path, args.rows)
        size = path.stat().st_size
        print(f"canonical CSV import benchmark ({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
        print(f"  file: {args.rows:,} rows, {size / 1024**2:,.0f} MB, written in {time.perf_counter() - started:.1f} s")
        code = subprocess.call([sys.executable, __file__, "--child", str(path), url])
    print(f"  load average after: {os.getloadavg()[0]:.1f}")
    if not args.keep:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
    return code


if __name__ == "__main__":
    sys.exit(main())
