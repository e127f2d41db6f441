"""Rate limits of the site's expensive pages (the API has its own: uprtrax/api_throttles.py).

RateLimitMiddleware counts every request to a page of LIMITED, per signed-in person or else per address, in fixed
windows (a minute, an hour...) of the shared cache: Redis in production, so that one count holds across gunicorn's
workers and the web containers. Past the limit the page answers 429 with Retry-After and a page saying why and when
to come back (templates/429.html); an htmx request (a facet changed on the search page) is sent to that page whole.

- search: the search page, the busiest one. Its limit is generous (UPRTRAX_RATE_SEARCH, 120 a minute: a person
  clicking through facets never meets it, a crawler does).
- export: what is downloaded: the search's CSV and XLSX, the statistics' CSV files, an organisation's export, the
  public dump's files (UPRTRAX_RATE_EXPORT).
- login: attempts to log in (the site's and the admin's login pages) and password reset requests, whatever the
  username (UPRTRAX_RATE_LOGIN): django-axes locks one username from one address after a few failures, this stops
  one address from trying many usernames.

The address is the one the API's throttles see (UPRTRAX_API_NUM_PROXIES: behind one proxy that sets
X-Forwarded-For, 1); an IPv6 client counts by its /64, which one household or server gets whole. django-axes reads
it too (AXES_CLIENT_IP_CALLABLE).

Why not a library: django-ratelimit (the usual choice) has had no release since 4.1.0 of July 2023, and counts with
cache.add() then cache.incr(), three Redis round trips on Django's RedisCache (SET NX, EXISTS, INCRBY), failing
closed (everybody refused) when Redis is away; DRF's throttles keep a list of every request's time per client, read
and written whole on each request (120 floats for the search's limit). Here a check is one round trip (INCR and
EXPIRE pipelined) on the cache's Redis, and a Redis outage lets requests through (logged), as the rest of the site
carries on without its cache.
"""

import functools
import ipaddress
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.module_loading import import_string
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# Seconds the Redis client waits for the cache before letting the request through uncounted.
REDIS_TIMEOUT = 0.5


@dataclass(frozen=True)
class Limit:
    setting: str  # the rate in settings: "<number>/<second|minute|hour|day>" (uprtrax.env.env_rate)
    counted: str  # what is counted, for the 429 page
    methods: tuple[str, ...] = ()  # only these methods count; none named: every method


GROUPS = {
    "search": Limit("RATE_SEARCH", "searches"),
    "export": Limit("RATE_EXPORT", "downloads"),
    "login": Limit("RATE_LOGIN", "login attempts", methods=("POST",)),
}

# The limited pages, by URL name, and the group whose count each adds to.
LIMITED = {
    "recommendations:recommendation_list": "search",
    "recommendations:export_csv": "export",
    "recommendations:export_xlsx": "export",
    "followup:statistics_csv": "export",
    "dashboard:export_csv": "export",
    "dashboard:export_xlsx": "export",
    "dumps:file": "export",
    "accounts:login": "login",
    "accounts:password_reset": "login",
    "admin:login": "login",
}


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or the one UPRTRAX_API_NUM_PROXIES proxies put in X-Forwarded-For (DRF's
    reading, as the API's throttles), an IPv6 address as its /64 network. What is no address gives REMOTE_ADDR."""
    found = BaseThrottle().get_ident(request)
    try:
        address = ipaddress.ip_address(found)
    except ValueError:
        return request.META.get("REMOTE_ADDR", "")
    if address.version == 6:
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def rate_parse(rate: str) -> tuple[int, int]:
    """A rate such as 120/minute as (120, 60): the number of requests and the window's seconds."""
    number, _, period = rate.partition("/")
    return int(number), _PERIODS[period]


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    limit: int
    seconds: int  # the window
    retry_after: int  # seconds until the window ends


def rate_check(request, group: str) -> Verdict:
    """Count this request in its group's window, per person or address; whether it stays within the limit."""
    limit, seconds = rate_parse(getattr(settings, GROUPS[group].setting))
    user = getattr(request, "user", None)
    who = f"user-{user.pk}" if user is not None and user.is_authenticated else f"addr-{client_address(request)}"
    now = time.time()
    window = int(now // seconds)
    count = _hit(f"ratelimit:{group}:{who}:{window}", seconds)
    retry_after = max(1, math.ceil((window + 1) * seconds - now))
    return Verdict(allowed=count is None or count <= limit, limit=limit, seconds=seconds, retry_after=retry_after)


def _hit(key: str, seconds: int) -> int | None:
    """Add one to the window's counter and return it, in one round trip to Redis. None: the cache did not answer,
    and the request goes through uncounted rather than every visitor being refused."""
    client = _redis_client()
    if client is None:  # no Redis (`make run`): the cache of this process
        cache.add(key, 0, seconds + 1)
        try:
            return cache.incr(key)
        except ValueError:  # expired in between
            return None
    full_key = cache.make_key(key)  # the cache's prefix and version: cleared with the cache
    try:
        count, _ = client.pipeline(transaction=False).incr(full_key).expire(full_key, seconds + 1).execute()
    except Exception as error:  # redis' ConnectionError, TimeoutError...: any failure to count
        logger.warning("Rate limit not counted, the cache did not answer: %s", error)
        return None
    return count


def _redis_client():
    """A Redis client on the default cache's server when that cache is Redis (Django's RedisCache has no atomic
    "increment, creating the key" to call), else None."""
    backend = settings.CACHES["default"]
    location = backend.get("LOCATION")
    if not isinstance(location, str) or not _is_redis(backend["BACKEND"]):
        return None
    return _redis_for(location)


@functools.cache
def _is_redis(backend: str) -> bool:
    return issubclass(import_string(backend), RedisCache)


@functools.cache
def _redis_for(location: str):
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: a request waits at most REDIS_TIMEOUT for its count, then goes on uncounted.
    return redis.Redis.from_url(
        location, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT, retry=Retry(NoBackoff(), 0)
    )


def too_many_requests(request, group: str, verdict: Verdict):
    """The 429 page: what was counted, the limit, when to come back."""
    context = {
        "counted": GROUPS[group].counted,
        "group": group,
        "limit": verdict.limit,
        "period": _period_text(verdict.seconds),
        "retry_after": verdict.retry_after,
        "wait": _wait_text(verdict.retry_after),
        "signed_in": request.user.is_authenticated,
    }
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    add_never_cache_headers(response)
    if request.headers.get("HX-Request") == "true":
        response["HX-Redirect"] = request.get_full_path()  # htmx swaps no error: the browser shows the page whole
    return response


def _period_text(seconds: int) -> str:
    return {1: "a second", 60: "a minute", 3600: "an hour", 86400: "a day"}[seconds]


def _wait_text(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    if seconds <= 7200:
        return f"{math.ceil(seconds / 60)} minutes"
    return f"{math.ceil(seconds / 3600)} hours"


class RateLimitMiddleware:
    """Counts the requests to the pages of LIMITED (after AuthenticationMiddleware: a signed-in person is counted as
    themself) and answers 429 past their group's limit, before the view runs."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        group = LIMITED.get(match.view_name) if match is not None else None
        if group is None:
            return None
        methods = GROUPS[group].methods
        if methods and request.method not in methods:
            return None
        verdict = rate_check(request, group)
        return None if verdict.allowed else too_many_requests(request, group, verdict)
