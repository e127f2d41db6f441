"""The OpenAPI schema's view of every operation (REST_FRAMEWORK's DEFAULT_SCHEMA_CLASS): drf-spectacular's, plus
the errors that any operation may answer, so that a view lists only its own.

Everywhere: 401 (a bad token), 406 (an Accept header the API cannot satisfy), 429 (the rate limits, with
Retry-After). With a body: 400, 413, 415. With query parameters: 400. With a path parameter or pages: 404. Writes:
403 (CSRF, a token's scope). The descriptions and examples are uprtrax.api_errors.ERROR_RESPONSES'.
"""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter
from rest_framework.permissions import SAFE_METHODS

from uprtrax.api_errors import ERROR_RESPONSES

_RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    int,
    OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before trying again.",
)
_WWW_AUTHENTICATE = OpenApiParameter(
    "WWW-Authenticate",
    str,
    OpenApiParameter.HEADER,
    response=[401],
    description='The scheme to authenticate with: `Bearer realm="api"`.',
)


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self):
        return [*super().get_override_parameters(), _RETRY_AFTER, _WWW_AUTHENTICATE]

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in self._shared_errors(operation):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(ERROR_RESPONSES[code], str(code))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def _shared_errors(self, operation: dict) -> list[int]:
        codes = [401, 406, 429]
        if self.method not in SAFE_METHODS:
            codes += [403, 413, 415]
            if "requestBody" in operation:
                codes.append(400)
        parameters = operation.get("parameters", [])
        if any(parameter["in"] == "query" for parameter in parameters):
            codes.append(400)
        if any(parameter["in"] == "path" for parameter in parameters) or self._get_paginator() is not None:
            codes.append(404)
        return codes
