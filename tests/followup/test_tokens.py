"""Personal API tokens: the services (followup/services/tokens.py), the page /accounts/tokens/, and how the API
authenticates a token (followup/api_auth.py)."""

import datetime
import hashlib
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from followup.models import ApiToken
from followup.services.tokens import LAST_USED_EVERY, TOKENS_MAX, token_create, token_revoke, token_user
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/accounts/tokens/"
KEY = re.compile(r"upx_[A-Za-z0-9_-]{43}")


@pytest.fixture
def person():
    return UserFactory(username="researcher")


# --- Services ------------------------------------------------------------------------------------------------------


def test_create_returns_the_key_once_and_stores_only_its_fingerprint_and_prefix(person):
    token, key = token_create(user=person, name="  Mid-term   script ", scope="write_assessments")
    assert KEY.fullmatch(key)
    token.refresh_from_db()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:12] and len(token.prefix) == 12
    assert (token.name, token.scope, token.user, token.revoked_at) == (
        "Mid-term script",
        "write_assessments",
        person,
        None,
    )
    stored = " ".join(str(value) for value in ApiToken.objects.values_list().get())
    assert key not in stored
    assert token_create(user=person, name="Another", scope="read")[1] != key


@pytest.mark.parametrize(
    ("name", "scope", "field", "message"),
    [
        ("", "read", "name", "Give the token a name"),
        ("x" * 101, "read", "name", "101 characters"),
        ("Script", "admin", "scope", "“admin” is not a scope"),
    ],
)
def test_create_refuses_bad_input_naming_it(person, name, scope, field, message):
    with pytest.raises(ValidationError) as error:
        token_create(user=person, name=name, scope=scope)
    assert message in " ".join(error.value.message_dict[field])
    assert not ApiToken.objects.exists()


def test_create_refuses_more_live_tokens_than_the_limit(person):
    for n in range(TOKENS_MAX):
        token_create(user=person, name=f"Script {n}", scope="read")
    with pytest.raises(ValidationError, match="revoke one first"):
        token_create(user=person, name="One too many", scope="read")
    token_revoke(user=person, token_id=ApiToken.objects.first().pk)
    token_create(user=person, name="In place of a revoked one", scope="read")


def test_revoke_is_for_the_owner_only(person):
    token, key = token_create(user=person, name="Script", scope="read")
    with pytest.raises(ApiToken.DoesNotExist):
        token_revoke(user=UserFactory(username="intruder"), token_id=token.pk)
    assert token_user(key)[0] == person
    revoked = token_revoke(user=person, token_id=token.pk)
    assert revoked.revoked_at is not None
    assert token_revoke(user=person, token_id=token.pk).revoked_at == revoked.revoked_at  # twice: no change
    assert token_user(key) is None


def test_token_user_refuses_unknown_malformed_and_inactive(person):
    token, key = token_create(user=person, name="Script", scope="read")
    assert token_user(key) == (person, token)
    assert token_user("upx_" + "A" * 43) is None  # well formed, unknown
    assert token_user(key[:-1]) is None
    assert token_user(key + "x") is None
    assert token_user(token.key_hash) is None  # the stored fingerprint is no key
    assert token_user("") is None
    person.is_active = False
    person.save()
    assert token_user(key) is None


def test_last_used_is_written_at_most_once_a_minute(person, django_assert_num_queries):
    token, key = token_create(user=person, name="Script", scope="read")
    with django_assert_num_queries(2):  # the lookup, and the first use noted
        token_user(key)
    first = ApiToken.objects.get().last_used_at
    assert first is not None
    with django_assert_num_queries(1):  # within the minute: the lookup alone
        token_user(key)
    assert ApiToken.objects.get().last_used_at == first
    earlier = timezone.now() - LAST_USED_EVERY - datetime.timedelta(seconds=1)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=earlier)
    token_user(key)
    assert ApiToken.objects.get().last_used_at > first


# --- The page ------------------------------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in_and_creates_nothing(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    response = client.post(URL, {"name": "Script", "scope": "read"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert not ApiToken.objects.exists()


def test_the_page_lists_only_my_tokens_with_bounded_queries(client, person, django_assert_max_num_queries):
    token_create(user=person, name="Report script", scope="write_assessments")
    revoked, _ = token_create(user=person, name="Old laptop", scope="read")
    token_revoke(user=person, token_id=revoked.pk)
    token_create(user=UserFactory(username="someone"), name="Someone else's", scope="read")
    client.force_login(person)
    with django_assert_max_num_queries(6):
        response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Report script" in page and "Old laptop" in page and "Someone else's" not in page
    assert "Revoked" in page
    assert page.count('action="/accounts/tokens/') == 2  # the form, and the one live token's revoke button
    assert page.index("Report script") < page.index("Old laptop")  # live ones first
    assert "Read and write assessments" in page and "Read only" in page
    assert not KEY.search(page)


def test_creating_shows_the_key_once_and_the_list_never_again(client, person):
    client.force_login(person)
    response = client.post(URL, {"name": "Report script", "scope": "write_assessments"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    page = response.content.decode()
    keys = set(KEY.findall(page))
    assert len(keys) == 1
    key = keys.pop()
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.scope) == (person, "Report script", "write_assessments")
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert "shown only this once" in page
    again = client.get(URL).content.decode()
    assert key not in again and not KEY.search(again)
    assert f"{token.prefix}…" in again


def test_bad_input_is_refused_with_a_summary_tied_to_the_field(client, person):
    client.force_login(person)
    response = client.post(URL, {"name": "", "scope": "everything"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "The token could not be created" in page
    assert "Give the token a name" in page
    assert "“everything” is not a scope" in page
    assert 'href="#id_name"' in page
    assert re.search(r'<input[^>]*aria-describedby="[^"]*id_name_error[^"]*"[^>]*id="id_name"', page) or re.search(
        r'<input[^>]*id="id_name"[^>]*aria-describedby="[^"]*id_name_error', page
    )
    assert not ApiToken.objects.exists()


def test_a_name_is_shown_escaped(client, person):
    token_create(user=person, name="<script>alert(1)</script>", scope="read")
    client.force_login(person)
    page = client.get(URL).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_forms_need_the_csrf_token(person):
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    assert client.post(URL, {"name": "Script", "scope": "read"}).status_code == 403
    token, _ = token_create(user=person, name="Script", scope="read")
    assert client.post(reverse("tokens:token_revoke", args=[token.pk])).status_code == 403
    assert ApiToken.objects.get().revoked_at is None
    page = client.get(URL).content.decode()
    assert page.count('name="csrfmiddlewaretoken"') == page.count('method="post"') >= 2


def test_revoking_my_token(client, person):
    token, key = token_create(user=person, name="Script", scope="read")
    client.force_login(person)
    response = client.post(reverse("tokens:token_revoke", args=[token.pk]), follow=True)
    assert response.redirect_chain[-1] == (URL, 302)
    assert "is revoked" in response.content.decode()
    assert ApiToken.objects.get().revoked_at is not None
    assert APIClient().get("/api/v1/states/", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 401


def test_another_users_token_cannot_be_revoked(client, person):
    token, _ = token_create(user=person, name="Script", scope="read")
    client.force_login(UserFactory(username="intruder"))
    assert client.post(reverse("tokens:token_revoke", args=[token.pk])).status_code == 404
    assert client.post(reverse("tokens:token_revoke", args=[token.pk + 1000])).status_code == 404
    assert ApiToken.objects.get().revoked_at is None
    anonymous = Client().post(reverse("tokens:token_revoke", args=[token.pk]))
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(reverse("accounts:login"))
    assert ApiToken.objects.get().revoked_at is None
    client.force_login(person)
    assert client.get(reverse("tokens:token_revoke", args=[token.pk])).status_code == 405
    assert ApiToken.objects.get().revoked_at is None


# --- Authentication in the API ------------------------------------------------------------------------------------


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_a_live_token_authenticates_with_either_keyword(person, keyword):
    _, key = token_create(user=person, name="Script", scope="read")
    response = APIClient().get("/api/v1/assessments/?mine=1", HTTP_AUTHORIZATION=f"{keyword} {key}")
    assert response.status_code == 200
    assert ApiToken.objects.get().last_used_at is not None


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer upx_" + "A" * 43, "Unknown or revoked"),
        ("Bearer ", "Malformed"),
        ("Bearer", "Malformed"),
        ("Bearer upx_short", "Malformed"),
        ("Token not-a-token-at-all", "Malformed"),
        ("Bearer upx_" + "A" * 43 + " extra", "Malformed"),
    ],
)
def test_a_bad_token_is_a_401_never_an_anonymous_read(header, message):
    response = APIClient().get("/api/v1/assessments/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert message in response.json()["error"]["message"]
    assert APIClient().get("/api/v1/states/", HTTP_AUTHORIZATION=header).status_code == 401


def test_a_revoked_token_and_an_inactive_users_token_are_refused(person):
    token, key = token_create(user=person, name="Script", scope="read")
    other, other_key = token_create(user=UserFactory(username="gone"), name="Script", scope="read")
    token_revoke(user=person, token_id=token.pk)
    other.user.is_active = False
    other.user.save()
    for dead in (key, other_key):
        response = APIClient().get("/api/v1/recommendations/", HTTP_AUTHORIZATION=f"Bearer {dead}")
        assert response.status_code == 401 and "WWW-Authenticate" in response


def test_a_token_writes_nowhere_but_the_assessments(media_root_tmp):
    staff = UserFactory(username="staffer", is_staff=True)
    _, key = token_create(user=staff, name="Script", scope="write_assessments")
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.get("/api/v1/imports/").status_code == 200  # reading is what the person may read
    response = client.post("/api/v1/imports/", {"kind": "recommendations"}, format="json")
    assert response.status_code == 403 and "API tokens write assessments only" in response.json()["error"]["message"]


@pytest.fixture
def media_root_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
