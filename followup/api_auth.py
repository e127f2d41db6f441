"""How the API knows who calls: the browser's session (with its CSRF check), or a personal API token.

A token comes as `Authorization: Bearer <key>` (or `Token <key>`). A malformed, unknown or revoked token is refused
with 401 and a WWW-Authenticate header, never read as an anonymous request: a script with a dead token must fail
loudly, not quietly see only public data. A token writes only where a view says tokens may (`token_writes = True`,
the assessments), and only with the scope `write_assessments` (TokenScope); every other write by token is refused.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission

from followup.models import ApiToken
from followup.services import tokens

KEYWORDS = ("bearer", "token")
AUTH_HEADER = 'Bearer realm="api"'


class TokenRefused(exceptions.APIException):
    """401 with its WWW-Authenticate header. Not an AuthenticationFailed: DRF turns those into 403 when the first
    authentication class (the session) names no header scheme."""

    status_code = status.HTTP_401_UNAUTHORIZED
    default_code = "authentication_failed"
    auth_header = AUTH_HEADER


class ApiTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        keyword, _, rest = header.strip().partition(" ")
        if keyword.lower() not in KEYWORDS:
            return None  # no credentials, or another scheme: not ours to judge
        key = rest.strip()
        if not tokens.key_well_formed(key):
            raise TokenRefused(f"Malformed API token: give “{keyword} upx_…”, the whole key as it was shown.")
        found = tokens.token_user(key)
        if found is None:
            raise TokenRefused("Unknown or revoked API token.")
        user, token = found
        view = request.parser_context.get("view") if request.parser_context else None
        if request.method not in SAFE_METHODS and not getattr(view, "token_writes", False):
            raise exceptions.PermissionDenied("API tokens write assessments only: sign in on the site to do this.")
        return user, token

    def authenticate_header(self, request):
        return AUTH_HEADER


class TokenScope(BasePermission):
    """A request authenticated by a token writes only when the token's scope is `write_assessments`."""

    message = "This token may only read: create one with the scope “write_assessments” to write."

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS or not isinstance(request.auth, ApiToken):
            return True
        return request.auth.scope == ApiToken.Scope.WRITE_ASSESSMENTS


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token scheme in the OpenAPI schema (drf-spectacular finds it by its target class)."""

    target_class = ApiTokenAuthentication
    name = "ApiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "upx_…",
            "description": (
                "A personal API token, created on your profile page (Account → API tokens) and shown once: "
                "`Authorization: Bearer upx_…`. Scope `read` reads what you may see on the site; "
                "`write_assessments` also writes your organisations' assessments. A malformed, unknown or revoked "
                "token is refused with 401."
            ),
        }
