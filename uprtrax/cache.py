"""The cache backend (CACHES, on REDIS_URL): Django's RedisCache, but a Redis that is down or slow costs a miss, never
a page.

Everything uprtrax keeps in the cache can be computed again or done without: facet and browse counts (computed
from the database), the search's data version (kept in each process meanwhile: recommendations.facets), the API's
rate counters (not counted while Redis is away: requests pass), an import's progress. Django's RedisCache raises on
a connection error, which turned every page that reads the cache into a 500 while Redis restarted. Here an error is
logged once, taken as a miss (get: the default; add, delete, has_key, touch: False; incr: ValueError as for a
missing key; set: nothing stored), and for the next RETRY_SECONDS every call is a miss at once, without a
connection attempt, so that a Redis that does not answer costs one short timeout, not one per call.

Why not django-redis and its IGNORE_EXCEPTIONS: it replaces the backend for a few lines of code, tries Redis again
on every call, and gives no way to tell a miss from an outage, which `available` does (the search keeps its data
version, and the import reaper does not take a silent heartbeat for a dead worker, while Redis is away).
"""

import logging
import threading
import time

from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# Seconds after a failure during which the cache is taken for unavailable (every call a miss, nothing tried).
RETRY_SECONDS = 5.0
# Connection options unless OPTIONS in CACHES says otherwise: a Redis that does not answer is given up quickly.
DEFAULT_OPTIONS = {"socket_connect_timeout": 1.0, "socket_timeout": 2.0}


class _Outage:
    """One process's view of the Redis behind a location: when it failed last, and until when it is left alone."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_until = 0.0
        self.failing = False


_outages: dict[tuple, _Outage] = {}
_outages_lock = threading.Lock()


class ResilientRedisCache(RedisCache):
    """RedisCache whose connection errors are misses (see the module's docstring)."""

    def __init__(self, server, params):
        params = {**params, "OPTIONS": {**DEFAULT_OPTIONS, **(params.get("OPTIONS") or {})}}
        super().__init__(server, params)
        with _outages_lock:  # Django makes one backend per thread: they share what they learnt of the server
            self._outage = _outages.setdefault(tuple(self._servers), _Outage())

    @property
    def available(self) -> bool:
        """False while the last failure is recent (RETRY_SECONDS): calls are misses then."""
        return time.monotonic() >= self._outage.down_until

    def _guarded(self, call, miss):
        if not self.available:
            return miss()
        try:
            result = call()
        except RedisError as error:
            self._failed(error)
            return miss()
        if self._outage.failing:
            with self._outage.lock:
                if self._outage.failing:
                    self._outage.failing = False
                    logger.warning("The cache (Redis) answers again.")
        return result

    def _failed(self, error: RedisError) -> None:
        with self._outage.lock:
            self._outage.down_until = time.monotonic() + RETRY_SECONDS
            first = not self._outage.failing
            self._outage.failing = True
        if first:
            logger.warning(
                "The cache (Redis) is unavailable (%s: %s): pages answer without it, and it is tried again every %g s.",
                type(error).__name__,
                error,
                RETRY_SECONDS,
            )

    def add(self, *args, **kwargs):
        return self._guarded(lambda: super(ResilientRedisCache, self).add(*args, **kwargs), lambda: False)

    def get(self, key, default=None, version=None):
        return self._guarded(lambda: super(ResilientRedisCache, self).get(key, default, version), lambda: default)

    def set(self, *args, **kwargs):
        return self._guarded(lambda: super(ResilientRedisCache, self).set(*args, **kwargs), lambda: None)

    def touch(self, *args, **kwargs):
        return self._guarded(lambda: super(ResilientRedisCache, self).touch(*args, **kwargs), lambda: False)

    def delete(self, *args, **kwargs):
        return self._guarded(lambda: super(ResilientRedisCache, self).delete(*args, **kwargs), lambda: False)

    def get_many(self, *args, **kwargs):
        return self._guarded(lambda: super(ResilientRedisCache, self).get_many(*args, **kwargs), dict)

    def has_key(self, *args, **kwargs):
        return self._guarded(lambda: super(ResilientRedisCache, self).has_key(*args, **kwargs), lambda: False)

    def incr(self, key, delta=1, version=None):
        def missing():
            raise ValueError(f"Key '{key}' not found (the cache is unavailable).")

        return self._guarded(lambda: super(ResilientRedisCache, self).incr(key, delta, version), missing)

    def set_many(self, data, *args, **kwargs):
        return self._guarded(
            lambda: super(ResilientRedisCache, self).set_many(data, *args, **kwargs), lambda: list(data)
        )

    def delete_many(self, *args, **kwargs):
        return self._guarded(lambda: super(ResilientRedisCache, self).delete_many(*args, **kwargs), lambda: None)

    def clear(self):
        return self._guarded(lambda: super(ResilientRedisCache, self).clear(), lambda: False)


def cache_available() -> bool:
    """Whether the default cache answers (always, for a cache that cannot be away: the in-process one)."""
    return getattr(cache, "available", True)
