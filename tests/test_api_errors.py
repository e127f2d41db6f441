"""The API's errors (uprtrax/api_errors.py): one shape for every status, whoever answers (a view, DRF, Django), and
bad input of every kind refused with the right 4xx and nothing written. The rate limits (uprtrax/api_throttles.py):
429 with Retry-After, counted per address and per token."""

import json

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from followup.models import ApiToken, Assessment
from followup.services.tokens import token_create, token_revoke
from recommendations.models import ImportRun
from tests.factories import AssessmentFactory, RecommendationFactory, ReviewFactory, UserFactory, csv_bytes
from tests.followup.cast import assessments_snapshot

pytestmark = pytest.mark.django_db

URL = "/api/v1/assessments/"
DAY = "2015-06-01"  # within FRA's mid-term (session 15)


def _shape(response, status: int, code: str) -> dict:
    """The error of a response, checked to be in the one shape; returns its "error" object."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"], body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip(), error
    if code == "validation_error":
        assert error["fields"] and all(isinstance(m, list) and m for m in error["fields"].values()), error
    else:
        assert "fields" not in error, error
    return error


@pytest.fixture
def rec():
    return RecommendationFactory(review=ReviewFactory())


def _token_client(user, scope: str = "write_assessments") -> APIClient:
    _, key = token_create(user=user, name="Script", scope=scope)
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")


def _body(organisation, recommendation, /, **values) -> dict:
    return {
        "organisation": organisation.slug,
        "recommendation": recommendation.pk,
        "status": "partially_implemented",
        "comment": "A bill was tabled.",
        "assessed_on": DAY,
        "visibility": "public",
        **values,
    }


@pytest.fixture
def writer(cast):
    return _token_client(cast.member_a)


# --- Bad input: each refused with its 4xx, in the shape, nothing written -------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"organisation": "ligue-a", ', "Expecting property name enclosed in double quotes"),
        ('{"status": "fully_implemented",}', "line 1, column"),
        ("not json at all", "Expecting value (line 1, column 1)"),
        ('{"comment": NaN}', "NaN is not a JSON value"),
        (b'{"comment": "\xff\xfe"}', "not text in utf-8"),
    ],
)
def test_malformed_json_is_a_400_parse_error_writing_nothing(cast, rec, writer, body, message):
    before = assessments_snapshot()
    response = writer.generic("POST", URL, body, content_type="application/json")
    error = _shape(response, 400, "parse_error")
    assert error["message"].startswith("The body is not valid JSON") and message in error["message"], error
    assert assessments_snapshot() == before


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"recommendation": "one"}, "recommendation", "“one” is not an id"),
        ({"recommendation": True}, "recommendation", "“True” is not an id"),
        ({"recommendation": [1, 2]}, "recommendation", "is not an id"),
        ({"status": {"is": "done"}}, "status", "Not a valid string."),
        ({"evidence_urls": {"a": 1}}, "evidence_urls", "list of web addresses"),
        ({"evidence_urls": [1, 2]}, "evidence_urls", "list of web addresses"),
        ({"assessed_on": 20150601}, "assessed_on", "“20150601” is not a date"),
        ({"organisation": None}, "organisation", "This field may not be null."),
    ],
)
def test_wrong_types_are_a_400_naming_the_field_writing_nothing(cast, rec, writer, values, field, message):
    before = assessments_snapshot()
    error = _shape(writer.post(URL, _body(cast.org_a, rec, **values), format="json"), 400, "validation_error")
    assert message in " ".join(error["fields"][field]), error
    assert error["message"].startswith(f"{field}: "), error
    assert assessments_snapshot() == before


def test_a_nul_character_in_a_link_is_a_400_not_a_database_error(cast, rec, writer):
    """Found by probing beside schemathesis: the URL validator let it through, PostgreSQL refused it (500)."""
    body = _body(cast.org_a, rec, evidence_urls=["https://example.org/\u0000"])
    error = _shape(writer.post(URL, body, format="json"), 400, "validation_error")
    assert "is not a web address" in error["fields"]["evidence_urls"][0]
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    "path",
    ["/api/v1/states/%00/", "/api/v1/issues/a%00/", "/api/v1/regional-groups/%00/",
     "/api/v1/assessments/?organisation=%00", "/api/v1/recommendations/?q=a%00b", "/api/v1/assessments/?sur%00=FRA"],
)  # fmt: skip
def test_a_nul_character_in_the_address_is_a_400_not_a_database_error(path):
    """Each of the first four was a 500 (PostgreSQL refuses NUL in text); uprtrax.middleware refuses them all."""
    error = _shape(Client(raise_request_exception=False).get(path), 400, "bad_request")
    assert "NUL" in error["message"]


def test_a_nul_character_in_a_pages_address_is_a_400_too():
    response = Client(raise_request_exception=False).get("/states/%00/")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")


def test_a_body_that_is_not_an_object_is_a_400(cast, writer):
    error = _shape(writer.post(URL, [1, 2], format="json"), 400, "validation_error")
    assert list(error["fields"]) == ["non_field_errors"]


def test_unknown_fields_are_refused_by_name_writing_nothing(cast, rec, writer):
    before = assessments_snapshot()
    body = _body(cast.org_a, rec, satus="fully_implemented", author="admin")
    error = _shape(writer.post(URL, body, format="json"), 400, "validation_error")
    assert set(error["fields"]) == {"satus", "author"}
    assert error["fields"]["satus"] == [
        "Unknown field “satus”: the fields are status, comment, evidence_urls, assessed_on, phase, visibility, "
        "organisation, recommendation."
    ]
    assert "2 fields were refused (satus, author)" in error["message"]
    assert assessments_snapshot() == before


def test_unknown_fields_are_named_beside_the_other_errors(cast, rec, writer):
    body = _body(cast.org_a, rec, recommendation="one", colour="red")
    error = _shape(writer.post(URL, body, format="json"), 400, "validation_error")
    assert set(error["fields"]) == {"colour", "recommendation"}


def test_unknown_fields_are_refused_in_updates_and_bulk_too(cast, rec, writer):
    assessment = AssessmentFactory(recommendation=rec, organisation=cast.org_a, author=cast.member_a)
    before = assessments_snapshot()
    patch = writer.patch(f"{URL}{assessment.pk}/", {"version": 1, "comments": "typo"}, format="json")
    assert list(_shape(patch, 400, "validation_error")["fields"]) == ["comments"]
    bulk = writer.post(
        f"{URL}bulk/",
        {"organisation": "ligue-a", "recommendations": [rec.pk], "status": "no_information", "replace_all": True},
        format="json",
    )
    assert list(_shape(bulk, 400, "validation_error")["fields"]) == ["replace_all"]
    assert assessments_snapshot() == before


def test_an_import_refuses_unknown_fields(cast, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    staff = APIClient()
    staff.force_authenticate(cast.admin)
    upload = SimpleUploadedFile("r.csv", csv_bytes(["text"], [["x"]]), content_type="text/csv")
    response = staff.post(
        "/api/v1/imports/", {"file": upload, "kind": "recommendations", "dryrun": "1"}, format="multipart"
    )
    assert list(_shape(response, 400, "validation_error")["fields"]) == ["dryrun"]
    assert not ImportRun.objects.exists()


def test_an_oversized_json_body_is_a_413_writing_nothing(cast, rec, writer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = assessments_snapshot()
    response = writer.post(URL, _body(cast.org_a, rec, comment="x" * 20_000), format="json")
    error = _shape(response, 413, "payload_too_large")
    assert error["message"].startswith("The body holds 19.") and error["message"].endswith("at most 9.8 KB."), error
    assert assessments_snapshot() == before


def test_an_oversized_form_field_is_a_413(cast, settings, tmp_path):
    """Django's multipart parser keeps a field to DATA_UPLOAD_MAX_MEMORY_SIZE, whatever the file may weigh."""
    settings.MEDIA_ROOT, settings.DATA_UPLOAD_MAX_MEMORY_SIZE = tmp_path, 1_000
    staff = APIClient()
    staff.force_authenticate(cast.admin)
    upload = SimpleUploadedFile("r.csv", csv_bytes(["text"], [["x"]]), content_type="text/csv")
    response = staff.post("/api/v1/imports/", {"file": upload, "kind": "recommendations", "sheet": "x" * 5_000},
                          format="multipart")  # fmt: skip
    assert _shape(response, 413, "payload_too_large")["message"].endswith(
        "files apart, they may hold at most 1,000 bytes."
    )
    assert not ImportRun.objects.exists()


def test_an_upload_over_the_import_limit_is_a_413_before_it_is_read(cast, settings, tmp_path):
    settings.MEDIA_ROOT, settings.IMPORT_MAX_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE = tmp_path, 5_000, 1_000
    staff = APIClient()
    staff.force_authenticate(cast.admin)
    big = SimpleUploadedFile("big.csv", b"text\n" + b"x" * 10_000, content_type="text/csv")
    response = staff.post("/api/v1/imports/", {"file": big, "kind": "recommendations"}, format="multipart")
    assert "at most" in _shape(response, 413, "payload_too_large")["message"]
    assert not ImportRun.objects.exists() and not any(tmp_path.rglob("*.csv"))


@pytest.mark.parametrize("header", ["Bearer upx_" + "B" * 43, "Bearer forged", "Token upx_short", "Bearer "])
def test_a_forged_token_is_a_401_with_its_scheme_writing_nothing(cast, rec, header):
    before = assessments_snapshot()
    response = APIClient(HTTP_AUTHORIZATION=header).post(URL, _body(cast.org_a, rec), format="json")
    _shape(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert assessments_snapshot() == before


def test_a_revoked_token_is_a_401_writing_nothing(cast, rec):
    token, key = token_create(user=cast.member_a, name="Script", scope="write_assessments")
    token_revoke(user=cast.member_a, token_id=token.pk)
    before = assessments_snapshot()
    response = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}").post(URL, _body(cast.org_a, rec), format="json")
    assert _shape(response, 401, "authentication_failed")["message"] == "Unknown or revoked API token."
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert assessments_snapshot() == before


def test_a_write_without_credentials_is_a_401_naming_the_scheme(cast, rec):
    response = APIClient().post(URL, _body(cast.org_a, rec), format="json")
    _shape(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert not Assessment.objects.exists()


def test_a_token_beyond_its_scope_is_a_403_writing_nothing(cast, rec):
    assessment = AssessmentFactory(recommendation=rec, organisation=cast.org_a, author=cast.member_a)
    reader = _token_client(cast.member_a, scope="read")
    before = assessments_snapshot()
    for response in (
        reader.post(URL, _body(cast.org_a, RecommendationFactory(review=rec.review)), format="json"),
        reader.patch(f"{URL}{assessment.pk}/", {"status": "fully_implemented", "version": 1}, format="json"),
        reader.delete(f"{URL}{assessment.pk}/?version=1"),
    ):
        assert "may only read" in _shape(response, 403, "permission_denied")["message"]
    staff_reader = _token_client(cast.admin, scope="write_assessments")
    response = staff_reader.post("/api/v1/imports/", {"kind": "recommendations"}, format="json")
    assert "API tokens write assessments only" in _shape(response, 403, "permission_denied")["message"]
    assert assessments_snapshot() == before and not ImportRun.objects.exists()


def test_writing_another_organisations_assessment_is_refused_writing_nothing(cast, rec, writer):
    """member_a may see B's public assessment (403 on writing it) but not B's draft (404, as if it did not exist)."""
    public_b = AssessmentFactory(recommendation=rec, organisation=cast.org_b, author=cast.member_b)
    draft_b = AssessmentFactory(
        recommendation=RecommendationFactory(review=rec.review), organisation=cast.org_b, author=cast.member_b,
        visibility="draft",
    )  # fmt: skip
    before = assessments_snapshot()
    change = {"status": "not_implemented", "version": 1}
    _shape(writer.patch(f"{URL}{public_b.pk}/", change, format="json"), 403, "permission_denied")
    _shape(writer.put(f"{URL}{public_b.pk}/", change, format="json"), 403, "permission_denied")
    _shape(writer.delete(f"{URL}{public_b.pk}/?version=1"), 403, "permission_denied")
    _shape(writer.patch(f"{URL}{draft_b.pk}/", change, format="json"), 404, "not_found")
    _shape(writer.delete(f"{URL}{draft_b.pk}/?version=1"), 404, "not_found")
    _shape(writer.post(URL, _body(cast.org_b, rec), format="json"), 403, "permission_denied")
    assert assessments_snapshot() == before


def test_a_stale_write_is_a_409_with_the_current_assessment(cast, rec, writer):
    assessment = AssessmentFactory(recommendation=rec, organisation=cast.org_a, author=cast.member_a, version=3)
    before = assessments_snapshot()
    error = _shape(writer.patch(f"{URL}{assessment.pk}/", {"comment": "x", "version": 2}, format="json"), 409,
                   "conflict")  # fmt: skip
    assert error["current"]["id"] == assessment.pk and error["current"]["version"] == 3
    assert assessments_snapshot() == before


# --- What DRF and Django answer ------------------------------------------------------------------------------------


def test_method_not_allowed_is_a_405(cast):
    client = APIClient()
    client.force_login(cast.member_a)  # anonymous, a write is refused first: 401
    response = client.delete("/api/v1/states/FRA/")
    assert _shape(response, 405, "method_not_allowed")["message"] == "DELETE is not allowed at this address."
    assert "GET" in response["Allow"]


def test_an_accept_header_the_api_cannot_satisfy_is_a_406():
    _shape(APIClient().get("/api/v1/states/", HTTP_ACCEPT="text/csv"), 406, "not_acceptable")


def test_a_body_of_another_media_type_is_a_415_writing_nothing(cast, rec, writer):
    response = writer.generic("POST", URL, json.dumps(_body(cast.org_a, rec)), content_type="text/plain")
    assert "text/plain" in _shape(response, 415, "unsupported_media_type")["message"]
    assert not Assessment.objects.exists()


def test_an_assessment_is_written_in_json_only(cast, rec, writer):
    response = writer.post(URL, _body(cast.org_a, rec), format="multipart")
    assert "multipart/form-data" in _shape(response, 415, "unsupported_media_type")["message"]
    assert not Assessment.objects.exists()


def test_an_unknown_api_address_is_a_json_404(client):
    error = _shape(client.get("/api/v1/nothing-here/"), 404, "not_found")
    assert "/api/v1/nothing-here/" in error["message"] and "/api/docs/" in error["message"]
    _shape(client.get("/api/v2/states/"), 404, "not_found")


def test_an_unknown_page_is_still_the_sites_html_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert b"There is no page at this address." in response.content


def test_a_crash_under_api_is_a_json_500_and_elsewhere_the_html_page(monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("followup.statistics_api.snapshot_read", crash)
    monkeypatch.setattr("uprtrax.views.headline_counts", crash)
    client = Client(raise_request_exception=False)
    error = _shape(client.get("/api/v1/statistics/"), 500, "server_error")
    assert "boom" not in error["message"]
    page = client.get("/")
    assert page.status_code == 500 and b"Something went wrong" in page.content


def test_statistics_not_computed_yet_is_a_503_with_retry_after(client):
    response = client.get("/api/v1/statistics/")
    assert _shape(response, 503, "not_ready")["retry_after"] == 60 and response["Retry-After"] == "60"


# --- Rate limits ---------------------------------------------------------------------------------------------------


@pytest.fixture
def limits(settings):
    """Low rates for this test; the throttles' counts in the cache start from nothing."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "token": "5/minute"},
    }
    cache.delete_many([f"throttle_anon_{address}" for address in ("203.0.113.1", "203.0.113.2", "127.0.0.1")])
    yield
    cache.delete_many([f"throttle_anon_{address}" for address in ("203.0.113.1", "203.0.113.2", "127.0.0.1")])


def _throttled(response) -> None:
    error = _shape(response, 429, "throttled")
    wait = int(response["Retry-After"])
    assert 1 <= wait <= 60 and error["retry_after"] == wait
    assert f"try again in {wait} second" in error["message"]


def test_anonymous_requests_are_limited_per_address(limits):
    first, second = APIClient(REMOTE_ADDR="203.0.113.1"), APIClient(REMOTE_ADDR="203.0.113.2")
    assert [first.get("/api/v1/cycles/").status_code for _ in range(3)] == [200, 200, 200]
    _throttled(first.get("/api/v1/cycles/"))
    _throttled(first.get("/api/v1/states/"))  # every endpoint counts against the one limit
    assert second.get("/api/v1/cycles/").status_code == 200  # another address, its own count
    # A forged X-Forwarded-For does not make another address (UPRTRAX_API_NUM_PROXIES=0: the header is ignored).
    _throttled(first.get("/api/v1/cycles/", HTTP_X_FORWARDED_FOR="198.51.100.9"))


def test_requests_with_a_token_are_limited_per_token_not_per_address(cast, limits):
    first, second = _token_client(cast.member_a, scope="read"), _token_client(cast.member_a, scope="read")
    cache.delete_many([f"throttle_token_token-{pk}" for pk in ApiToken.objects.values_list("pk", flat=True)])
    assert [first.get("/api/v1/cycles/", REMOTE_ADDR="203.0.113.1").status_code for _ in range(5)] == [200] * 5
    _throttled(first.get("/api/v1/cycles/", REMOTE_ADDR="203.0.113.2"))  # another address: the same token
    assert second.get("/api/v1/cycles/").status_code == 200  # another token of the same person: its own count
    # The token's limit, not the anonymous one: 5 requests passed where an address gets 3.
    assert APIClient(REMOTE_ADDR="203.0.113.1").get("/api/v1/cycles/").status_code == 200


def test_a_signed_in_person_is_limited_per_person(cast, limits):
    cache.delete(f"throttle_token_user-{cast.member_b.pk}")
    client = APIClient()
    client.force_login(cast.member_b)
    assert [client.get("/api/v1/cycles/").status_code for _ in range(5)] == [200] * 5
    _throttled(client.get("/api/v1/cycles/"))
    cache.delete(f"throttle_token_user-{cast.member_b.pk}")


def test_the_default_rates_parse_and_a_bad_rate_stops_the_start(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from uprtrax.env import env_rate

    monkeypatch.setenv("UPRTRAX_TEST_RATE", "120/min")
    assert env_rate("UPRTRAX_TEST_RATE", "1/second") == "120/minute"
    monkeypatch.delenv("UPRTRAX_TEST_RATE")
    assert env_rate("UPRTRAX_TEST_RATE", "600/minute") == "600/minute"
    for bad in ("120", "many/minute", "0/minute", "10/fortnight"):
        monkeypatch.setenv("UPRTRAX_TEST_RATE", bad)
        with pytest.raises(ImproperlyConfigured, match="UPRTRAX_TEST_RATE"):
            env_rate("UPRTRAX_TEST_RATE", "1/second")


def test_throttles_leave_other_users_alone(cast, limits):
    """A person throttled does not throttle anyone else (nor the anonymous count of their address)."""
    UserFactory(username="unrelated")
    cache.delete(f"throttle_token_user-{cast.member_a.pk}")
    client = APIClient(REMOTE_ADDR="203.0.113.1")
    client.force_login(cast.member_a)
    for _ in range(5):
        client.get("/api/v1/cycles/")
    _throttled(client.get("/api/v1/cycles/"))
    assert APIClient(REMOTE_ADDR="203.0.113.1").get("/api/v1/cycles/").status_code == 200
    cache.delete(f"throttle_token_user-{cast.member_a.pk}")
