"""Benchmark of the implementation statistics' computation (followup/statistics.py) on PostgreSQL: the full
recompute the Celery job runs (every phase and consolidation rule, every breakdown, all cycles and each; issue 6's
target: under 30 s over 1,000,000 recommendations and 3,000,000 assessments), then one phase and rule alone, with
the headline figures each finds.

    .venv/bin/python bench/statistics_compute.py --database uprtrax_bench_1m [--phase P] [--rules majority,latest]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import code_version, database_url, describe_database, django_setup, machine

TARGET_SECONDS = 30.0


def _line(label: str, seconds: float, figures: dict) -> str:
    overall, response = figures["overall"], figures["by"]["response"]
    groups = sum(len(groups) for groups in figures["by"].values())
    return (
        f"  {label:<22} {seconds:5.1f} s, {groups:,} groups; {overall['assessed']:,} of "
        f"{overall['recommendations']:,} assessed ({overall['coverage_pct']}%), triggered action "
        f"{overall['triggered_action_pct']}% (accepted {response.get('accepted', {}).get('triggered_action_pct')}%, "
        f"noted {response.get('noted', {}).get('triggered_action_pct')}%), fully implemented "
        f"{overall['fully_implemented_pct']}%"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database name on the server of $DATABASE_URL, or a full URL")
    parser.add_argument("--phase", default="mid_term", help="the phase of the one-rule timings")
    parser.add_argument("--rules", default="majority,lowest,highest,latest,non_state")
    args = parser.parse_args()
    url = database_url(args.database)
    django_setup(url, cache=False)
    from followup.snapshots import statistics_recompute
    from followup.statistics import statistics_compute, statistics_compute_all

    recommendations, description = describe_database()
    print(f"statistics benchmark on {url.rsplit('/', 1)[-1]}: {description}; code {code_version()}")
    if not recommendations:
        print("  nothing to measure: build a data set first (bench/README.md)")
        return 0
    print(f"  {machine()}")
    started = time.perf_counter()
    stored = statistics_recompute()
    seconds = time.perf_counter() - started
    verdict = "under" if seconds < TARGET_SECONDS else "OVER"
    print(f"  full recompute (the Celery job, stored: {len(stored)} snapshots): {seconds:.1f} s ({verdict} the "
          f"{TARGET_SECONDS:.0f} s target; two connections, one per phase, one snapshot of the data)")  # fmt: skip
    started = time.perf_counter()
    everything = statistics_compute_all()
    print(f"  the same computation on one connection: {time.perf_counter() - started:.1f} s")
    for (phase, rule), figures in everything.items():
        print(_line(f"{phase} {rule}", 0, figures).replace("   0.0 s, ", " "))
    print(f"  one phase and rule alone ({args.phase}):")
    for rule in args.rules.split(","):
        started = time.perf_counter()
        figures = statistics_compute(phase=args.phase, rule=rule)
        print(_line(rule, time.perf_counter() - started, figures))
    print(f"  (after: {machine()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
