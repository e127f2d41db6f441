"""/api/v1/recommendations/: the search page's filters as JSON, cursor pages, ranked pages, bad input."""

import pytest

from followup.models import Assessment
from followup.status import implementation_status_refresh
from recommendations.models import Issue, Recommendation
from reviews.models import Session, State
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/recommendations/"


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


@pytest.fixture
def recs():
    france = ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=28), report_symbol="A/HRC/38/4")
    kenya = ReviewFactory(state=_state("KEN"), session=Session.objects.get(number=35))
    torture = Issue.objects.get(name="Torture and other CID treatment")
    ratify = RecommendationFactory(
        review=france, text="Ratify the Optional Protocol to the Convention against Torture", paragraph_ref="145.1",
        recommending_states=[_state("DEU"), _state("BRA")], issues=[torture],
    )  # fmt: skip
    noted = RecommendationFactory(
        review=kenya, text="Abolish the death penalty", response=Recommendation.Response.NOTED,
        recommending_states=[_state("FRA")], issues=[],
    )  # fmt: skip
    AssessmentFactory(recommendation=ratify, organisation=OrganisationFactory(name="Watchers"))
    AssessmentFactory(
        recommendation=ratify, organisation=OrganisationFactory(name="Drafty"), visibility=Assessment.Visibility.DRAFT
    )
    implementation_status_refresh()
    return {"ratify": ratify, "noted": noted}


def test_list_shares_the_search_filters_and_describes_each_recommendation(client, recs):
    body = client.get(URL, {"sur": "fra", "response": "accepted"}).json()
    [item] = body["results"]
    ratify = recs["ratify"]
    assert item["id"] == ratify.pk
    assert item["url"] == f"http://testserver/api/v1/recommendations/{ratify.pk}/"
    assert item["page"] == f"http://testserver/recommendations/{ratify.pk}/"
    assert item["state_under_review"]["iso3"] == "FRA"
    assert (item["session"], item["cycle"], item["year"], item["report_symbol"]) == (28, 3, 2017, "A/HRC/38/4")
    assert [s["iso3"] for s in item["recommending_states"]] == ["BRA", "DEU"]
    assert item["issues"] == [{"slug": "torture-and-other-cid-treatment", "name": "Torture and other CID treatment"}]
    assert item["implementation_status"] == "partially_implemented"
    assert client.get(URL, {"from": "FRA"}).json()["results"][0]["id"] == recs["noted"].pk


def test_detail_shows_public_assessments_only(client, recs):
    body = client.get(f"{URL}{recs['ratify'].pk}/").json()
    assert [a["organisation"] for a in body["assessments"]] == ["Watchers"]
    assert client.get(f"{URL}999999999/").status_code == 404
    pledge = RecommendationFactory(
        review=recs["ratify"].review, kind=Recommendation.Kind.VOLUNTARY_PLEDGE, response="", recommending_states=[]
    )
    assert client.get(f"{URL}{pledge.pk}/").json()["kind"] == "voluntary_pledge"
    assert pledge.pk not in [r["id"] for r in client.get(URL).json()["results"]]


@pytest.mark.parametrize("ordering", [None, "-id"])
def test_without_text_pages_follow_a_cursor_newest_first(client, recs, ordering):
    review = recs["ratify"].review
    made = [RecommendationFactory(review=review, text=f"Bulk {n}").pk for n in range(7)]
    page = client.get(URL, {"page_size": 4, **({"ordering": ordering} if ordering else {})}).json()
    assert "count" not in page
    seen, pages = [r["id"] for r in page["results"]], 1
    while page["next"]:
        page = client.get(page["next"]).json()
        seen += [r["id"] for r in page["results"]]
        pages += 1
    if ordering == "-id":  # newest entry first
        assert seen == sorted([*made, recs["ratify"].pk, recs["noted"].pk], reverse=True)
    else:  # newest session first (Kenya's 35, then France's 28), each in the report's order
        assert seen == [recs["noted"].pk, recs["ratify"].pk, *made]
    assert pages == 3


def test_text_search_ranks_in_numbered_pages_with_a_depth_limit(client, recs):
    body = client.get(URL, {"q": "ratified protocol"}).json()
    assert body["count"] == 1 and body["results"][0]["id"] == recs["ratify"].pk
    too_deep = client.get(URL, {"q": "protocol", "page": 201})
    assert too_deep.status_code == 400 and "200 pages deep" in too_deep.json()["error"]["fields"]["page"][0]


def test_list_queries_are_bounded(client, recs, django_assert_max_num_queries):
    review = recs["ratify"].review
    for n in range(30):
        RecommendationFactory(review=review, text=f"Bulk {n}")
    with django_assert_max_num_queries(12):
        assert client.get(URL, {"sur": "FRA", "issue": "torture-and-other-cid-treatment"}).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get(URL, {"q": "bulk"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"sur": "XYZ"}, "sur", "No state with code 'XYZ'."),
        ({"status": "done"}, "status", "No implementation status 'done'."),
        ({"q": "x" * 10_000}, "q", "A search may hold at most 300 characters (this one has 10000)."),
        ({"page_size": "1000000000"}, "page_size", "A page holds 1 to 100 recommendations"),
        ({"page_size": "-1"}, "page_size", "A page holds 1 to 100 recommendations"),
        ({"session": "1' OR '1'='1"}, "session", "No session number"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(client, recs, params, field, message):
    response = client.get(URL, params)
    assert response.status_code == 400
    assert message in " ".join(response.json()["error"]["fields"][field])


@pytest.mark.parametrize("cursor", ["garbage", "cD1hYmM=", "cj0xJnA9eA==", "%00"])
def test_malformed_cursor_is_a_404_not_a_crash(client, recs, cursor):
    response = client.get(URL, {"cursor": cursor})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_api_root_lists_recommendations(client):
    assert client.get("/api/v1/").json()["recommendations"] == "http://testserver/api/v1/recommendations/"


def test_a_session_filter_keeps_its_interleaved_rows_whatever_the_order(client):
    """The filter adds the ids' range of the sessions asked for (recommendations.filters.sessions_filter): rows of
    other sessions inside that range are still left out, and none of the sessions' own is lost."""
    s20 = ReviewFactory(state=State.objects.get(iso3="KEN"), session=Session.objects.get(number=20))
    s21 = ReviewFactory(state=State.objects.get(iso3="BRA"), session=Session.objects.get(number=21))
    first, between, last = (RecommendationFactory(review=review) for review in (s20, s21, s20))
    outside = RecommendationFactory(review=s21)
    for ordering in ("-id", "id", "-session", "session"):
        found = client.get("/api/v1/recommendations/", {"session": "20", "ordering": ordering}).json()["results"]
        assert sorted(r["id"] for r in found) == [first.pk, last.pk], ordering
        other = client.get("/api/v1/recommendations/", {"session": "21", "ordering": ordering}).json()["results"]
        assert sorted(r["id"] for r in other) == [between.pk, outside.pk], ordering
    assert client.get("/api/v1/recommendations/", {"session": "22"}).json()["results"] == []
