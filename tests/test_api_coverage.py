"""The API's coverage (issue 7): reviews, intergovernmental organisations and follow-up organisations; `ordering`,
`fields`/`omit`, keyset cursors (forwards, backwards, in each ordering); and every list endpoint's SQL queries,
bounded and the same for 5 rows as for 50."""

import base64
import datetime
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from followup.models import Assessment, Organisation
from recommendations.models import ImportRun, Recommendation
from reviews.models import IntergovernmentalOrganisation, Review, Session, State
from tests.factories import (
    AssessmentFactory,
    MembershipFactory,
    OrganisationFactory,
    RecommendationFactory,
    ReviewFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
API = "/api/v1/"


@pytest.fixture(autouse=True)
def _no_throttle_history():
    """The rate limits count in the cache: each test starts with none of another's requests."""
    cache.clear()


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


def _error_fields(response) -> dict:
    assert response.status_code == 400, response.content
    return response.json()["error"]["fields"]


# --- Reviews ----------------------------------------------------------------------------------------------------


@pytest.fixture
def reviews():
    france = ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=28), report_symbol="A/HRC/38/4",
                           adoption_date=datetime.date(2018, 6, 29))  # fmt: skip
    kenya = ReviewFactory(state=_state("KEN"), session=Session.objects.get(number=21))
    brazil = ReviewFactory(state=_state("BRA"), session=Session.objects.get(number=27))
    for response in ("accepted", "accepted", "noted", "pending"):
        RecommendationFactory(review=france, response=response)
    RecommendationFactory(review=france, kind=Recommendation.Kind.VOLUNTARY_PLEDGE, response="")  # not counted
    RecommendationFactory(review=kenya, response="noted")
    return {"FRA": france, "KEN": kenya, "BRA": brazil}


def test_review_shows_its_report_dates_and_recommendations_counted_by_response(client, reviews):
    body = client.get(f"{API}reviews/", {"state": "fra"}).json()
    assert body["count"] == 1
    [review] = body["results"]
    france = reviews["FRA"]
    assert review == {
        "id": france.pk,
        "url": f"http://testserver/api/v1/reviews/{france.pk}/",
        "state": {"url": "http://testserver/api/v1/states/FRA/", "iso3": "FRA", "short_name": "France"},
        "session": 28,
        "cycle": 3,
        "year": 2017,
        "report_symbol": "A/HRC/38/4",
        "adoption_date": "2018-06-29",
        "mid_term_date": "2020-12-28",
        "recommendations": {"total": 4, "accepted": 2, "noted": 1, "pending": 1},
        "recommendations_url": "http://testserver/api/v1/recommendations/?sur=FRA&session=28",
    }
    assert client.get(review["url"]).json() == review
    listed = client.get(review["recommendations_url"]).json()["results"]
    assert len(listed) == 4


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["KEN", "BRA", "FRA"]),  # by session: 21, 27, 28
        ({"session": "21"}, ["KEN"]),
        ({"cycle": "3"}, ["BRA", "FRA"]),
        ({"state": ["ken", "BRA"]}, ["KEN", "BRA"]),
        ({"regional_group": "weog"}, ["FRA"]),
        ({"ordering": "-session"}, ["FRA", "BRA", "KEN"]),
        ({"ordering": "state"}, ["BRA", "FRA", "KEN"]),
    ],
)
def test_reviews_filter_and_order(client, reviews, params, expected):
    results = client.get(f"{API}reviews/", params).json()["results"]
    assert [review["state"]["iso3"] for review in results] == expected


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"state": "XYZ"}, "state", "No state with code 'XYZ'."),
        ({"session": "999"}, "session", "No session number '999'."),
        ({"cycle": "9"}, "cycle", "No cycle '9'."),
        ({"regional_group": "Atlantis"}, "regional_group", "No regional group 'ATLANTIS'."),
        ({"ordering": "report"}, "ordering", "Unknown ordering “report”: use one of session, -session, state, id."),
        ({"page_size": "101"}, "page_size", "A page holds 1 to 100 reviews, not “101”."),
    ],
)
def test_reviews_bad_parameters_are_a_400_naming_the_value(client, reviews, params, field, message):
    assert _error_fields(client.get(f"{API}reviews/", params))[field] == [message]


def test_reviews_field_selection_skips_the_counts(client, reviews, django_assert_num_queries):
    with django_assert_num_queries(2):  # the count and the page, without the recommendations' counts
        response = client.get(f"{API}reviews/", {"fields": "id,session", "page_size": 5})
    assert response.json()["results"][0] == {"id": reviews["KEN"].pk, "session": 21}
    body = client.get(f"{API}reviews/", {"omit": "state,recommendations_url,url", "state": "KEN"}).json()
    assert body["results"][0]["recommendations"]["noted"] == 1
    assert {"state", "url", "recommendations_url"}.isdisjoint(body["results"][0])


# --- Intergovernmental organisations and follow-up organisations -----------------------------------------------


def test_intergovernmental_organisations_list_their_member_states(client):
    union = IntergovernmentalOrganisation.objects.create(acronym="UPRTEST", name="Test union")
    union.states.add(_state("FRA"), _state("BRA"))
    body = client.get(f"{API}intergovernmental-organisations/uprtest/").json()
    assert body["url"] == "http://testserver/api/v1/intergovernmental-organisations/UPRTEST/"
    assert (body["acronym"], body["name"]) == ("UPRTEST", "Test union")
    assert [state["iso3"] for state in body["states"]] == ["BRA", "FRA"]
    listed = client.get(f"{API}intergovernmental-organisations/", {"ordering": "-acronym", "page_size": 100}).json()
    acronyms = [row["acronym"] for row in listed["results"]]
    assert acronyms == sorted(IntergovernmentalOrganisation.objects.values_list("acronym", flat=True), reverse=True)
    # The recommendations' `org` filter takes the same acronyms.
    assert client.get(f"{API}recommendations/", {"org": "UPRTEST"}).status_code == 200


def test_organisations_show_public_details_never_members_or_emails(client, cast):
    cast.org_a.country, cast.org_a.website = _state("FRA"), "https://ligue.example.org"
    cast.org_a.save()
    body = client.get(f"{API}organisations/ligue-a/").json()
    assert body == {
        "url": "http://testserver/api/v1/organisations/ligue-a/",
        "slug": "ligue-a",
        "name": "Ligue des droits A",
        "kind": "cso",
        "country": {"url": "http://testserver/api/v1/states/FRA/", "iso3": "FRA", "short_name": "France"},
        "website": "https://ligue.example.org",
        "page": "http://testserver/organisations/ligue-a/",
        "assessments_url": "http://testserver/api/v1/assessments/?organisation=ligue-a",
    }
    assert "member_a" not in json.dumps(body) and "@" not in json.dumps(body)
    signed_in = APIClient()
    signed_in.force_authenticate(cast.admin_a)
    assert signed_in.get(f"{API}organisations/ligue-a/").json() == body  # not even to its own admin


def test_organisations_filter_by_kind_and_country(client, cast):
    OrganisationFactory(name="Commission FR", slug="commission-fr", kind="nhri", country=_state("FRA"))
    OrganisationFactory(name="Commission KE", slug="commission-ke", kind="nhri", country=_state("KEN"))
    names = [row["slug"] for row in client.get(f"{API}organisations/", {"kind": "NHRI"}).json()["results"]]
    assert names == ["commission-fr", "commission-ke"]
    names = [row["slug"] for row in client.get(f"{API}organisations/", {"country": "ken"}).json()["results"]]
    assert names == ["commission-ke"]
    names = [row["slug"] for row in client.get(f"{API}organisations/", {"ordering": "-name"}).json()["results"]]
    assert names == ["observatoire-b", "ligue-a", "commission-ke", "commission-fr"]
    assert _error_fields(client.get(f"{API}organisations/", {"kind": "church"}))["kind"] == [
        "No kind of organisation 'church'."
    ]
    assert _error_fields(client.get(f"{API}organisations/", {"country": "XYZ"}))["country"] == [
        "No state with code 'XYZ'."
    ]


# --- Field selection ----------------------------------------------------------------------------------------------


@pytest.fixture
def recs():
    review = ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=28))
    return [RecommendationFactory(review=review, text=f"Text {n}") for n in range(3)]


def test_fields_keep_only_what_is_asked_and_skip_its_queries(client, recs, django_assert_num_queries):
    client.get(f"{API}recommendations/")  # the reference tables, read once per process
    with django_assert_num_queries(2):  # the reference tables' fingerprint, the page: no join, no prefetch
        body = client.get(f"{API}recommendations/", {"fields": "id,text,session"}).json()
    assert body["results"][0] == {"id": recs[0].pk, "text": "Text 0", "session": 28}  # in the report's order
    with django_assert_num_queries(3):  # and the issues' prefetch
        body = client.get(f"{API}recommendations/", {"fields": ["id", "issues"]}).json()
    assert body["results"][0]["issues"][0]["slug"] == "torture-and-other-cid-treatment"
    body = client.get(f"{API}recommendations/", {"omit": "text,recommending_states,issues"}).json()
    assert {"text", "recommending_states", "issues"}.isdisjoint(body["results"][0])
    assert body["results"][0]["state_under_review"]["iso3"] == "FRA"
    detail = client.get(f"{API}recommendations/{recs[0].pk}/", {"fields": "id,assessments"}).json()
    assert detail == {"id": recs[0].pk, "assessments": []}


@pytest.mark.parametrize(
    ("endpoint", "param", "value", "message"),
    [
        ("recommendations", "fields", "id,secret", "No field “secret” in this list: choose among id, url, page,"),
        ("recommendations", "omit", "nothing,none", "No field “nothing”, “none” in this list"),
        ("assessments", "fields", "author", "No field “author” in this list: choose among id, url,"),
        ("reviews", "fields", "state.iso3", "No field “state.iso3” in this list"),
        ("recommendations", "fields", ",".join(f"f{n}" for n in range(51)), "Name at most 50 fields (51 were given)."),
    ],
)
def test_unknown_fields_are_a_400_naming_them(client, recs, endpoint, param, value, message):
    [error] = _error_fields(client.get(f"{API}{endpoint}/", {param: value}))[param]
    assert error.startswith(message)


def test_assessment_fields_for_anonymous_and_members(cast, recs):
    AssessmentFactory(recommendation=recs[0], organisation=cast.org_a, author=cast.editor_a)
    body = APIClient().get(f"{API}assessments/", {"fields": "id,status,hidden"}).json()
    assert body["results"] == [{"id": Assessment.objects.get().pk, "status": "partially_implemented"}]
    member = APIClient()
    member.force_authenticate(cast.member_a)
    body = member.get(f"{API}assessments/", {"fields": "status,hidden"}).json()
    assert body["results"] == [{"status": "partially_implemented", "hidden": False}]


# --- Ordering and cursors -----------------------------------------------------------------------------------------


def _walk(client, url: str, params: dict) -> tuple[list[int], list[dict]]:
    """Every id, following `next` from the first page; and the pages."""
    pages = [client.get(url, params).json()]
    while pages[-1]["next"]:
        pages.append(client.get(pages[-1]["next"]).json())
    return [row["id"] for page in pages for row in page["results"]], pages


@pytest.fixture
def sessions_mix():
    """Eleven recommendations over three sessions, ids not in session order: the keyset must break ties by id."""
    made = []
    for number, state in ((30, "KEN"), (28, "FRA"), (30, "BRA"), (28, "FRA"), (35, "FRA"), (30, "KEN")):
        review = ReviewFactory(state=_state(state), session=Session.objects.get(number=number))
        made += [RecommendationFactory(review=review) for _ in range(2 if number == 30 else 1)]
    made.append(RecommendationFactory(review=made[0].review))
    return list(Recommendation.objects.filter(pk__in=[r.pk for r in made]))  # session_number: a trigger's


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        ("-id", lambda r: -r.pk),
        ("id", lambda r: r.pk),
        ("-session", lambda r: (-r.session_number, r.pk)),
        ("session", lambda r: (r.session_number, -r.pk)),
    ],
)
@pytest.mark.parametrize("page_size", [1, 2, 3, 50])
@pytest.mark.parametrize(
    "filters",
    [{}, {"sur": "FRA"}, {"issue": "torture-and-other-cid-treatment"}],
    ids=["all", "few reviews: sorted after filtering", "few links: sorted after filtering"],
)
def test_cursor_walks_every_row_once_in_each_ordering_forwards_and_back(
    client, sessions_mix, ordering, key, page_size, filters
):
    sur = filters.get("sur")
    expected = [r.pk for r in sorted(sessions_mix, key=key) if sur is None or r.review.state.iso3 == sur]
    params = {"ordering": ordering, "page_size": page_size, **filters}
    seen, pages = _walk(client, f"{API}recommendations/", params)
    assert seen == expected
    assert pages[0]["previous"] is None and pages[-1]["next"] is None
    # Back from the last page, by `previous`: the same pages, in reverse.
    back = [pages[-1]]
    while back[-1]["previous"]:
        back.append(client.get(back[-1]["previous"]).json())
    assert [row["id"] for page in reversed(back) for row in page["results"]] == expected
    assert [page["results"] for page in reversed(back)] == [page["results"] for page in pages]


def test_the_search_pages_sort_maps_to_an_ordering(client, sessions_mix):
    newest, _ = _walk(client, f"{API}recommendations/", {"sort": "date", "page_size": 4})
    assert newest == _walk(client, f"{API}recommendations/", {"ordering": "-session", "page_size": 4})[0]
    oldest, _ = _walk(client, f"{API}recommendations/", {"sort": "oldest", "page_size": 4})
    assert oldest == list(reversed(newest))
    error = _error_fields(client.get(f"{API}recommendations/", {"sort": "state"}))["sort"][0]
    assert error.startswith("The API does not sort by state under review: filter by it (sur=FRA)")


def test_a_text_search_with_an_ordering_pages_by_cursor(client, sessions_mix):
    ranked = client.get(f"{API}recommendations/", {"q": "protocol"}).json()
    assert ranked["count"] == len(sessions_mix)
    ordered = client.get(f"{API}recommendations/", {"q": "protocol", "ordering": "id", "page_size": 3}).json()
    assert (
        "count" not in ordered and [row["id"] for row in ordered["results"]] == sorted(r.pk for r in sessions_mix)[:3]
    )


def _cursor(token: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode().rstrip("=")


def test_a_cursor_belongs_to_its_ordering(client, sessions_mix):
    page = client.get(f"{API}recommendations/", {"ordering": "-session", "page_size": 2}).json()
    response = client.get(page["next"].replace("ordering=-session", "ordering=id"))
    [message] = _error_fields(response)["cursor"]
    assert message.startswith("This cursor pages in the ordering “-session”, not “id”")


@pytest.mark.parametrize(
    "token",
    [
        {"o": "-session", "k": [30]},  # one value for two fields
        {"o": "-session", "k": [30, "abc"]},  # an id that is no number
        {"o": "-session", "k": [None, 3]},
        {"o": "-session", "k": [30, 3], "r": 7},
        {"o": "-session", "k": {"a": 1}},
        ["-session", 30, 3],
    ],
)
def test_a_forged_cursor_is_a_404(client, sessions_mix, token):
    response = client.get(f"{API}recommendations/", {"ordering": "-session", "cursor": _cursor(token)})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_deep_cursor_made_by_hand_starts_where_it_says(client, sessions_mix):
    """A client (or the benchmark) may build a position: rows after (session 30, the smallest id in it)."""
    in_30 = sorted(r.pk for r in sessions_mix if r.session_number == 30)
    token = _cursor({"o": "-session", "k": [30, in_30[0]]})
    body = client.get(f"{API}recommendations/", {"ordering": "-session", "cursor": token}).json()
    expected = [*in_30[1:], *sorted(r.pk for r in sessions_mix if r.session_number == 28)]
    assert [row["id"] for row in body["results"]] == expected


@pytest.mark.parametrize("ordering", ["recommendation", "-recommendation", "id", "-id"])
def test_assessments_page_by_cursor_in_each_ordering(cast, recs, ordering):
    made = []
    for rec in recs:
        for organisation in (cast.org_a, cast.org_b):
            for phase in ("mid_term", "next_review"):
                made.append(AssessmentFactory(recommendation=rec, organisation=organisation, phase=phase))
    key = {
        "recommendation": lambda a: (a.recommendation_id, a.organisation_id, a.phase),
        "-recommendation": lambda a: (-a.recommendation_id, -a.organisation_id, a.phase != "next_review"),
        "id": lambda a: a.pk,
        "-id": lambda a: -a.pk,
    }[ordering]
    seen, _ = _walk(APIClient(), f"{API}assessments/", {"ordering": ordering, "page_size": 5})
    assert seen == [a.pk for a in sorted(made, key=key)]


def test_ordering_of_the_reference_lists(client):
    states = client.get(f"{API}states/", {"ordering": "-iso3", "page_size": 3}).json()
    assert [s["iso3"] for s in states["results"]] == list(
        State.objects.order_by("-iso3").values_list("iso3", flat=True)[:3]
    )
    assert states["count"] == State.objects.count()
    sessions = client.get(f"{API}sessions/", {"ordering": "-number", "page_size": 1}).json()["results"]
    assert sessions[0]["number"] == Session.objects.order_by("-number").first().number
    message = _error_fields(client.get(f"{API}cycles/", {"ordering": "start_date"}))["ordering"][0]
    assert message == "Unknown ordering “start_date”: use one of number, -number."


# --- Every list endpoint: bounded queries, the same for 5 rows as for 50 -------------------------------------------


def _made_50(cast) -> None:
    """At least 50 rows behind every list, each with the relations its serializer shows."""
    states = list(State.objects.order_by("iso3")[:50])
    reviews = [ReviewFactory(state=state, session=Session.objects.get(number=30)) for state in states]
    for n, review in enumerate(reviews):
        rec = RecommendationFactory(review=review, recommending_states=[states[n - 1], states[n - 2]])
        AssessmentFactory(recommendation=rec, organisation=cast.org_a, author=cast.editor_a)
        union = IntergovernmentalOrganisation.objects.create(acronym=f"IGO{n}", name=f"Union {n}")
        union.states.add(states[n], states[n - 1])
        OrganisationFactory(name=f"Observers {n}", slug=f"observers-{n}", country=states[n])
        ImportRun.objects.create(file_name=f"file-{n}.csv", user=cast.admin, counts={"rows": n})


# endpoint -> its bound; anonymous requests but for the staff's imports.
LISTS = {
    "regional-groups": 2,  # count and page (the groups' states counted in the page's query)
    "intergovernmental-organisations": 3,  # count, page, member states
    "cycles": 3,  # count, page, sessions
    "sessions": 3,  # count, page with cycles, reviews with states
    "states": 3,  # count, page with groups, organisations
    "reviews": 3,  # count, page with states and sessions, its recommendations counted (one grouped query)
    "issues": 2,
    "recommendations": 4,  # reference fingerprint, page with reviews, recommending states, issues
    "assessments": 1,  # the page with organisations
    "organisations": 2,  # count, page with countries
    "imports": 4,  # session and user (staff), count, page with users
}


@pytest.mark.parametrize("endpoint", LISTS)
def test_every_list_has_bounded_queries_whatever_its_page_size(cast, endpoint, django_assert_max_num_queries):
    _made_50(cast)
    client = APIClient()
    if endpoint == "imports":
        client.force_login(cast.admin)
    url = f"{API}{endpoint}/"
    sizes = (5, 50) if endpoint != "regional-groups" else (2, 5)  # there are five groups
    client.get(url)  # the reference tables, read once per process
    counts = []
    for size in reversed(sizes):
        params = {"page_size": size}
        if endpoint == "imports":  # no page_size there (pages of 50): fewer rows instead
            ImportRun.objects.exclude(pk__in=ImportRun.objects.order_by("pk")[:size].values("pk")).delete()
            params = {}
        with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(LISTS[endpoint]):
            response = client.get(url, params)
        assert response.status_code == 200, response.content
        counts.append(len(queries))
        body = response.json()
        assert len(body["results"]) == min(size, body.get("count", size))
    assert counts[0] == counts[1]


def test_statistics_and_member_lists_have_bounded_queries(cast, recs, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert APIClient().get(f"{API}statistics/").status_code in (200, 503)
    member = APIClient()
    member.force_login(cast.member_a)
    for rec in recs:
        AssessmentFactory(recommendation=rec, organisation=cast.org_a, visibility="organisation")
    member.get(f"{API}assessments/")
    # Session, user, roles, the page: the member's view costs no more than three queries more than the public's.
    with django_assert_max_num_queries(4):
        assert len(member.get(f"{API}assessments/", {"page_size": 2}).json()["results"]) == 2


def test_organisation_model_has_no_field_leaked_by_the_api():
    from followup.organisations.api import OrganisationSerializer

    leaked = {"members", "memberships", "invitations", "created_at"} & set(OrganisationSerializer().fields)
    assert not leaked
    assert {f.name for f in Organisation._meta.get_fields()} >= {"members", "invitations"}


def test_membership_does_not_change_what_organisations_show(cast):
    MembershipFactory(user=UserFactory(username="extra"), organisation=cast.org_b)
    body = APIClient().get(f"{API}organisations/observatoire-b/").json()
    assert set(body) == {"url", "slug", "name", "kind", "country", "website", "page", "assessments_url"}


def test_review_detail_of_an_unknown_id_is_a_404(client):
    assert client.get(f"{API}reviews/{Review.objects.count() + 10**6}/").status_code == 404


@pytest.mark.parametrize(
    ("params", "sorted_after"),
    [
        ({}, False),
        ({"sur": "FRA"}, True),  # a state's few reviews
        ({"session": "28"}, False),  # the session orders read a session from their index
        ({"session": "28", "ordering": "-id"}, True),
        ({"issue": "torture-and-other-cid-treatment"}, True),  # few links
        ({"response": "accepted"}, False),
    ],
)
def test_few_rows_are_sorted_after_filtering_not_looked_for_along_the_order(client, sessions_mix, params, sorted_after):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"{API}recommendations/", {**params, "fields": "id"}).status_code == 200
    [page] = [q["sql"] for q in queries.captured_queries if "ORDER BY" in q["sql"] and "LIMIT 51" in q["sql"]]
    assert (" + 0" in page.split("ORDER BY")[-1]) is sorted_after
