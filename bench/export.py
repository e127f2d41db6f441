"""Benchmark of the exports: time, size and peak memory of the search's CSV and XLSX for a large result set.

Each export runs in a child process of its own (so that its peak RSS is its own), through django.test.Client and
the real views: `/recommendations/export.csv?kind=any` is every row of the database. The response is consumed as
a browser would, chunk by chunk, and only its size is kept.

    .venv/bin/python bench/export.py --database uprtrax_bench_1m [--xlsx-query "cycle=4"]

Build the data set first (bench/README.md). Prints one line per export: rows, bytes, seconds, rows/s, peak RSS.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent


def _database_url(name: str) -> str:
    if "://" in name:
        return name
    url = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _child(url: str, path: str) -> None:
    """Run one export here and print its figures as JSON (the parent prints them)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uprtrax.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_HTTPS", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    from django.test import Client

    started = time.perf_counter()
    response = Client(SERVER_NAME="localhost").get(path)
    if not response.streaming:
        print(json.dumps({"status": response.status_code, "error": response.content.decode()[:500]}))
        return
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n") if path.endswith(".csv") or ".csv?" in path else 0
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"status": response.status_code, "bytes": size, "lines": lines, "seconds": seconds,
                      "peak": peak}))  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="uprtrax_bench_1m", help="database name on $DATABASE_URL's server")
    parser.add_argument("--csv-query", default="kind=any", help="search parameters of the CSV export")
    parser.add_argument("--xlsx-query", default="kind=any&cycle=4", help="search parameters of the XLSX export")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = _database_url(args.database)
    if args.child:
        _child(url, args.child)
        return 0
    print(f"export benchmark on {urlsplit(url).path[1:]}")
    try:
        import psycopg

        with psycopg.connect(url) as connection:
            (rows,) = connection.execute("SELECT COUNT(*) FROM recommendations_recommendation").fetchone()
    except psycopg.Error as error:
        print(f"  nothing to measure: {str(error).strip().splitlines()[0]} (build the data set: bench/README.md)")
        return 0
    if not rows:
        print("  nothing to measure: the database holds no recommendation (build the data set: bench/README.md)")
        return 0
    failed = False
    for label, path in (
        ("CSV", f"/recommendations/export.csv?{args.csv_query}"),
        ("XLSX", f"/recommendations/export.xlsx?{args.xlsx_query}"),
    ):
        done = subprocess.run(
            [sys.executable, __file__, "--database", url, "--child", path], capture_output=True, text=True, check=False
        )
        if done.returncode:
            print(f"  {label}: failed\n{done.stderr[-2000:]}")
            failed = True
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        if "error" in figures:
            print(f"  {label}: HTTP {figures['status']}: {figures['error']}")
            failed = True
            continue
        rows = figures["lines"] - 1 if label == "CSV" else None
        rate = f"{rows / figures['seconds']:,.0f} rows/s" if rows else ""
        print(
            f"  {label:4} {path}: HTTP {figures['status']}, {figures['bytes'] / 1e6:,.1f} MB"
            + (f", {rows:,} rows" if rows is not None else "")
            + f", {figures['seconds']:.1f} s {rate}, peak RSS {figures['peak'] / 1e6:,.0f} MB"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
