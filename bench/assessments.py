"""Benchmark of recording assessments: one at a time, and 500 at once, on PostgreSQL (issue 5's target: each under
300 ms of server time with the 1,000,000-recommendation data set).

Requests go through django.test.Client in this process, so the time is the whole view: session, middleware, form,
permission checks, the service (row lock, history, the consolidated status of the recommendations concerned),
the redirect. A member of one of the data set's organisations records:
- one: N different recommendations, each a new assessment (POST to the recommendation's assess view), then the
  same N again, each an edit of the version just written;
- bulk: M times 500 recommendations of one state under review (POST to the bulk view), new assessments, then the
  same 500 again with "replace existing" (500 edits, each with its history).
Everything runs in one transaction rolled back at the end: the data set is left as it was (the COMMIT itself, a
few milliseconds, is therefore not measured). The bitmaps patch that follows a change of statuses is timed apart.

    .venv/bin/python bench/assessments.py --database uprtrax_bench_1m [--runs 20] [--bulk-runs 5]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from search import HOST, code_version, database_url, describe_database, django_setup, machine, percentile

TARGET_MS = 300.0
BULK_SIZE = 500


class _Rollback(Exception):
    pass


def _figures(label: str, times: list[float]) -> str:
    verdict = "under" if percentile(times, 95) < TARGET_MS else "OVER"
    return (
        f"  {label:<44} n={len(times):<3} median {statistics.median(times):7.1f}  p95 {percentile(times, 95):7.1f}"
        f"  max {max(times):7.1f} ms  ({verdict} {TARGET_MS:.0f} ms)"
    )


def _timed(client, url: str, data: dict) -> float:
    started = time.perf_counter()
    response = client.post(url, data)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code not in (200, 302):
        raise SystemExit(f"POST {url} answered {response.status_code}: {response.content[:500]!r}")
    if response.status_code == 200 and b"errorlist" in response.content:
        raise SystemExit(f"POST {url} was refused: {response.content[:2000]!r}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database name on the server of $DATABASE_URL, or a full URL")
    parser.add_argument("--runs", type=int, default=20, help="single recordings (new, then edits) (20)")
    parser.add_argument("--bulk-runs", type=int, default=5, help="bulk recordings of 500 (new, then replace) (5)")
    args = parser.parse_args()
    url = database_url(args.database)
    django_setup(url, cache=False, bitmaps=True)
    from django.db import transaction
    from django.db.models import Count
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from followup.models import Assessment, Membership
    from recommendations.bitmaps import bitmaps_current
    from recommendations.facets import reference_load, search_data_changed
    from recommendations.models import Recommendation

    recommendations, description = describe_database()
    print(f"assessment benchmark on {url.rsplit('/', 1)[-1]}: {description}; code {code_version()}")
    if not recommendations:
        print("  nothing to measure: build a data set first (bench/README.md)")
        return 0
    print(f"  {machine()}")
    membership = Membership.objects.select_related("user", "organisation").order_by("id").first()
    if membership is None:
        print("  nothing to measure: the data set has no organisation member (manage.py generate_dataset makes some)")
        return 0
    user, organisation = membership.user, membership.organisation
    # Recommendations of one state this organisation has not assessed: the biggest state under review.
    state = (
        Recommendation.objects.values("review__state").annotate(n=Count("id"))
        .order_by("-n").values_list("review__state", flat=True).first()
    )  # fmt: skip
    assessed = Assessment.objects.filter(organisation=organisation).values("recommendation_id")
    free = list(
        Recommendation.objects.filter(review__state=state, kind="recommendation")
        .exclude(id__in=assessed)
        .order_by("-review__session__number", "id")
        .values_list("id", "review__session__end_date")[: args.runs + BULK_SIZE * args.bulk_runs]
    )
    if len(free) < args.runs + BULK_SIZE * args.bulk_runs:
        raise SystemExit(f"only {len(free)} unassessed recommendations of the biggest state: fewer runs, please")
    day = max(end for _, end in free if end).isoformat()  # after every one of these reviews: a valid date for all
    client = Client(SERVER_NAME=HOST, raise_request_exception=True)
    client.force_login(user)
    maps = bitmaps_current(reference_load())
    print(f"  {user.username} of {organisation.name}; {len(free):,} recommendations of one state; bitmaps "
          f"{maps.nbytes / 1e6:.0f} MB")  # fmt: skip
    fields = {"status": "partially_implemented", "comment": "A plan exists; funds do not.", "assessed_on": day,
              "phase": "", "visibility": "public", "evidence_urls": "https://example.org/report"}  # fmt: skip
    singles = [pk for pk, _ in free[: args.runs]]
    clusters = [[pk for pk, _ in free[args.runs + i * BULK_SIZE : args.runs + (i + 1) * BULK_SIZE]]
                for i in range(args.bulk_runs)]  # fmt: skip
    results: dict[str, list[float]] = {}
    try:
        with transaction.atomic():
            record = [reverse("assessing:record", args=[pk]) for pk in singles]
            results["one: new assessment"] = [
                _timed(client, u, {**fields, "organisation": organisation.slug}) for u in record
            ]
            results["one: edit (version checked)"] = [
                _timed(client, u, {**fields, "organisation": organisation.slug, "status": "fully_implemented",
                                   "version": "1"})
                for u in record
            ]  # fmt: skip
            bulk = reverse("bulk:bulk")
            results["bulk: 500 new"] = [
                _timed(client, bulk, {**fields, "organisation": organisation.pk, "ids": " ".join(map(str, ids)),
                                      "seen_at": timezone.now().isoformat()})
                for ids in clusters
            ]  # fmt: skip
            results["bulk: 500 replaced"] = [
                _timed(client, bulk, {**fields, "organisation": organisation.pk, "ids": " ".join(map(str, ids)),
                                      "replace": "on", "status": "not_implemented",
                                      "seen_at": timezone.now().isoformat()})
                for ids in clusters
            ]  # fmt: skip
            # What every web process does at its next search after these changes (on commit, in real life).
            search_data_changed(statuses_of=[pk for pk, _ in free])
            started = time.perf_counter()
            patched = bitmaps_current(reference_load())
            patch_ms = (time.perf_counter() - started) * 1000
            assert patched is not maps and patched.words is maps.words, "the bitmaps were built again, not patched"
            written = Assessment.objects.filter(organisation=organisation, recommendation_id__in=[p for p, _ in free])
            print(f"  written in the benchmark's transaction: {written.count():,} assessments, "
                  f"{Assessment.history.filter(history_user=user).count():,} history entries")  # fmt: skip
            raise _Rollback
    except _Rollback:
        pass
    for label, times in results.items():
        print(_figures(label, times))
    print(
        f"  the search's bitmaps patched for the {len(free):,} recommendations' statuses in {patch_ms:.1f} ms "
        "(instead of being built again)"
    )
    print(f"  (after: {machine()}; everything rolled back)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
