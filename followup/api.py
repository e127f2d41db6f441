"""Follow-up assessments in the API, at /api/v1/assessments/.

    GET    /assessments/                  what the requester may see (anonymous: public ones), filtered by
                                          AssessmentFilterSet (followup/filters.py), paged by cursor (`cursor`,
                                          `page_size`) in an `ordering`; `fields`/`omit` choose the fields shown
    GET    /assessments/<id>/             one (404 when unknown or not the requester's to see)
    POST   /assessments/                  {organisation (slug), recommendation (id), status, comment, evidence_urls
                                          (list), assessed_on, phase (optional: by the date), visibility} -> 201
    PUT    /assessments/<id>/             the same fields (organisation, recommendation and phase do not change),
    PATCH  /assessments/<id>/             with the `version` read -> 200; 409 with the current one when stale
    DELETE /assessments/<id>/?version=N   soft delete -> 204; 409 when stale
    POST   /assessments/bulk/             {organisation, recommendations: [ids], status, comment, evidence_urls,
                                          assessed_on, phase, visibility, replace, seen_at} -> 200 with the counts

Writes go through followup.services.assessments (permissions, history, versions, all or nothing). Errors, in the
API's shape (uprtrax.api_errors): 400 `validation_error` with `fields` (a field unknown to the write is refused
too), 401 for a bad token or none, 403 for an organisation that is not the requester's or a read-only token, 404,
409 `conflict` with `current` (the assessment as it now is; null when it is a colleague's draft) for a change the
writer has not seen, or with `conflicts` (recommendation ids) for a bulk write.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from followup import permissions, rules
from followup.api_auth import TokenScope
from followup.filters import AssessmentFilterSet
from followup.models import Assessment, Organisation
from followup.services import assessments as services
from recommendations.models import Recommendation
from uprtrax.api_errors import Conflict, UnknownFieldsRefused, error_body, errors
from uprtrax.api_fields import FieldSelectionMixin, SelectableFieldsSerializerMixin
from uprtrax.api_links import IdentityLink
from uprtrax.api_lists import KeysetCursorPagination, OrderedListMixin, OrderingBackend
from uprtrax.api_parsers import JSONParser
from uprtrax.pagecache import AnonymousCachedReads

EVIDENCE_ITEMS_MAX = 100  # items read from a request; rules.EVIDENCE_MAX says how many are kept


# --- Reading ------------------------------------------------------------------------------------------------------


class OrganisationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["slug", "name", "kind"]


class _DateIsSet(serializers.BooleanField):
    """True when the assessment's date field `of` is set (deleted_at, hidden_at)."""

    def __init__(self, of: str, **kwargs):
        self.of = of
        super().__init__(source="*", required=False, **kwargs)

    def to_representation(self, assessment):
        return getattr(assessment, self.of) is not None


class AssessmentSerializer(SelectableFieldsSerializerMixin, serializers.ModelSerializer):
    """An assessment; with `deleted`, `hidden` and `hidden_reason` for its organisation's members and moderators
    (the only people, with admins, who see deleted or hidden ones). Those three are not read-only fields, so that
    the schema shows them as optional: this serializer only ever writes a representation."""

    url = IdentityLink(view_name="api:assessment-detail")
    recommendation = serializers.IntegerField(source="recommendation_id", help_text="The recommendation's id.")
    organisation = OrganisationBriefSerializer()
    deleted = _DateIsSet("deleted_at", help_text="Deleted (and restorable by a moderator). Members and moderators.")
    hidden = _DateIsSet("hidden_at", help_text="Hidden by a moderator. Members and moderators only.")
    hidden_reason = serializers.CharField(required=False, help_text="Why a moderator hid it. Members and moderators.")

    MEMBERS_ONLY = ("deleted", "hidden", "hidden_reason")

    class Meta:
        model = Assessment
        fields = ["id", "url", "recommendation", "organisation", "phase", "status", "comment", "evidence_urls",
                  "assessed_on", "visibility", "version", "created_at", "updated_at", "deleted", "hidden",
                  "hidden_reason"]  # fmt: skip
        read_only_fields = fields[:13]

    def to_representation(self, assessment):
        data = super().to_representation(assessment)
        user = self.context["request"].user
        if not (permissions.is_moderator(user) or assessment.organisation_id in permissions.roles(user)):
            for name in self.MEMBERS_ONLY:
                data.pop(name, None)
        return data


# --- Writing: the shape of what comes in (the services check the values and name them) ---------------------------


@extend_schema_field({"type": "integer", "minimum": 1})
class IdField(serializers.Field):
    """A whole number from 1 (an id, a version); the message names the value given."""

    default_error_messages = {"invalid": "“{value}” is not {noun}: give a whole number."}

    def __init__(self, *, noun: str = "an id", **kwargs):
        self.noun = noun
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = str(data).strip()
        if isinstance(data, bool) or not text.isdigit() or len(text) > 12 or int(text) < 1:
            self.fail("invalid", value=text[:40], noun=self.noun)
        return int(text)

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "array", "items": {"type": "integer", "minimum": 0}, "maxItems": rules.BULK_MAX})
class IdListField(serializers.Field):
    """A list of ids, refused before it is read when it is longer than rules.BULK_MAX."""

    default_error_messages = {
        "list": "Give a list of recommendation ids, like [1234, 1235].",
        "invalid": "“{value}” is not an id: give whole numbers.",
        "too_many": "{count:,} recommendations: one request assesses at most {limit:,}.",
    }

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            return dictionary.getlist(self.field_name)  # a form's repeated field
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if not isinstance(data, list):
            self.fail("list")
        if len(data) > rules.BULK_MAX:
            self.fail("too_many", count=len(data), limit=rules.BULK_MAX)
        ids = []
        for item in data:
            text = str(item).strip()
            if isinstance(item, bool) or not text.isdigit() or len(text) > 12:
                self.fail("invalid", value=text[:40])
            ids.append(int(text))
        return ids

    def to_representation(self, value):
        return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "array", "items": {"type": "string"}, "maxItems": EVIDENCE_ITEMS_MAX},
            {"type": "string", "description": "One address per line."},
        ],
        "nullable": True,
    }
)
class EvidenceField(serializers.Field):
    """Web addresses: a list (or text, one address per line); rules.evidence_parse checks them."""

    default_error_messages = {
        "list": 'Give the evidence as a list of web addresses, like ["https://example.org/report"].',
        "too_many": "{count:,} links: give at most {limit}.",
    }

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist") and self.field_name in dictionary:
            return dictionary.getlist(self.field_name)
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        if data is None:
            return []
        if isinstance(data, str):
            return data
        if not isinstance(data, list) or not all(isinstance(item, str) for item in data):
            self.fail("list")
        if len(data) > EVIDENCE_ITEMS_MAX:
            self.fail("too_many", count=len(data), limit=rules.EVIDENCE_MAX)
        return data

    def to_representation(self, value):
        return value


class NamedDateField(serializers.DateField):
    default_error_messages = {"named": "“{value}” is not a date: give it as YYYY-MM-DD."}

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except ValidationError:
            self.fail("named", value=str(value)[:40])


class NamedDateTimeField(serializers.DateTimeField):
    default_error_messages = {"named": "“{value}” is not a date and time: give it as ISO 8601 (2025-03-01T14:30:00Z)."}

    def to_internal_value(self, value):
        try:
            return super().to_internal_value(value)
        except ValidationError:
            self.fail("named", value=str(value)[:40])


def _choice_text(choices, *, nullable: bool = False) -> type[serializers.CharField]:
    """Text that the services check against these choices (naming a wrong value); the schema lists them."""

    @extend_schema_field(serializers.ChoiceField(choices=choices.choices, allow_null=nullable, allow_blank=nullable))
    class ChoiceText(serializers.CharField):
        pass

    return ChoiceText


class AssessmentFieldsSerializer(UnknownFieldsRefused, serializers.Serializer):
    """What an assessment says. Choices and limits are checked by services.assessment_input, which names the value
    at fault: a status that does not exist, a comment of 100,000 characters, a link that is not http(s)."""

    status = _choice_text(Assessment.Status)(allow_blank=True, help_text="How far the recommendation is implemented.")
    comment = serializers.CharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False,
                                    help_text="Plain text, at most 10,000 characters.")  # fmt: skip
    evidence_urls = EvidenceField(required=False, help_text="Up to 10 http(s) addresses.")
    assessed_on = NamedDateField(required=False, allow_null=True, help_text="YYYY-MM-DD; today when not given.")
    phase = _choice_text(Assessment.Phase, nullable=True)(
        required=False, allow_blank=True, allow_null=True, help_text="By the date when not given."
    )
    visibility = _choice_text(Assessment.Visibility)(required=False, help_text="draft when not given.")

    def given(self, base: dict | None = None) -> services.AssessmentInput:
        """The checked input, the fields not sent taken from `base` (PATCH) or their defaults."""
        values = {**(base or {}), **self.validated_data}
        try:
            return services.assessment_input(
                status=values.get("status", ""),
                comment=values.get("comment") or "",
                evidence_urls=values.get("evidence_urls") or (),
                assessed_on=values.get("assessed_on"),
                phase=values.get("phase") or "",
                visibility=values.get("visibility", Assessment.Visibility.DRAFT),
            )
        except DjangoValidationError as error:
            raise _bad_request(error) from None


class AssessmentCreateSerializer(AssessmentFieldsSerializer):
    organisation = serializers.CharField(help_text="The organisation's slug.")
    recommendation = IdField(help_text="The recommendation's id.")


class AssessmentUpdateSerializer(AssessmentFieldsSerializer):
    # A representation read may be sent back whole: its read-only keys are ignored (organisation and
    # recommendation, below, must name the assessment's own).
    ignored_fields = AssessmentFieldsSerializer.ignored_fields | {
        "id", "url", "created_at", "updated_at", "deleted", "hidden", "hidden_reason",
    }  # fmt: skip

    version = IdField(noun="a version", help_text="The version read: a change made since then is refused (409).")
    # Accepted so that a representation read can be sent back; they must name the assessment's own.
    organisation = serializers.JSONField(required=False)
    recommendation = IdField(required=False)


class AssessmentBulkSerializer(AssessmentFieldsSerializer):
    organisation = serializers.CharField(help_text="The organisation's slug.")
    recommendations = IdListField(help_text=f"Recommendation ids, at most {rules.BULK_MAX:,}.")
    replace = serializers.BooleanField(
        required=False,
        default=False,
        error_messages={"invalid": "“{input}” is not true or false."},
        help_text="Replace the organisation's existing assessments (else kept).",
    )
    seen_at = NamedDateTimeField(
        required=False,
        allow_null=True,
        help_text="When the writer loaded the list: later changes by others refuse the whole request (409).",
    )


def _bad_request(error: DjangoValidationError) -> ValidationError:
    if hasattr(error, "error_dict"):
        return ValidationError(error.message_dict)
    return ValidationError({"non_field_errors": error.messages})


def _organisation(slug: str) -> Organisation:
    organisation = Organisation.objects.filter(slug=str(slug).strip().lower()).first()
    if organisation is None:
        raise ValidationError({"organisation": [f"No organisation '{str(slug)[:60]}'."]})
    return organisation


# --- What the schema says of the answers ------------------------------------------------------------------------


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField(help_text="Assessments created.")
    updated = serializers.IntegerField(help_text="Existing assessments replaced (with `replace`).")
    kept = serializers.IntegerField(help_text="Existing assessments left as they were (without `replace`).")
    drafts_of_others = serializers.ListField(
        child=serializers.IntegerField(), help_text="Recommendations with a colleague's draft, left alone."
    )
    recommendations = serializers.ListField(child=serializers.IntegerField(), help_text="The recommendations written.")


def _conflict_response(name: str, extra: dict, description: str, example: dict) -> OpenApiResponse:
    detail = inline_serializer(
        f"{name}Detail",
        {"code": serializers.CharField(), "message": serializers.CharField(), **extra},
    )
    return OpenApiResponse(
        response=inline_serializer(name, {"error": detail}),
        description=description,
        examples=[OpenApiExample(name, value=example, status_codes=["409"], response_only=True)],
    )


EDIT_CONFLICT = _conflict_response(
    "AssessmentConflict",
    {
        "current": AssessmentSerializer(
            allow_null=True, help_text="The assessment as it now is (null: a colleague's draft)."
        )
    },
    "Someone changed the assessment since the version given, or it exists already (`conflict`): nothing was "
    "written; `current` is the assessment as it now is.",
    error_body(
        code="conflict",
        message="editor_a changed this assessment (version 2) after the version 1 you read: nothing was saved.",
        current={"id": 31, "version": 2, "status": "fully_implemented", "...": "..."},
    ),
)
BULK_CONFLICT = _conflict_response(
    "BulkConflict",
    {"conflicts": serializers.ListField(child=serializers.IntegerField(), help_text="Recommendation ids.")},
    "Someone else changed some of these assessments after `seen_at` (`conflict`): nothing was written.",
    error_body(
        code="conflict",
        message="Changed by others since you loaded the list: #1042. Nothing was saved.",
        conflicts=[1042],
    ),
)
_VERSION = OpenApiParameter(
    "version",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    required=True,
    description="The version read: a change made since is refused (409).",
)
_ID = OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The assessment's id.")
_CREATE_EXAMPLE = OpenApiExample(
    "A public assessment",
    value={
        "organisation": "my-cso",
        "recommendation": 1042,
        "status": "partially_implemented",
        "comment": "A bill was tabled.",
        "evidence_urls": ["https://example.org/bill"],
        "assessed_on": "2025-03-01",
        "visibility": "public",
    },
    request_only=True,
)
_WRITE_ERRORS = errors(400, 403)


def _edit_schema(summary: str, description: str):
    return extend_schema(
        summary=summary,
        description=description,
        parameters=[_ID],
        request=AssessmentUpdateSerializer,
        responses={200: AssessmentSerializer, **_WRITE_ERRORS, **errors(404), 409: EDIT_CONFLICT},
    )


# --- The viewset ------------------------------------------------------------------------------------------------


# Orders of the cursor pages, each read from an index: the primary key, or the unique constraint's (recommendation,
# organisation, phase), which is the model's default order.
ORDERINGS = {
    "recommendation": ("recommendation_id", "organisation_id", "phase"),
    "-recommendation": ("-recommendation_id", "-organisation_id", "-phase"),
    "id": ("id",),
    "-id": ("-id",),
}


@extend_schema_view(
    list=extend_schema(
        summary="List assessments",
        description="What the caller may see: anonymous callers the public assessments; members also their "
        "organisations' shared ones and their own drafts; moderators hidden and deleted ones. Filters combine; a "
        "repeated parameter gives alternatives.",
        responses={200: AssessmentSerializer(many=True), **errors(400, 404)},
    ),
    retrieve=extend_schema(
        summary="One assessment",
        parameters=[_ID],
        responses={200: AssessmentSerializer, **errors(404)},
    ),
    create=extend_schema(
        summary="Record an assessment",
        description="A member records their organisation's assessment of one recommendation (one per organisation, "
        "recommendation and phase). The phase defaults from the date: mid-term before the state's next review, "
        "next review after.",
        request=AssessmentCreateSerializer,
        examples=[_CREATE_EXAMPLE],
        responses={201: AssessmentSerializer, **_WRITE_ERRORS, 409: EDIT_CONFLICT},
    ),
    update=_edit_schema(
        "Replace an assessment's statement",
        "Status, comment, links, date and visibility, with the `version` read. The organisation, the recommendation "
        "and the phase do not change (a representation read may be sent back whole).",
    ),
    partial_update=_edit_schema(
        "Change some of an assessment's fields", "The fields sent, with the `version` read (required)."
    ),
    destroy=extend_schema(
        summary="Delete an assessment",
        description="A soft delete, which a moderator can undo; with the `version` read.",
        parameters=[_ID, _VERSION],
        responses={204: None, **_WRITE_ERRORS, **errors(404), 409: EDIT_CONFLICT},
    ),
    bulk=extend_schema(
        summary="Record one assessment for many recommendations",
        description=f"One status, comment and links for up to {rules.BULK_MAX:,} recommendations of one "
        "organisation, all or nothing. Existing assessments are kept unless `replace`; a colleague's draft is "
        "never touched.",
        request=AssessmentBulkSerializer,
        responses={200: BulkResultSerializer, **_WRITE_ERRORS, 409: BULK_CONFLICT},
    ),
)
class AssessmentViewSet(
    AnonymousCachedReads,
    FieldSelectionMixin,
    OrderedListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Follow-up assessments: each one organisation's statement on how far one recommendation was implemented, at
    mid-term or at the next review. Filters: `recommendation`, `organisation` (slug), `organisation_kind`,
    `status`, `phase`, `visibility`, `sur`, `session`, `cycle`, `assessed_after`, `assessed_before`, `mine=1`.
    Members of an organisation write its assessments (a token needs the scope `write_assessments`)."""

    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilterSet
    filter_backends = [DjangoFilterBackend, OrderingBackend]
    pagination_class = KeysetCursorPagination
    orderings = ORDERINGS
    ordering_default = "recommendation"
    permission_classes = [IsAuthenticatedOrReadOnly, TokenScope]
    parser_classes = [JSONParser]  # writes are JSON: a form's strings cannot say null, a list or a number
    token_writes = True  # followup.api_auth: tokens may write here (with the scope)

    def get_queryset(self):
        queryset = permissions.visible_assessments(self.request.user)
        if self.action != "list" or self.wants("organisation"):
            queryset = queryset.select_related("organisation")
        return queryset

    def _shown(self, assessment: Assessment, code: int = status.HTTP_200_OK) -> Response:
        body = AssessmentSerializer(assessment, context=self.get_serializer_context()).data
        headers = {"Location": str(body["url"])} if code == status.HTTP_201_CREATED else None  # a plain str for WSGI
        return Response(body, status=code, headers=headers)

    def _conflict(self, error: services.AssessmentConflict, message: str = "") -> Conflict:
        """409: what happened, and the assessment as it now is (unless it is a colleague's draft)."""
        current = error.current
        shown = None
        if permissions.can_see(self.request.user, current):
            shown = AssessmentSerializer(current, context=self.get_serializer_context()).data
        return Conflict(message or str(error), extra={"current": shown})

    def create(self, request):
        data = AssessmentCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        organisation = _organisation(data.validated_data["organisation"])
        recommendation = Recommendation.objects.filter(pk=data.validated_data["recommendation"]).first()
        if recommendation is None:
            raise ValidationError(
                {"recommendation": [f"No recommendation has the id {data.validated_data['recommendation']}."]}
            )
        try:
            assessment = services.assessment_record(
                user=request.user,
                organisation=organisation,
                recommendation=recommendation,
                given=data.given(),
                version=None,
            )
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except DjangoValidationError as error:
            raise _bad_request(error) from None
        except services.AssessmentConflict as error:
            current = error.current
            raise self._conflict(error, (
                f"{organisation.name} has an assessment of recommendation {recommendation.pk} at the phase "
                f"{current.phase} already (id {current.pk}, version {current.version}): change it with PUT or "
                "PATCH, giving its version."
            )) from None  # fmt: skip
        return self._shown(assessment, status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        current = self.get_object()
        data = AssessmentUpdateSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if partial and "version" not in values:
            raise ValidationError({"version": ["Give the version you read: a change made since is refused."]})
        _same_assessment_check(current, values)
        base = _fields_of(current) if partial else {"phase": current.phase}
        given = data.given(base)
        try:
            assessment = services.assessment_record(
                user=request.user,
                organisation=current.organisation,
                recommendation=current.recommendation,
                given=given,
                version=values["version"],
            )
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except DjangoValidationError as error:
            raise _bad_request(error) from None
        except services.AssessmentConflict as error:
            raise self._conflict(error) from None
        return self._shown(assessment)

    def partial_update(self, request, pk=None):
        return self.update(request, pk, partial=True)

    def destroy(self, request, pk=None):
        current = self.get_object()
        version = request.query_params.get("version", "").strip()
        if not version.isdigit() or len(version) > 12:
            message = f"“{version[:40]}” is not a version" if version else "Give the version you read"
            raise ValidationError({"version": [f"{message}: DELETE /api/v1/assessments/{current.pk}/?version=N."]})
        try:
            services.assessment_delete(user=request.user, assessment_id=current.pk, version=int(version))
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except services.AssessmentConflict as error:
            raise self._conflict(error) from None
        return Response(status=status.HTTP_204_NO_CONTENT)

    @action(detail=False, methods=["post"])
    def bulk(self, request):
        """One status, comment and links for up to rules.BULK_MAX recommendations of one organisation; all or
        nothing."""
        data = AssessmentBulkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        organisation = _organisation(values["organisation"])
        try:
            result = services.assessments_record_bulk(
                user=request.user,
                organisation=organisation,
                recommendation_ids=values["recommendations"],
                given=data.given(),
                replace=values["replace"],
                seen_at=values.get("seen_at"),
            )
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except DjangoValidationError as error:
            raise _bad_request(error) from None
        except services.BulkConflict as error:
            conflicts = sorted(a.recommendation_id for a in error.conflicts)
            raise Conflict(str(error), extra={"conflicts": conflicts}) from None
        return Response({
            "created": result.created,
            "updated": result.updated,
            "kept": result.kept,
            "drafts_of_others": result.drafts_of_others,
            "recommendations": result.recommendation_ids,
        })  # fmt: skip


def _fields_of(assessment: Assessment) -> dict:
    return {
        "status": assessment.status,
        "comment": assessment.comment,
        "evidence_urls": list(assessment.evidence_urls or []),
        "assessed_on": assessment.assessed_on,
        "phase": assessment.phase,
        "visibility": assessment.visibility,
    }


def _same_assessment_check(current: Assessment, values: dict) -> None:
    """An update changes what the assessment says, not whose it is, of what, or at which phase."""
    errors = {}
    organisation = values.get("organisation")
    if isinstance(organisation, dict):
        organisation = organisation.get("slug")
    if organisation is not None and str(organisation).strip().lower() != current.organisation.slug:
        errors["organisation"] = [
            f"This assessment is {current.organisation.slug}'s; '{str(organisation)[:60]}' cannot take it over."
        ]
    if values.get("recommendation") not in (None, current.recommendation_id):
        errors["recommendation"] = [
            f"This assessment is of recommendation {current.recommendation_id}, not {values['recommendation']}: "
            "record a new one for another recommendation."
        ]
    if values.get("phase") and values["phase"] != current.phase:
        errors["phase"] = [
            f"This assessment is of the phase {current.phase}; “{str(values['phase'])[:40]}” is another: record a "
            "new assessment for it."
        ]
    if errors:
        raise ValidationError(errors)
