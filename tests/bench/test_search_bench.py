"""The search benchmark's harness (bench/search.py) against a small factory-made database, so that it cannot rot:
every query of its mix must answer 200 and show its result count."""

import io

import pytest

from followup.models import Assessment
from followup.status import implementation_status_refresh
from recommendations.models import Issue, Recommendation
from reviews.models import Session, State
from tests.bench import bench_module
from tests.factories import AssessmentFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db

R = Recommendation.Response


bench = bench_module("search")


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


def _review(iso3: str, session: int):
    return ReviewFactory(state=_state(iso3), session=Session.objects.get(number=session))


@pytest.fixture
def data():
    """A few recommendations in the generator's words, matching several queries of the mix."""
    kenya, iran, mexico = _review("KEN", 30), _review("IRN", 40), _review("MEX", 41)
    torture = Issue.objects.get(slug="torture-and-other-cid-treatment")
    instruments = Issue.objects.get(slug="international-instruments")
    recs = [
        RecommendationFactory(
            review=kenya, text="Investigate all allegations of torture and ill-treatment by law enforcement officials",
            response=R.ACCEPTED, action_category=5, recommending_states=[_state("FRA"), _state("USA")],
            issues=[torture],
        ),
        RecommendationFactory(
            review=kenya, text="Consider abolishing the death penalty", response=R.NOTED, action_category=3,
            recommending_states=[_state("CHE")], issues=[Issue.objects.get(slug="death-penalty")],
        ),
        RecommendationFactory(
            review=iran, text="Ratify the Convention on the Rights of Persons with Disabilities and its Optional "
            "Protocol", response=R.ACCEPTED, action_category=5, recommending_states=[_state("DEU")],
            issues=[instruments],
        ),
        RecommendationFactory(
            review=mexico, text="Protect journalists and media workers from harassment and violence",
            response=R.ACCEPTED, action_category=4, recommending_states=[_state("NOR")],
            issues=[Issue.objects.get(slug="freedom-of-the-press")],
        ),
    ]  # fmt: skip
    AssessmentFactory(recommendation=recs[0], status=Assessment.Status.PARTIALLY_IMPLEMENTED)
    implementation_status_refresh()
    return recs


def _by_label(results) -> dict[str, object]:
    return {measured.label: measured for measured in results}


def test_every_query_of_the_mix_answers_200_with_its_result_count(client, data):
    results = bench.run_mix(client, bench.search_urls(), runs=1)

    assert len(results) >= 24
    assert [m.url for m in results if not m.ok] == []
    assert [m.url for m in results if m.runs[-1].count is None] == []
    counts = {label: measured.runs[-1].count for label, measured in _by_label(results).items()}
    assert counts["torture, accepted, Africa"] == 1
    assert counts["ratify convention, issue, Iran"] == 1
    assert counts['"death penalty", cycle 3, noted'] == 1
    assert counts["multi: journalists, 3 states, WEOG made"] == 1
    assert counts["none: blockchain, accepted, cycle 3"] == 0


def test_every_query_counts_its_sql_statements_and_times_each_run(client, data):
    [measured] = bench.run_mix(client, [("torture", "/recommendations/?q=torture&response=accepted")], runs=2)

    assert len(measured.runs) == 2
    assert all(run.queries > 0 and run.ms > 0 and run.sql_ms >= 0 for run in measured.runs)
    assert bench.slowest_statement(measured)["sql"]


def test_htmx_partial_also_shows_the_result_count(client, data):
    [measured] = bench.run_mix(client, [("torture", "/recommendations/?q=torture&sur_region=Africa")], htmx=True)

    assert measured.ok
    assert measured.runs[0].count == 1


def test_a_wrong_query_shows_up_as_not_200_in_the_report(client, data):
    results = bench.run_mix(client, [("missing", "/recommendations/no-such-page/")], runs=1)
    out = io.StringIO()

    assert bench.report_distribution(results, recommendations=100_000, out=out) is False
    assert "NOT 200: missing" in out.getvalue()


def test_distribution_reports_percentiles_and_the_target_of_the_size():
    runs = [bench.Run(200, float(ms), 1, 0.0, 0) for ms in range(101)]  # 0 to 100 ms: exact percentiles
    out = io.StringIO()

    assert bench.report_distribution([bench.Measured("x", "/x", runs)], recommendations=1_000_000, out=out)
    assert bench.percentile([10.0, 20.0], 95) == pytest.approx(19.5)  # interpolated between closest ranks
    text = out.getvalue()
    assert "all 101 measured requests (ms): median 50.0, p90 90.0, p95 95.0, p99 99.0, max 100.0" in text
    assert "median 50.0 ms: under the 150 ms target" in text
    assert "p95 95.0 ms: under the 300 ms target" in text
    out = io.StringIO()
    bench.report_distribution([bench.Measured("x", "/x", runs)], recommendations=100_000, out=out)
    assert out.getvalue().splitlines()[-1] == "  p95 95.0 ms: OVER the 60 ms target"


def test_result_count_reads_data_total_of_the_results_element_only():
    class Page(dict):
        status_code = 200
        content = b'<div data-total="7"></div><section class="x" id="results" data-total="1234">'

    page = Page({"Content-Type": "text/html"})
    assert bench.result_count(page) == 1234
    page.content = b'<section id="results">'
    assert bench.result_count(page) is None
