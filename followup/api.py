"""Follow-up assessments in the API, at /api/v1/assessments/.

    GET    /assessments/                  what the requester may see (anonymous: public ones), filtered by
                                          AssessmentFilterSet (followup/filters.py), in pages (`page`, `page_size`)
    GET    /assessments/<id>/             one (404 when unknown or not the requester's to see)
    POST   /assessments/                  {organisation (slug), recommendation (id), status, comment, evidence_urls
                                          (list), assessed_on, phase (optional: by the date), visibility} -> 201
    PUT    /assessments/<id>/             the same fields (organisation, recommendation and phase do not change),
    PATCH  /assessments/<id>/             with the `version` read -> 200; 409 with the current one when stale
    DELETE /assessments/<id>/?version=N   soft delete -> 204; 409 when stale
    POST   /assessments/bulk/             {organisation, recommendations: [ids], status, comment, evidence_urls,
                                          assessed_on, phase, visibility, replace, seen_at} -> 200 with the counts

Writes go through followup.services.assessments (permissions, history, versions, all or nothing). Errors: 400
{"field": ["message naming the value"]}, 401 for a bad token, 403 for an organisation that is not the
requester's or a read-only token, 404, 409 {"detail", "current"} for a change the writer has not seen.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.response import Response

from followup import permissions, rules
from followup.api_auth import TokenScope
from followup.filters import AssessmentFilterSet
from followup.models import Assessment, Organisation
from followup.services import assessments as services
from recommendations.models import Recommendation

PAGE_SIZE_MAX = 100
EVIDENCE_ITEMS_MAX = 100  # items read from a request; rules.EVIDENCE_MAX says how many are kept


# --- Reading ------------------------------------------------------------------------------------------------------


class OrganisationBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["slug", "name", "kind"]


class AssessmentSerializer(serializers.ModelSerializer):
    """An assessment; with `deleted`, `hidden` and `hidden_reason` for its organisation's members and moderators
    (the only people, with admins, who see deleted or hidden ones)."""

    url = serializers.HyperlinkedIdentityField(view_name="api:assessment-detail")
    recommendation = serializers.IntegerField(source="recommendation_id")
    organisation = OrganisationBriefSerializer()

    class Meta:
        model = Assessment
        fields = ["id", "url", "recommendation", "organisation", "phase", "status", "comment", "evidence_urls",
                  "assessed_on", "visibility", "version", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = fields

    def to_representation(self, assessment):
        data = super().to_representation(assessment)
        user = self.context["request"].user
        if permissions.is_moderator(user) or assessment.organisation_id in permissions.roles(user):
            data["deleted"] = assessment.deleted_at is not None
            data["hidden"] = assessment.hidden_at is not None
            data["hidden_reason"] = assessment.hidden_reason
        return data


# --- Writing: the shape of what comes in (the services check the values and name them) ---------------------------


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


class AssessmentFieldsSerializer(serializers.Serializer):
    """What an assessment says. Choices and limits are checked by services.assessment_input, which names the value
    at fault: a status that does not exist, a comment of 100,000 characters, a link that is not http(s)."""

    status = serializers.CharField(allow_blank=True)
    comment = serializers.CharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False)
    evidence_urls = EvidenceField(required=False)
    assessed_on = NamedDateField(required=False, allow_null=True, help_text="YYYY-MM-DD; today when not given.")
    phase = serializers.CharField(required=False, allow_blank=True, allow_null=True,
                                  help_text="mid_term or next_review; by the date when not given.")  # fmt: skip
    visibility = serializers.CharField(required=False, help_text="draft (the default), organisation or public.")

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


# --- The viewset ------------------------------------------------------------------------------------------------


class AssessmentPages(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = PAGE_SIZE_MAX

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and (not raw.isdigit() or not 1 <= int(raw) <= PAGE_SIZE_MAX):
            raise ValidationError({"page_size": [f"A page holds 1 to {PAGE_SIZE_MAX} assessments, not “{raw[:20]}”."]})
        return super().get_page_size(request)


class AssessmentViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Follow-up assessments: each one organisation's statement on how far one recommendation was implemented, at
    mid-term or at the next review. Filters: `recommendation`, `organisation` (slug), `organisation_kind`,
    `status`, `phase`, `visibility`, `sur`, `session`, `cycle`, `assessed_after`, `assessed_before`, `mine=1`.
    Members of an organisation write its assessments (a token needs the scope `write_assessments`)."""

    serializer_class = AssessmentSerializer
    filterset_class = AssessmentFilterSet
    pagination_class = AssessmentPages
    permission_classes = [IsAuthenticatedOrReadOnly, TokenScope]
    token_writes = True  # followup.api_auth: tokens may write here (with the scope)

    def get_queryset(self):
        return permissions.visible_assessments(self.request.user).select_related("organisation")

    def _shown(self, assessment: Assessment, code: int = status.HTTP_200_OK) -> Response:
        body = AssessmentSerializer(assessment, context=self.get_serializer_context()).data
        headers = {"Location": str(body["url"])} if code == status.HTTP_201_CREATED else None  # a plain str for WSGI
        return Response(body, status=code, headers=headers)

    def _conflict(self, error: services.AssessmentConflict, message: str = "") -> Response:
        """409: what happened, and the assessment as it now is (unless it is a colleague's draft)."""
        current = error.current
        shown = None
        if permissions.can_see(self.request.user, current):
            shown = AssessmentSerializer(current, context=self.get_serializer_context()).data
        return Response({"detail": message or str(error), "current": shown}, status=status.HTTP_409_CONFLICT)

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
            return self._conflict(error, (
                f"{organisation.name} has an assessment of recommendation {recommendation.pk} at the phase "
                f"{current.phase} already (id {current.pk}, version {current.version}): change it with PUT or "
                "PATCH, giving its version."
            ))  # fmt: skip
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
            return self._conflict(error)
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
            return self._conflict(error)
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
            return Response({"detail": str(error), "conflicts": conflicts}, status=status.HTTP_409_CONFLICT)
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
