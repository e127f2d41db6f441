"""The import jobs' JSON API (staff only), at /api/v1/imports/.

    GET  /imports/                  runs, newest first, paginated; ?kind=recommendations&status=failed
    POST /imports/                  multipart: file, kind, [encoding], [sheet], [mapping (JSON) | mapping_name]
                                    -> 202, the pending run (its preview is queued)
    GET  /imports/<id>/             the run: status, progress (live while running), report (counts, problems)
    POST /imports/<id>/confirm/     commit a successful preview -> 202; 409 for any other run
    POST /imports/<id>/rerun/       a new preview of the same file, [mapping], [encoding], [sheet],
                                    [mapping_name] -> 202; 409 while the run is pending or running

Errors come in the API's shape (uprtrax.api_errors): 400 `validation_error` naming each field (a field the
request does not take is refused too), 401 without credentials, 403 for anyone but staff, 409 `conflict`, 413 for a
body over the file limit (UPRTRAX_IMPORT_MAX_BYTES). The stored file's path is never shown.
"""

import json

import django_filters
from django.conf import settings
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import FormParser
from rest_framework.response import Response

from recommendations.imports import jobs
from recommendations.models import ImportRun
from uprtrax.api_errors import Conflict, UnknownFieldsRefused, errors
from uprtrax.api_links import IdentityLink
from uprtrax.api_parsers import JSONParser, MultiPartParser


class UploadParser(MultiPartParser):
    """A multipart body may carry a file up to the imports' limit, beside its fields."""

    @property
    def file_bytes(self) -> int:
        return settings.IMPORT_MAX_BYTES


def _job_error(error: jobs.JobError) -> APIException:
    if isinstance(error, jobs.JobConflict):
        return Conflict(error.message)
    return ValidationError({error.field or "non_field_errors": [error.message]})


# --- serializers ---------------------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "oneOf": [{"type": "object", "additionalProperties": True}, {"type": "string"}],
        "description": 'JSON: {"columns": {"file column": "field", ...}, "values": {...}, "separators": {...}}, as an '
        "object or as a string of JSON (a multipart form's field).",
    }
)
class MappingField(serializers.Field):
    """A mapping as a JSON object, or as a string of JSON (a multipart form's field)."""

    default_error_messages = {
        "json": "Not valid JSON: {error} (line {line}, column {column}).",
        "object": 'A mapping is a JSON object: {{"columns": {{"file column": "field", ...}}}}.',
    }

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                self.fail("json", error=exc.msg, line=exc.lineno, column=exc.colno)
        if not isinstance(data, dict):
            self.fail("object")
        return data

    def to_representation(self, value):
        return value


class ImportRunSerializer(serializers.ModelSerializer):
    """A run in the list: what, whose, when, how it went."""

    url = IdentityLink(view_name="api:importrun-detail")
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    duration = serializers.SerializerMethodField(help_text="Seconds the import took, once finished.")

    class Meta:
        model = ImportRun
        fields = ["id", "url", "kind", "status", "dry_run", "user", "started_at", "finished_at", "file_name", "size",
                  "counts", "duration", "error_message"]  # fmt: skip
        read_only_fields = fields

    def get_duration(self, run) -> float | None:
        return round(run.duration.total_seconds(), 3) if run.duration is not None else None


class ImportRunDetailSerializer(ImportRunSerializer):
    """Every field of the run but the stored file, its live progress, and its report."""

    progress = serializers.SerializerMethodField(help_text='{"phase", "rows", "at"} while pending or running.')
    report = serializers.SerializerMethodField()

    class Meta(ImportRunSerializer.Meta):
        fields = [*ImportRunSerializer.Meta.fields, "sha256", "encoding", "sheet", "layout", "mapping", "options",
                  "task_id", "progress", "report"]  # fmt: skip
        read_only_fields = fields

    def get_progress(self, run) -> dict | None:
        return jobs.run_progress(run)

    def get_report(self, run) -> dict:
        counts = run.counts or {}
        return {
            "counts": counts,
            "error_total": counts.get("errors", len(run.errors)),
            "warning_total": counts.get("warnings", len(run.warnings)),
            "errors": run.errors,
            "warnings": run.warnings,
        }


class ImportStartSerializer(UnknownFieldsRefused, serializers.Serializer):
    file = serializers.FileField(help_text="CSV (any common encoding) or XLSX.")
    kind = serializers.ChoiceField(choices=list(jobs.IMPORT_KINDS), help_text="What the file holds.")
    encoding = serializers.CharField(
        required=False, allow_blank=True, max_length=40, help_text="The CSV's encoding (detected when left out)."
    )
    sheet = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="The XLSX sheet to read (the first by default)."
    )
    mapping = MappingField(required=False, help_text='JSON: {"columns": {"file column": "field"}, ...}.')
    mapping_name = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="The name of a saved mapping (not with mapping)."
    )

    def validate(self, attrs):
        if attrs.get("mapping") is not None and attrs.get("mapping_name"):
            raise ValidationError({"mapping_name": ["Give a mapping or the name of a saved one, not both."]})
        return attrs


class ImportRerunSerializer(UnknownFieldsRefused, serializers.Serializer):
    encoding = serializers.CharField(required=False, allow_blank=True, max_length=40)
    sheet = serializers.CharField(required=False, allow_blank=True, max_length=100)
    mapping = MappingField(required=False)
    mapping_name = serializers.CharField(required=False, allow_blank=True, max_length=100)

    validate = ImportStartSerializer.validate


# --- the viewset ---------------------------------------------------------------------------------------------------


class ImportRunFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ImportRun.Kind.choices, label="What the file holds.")
    status = django_filters.ChoiceFilter(choices=ImportRun.Status.choices, label="The run's status.")
    dry_run = django_filters.BooleanFilter(label="true: previews only; false: commits only.")

    class Meta:
        model = ImportRun
        fields = ["kind", "status", "dry_run"]


_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="The run's id.")
_STAFF = errors(403)


@extend_schema_view(
    list=extend_schema(
        summary="List import runs",
        description="Newest first, in pages. Staff only.",
        responses={200: ImportRunSerializer(many=True), **errors(400, 403, 404)},
    ),
    retrieve=extend_schema(
        summary="One import run",
        description="Its status, its live progress while it runs, and its report: counts, and every error and "
        "warning with its row, column, value and message. Poll it until the status is no longer pending or running.",
        parameters=[_ID],
        responses={200: ImportRunDetailSerializer, **errors(403, 404)},
    ),
    create=extend_schema(
        summary="Start an import's preview",
        description="Upload a file: a Celery job previews it (counts, problems) and writes nothing. Confirm a "
        "successful preview to import it.",
        request={"multipart/form-data": ImportStartSerializer},
        responses={202: ImportRunDetailSerializer, **errors(400, 403, 413)},
        examples=[
            OpenApiExample(
                "Recommendations in UPR Info's layout",
                value={"file": "(the file)", "kind": "recommendations"},
                request_only=True,
                media_type="multipart/form-data",
            )
        ],
    ),
    confirm=extend_schema(
        summary="Commit a successful preview",
        description="Imports the previewed file in one transaction (a new run, pending). 409 for any run that is "
        "not a successful preview.",
        parameters=[_ID],
        request=None,
        responses={202: ImportRunDetailSerializer, **errors(403, 404, 409)},
    ),
    rerun=extend_schema(
        summary="Preview the same file again",
        description="With another mapping, encoding or sheet if given. 409 while the run is pending or running.",
        parameters=[_ID],
        request=ImportRerunSerializer,
        responses={202: ImportRunDetailSerializer, **errors(400, 403, 404, 409)},
    ),
)
class ImportRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Import jobs: start a preview, watch it, confirm it, run it again. Staff only."""

    queryset = ImportRun.objects.select_related("user").order_by("-started_at", "-id")
    permission_classes = [permissions.IsAdminUser]
    filterset_class = ImportRunFilter
    parser_classes = [UploadParser, FormParser, JSONParser]

    def get_serializer_class(self):
        return ImportRunSerializer if self.action == "list" else ImportRunDetailSerializer

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            return queryset.defer("errors", "warnings", "mapping", "options")  # up to thousands of problems each
        return queryset

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        for run in page or []:
            jobs.run_refresh(run)  # a dead worker's run reads as failed at once, not at the next reaping
        return page

    def get_object(self):
        return jobs.run_refresh(super().get_object())

    def create(self, request):
        data = ImportStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            run = jobs.job_start(
                user=request.user,
                kind=values["kind"],
                upload=values["file"],
                file_name=values["file"].name,
                options={name: values.get(name, "") for name in jobs.OPTION_NAMES},
                mapping=values.get("mapping"),
            )
        except jobs.JobError as error:
            raise _job_error(error) from None
        return self._accepted(run)

    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        try:
            run = jobs.job_confirm(run=self.get_object(), user=request.user)
        except jobs.JobError as error:
            raise _job_error(error) from None
        return self._accepted(run)

    @action(detail=True, methods=["post"])
    def rerun(self, request, pk=None):
        data = ImportRerunSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        options = {name: values[name] for name in jobs.OPTION_NAMES if name in values}
        try:
            run = jobs.job_rerun(run=self.get_object(), user=request.user, mapping=values.get("mapping"),
                                 options=options)  # fmt: skip
        except jobs.JobError as error:
            raise _job_error(error) from None
        return self._accepted(run)

    def _accepted(self, run: ImportRun) -> Response:
        body = ImportRunDetailSerializer(run, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": str(body["url"])})
