"""The rate limits of the expensive pages (uprtrax/ratelimit.py): the search page, the downloads and login attempts,
per address or per signed-in person, counted in Redis; past a limit a 429 page with Retry-After that says why.

The suite runs with limits out of reach (pyproject's pytest env); these tests lower them with the settings fixture and
hold the clock still, so that no window ends in the middle of a test."""

import time
from types import SimpleNamespace

import pytest
import redis
from django.core.cache import cache
from django.test import Client, RequestFactory

from followup.models import User
from tests.factories import UserFactory
from tests.followup.cast import page_text
from uprtrax import ratelimit

pytestmark = pytest.mark.django_db

NOW = 1_800_000_030.25  # 30.25 s into a minute and into an hour
ADDRESS, OTHER_ADDRESS = "203.0.113.10", "203.0.113.11"


def _clear_counts():
    from django.conf import settings

    client = ratelimit._redis_for(settings.CACHES["default"]["LOCATION"])  # the tests run on Redis, as production
    keys = list(client.scan_iter(match=cache.make_key("ratelimit:*")))
    if keys:
        client.delete(*keys)


@pytest.fixture
def limits(settings, monkeypatch):
    """Low limits, a still clock, counts starting from nothing."""
    settings.RATE_SEARCH, settings.RATE_EXPORT, settings.RATE_LOGIN = "3/minute", "2/hour", "3/hour"
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: NOW))
    _clear_counts()
    yield settings
    _clear_counts()


def _limited(response, *, retry_after: int) -> str:
    assert response.status_code == 429, response.content[:300]
    assert response["Retry-After"] == str(retry_after)
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"].startswith("text/html")
    return page_text(response)


# --- the search page -------------------------------------------------------------------------------------------


def test_the_search_page_is_limited_per_address_with_a_page_saying_why_and_when(limits):
    first, second = Client(REMOTE_ADDR=ADDRESS), Client(REMOTE_ADDR=OTHER_ADDRESS)

    assert [first.get("/recommendations/", {"q": "torture"}).status_code for _ in range(3)] == [200, 200, 200]
    text = _limited(first.get("/recommendations/", {"sur": "FRA"}), retry_after=30)  # the minute ends in 29.75 s
    assert "Too many requests" in text
    assert "Your address made more than 3 searches in a minute" in text
    assert "Please wait 30 seconds" in text
    assert second.get("/recommendations/").status_code == 200  # another address, its own count
    # A forged X-Forwarded-For is not another address (UPRTRAX_API_NUM_PROXIES=0: the header is ignored).
    assert first.get("/recommendations/", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429


def test_a_signed_in_person_has_their_own_count_not_their_addresss(limits):
    person = Client(REMOTE_ADDR=ADDRESS)
    person.force_login(UserFactory(username="researcher"))
    for _ in range(3):
        assert person.get("/recommendations/").status_code == 200

    text = _limited(person.get("/recommendations/"), retry_after=30)
    assert "Your account made more than 3 searches" in text
    assert Client(REMOTE_ADDR=ADDRESS).get("/recommendations/").status_code == 200  # the address is not counted


def test_an_htmx_search_past_the_limit_is_sent_to_the_whole_page(limits):
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(3):
        client.get("/recommendations/", {"q": "water"}, HTTP_HX_REQUEST="true")

    response = client.get("/recommendations/", {"q": "water"}, HTTP_HX_REQUEST="true")

    _limited(response, retry_after=30)
    assert response["HX-Redirect"] == "/recommendations/?q=water"  # htmx swaps no 429 in; the browser shows it


def test_other_pages_are_not_counted(limits):
    client = Client(REMOTE_ADDR=ADDRESS)
    for _ in range(3):
        client.get("/recommendations/")

    assert [client.get(path).status_code for path in ("/", "/states/", "/statistics/")] == [200, 200, 200]
    assert client.get("/recommendations/").status_code == 429


# --- downloads -------------------------------------------------------------------------------------------------


def test_every_download_counts_against_one_limit_with_the_dumps_suggested(limits):
    client = Client(REMOTE_ADDR=ADDRESS)

    assert client.get("/recommendations/export.csv").status_code == 200
    client.get("/statistics/overall.csv")  # 404 before the first computation, counted all the same
    for path in ("/recommendations/export.xlsx", "/statistics/issue.csv", "/dumps/recommendations.csv.gz"):
        text = _limited(client.get(path), retry_after=3570)  # the hour ends in 59 min 29.75 s
        assert "more than 2 downloads in an hour" in text
        assert "Please wait 60 minutes" in text
        assert "public data dumps" in text
    assert client.get("/recommendations/").status_code == 200  # searching is another count


def test_an_organisations_export_counts_per_member(limits, cast):
    member = Client(REMOTE_ADDR=ADDRESS)
    member.force_login(cast.member_a)

    assert [member.get("/work/ligue-a/export.csv").status_code for _ in range(2)] == [200, 200]
    _limited(member.get("/work/ligue-a/export.xlsx"), retry_after=3570)
    colleague = Client(REMOTE_ADDR=ADDRESS)
    colleague.force_login(cast.editor_a)
    assert colleague.get("/work/ligue-a/export.csv").status_code == 200


# --- login attempts --------------------------------------------------------------------------------------------


def test_login_attempts_are_limited_per_address_whatever_the_username(limits):
    UserFactory(username="amina", password="right-password-1")
    client = Client(REMOTE_ADDR=ADDRESS)
    for name in ("alice", "bob", "carol"):  # one failure each: django-axes, per username, locks none of them
        response = client.post("/accounts/login/", {"username": name, "password": "guess"})
        assert response.status_code == 200 and "_auth_user_id" not in client.session

    assert client.get("/accounts/login/").status_code == 200  # reading the form is no attempt
    response = client.post("/accounts/login/", {"username": "amina", "password": "right-password-1"})

    text = _limited(response, retry_after=3570)
    assert "more than 3 login attempts in an hour" in text
    assert "_auth_user_id" not in client.session  # refused before the password was checked
    amina = Client(REMOTE_ADDR=OTHER_ADDRESS)
    assert amina.post("/accounts/login/", {"username": "amina", "password": "right-password-1"}).status_code == 302


def test_the_admin_login_and_password_resets_count_as_login_attempts(limits):
    client = Client(REMOTE_ADDR=ADDRESS)

    client.post("/admin/login/", {"username": "root", "password": "guess"})
    client.post("/accounts/password/reset/", {"email": "someone@example.org"})
    client.post("/accounts/login/", {"username": "root", "password": "guess"})

    _limited(client.post("/admin/login/", {"username": "root", "password": "guess"}), retry_after=3570)
    _limited(client.post("/accounts/password/reset/", {"email": "x@example.org"}), retry_after=3570)


def test_axes_reads_the_address_the_limits_read(settings):
    """Behind one proxy (UPRTRAX_API_NUM_PROXIES=1) django-axes locks a username from the forwarded address only."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="amina", password="right-password-1")
    proxy = "172.18.0.1"  # every request comes from the proxy's address
    attacker = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(2):
        attacker.post("/accounts/login/", {"username": "amina", "password": "guess"})
    locked = attacker.post("/accounts/login/", {"username": "amina", "password": "guess"})
    assert "Too many failed logins" in page_text(locked)

    amina = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.20")
    response = amina.post("/accounts/login/", {"username": "amina", "password": "right-password-1"})

    assert response.status_code == 302
    assert int(amina.session["_auth_user_id"]) == User.objects.get(username="amina").pk


# --- the counting ----------------------------------------------------------------------------------------------


def test_the_count_lives_in_redis_where_every_worker_reads_it(limits):
    """Two requests, then the count read back by a client of its own, as another gunicorn worker would."""
    client = Client(REMOTE_ADDR=ADDRESS)
    client.get("/recommendations/")
    client.get("/recommendations/")
    window = int(NOW // 60)

    other_process = redis.Redis.from_url(limits.CACHES["default"]["LOCATION"])
    key = cache.make_key(f"ratelimit:search:addr-{ADDRESS}:{window}")
    assert int(other_process.get(key)) == 2
    assert 0 < other_process.ttl(key) <= 61  # gone once its window is over
    other_process.set(key, 3)  # what other workers counted
    assert client.get("/recommendations/").status_code == 429


def test_a_check_is_one_round_trip_to_redis(limits, monkeypatch):
    sent = []
    original = redis.connection.Connection.send_packed_command

    def counting(connection, command, *args, **kwargs):
        sent.append(command)
        return original(connection, command, *args, **kwargs)

    request = RequestFactory(REMOTE_ADDR=ADDRESS).get("/recommendations/")
    request.user = SimpleNamespace(is_authenticated=False)
    ratelimit.rate_check(request, "search")  # the connection is opened (its handshake is no request's cost)
    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counting)

    verdict = ratelimit.rate_check(request, "search")

    assert len(sent) == 1
    assert verdict.allowed and verdict.limit == 3 and verdict.retry_after == 30


def test_requests_go_through_uncounted_when_redis_does_not_answer(limits, monkeypatch, caplog):
    with socket_closed() as port:
        unreachable = ratelimit._redis_for(f"redis://127.0.0.1:{port}/0")  # as the site's client is configured
        monkeypatch.setattr(ratelimit, "_redis_client", lambda: unreachable)
        request = RequestFactory(REMOTE_ADDR=ADDRESS).get("/recommendations/")
        request.user = SimpleNamespace(is_authenticated=False)
        started = time.monotonic()
        verdicts = [ratelimit.rate_check(request, "search") for _ in range(5)]

    assert all(verdict.allowed for verdict in verdicts)  # 5 > 3, but nothing could be counted
    assert time.monotonic() - started < 2.5  # no retries: each check waits at most REDIS_TIMEOUT
    assert "Rate limit not counted" in caplog.text


class socket_closed:
    """A local port where nothing listens."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]

    def __exit__(self, *exc):
        return False


def test_without_redis_the_process_cache_counts(limits, monkeypatch):
    """`make run` has no Redis: the limits still hold, in the process's own cache."""
    monkeypatch.setattr(ratelimit, "_redis_client", lambda: None)
    client = Client(REMOTE_ADDR="192.0.2.99")

    assert [client.get("/recommendations/").status_code for _ in range(4)] == [200, 200, 200, 429]
    cache.delete(f"ratelimit:search:addr-192.0.2.99:{int(NOW // 60)}")


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({"REMOTE_ADDR": "203.0.113.5"}, "203.0.113.5"),
        ({"REMOTE_ADDR": "2001:db8:1:2:3:4:5:6"}, "2001:db8:1:2::"),  # an IPv6 client counts by its /64
        ({"REMOTE_ADDR": "::ffff:203.0.113.5"}, "203.0.113.5"),
        ({"REMOTE_ADDR": "203.0.113.5", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}, "203.0.113.5"),
    ],
)
def test_client_address(meta, expected):
    assert ratelimit.client_address(RequestFactory().get("/", **meta)) == expected


def test_client_address_behind_one_proxy_is_the_forwarded_one(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    forwarded = RequestFactory().get("/", REMOTE_ADDR="172.18.0.1", HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.4")
    garbage = RequestFactory().get("/", REMOTE_ADDR="172.18.0.1", HTTP_X_FORWARDED_FOR="not-an-address")

    assert ratelimit.client_address(forwarded) == "192.0.2.4"  # the last hop's, appended by our proxy
    assert ratelimit.client_address(garbage) == "172.18.0.1"


def test_every_limited_page_names_a_real_url_and_group():
    from django.urls import NoReverseMatch, reverse

    for name, group in ratelimit.LIMITED.items():
        assert group in ratelimit.GROUPS
        try:
            reverse(name)
        except NoReverseMatch as error:
            assert "arguments" in str(error), f"{name}: no such URL name"
