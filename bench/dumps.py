"""Benchmark of the public data dump (followup/dumps): the full build the nightly Celery job runs, its time, its peak
memory and its files' sizes; then the API's manifest and one file's download through the real views.

The build runs in this process, as the worker runs it (`followup.dumps.build.dumps_build`: one snapshot of the
data, every table read through server-side cursors and written through gzip, the folder switched in), into a
temporary MEDIA_ROOT that is deleted afterwards. Peak memory is the process's peak RSS (getrusage), printed with the
RSS before the build, so that what the build itself adds shows; --tracemalloc also traces Python's allocations
(their peak is the build's own working set, but tracing doubles the time). A database whose followup migrations
stop before the DataDump table gets the table for the run only (created, then dropped); its rows are deleted
afterwards either way, so the data set is left as it was.

    .venv/bin/python bench/dumps.py --database uprtrax_bench_100k [--tracemalloc] [--keep-files DIR]
    .venv/bin/python bench/dumps.py --database uprtrax_bench_1m
"""

import argparse
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import HOST, code_version, database_url, describe_database, django_setup, machine

API_RUNS = 20


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1024 / 1024


def _table_ready():
    """Make sure the DataDump table exists; returns what undoes it (None when it was there already)."""
    from django.db import connection

    from followup.models import DataDump

    if DataDump._meta.db_table in connection.introspection.table_names():
        return None
    with connection.schema_editor() as editor:
        editor.create_model(DataDump)

    def drop():
        with connection.schema_editor() as editor:
            editor.delete_model(DataDump)

    return drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database name on the server of $DATABASE_URL, or a full URL")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python's allocations (slower)")
    parser.add_argument("--keep-files", metavar="DIR", help="write the dump under DIR and leave it there")
    args = parser.parse_args()
    url = database_url(args.database)
    django_setup(url, cache=False)
    from django.conf import settings
    from django.test import Client

    from followup.dumps.build import dumps_build, dumps_root
    from followup.models import DataDump

    recommendations, description = describe_database()
    print(f"dumps benchmark on {url.rsplit('/', 1)[-1]}: {description}; code {code_version()}")
    if not recommendations:
        print("  nothing to measure: build a data set first (bench/README.md)")
        return 0
    print(f"  {machine()}")
    media = Path(args.keep_files) if args.keep_files else Path(tempfile.mkdtemp(prefix="uprtrax-dumps-bench-"))
    settings.MEDIA_ROOT = media
    undo = _table_ready()
    before_ids = set(DataDump.objects.values_list("pk", flat=True))
    try:
        rss_before = _current_rss_mb()
        if args.tracemalloc:
            tracemalloc.start()
        started = time.perf_counter()
        dump = dumps_build()
        seconds = time.perf_counter() - started
        traced = tracemalloc.get_traced_memory()[1] / 1e6 if args.tracemalloc else None
        tracemalloc.stop()
        if dump is None:
            print("  another build holds the lock: nothing measured")
            return 1
        rows = sum(dump.rows.values())
        print(
            f"  full build: {seconds:.1f} s, {rows:,} rows in "
            f"{len(dump.manifest['files']) - 1} tables (each row written twice: its CSV and the JSON Lines), "
            f"{dump.size / 1e6:,.1f} MB gzipped"
        )
        print(
            f"  memory: RSS {rss_before:,.0f} MB before the build, peak RSS {_rss_mb():,.0f} MB"
            + (f", Python allocations' peak {traced:,.1f} MB (tracemalloc)" if traced is not None else "")
        )
        print(f"  {'file':<42} {'rows':>11} {'gzipped MB':>11} {'raw MB':>9}")
        for entry in dump.manifest["files"]:
            print(
                f"  {entry['name']:<42} {entry['rows']:>11,} {entry['bytes'] / 1e6:>11,.1f} "
                f"{entry['bytes_uncompressed'] / 1e6:>9,.1f}"
            )
        client = Client(SERVER_NAME=HOST)
        client.get("/api/v1/dumps/")  # the first request imports what the API needs
        timings = []
        for _ in range(API_RUNS):
            started = time.perf_counter()
            response = client.get("/api/v1/dumps/")
            timings.append((time.perf_counter() - started) * 1000)
        api_ms = statistics.median(timings)
        started = time.perf_counter()
        download = client.get("/dumps/recommendations.csv.gz")
        size = sum(len(chunk) for chunk in download.streaming_content)
        download_seconds = time.perf_counter() - started
        print(
            f"  GET /api/v1/dumps/: HTTP {response.status_code}, median {api_ms:.1f} ms of {API_RUNS}; "
            f"GET /dumps/recommendations.csv.gz: HTTP {download.status_code}, {size / 1e6:,.1f} MB read in "
            f"{download_seconds:.2f} s"
        )
        print(f"  (after: {machine()})")
    finally:
        DataDump.objects.exclude(pk__in=before_ids).delete()
        if undo is not None:
            undo()
        if not args.keep_files:
            shutil.rmtree(media, ignore_errors=True)
        else:
            print(f"  files left in {dumps_root()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
