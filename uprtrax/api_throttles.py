"""The API's rate limits (REST_FRAMEWORK's DEFAULT_THROTTLE_CLASSES), counted in the cache (Redis in production):

- AnonThrottle: anonymous requests, per address (REMOTE_ADDR, or the address UPRTRAX_API_NUM_PROXIES proxies
  forwarded), at UPRTRAX_API_RATE_ANON;
- TokenThrottle: per API token when the request carries one, else per signed-in user, at UPRTRAX_API_RATE_TOKEN.

Past the limit: 429 with Retry-After (uprtrax.api_errors). The rates are read when each request is checked, not when
the class is defined (DRF's default), so that a changed setting (a test's) applies at once.
"""

from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle


class LiveRateMixin:
    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class AnonThrottle(LiveRateMixin, AnonRateThrottle):
    scope = "anon"


class TokenThrottle(LiveRateMixin, SimpleRateThrottle):
    scope = "token"

    def get_cache_key(self, request, view):
        from followup.models import ApiToken

        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            return None  # anonymous: AnonThrottle counts it
        return self.cache_format % {"scope": self.scope, "ident": ident}
