"""Public pages kept whole for anonymous visitors until the data changes (uprtrax/pagecache.py)."""

import pytest
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client, RequestFactory

from followup.snapshots import statistics_recompute
from recommendations.facets import search_data_changed
from tests.factories import RecommendationFactory, ReviewFactory, UserFactory
from uprtrax.pagecache import anonymous_page_cache

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def kept(settings):
    settings.PAGE_CACHE_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rec():
    return RecommendationFactory(review=ReviewFactory(), text="Ratify the Optional Protocol")


def test_an_anonymous_visitor_gets_the_kept_page_until_the_data_changes(client, rec):
    url = f"/recommendations/{rec.pk}/"
    first = client.get(url)
    assert first.status_code == 200 and "X-Page-Cache" not in first
    second = client.get(url)
    assert second["X-Page-Cache"] == "hit" and second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert "Content-Security-Policy" in second  # the middleware's headers come on every answer, kept or not
    rec.text = "Ratify the Convention against Torture"
    rec.save()
    assert client.get(url)["X-Page-Cache"] == "hit"  # unchanged version: what was kept (at most the timeout old)
    search_data_changed()  # what every import and assessment calls
    third = client.get(url)
    assert "X-Page-Cache" not in third and b"Convention against Torture" in third.content


def test_signed_in_visitors_and_session_cookies_are_never_served_a_kept_page(client, rec):
    url = f"/recommendations/{rec.pk}/"
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    client.force_login(UserFactory())
    assert "X-Page-Cache" not in client.get(url)
    client.logout()
    client.cookies["sessionid"] = "anything"
    assert "X-Page-Cache" not in client.get(url)
    del client.cookies["sessionid"]
    assert client.get(url)["X-Page-Cache"] == "hit"
    client.cookies["messages"] = "a message waiting"
    assert "X-Page-Cache" not in client.get(url)


def test_only_whole_successful_pages_are_kept(client, rec):
    assert client.get("/recommendations/999999999/").status_code == 404
    assert "X-Page-Cache" not in client.get("/recommendations/999999999/")
    client.get(f"/recommendations/{rec.pk}/")
    assert "X-Page-Cache" not in client.post(f"/recommendations/{rec.pk}/")  # never from what a GET kept
    search = client.get("/recommendations/", {"q": "protocol"})
    partial = client.get("/recommendations/", {"q": "protocol"}, HTTP_HX_REQUEST="true")
    assert "X-Page-Cache" not in partial and partial.content != search.content  # htmx's part: its own entry
    assert client.get("/recommendations/", {"q": "protocol"}, HTTP_HX_REQUEST="true")["X-Page-Cache"] == "hit"
    assert client.get("/recommendations/", {"q": "protocol"}).content == search.content


def test_a_page_whose_form_used_the_csrf_token_is_not_kept():
    @anonymous_page_cache
    def with_form(request):
        return HttpResponse(f"<form method=post><input value={get_token(request)}></form>")

    factory = RequestFactory()

    def visit():
        request = factory.get("/form/")
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
        return with_form(request)

    first, second = visit(), visit()
    assert "X-Page-Cache" not in second and first.content != second.content  # each visitor's own token


def test_the_state_page_follows_the_statistics_too(client, rec):
    url = f"/states/{rec.review.state.iso3}/"
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    statistics_recompute()  # new snapshots: the state's figures on its page change
    assert "X-Page-Cache" not in client.get(url)


def test_off_when_the_setting_is_zero(client, rec, settings):
    settings.PAGE_CACHE_SECONDS = 0
    client.get(f"/recommendations/{rec.pk}/")
    assert "X-Page-Cache" not in client.get(f"/recommendations/{rec.pk}/")


def test_the_apis_reads_are_kept_for_callers_without_credentials_only(client, rec, cast, settings):
    from followup.services.tokens import token_create

    url = f"/api/v1/recommendations/?sur={rec.review.state.iso3}"
    first = client.get(url)
    second = client.get(url)
    assert second["X-Page-Cache"] == "hit" and second.json() == first.json()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "other.example"]
    elsewhere = client.get(url, HTTP_HOST="other.example")  # links name the host asked: kept apart
    assert "X-Page-Cache" not in elsewhere and elsewhere.json()["results"][0]["url"].startswith("http://other.example/")
    _, key = token_create(user=cast.member_a, name="script", scope="read")
    with_token = client.get(url, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert with_token.status_code == 200 and "X-Page-Cache" not in with_token
    client.force_login(cast.member_a)
    assert "X-Page-Cache" not in client.get(url)
    client.logout()
    search_data_changed()
    assert "X-Page-Cache" not in client.get(url)


def test_a_hidden_assessment_leaves_the_kept_page_even_when_no_status_changes(
    client, rec, cast, django_capture_on_commit_callbacks
):
    from followup.services.assessments import assessment_hide
    from followup.status import implementation_status_refresh
    from tests.factories import AssessmentFactory

    AssessmentFactory(recommendation=rec, organisation=cast.org_a, comment="A plan was adopted.")
    offending = AssessmentFactory(recommendation=rec, organisation=cast.org_b, comment="Words a moderator hides.")
    implementation_status_refresh([rec.pk])
    url = f"/recommendations/{rec.pk}/"
    client.get(url)
    assert b"Words a moderator hides." in client.get(url).content  # kept
    with django_capture_on_commit_callbacks(execute=True):  # the status stays partially implemented (one left)
        assessment_hide(user=cast.moderator, assessment_id=offending.pk, reason="Abusive")
    page = client.get(url)
    assert "X-Page-Cache" not in page and b"Words a moderator hides." not in page.content


def test_a_deploy_with_other_static_files_is_not_served_the_pages_kept_before(client, rec, monkeypatch):
    """In production the pages name hashed static files (app.<hash>.css): a page kept before a deploy names files
    the new image no longer has."""
    from types import SimpleNamespace

    from uprtrax import pagecache

    url = f"/recommendations/{rec.pk}/"
    monkeypatch.setattr(pagecache, "staticfiles_storage", SimpleNamespace(manifest_hash="before"))
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    monkeypatch.setattr(pagecache, "staticfiles_storage", SimpleNamespace(manifest_hash="after"))
    assert "X-Page-Cache" not in client.get(url)


def test_an_admin_edit_of_what_pages_show_is_shown_at_once(client, rec, django_capture_on_commit_callbacks):
    """States, sessions, reviews, issues, organisations edited in the admin move the data version on
    (uprtrax/admin_changes.py): the pages kept for anonymous visitors are not shown again."""
    staff = UserFactory(is_staff=True, is_superuser=True)
    state = rec.review.state
    url = f"/states/{state.iso3}/"
    client.get(url)
    assert client.get(url)["X-Page-Cache"] == "hit"
    admin = Client()
    admin.force_login(staff)
    change = f"/admin/reviews/state/{state.pk}/change/"
    form = admin.get(change).context["adminform"].form

    def posted(value):  # a form's initial value as a browser posts it: model instances by their key
        if isinstance(value, list | tuple):
            return [getattr(item, "pk", item) for item in value]
        return getattr(value, "pk", value)

    data = {name: posted(value) for name, value in form.initial.items() if value is not None}
    data.update({"short_name": "Renamed Republic", "aliases-TOTAL_FORMS": "0", "aliases-INITIAL_FORMS": "0"})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(change, data)
    assert response.status_code == 302
    fresh = client.get(url)
    assert "X-Page-Cache" not in fresh and b"Renamed Republic" in fresh.content
