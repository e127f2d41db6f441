"""The API's OpenAPI schema (/api/schema/) and docs (/api/docs/), and schemathesis against the API itself: every
operation, with generated requests (valid ones and invalid ones), must answer no 5xx and only what the schema says
(documented statuses, bodies and headers that match it).

Schemathesis drives the WSGI application in this process (no server), over a small data set, as a staff member of
an organisation with a `write_assessments` token, so that the writes are tried too. The number of examples per
operation is bounded and derandomised: the same requests on every run, about half a minute for the whole API.
"""

import datetime
import functools
import json
import os
import re
from types import SimpleNamespace

import pytest
import schemathesis
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client
from django.utils.crypto import get_random_string
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase
from hypothesis import settings as hypothesis_settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from followup.models import Assessment, Membership
from followup.services.tokens import token_create
from followup.snapshots import statistics_recompute
from recommendations.imports import jobs
from recommendations.models import ImportRun, Recommendation
from reviews.models import Session, State
from tests.factories import (
    AssessmentFactory,
    MembershipFactory,
    OrganisationFactory,
    RecommendationFactory,
    ReviewFactory,
    UserFactory,
    csv_bytes,
)
from uprtrax.wsgi import application

pytestmark = pytest.mark.django_db

# Per operation. A deeper hunt, with other requests on each run: UPRTRAX_FUZZ_EXAMPLES=200 UPRTRAX_FUZZ_RANDOM=1.
EXAMPLES = int(os.environ.get("UPRTRAX_FUZZ_EXAMPLES", "25"))


@functools.cache
def _schema_document() -> dict:
    """The schema as /api/schema/ serves it, generated once per run (it depends on the code only, not the data)."""
    generated = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(generated, renderer_context={}))


# --- The schema and the docs ---------------------------------------------------------------------------------------


def test_the_schema_describes_every_operation_with_its_errors():
    document = _schema_document()
    assert document["openapi"].startswith("3.") and document["info"]["title"] == "uprtrax API"
    for heading in ("## Authentication", "## Rate limits", "## Errors", "## Pages"):
        assert heading in document["info"]["description"]
    assert document["components"]["securitySchemes"]["ApiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "upx_…",
        "description": document["components"]["securitySchemes"]["ApiToken"]["description"],
    }
    operations = [(path, method, op) for path, item in document["paths"].items() for method, op in item.items()]
    assert len(operations) >= 20
    undescribed = [
        (method, path, parameter["name"])
        for path, method, operation in operations
        for parameter in operation.get("parameters", [])
        if not parameter.get("description")
    ]
    assert undescribed == []
    for path, method, operation in operations:
        assert path.startswith("/api/v1/"), path
        responses = operation["responses"]
        for status in ("401", "406", "429"):  # a bad token, an Accept header, the rate limits: anywhere
            assert status in responses, (method, path, status)
        assert "Retry-After" in responses["429"]["headers"]
        assert responses["401"]["headers"]["WWW-Authenticate"]
        if method in ("post", "put", "patch", "delete"):
            assert {"403", "413", "415"} <= set(responses), (method, path)
        if "requestBody" in operation:
            assert "400" in responses, (method, path)
        errors = [code for code in responses if code >= "400"]
        for code in errors:
            schema = responses[code]["content"]["application/json"]["schema"]["$ref"]
            error = document["components"]["schemas"][schema.rsplit("/", 1)[1]]
            assert error["required"] == ["error"], (method, path, code)


def test_the_schema_names_the_assessment_write_and_its_conflict():
    document = _schema_document()
    create = document["paths"]["/api/v1/assessments/"]["post"]
    assert create["summary"] == "Record an assessment"
    assert create["requestBody"]["content"]["application/json"]["examples"]
    conflict = create["responses"]["409"]["content"]["application/json"]["schema"]["$ref"]
    assert conflict.endswith("/AssessmentConflict")
    assert "version" in {p["name"] for p in document["paths"]["/api/v1/assessments/{id}/"]["delete"]["parameters"]}


def test_the_schema_serves_as_yaml_too(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200 and response.content.startswith(b"openapi: 3.")


def test_the_docs_page_loads_only_local_files_and_no_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", body) == []
    assert "<style" not in body and "style=" not in body
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', body)
    assert len(assets) >= 4
    for url in assets:
        assert url.startswith("/"), url
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url
    assert "default-src 'self'" in response["Content-Security-Policy"]
    script = client.get("/api/docs/?script=")
    assert script["Content-Type"].startswith("application/javascript")
    assert b'url: "/api/schema/"' in script.content


def test_the_sites_api_link_leads_to_the_docs(client):
    assert 'href="/api/docs/">API</a>' in client.get("/").content.decode()


# --- Schemathesis ----------------------------------------------------------------------------------------------


# Ids of what the data set holds, for the hooks below to aim some generated requests at real rows (random ids find
# nothing: every PATCH would be a 404 and the writes' own paths would go untried).
KNOWN: dict[str, list] = {}


@pytest.fixture
def dataset(settings, tmp_path):
    """A few recommendations of two reviews, public and private assessments, import runs, computed statistics; a
    staff member of an organisation, with a write token (for the assessments) and a session (for the imports, which
    no token writes)."""
    settings.ALLOWED_HOSTS = ["localhost", "testserver"]
    settings.MEDIA_ROOT = tmp_path  # import uploads
    france = ReviewFactory()
    kenya = ReviewFactory(state=State.objects.get(iso3="KEN"), session=Session.objects.get(number=21))
    recommendations = [RecommendationFactory(review=review) for review in (france, kenya) for _ in range(3)]
    ours = OrganisationFactory(name="Ligue des droits", slug="ligue")
    theirs = OrganisationFactory(name="Observatoire", slug="observatoire")
    person = UserFactory(username="fuzzer", is_staff=True)
    MembershipFactory(user=person, organisation=ours, role=Membership.Role.ADMIN)
    assessments = [
        AssessmentFactory(
            recommendation=recommendation,
            organisation=ours if index % 2 else theirs,
            author=person if index % 2 else UserFactory(),
            assessed_on=datetime.date(2015, 6, 1) if recommendation.review == france else datetime.date(2017, 3, 1),
            visibility=Assessment.Visibility.PUBLIC if index % 3 else Assessment.Visibility.DRAFT,
        )
        for index, recommendation in enumerate(recommendations)
    ]
    # What the schema's examples name (the explicit phase sends them): the organisation "my-cso", recommendation 1042.
    MembershipFactory(user=person, organisation=OrganisationFactory(name="My CSO", slug="my-cso"))
    if not Recommendation.objects.filter(pk=1042).exists():
        RecommendationFactory(pk=1042, review=france)
    runs = []
    for status in (ImportRun.Status.DRY_RUN, ImportRun.Status.FAILED):
        upload = SimpleUploadedFile("session.csv", csv_bytes(["state_under_review", "session", "text"],
                                                             [["France", "15", "Ratify."]]))  # fmt: skip
        run = jobs.job_start(user=person, kind="recommendations", upload=upload, file_name=upload.name,
                             options={}, mapping=None)  # fmt: skip
        ImportRun.objects.filter(pk=run.pk).update(status=status)
        runs.append(run.pk)
    statistics_recompute()
    KNOWN.update(assessments=[a.pk for a in assessments], recommendations=[r.pk for r in recommendations], imports=runs)
    _, key = token_create(user=person, name="schemathesis", scope="write_assessments")
    browser = Client()
    browser.force_login(person)
    csrf = get_random_string(32)
    # Schemathesis calls the WSGI application, whose request signals would close the test's connection (Django's
    # test client unhooks them the same way).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield SimpleNamespace(
        token={"Authorization": f"Bearer {key}"},
        session={"headers": {"X-CSRFToken": csrf},
                 "cookies": {"sessionid": browser.cookies["sessionid"].value, "csrftoken": csrf}},
    )  # fmt: skip
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    KNOWN.clear()


def no_server_error(ctx, response, case):
    """No 5xx, but a documented 503 with Retry-After: "not ready yet" (the data dumps before the first is built)."""
    documented = "503" in case.operation.definition.raw.get("responses", {})
    if response.status_code == 503 and documented and "retry-after" in response.headers:
        return None
    return checks.not_a_server_error(ctx, response, case)


# No server error, and only what the schema says: statuses, content types, headers, bodies. Not schemathesis'
# checks that a value valid by the schema is accepted (an organisation's slug that names nobody is a 400 here, by
# design) or that an invalid one is refused (an empty filter is ignored, as the pages ignore it).
CHECKS = [
    no_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]

# Loaded when the module is (Django is set up by then); schemathesis' lazy loading from a fixture does not run under
# pytest 9 (it sets a node attribute pytest no longer has).
schema = schemathesis.openapi.from_dict(_schema_document())
schema.app = application


def _known(kind: str, value):
    """An id of the data set instead of an even generated number (odd ones, and anything else, are kept)."""
    if isinstance(value, int) and not isinstance(value, bool) and value % 2 == 0 and KNOWN.get(kind):
        return KNOWN[kind][value // 2 % len(KNOWN[kind])]
    return value


@schema.hook
def map_path_parameters(context, path_parameters):
    for prefix, kind in (("/api/v1/assessments/", "assessments"), ("/api/v1/imports/", "imports")):
        if context.operation.path.startswith(prefix) and "id" in (path_parameters or {}):
            path_parameters["id"] = _known(kind, path_parameters["id"])
    return path_parameters


@schema.hook
def map_body(context, body):
    if not context.operation.path.startswith("/api/v1/assessments/") or not isinstance(body, dict):
        return body
    if isinstance(body.get("organisation"), str) and len(body["organisation"]) % 2 == 0:
        body["organisation"] = "ligue"
    if "recommendation" in body:
        body["recommendation"] = _known("recommendations", body["recommendation"])
    if isinstance(body.get("recommendations"), list):
        body["recommendations"] = [_known("recommendations", value) for value in body["recommendations"]]
    if isinstance(body.get("version"), int) and body["version"] % 2 == 0:
        body["version"] = 1
    return body


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("UPRTRAX_FUZZ_RANDOM"),
    database=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as found
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case, dataset):
    if case.path.startswith("/api/v1/imports/"):  # staff only, and never written with a token: the session
        case.call_and_validate(checks=CHECKS, **dataset.session)
    else:
        case.call_and_validate(checks=CHECKS, headers=dataset.token)
