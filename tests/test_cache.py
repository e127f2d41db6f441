"""The cache backend (uprtrax/cache.py): a Redis that is down costs misses, never a page; it is left alone for a few
seconds after a failure, logged once per outage, and used again once it answers."""

import logging
import os
import socket

import pytest
from django.core.cache import cache

from recommendations import facets
from uprtrax import cache as resilient
from uprtrax.cache import ResilientRedisCache, cache_available


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


@pytest.fixture
def dead_url():
    return f"redis://127.0.0.1:{_closed_port()}/0"


@pytest.fixture(autouse=True)
def _fresh_outages():
    """Each test learns of its servers' state itself (the state is per process, shared by the backend's threads)."""
    resilient._outages.clear()
    yield
    resilient._outages.clear()


def test_a_redis_that_is_down_gives_misses_and_says_so_once(dead_url, caplog):
    backend = ResilientRedisCache(dead_url, {})
    with caplog.at_level(logging.WARNING, logger="uprtrax.cache"):
        assert backend.get("key", "default") == "default"
        assert backend.available is False
        assert backend.set("key", 1) is None
        assert backend.add("key", 1) is False
        assert backend.get_many(["a", "b"]) == {}
        assert backend.get_or_set("key", lambda: 42) == 42
        assert backend.delete("key") is False
        assert backend.has_key("key") is False
        assert backend.set_many({"a": 1}) == ["a"]
        with pytest.raises(ValueError, match="not found"):  # as for a missing key: callers set it then
            backend.incr("counter")
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 1 and warnings[0].startswith("The cache (Redis) is unavailable (ConnectionError")


def test_while_it_is_down_no_call_tries_to_connect(dead_url, monkeypatch):
    backend = ResilientRedisCache(dead_url, {})
    backend.get("key")  # the failure that opens the pause
    tried = []
    monkeypatch.setattr(type(backend._cache), "get", lambda *args: tried.append(args))
    for _ in range(50):
        assert backend.get("key") is None
    assert tried == []


def test_after_the_pause_it_is_tried_again_and_used_when_it_answers(monkeypatch, caplog):
    url = os.environ["REDIS_URL"]
    backend = ResilientRedisCache(url, {})
    backend._outage.failing, backend._outage.down_until = True, 0.0  # an outage just over
    with caplog.at_level(logging.WARNING, logger="uprtrax.cache"):
        backend.set("uprtrax-test:cache", "back", 30)
        assert backend.get("uprtrax-test:cache") == "back"
    assert backend.available and not backend._outage.failing
    assert [record.getMessage() for record in caplog.records] == ["The cache (Redis) answers again."]
    backend.delete("uprtrax-test:cache")


def test_the_connection_gives_up_quickly_unless_told_otherwise(dead_url):
    assert ResilientRedisCache(dead_url, {})._options == {"socket_connect_timeout": 1.0, "socket_timeout": 2.0}
    options = ResilientRedisCache(dead_url, {"OPTIONS": {"socket_timeout": 5}})._options
    assert options == {"socket_connect_timeout": 1.0, "socket_timeout": 5}


@pytest.fixture
def redis_down(settings, dead_url):
    """The site's cache is a Redis that is down (the settings fixture resets Django's cache handler)."""
    settings.CACHES = {"default": {"BACKEND": "uprtrax.cache.ResilientRedisCache", "LOCATION": dead_url}}
    settings.SEARCH_CACHE_SECONDS = 3600  # the counts are cached, as in production (the tests' default: not)
    yield
    cache.close()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/recommendations/",
        "/recommendations/?q=torture",
        "/recommendations/?sur=FRA&response=accepted",
        "/states/",
        "/states/FRA/",
        "/sessions/",
        "/api/v1/recommendations/?sur=FRA",
        "/api/v1/states/",
    ],
)
def test_pages_and_the_api_answer_while_redis_is_down(client, redis_down, url):
    """Facet and browse counts, the search's data version and the rate limits all live in the cache."""
    assert client.get(url).status_code == 200
    assert cache_available() is False, "the page did use the cache"


@pytest.mark.django_db
def test_the_search_keeps_its_data_version_while_the_cache_is_away(settings, redis_down, monkeypatch):
    """A new version at each call would have every search build its bitmaps again."""
    monkeypatch.setattr(facets, "_version_seen", 1234)
    assert facets.data_version() == 1234
    assert facets.data_version() == 1234
    facets.search_data_changed()  # a change meanwhile: no error (the version is moved on when Redis is back)
    assert facets.data_version() == 1234
