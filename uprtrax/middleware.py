"""Middleware of the whole site."""

from uprtrax.api_errors import bad_request


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
