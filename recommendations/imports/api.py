"""The import jobs' JSON API (staff only), at /api/v1/imports/.

    GET  /imports/                  runs, newest first, paginated; ?kind=recommendations&status=failed
    POST /imports/                  multipart: file, kind, [encoding], [sheet], [mapping (JSON) | mapping_name]
                                    -> 202, the pending run (its preview is queued)
    GET  /imports/<id>/             the run: status, progress (live while running), report (counts, problems)
    POST /imports/<id>/confirm/     commit a successful preview -> 202; 409 for any other run
    POST /imports/<id>/rerun/       a new preview of the same file, [mapping], [encoding], [sheet],
                                    [mapping_name] -> 202; 409 while the run is pending or running

Errors are 400 with {"field": ["message"]}. The stored file's path is never shown.
"""

import json

import django_filters
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from recommendations.imports import jobs
from recommendations.models import ImportRun


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _job_error(error: jobs.JobError) -> APIException:
    if isinstance(error, jobs.JobConflict):
        return Conflict(error.message)
    return ValidationError({error.field or "non_field_errors": [error.message]})


# --- serializers ---------------------------------------------------------------------------------------------------


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

    url = serializers.HyperlinkedIdentityField(view_name="api:importrun-detail")
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


class ImportStartSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV or XLSX.")
    kind = serializers.ChoiceField(choices=list(jobs.IMPORT_KINDS))
    encoding = serializers.CharField(required=False, allow_blank=True, max_length=40)
    sheet = serializers.CharField(required=False, allow_blank=True, max_length=100)
    mapping = MappingField(required=False, help_text='JSON: {"columns": {"file column": "field"}, ...}.')
    mapping_name = serializers.CharField(required=False, allow_blank=True, max_length=100)

    def validate(self, attrs):
        if attrs.get("mapping") is not None and attrs.get("mapping_name"):
            raise ValidationError({"mapping_name": ["Give a mapping or the name of a saved one, not both."]})
        return attrs


class ImportRerunSerializer(serializers.Serializer):
    encoding = serializers.CharField(required=False, allow_blank=True, max_length=40)
    sheet = serializers.CharField(required=False, allow_blank=True, max_length=100)
    mapping = MappingField(required=False)
    mapping_name = serializers.CharField(required=False, allow_blank=True, max_length=100)

    validate = ImportStartSerializer.validate


# --- the viewset ---------------------------------------------------------------------------------------------------


class ImportRunFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ImportRun.Kind.choices)
    status = django_filters.ChoiceFilter(choices=ImportRun.Status.choices)
    dry_run = django_filters.BooleanFilter()

    class Meta:
        model = ImportRun
        fields = ["kind", "status", "dry_run"]


class ImportRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Import jobs: start a preview, watch it, confirm it, run it again. Staff only."""

    queryset = ImportRun.objects.select_related("user").order_by("-started_at", "-id")
    permission_classes = [permissions.IsAdminUser]
    filterset_class = ImportRunFilter
    parser_classes = [MultiPartParser, FormParser, JSONParser]

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
