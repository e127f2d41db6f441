"""Benchmark of `generate_dataset` on PostgreSQL: seconds per phase and rows per second.

For each size (default 100,000 / 300,000 then 1,000,000 / 3,000,000) it creates a fresh database, migrates,
loads the reference data and generates the data set, then prints the figures. The target is 1,000,000
recommendations and 3,000,000 assessments in under 180 seconds on a 2-core machine.

    .venv/bin/python bench/generate_dataset.py [--size 1000000:3000000 ...] [--seed 1] [--keep]

The database is named uprtrax_bench on the server of $BENCH_DATABASE_URL, else of $DATABASE_URL, else
postgres://postgres@127.0.0.1:5432; it is dropped at the end unless --keep. It needs a role that may create
databases. The generator switches foreign-key triggers off for its transaction only when that role is a
superuser (see recommendations/dataset/writers.py); the figures say which way it ran.
"""

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "uprtrax_bench"
DEFAULT_SIZES = ((100_000, 300_000), (1_000_000, 3_000_000))
TARGET_SECONDS = 180


def bench_database_url() -> str:
    url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/uprtrax"
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{BENCH_DATABASE}"))


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')


def drop_database(url: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DATABASE}" WITH (FORCE)')


def parse_size(text: str) -> tuple[int, int]:
    recommendations, _, assessments = text.partition(":")
    return int(recommendations.replace("_", "")), int(assessments.replace("_", ""))


def machine() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} CPUs, load average {load}"


def run_one(url: str, recommendations: int, assessments: int, seed: int) -> dict:
    from django.core.management import call_command
    from django.db import connection, connections

    from recommendations.dataset import dataset_generate
    from reviews.services import reference_data_load

    connections.close_all()
    recreate_database(url)
    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter()
    reference_data_load()
    loaded = time.perf_counter()
    result = dataset_generate(recommendations=recommendations, assessments=assessments, seed=seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    connections.close_all()
    result |= {"migrate_seconds": migrated - started, "reference_seconds": loaded - migrated}
    result |= {"superuser": superuser, "database_size": size}
    return result


def report(result: dict) -> None:
    seconds = result["seconds"]
    rows = {
        "recommendations": result["recommendations"] + result["voluntary_pledges"],
        "recommending_states": result["recommending_state_links"],
        "issues": result["issue_links"],
        "assessments": result["assessments"],
    }
    total_rows = sum(rows.values())
    print(
        f"  migrate {result['migrate_seconds']:.1f} s, reference data {result['reference_seconds']:.1f} s (not counted)"
    )
    print(f"  {'phase':<20} {'seconds':>8} {'rows':>11} {'rows/s':>10}")
    for phase, value in seconds.items():
        if phase == "total":
            continue
        count = rows.get(phase)
        rate = f"{count / value:,.0f}" if count and value else ""
        print(f"  {phase:<20} {value:>8.1f} {count or '':>11,} {rate:>10}" if count else f"  {phase:<20} {value:>8.1f}")
    verdict = "under" if seconds["total"] < TARGET_SECONDS else "OVER"
    print(f"  {'total':<20} {seconds['total']:>8.1f} {total_rows:>11,} {total_rows / seconds['total']:>10,.0f}")
    print(
        f"  {result['reviews']:,} reviews in {result['sessions']} sessions, {result['voluntary_pledges']:,} pledges, "
        f"{result['organisations']} organisations; database {result['database_size']}; foreign-key triggers "
        f"{'off, keys checked by anti-joins' if result['superuser'] else 'on (not a superuser)'}"
    )
    print(f"  {verdict} the {TARGET_SECONDS} s target for this size" if rows["recommendations"] >= 1_000_000 else "")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", action="append", type=parse_size, help="RECOMMENDATIONS:ASSESSMENTS, repeatable")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the last database for inspection")
    args = parser.parse_args()
    url = bench_database_url()

    sys.path.insert(0, str(REPO))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uprtrax.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_HTTPS", "0")
    os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
    import django

    django.setup()
    print(f"generate_dataset benchmark on {urlsplit(url)._replace(netloc=urlsplit(url).hostname or '').geturl()}")
    try:
        for recommendations, assessments in args.size or DEFAULT_SIZES:
            print(f"\n{recommendations:,} recommendations, {assessments:,} assessments, seed {args.seed} ({machine()})")
            report(run_one(url, recommendations, assessments, args.seed))
            print(f"  after: {machine()}")
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
