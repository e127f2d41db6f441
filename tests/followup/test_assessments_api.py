"""The assessments API, /api/v1/assessments/ (followup/api.py): reading what one may see, filters, and writing
through the services, by session and by token, against the whole cast."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from followup.models import Assessment
from followup.rules import BULK_MAX
from followup.services.tokens import token_create
from reviews.models import Session, State
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/assessments/"
BULK = "/api/v1/assessments/bulk/"
DAY = "2015-06-01"  # after FRA's review at session 15 (2013), before the next (none recorded: five years later)
WRITERS_OF_A = {"member_a", "editor_a", "admin_a", "admin"}
CAST = ["anonymous", "member_a", "editor_a", "admin_a", "member_b", "moderator", "admin"]
# Each of the cast, by session and by token (nobody has no token).
CAST_VIA = [(who, via) for via in ("session", "token") for who in CAST if (who, via) != ("anonymous", "token")]


@pytest.fixture
def rec():
    return RecommendationFactory(review=ReviewFactory())


def _client(cast, who: str, *, via: str = "session", scope: str = "write_assessments") -> APIClient:
    client = APIClient()
    user = getattr(cast, who)
    if user is None:
        return client
    if via == "session":
        client.force_login(user)
    else:
        _, key = token_create(user=user, name="Test script", scope=scope)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def _body(organisation, recommendation, /, **values):
    return {
        "organisation": organisation.slug,
        "recommendation": recommendation.pk,
        "status": "partially_implemented",
        "comment": "A bill was tabled.",
        "evidence_urls": ["https://example.org/bill"],
        "assessed_on": DAY,
        "visibility": "public",
        **values,
    }


def _assessment(cast, rec, **values):
    values = {"organisation": cast.org_a, "author": cast.editor_a, "assessed_on": datetime.date(2015, 6, 1), **values}
    return AssessmentFactory(recommendation=rec, **values)


# --- Reading -----------------------------------------------------------------------------------------------------


@pytest.fixture
def seen(cast, rec):
    """Assessments of every visibility and state, each of its own recommendation (one per org and phase)."""
    made = {}
    for name, organisation, author, values in (
        ("public_a", cast.org_a, cast.editor_a, {}),
        ("public_b", cast.org_b, cast.member_b, {}),
        ("org_a", cast.org_a, cast.editor_a, {"visibility": "organisation"}),
        ("org_b", cast.org_b, cast.member_b, {"visibility": "organisation"}),
        ("draft_member_a", cast.org_a, cast.member_a, {"visibility": "draft"}),
        ("draft_editor_a", cast.org_a, cast.editor_a, {"visibility": "draft"}),
        ("hidden_a", cast.org_a, cast.editor_a, {"hidden_at": timezone.now(), "hidden_reason": "Insults"}),
        ("deleted_b", cast.org_b, cast.member_b, {"deleted_at": timezone.now()}),
    ):
        made[name] = AssessmentFactory(
            recommendation=RecommendationFactory(review=rec.review), organisation=organisation, author=author, **values
        )
    return made


EXPECTED = {
    "anonymous": {"public_a", "public_b"},
    "member_a": {"public_a", "public_b", "org_a", "draft_member_a", "hidden_a"},
    "editor_a": {"public_a", "public_b", "org_a", "draft_editor_a", "hidden_a"},
    "admin_a": {"public_a", "public_b", "org_a", "hidden_a"},
    "member_b": {"public_a", "public_b", "org_b", "deleted_b"},
    "moderator": {"public_a", "public_b", "hidden_a", "deleted_b"},
    "admin": {"public_a", "public_b", "org_a", "org_b", "draft_member_a", "draft_editor_a", "hidden_a", "deleted_b"},
}


@pytest.mark.parametrize("who", CAST)
def test_the_list_holds_what_each_of_the_cast_may_see(cast, seen, who):
    response = _client(cast, who).get(URL)
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {seen[name].pk for name in EXPECTED[who]}
    for name, assessment in seen.items():
        detail = _client(cast, who).get(f"{URL}{assessment.pk}/")
        assert detail.status_code == (200 if name in EXPECTED[who] else 404), (who, name)


def test_a_row_describes_the_assessment(cast, seen):
    public = seen["public_a"]
    row = APIClient().get(f"{URL}{public.pk}/").json()
    assert row == {
        "id": public.pk,
        "url": f"http://testserver{URL}{public.pk}/",
        "recommendation": public.recommendation_id,
        "organisation": {"slug": "ligue-a", "name": "Ligue des droits A", "kind": "cso"},
        "phase": "mid_term",
        "status": "partially_implemented",
        "comment": public.comment,
        "evidence_urls": [],
        "assessed_on": "2015-06-01",
        "visibility": "public",
        "version": 1,
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
    }


def test_hidden_and_deleted_flags_only_for_those_who_may_see_such(cast, seen):
    for who in ("member_a", "moderator", "admin"):
        row = _client(cast, who).get(f"{URL}{seen['hidden_a'].pk}/").json()
        assert (row["hidden"], row["hidden_reason"], row["deleted"]) == (True, "Insults", False)
    row = _client(cast, "member_b").get(f"{URL}{seen['deleted_b'].pk}/").json()
    assert (row["deleted"], row["hidden"]) == (True, False)
    for who in ("anonymous", "member_b"):
        row = _client(cast, who).get(f"{URL}{seen['public_a'].pk}/").json()
        assert "hidden" not in row and "deleted" not in row and "hidden_reason" not in row


@pytest.fixture
def spread(cast):
    """Assessments across states, sessions, cycles, organisations, kinds, statuses, phases and dates."""
    kenya = ReviewFactory(state=State.objects.get(iso3="KEN"), session=Session.objects.get(number=21))
    france = ReviewFactory()  # FRA, session 15 (cycle 2)
    nhri = OrganisationFactory(name="Commission nationale", slug="cndh", kind="nhri")
    rows = {
        "fra_a": _assessment(cast, RecommendationFactory(review=france), status="not_implemented"),
        "fra_b": _assessment(cast, RecommendationFactory(review=france), organisation=cast.org_b, author=None),
        "ken_a": _assessment(
            cast, RecommendationFactory(review=kenya), assessed_on=datetime.date(2017, 3, 1), status="fully_implemented"
        ),
        "ken_nhri": _assessment(
            cast,
            RecommendationFactory(review=kenya),
            organisation=nhri,
            author=None,
            phase="next_review",
            assessed_on=datetime.date(2020, 1, 15),
        ),
        "ken_org_a": _assessment(cast, RecommendationFactory(review=kenya), visibility="organisation"),
    }
    return rows


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"organisation": "ligue-a"}, {"fra_a", "ken_a"}),
        ({"organisation": ["ligue-a", "cndh"]}, {"fra_a", "ken_a", "ken_nhri"}),
        ({"organisation": "LIGUE-A"}, {"fra_a", "ken_a"}),
        ({"organisation_kind": "nhri"}, {"ken_nhri"}),
        ({"status": ["fully_implemented", "not_implemented"]}, {"fra_a", "ken_a"}),
        ({"phase": "next_review"}, {"ken_nhri"}),
        ({"visibility": "public"}, {"fra_a", "fra_b", "ken_a", "ken_nhri"}),
        ({"sur": "ken"}, {"ken_a", "ken_nhri"}),
        ({"sur": ["FRA", "KEN"]}, {"fra_a", "fra_b", "ken_a", "ken_nhri"}),
        ({"session": "15"}, {"fra_a", "fra_b"}),
        ({"cycle": "2"}, {"fra_a", "fra_b", "ken_a", "ken_nhri"}),
        ({"cycle": "3"}, set()),
        ({"assessed_after": "2017-03-01"}, {"ken_a", "ken_nhri"}),
        ({"assessed_before": "2017-03-01", "assessed_after": "2016-01-01"}, {"ken_a"}),
        ({"sur": "KEN", "status": "partially_implemented"}, {"ken_nhri"}),
    ],
)
def test_filters(cast, spread, params, expected):
    response = APIClient().get(URL, params)
    assert response.status_code == 200, response.json()
    assert {row["id"] for row in response.json()["results"]} == {spread[name].pk for name in expected}


def test_filter_by_recommendation_and_mine(cast, spread):
    client = _client(cast, "member_a")
    rows = client.get(URL, {"mine": "1"}).json()["results"]
    assert {row["id"] for row in rows} == {spread[n].pk for n in ("fra_a", "ken_a", "ken_org_a")}
    rows = client.get(URL, {"recommendation": spread["fra_b"].recommendation_id}).json()["results"]
    assert [row["id"] for row in rows] == [spread["fra_b"].pk]
    assert APIClient().get(URL, {"mine": "1"}).json()["results"] == []  # anonymous has no organisation
    assert _client(cast, "moderator").get(URL, {"mine": "true"}).json()["results"] == []


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"organisation": "nobody"}, "organisation", "No organisation 'nobody'"),
        ({"organisation_kind": "church"}, "organisation_kind", "No kind of organisation 'church'"),
        ({"status": "done"}, "status", "No status 'done'"),
        ({"phase": "later"}, "phase", "No phase 'later'"),
        ({"visibility": "secret"}, "visibility", "No visibility 'secret'"),
        ({"sur": "XXX"}, "sur", "No state with code 'XXX'"),
        ({"session": "999"}, "session", "No session number '999'"),
        ({"cycle": "9"}, "cycle", "No cycle '9'"),
        ({"recommendation": "abc"}, "recommendation", "“abc” is not an id"),
        ({"assessed_after": "01/06/2015"}, "assessed_after", "“01/06/2015” is not a date"),
        ({"mine": "maybe"}, "mine", "“maybe” is not a yes or no"),
        ({"page_size": "1000"}, "page_size", "1 to 100 assessments, not “1000”"),
    ],
)
def test_bad_filters_are_a_400_naming_the_value(spread, params, field, message):
    response = APIClient().get(URL, params)
    assert response.status_code == 400
    assert message in " ".join(response.json()["error"]["fields"][field])


@pytest.mark.parametrize("via", ["session", "token"])
def test_the_list_queries_are_bounded(cast, rec, via, django_assert_max_num_queries):
    kenya = ReviewFactory(state=State.objects.get(iso3="KEN"), session=Session.objects.get(number=21))
    for n in range(30):
        review = rec.review if n % 2 else kenya
        _assessment(
            cast,
            RecommendationFactory(review=review),
            organisation=cast.org_a if n % 3 else cast.org_b,
            visibility="organisation" if n % 5 == 0 else "public",
        )
    client = _client(cast, "member_a", via=via, scope="read")
    params = {
        "page_size": 100,
        "sur": ["FRA", "KEN"],
        "organisation": ["ligue-a", "observatoire-b"],
        "status": "partially_implemented",
        "cycle": "2",
        "mine": "0",
    }
    client.get(URL, params)  # once to note the token's first use and read the reference tables (kept per process)
    # Session and user (or the token), the user's roles, the organisations named, the reference tables' fingerprint,
    # the ids' range of the cycle's sessions and the page (a cursor: no count): the same for 30 rows or a million.
    with django_assert_max_num_queries(7):
        response = client.get(URL, params)
    assert response.status_code == 200 and len(response.json()["results"]) == 28  # not B's own two
    with django_assert_max_num_queries(1):
        assert len(APIClient().get(URL).json()["results"]) == 24


def test_pages_by_cursor_as_the_other_large_lists(cast, rec):
    made = [_assessment(cast, RecommendationFactory(review=rec.review)).pk for _ in range(3)]
    body = APIClient().get(URL, {"page_size": 2}).json()
    assert "count" not in body and len(body["results"]) == 2 and body["previous"] is None
    assert "page_size=2" in body["next"]
    last = APIClient().get(body["next"]).json()
    assert [row["id"] for row in body["results"] + last["results"]] == made  # by recommendation: made in turn
    assert last["next"] is None and last["previous"]


# --- Creating ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "via"), CAST_VIA)
def test_create_against_the_cast(cast, rec, who, via):
    response = _client(cast, who, via=via).post(URL, _body(cast.org_a, rec), format="json")
    if who in WRITERS_OF_A:
        assert response.status_code == 201, response.json()
        created = Assessment.objects.get()
        assert response["Location"] == f"http://testserver{URL}{created.pk}/"
        assert type(response.headers["Location"]) is str  # a str subclass breaks wsgiref's servers
        assert response.json()["id"] == created.pk and response.json()["version"] == 1
        assert (created.author, created.status, created.evidence_urls) == (
            getattr(cast, who),
            "partially_implemented",
            ["https://example.org/bill"],
        )
        assert created.history.get().history_user == getattr(cast, who)
    else:  # nobody signed in: 401 (with the scheme to sign in with); signed in, not of A: 403
        assert response.status_code == (401 if who == "anonymous" else 403), response.json()
        assert response.json()["error"]["code"] == ("not_authenticated" if who == "anonymous" else "permission_denied")
        assert not Assessment.objects.exists()


def test_phase_by_the_date_when_not_given(cast, rec):
    client = _client(cast, "member_a")
    body = _body(cast.org_a, rec, assessed_on="2019-03-01")
    body.pop("phase", None)
    assert client.post(URL, body, format="json").json()["phase"] == "next_review"
    assert client.post(URL, _body(cast.org_a, rec), format="json").json()["phase"] == "mid_term"


def test_a_read_only_token_writes_nothing(cast, rec):
    assessment = _assessment(cast, rec, visibility="organisation")
    client = _client(cast, "editor_a", via="token", scope="read")
    assert client.get(f"{URL}{assessment.pk}/").status_code == 200
    other = RecommendationFactory(review=rec.review)
    calls = [
        client.post(URL, _body(cast.org_a, other), format="json"),
        client.patch(f"{URL}{assessment.pk}/", {"status": "fully_implemented", "version": 1}, format="json"),
        client.put(f"{URL}{assessment.pk}/", {"status": "fully_implemented", "version": 1}, format="json"),
        client.delete(f"{URL}{assessment.pk}/?version=1"),
        client.post(
            BULK, {"organisation": "ligue-a", "recommendations": [other.pk], "status": "no_information"}, format="json"
        ),
    ]
    for response in calls:
        assert response.status_code == 403
        assert "may only read" in response.json()["error"]["message"]
    assert Assessment.objects.count() == 1
    assessment.refresh_from_db()
    assert (assessment.version, assessment.status, assessment.deleted_at) == (1, "partially_implemented", None)


def test_a_session_write_needs_the_csrf_token(cast, rec):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.member_a)
    response = client.post(URL, _body(cast.org_a, rec), format="json")
    assert response.status_code == 403 and "CSRF" in response.json()["error"]["message"]
    assert not Assessment.objects.exists()


def test_a_token_write_needs_no_csrf_token(cast, rec):
    _, key = token_create(user=cast.member_a, name="Script", scope="write_assessments")
    client = APIClient(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.post(URL, _body(cast.org_a, rec), format="json").status_code == 201


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"status": "done"}, "status", "“done” is not a status"),
        ({"status": ""}, "status", "“” is not a status"),
        ({"visibility": "secret"}, "visibility", "“secret” is not a visibility"),
        ({"phase": "someday"}, "phase", "“someday” is not a phase"),
        ({"phase": "mid_term", "assessed_on": "2019-06-01"}, "phase", "choose the phase “Next review”"),
        ({"assessed_on": "2012-06-01"}, "assessed_on", "before the review"),
        ({"assessed_on": "2999-01-01"}, "assessed_on", "in the future"),
        ({"assessed_on": "1/6/2015"}, "assessed_on", "“1/6/2015” is not a date"),
        ({"evidence_urls": ["ftp://example.org/file"]}, "evidence_urls", "“ftp://example.org/file” is not a web"),
        ({"evidence_urls": ["javascript:alert(1)"]}, "evidence_urls", "“javascript:alert(1)” is not a web"),
        ({"evidence_urls": [f"https://example.org/{n}" for n in range(11)]}, "evidence_urls", "11 links"),
        ({"evidence_urls": {"a": 1}}, "evidence_urls", "list of web addresses"),
        ({"comment": "x" * 100_000}, "comment", "100,000 characters, over the limit of 10,000"),
        ({"recommendation": 99_999_999}, "recommendation", "No recommendation has the id 99999999"),
        ({"recommendation": "abc"}, "recommendation", "“abc” is not an id"),
        ({"organisation": "nobody"}, "organisation", "No organisation 'nobody'"),
    ],
)
def test_bad_input_is_a_400_naming_the_value_and_writes_nothing(cast, rec, values, field, message):
    response = _client(cast, "member_a").post(URL, _body(cast.org_a, rec, **values), format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()["error"]["fields"][field]), response.json()
    assert not Assessment.objects.exists()


def test_a_missing_field_is_named(cast, rec):
    body = _body(cast.org_a, rec)
    del body["status"], body["organisation"]
    response = _client(cast, "member_a").post(URL, body, format="json")
    assert response.status_code == 400 and {"status", "organisation"} <= set(response.json()["error"]["fields"])


def test_creating_what_exists_is_a_conflict_showing_it(cast, rec):
    existing = _assessment(cast, rec, status="not_implemented", visibility="organisation")
    response = _client(cast, "member_a").post(URL, _body(cast.org_a, rec), format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["error"]["code"] == "conflict" and f"id {existing.pk}, version 1" in body["error"]["message"]
    assert (body["error"]["current"]["id"], body["error"]["current"]["status"]) == (existing.pk, "not_implemented")
    assert Assessment.objects.get().status == "not_implemented"


def test_a_conflict_never_shows_a_colleagues_draft(cast, rec):
    _assessment(cast, rec, visibility="draft", comment="Private notes")
    response = _client(cast, "member_a").post(URL, _body(cast.org_a, rec), format="json")
    assert response.status_code == 409
    assert response.json()["error"]["current"] is None and "Private notes" not in response.content.decode()


# --- Updating ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "via"), CAST_VIA)
def test_update_against_the_cast(cast, rec, who, via):
    assessment = _assessment(cast, rec)
    response = _client(cast, who, via=via).patch(
        f"{URL}{assessment.pk}/", {"status": "fully_implemented", "version": 1}, format="json"
    )
    assessment.refresh_from_db()
    if who in WRITERS_OF_A:
        assert response.status_code == 200, response.json()
        assert (response.json()["version"], response.json()["status"]) == (2, "fully_implemented")
        assert (assessment.version, assessment.status, assessment.last_editor) == (
            2,
            "fully_implemented",
            getattr(cast, who),
        )
    else:
        assert response.status_code == (401 if who == "anonymous" else 403), response.json()
        assert (assessment.version, assessment.status) == (1, "partially_implemented")


def test_patch_keeps_what_is_not_sent_and_put_replaces_it(cast, rec):
    assessment = _assessment(cast, rec, comment="Kept", evidence_urls=["https://example.org/a"], visibility="public")
    client = _client(cast, "member_a")
    body = client.patch(f"{URL}{assessment.pk}/", {"status": "not_implemented", "version": 1}, format="json").json()
    assert (body["comment"], body["evidence_urls"], body["visibility"]) == ("Kept", ["https://example.org/a"], "public")
    body = client.put(
        f"{URL}{assessment.pk}/", {"status": "fully_implemented", "version": 2, "assessed_on": DAY}, format="json"
    ).json()
    assert (body["status"], body["comment"], body["evidence_urls"], body["visibility"], body["version"]) == (
        "fully_implemented",
        "",
        [],
        "draft",
        3,
    )
    assert [h.history_change_reason for h in Assessment.objects.get().history.order_by("history_id")] == [
        None,
        "edited",
        "edited",
    ]


def test_what_was_read_can_be_sent_back(cast, rec):
    assessment = _assessment(cast, rec)
    client = _client(cast, "member_a")
    read = client.get(f"{URL}{assessment.pk}/").json()
    response = client.put(f"{URL}{assessment.pk}/", {**read, "status": "no_information"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2


def test_a_stale_version_is_a_409_with_the_other_persons_version(cast, rec):
    assessment = _assessment(cast, rec)
    _client(cast, "editor_a").patch(f"{URL}{assessment.pk}/", {"comment": "The editor's", "version": 1}, format="json")
    response = _client(cast, "member_a").patch(
        f"{URL}{assessment.pk}/", {"comment": "Mine", "version": 1}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert "editor_a changed this assessment" in body["error"]["message"]
    assert (body["error"]["current"]["version"], body["error"]["current"]["comment"]) == (2, "The editor's")
    assert Assessment.objects.get().comment == "The editor's"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"status": "fully_implemented"}, "version", "Give the version you read"),
        ({"version": "two"}, "version", "“two” is not a version"),
        ({"version": 1, "phase": "next_review"}, "phase", "record a new assessment"),
        ({"version": 1, "organisation": "observatoire-b"}, "organisation", "cannot take it over"),
        ({"version": 1, "recommendation": 1}, "recommendation", "record a new one"),
        ({"version": 1, "status": "finished"}, "status", "“finished” is not a status"),
        ({"version": 1, "comment": "x" * 10_001}, "comment", "10,001 characters"),
    ],
)
def test_a_bad_update_is_a_400_and_changes_nothing(cast, rec, values, field, message):
    assessment = _assessment(cast, rec)
    response = _client(cast, "member_a").patch(f"{URL}{assessment.pk}/", values, format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()["error"]["fields"][field]), response.json()
    assessment.refresh_from_db()
    assert (assessment.version, assessment.status, assessment.phase) == (1, "partially_implemented", "mid_term")


def test_an_unknown_or_unseen_assessment_is_a_404(cast, rec):
    draft = _assessment(cast, rec, visibility="draft", author=cast.editor_a)
    client = _client(cast, "member_a")
    assert (
        client.patch(f"{URL}{draft.pk}/", {"status": "no_information", "version": 1}, format="json").status_code == 404
    )
    assert client.delete(f"{URL}{draft.pk}/?version=1").status_code == 404
    assert (
        client.patch(f"{URL}987654321/", {"status": "no_information", "version": 1}, format="json").status_code == 404
    )
    assert client.get(f"{URL}987654321/").status_code == 404
    draft.refresh_from_db()
    assert (draft.version, draft.deleted_at) == (1, None)


# --- Deleting ----------------------------------------------------------------------------------------------------

DELETERS = {"editor_a", "admin_a", "admin"}  # member_a is not its author


@pytest.mark.parametrize(("who", "via"), CAST_VIA)
def test_delete_against_the_cast(cast, rec, who, via):
    assessment = _assessment(cast, rec, author=cast.editor_a)
    response = _client(cast, who, via=via).delete(f"{URL}{assessment.pk}/?version=1")
    assessment.refresh_from_db()
    if who in DELETERS:
        assert response.status_code == 204
        assert (assessment.deleted_by, assessment.version) == (getattr(cast, who), 2)
        assert APIClient().get(f"{URL}{assessment.pk}/").status_code == 404  # gone from public view
    else:
        assert response.status_code == (401 if who == "anonymous" else 403)
        assert (assessment.deleted_at, assessment.version) == (None, 1)


def test_the_author_deletes_their_own(cast, rec):
    assessment = _assessment(cast, rec, author=cast.member_a)
    assert _client(cast, "member_a").delete(f"{URL}{assessment.pk}/?version=1").status_code == 204


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [("", 400, "Give the version"), ("?version=x", 400, "“x”"), ("?version=7", 409, "changed this assessment")],
)
def test_delete_needs_the_current_version(cast, rec, query, status, message):
    assessment = _assessment(cast, rec)
    response = _client(cast, "editor_a").delete(f"{URL}{assessment.pk}/{query}")
    assert response.status_code == status
    assert message in str(response.json())
    assessment.refresh_from_db()
    assert assessment.deleted_at is None


# --- Bulk --------------------------------------------------------------------------------------------------------


@pytest.fixture
def recs(rec):
    return [rec, *(RecommendationFactory(review=rec.review) for _ in range(4))]


def _bulk(organisation, recs, /, **values):
    return {
        "organisation": organisation.slug,
        "recommendations": [r.pk for r in recs],
        "status": "not_implemented",
        "comment": "No progress.",
        "assessed_on": DAY,
        "visibility": "organisation",
        **values,
    }


@pytest.mark.parametrize(("who", "via"), CAST_VIA)
def test_bulk_against_the_cast(cast, recs, who, via):
    response = _client(cast, who, via=via).post(BULK, _bulk(cast.org_a, recs), format="json")
    if who in WRITERS_OF_A:
        assert response.status_code == 200, response.json()
        assert response.json() == {
            "created": 5,
            "updated": 0,
            "kept": 0,
            "drafts_of_others": [],
            "recommendations": sorted(r.pk for r in recs),
        }
        assert Assessment.objects.filter(organisation=cast.org_a, status="not_implemented").count() == 5
    else:
        assert response.status_code == (401 if who == "anonymous" else 403)
        assert not Assessment.objects.exists()


def test_bulk_keeps_or_replaces_and_leaves_a_colleagues_draft_alone(cast, recs):
    _assessment(cast, recs[0], status="fully_implemented")
    _assessment(cast, recs[1], visibility="draft", author=cast.editor_a)
    client = _client(cast, "member_a")
    body = client.post(BULK, _bulk(cast.org_a, recs), format="json").json()
    assert (body["created"], body["updated"], body["kept"], body["drafts_of_others"]) == (3, 0, 1, [recs[1].pk])
    body = client.post(BULK, _bulk(cast.org_a, recs, replace=True, status="no_information"), format="json").json()
    assert (body["created"], body["updated"], body["kept"]) == (0, 4, 0)
    assert Assessment.objects.get(recommendation=recs[0]).status == "no_information"
    assert Assessment.objects.get(recommendation=recs[1]).status == "partially_implemented"


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"recommendations": list(range(1, BULK_MAX + 2))}, "recommendations", "1,001 recommendations"),
        ({"recommendations": [99_999_998, 99_999_999]}, "recommendations", "No recommendation has the id 99999998"),
        ({"recommendations": []}, "recommendations", "at least one"),
        ({"recommendations": "12"}, "recommendations", "list of recommendation ids"),
        ({"recommendations": [1, "x"]}, "recommendations", "“x” is not an id"),
        ({"status": "done"}, "status", "“done” is not a status"),
        ({"assessed_on": "2019-06-01", "phase": "mid_term"}, "phase", "Next review"),
        ({"evidence_urls": ["not a link"]}, "evidence_urls", "“not a link” is not a web address"),
        ({"comment": "x" * 100_000}, "comment", "100,000 characters"),
        ({"organisation": "nobody"}, "organisation", "No organisation 'nobody'"),
        ({"replace": "maybe"}, "replace", "“maybe” is not true or false"),
        ({"seen_at": "yesterday"}, "seen_at", "“yesterday” is not a date and time"),
    ],
)
def test_bulk_bad_input_is_a_400_and_writes_nothing(cast, recs, values, field, message):
    response = _client(cast, "member_a").post(BULK, _bulk(cast.org_a, recs, **values), format="json")
    assert response.status_code == 400
    assert message in " ".join(response.json()["error"]["fields"][field]), response.json()
    assert not Assessment.objects.exists()


def test_bulk_with_one_unknown_id_writes_none_of_the_others(cast, recs):
    body = _bulk(cast.org_a, recs)
    body["recommendations"].append(99_999_999)
    response = _client(cast, "member_a").post(BULK, body, format="json")
    assert response.status_code == 400 and "99999999" in str(response.json()["error"]["fields"])
    assert not Assessment.objects.exists()


def test_bulk_for_another_organisation_is_refused(cast, recs):
    response = _client(cast, "member_a", via="token").post(BULK, _bulk(cast.org_b, recs), format="json")
    assert response.status_code == 403 and "not a member of Observatoire B" in response.json()["error"]["message"]
    assert not Assessment.objects.exists()


def test_bulk_refuses_all_when_one_changed_since_it_was_read(cast, recs):
    seen_at = timezone.now()
    changed = _assessment(cast, recs[2], last_editor=cast.editor_a)
    Assessment.objects.filter(pk=changed.pk).update(updated_at=seen_at + datetime.timedelta(seconds=5))
    body = _bulk(cast.org_a, recs, replace=True, seen_at=seen_at.isoformat())
    response = _client(cast, "member_a").post(BULK, body, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["conflicts"] == [recs[2].pk]
    assert "Nothing was saved" in response.json()["error"]["message"]
    assert Assessment.objects.count() == 1 and Assessment.objects.get().version == 1


# --- Tokens ------------------------------------------------------------------------------------------------------


def test_a_forged_or_revoked_token_writes_nothing(cast, rec):
    for header in ("Bearer upx_" + "B" * 43, "Bearer forged", "Token "):
        client = APIClient(HTTP_AUTHORIZATION=header)
        response = client.post(URL, _body(cast.org_a, rec), format="json")
        assert response.status_code == 401 and response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not Assessment.objects.exists()


def test_a_token_reads_as_its_owner(cast, rec):
    draft = _assessment(cast, rec, visibility="draft", author=cast.member_a)
    assert _client(cast, "member_a", via="token", scope="read").get(f"{URL}{draft.pk}/").status_code == 200
    assert _client(cast, "editor_a", via="token", scope="read").get(f"{URL}{draft.pk}/").status_code == 404
    assert APIClient().get(f"{URL}{draft.pk}/").status_code == 404


@pytest.mark.parametrize("bounded_days", [4000, 3])
def test_ranges_of_dates_find_exactly_the_assessments_of_those_days_in_every_order(cast, monkeypatch, bounded_days):
    """The filter adds the recommendation ids' range of the assessments made in the range (followup.filters): it
    must lose none, whatever the range (open, empty, reversed, wider than DATES_BOUNDED_DAYS, beyond all data)
    and whatever the order of the list, and find nothing where nothing was assessed."""
    from followup import filters

    monkeypatch.setattr(filters, "DATES_BOUNDED_DAYS", bounded_days)  # 3: most ranges below are not bounded
    review = ReviewFactory()
    days = [datetime.date(2015, 1, 1) + datetime.timedelta(days=n) for n in (0, 0, 3, 5, 5, 9, 30, 400)]
    # Recommendation ids and dates in different orders: the n-th recommendation gets the (5n mod 8)-th day.
    rows = [
        _assessment(cast, RecommendationFactory(review=review), assessed_on=days[(n * 5) % len(days)])
        for n in range(len(days))
    ]
    ranges = [("2015-01-01", "2015-01-01"), ("2015-01-02", "2015-01-04"), ("2015-01-04", "2015-01-05"),
              ("2015-01-06", "2015-01-09"), ("2015-01-01", "2016-12-31"), ("2015-01-06", None),
              (None, "2015-01-04"), ("2015-01-10", "2015-01-30"), ("2015-01-11", "2015-01-20"),
              ("2015-02-01", "2015-01-01"), ("2030-01-01", None), (None, "2000-01-01")]  # fmt: skip
    client, found_any = APIClient(), 0
    for after, before in ranges:
        expected = {a.pk for a in rows if (not after or str(a.assessed_on) >= after)
                    and (not before or str(a.assessed_on) <= before)}  # fmt: skip
        params = {**({"assessed_after": after} if after else {}), **({"assessed_before": before} if before else {})}
        for ordering in ("recommendation", "-recommendation", "id", "-id"):
            found = client.get(URL, {**params, "ordering": ordering, "page_size": 100}).json()["results"]
            assert {row["id"] for row in found} == expected, (after, before, ordering)
        found_any += bool(expected)
    assert found_any == 8


@pytest.mark.parametrize("layout", ["contiguous", "interleaved", "nested"])
def test_session_and_cycle_filters_find_exactly_their_assessments_in_every_order(cast, layout):
    """Sessions' recommendations written together are found by their ids' ranges alone (no join: followup.filters
    through recommendations.filters.sessions_filter); interleaved ones through the join. Either way nothing of
    theirs is lost and nothing else is shown: sessions 20 and 21 (cycle 2) and 27 (cycle 3) here."""
    reviews = {n: ReviewFactory(session=Session.objects.get(number=n)) for n in (20, 21, 27)}
    order = {"contiguous": [20, 20, 21, 21, 27, 27], "interleaved": [20, 21, 20, 27, 21, 20],
             "nested": [20, 21, 21, 20, 27, 27]}[layout]  # fmt: skip
    rows = [_assessment(cast, RecommendationFactory(review=reviews[n])) for n in order]
    session_of = dict(zip([row.pk for row in rows], order, strict=True))
    client = APIClient()
    cases = [({"session": "20"}, {20}), ({"session": "21"}, {21}), ({"session": ["20", "27"]}, {20, 27}),
             ({"cycle": "2"}, {20, 21}), ({"cycle": "3"}, {27}), ({"session": "22"}, set())]  # fmt: skip
    for params, sessions in cases:
        expected = {pk for pk, n in session_of.items() if n in sessions}
        for ordering in ("recommendation", "-recommendation", "id", "-id"):
            found = client.get(URL, {**params, "ordering": ordering}).json()["results"]
            assert {row["id"] for row in found} == expected, (params, ordering)
