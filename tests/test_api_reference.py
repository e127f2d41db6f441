"""The read-only reference endpoints of /api/v1/: states, sessions, regional groups, intergovernmental
organisations, cycles and issues."""

import pytest
from django.urls import reverse

from recommendations.models import Issue
from reviews.models import Cycle, IntergovernmentalOrganisation, RegionalGroup, Session, State
from tests.factories import ReviewFactory, UserFactory

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "regional-groups": RegionalGroup,
    "intergovernmental-organisations": IntergovernmentalOrganisation,
    "cycles": Cycle,
    "sessions": Session,
    "states": State,
    "issues": Issue,
}


def test_api_root_lists_every_endpoint(client):
    response = client.get("/api/v1/")
    assert response.status_code == 200
    others = {"reviews", "recommendations", "assessments", "organisations", "statistics", "dumps"}
    assert set(response.json()) == {*ENDPOINTS, *others}
    assert response.json()["states"] == "http://testserver/api/v1/states/"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_list_pages_every_row_with_bounded_queries(client, django_assert_max_num_queries, endpoint):
    model = ENDPOINTS[endpoint]
    with django_assert_max_num_queries(4):
        response = client.get(f"/api/v1/{endpoint}/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == model.objects.count() > 0
    assert len(body["results"]) == min(body["count"], 50)
    detail = client.get(body["results"][0]["url"])
    assert detail.status_code == 200
    assert detail.json() == body["results"][0]


def test_state_detail_by_iso3_with_group_and_organisations(client, django_assert_max_num_queries):
    france = State.objects.get(iso3="FRA")
    france.organisations.add(IntergovernmentalOrganisation.objects.create(acronym="UPRTEST", name="Test union"))
    with django_assert_max_num_queries(2):
        response = client.get(reverse("api:state-detail", kwargs={"iso3": "FRA"}))
    assert response.status_code == 200
    body = response.json()
    assert body["url"] == "http://testserver/api/v1/states/FRA/"
    assert (body["iso3"], body["short_name"], body["status"]) == ("FRA", "France", "member")
    group = france.regional_group
    assert body["regional_group"] == {
        "url": f"http://testserver/api/v1/regional-groups/{group.code}/",
        "code": group.code,
        "name": group.name,
    }
    expected = [{"acronym": o.acronym, "name": o.name} for o in france.organisations.order_by("acronym")]
    assert body["organisations"] == expected
    assert {"acronym": "UPRTEST", "name": "Test union"} in body["organisations"]


def test_state_lookup_ignores_case(client):
    response = client.get("/api/v1/states/fra/")
    assert response.status_code == 200
    assert response.json()["iso3"] == "FRA"


def test_states_filter_by_regional_group_code(client):
    group = State.objects.get(iso3="FRA").regional_group
    response = client.get("/api/v1/states/", {"regional_group": group.code.lower()})
    iso3s = {state["iso3"] for state in response.json()["results"]}
    assert response.json()["count"] == group.states.count()
    assert "FRA" in iso3s and "BRA" not in iso3s


def test_session_detail_by_number_lists_states_reviewed(client, django_assert_max_num_queries):
    ReviewFactory(state=State.objects.get(iso3="FRA"), session=Session.objects.get(number=15))
    ReviewFactory(state=State.objects.get(iso3="BRA"), session=Session.objects.get(number=15))
    with django_assert_max_num_queries(3):
        response = client.get("/api/v1/sessions/15/")
    assert response.status_code == 200
    body = response.json()
    session = Session.objects.get(number=15)
    assert (body["number"], body["cycle"], body["year"]) == (15, session.cycle.number, session.year)
    assert body["states_reviewed"] == ["BRA", "FRA"]  # Brazil, France: by name


def test_sessions_filter_by_cycle(client):
    response = client.get("/api/v1/sessions/", {"cycle": 2})
    numbers = [session["number"] for session in response.json()["results"]]
    assert numbers == list(Session.objects.filter(cycle__number=2).order_by("number").values_list("number", flat=True))
    assert 15 in numbers and 5 not in numbers


def test_cycle_detail_lists_its_session_numbers(client):
    body = client.get("/api/v1/cycles/2/").json()
    assert body["number"] == 2
    assert body["sessions"] == sorted(Session.objects.filter(cycle__number=2).values_list("number", flat=True))


def test_regional_group_detail_counts_states(client):
    group = State.objects.get(iso3="FRA").regional_group
    body = client.get(f"/api/v1/regional-groups/{group.code.lower()}/").json()
    assert (body["code"], body["state_count"]) == (group.code, group.states.count())


def test_issue_detail_by_slug(client):
    issue = Issue.objects.get(name="Torture and other CID treatment")
    body = client.get(f"/api/v1/issues/{issue.slug}/").json()
    assert body == {"url": f"http://testserver/api/v1/issues/{issue.slug}/", "slug": issue.slug, "name": issue.name}


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/states/XYZ/",
        "/api/v1/states/FRANCE/",
        "/api/v1/sessions/999/",
        "/api/v1/sessions/abc/",
        "/api/v1/cycles/99/",
        "/api/v1/regional-groups/nowhere/",
        "/api/v1/issues/no-such-issue/",
        "/api/v1/intergovernmental-organisations/NOPE/",
        "/api/v1/reviews/999999999/",
        "/api/v1/reviews/abc/",
        "/api/v1/organisations/nobody/",
    ],
)
def test_unknown_object_is_a_json_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("as_user", [False, True], ids=["anonymous", "signed-in"])
def test_endpoints_are_read_only(client, endpoint, as_user):
    if as_user:
        client.force_login(UserFactory(username="writer"))
    model = ENDPOINTS[endpoint]
    before = model.objects.count()
    first = client.get(f"/api/v1/{endpoint}/").json()["results"][0]["url"]
    first_before = client.get(first).json()
    attempts = [
        client.post(
            f"/api/v1/{endpoint}/", {"name": "New", "code": "NEW", "number": 99}, content_type="application/json"
        ),
        client.put(first, {"name": "Renamed"}, content_type="application/json"),
        client.patch(first, {"name": "Renamed"}, content_type="application/json"),
        client.delete(first),
    ]
    expected = {405} if as_user else {401, 403}
    assert {response.status_code for response in attempts} <= expected
    assert model.objects.count() == before
    assert client.get(first).json() == first_before
