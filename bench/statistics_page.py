"""Benchmark of the statistics pages' server time: /statistics/ read from the snapshot (issue 6's target: under
50 ms at 1,000,000 recommendations), with its CSV files, its methodology and a state's page beside it.

Each page variant (cycle, phase, rule) is requested once with its tables not yet rendered in this process ("cold":
the first request after a new computation, ~500 table rows rendered), then N times ("warm": the rendered tables
kept by followup.views, as every later request until the next computation). Requests go through
django.test.Client in this process: middleware, SQL, template. Before the first computation of a database, the
benchmark runs one (statistics_recompute(), about a minute at 1,000,000) and says so.

    .venv/bin/python bench/statistics_page.py --database uprtrax_bench_1m [--runs 20]
    .venv/bin/python bench/statistics_page.py --database uprtrax_bench_100k
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import HOST, code_version, database_url, describe_database, django_setup, machine, percentile, request

TARGET_MS = 50.0
# (label, URL, held to the target): the page's variants, then what surrounds it.
PAGES = (
    ("all cycles, mid-term, majority", "/statistics/", True),
    ("cycle 3, mid-term, majority", "/statistics/?cycle=3", True),
    ("cycle 2, next review, latest", "/statistics/?cycle=2&phase=next_review&rule=latest", True),
    ("all cycles, mid-term, non-state", "/statistics/?rule=non_state", True),
    ("cycle 4, mid-term, lowest", "/statistics/?cycle=4&rule=lowest", True),
    ("bad filter: 400", "/statistics/?cycle=99&rule=zzz", True),
    ("CSV: recommending states", "/statistics/recommending_state.csv?cycle=all", False),
    ("CSV: overall", "/statistics/overall.csv", False),
    ("methodology", "/statistics/methodology/?rule=latest", False),
)


def snapshot_ready() -> str:
    """Compute the statistics when the database has none yet; a line saying which."""
    from followup.models import StatisticsSnapshot
    from followup.snapshots import statistics_recompute

    if StatisticsSnapshot.objects.exists():
        latest = StatisticsSnapshot.objects.latest("computed_at")
        return f"snapshot of {latest.computed_at:%Y-%m-%d %H:%M} UTC"
    started = time.perf_counter()
    statistics_recompute()
    return f"no snapshot yet: computed every phase and rule in {time.perf_counter() - started:.1f} s"


def state_page() -> tuple[str, str]:
    """The page of the state that made the most recommendations (its statistics read beside its profile, which the
    benchmark does not take from the cache)."""
    from django.db import connection

    from recommendations.models import Recommendation
    from reviews.models import State

    links = Recommendation.recommending_states.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT state_id FROM {links} GROUP BY state_id ORDER BY COUNT(*) DESC LIMIT 1")
        iso3 = State.objects.get(pk=cursor.fetchone()[0]).iso3
    return f"state {iso3} (its two statistics rows)", f"/states/{iso3}/"


def state_query_ms(runs: int = 50) -> float:
    """The median time of the query that reads a state's two groups out of the snapshot."""
    from followup.selectors import state_statistics

    times = []
    for _ in range(runs):
        started = time.perf_counter()
        state_statistics(iso3="USA")
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database name on the server of $DATABASE_URL, or a full URL")
    parser.add_argument("--runs", type=int, default=20, help="warm requests per page after the cold one (20)")
    args = parser.parse_args()
    url = database_url(args.database)
    django_setup(url, cache=False)
    from django.test import Client

    from followup import views

    recommendations, description = describe_database()
    print(f"statistics page benchmark on {url.rsplit('/', 1)[-1]}: {description}; code {code_version()}")
    if not recommendations:
        print("  nothing to measure: build a data set first (bench/README.md)")
        return 0
    print(f"  {snapshot_ready()}; 1 cold + {args.runs} warm requests per page; {machine()}")
    client = Client(SERVER_NAME=HOST, raise_request_exception=False)
    pages = [*PAGES, (*state_page(), False)]
    print(f"  {'request':<42} {'status':>6} {'cold':>7} {'median':>7} {'p95':>7} {'max':>7} {'SQL':>6} "
          f"{'queries':>7} {'KB':>6}")  # fmt: skip
    for _label, path, _target in pages:  # a fresh process: templates compiled, connections opened
        client.get(path)
    held, failed = [], []
    for label, path, target in pages:
        views._tables.clear()  # as after a new computation: this variant's tables are not rendered yet
        cold = request(client, path)
        runs = [request(client, path) for _ in range(args.runs)]
        times = [run.ms for run in runs]
        size = len(client.get(path).content) / 1024
        median, p95 = statistics.median(times), percentile(times, 95)
        print(f"  {label:<42} {cold.status:>6} {cold.ms:7.1f} {median:7.1f} {p95:7.1f} {max(times):7.1f} "
              f"{statistics.median(r.sql_ms for r in runs):6.1f} {runs[-1].queries:>7} {size:6.0f}")  # fmt: skip
        if target:
            held.append((label, cold.ms, p95))
        expected = 400 if "400" in label else 200
        if {cold.status, *(run.status for run in runs)} != {expected}:
            failed.append(f"{label}: {path} answered {sorted({cold.status, *(r.status for r in runs)})}")
    colds = [cold for _label, cold, _p95 in held]
    p95s = [p95 for _label, _cold, p95 in held]
    print(f"\n  /statistics/ over its {len(held)} variants: warm p95 at most {max(p95s):.1f} ms, cold (tables "
          f"rendered) at most {max(colds):.1f} ms")  # fmt: skip
    for name, worst in (("warm p95", max(p95s)), ("cold", max(colds))):
        print(f"  {name} {worst:.1f} ms: {'under' if worst < TARGET_MS else 'OVER'} the {TARGET_MS:.0f} ms target")
    for failure in failed:
        print(f"  UNEXPECTED STATUS: {failure}")
    print(f"  a state's own figures alone (followup.selectors.state_statistics, one query): {state_query_ms():.2f} ms")
    print(f"  (after: {machine()})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
