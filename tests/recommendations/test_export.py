"""Exports of the search's results: exactly the rows of the search, streamed, neutralised, with bounded queries."""

import csv
import io

import openpyxl
import pytest

from followup.status import implementation_status_refresh
from recommendations.exports import HEADER
from recommendations.models import Issue, Recommendation
from reviews.models import Session, State
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


@pytest.fixture
def recs():
    france = ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=28), report_symbol="A/HRC/38/4")
    kenya = ReviewFactory(state=_state("KEN"), session=Session.objects.get(number=35))
    torture = Issue.objects.get(name="Torture and other CID treatment")
    women = Issue.objects.get(name="Women's rights")
    ratify = RecommendationFactory(
        review=france, paragraph_ref="145.1", text="Ratify the Optional Protocol to the Convention against Torture",
        recommending_states=[_state("DEU"), _state("BRA")], issues=[torture, women],
    )  # fmt: skip
    formula = RecommendationFactory(
        review=france, text="=HYPERLINK(\"http://evil.example\")", response=Recommendation.Response.NOTED,
        recommending_states=[_state("SEN")], issues=[],
    )  # fmt: skip
    kenya_rec = RecommendationFactory(
        review=kenya, text="Abolish the death penalty", recommending_states=[_state("FRA")]
    )
    AssessmentFactory(recommendation=ratify, organisation=OrganisationFactory(name="Watchers"))
    implementation_status_refresh()
    return {"ratify": ratify, "formula": formula, "kenya": kenya_rec}


def _csv(client, **params) -> list[list[str]]:
    response = client.get("/recommendations/export.csv", params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="uprtrax-recommendations-' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


def test_csv_holds_exactly_the_search_results_in_the_page_order(client, recs):
    rows = _csv(client, sur="FRA")
    assert rows[0] == HEADER
    page = client.get("/recommendations/", {"sur": "FRA"}).context["page"]
    assert [int(row[0]) for row in rows[1:]] == [r.pk for r in page.recommendations]
    assert len(rows) - 1 == page.total == 2


def test_csv_row_has_every_column_a_researcher_expects(client, recs):
    [row] = [dict(zip(HEADER, r, strict=True)) for r in _csv(client, q="optional protocol")[1:]]
    ratify = recs["ratify"]
    assert row["id"] == str(ratify.pk)
    assert row["url"] == f"http://testserver/recommendations/{ratify.pk}/"
    assert (row["state_under_review_iso3"], row["state_under_review"]) == ("FRA", "France")
    assert row["state_under_review_group"] == _state("FRA").regional_group.name
    assert (row["session"], row["cycle"], row["year"]) == ("28", "3", "2017")
    assert (row["kind"], row["paragraph"], row["report_symbol"]) == ("recommendation", "145.1", "A/HRC/38/4")
    assert row["recommending_states_iso3"] == "DEU; BRA" or row["recommending_states_iso3"] == "BRA; DEU"
    assert set(row["recommending_states"].split("; ")) == {"Germany", "Brazil"}
    assert set(row["issues"].split("; ")) == {"Torture and other CID treatment", "Women's rights"}
    assert (row["response"], row["action_category"], row["action_category_label"]) == (
        "accepted",
        "5",
        "5 – Specific action",
    )
    assert row["implementation_status_mid_term"] == "Partially implemented"


def test_formula_looking_cells_are_neutralised_in_csv_and_xlsx(client, recs):
    [row] = _csv(client, response="noted")[1:]
    assert row[HEADER.index("text")] == '\'=HYPERLINK("http://evil.example")'
    response = client.get("/recommendations/export.xlsx", {"response": "noted"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.cell(row=2, column=HEADER.index("text") + 1).value == '\'=HYPERLINK("http://evil.example")'
    assert sheet.cell(row=2, column=HEADER.index("text") + 1).data_type == "s"


def test_xlsx_holds_the_same_rows_with_a_header(client, recs):
    response = client.get("/recommendations/export.xlsx", {"kind": "any"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert sorted(row[0] for row in rows[1:]) == sorted(r.pk for r in recs.values())


def test_bad_filters_export_nothing_and_say_why(client, recs):
    for url in ("/recommendations/export.csv", "/recommendations/export.xlsx"):
        response = client.get(url, {"sur": "XYZ", "page": "abc"})
        assert response.status_code == 400
        assert "No state with code 'XYZ'." in response.content.decode()


def test_export_queries_do_not_grow_with_rows(client, recs, django_assert_max_num_queries):
    review = recs["ratify"].review
    for n in range(60):
        RecommendationFactory(review=review, text=f"Bulk recommendation {n}")
    with django_assert_max_num_queries(12):  # reference (fingerprint + tables), rows, states and issues per batch
        rows = _csv(client, q="bulk")
    assert len(rows) == 61


def test_xlsx_drops_control_characters_a_workbook_cannot_hold(client, recs):
    recs["kenya"].text = "Abolish the death penalty\x0bin law\x1f"  # a vertical tab, as Word pastes a line break
    recs["kenya"].save()
    response = client.get("/recommendations/export.xlsx", {"sur": "KEN"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.cell(row=2, column=HEADER.index("text") + 1).value == "Abolish the death penaltyin law"
