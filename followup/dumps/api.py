"""The public data dump in the API, at /api/v1/dumps/: the latest dump's manifest, with each file's download URL.

    GET /api/v1/dumps/
    -> 200 {"generated_at", "data_as_of", "duration_seconds", "manifest_url", "notes", "files": [{"name", "url",
           "format", "table", "type", "rows", "bytes", "bytes_uncompressed", "sha256", "columns", "description"}]}
       503 with Retry-After before the first dump (error code not_ready)

The files themselves are at /dumps/<name> (followup.dumps.views). Anyone may read both.
"""

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from followup.dumps.build import MANIFEST_NAME, dump_served
from followup.dumps.tables import RECOMMENDATION_COLUMNS
from uprtrax.api_errors import NotReady, errors

RETRY_SECONDS = 3600


class DumpFileSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The file's name: recommendations.csv.gz, uprtrax.jsonl.gz, …")
    url = serializers.URLField(help_text="Where to download it (gzipped; ETag is its sha256).")
    format = serializers.ChoiceField(choices=["csv", "jsonl"])
    table = serializers.CharField(allow_null=True, help_text="The table a CSV file holds; null for the JSON Lines.")
    type = serializers.CharField(
        allow_null=True, help_text='The "type" of this table\'s rows in the JSON Lines file; null for that file.'
    )
    rows = serializers.IntegerField(help_text="Rows, the header left out.")
    bytes = serializers.IntegerField(help_text="Size of the gzipped file, as downloaded.")
    bytes_uncompressed = serializers.IntegerField(help_text="Size once gunzipped.")
    sha256 = serializers.CharField(help_text="SHA-256 of the gzipped file, in hexadecimal.")
    columns = serializers.ListField(child=serializers.CharField(), help_text="A CSV file's columns, in order.")
    types = serializers.DictField(
        child=serializers.IntegerField(), required=False, help_text="The JSON Lines file: rows per type."
    )
    description = serializers.CharField()


@extend_schema_serializer(many=False)  # one object, although the router calls the view "list"
class DumpManifestSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField(help_text="When the dump was finished.")
    data_as_of = serializers.DateTimeField(help_text="The moment of the data: every file reads one snapshot.")
    duration_seconds = serializers.FloatField(help_text="How long writing it took.")
    manifest_url = serializers.URLField(help_text="The same manifest as a file, kept beside the dump's files.")
    notes = serializers.DictField(child=serializers.CharField(), help_text="How the files are written and linked.")
    files = DumpFileSerializer(many=True)


_EXAMPLE = {
    "generated_at": "2026-11-30T03:04:12.345678+00:00",
    "data_as_of": "2026-11-30T03:00:00.123456+00:00",
    "duration_seconds": 251.4,
    "manifest_url": "https://uprtrax.example.org/dumps/manifest.json",
    "notes": {"csv": "UTF-8, comma-separated, a header row, …"},
    "files": [
        {
            "name": "recommendations.csv.gz",
            "url": "https://uprtrax.example.org/dumps/recommendations.csv.gz",
            "format": "csv",
            "table": "recommendations",
            "type": "recommendation",
            "rows": 1000000,
            "bytes": 87654321,
            "bytes_uncompressed": 345678901,
            "sha256": "9f2c…",
            "columns": list(RECOMMENDATION_COLUMNS),
            "description": "Recommendations and voluntary pledges: …",
        }
    ],
}


@extend_schema_view(
    list=extend_schema(
        summary="The bulk data dump: its files, sizes, rows and checksums",
        description="All the public data at once, so that nobody needs to crawl the API: a gzipped CSV file per "
        "table (regional groups, states, intergovernmental organisations, cycles, sessions, reviews, issues, "
        "recommendations, organisations, public assessments, the latest statistics) and one gzipped JSON Lines "
        'file with every row (a "type" key each). Rebuilt every night; `data_as_of` says when its data was read. '
        "Download each file from its `url` (`/dumps/<name>`, with ETag and Last-Modified) and check its `sha256`.",
        responses={200: DumpManifestSerializer, **errors(503)},
        examples=[OpenApiExample("manifest", value=_EXAMPLE, response_only=True, status_codes=["200"])],
    )
)
class DumpViewSet(viewsets.ViewSet):
    """The latest bulk data dump: every file with its download URL, rows, size and SHA-256."""

    permission_classes = [AllowAny]

    def list(self, request):
        dump = dump_served()
        if dump is None:
            raise NotReady(
                "No data dump has been built yet: one is built every night (or by `manage.py build_dumps`). "
                "Try again later.",
                wait=RETRY_SECONDS,
            )
        manifest = dump.manifest
        files = [{**entry, "url": request.build_absolute_uri(_url(entry["name"]))} for entry in manifest["files"]]
        body = {**manifest, "manifest_url": request.build_absolute_uri(_url(MANIFEST_NAME)), "files": files}
        return Response(DumpManifestSerializer(body).data)


def _url(name: str) -> str:
    return reverse("dumps:file", args=[name])
