"""Middleware of the whole site."""

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.shortcuts import render

from uprtrax.api_errors import bad_request, size_text


class NulRefusedMiddleware:
    """A NUL character (%00) in the address is refused with 400 (in the API's error shape under /api/), before a
    view passes it to PostgreSQL, which refuses it in any text: a 500 otherwise. No page or parameter takes one."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _nul_in_query(request):
            return bad_request(request, None, message="The address holds a NUL character (%00), which nothing takes.")
        return self.get_response(request)


def _nul_in_query(request) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists())


class RequestBodyLimitMiddleware:
    """A multipart body larger than the page takes is refused with 413 from its Content-Length, before it is read.

    Django refuses another body over DATA_UPLOAD_MAX_MEMORY_SIZE when it is read, and a form's fields over it, but it
    streams a form's files to a temporary file whatever their size, and the CSRF check reads every POST: without this,
    any page would take gigabytes onto the disk. A page takes its fields (DATA_UPLOAD_MAX_MEMORY_SIZE) plus, for the
    pages of UPLOADS, a file up to their setting. The API's views check the same in their parser
    (uprtrax.api_parsers.MultiPartParser), in the API's error shape. Placed before CsrfViewMiddleware.
    """

    # The pages that take a file, by URL name, and the setting of its largest size in bytes.
    UPLOADS = {"imports:import_list": "IMPORT_MAX_BYTES"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        declared = str(request.META.get("CONTENT_LENGTH") or "")
        if not declared.isdigit() or request.content_type != "multipart/form-data":
            return None
        if _api_view(view_func):
            return None
        match = request.resolver_match
        setting = self.UPLOADS.get(match.view_name) if match is not None else None
        fields = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
        files = getattr(settings, setting) if setting else 0
        if int(declared) <= fields + files:
            return None
        if setting:
            message = (
                f"The upload holds {size_text(int(declared))}: a file here may hold at most {size_text(files)} "
                f"(UPRTRAX_{setting})."
            )
        else:
            message = f"The form sent {size_text(int(declared))}: this page takes no file, at most {size_text(fields)}."
        return body_too_large(request, message)


def _api_view(view_func) -> bool:
    from rest_framework.views import APIView

    view_class = getattr(view_func, "cls", None)
    return isinstance(view_class, type) and issubclass(view_class, APIView)


def body_too_large(request, message: str):
    """The 413 page: what was too large and the limit. Nothing of the request was stored."""
    return render(request, "413.html", {"message": message}, status=413)


def too_large_message(exception) -> str:
    """What Django's own limits met while it read a form (uprtrax.api_errors.bad_request answers with it)."""
    if isinstance(exception, TooManyFieldsSent):
        return f"The form sent too many fields: a page takes at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:,}."
    if isinstance(exception, TooManyFilesSent):
        return f"The form sent too many files: a page takes at most {settings.DATA_UPLOAD_MAX_NUMBER_FILES:,}."
    return (
        f"The form's fields hold too much: together, files apart, at most "
        f"{size_text(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}."
    )
