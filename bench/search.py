"""Benchmark of the recommendation search page: server time of a mix of realistic searches on PostgreSQL.

Each search is full text plus two facets (or more), written with the page's URL contract (q, sur, sur_region,
from, from_region, org, session, cycle, response, action, issue, kind, status, sort, page). For each one: a
warm-up request, then N measured requests (default 5) through django.test.Client in this process, so the time is
the whole view: middleware, filters, SQL, template. The SQL statements of every request are counted
(CaptureQueriesContext) and their time summed. The page's result count is read from the `data-total` attribute
of the element with id `results` (for JSON, from `count`).

Targets of issue 4 (server time, with facet counts): 1,000,000 recommendations, median < 150 ms and p95 < 300 ms;
100,000 recommendations, p95 < 60 ms. The facet cache is switched off (UPRTRAX_SEARCH_CACHE_SECONDS=0) unless
--cache is given, so that every measured request does the whole work.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/uprtrax_bench_1m .venv/bin/python bench/search.py
    .venv/bin/python bench/search.py --database uprtrax_bench_100k [--runs 5] [--htmx] [--cache] [--explain 3]
    .venv/bin/python bench/search.py --database uprtrax_bench_1m --pages     # state, session, detail, API pages

Build the data sets first (see bench/README.md): `manage.py generate_dataset --recommendations 1000000
--assessments 3000000` on an empty migrated database, then VACUUM ANALYZE.
"""

import argparse
import logging
import os
import re
import statistics
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
SEARCH = "/recommendations/"
HOST = "localhost"
TARGETS_1M = {"median": 150.0, "p95": 300.0}
TARGETS_100K = {"p95": 60.0}
BIG = 500_000  # recommendations from which the 1,000,000 targets apply

# (label, query string). Words and phrases occur in the generated texts (recommendations/dataset/vocabulary.py);
# sessions and cycles exist in both the 100,000 (sessions 1-41) and 1,000,000 (1-54) data sets.
QUERIES: tuple[tuple[str, str], ...] = (
    # Broad words, matching tens or hundreds of thousands of rows
    ("broad: rights, accepted, cycle 2", "q=rights&response=accepted&cycle=2"),
    ("broad: efforts, Asia, action 2", "q=efforts&sur_region=Asia&action=2"),
    ("broad: human rights, WEOG made, partially", "q=human+rights&from_region=WEOG&status=partially_implemented"),
    ("broad: continue efforts, China, sort=state", "q=continue+efforts&sur=CHN&response=accepted&sort=state"),
    # Common words with typical facets
    ("torture, accepted, Africa", "q=torture&response=accepted&sur_region=Africa"),
    ("ratify convention, issue, Iran", "q=ratify+convention&issue=international-instruments&sur=IRN"),
    ("marital rape, USA made, not implemented", "q=marital+rape&from=USA&status=not_implemented"),
    ("rural areas, health, USA made", "q=rural+areas&issue=right-to-health&from=USA"),
    ("prison overcrowding, sessions 40+41, accepted",
     "q=prison+overcrowding&session=40&session=41&response=accepted"),
    # Phrases
    ('"death penalty", cycle 3, noted', "q=%22death+penalty%22&cycle=3&response=noted"),
    ('"standing invitation", OIC, noted', "q=%22standing+invitation%22&org=OIC&response=noted"),
    ('"paris principles", session 30, accepted', "q=%22paris+principles%22&session=30&response=accepted"),
    ('"national action plan" trafficking, issue, Asia',
     "q=%22national+action+plan%22+trafficking&issue=trafficking&sur_region=Asia"),
    # Exclusions and OR
    ("women -violence, France made, action 5", "q=women+-violence&from=FRA&action=5"),
    ("disabilities -convention, EEG, accepted", "q=disabilities+-convention&sur_region=EEG&response=accepted"),
    ("hate speech OR racism, EEG made, issue",
     "q=hate+speech+OR+racism&from_region=EEG&issue=racial-discrimination"),
    # Rare words, and one that never occurs
    ("rare: climate change, GRULAC, accepted", "q=climate+change&sur_region=GRULAC&response=accepted"),
    ("rare: homelessness, cycle 1, not assessed", "q=homelessness&cycle=1&status=none"),
    ("rare: non-refoulement, EEG, action 4", "q=non-refoulement&sur_region=EEG&action=4"),
    ("none: blockchain, accepted, cycle 3", "q=blockchain&response=accepted&cycle=3"),
    # Multi-value facets
    ("multi: journalists, 3 states, WEOG made", "q=journalists&sur=MEX&sur=BRA&sur=COL&from_region=WEOG"),
    ("multi: child marriage, both responses, issue",
     "q=child+marriage&response=accepted&response=noted&issue=rights-of-the-child"),
    ("multi: disappearance, 2 statuses, cycle 1",
     "q=disappearance&status=partially_implemented&status=fully_implemented&cycle=1"),
    ("multi: technical assistance, any kind, Africa, action 1",
     "q=technical+assistance&kind=any&sur_region=Africa&action=1"),
    # Other orders and deep pages
    ("sort=date: defamation, EU made, noted", "q=defamation&org=EU&response=noted&sort=date"),
    ("sort=date: moratorium executions, CHE made, noted",
     "q=moratorium+executions&from=CHE&response=noted&sort=date"),
    ("page 200: torture, accepted, Africa", "q=torture&response=accepted&sur_region=Africa&page=200"),
    ("page 200: rights, cycle 3, action 4", "q=rights&cycle=3&action=4&page=200"),
    ("page 40 of 100: efforts, noted, AU made", "q=efforts&response=noted&org=AU&per_page=100&page=40"),
)  # fmt: skip

_RESULTS_TAG = re.compile(r"<[^>]*\bid=\"results\"[^>]*>")
_TOTAL = re.compile(r"\bdata-total=\"(\d+)\"")


@dataclass
class Run:
    status: int
    ms: float
    queries: int
    sql_ms: float
    count: int | None
    statements: list[dict] = field(default_factory=list, repr=False)
    error: str = ""


@dataclass
class Measured:
    label: str
    url: str
    runs: list[Run]

    @property
    def times(self) -> list[float]:
        return [run.ms for run in self.runs]

    @property
    def ok(self) -> bool:
        return all(run.status == 200 for run in self.runs)


def result_count(response) -> int | None:
    """The number of results the page shows: data-total on #results (HTML), or `count` (JSON); None if absent."""
    content_type = response.get("Content-Type", "")
    if "json" in content_type:
        try:
            count = response.json().get("count")
        except (ValueError, AttributeError):
            return None
        return count if isinstance(count, int) else None
    if getattr(response, "streaming", False):
        return None
    tag = _RESULTS_TAG.search(response.content.decode("utf-8", "replace"))
    total = _TOTAL.search(tag.group(0)) if tag else None
    return int(total.group(1)) if total else None


def request(client, url: str, *, htmx: bool = False) -> Run:
    """One request, timed, with its SQL statements captured."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    headers = {"HX-Request": "true"} if htmx else {}
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        ms = (time.perf_counter() - started) * 1000
    statements = list(captured.captured_queries)
    sql_ms = sum(float(s["time"]) for s in statements) * 1000
    error = ""
    if response.status_code >= 500 and getattr(response, "exc_info", None):
        error = repr(response.exc_info[1])[:300]
    count = result_count(response) if response.status_code == 200 else None
    return Run(response.status_code, ms, len(statements), sql_ms, count, statements, error)


def measure(client, label: str, url: str, *, runs: int, htmx: bool = False) -> Measured:
    """A warm-up request (not counted), then `runs` measured ones."""
    request(client, url, htmx=htmx)
    return Measured(label, url, [request(client, url, htmx=htmx) for _ in range(runs)])


def search_urls(queries=QUERIES) -> list[tuple[str, str]]:
    return [(label, f"{SEARCH}?{query}") for label, query in queries]


def run_mix(client, urls: list[tuple[str, str]], *, runs: int = 5, htmx: bool = False, out=None) -> list[Measured]:
    """Every URL measured in turn; one line printed per URL when `out` is a stream."""
    results = []
    if out:
        print(f"  {'request':<52} {'median':>7} {'max':>7} {'SQL':>6} {'queries':>7} {'results':>9}", file=out)
    for label, url in urls:
        measured = measure(client, label, url, runs=runs, htmx=htmx)
        results.append(measured)
        if out:
            print(line(measured), file=out, flush=True)
    return results


def line(measured: Measured) -> str:
    runs = measured.runs
    statuses = sorted({run.status for run in runs})
    count = runs[-1].count
    shown = f"{count:,}" if count is not None else "-"
    if statuses != [200]:
        shown = "HTTP " + "/".join(map(str, statuses))
    label = measured.label if len(measured.label) <= 52 else measured.label[:51] + "…"
    return (
        f"  {label:<52} {statistics.median(measured.times):>7.1f} {max(measured.times):>7.1f} "
        f"{statistics.median(run.sql_ms for run in runs):>6.1f} {max(run.queries for run in runs):>7} {shown:>9}"
    )


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def distribution(results: list[Measured]) -> dict[str, float]:
    times = [t for measured in results for t in measured.times]
    return {
        "runs": len(times),
        "median": statistics.median(times),
        "p90": percentile(times, 90),
        "p95": percentile(times, 95),
        "p99": percentile(times, 99),
        "max": max(times),
    }


def report_distribution(results: list[Measured], *, recommendations: int, out=sys.stdout) -> bool:
    """Print the distribution over every measured request and the verdict against the targets; True when every
    request answered 200 (speed is a figure to read, not a pass or fail)."""
    figures = distribution(results)
    print(
        f"\n  all {figures['runs']} measured requests (ms): median {figures['median']:.1f}, p90 {figures['p90']:.1f}, "
        f"p95 {figures['p95']:.1f}, p99 {figures['p99']:.1f}, max {figures['max']:.1f}",
        file=out,
    )
    targets = TARGETS_1M if recommendations >= BIG else TARGETS_100K
    for name, limit in targets.items():
        verdict = "under" if figures[name] < limit else "OVER"
        print(f"  {name} {figures[name]:.1f} ms: {verdict} the {limit:.0f} ms target", file=out)
    failed = [m for m in results if not m.ok]
    for measured in failed:
        errors = {run.error for run in measured.runs if run.error}
        print(f"  NOT 200: {measured.label}: {measured.url} {'; '.join(errors)}", file=out)
    return not failed


def slowest_statement(measured: Measured) -> dict:
    """The slowest SQL statement of the query's median request."""
    runs = sorted(measured.runs, key=lambda run: run.ms)
    statements = runs[len(runs) // 2].statements
    return max(statements, key=lambda s: float(s["time"])) if statements else {}


def explain(results: list[Measured], count: int, out=sys.stdout) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest statement of the `count` slowest requests."""
    from django.db import connection

    for measured in sorted(results, key=lambda m: -statistics.median(m.times))[:count]:
        statement = slowest_statement(measured)
        if not statement:
            continue
        print(f"\n=== {measured.label}: {measured.url} (median {statistics.median(measured.times):.1f} ms; "
              f"its slowest statement {float(statement['time']) * 1000:.1f} ms)", file=out)  # fmt: skip
        print(statement["sql"], file=out)
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement["sql"])
            print("\n".join(row[0] for row in cursor.fetchall()), file=out)


# --- Other pages (--pages) --------------------------------------------------------------------------------------


def page_urls() -> list[tuple[str, str]]:
    """The other browsing pages, on the data set's biggest state, latest session and most assessed recommendation."""
    from django.db import connection

    from followup.models import Assessment
    from recommendations.models import Recommendation
    from reviews.models import Review, State

    tables = {
        "links": Recommendation.recommending_states.through._meta.db_table,
        "reviews": Review._meta.db_table,
        "states": State._meta.db_table,
        "recs": Recommendation._meta.db_table,
        "assessments": Assessment._meta.db_table,
    }
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT s.iso3 FROM {reviews} v JOIN {states} s ON s.id = v.state_id
            JOIN {recs} r ON r.review_id = v.id GROUP BY s.iso3 ORDER BY COUNT(*) DESC LIMIT 1""".format(**tables)
        )
        received = cursor.fetchone()[0]
        cursor.execute(
            """SELECT s.iso3 FROM (SELECT state_id, COUNT(*) AS n FROM {links} GROUP BY state_id) l
            JOIN {states} s ON s.id = l.state_id ORDER BY n DESC LIMIT 1""".format(**tables)
        )
        made = cursor.fetchone()[0]
        # Among the newer half of the ids, so that the GROUP BY stays short on 3,000,000 assessments.
        cursor.execute(
            """SELECT recommendation_id FROM {assessments}
            WHERE recommendation_id >= (SELECT MAX(id) / 2 FROM {recs})
            GROUP BY recommendation_id ORDER BY COUNT(*) DESC, recommendation_id LIMIT 1""".format(**tables)
        )
        assessed = cursor.fetchone()[0]
    session = Review.objects.order_by("-session__number").values_list("session__number", flat=True).first()
    return [
        ("home", "/"),
        ("states", "/states/"),
        (f"state {received} (most received)", f"/states/{received}/"),
        (f"state {made} (most made)", f"/states/{made}/"),
        ("sessions", "/sessions/"),
        (f"session {session}", f"/sessions/{session}/"),
        ("next session", "/sessions/next/"),
        (f"session {session}: prepare", f"/sessions/{session}/prepare/"),
        ("cycle 2", "/cycles/2/"),
        (f"recommendation {assessed} (most assessed)", f"/recommendations/{assessed}/"),
        ("search, no filter", SEARCH),
        (f"search: {made} made, noted", f"{SEARCH}?from={made}&response=noted"),
        (f"search: to {received}, accepted, cycle 3", f"{SEARCH}?sur={received}&response=accepted&cycle=3"),
        ("search: Africa, EU made, page 40", f"{SEARCH}?sur_region=Africa&org=EU&page=40"),
        ("search: partially implemented, by state, page 100",
         f"{SEARCH}?status=partially_implemented&sort=state&page=100"),
        ("search: women's rights issue, oldest, 2 statuses",
         f"{SEARCH}?issue=womens-rights&sort=oldest&status=not_implemented&status=none"),
        ("API list, no filter", "/api/v1/recommendations/"),
        ("API list: torture, accepted, Africa",
         "/api/v1/recommendations/?q=torture&response=accepted&sur_region=Africa"),
        (f"API list: {made} made, cycle 3", f"/api/v1/recommendations/?from={made}&cycle=3"),
        (f"API detail {assessed}", f"/api/v1/recommendations/{assessed}/"),
        ("API states", "/api/v1/states/"),
        ("API sessions", "/api/v1/sessions/"),
    ]  # fmt: skip


# --- Running ----------------------------------------------------------------------------------------------------


def database_url(name: str | None) -> str:
    url = os.environ.get("DATABASE_URL") or ""
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/uprtrax"
    if name:
        url = name if "://" in name else urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    return url


def django_setup(url: str, *, cache: bool, bitmaps: bool = False) -> None:
    sys.path.insert(0, str(REPO))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uprtrax.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("DJANGO_HTTPS", "0")
    os.environ.setdefault("DJANGO_STATIC_MANIFEST", "0")
    if not cache:
        os.environ["UPRTRAX_SEARCH_CACHE_SECONDS"] = "0"
    # Pages and API reads kept whole for anonymous visitors (uprtrax/pagecache.py) would answer every measured
    # request from the warm-up's: the benchmarks time the work. bench/load.py measures a server with them on.
    os.environ["UPRTRAX_PAGE_CACHE_SECONDS"] = "0"
    # Searches without text: facet bitmaps built before the runs (timed apart), or the SQL path only.
    os.environ["UPRTRAX_SEARCH_BITMAPS"] = "inline" if bitmaps else "off"
    # WhiteNoise looks for collectstatic's output, which a benchmark does not build (files come from the finders).
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)
    import django

    django.setup()
    from django.conf import settings

    logging.getLogger("django.request").setLevel(logging.ERROR)  # a 404 shows in the table, not as a log line
    logging.getLogger("uprtrax.requests").setLevel(logging.WARNING)  # the request log: one line per request
    if HOST not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, HOST]


def describe_database() -> tuple[int, str]:
    """(recommendations, a line naming the data and the server's settings); (0, reason) when there is no data."""
    from django.db import connection
    from django.db.utils import DatabaseError

    try:
        with connection.cursor() as cursor:
            cursor.execute("""SELECT COUNT(*) FILTER (WHERE kind = 'recommendation'), COUNT(*)
                FROM recommendations_recommendation""")
            recommendations, rows = cursor.fetchone()
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database())), version()")
            size, version = cursor.fetchone()
            settings = []
            for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit"):
                cursor.execute(f"SHOW {name}")
                settings.append(f"{name}={cursor.fetchone()[0]}")
    except DatabaseError as exc:
        return 0, f"no usable data set ({str(exc).strip().splitlines()[0]})"
    server = version.split(" on ")[0]
    return recommendations, (
        f"{recommendations:,} recommendations ({rows:,} rows with pledges), database {size}; {server}; "
        + ", ".join(settings)
    )


def code_version() -> str:
    """The commit measured, and whether the working tree differs from it."""
    try:
        described = subprocess.run(["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                                   capture_output=True, text=True, timeout=10, check=True)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return described.stdout.strip()


def machine() -> str:
    return f"{os.cpu_count()} CPUs, load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database name on the server of $DATABASE_URL, or a full URL")
    parser.add_argument("--runs", type=int, default=5, help="measured requests per URL after one warm-up (5)")
    parser.add_argument("--pages", action="store_true", help="time the other pages instead of the search mix")
    parser.add_argument("--htmx", action="store_true", help="ask for the htmx partial (results and facets only)")
    parser.add_argument("--cache", action="store_true", help="leave the facet cache on (warm runs read it)")
    parser.add_argument("--bitmaps", action="store_true",
                        help="searches without text count from facet bitmaps (built first, timed apart)")  # fmt: skip
    parser.add_argument("--only", help="only the requests whose label contains this text")
    parser.add_argument("--explain", type=int, default=0, metavar="N",
                        help="EXPLAIN (ANALYZE, BUFFERS) the slowest statement of the N slowest requests")  # fmt: skip
    args = parser.parse_args()
    url = database_url(args.database)
    django_setup(url, cache=args.cache, bitmaps=args.bitmaps)
    from django.test import Client

    recommendations, description = describe_database()
    print(f"search benchmark on {urlsplit(url).path.lstrip('/')}: {description}; code {code_version()}")
    if not recommendations:
        print("  nothing to measure: build a data set first (bench/README.md, manage.py generate_dataset)")
        return 0
    urls = page_urls() if args.pages else search_urls()
    if args.only:
        urls = [(label, u) for label, u in urls if args.only.lower() in label.lower()]
    mode = ", htmx partial" if args.htmx else ""
    from django.conf import settings

    cache = "facet cache on" if args.cache else "facet cache off"
    if not args.cache and getattr(settings, "SEARCH_CACHE_SECONDS", 0):
        cache = "facet cache STILL ON (UPRTRAX_SEARCH_CACHE_SECONDS not read?)"
    print(f"  {len(urls)} URLs, 1 warm-up + {args.runs} measured requests each{mode}, {cache}; {machine()}")
    if args.bitmaps:
        from recommendations.bitmaps import bitmaps_current
        from recommendations.facets import reference_load

        started = time.perf_counter()
        maps = bitmaps_current(reference_load())
        print(f"  facet bitmaps: {maps.nbytes / 1e6:.0f} MB built in {time.perf_counter() - started:.1f} s "
              "(once per data version)")  # fmt: skip
    client = Client(SERVER_NAME=HOST, raise_request_exception=False)
    started = time.perf_counter()
    results = run_mix(client, urls, runs=args.runs, htmx=args.htmx, out=sys.stdout)
    print(f"  ({time.perf_counter() - started:.0f} s in all; after: {machine()})")
    if args.pages:
        failed = [m for m in results if not m.ok]
        for measured in failed:
            print(f"  NOT 200: {measured.label}: {measured.url} {'; '.join({r.error for r in measured.runs})}")
        answered = not failed
    else:
        answered = report_distribution(results, recommendations=recommendations)
    if args.explain:
        explain(results, args.explain)
    return 0 if answered else 1


if __name__ == "__main__":
    sys.exit(main())
