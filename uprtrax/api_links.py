"""Links to API resources (`url` of each row), reversed once per response instead of once per row.

DRF's HyperlinkedIdentityField calls Django's reverse() for every object: a page of 50 recommendations with their
recommending states and issues reverses some 160 URLs, which was a third of the page's serialising time. IdentityLink
reverses its view's URL once per response with a marker in place of the lookup value, keeps the two halves in the
serializer's context (one dict per response, shared by nested serializers) and fills in each row's value, quoted as
reverse() quotes it. Same URLs, same schema (it is a HyperlinkedIdentityField).
"""

from urllib.parse import quote

from django.urls.resolvers import RFC3986_SUBDELIMS
from rest_framework import serializers

_MARK = "7305921846"  # a value every lookup pattern of ours accepts (digits), and that no URL holds otherwise
_SAFE = RFC3986_SUBDELIMS + "/~:@"  # what django.urls.reverse leaves unquoted


class IdentityLink(serializers.HyperlinkedIdentityField):
    """HyperlinkedIdentityField, its URL reversed once per response."""

    def get_url(self, obj, view_name, request, format):
        if format or request is None:  # a suffixed format, or no request to make an absolute URL with
            return super().get_url(obj, view_name, request, format)
        value = getattr(obj, self.lookup_field)
        if value in (None, ""):
            return None
        templates = self.context.setdefault("_link_templates", {})
        key = (view_name, self.lookup_url_kwarg)
        halves = templates.get(key)
        if halves is None:
            url = self.reverse(view_name, kwargs={self.lookup_url_kwarg: _MARK}, request=request, format=None)
            halves = templates[key] = tuple(url.split(_MARK)) if url.count(_MARK) == 1 else ()
        if not halves:  # the marker did not survive reversing: reverse this one as DRF does
            return super().get_url(obj, view_name, request, format)
        return f"{halves[0]}{quote(str(value), safe=_SAFE)}{halves[1]}"
