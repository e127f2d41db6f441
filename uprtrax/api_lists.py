"""How the API's lists are ordered and paged: `?ordering=` from a list of names each view declares, keyset cursors
(`?cursor=`) for the large lists, numbered pages (`?page=`) for the small ones, `page_size` from 1 to 100 everywhere.

A view names its orderings and the fields each sorts by, the last field unique (the id, or the fields of a unique
constraint) so that every row has one place:

    class RecommendationViewSet(OrderedListMixin, ...):
        orderings = {"-session": ("-session_number", "id"), "-id": ("-id",)}
        ordering_default = "-session"
        filter_backends = [DjangoFilterBackend, OrderingBackend]
        pagination_class = KeysetCursorPagination

A cursor holds the ordering's name and the values of the sort fields in the last row shown; the next page is the rows
after it: for (a DESC, b ASC) after (x, y), `a < x OR (a = x AND b > y)`, with `a <= x` beside it so that an index in
the same order seeks straight to the place. No OFFSET: page 10,000 reads what page 1 reads. A view whose filters
select few rows that may all lie far along that index (a state's reviews) sets `sorted_after_filtering`: those rows
are read through the filter's own index and sorted instead. A cursor made for one ordering is refused with another
(400); one that was not made here at all is a 404, as DRF's own cursors are.
"""

import binascii
import datetime
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F, Model, Q, QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import BaseFilterBackend
from rest_framework.pagination import BasePagination, PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

ORDERING_PARAM = "ordering"
PAGE_SIZE_PARAM = "page_size"
PAGE_SIZE_MAX = 100


class OrderedListMixin:
    """A view whose list is sorted in one of `orderings` (name -> fields), chosen by `?ordering=`."""

    orderings: ClassVar[dict[str, tuple[str, ...]]] = {}
    ordering_default: ClassVar[str] = ""

    def ordering_name(self) -> str:
        """The ordering asked for (checked against the view's names), else the default."""
        asked = self.request.query_params.get(ORDERING_PARAM, "").strip()
        if not asked:
            return self.ordering_default
        if asked not in self.orderings:
            raise ValidationError(
                {ORDERING_PARAM: [f"Unknown ordering “{asked[:40]}”: use one of {', '.join(self.orderings)}."]}
            )
        return asked

    def ordering_fields(self) -> tuple[str, ...]:
        return self.orderings[self.ordering_name()]


def both_ways(name: str, *fields: str) -> dict[str, tuple[str, ...]]:
    """An ordering and its reverse: both_ways("name", "short_name") -> {"name": ..., "-name": ("-short_name",)}."""
    flipped = tuple(field[1:] if field.startswith("-") else f"-{field}" for field in fields)
    return {name: fields, f"-{name}": flipped}


def ordering_description(orderings: dict[str, tuple[str, ...]], default: str) -> str:
    names = ", ".join(f"`{name}`" for name in orderings)
    return f"The order of the list: one of {names} (`-` first: descending). Default: `{default}`."


class OrderingBackend(BaseFilterBackend):
    """Sorts the list in the ordering asked for (OrderedListMixin); documents `ordering` with its names."""

    def filter_queryset(self, request, queryset, view):
        return queryset.order_by(*view.ordering_fields())

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": ORDERING_PARAM,
                "required": False,
                "in": "query",
                "description": ordering_description(view.orderings, view.ordering_default),
                "schema": {"type": "string", "enum": list(view.orderings), "default": view.ordering_default},
            }
        ]


def page_size_of(request, noun: str) -> int:
    """`page_size` from 1 to PAGE_SIZE_MAX (the default: settings' PAGE_SIZE); anything else is a 400 naming it."""
    raw = request.query_params.get(PAGE_SIZE_PARAM)
    if raw is None:
        return settings.REST_FRAMEWORK["PAGE_SIZE"]
    if not raw.isdigit() or not 1 <= int(raw) <= PAGE_SIZE_MAX:
        raise ValidationError({PAGE_SIZE_PARAM: [f"A page holds 1 to {PAGE_SIZE_MAX} {noun}, not “{raw[:20]}”."]})
    return int(raw)


def _noun(queryset: QuerySet) -> str:
    return str(queryset.model._meta.verbose_name_plural)


_PAGE_SIZE_SCHEMA = {
    "name": PAGE_SIZE_PARAM,
    "required": False,
    "in": "query",
    "description": f"Rows per page, 1 to {PAGE_SIZE_MAX}.",
    "schema": {"type": "integer", "minimum": 1, "maximum": PAGE_SIZE_MAX},
}


class Pages(PageNumberPagination):
    """Numbered pages with their count, for the small lists (states, sessions, reviews, ...)."""

    page_size_query_param = PAGE_SIZE_PARAM
    max_page_size = PAGE_SIZE_MAX

    def paginate_queryset(self, queryset, request, view=None):
        self._asked_size = page_size_of(request, _noun(queryset))
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        return self._asked_size

    def get_schema_operation_parameters(self, view):
        return [*super().get_schema_operation_parameters(view)[:1], _PAGE_SIZE_SCHEMA]


# --- Keyset cursors ------------------------------------------------------------------------------------------------


def _field_at(model: type[Model], path: str):
    """The model field at the end of a lookup path ("review__session__number")."""
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.pk if name == "pk" else model._meta.get_field(name)


def _value_at(row: Any, path: str) -> Any:
    for name in path.split("__"):
        row = getattr(row, name)
    return row


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime.date) else value


def _order_term(name: str, descending: bool, unindexed: bool):
    """The ORDER BY term of a sort field. `unindexed` (numeric fields): an expression no index serves, so that the
    planner reads the rows the filters select and sorts them, rather than walk an index in order looking for
    them, which is slow when they all lie at its far end (a view sets `sorted_after_filtering` for small sets)."""
    if not unindexed:
        return f"{'-' if descending else ''}{name}"
    term = F(name) + 0
    return term.desc() if descending else term.asc()


def keyset_after(keys: list[tuple[str, bool]], values: list[Any]) -> Q:
    """The rows after `values` in the order of `keys` ((field, descending) pairs): for (a, b), a beyond x, or a
    equal to x and b beyond y. The first field's own bound (a <= x for a descending) lets an index seek."""
    after = Q()
    for i, (name, descending) in enumerate(keys):
        equal = {field: value for (field, _), value in zip(keys[:i], values[:i], strict=True)}
        after |= Q(**equal, **{f"{name}__{'lt' if descending else 'gt'}": values[i]})
    if len(keys) > 1:
        first, descending = keys[0]
        after &= Q(**{f"{first}__{'lte' if descending else 'gte'}": values[0]})
    return after


def cursor_token(ordering: str, position: list, *, reverse: bool = False) -> str:
    """The `cursor` of the rows after `position` (the sort fields' values of a row) in `ordering`; before it when
    `reverse`. Clients follow the links; a benchmark or a resuming client may build one for any position."""
    token = {"o": ordering, "k": [_json_value(value) for value in position], **({"r": 1} if reverse else {})}
    return urlsafe_b64encode(json.dumps(token, separators=(",", ":")).encode()).decode().rstrip("=")


class KeysetCursorPagination(BasePagination):
    """Cursor pages in the view's ordering (OrderedListMixin): {"next", "previous", "results"}, no count."""

    cursor_query_param = "cursor"
    invalid_cursor_message = "This cursor is not one of this list's: follow the `next` and `previous` links as given."

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.base_url = request.build_absolute_uri()
        size = page_size_of(request, _noun(queryset))
        self.ordering = view.ordering_name()
        fields = view.orderings[self.ordering]
        self.keys = [(field.lstrip("-"), field.startswith("-")) for field in fields]
        values, reverse = self.decode_cursor(request, queryset.model)
        keys = [(name, descending != reverse) for name, descending in self.keys]
        unindexed = getattr(view, "sorted_after_filtering", False)
        queryset = queryset.order_by(*(_order_term(name, descending, unindexed) for name, descending in keys))
        if values is not None:
            queryset = queryset.filter(keyset_after(keys, values))
        rows = list(queryset[: size + 1])
        more, rows = len(rows) > size, rows[:size]
        if reverse:
            rows.reverse()
        first = self._position(rows[0]) if rows else None
        last = self._position(rows[-1]) if rows else None
        # Going forward, rows come before a cursor (it was made from one); going back, rows come after it.
        self.next_position = last if (more or reverse) else None
        self.previous_position = first if ((more and reverse) or (values is not None and not reverse)) else None
        return rows

    def _position(self, row) -> list:
        return [_json_value(_value_at(row, name)) for name, _ in self.keys]

    def encode_cursor(self, position: list, *, reverse: bool) -> str:
        token = cursor_token(self.ordering, position, reverse=reverse)
        return replace_query_param(self.base_url, self.cursor_query_param, token)

    def decode_cursor(self, request, model: type[Model]) -> tuple[list | None, bool]:
        """(the position's values, whether to go back), or (None, False) for the first page."""
        raw = request.query_params.get(self.cursor_query_param)
        if raw is None:
            return None, False
        try:
            token = json.loads(urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)))
            ordering, position, reverse = token["o"], token["k"], token.get("r", 0)
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error):
            raise NotFound(self.invalid_cursor_message) from None
        if ordering != self.ordering:
            raise ValidationError({
                self.cursor_query_param: [
                    f"This cursor pages in the ordering “{str(ordering)[:40]}”, not “{self.ordering}”: keep the "
                    "ordering while following a cursor, or start again without one."
                ]
            })  # fmt: skip
        if not isinstance(position, list) or len(position) != len(self.keys) or reverse not in (0, 1):
            raise NotFound(self.invalid_cursor_message)
        try:
            values = [
                _field_at(model, name).to_python(value) for (name, _), value in zip(self.keys, position, strict=True)
            ]
        except (ValueError, TypeError, DjangoValidationError):
            raise NotFound(self.invalid_cursor_message) from None
        if any(value is None for value in values):
            raise NotFound(self.invalid_cursor_message)
        return values, bool(reverse)

    def get_next_link(self) -> str | None:
        if self.next_position is None:
            return None
        return self.encode_cursor(self.next_position, reverse=False)

    def get_previous_link(self) -> str | None:
        if self.previous_position is None:
            return None
        return self.encode_cursor(self.previous_position, reverse=True)

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["next", "previous", "results"],
            "properties": {
                "next": {**link, "description": "The next page; null on the last.",
                         "example": "https://uprtrax.example/api/v1/recommendations/?cursor=eyJvIjoiLWlkIiwiayI6WzEwMF19"},
                "previous": {**link, "description": "The page before; null on the first.", "example": None},
                "results": schema,
            },
        }  # fmt: skip

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Where the page starts: take it from the `next` or `previous` link of the page before "
                "(with the same `ordering`).",
                "schema": {"type": "string"},
            },
            _PAGE_SIZE_SCHEMA,
        ]
