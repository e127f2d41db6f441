"""The statistics pages (followup/views.py): /statistics/ read from the snapshot only, its filters and their 400s,
the CSV file of every table, the methodology page, and a state's own figures on its page."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup import views
from followup.models import Assessment, Organisation, StatisticsSnapshot
from followup.snapshots import statistics_recompute
from recommendations.models import ImportRun, Issue, Recommendation
from reviews.models import Session, State
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory
from tests.test_pages import _elements, _text, _text_of

pytestmark = pytest.mark.django_db

R = Recommendation.Response
S = Assessment.Status
FORMULA_ISSUE = '=HYPERLINK("http://evil.example")<b>x</b>'


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


@pytest.fixture
def world():
    """France (session 15, cycle 2) and Kenya (session 4, cycle 1) under review; four recommendations and a pledge.

    - ratify: to France, accepted, made jointly by Brazil (GRULAC) and Germany (WEOG); partially implemented (a CSO),
      and a draft "fully implemented" that does not count.
    - shelters: to France, noted, by Brazil; not implemented.
    - death penalty: to Kenya, accepted, by Germany and France (both WEOG); only "no information": not assessed.
    - odd: to Kenya, noted, by Sweden, about an issue whose name a spreadsheet would run; a CSO says fully
      implemented, the state not implemented: a tie, so "not implemented" by majority, "fully" without the state.
    """
    france = ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=15))
    kenya = ReviewFactory(state=_state("KEN"), session=Session.objects.get(number=4))
    torture = Issue.objects.get(name="Torture and other CID treatment")
    odd_issue = Issue.objects.create(name=FORMULA_ISSUE, slug="formula-issue")
    cso = OrganisationFactory(name="Watchers of Rights")
    government = OrganisationFactory(name="Government of Kenya", kind=Organisation.Kind.STATE, country=_state("KEN"))
    ratify = RecommendationFactory(review=france, response=R.ACCEPTED, issues=[torture],
                                   recommending_states=[_state("BRA"), _state("DEU")])  # fmt: skip
    shelters = RecommendationFactory(review=france, response=R.NOTED, recommending_states=[_state("BRA")],
                                     action_category=Recommendation.ActionCategory.CONSIDERING,
                                     issues=[Issue.objects.get(name="Women's rights")])  # fmt: skip
    death = RecommendationFactory(review=kenya, response=R.ACCEPTED, recommending_states=[_state("DEU"), _state("FRA")],
                                  issues=[torture])  # fmt: skip
    odd = RecommendationFactory(review=kenya, response=R.NOTED, recommending_states=[_state("SWE")],
                                action_category=None, issues=[odd_issue])  # fmt: skip
    RecommendationFactory(review=france, kind=Recommendation.Kind.VOLUNTARY_PLEDGE, response=R.NOT_APPLICABLE,
                          recommending_states=[], issues=[])  # fmt: skip
    AssessmentFactory(recommendation=ratify, organisation=cso, author=None, status=S.PARTIALLY_IMPLEMENTED)
    AssessmentFactory(recommendation=ratify, organisation=OrganisationFactory(name="Draft Org"), author=None,
                      status=S.FULLY_IMPLEMENTED, visibility=Assessment.Visibility.DRAFT)  # fmt: skip
    AssessmentFactory(recommendation=shelters, organisation=cso, author=None, status=S.NOT_IMPLEMENTED)
    AssessmentFactory(recommendation=death, organisation=cso, author=None, status=S.NO_INFORMATION)
    AssessmentFactory(recommendation=odd, organisation=cso, author=None, status=S.FULLY_IMPLEMENTED)
    AssessmentFactory(recommendation=odd, organisation=government, author=None, status=S.NOT_IMPLEMENTED)
    return {"ratify": ratify, "shelters": shelters, "death": death, "odd": odd}


@pytest.fixture
def computed(world):
    statistics_recompute()
    return world


def _row(response, anchor: str) -> str:
    [(_tag, _attrs, text)] = _elements(response, "tr", id=anchor)
    return text


# --- The page ---------------------------------------------------------------------------------------------------


def test_page_states_the_headline_figures_the_way_beyond_promises_does(client, computed):
    response = client.get("/statistics/")

    assert response.status_code == 200
    headline = _text_of(response, data_headline=None)
    assert headline.startswith(
        "By mid-term, 33.3% of the assessed recommendations triggered action: 100.0% of accepted and 0.0% of noted "
        "ones. 0.0% were fully implemented. 3 of the 4 recommendations were assessed (coverage 75.0%)."
    )
    assert _text_of(response, data_stat="triggered") == "33.3%"
    assert _text_of(response, data_stat="fully") == "0.0%"
    assert _text_of(response, data_stat="coverage") == "75.0%"
    assert _text_of(response, data_stat="recommendations") == "4"  # the pledge is not one
    assert "1 of 3 assessed" in _text(response)


def test_page_says_when_and_from_what_the_figures_were_computed(client, computed):
    response = client.get("/statistics/")
    snapshot = StatisticsSnapshot.objects.get(phase="mid_term", rule="majority", cycle=0)

    note = _text_of(response, data_computed=None)
    assert "Consolidation rule: majority (a tie goes to the lower status)." in note
    assert f"{snapshot.computed_at:%-d %B %Y, %H:%M} UTC" in note
    # The assessments that decided a status: ratify's, shelters' and odd's two (not the draft, not "no information").
    assert "from 4 recommendations and 4 assessments" in note
    assert f'datetime="{snapshot.computed_at.isoformat()}"' in response.content.decode()


def test_every_breakdown_has_a_table_with_labels_people_read(client, computed):
    response = client.get("/statistics/")

    assert _row(response, "response-accepted").startswith("Accepted 2 1 0 1 0 100.0% 0.0% 50.0%")
    assert _row(response, "response-noted").startswith("Noted 2 2 2 0 0 0.0% 0.0% 100.0%")
    assert _row(response, "action_category-5").startswith("5 – Specific action 2 1 ")
    assert _row(response, "action_category-3").startswith("3 – Considering action 1 1 ")
    assert _row(response, "action_category-none").startswith("Not categorised 1 1 ")
    assert _row(response, "issue-torture-and-other-cid-treatment").startswith("Torture and other CID treatment 2 1 ")
    assert _row(response, "sur_region-WEOG").startswith("Western European and other States Group 2 2 ")
    assert _row(response, "sur_state-KEN").startswith("Kenya 2 1 1 0 0 0.0% 0.0% 50.0%")
    assert _row(response, "recommending_state-DEU").startswith("Germany 2 1 0 1 0 100.0%")
    # Joint recommendations: once per recommending state, once per distinct regional group (death penalty was
    # made by Germany and France, both WEOG: once for WEOG).
    assert _row(response, "recommending_region-WEOG").startswith("Western European and other States Group 3 2 ")
    assert _row(response, "recommending_region-GRULAC").startswith("Latin American and Caribbean Group 2 2 ")
    assert _row(response, "cycle-1").startswith("Cycle 1 2 1 ")
    assert _row(response, "session-15").startswith("Session 15 2 2 ")
    # A group with nothing assessed shows a dash, not 0% or an error.
    assert _row(response, "recommending_state-FRA").startswith("France 1 0 0 0 0 – – 0.0%")


def test_rows_link_to_their_recommendations_in_the_search(client, computed):
    body = client.get("/statistics/?cycle=2").content.decode()

    assert 'href="/recommendations/?sur=FRA&amp;cycle=2"' in body
    assert 'href="/recommendations/?from_region=GRULAC&amp;cycle=2"' in body
    assert 'href="/recommendations/?issue=womens-rights&amp;cycle=2"' in body
    assert 'href="/recommendations/?response=accepted&amp;cycle=2"' in body


def test_charts_are_drawn_from_the_tables_and_states_are_tables_only(client, computed):
    response = client.get("/statistics/")
    charts = _elements(response, "figure", data_stats_chart=None)

    assert {attrs["data-stats-chart"] for _tag, attrs, _text in charts} == {
        "response-table", "action_category-table", "issue-table", "sur_region-table", "recommending_region-table",
        "cycle-table", "session-table",
    }  # fmt: skip
    [(_tag, canvas, _text)] = _elements(response, "canvas", aria_label=None, role="img")[:1]
    assert canvas["aria-label"] == (
        "Bar chart of the share of assessed recommendations that triggered action, by response: Accepted 100.0%, "
        "Noted 0.0%."
    )
    [(_tag, row, _text)] = _elements(response, "tr", id="response-accepted")
    assert (row["data-label"], row["data-value"], row["data-triggered"], row["data-assessed"]) == (
        "Accepted", "100.0", "1", "1"
    )  # fmt: skip
    [(_tag, row, _text)] = _elements(response, "tr", id="sur_state-FRA")
    assert "data-value" not in row  # no chart of states: 195 bars are not readable
    body = response.content.decode()
    assert '<script src="/static/vendor/chartjs/chart-4.6.1.umd.min.js" defer></script>' in body
    assert '<script src="/static/js/statistics.js" defer></script>' in body


def test_filters_choose_the_snapshot_of_a_cycle_phase_and_rule(client, computed):
    cycle_1 = client.get("/statistics/?cycle=1")
    assert _text_of(cycle_1, data_stat="recommendations") == "2"
    assert _text_of(cycle_1, data_headline=None).startswith("In cycle 1, by mid-term, 0.0% of the assessed")
    assert '<option value="1" selected>Cycle 1</option>' in cycle_1.content.decode()

    # Without the state's own assessment, "odd" is fully implemented.
    non_state = client.get("/statistics/?rule=non_state")
    assert _text_of(non_state, data_stat="triggered") == "66.7%"
    assert _text_of(non_state, data_stat="fully") == "33.3%"
    assert '<option value="non_state" selected>' in non_state.content.decode()

    next_review = client.get("/statistics/?phase=next_review&cycle=all")
    assert next_review.status_code == 200
    assert _text_of(next_review, data_headline=None).startswith(
        "By the next review, no recommendation had been assessed: none of the 4"
    )
    assert _text_of(next_review, data_stat="triggered") == "–"


def test_a_cycle_without_recommendations_shows_zeros_not_errors(client, computed):
    response = client.get("/statistics/?cycle=3")

    assert response.status_code == 200
    assert _text_of(response, data_headline=None) == "No recommendation is counted in cycle 3 yet."
    assert _text_of(response, data_stat="recommendations") == "0"
    assert _text_of(response, data_stat="coverage") == "–"
    assert "No recommendation in this selection." in _text(response)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("rule=zzz", "Unknown consolidation rule “zzz”: use one of majority, lowest, highest, latest, non_state."),
        ("phase=later", "Unknown phase “later”: use one of mid_term (Mid-term), next_review (Next review)."),
        ("cycle=abc", "A cycle is a number such as 3, or “all”, not “abc”."),
        ("cycle=-1", "A cycle is a number such as 3, or “all”, not “-1”."),
        ("cycle=%EF%BC%92", "A cycle is a number such as 3, or “all”, not “２”."),  # a full-width digit
        ("cycle=9", "There is no cycle 9: the cycles are 1, 2, 3, 4."),
        ("cycle=99999999999999999999", "There is no cycle 99999999999999999999: the cycles are 1, 2, 3, 4."),
        ("cycle=" + "x" * 200, "A cycle is a number such as 3, or “all”, not “" + "x" * 29 + "…”."),
    ],
)
def test_bad_filters_are_named_on_the_page_with_status_400(client, computed, query, message):
    response = client.get(f"/statistics/?{query}")

    assert response.status_code == 400
    assert message in _text(response)
    assert "These figures do not exist" in _text(response)
    assert not _elements(response, data_headline=None)
    assert _elements(response, "select", name="rule")  # the form is there to choose again


def test_several_bad_filters_are_all_named(client, computed):
    response = client.get("/statistics/?rule=<b>x</b>&phase=&cycle=x")

    assert response.status_code == 400
    assert [text for _tag, _attrs, text in _elements(response, "li") if text.startswith(("Unknown", "A cycle"))] == [
        "Unknown consolidation rule “<b>x</b>”: use one of majority, lowest, highest, latest, non_state.",
        "A cycle is a number such as 3, or “all”, not “x”.",
    ]
    body = response.content.decode()
    assert "&lt;b&gt;x&lt;/b&gt;" in body  # escaped, never markup
    assert '<a href="#stats-rule">' in body and '<a href="#stats-cycle">' in body  # each error leads to its field
    assert 'id="stats-rule"' in body and 'id="stats-cycle"' in body


def test_no_snapshot_yet_is_said_plainly(client, world):
    response = client.get("/statistics/")

    assert response.status_code == 200
    notice = _text_of(response, data_notice="not-computed")
    assert "The statistics have not been computed yet." in notice
    assert "a minute after data is imported or an assessment changes, and every night" in notice
    assert "python manage.py compute_statistics --all" in notice
    assert "chartjs" not in response.content.decode()


def test_a_running_import_is_said_not_to_be_counted_yet(client, computed):
    assert not _elements(client.get("/statistics/"), data_notice="import-running")
    ImportRun.objects.create(status=ImportRun.Status.RUNNING, dry_run=False, file_name="session-41.csv")
    ImportRun.objects.create(status=ImportRun.Status.RUNNING, dry_run=True, file_name="preview.csv")

    notice = _text_of(client.get("/statistics/"), data_notice="import-running")
    assert "An import of data is running: what it brings is not counted in these figures yet." in notice
    assert "session-41.csv" not in notice  # a staff matter


def test_page_reads_only_the_snapshot_never_recommendations_or_assessments(client, computed,
                                                                          django_assert_max_num_queries):  # fmt: skip
    views._tables.clear()  # the tables are rendered, not taken from those kept
    for url in ("/statistics/", "/statistics/?cycle=2&rule=latest&phase=next_review"):
        with CaptureQueriesContext(connection) as captured, django_assert_max_num_queries(7):
            assert client.get(url).status_code == 200
        statements = " ".join(query["sql"] for query in captured.captured_queries)
        for table in (Recommendation._meta.db_table, Assessment._meta.db_table):
            assert not re.search(rf'\b"?{table}"?\b', statements), table


def test_rendered_tables_are_kept_until_the_next_computation(client, computed, django_assert_max_num_queries):
    views._tables.clear()
    first = client.get("/statistics/").content
    with django_assert_max_num_queries(3):  # cycles, snapshot, running imports: labels and tables already rendered
        again = client.get("/statistics/").content
    assert again == first

    AssessmentFactory(recommendation=computed["death"], organisation=OrganisationFactory(name="New NHRI"),
                      author=None, status=S.FULLY_IMPLEMENTED)  # fmt: skip
    statistics_recompute()
    assert _row(client.get("/statistics/"), "sur_state-KEN").startswith("Kenya 2 2 1 0 1 50.0%")


def test_page_links_to_the_methodology_with_its_filters(client, computed):
    body = client.get("/statistics/?cycle=2&rule=latest").content.decode()
    assert 'href="/statistics/methodology/?cycle=2&amp;phase=mid_term&amp;rule=latest"' in body


# --- CSV --------------------------------------------------------------------------------------------------------


def _csv(response) -> list[list[str]]:
    content = response.content.decode("utf-8")
    assert content.startswith("\ufeff")
    return list(csv.reader(io.StringIO(content[1:])))


def test_every_table_downloads_as_csv_with_its_filters_in_the_name(client, computed):
    response = client.get("/statistics/response.csv?cycle=2&phase=mid_term&rule=latest")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="uprtrax-statistics-response-mid-term-latest-cycle-2.csv"'
    )
    header, *rows = _csv(response)
    assert header == [
        "breakdown", "group", "label", "recommendations", "assessed", "not_implemented", "partially_implemented",
        "fully_implemented", "triggered_action_pct", "fully_implemented_pct", "coverage_pct", "phase", "rule", "cycle",
        "computed_at",
    ]  # fmt: skip
    computed_at = StatisticsSnapshot.objects.filter(cycle=2).first().computed_at.isoformat()
    what = ["mid_term", "latest", "2", computed_at]
    assert rows == [
        ["response", "accepted", "Accepted", "1", "1", "0", "1", "0", "100.0", "0.0", "100.0", *what],
        ["response", "noted", "Noted", "1", "1", "1", "0", "0", "0.0", "0.0", "100.0", *what],
    ]


def test_csv_of_every_table_and_the_overall_figures(client, computed):
    for table in ("overall", "response", "action_category", "issue", "sur_region", "sur_state", "recommending_state",
                  "recommending_region", "cycle", "session"):  # fmt: skip
        response = client.get(f"/statistics/{table}.csv")
        assert response.status_code == 200, table
        assert (
            f"uprtrax-statistics-{table.replace('_', '-')}-mid-term-majority-all-cycles.csv"
            in (response["Content-Disposition"])
        )
    [_header, overall] = _csv(client.get("/statistics/overall.csv"))
    assert overall[:11] == ["overall", "", "All recommendations", "4", "3", "2", "1", "0", "33.3", "0.0", "75.0"]
    states = _csv(client.get("/statistics/recommending_state.csv"))
    assert ["recommending_state", "FRA", "France", "1", "0", "0", "0", "0", "", "", "0.0"] in [r[:11] for r in states]


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(client, computed):
    rows = _csv(client.get("/statistics/issue.csv"))

    [odd] = [row for row in rows if "HYPERLINK" in row[1]]
    assert odd[1] == "'" + FORMULA_ISSUE
    assert odd[2] == "'" + FORMULA_ISSUE
    # and on the page it is text, escaped
    body = client.get("/statistics/").content.decode()
    assert "=HYPERLINK(&quot;http://evil.example&quot;)&lt;b&gt;x&lt;/b&gt;" in body
    assert "<b>x</b>" not in body


def test_csv_of_an_unknown_table_is_a_404_naming_the_tables(client, computed):
    response = client.get("/statistics/nope.csv")

    assert response.status_code == 404
    assert "No statistics table “nope”: use one of overall, response, action_category, issue" in _text(response)


def test_csv_with_bad_filters_is_a_400_and_without_snapshot_a_404(client, world):
    bad = client.get("/statistics/issue.csv?rule=zzz")
    assert bad.status_code == 400
    assert bad["Content-Type"] == "text/plain; charset=utf-8"
    assert bad.content.decode().startswith("Nothing exported: Unknown consolidation rule “zzz”")

    missing = client.get("/statistics/issue.csv")
    assert missing.status_code == 404
    assert "have not been computed yet" in _text(missing)


def test_a_cycle_without_recommendations_exports_a_header_and_no_group(client, computed):
    header, *rows = _csv(client.get("/statistics/issue.csv?cycle=3"))
    assert header[0] == "breakdown" and rows == []
    [_header, overall] = _csv(client.get("/statistics/overall.csv?cycle=3"))
    assert overall[3:11] == ["0", "0", "0", "0", "0", "", "", ""]


# --- Methodology ------------------------------------------------------------------------------------------------


def test_methodology_states_every_definition(client):
    text = _text(client.get("/statistics/methodology/"))

    for words in (
        "Voluntary pledges are left out",
        "Only public assessments count",
        "a recommendation with only such assessments is not assessed",
        "not implemented , partially implemented , fully implemented",
        "A recommendation triggered action when its status is partially or fully implemented.",
        "Partially plus fully implemented, over the assessed recommendations , not over all of them.",
        "Assessed over all recommendations of the group.",
        "once under each recommending state",
        "once under each distinct regional group",
        "60 seconds after data is imported or an assessment changes",
        "every night",
        "python manage.py compute_statistics --all",
    ):
        assert words in text, words
    for label in StatisticsSnapshot.Rule.labels:
        assert label in text


def test_methodology_marks_the_rule_and_phase_in_force_for_the_page_the_user_came_from(client):
    default = client.get("/statistics/methodology/")
    [(_tag, attrs, text)] = _elements(default, data_rule_in_force=None)
    assert attrs["data-rule-in-force"] == "majority"
    assert text.startswith("Majority (a tie goes to the lower status) (the default) in force")

    chosen = client.get("/statistics/methodology/?rule=non_state&phase=next_review&cycle=2")
    assert chosen.status_code == 200
    [(_tag, attrs, text)] = _elements(chosen, data_rule_in_force=None)
    assert attrs["data-rule-in-force"] == "non_state"
    assert "Majority of non-state stakeholders in force" in text
    assert _text_of(chosen, data_in_force="rule") == "majority of non-state stakeholders"
    assert _text_of(chosen, data_in_force="phase") == "next review"
    assert _text_of(chosen, data_in_force="cycle") == "Cycle 2"
    assert 'href="/statistics/?cycle=2&amp;phase=next_review&amp;rule=non_state"' in chosen.content.decode()


def test_methodology_with_a_bad_filter_says_so_with_status_400(client):
    response = client.get("/statistics/methodology/?rule=zzz")
    assert response.status_code == 400
    assert "Unknown consolidation rule “zzz”" in _text(response)


def test_statistics_page_links_to_the_methodology_even_before_any_computation(client):
    assert 'href="/statistics/methodology/?cycle=all&amp;phase=mid_term&amp;rule=majority"' in (
        client.get("/statistics/").content.decode()
    )


# --- A state's page ---------------------------------------------------------------------------------------------


def test_state_page_shows_its_own_figures_as_state_under_review_and_as_recommending_state(client, computed):
    response = client.get("/states/FRA/")

    received = _text_of(response, data_state_stats="sur_state")
    assert received.startswith("As state under review Recommendations 2 Assessed 2 (coverage 100.0%) Triggered action "
                                "50.0% of the assessed (1 partially, 0 fully implemented)")  # fmt: skip
    made = _text_of(response, data_state_stats="recommending_state")
    assert made.startswith("As recommending state Recommendations 1 Assessed 0 (coverage 0.0%) Triggered action –")
    body = response.content.decode()
    assert 'href="/statistics/#sur_state-FRA"' in body
    assert 'href="/statistics/#recommending_state-FRA"' in body
    assert "mid-term, rule: majority (a tie goes to the lower status)" in _text(response)


def test_state_page_of_a_state_without_recommendations_shows_zeros(client, computed):
    made = _text_of(client.get("/states/CHN/"), data_state_stats="recommending_state")
    assert made.startswith("As recommending state Recommendations 0 Assessed 0 (coverage –)")


def test_state_page_says_when_nothing_is_computed_yet(client, world):
    assert "The implementation statistics have not been computed yet" in _text(client.get("/states/FRA/"))


def test_state_page_reads_its_figures_in_one_small_query(client, computed):
    with CaptureQueriesContext(connection) as captured:
        client.get("/states/DEU/")
    snapshot_reads = [q["sql"] for q in captured.captured_queries if StatisticsSnapshot._meta.db_table in q["sql"]]
    assert len(snapshot_reads) == 1
    assert '"figures" #>' in snapshot_reads[0]  # the state's two groups, read inside PostgreSQL
    assert ', "followup_statisticssnapshot"."figures"' not in snapshot_reads[0]  # not the whole document
    made = _text_of(client.get("/states/DEU/"), data_state_stats="recommending_state")
    assert made.startswith(
        "As recommending state Recommendations 2 Assessed 1 (coverage 50.0%) Triggered action 100.0%"
    )
