"""The API's body parsers (REST_FRAMEWORK's DEFAULT_PARSER_CLASSES): DRF's, with messages for people and a limit
on multipart bodies.

DRF reads a JSON or form body through Django's `request.body`, which refuses one over DATA_UPLOAD_MAX_MEMORY_SIZE
(RequestDataTooBig: 413 in uprtrax.api_errors). Django's multipart parser counts only the fields against that limit,
not the files: MultiPartParser refuses, from its Content-Length and before reading it, a body larger than the limit
and the files a view accepts (`file_bytes`; none by default, the imports' own limit for their uploads).
"""

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from uprtrax.api_errors import PayloadTooLarge, size_text


class JSONParser(parsers.JSONParser):
    """JSON, its errors said with line and column; NaN and Infinity, which are not JSON, refused."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding") or settings.DEFAULT_CHARSET
        try:
            text = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(f"The body is not valid JSON: it is not text in {encoding}.") from None
        try:
            return json.loads(text, parse_constant=self._refused_constant)
        except json.JSONDecodeError as exc:
            raise ParseError(
                f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})."
            ) from None
        except ValueError as exc:  # NaN, Infinity
            raise ParseError(f"The body is not valid JSON: {exc}") from None

    @staticmethod
    def _refused_constant(name: str):
        raise ValueError(f"{name} is not a JSON value.")


class MultiPartParser(parsers.MultiPartParser):
    """Fields up to DATA_UPLOAD_MAX_MEMORY_SIZE (Django's parser counts them), files up to `file_bytes` more."""

    file_bytes = 0

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        request = (parser_context or {}).get("request")
        declared = str(request.META.get("CONTENT_LENGTH", "")) if request is not None else ""
        if limit is not None and declared.isdigit() and int(declared) > limit + self.file_bytes:
            raise PayloadTooLarge(
                f"The body holds {size_text(int(declared))}: a request here may send at most "
                f"{size_text(limit + self.file_bytes)}."
            )
        return super().parse(stream, media_type, parser_context)
