"""The import jobs' JSON API, /api/v1/imports/: staff only, multipart upload -> preview -> confirm -> rerun."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from recommendations.imports import runs
from recommendations.imports.tasks import import_run_execute
from recommendations.models import ImportMapping, ImportRun, Recommendation
from tests.factories import UserFactory, csv_bytes

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"
HEADER = ["state_under_review", "session", "recommending_states", "text", "response", "action_category", "issues"]


def _csv(rows, header=HEADER) -> bytes:
    return csv_bytes(header, rows)


GOOD = _csv([
    ["France", "3", "Ghana", "Ratify the Optional Protocol to the Convention against Torture.", "accepted", "5",
     "Torture and other CID treatment"],
    ["Ghana", "2", "France;Chile", "Abolish the death penalty.", "noted", "5", "Death penalty"],
])  # fmt: skip
BAD = _csv([["Atlantis", "3", "Ghana", "Ratify the Convention.", "accepted", "", ""]])


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def _stored_files(media) -> list:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


@pytest.fixture
def staff():
    client = APIClient()
    client.force_authenticate(UserFactory(username="admin", is_staff=True))
    return client


@pytest.fixture
def cast():
    """Everyone who is not staff: anonymous, a CSO member, a moderator."""
    anonymous = APIClient()
    member, moderator = APIClient(), APIClient()
    member.force_authenticate(UserFactory(username="cso-member"))
    moderator.force_authenticate(UserFactory(username="moderator", is_moderator=True))
    return {"anonymous": anonymous, "member": member, "moderator": moderator}


def _upload(data=GOOD, name="session 3.csv"):
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _create(client, capture, **fields):
    """POST a new import; returns the response (its task queued on commit, not run)."""
    with capture(execute=False) as callbacks:
        response = client.post(URL, {"file": _upload(), "kind": "recommendations", **fields}, format="multipart")
    assert len(callbacks) == (1 if response.status_code == 202 else 0)
    return response


def _work(run_id: int) -> None:
    """The worker's part, in this process."""
    import_run_execute.apply(args=[run_id]).get()


def test_staff_upload_preview_confirm_and_rerun(staff, media, django_capture_on_commit_callbacks):
    response = _create(staff, django_capture_on_commit_callbacks)
    assert response.status_code == 202, response.json()
    run = response.json()
    assert response["Location"] == run["url"] == f"http://testserver{URL}{run['id']}/"
    assert (run["status"], run["dry_run"], run["kind"], run["file_name"]) == ("pending", True, "recommendations",
                                                                            "session 3.csv")  # fmt: skip
    assert run["progress"] == {"phase": "queued", "rows": 0, "at": None}
    stored = ImportRun.objects.get(pk=run["id"]).upload.name
    assert "upload" not in run and stored not in response.content.decode(), "the stored path is never shown"
    assert [path.read_bytes() for path in _stored_files(media)] == [GOOD]

    _work(run["id"])
    preview = staff.get(run["url"]).json()
    assert (preview["status"], preview["progress"], preview["layout"]) == ("dry_run", None, "canonical")
    assert preview["report"]["counts"]["create"] == 2 and preview["report"]["error_total"] == 0
    assert preview["report"]["errors"] == [] and isinstance(preview["duration"], float)
    assert Recommendation.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=False):
        confirmed = staff.post(f"{run['url']}confirm/")
    assert confirmed.status_code == 202
    assert (confirmed.json()["id"], confirmed.json()["status"], confirmed.json()["dry_run"]) == (run["id"], "pending",
                                                                                                  False)  # fmt: skip
    _work(run["id"])
    done = staff.get(run["url"]).json()
    assert done["status"] == "succeeded" and done["report"]["counts"]["create"] == 2
    assert Recommendation.objects.count() == 2

    assert staff.post(f"{run['url']}confirm/").status_code == 409, "a commit is not confirmed twice"

    mapping = {"columns": {name: name for name in HEADER}, "separators": {"recommending_states": ";", "issues": ";"}}
    with django_capture_on_commit_callbacks(execute=False):
        rerun = staff.post(f"{run['url']}rerun/", {"mapping": json.dumps(mapping)}, format="multipart")
    assert rerun.status_code == 202, rerun.json()
    again = rerun.json()
    assert again["id"] != run["id"] and (again["status"], again["dry_run"]) == ("pending", True)
    assert again["options"]["mapping"] == mapping and again["options"]["rerun_of"] == run["id"]
    _work(again["id"])
    rerun_report = staff.get(again["url"]).json()
    assert rerun_report["layout"] == "mapping" and rerun_report["report"]["counts"]["unchanged"] == 2
    assert len(_stored_files(media)) == 1, "a rerun reuses the stored file"


def test_a_failed_preview_reports_its_errors_and_cannot_be_confirmed(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        run = staff.post(URL, {"file": _upload(BAD), "kind": "recommendations"}, format="multipart").json()
    _work(run["id"])
    failed = staff.get(run["url"]).json()
    assert failed["status"] == "failed" and failed["report"]["error_total"] == 1
    error = failed["report"]["errors"][0]
    assert (error["row"], error["column"], error["value"]) == (2, "state_under_review", "Atlantis")
    assert failed["error_message"].startswith("row 2, column state_under_review")

    response = staff.post(f"{run['url']}confirm/")
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "conflict", "message": "Only a successful preview can be confirmed; this run is failed."}
    }
    assert ImportRun.objects.get(pk=run["id"]).status == ImportRun.Status.FAILED

    # Rerun after the failure, with a mapping given as a JSON object and another encoding.
    mapping = {"columns": {"state_under_review": "state_under_review", "session": "session", "text": "text"}}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        rerun = staff.post(f"{run['url']}rerun/", {"mapping": mapping, "encoding": "cp1252"}, format="json")
    assert rerun.status_code == 202 and len(callbacks) == 1
    assert rerun.json()["options"] == {"encoding": "cp1252", "sheet": "", "mapping_name": "", "mapping": mapping,
                                       "rerun_of": run["id"]}  # fmt: skip
    bad = staff.post(f"{run['url']}rerun/", {"mapping": {"columns": "state"}}, format="json")
    assert bad.status_code == 400 and "columns" in bad.json()["error"]["fields"]["mapping"][0]


def test_a_pending_or_running_run_is_neither_confirmed_nor_rerun(staff, django_capture_on_commit_callbacks):
    run = _create(staff, django_capture_on_commit_callbacks).json()
    assert staff.post(f"{run['url']}confirm/").json()["error"] == {
        "code": "conflict",
        "message": "Only a successful preview can be confirmed; this run is pending.",
    }
    assert staff.post(f"{run['url']}rerun/").status_code == 409
    ImportRun.objects.filter(pk=run["id"]).update(status=ImportRun.Status.RUNNING)
    with runs.Progress(run["id"]) as progress:
        progress("validating", 12_000)
        body = staff.get(run["url"]).json()
        assert body["status"] == "running"
        assert (body["progress"]["phase"], body["progress"]["rows"]) == ("validating", 12_000)
        response = staff.post(f"{run['url']}rerun/")
    assert response.status_code == 409
    assert response.json()["error"]["message"] == "This run is running; wait for it to finish."
    assert ImportRun.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"kind": "votes"}, "kind", '"votes" is not a valid choice.'),
        ({"file": ""}, "file", "The submitted data was not a file."),
        ({"mapping": '{"columns": {"Country": '}, "mapping", "Not valid JSON: Expecting value (line 1, column 25)."),
        ({"mapping": '["Country"]'}, "mapping", 'A mapping is a JSON object: {"columns": {"file column": "field"'),
        ({"mapping": '{"columns": {"Country": "nation"}}'}, "mapping", 'Unknown field "nation" for column "Country"'),
        ({"mapping_name": "UN matrix"}, "mapping_name", 'No saved mapping "UN matrix" for recommendations.'),
        ({"mapping_name": "MIA", "mapping": '{"columns": {}}'}, "mapping_name", "not both"),
        ({"encoding": "klingon-8"}, "encoding", 'Unknown encoding "klingon-8"'),
        ({"file": SimpleUploadedFile("big.csv", b"x" * 2049)}, "file",
         "The file is 2,049 bytes, over the size limit of 2,048 bytes (setting IMPORT_MAX_BYTES)."),
    ],
)  # fmt: skip
def test_bad_requests_get_400_naming_the_field_and_write_nothing(
    staff, media, settings, django_capture_on_commit_callbacks, fields, field, message
):
    settings.IMPORT_MAX_BYTES = 2048
    ImportMapping.objects.create(name="UN matrix", kind=ImportRun.Kind.ASSESSMENTS, mapping={"columns": {}})
    response = _create(staff, django_capture_on_commit_callbacks, **fields)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert message in response.json()["error"]["fields"][field][0]
    assert not ImportRun.objects.exists() and _stored_files(media) == []


def test_everyone_but_staff_is_refused_and_nothing_is_written(cast, staff, media, django_capture_on_commit_callbacks):
    run = _create(staff, django_capture_on_commit_callbacks).json()
    _work(run["id"])
    stored = _stored_files(media)
    for who, client in cast.items():
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            responses = {
                "list": client.get(URL),
                "retrieve": client.get(run["url"]),
                "create": client.post(URL, {"file": _upload(), "kind": "recommendations"}, format="multipart"),
                "confirm": client.post(f"{run['url']}confirm/"),
                "rerun": client.post(f"{run['url']}rerun/"),
            }
        expected = {401, 403} if who == "anonymous" else {403}
        assert {name: r.status_code in expected for name, r in responses.items()} == dict.fromkeys(responses, True)
        assert not callbacks, who
    assert ImportRun.objects.count() == 1 and _stored_files(media) == stored
    assert ImportRun.objects.get().status == ImportRun.Status.DRY_RUN, "not confirmed by anyone"


def test_a_session_post_without_csrf_token_is_refused(media, django_capture_on_commit_callbacks):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(UserFactory(username="admin", is_staff=True))  # a session, as a browser's
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(URL, {"file": _upload(), "kind": "recommendations"}, format="multipart")
    assert response.status_code == 403 and "CSRF" in response.json()["error"]["message"]
    assert not callbacks and not ImportRun.objects.exists() and _stored_files(media) == []
    assert client.get(URL).status_code == 200, "reading needs no token"


def test_list_newest_first_filtered_with_bounded_queries(staff, django_assert_max_num_queries):
    user = UserFactory(username="someone", is_staff=True)
    for i in range(6):
        ImportRun.objects.create(
            kind="assessments" if i % 3 == 0 else "recommendations",
            status=ImportRun.Status.FAILED if i % 2 else ImportRun.Status.SUCCEEDED,
            file_name=f"file-{i}.csv",
            user=user,
            errors=[{"row": 2, "column": "text", "value": "", "message": "Empty."}] * 1000,
        )
    with django_assert_max_num_queries(3):
        body = staff.get(URL).json()
    assert body["count"] == 6
    assert [r["file_name"] for r in body["results"]] == [f"file-{i}.csv" for i in range(5, -1, -1)]
    assert body["results"][0]["user"] == "someone" and "errors" not in body["results"][0]

    filtered = staff.get(URL, {"kind": "recommendations", "status": "failed"}).json()
    assert [r["file_name"] for r in filtered["results"]] == ["file-5.csv", "file-1.csv"]
    refused = staff.get(URL, {"status": "exploded"})
    assert refused.status_code == 400 and "status" in refused.json()["error"]["fields"]

    detail = body["results"][0]["url"]
    with django_assert_max_num_queries(2):
        run = staff.get(detail).json()
    assert len(run["report"]["errors"]) == 1000 and run["report"]["error_total"] == 1000
    assert run["user"] == "someone" and "upload" not in run


def test_a_dead_workers_run_reads_as_failed(staff, settings):
    settings.IMPORT_HEARTBEAT_SECONDS = 1
    run = ImportRun.objects.create(status=ImportRun.Status.RUNNING, dry_run=False, file_name="big.csv")
    ImportRun.objects.filter(pk=run.pk).update(started_at=run.started_at.replace(year=run.started_at.year - 1))
    body = staff.get(f"{URL}{run.pk}/").json()
    assert body["status"] == "failed"
    assert body["error_message"] == (
        "The worker stopped during the import (killed or restarted); nothing was written. Run it again."
    )
    assert body["report"]["errors"][0]["message"] == body["error_message"]
