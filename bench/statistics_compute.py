"""Benchmark of the implementation statistics' computation (followup/statistics.py) on PostgreSQL: one full
computation per consolidation rule, every breakdown, with the headline figures it finds (issue 6's target: a full
recompute over 1,000,000 recommendations and 3,000,000 assessments under 30 s).

    .venv/bin/python bench/statistics_compute.py --database uprtrax_bench_1m [--phase P] [--rules majority,latest]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import code_version, database_url, describe_database, django_setup, machine

TARGET_SECONDS = 30.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database name on the server of $DATABASE_URL, or a full URL")
    parser.add_argument("--phase", default="mid_term")
    parser.add_argument("--rules", default="majority,lowest,highest,latest,non_state")
    args = parser.parse_args()
    url = database_url(args.database)
    django_setup(url, cache=False)
    from followup.statistics import statistics_compute

    recommendations, description = describe_database()
    print(f"statistics benchmark on {url.rsplit('/', 1)[-1]}: {description}; code {code_version()}")
    if not recommendations:
        print("  nothing to measure: build a data set first (bench/README.md)")
        return 0
    print(f"  phase {args.phase}; {machine()}")
    for rule in args.rules.split(","):
        started = time.perf_counter()
        figures = statistics_compute(phase=args.phase, rule=rule)
        seconds = time.perf_counter() - started
        overall, response = figures["overall"], figures["by"]["response"]
        groups = sum(len(groups) for groups in figures["by"].values())
        verdict = "under" if seconds < TARGET_SECONDS else "OVER"
        print(
            f"  {rule:<10} {seconds:5.1f} s ({verdict} {TARGET_SECONDS:.0f} s), {groups:,} groups; "
            f"{overall['assessed']:,} of {overall['recommendations']:,} assessed ({overall['coverage_pct']}%), "
            f"triggered action {overall['triggered_action_pct']}% (accepted "
            f"{response.get('accepted', {}).get('triggered_action_pct')}%, noted "
            f"{response.get('noted', {}).get('triggered_action_pct')}%), fully implemented "
            f"{overall['fully_implemented_pct']}%"
        )
    print(f"  (after: {machine()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
