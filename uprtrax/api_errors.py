"""One shape for every error of the API, whoever answers it (a view, DRF, or Django itself):

    {"error": {"code": "validation_error", "message": "<one sentence for a person>",
               "fields": {"cycle": ["There is no cycle 9: the cycles are 1, 2, 3, 4."]}}}

`code` is stable snake_case for programs (the table in ERROR_RESPONSES); `message` is for people; `fields` comes
with validation errors only (nested fields are dotted: `organisation.slug`, list items numbered). A few errors add
keys of their own beside them: `current` (the assessment as it now is) and `conflicts` with a 409, `retry_after`
with a 429 and a 503. Views keep raising DRF's exceptions (ValidationError({"field": [...]}), NotFound,
PermissionDenied, Conflict below...): `exception_handler` (REST_FRAMEWORK's EXCEPTION_HANDLER) reshapes them, and
the handlers of uprtrax/urls.py do the same for what Django answers under /api/ (an unknown address, a crash).
"""

import sys
from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import exceptions, serializers, status

API_PREFIX = "/api/"
# What the database raises while it cannot be reached (a restart, a failover): a 503, not a 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
UNKNOWN_NAMED_MAX = 20  # unknown fields named in one answer (a body of 100,000 keys gets 20 messages, not 100,000)


class Conflict(exceptions.APIException):
    """409: the request collides with the state of the data (a stale version, a run in the wrong state). `extra`
    goes beside code and message, e.g. {"current": <the assessment as it now is>}."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the data."
    default_code = "conflict"

    def __init__(self, detail=None, code=None, *, extra: dict | None = None):
        super().__init__(detail, code)
        self.extra = extra or {}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request's body is too large."
    default_code = "payload_too_large"


class NotReady(exceptions.APIException):
    """503 with Retry-After: what was asked for does not exist yet (the statistics before their first computation)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Not available yet: try again later."
    default_code = "not_ready"

    def __init__(self, detail=None, code=None, *, wait: int):
        super().__init__(detail, code)
        self.wait = wait


class UnknownFieldsRefused:
    """For a write serializer: a field it does not know is refused (400 naming it), not ignored, so that a typo
    ("satus") or a field the API does not take is never taken for a field left out. Keys in `ignored_fields` pass."""

    ignored_fields: frozenset[str] = frozenset({"csrfmiddlewaretoken"})  # a form's CSRF token

    def to_internal_value(self, data):
        unknown = {}
        if isinstance(data, Mapping):
            known = [name for name, field in self.fields.items() if not field.read_only]
            for name in data:
                if name not in self.fields and name not in self.ignored_fields and len(unknown) < UNKNOWN_NAMED_MAX:
                    unknown[str(name)[:60]] = [f"Unknown field “{str(name)[:60]}”: the fields are {', '.join(known)}."]
        try:
            value = super().to_internal_value(data)
        except exceptions.ValidationError as error:
            if unknown and isinstance(error.detail, dict):
                raise exceptions.ValidationError({**error.detail, **unknown}) from None
            raise
        if unknown:
            raise exceptions.ValidationError(unknown)
        return value


_TOO_LARGE = (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)


def exception_handler(exc, context):
    """REST_FRAMEWORK's EXCEPTION_HANDLER: DRF's own (headers such as WWW-Authenticate and Retry-After, the
    transaction's rollback), its body put in the one shape. Anything else is left to Django (a 500, logged)."""
    from rest_framework.views import exception_handler as drf_exception_handler  # that module imports this one's

    if isinstance(exc, _TOO_LARGE):  # Django's limits, met while the body was read
        exc = PayloadTooLarge(_too_large_message(exc, context))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = error_body(**_described(exc, context))
    return response


def error_body(*, code: str, message: str, fields: dict | None = None, **extra) -> dict:
    error = {"code": code, "message": message}
    if fields is not None:
        error["fields"] = fields
    return {"error": {**error, **extra}}


def _described(exc: exceptions.APIException, context: dict) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        fields = _flat_fields(exc.detail)
        return {"code": "validation_error", "message": _validation_message(fields), "fields": fields}
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    described = {"code": code, "message": _sentence(str(exc.detail))}
    if isinstance(exc, exceptions.Throttled):
        described["message"] = (
            f"Too many requests: try again in {_seconds(exc.wait)}. The limits are in the API's documentation "
            "(/api/docs/); for all the data at once, take the bulk dumps."
        )
    elif isinstance(exc, exceptions.MethodNotAllowed) and context.get("request") is not None:
        described["message"] = f"{context['request'].method[:20]} is not allowed at this address."
    elif isinstance(exc, exceptions.NotAuthenticated):
        described["message"] = (
            "This needs credentials: send a personal API token (Authorization: Bearer upx_…), created on your "
            "profile page."
        )
    if getattr(exc, "wait", None) is not None:
        described["retry_after"] = int(exc.wait)
    if isinstance(exc, Conflict):
        described.update(exc.extra)
    return described


def _flat_fields(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as {"field": [messages]}, nested names dotted ("organisation.slug", "recommendations.3")."""
    name = prefix or "non_field_errors"
    if isinstance(detail, dict):
        fields = {}
        for key, value in detail.items():
            fields.update(_flat_fields(value, f"{prefix}.{key}" if prefix else str(key)))
        return fields
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {name: [str(item) for item in detail]}
        fields = {}
        for index, item in enumerate(detail):
            if item:  # a list of nested errors has an empty entry for each valid item
                fields.update(_flat_fields(item, f"{prefix}.{index}" if prefix else str(index)))
        return fields
    return {name: [str(detail)]}


def _validation_message(fields: dict[str, list[str]]) -> str:
    if len(fields) == 1:
        name, messages = next(iter(fields.items()))
        first = messages[0] if messages else "invalid."
        return first if name == "non_field_errors" else f"{name}: {first}"
    return f"{len(fields)} fields were refused ({', '.join(fields)}): nothing was written. See `fields`."


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "!", "?", ")", "”", '"')) else f"{text}."


def _seconds(wait) -> str:
    wait = int(wait or 1)
    return "1 second" if wait == 1 else f"{wait:,} seconds"


def size_text(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / 1024 / 1024:.1f} MB"
    return f"{size / 1024:.1f} KB" if size >= 1024 else f"{size:,} bytes"


def _too_large_message(exc: Exception, context: dict) -> str:
    if isinstance(exc, RequestDataTooBig):
        request = context.get("request")
        limit = size_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if request is not None and str(request.content_type).startswith("multipart/form-data"):
            return f"The form's fields hold too much: together, files apart, they may hold at most {limit}."
        declared = str(request.META.get("CONTENT_LENGTH", "")) if request is not None else ""
        held = f"holds {size_text(int(declared))}" if declared.isdigit() else "is too large"
        return f"The body {held}: an API request may send at most {limit}."
    if isinstance(exc, TooManyFilesSent):
        return f"Too many files: an API request may send at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,}."
    return f"Too many fields: an API request may send at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}."


# --- What Django answers under /api/ (handler400, handler403, handler404 and handler500 of uprtrax/urls.py) --------


def _api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _json(code: str, message: str, status_code: int) -> JsonResponse:
    return JsonResponse(error_body(code=code, message=message), status=status_code)


def bad_request(request, exception, message: str = "The request could not be read."):
    if _api(request):
        return _json("bad_request", message, 400)
    if isinstance(exception, _TOO_LARGE):  # a form over Django's limits, met by the CSRF check or the view
        from uprtrax.middleware import body_too_large, too_large_message  # that module imports this one

        return body_too_large(request, too_large_message(exception))
    return defaults.bad_request(request, exception)


def permission_denied(request, exception):
    if _api(request):
        return _json("permission_denied", "You may not do this.", 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    if _api(request):
        return _json(
            "not_found",
            f"There is no API endpoint at {request.path[:200]}: the endpoints are listed at /api/v1/ and described "
            "at /api/docs/.",
            404,
        )
    return defaults.page_not_found(request, exception)


# Seconds a client is asked to wait (Retry-After) while the database cannot be reached.
DATABASE_RETRY_SECONDS = 30


def server_error(request):
    if isinstance(sys.exception(), DATABASE_UNAVAILABLE):  # Django calls this handler while handling the error
        return database_unavailable(request)
    if _api(request):
        return _json(
            "server_error", "uprtrax failed to answer this request. The error was logged; try again later.", 500
        )
    return defaults.server_error(request)


def database_unavailable(request):
    """503 with Retry-After while the database cannot be reached (restarting, failing over): a short page, or the
    API's error, never a traceback. Rendered without the request's context: that would read the database."""
    message = (
        f"The database cannot be reached for a moment (nothing is ever half-saved). Try again in "
        f"{DATABASE_RETRY_SECONDS} s."
    )
    if _api(request):
        response = JsonResponse(
            error_body(code="not_ready", message=message, retry_after=DATABASE_RETRY_SECONDS), status=503
        )
    else:
        page = loader.render_to_string("503.html", {"retry_after": DATABASE_RETRY_SECONDS})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(DATABASE_RETRY_SECONDS)
    return response


# --- The shape in the OpenAPI schema ------------------------------------------------------------------------------


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: validation_error, not_found, throttled…")
    message = serializers.CharField(help_text="One sentence for a person.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Validation errors only: each field refused, with messages naming the value ("non_field_errors": '
        "errors of the whole request).",
    )


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class RetryErrorDetailSerializer(ErrorDetailSerializer):
    retry_after = serializers.IntegerField(help_text="Seconds to wait, as in the Retry-After header.")


class RetryErrorSerializer(serializers.Serializer):
    error = RetryErrorDetailSerializer()


def _example(status_code: int, code: str, message: str, **extra) -> OpenApiExample:
    return OpenApiExample(
        code, value=error_body(code=code, message=message, **extra), status_codes=[str(status_code)], response_only=True
    )


def _response(description: str, *examples: OpenApiExample, serializer=ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(response=serializer, description=description, examples=list(examples))


# The errors every view may answer, by status: `extend_schema(responses={200: ..., **errors(400, 404)})`.
ERROR_RESPONSES: dict[int, OpenApiResponse] = {
    400: _response(
        "The request was refused: a parameter or a field of the body is invalid (`validation_error`, with "
        "`fields`), or the body is not valid JSON (`parse_error`). Nothing was written.",
        _example(
            400,
            "validation_error",
            "cycle: There is no cycle 9: the cycles are 1, 2, 3, 4.",
            fields={"cycle": ["There is no cycle 9: the cycles are 1, 2, 3, 4."]},
        ),
        _example(400, "parse_error", "The body is not valid JSON: Expecting value (line 1, column 12)."),
    ),
    401: _response(
        "The API token is malformed, unknown or revoked (`authentication_failed`), or the request needs one "
        "(`not_authenticated`). The WWW-Authenticate header names the scheme: `Bearer`.",
        _example(401, "authentication_failed", "Unknown or revoked API token."),
    ),
    403: _response(
        "Not allowed: the organisation is not yours, the token may only read, or the session's CSRF token is "
        "missing (`permission_denied`).",
        _example(
            403,
            "permission_denied",
            "This token may only read: create one with the scope “write_assessments” to write.",
        ),
    ),
    404: _response(
        "Nothing at this address, or nothing you may see there (`not_found`).",
        _example(404, "not_found", "No Assessment matches the given query."),
    ),
    405: _response("The method is not allowed at this address (`method_not_allowed`)."),
    406: _response(
        "The Accept header asks for a format the API does not give (`not_acceptable`): ask for application/json."
    ),
    409: _response(
        "The request collides with the data as it now is (`conflict`): see the message.",
        _example(409, "conflict", "Only a successful preview can be confirmed; this run is failed."),
    ),
    413: _response(
        "The body is too large (`payload_too_large`).",
        _example(413, "payload_too_large", "The body holds 3.1 MB: an API request may send at most 2.5 MB."),
    ),
    415: _response("The body's Content-Type is not one the operation reads (`unsupported_media_type`)."),
    429: _response(
        "Too many requests (`throttled`): wait the seconds of the Retry-After header.",
        _example(429, "throttled", "Too many requests: try again in 12 seconds.", retry_after=12),
        serializer=RetryErrorSerializer,
    ),
    503: _response(
        "Not available yet (`not_ready`): try again after the seconds of the Retry-After header.",
        serializer=RetryErrorSerializer,
    ),
}


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """ERROR_RESPONSES for these statuses, to spread into `extend_schema(responses=...)`."""
    return {code: ERROR_RESPONSES[code] for code in statuses}
