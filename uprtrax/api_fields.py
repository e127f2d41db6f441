"""Field selection for the API's wide lists: `?fields=id,text` shows only these fields, `?omit=issues` every field
but these (the dynamic-fields pattern of DRF's documentation). Names are the top-level keys of the representation,
comma-separated or repeated; an unknown one is a 400 naming it.

The view reads the selection once (`FieldSelectionMixin.fields_wanted`), passes it to its serializer, and asks
`wants(...)` before a join or a prefetch, so that `?fields=id,text` costs one query, not four.

In the OpenAPI schema the fields of these serializers are optional: present unless the selection leaves them out.
"""

import functools
from collections.abc import Collection
from typing import ClassVar

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework.exceptions import ValidationError

FIELDS_PARAM, OMIT_PARAM = "fields", "omit"
NAMES_MAX = 50  # names in one parameter; more is a 400, not a long loop


class SelectableFieldsSerializerMixin:
    """A serializer that shows only the fields named in `fields=` (None: all), the keys its to_representation adds
    (`selectable_extra`) included."""

    selectable_extra: ClassVar[tuple[str, ...]] = ()

    def __init__(self, *args, fields: Collection[str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._selected = None if fields is None else frozenset(fields)
        if self._selected is not None:
            for name in [name for name in self.fields if name not in self._selected]:
                self.fields.pop(name)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self._selected is not None:
            for key in [key for key in data if key not in self._selected]:
                del data[key]
        return data


@functools.cache
def selectable_fields(serializer_class: type) -> tuple[str, ...]:
    """The names a selection may use, in the representation's order."""
    return (*serializer_class().fields, *getattr(serializer_class, "selectable_extra", ()))


def _names_asked(request, param: str) -> list[str]:
    names = [name.strip() for value in request.query_params.getlist(param) for name in value.split(",")]
    names = list(dict.fromkeys(name for name in names if name))
    if len(names) > NAMES_MAX:
        raise ValidationError({param: [f"Name at most {NAMES_MAX} fields ({len(names)} were given)."]})
    return names


class FieldSelectionMixin:
    """A view whose serializer (SelectableFieldsSerializerMixin) shows the fields asked for in `fields`/`omit`."""

    def fields_wanted(self) -> frozenset[str] | None:
        """The fields to show (`fields`, or every field, less `omit`); None when neither parameter is given."""
        serializer_class = self.get_serializer_class()
        cached = getattr(self, "_fields_wanted", None)
        if cached is not None and cached[0] is serializer_class:
            return cached[1]
        request = getattr(self, "request", None)
        wanted = None
        if request is not None:
            names = selectable_fields(serializer_class)
            fields, omit = _names_asked(request, FIELDS_PARAM), _names_asked(request, OMIT_PARAM)
            for param, asked in ((FIELDS_PARAM, fields), (OMIT_PARAM, omit)):
                unknown = [name for name in asked if name not in names]
                if unknown:
                    shown = ", ".join(f"“{name[:40]}”" for name in unknown[:5])
                    raise ValidationError({
                        param: [f"No field {shown} in this list: choose among {', '.join(names)}."]
                    })  # fmt: skip
            if fields or omit:
                wanted = frozenset(fields or names) - frozenset(omit)
        self._fields_wanted = (serializer_class, wanted)
        return wanted

    def wants(self, *names: str) -> bool:
        """Whether any of these fields is shown (every field is, without a selection)."""
        wanted = self.fields_wanted()
        return wanted is None or not wanted.isdisjoint(names)

    def get_serializer(self, *args, **kwargs):
        wanted = self.fields_wanted()
        if wanted is not None:
            kwargs.setdefault("fields", wanted)
        return super().get_serializer(*args, **kwargs)


def fields_parameters(serializer_class: type, example: str) -> list[OpenApiParameter]:
    """The OpenAPI description of `fields` and `omit` for a view showing `serializer_class`."""
    names = ", ".join(f"`{name}`" for name in selectable_fields(serializer_class))
    return [
        OpenApiParameter(
            FIELDS_PARAM,
            OpenApiTypes.STR,
            description="Only these fields, comma-separated (fewer fields: a lighter, faster response). "
            f"Names: {names}. An unknown name is a 400.",
            examples=[OpenApiExample("A few fields", value=example)],
        ),
        OpenApiParameter(
            OMIT_PARAM,
            OpenApiTypes.STR,
            description="Every field but these, comma-separated (same names as `fields`).",
        ),
    ]


class SelectableFieldsSchema(OpenApiSerializerExtension):
    """Fields of a selectable serializer are optional in the schema: a selection leaves some out."""

    target_class = SelectableFieldsSerializerMixin
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        schema.pop("required", None)
        return schema
