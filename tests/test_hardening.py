"""Hardening (issue 8): the security headers and the Content-Security-Policy of every kind of page, HTTPS with HSTS
and secure cookies in production, request body limits with a page naming the limit, and the admin behind a staff
login. The rate limits are tests/test_ratelimit.py, the CSP in a real browser tests/browser/test_security.py."""

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from followup.models import User
from recommendations.models import ImportRun
from tests.factories import RecommendationFactory, UserFactory
from tests.followup.cast import page_text

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent


# --- headers and the Content-Security-Policy -------------------------------------------------------------------


def _policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.fixture
def pages():
    """One page of each kind: plain, search, a form, an error, the admin's, the API's docs and schema."""
    recommendation = RecommendationFactory()
    return [
        "/",
        "/recommendations/?q=torture",
        f"/recommendations/{recommendation.pk}/",
        "/states/FRA/",
        "/statistics/",
        "/accounts/login/",
        "/admin/login/",
        "/api/docs/",
        "/api/v1/",
        "/no-such-page/",
    ]


def test_every_kind_of_page_carries_a_policy_without_inline_script_or_eval(client, pages):
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 404), path
        policy = _policy(response)

        for name, values in policy.items():
            assert not {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:"} & set(values) or (
                name == "img-src" and values == ["'self'", "data:"]
            ), f"{path}: {name} {values}"
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]
        assert policy["style-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        assert policy["form-action"] == ["'self'"]


def test_every_kind_of_page_carries_the_other_security_headers(client, pages):
    for path in pages:
        response = client.get(path)

        assert response["X-Frame-Options"] == "DENY", path
        assert response["X-Content-Type-Options"] == "nosniff", path
        assert response["Referrer-Policy"] == "same-origin", path
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", path


# --- HTTPS: redirect, HSTS, secure cookies (production settings, in a fresh interpreter) -----------------------

HTTPS_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
plain = client.get("/accounts/login/")
secure = client.get("/accounts/login/", secure=True)
proxied = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")  # the HTTPS proxy in front
csrf = secure.cookies["csrftoken"]
print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "plain_hsts": plain.get("Strict-Transport-Security"),
    "secure": [secure.status_code, secure.get("Strict-Transport-Security")],
    "proxied": [proxied.status_code, proxied.get("Strict-Transport-Security")],
    "healthz": client.get("/healthz").status_code,
    "csrf_cookie": {"secure": csrf["secure"], "samesite": csrf["samesite"]},
    "session_cookie": [settings.SESSION_COOKIE_SECURE, settings.SESSION_COOKIE_HTTPONLY,
                       settings.SESSION_COOKIE_SAMESITE],
}))
"""


def _https_probe(tmp_path, **variables) -> dict:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.path.expanduser("~"),
        "DJANGO_SETTINGS_MODULE": "uprtrax.settings",
        "DJANGO_SECRET_KEY": "https-test-" + "x" * 50,
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",  # the login form reads no table
        "DJANGO_STATIC_MANIFEST": "0",
        **variables,
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", HTTPS_PROBE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_redirects_to_https_and_sends_hsts_and_secure_cookies_there(tmp_path):
    probe = _https_probe(tmp_path)

    assert probe["plain"] == [301, "https://testserver/accounts/login/"]
    assert probe["plain_hsts"] is None  # browsers ignore HSTS over HTTP; Django sends it over HTTPS only
    assert probe["secure"] == [200, "max-age=31536000; includeSubDomains"]
    assert probe["proxied"] == [200, "max-age=31536000; includeSubDomains"]  # X-Forwarded-Proto: https believed
    assert probe["healthz"] == 200  # the container's health check speaks plain HTTP: never redirected
    assert probe["csrf_cookie"] == {"secure": True, "samesite": "Lax"}
    assert probe["session_cookie"] == [True, True, "Lax"]


def test_without_https_nothing_is_redirected_and_cookies_are_not_marked_secure(tmp_path):
    """DJANGO_HTTPS=0 (plain HTTP, e.g. a private network): the deploy check warns (tests/test_settings.py)."""
    probe = _https_probe(tmp_path, DJANGO_HTTPS="0")

    assert probe["plain"] == [200, None]
    assert probe["secure"] == [200, None]
    assert probe["csrf_cookie"]["secure"] == ""
    assert probe["session_cookie"][0] is False


def test_the_session_cookie_of_a_login_over_https_is_secure_and_hidden_from_scripts(settings):
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = True
    UserFactory(username="amina", password="right-password-1")
    client = Client()

    response = client.post("/accounts/login/", {"username": "amina", "password": "right-password-1"}, secure=True)

    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"] is True and session["httponly"] is True and session["samesite"] == "Lax"


# --- request body limits ---------------------------------------------------------------------------------------


@pytest.fixture
def staff(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.IMPORT_MAX_BYTES = 5_000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    user = UserFactory(username="importer", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def _stored(settings) -> list[Path]:
    media = Path(settings.MEDIA_ROOT)
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def _too_large(response) -> str:
    assert response.status_code == 413, response.content[:300]
    assert response["Content-Type"].startswith("text/html")
    return page_text(response)


def test_an_import_upload_over_the_limit_is_refused_naming_it_and_nothing_is_stored(staff, settings):
    upload = SimpleUploadedFile("big.csv", b"x" * 7_000, content_type="text/csv")

    text = _too_large(staff.post("/imports/", {"kind": "recommendations", "file": upload}))

    assert "The upload holds 7.0 KB: a file here may hold at most 4.9 KB (UPRTRAX_IMPORT_MAX_BYTES)" in text
    assert "Nothing was stored" in text
    assert not ImportRun.objects.exists()
    assert _stored(settings) == []


def test_the_upload_is_refused_from_its_content_length_before_it_is_read(staff):
    """A body announced at 10 GB (a few bytes really sent): refused at once, nothing read, nothing spooled to disk."""
    upload = SimpleUploadedFile("small.csv", b"a,b\n", content_type="text/csv")

    response = staff.post("/imports/", {"kind": "recommendations", "file": upload}, CONTENT_LENGTH=str(10 * 1024**3))

    assert "The upload holds 10240.0 MB" in _too_large(response)
    assert not ImportRun.objects.exists()


def test_an_upload_within_the_limit_reaches_the_import(staff, settings):
    upload = SimpleUploadedFile("ok.csv", b"x" * 3_000, content_type="text/csv")

    response = staff.post("/imports/", {"kind": "recommendations", "file": upload})

    assert response.status_code in (200, 302)  # the import's own checks answer, not the limit
    assert response.status_code != 413


def test_a_file_sent_to_a_page_that_takes_none_is_refused_before_the_csrf_check_reads_it(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    client = Client(enforce_csrf_checks=True)
    upload = SimpleUploadedFile("junk.bin", b"x" * 5_000)

    text = _too_large(client.post("/accounts/login/", {"username": "a", "file": upload}))

    assert "this page takes no file, at most 1,000 bytes" in text


def test_a_form_over_the_field_limit_is_a_413_page_naming_the_limit(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    client = Client(enforce_csrf_checks=True)  # the CSRF check is what reads the form first...
    client.get("/accounts/login/")  # ...once the browser holds its cookie
    body = urlencode({"username": "a" * 2_000, "password": "x"})

    text = _too_large(client.post("/accounts/login/", body, content_type="application/x-www-form-urlencoded"))

    assert "The form's fields hold too much: together, files apart, at most 1,000 bytes" in text


def test_a_form_with_too_many_fields_is_a_413_page_naming_the_limit(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 50
    fields = {f"field{number}": "x" for number in range(60)}

    text = _too_large(Client().post("/accounts/login/", fields))

    assert "The form sent too many fields: a page takes at most 50" in text
    assert not User.objects.exists()


# --- the admin, behind a staff login ---------------------------------------------------------------------------

ADMIN_PUBLIC = {
    "login",  # the login form itself
    "logout",  # POST only, and harmless
    "view_on_site",  # a redirect to the object's public page
}


def _admin_urls() -> list[str]:
    """Every named page of the admin site (index, app lists, each model's list, add, change, delete, history...),
    its parameters filled with plausible values."""
    found = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and pattern.name and pattern.name not in ADMIN_PUBLIC:
                regex = pattern.pattern.regex
                if regex.groupindex:
                    kwargs = {name: "followup" if name == "app_label" else "1" for name in regex.groupindex}
                    found.append(reverse(f"admin:{pattern.name}", kwargs=kwargs))
                else:  # unnamed groups (simple_history's pages)
                    found.append(reverse(f"admin:{pattern.name}", args=["1"] * regex.groups))

    walk(admin_site.get_urls())
    return sorted(set(found))


@pytest.mark.parametrize("who", ["anonymous", "member"])
def test_no_admin_page_opens_to_anyone_but_staff(who):
    client = Client()
    if who == "member":
        client.force_login(UserFactory(username="cso-member"))
    urls = _admin_urls()

    assert len(urls) > 50  # the walk did find every model's pages
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login") + "?next="), url


def test_staff_do_reach_the_pages_the_walk_finds():
    """The other side of the test above: the same addresses are real pages for a staff member."""
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))

    for url in _admin_urls():
        response = client.get(url)
        assert response.status_code != 404 or "/1/" in url, url  # object 1 may not exist
        assert not response.get("Location", "").startswith(reverse("admin:login")), url


def test_a_member_with_the_right_password_is_not_let_into_the_admin():
    UserFactory(username="amina", password="right-password-1")
    client = Client()

    response = client.post("/admin/login/", {"username": "amina", "password": "right-password-1"})

    assert response.status_code == 200  # the form again, not the admin
    assert "not authorized to access this page" in page_text(response) or "staff account" in page_text(response)
    assert client.get("/admin/").status_code == 302
