"""Public pages kept whole in the cache for visitors who are not signed in, until the data changes.

Most readers of uprtrax (diplomats browsing a state, researchers following a link to a recommendation or a search)
are not signed in, and see exactly what every other anonymous visitor sees. `anonymous_page_cache` keeps such a
page's HTML in the cache (Redis in production) under its address and the data's version
(recommendations.facets.data_version, moved on by every import, assessment and change through
search_data_changed()), so that a change shows at once and an unchanged page is rendered once, not once per visitor.

Never kept: anything for a visitor with a session cookie (signed in, or with messages waiting); any method but GET
and HEAD; any answer but a 200; an answer that sets a cookie or used the CSRF token (a form that posts: its token
belongs to one visitor); a streamed answer. A page kept answers with `X-Page-Cache: hit`. While the cache is
unavailable (Redis down) pages are rendered as usual. UPRTRAX_PAGE_CACHE_SECONDS (300 s by default; 0: off) bounds
how long a page is kept even when nothing changes.
"""

import functools
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.http import HttpResponse
from rest_framework.response import Response

from recommendations.facets import data_version

_MESSAGES_COOKIE = "messages"  # django.contrib.messages' cookie storage
_VARY = ("HX-Request", "HX-History-Restore-Request")  # request headers that change the page (htmx partials)


def _key(request, version: str) -> str:
    varying = "|".join(request.headers.get(name, "") for name in _VARY)
    address = hashlib.sha256(f"{request.build_absolute_uri()}|{varying}".encode()).hexdigest()[:32]
    # The static files' manifest (production: hashed names): a page kept before a deploy names the old CSS and
    # scripts, which the new image no longer serves.
    build = getattr(staticfiles_storage, "manifest_hash", "") or ""
    return f"uprtrax:page:{data_version()}:{version}:{build}:{address}"


def _keepable(request, response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not response.has_header("Set-Cookie")
    )


def anonymous_page_cache(view=None, *, also: Callable[[], object] | None = None):
    """Keep the view's page for anonymous visitors until the data changes (see the module's docstring); `also`:
    the version of anything else the page shows (the statistics' snapshots), read at each request."""
    if view is None:
        return functools.partial(anonymous_page_cache, also=also)

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        seconds = settings.PAGE_CACHE_SECONDS
        if (
            not seconds
            or request.method not in ("GET", "HEAD")
            or settings.SESSION_COOKIE_NAME in request.COOKIES
            or _MESSAGES_COOKIE in request.COOKIES  # a message waiting to be shown (logged out, say)
            or request.user.is_authenticated
        ):
            return view(request, *args, **kwargs)
        key = _key(request, str(also()) if also else "")
        kept = cache.get(key)
        if kept is not None:
            content, headers = kept
            response = HttpResponse(content)
            for name, value in headers:
                response[name] = value
            response["X-Page-Cache"] = "hit"
            return response
        response = view(request, *args, **kwargs)
        if _keepable(request, response):
            cache.set(key, (response.content, list(response.items())), timeout=seconds)
        return response

    return wrapped


class AnonymousCachedReads:
    """A DRF viewset whose reads (list, retrieve) keep their data for callers without credentials until the data
    changes, as anonymous_page_cache keeps pages: authentication, throttling and content negotiation still run on
    every request; only the queries and the serialising are saved. Answers from the cache carry X-Page-Cache: hit.
    A caller signed in or with a token always gets fresh data (what it may see differs)."""

    def list(self, request, *args, **kwargs):
        return self._kept(request, super().list, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        return self._kept(request, super().retrieve, *args, **kwargs)

    def _kept(self, request, read, *args, **kwargs):
        seconds = settings.PAGE_CACHE_SECONDS
        if not seconds or request.user.is_authenticated or request.auth is not None:
            return read(request, *args, **kwargs)
        key = _key(request._request, "api")
        data = cache.get(key)
        if data is not None:
            response = Response(data)
            response["X-Page-Cache"] = "hit"
            return response
        response = read(request, *args, **kwargs)
        if response.status_code == 200:
            cache.set(key, response.data, timeout=seconds)
        return response
