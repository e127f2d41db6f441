"""The public data dump (followup/dumps): what each file holds against the data, that nothing private or personal
leaves, the manifest's checksums, the atomic switch (a failed build leaves the previous dump served), keeping the
newest few, the lock, the Celery task, the command, the download view and the API view."""

import csv
import datetime
import gzip
import hashlib
import io
import json
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from followup.dumps import build, tables
from followup.dumps.build import MANIFEST_NAME, dump_served, dumps_build, dumps_root
from followup.models import DataDump, Membership, Organisation
from followup.snapshots import statistics_recompute
from followup.status import implementation_status_refresh
from followup.tasks import dumps_build_task
from recommendations.models import Issue
from reviews.models import IntergovernmentalOrganisation, Review, Session, State
from tests.factories import (
    AssessmentFactory,
    MembershipFactory,
    OrganisationFactory,
    RecommendationFactory,
    UserFactory,
)
from uprtrax.celery import app

pytestmark = pytest.mark.django_db

FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Dumps are written under a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DUMPS_KEEP = 3
    return settings.MEDIA_ROOT


@pytest.fixture
def data():
    """Two recommendations to Kenya (one made by Brazil and France on two issues, one whose text a spreadsheet would
    run) and a voluntary pledge; assessments public, draft, shared in the organisation, deleted and hidden, written
    by a person whose name and address must never appear."""
    review = Review.objects.create(
        state=State.objects.get(iso3="KEN"), session=Session.objects.get(number=21), report_symbol="A/HRC/29/10"
    )
    torture, women = Issue.objects.get(slug="torture-and-other-cid-treatment"), Issue.objects.get(slug="womens-rights")
    joint = RecommendationFactory(
        review=review,
        paragraph_ref="122.1",
        text="Ratify the Optional Protocol, with its national preventive mechanism",
        recommending_states=[State.objects.get(iso3="FRA"), State.objects.get(iso3="BRA")],
        issues=[women, torture],
        response="noted",
        response_original="Rejected",
        action_category=5,
    )
    formula = RecommendationFactory(review=review, paragraph_ref="122.2", text=FORMULA, action_category=None)
    pledge = RecommendationFactory(
        review=review, kind="voluntary_pledge", response="", response_original="", recommending_states=[], issues=[]
    )
    author = UserFactory(username="zelda-author", email="zelda.private@example.org", first_name="Zelda")
    cso = OrganisationFactory(name="Kenya Rights Watch", slug="kenya-rights-watch", kind="cso",
                              country=State.objects.get(iso3="KEN"), website="https://krw.example.org")  # fmt: skip
    MembershipFactory(user=author, organisation=cso, role=Membership.Role.ADMIN)
    public = AssessmentFactory(
        recommendation=joint, organisation=cso, author=author, last_editor=author, status="partially_implemented",
        comment=FORMULA, evidence_urls=["https://krw.example.org/a;b", "https://krw.example.org/c"],
        assessed_on=datetime.date(2017, 3, 1),
    )  # fmt: skip
    private = {
        "draft": AssessmentFactory(recommendation=formula, organisation=cso, author=author, visibility="draft",
                                   comment="Draft words of Zelda"),
        "organisation": AssessmentFactory(recommendation=pledge, organisation=cso, author=author,
                                          visibility="organisation", comment="Only for the organisation"),
        "deleted": AssessmentFactory(recommendation=joint, organisation=cso, author=author, phase="next_review",
                                     comment="Deleted words", deleted_at=timezone.now(), deleted_by=author),
        "hidden": AssessmentFactory(recommendation=formula, organisation=OrganisationFactory(name="Other"),
                                    comment="Hidden words", hidden_at=timezone.now(), hidden_by=author,
                                    hidden_reason="Insults a named person"),
    }  # fmt: skip
    implementation_status_refresh([joint.pk, formula.pk, pledge.pk])  # what the services do after a write
    return {"joint": joint, "formula": formula, "pledge": pledge, "public": public, "private": private, "cso": cso}


def _path(dump: DataDump, name: str) -> Path:
    return dumps_root() / dump.directory / name


def _csv(dump: DataDump, table: str) -> list[dict]:
    with gzip.open(_path(dump, f"{table}.csv.gz"), "rt", encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


def _jsonl(dump: DataDump) -> list[dict]:
    with gzip.open(_path(dump, "uprtrax.jsonl.gz"), "rt", encoding="utf-8") as file:
        return [json.loads(line) for line in file]


def _of_type(dump: DataDump, kind: str) -> list[dict]:
    return [row for row in _jsonl(dump) if row["type"] == kind]


def _every_text(dump: DataDump) -> str:
    return "".join(gzip.decompress(path.read_bytes()).decode() for path in (dumps_root() / dump.directory).glob("*.gz"))


# --- What the files hold --------------------------------------------------------------------------------------------


def test_every_table_has_its_csv_file_and_the_same_rows_in_the_json_lines(data):
    dump = dumps_build()
    assert dump.status == DataDump.Status.SUCCEEDED
    names = sorted(path.name for path in (dumps_root() / dump.directory).iterdir())
    assert names == sorted([*(f"{table.name}.csv.gz" for table in tables.TABLES), "uprtrax.jsonl.gz", MANIFEST_NAME])
    expected = {
        "regional_groups": 5,
        "states": State.objects.count(),
        "intergovernmental_organisations": IntergovernmentalOrganisation.objects.count(),
        "cycles": 4,
        "sessions": Session.objects.count(),
        "reviews": 1,
        "issues": Issue.objects.count(),
        "recommendations": 3,
        "organisations": 2,
        "assessments": 1,
        "statistics": 0,  # no snapshot computed yet
    }
    assert dump.rows == expected
    lines = _jsonl(dump)
    for table in tables.TABLES:
        with gzip.open(_path(dump, f"{table.name}.csv.gz"), "rt", encoding="utf-8", newline="") as file:
            header, *rows = list(csv.reader(file))
        assert header == list(table.columns)
        assert len(rows) == expected[table.name]
        typed = [line for line in lines if line["type"] == table.type]
        assert len(typed) == expected[table.name]
        assert all(list(line) == ["type", *table.columns] for line in typed)
    assert [line["type"] for line in lines] == [t.type for t in tables.TABLES for _ in range(expected[t.name])]


def test_recommendations_hold_their_review_response_and_links_as_codes(data):
    dump = dumps_build()
    joint, pledge = data["joint"], data["pledge"]
    rows = {int(row["id"]): row for row in _csv(dump, "recommendations")}
    assert rows[joint.pk] == {
        "id": str(joint.pk), "review": str(joint.review_id), "state_under_review": "KEN", "session": "21",
        "cycle": "2", "kind": "recommendation", "paragraph_ref": "122.1",
        "text": "Ratify the Optional Protocol, with its national preventive mechanism",
        "recommending_states": "BRA;FRA", "response": "noted", "response_original": "Rejected",
        "action_category": "5", "issues": "torture-and-other-cid-treatment;womens-rights",
        "implementation_status": "partially_implemented",
    }  # fmt: skip
    assert (rows[pledge.pk]["kind"], rows[pledge.pk]["response"], rows[pledge.pk]["recommending_states"]) == (
        "voluntary_pledge",
        "",
        "",
    )
    lines = {line["id"]: line for line in _of_type(dump, "recommendation")}
    assert lines[joint.pk]["recommending_states"] == ["BRA", "FRA"]
    assert lines[joint.pk]["issues"] == ["torture-and-other-cid-treatment", "womens-rights"]
    assert (lines[joint.pk]["action_category"], lines[data["formula"].pk]["action_category"]) == (5, None)
    assert lines[pledge.pk]["recommending_states"] == []
    review = _csv(dump, "reviews")[0]
    assert review == {"id": str(joint.review_id), "state_under_review": "KEN", "session": "21", "cycle": "2",
                      "report_symbol": "A/HRC/29/10", "adoption_date": ""}  # fmt: skip


def test_links_stay_with_their_recommendations_across_batches(data, monkeypatch):
    monkeypatch.setattr(tables, "BATCH", 2)
    extra = [RecommendationFactory(review=data["joint"].review, recommending_states=[State.objects.get(iso3=iso3)])
             for iso3 in ("CHL", "DEU", "IND")]  # fmt: skip
    dump = dumps_build()
    made_by = {line["id"]: line["recommending_states"] for line in _of_type(dump, "recommendation")}
    assert made_by == {data["joint"].pk: ["BRA", "FRA"], data["formula"].pk: ["BRA"], data["pledge"].pk: [],
                       extra[0].pk: ["CHL"], extra[1].pk: ["DEU"], extra[2].pk: ["IND"]}  # fmt: skip


def test_reference_tables_hold_states_with_their_group_and_organisations(data):
    dump = dumps_build()
    france = next(row for row in _csv(dump, "states") if row["iso3"] == "FRA")
    assert (france["short_name"], france["regional_group"]) == ("France", "WEOG")
    expected = sorted(State.objects.get(iso3="FRA").organisations.values_list("acronym", flat=True))
    assert expected and france["intergovernmental_organisations"] == ";".join(expected)
    session = next(row for row in _of_type(dump, "session") if row["number"] == 21)
    assert (session["cycle"], session["year"]) == (2, 2015)
    assert _csv(dump, "organisations") == sorted([
        {"slug": "kenya-rights-watch", "name": "Kenya Rights Watch", "kind": "cso", "country": "KEN",
         "website": "https://krw.example.org"},
        {"slug": Organisation.objects.get(name="Other").slug, "name": "Other", "kind": "cso", "country": "",
         "website": ""},
    ], key=lambda row: row["slug"])  # fmt: skip


def test_only_public_assessments_leave_and_never_who_wrote_them(data):
    dump = dumps_build()
    public = data["public"]
    rows = _csv(dump, "assessments")
    assert [int(row["id"]) for row in rows] == [public.pk]
    assert rows[0] == {
        "id": str(public.pk), "recommendation": str(public.recommendation_id), "organisation": "kenya-rights-watch",
        "organisation_name": "Kenya Rights Watch", "organisation_kind": "cso", "phase": "mid_term",
        "status": "partially_implemented", "comment": "'" + FORMULA,
        "evidence_urls": "https://krw.example.org/a;b https://krw.example.org/c", "assessed_on": "2017-03-01",
    }  # fmt: skip
    line = _of_type(dump, "assessment")[0]
    assert line["evidence_urls"] == ["https://krw.example.org/a;b", "https://krw.example.org/c"]
    everything = _every_text(dump)
    for private in ("zelda", "Zelda", "example.org/zelda", "Draft words", "Only for the organisation",
                    "Deleted words", "Hidden words", "Insults a named person"):  # fmt: skip
        assert private not in everything
    assert "author" not in json.dumps(dump.manifest)


def test_a_text_a_spreadsheet_would_run_is_neutralised_in_the_csv_and_kept_in_the_json(data):
    dump = dumps_build()
    row = next(row for row in _csv(dump, "recommendations") if row["id"] == str(data["formula"].pk))
    assert row["text"] == "'" + FORMULA
    line = next(line for line in _of_type(dump, "recommendation") if line["id"] == data["formula"].pk)
    assert line["text"] == FORMULA


def test_the_statistics_file_holds_the_latest_mid_term_majority_snapshot(data):
    statistics_recompute(phases=("mid_term",), rules=("majority", "lowest"))
    dump = dumps_build()
    rows = _csv(dump, "statistics")
    assert {(row["phase"], row["rule"]) for row in rows} == {("mid_term", "majority")}
    overall = next(row for row in rows if row["breakdown"] == "overall" and row["cycle"] == "")
    assert (overall["recommendations"], overall["assessed"], overall["partially_implemented"]) == ("2", "1", "1")
    assert overall["triggered_action_pct"] == "100.0"
    assert {row["cycle"] for row in rows} == {"", "2"}
    kenya = next(line for line in _of_type(dump, "statistics") if line["group"] == "KEN" and line["cycle"] is None)
    assert (kenya["breakdown"], kenya["assessed"]) == ("sur_state", 1)


# --- Manifest, switch, keeping --------------------------------------------------------------------------------------


def test_the_manifest_states_each_file_s_checksum_size_and_rows(data):
    dump = dumps_build()
    manifest = json.loads(_path(dump, MANIFEST_NAME).read_text())
    assert manifest == dump.manifest
    assert manifest["data_as_of"] == dump.data_as_of.isoformat()
    assert datetime.datetime.fromisoformat(manifest["generated_at"]) == dump.finished_at
    for entry in manifest["files"]:
        content = _path(dump, entry["name"]).read_bytes()
        assert hashlib.sha256(content).hexdigest() == entry["sha256"]
        assert len(content) == entry["bytes"]
        assert len(gzip.decompress(content)) == entry["bytes_uncompressed"]
    jsonl = manifest["files"][-1]
    assert (jsonl["name"], jsonl["rows"]) == ("uprtrax.jsonl.gz", len(_jsonl(dump)))
    assert jsonl["types"]["recommendation"] == 3
    assert dump.size == sum(entry["bytes"] for entry in manifest["files"])


def test_the_same_data_gives_the_same_files(data):
    first, second = dumps_build(), dumps_build()
    assert [f["sha256"] for f in first.manifest["files"]] == [f["sha256"] for f in second.manifest["files"]]
    assert first.directory != second.directory


def _failing_rows(codes):
    yield 1, "half"
    raise RuntimeError("disk full")


def test_a_failed_build_leaves_the_previous_dump_served_and_nothing_half_written(data, client, monkeypatch):
    previous = dumps_build()
    failing = tables.Table("recommendations", "recommendation", "", ("id", "text"), _failing_rows)
    monkeypatch.setattr(build, "TABLES", (*tables.TABLES[:7], failing, *tables.TABLES[8:]))
    with pytest.raises(RuntimeError, match="disk full"):
        dumps_build()
    failed = DataDump.objects.order_by("-pk").first()
    assert (failed.status, failed.error, failed.directory) == (DataDump.Status.FAILED, "RuntimeError: disk full", "")
    assert failed.finished_at is not None
    assert dump_served() == previous
    assert sorted(path.name for path in dumps_root().iterdir()) == [previous.directory]
    assert client.get("/api/v1/dumps/").json()["data_as_of"] == previous.data_as_of.isoformat()
    response = client.get("/dumps/recommendations.csv.gz")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == _path(previous, "recommendations.csv.gz").read_bytes()


def test_only_the_newest_dumps_stay_on_disk(data, settings):
    settings.DUMPS_KEEP = 2
    first, second, third = dumps_build(), dumps_build(), dumps_build()
    assert sorted(path.name for path in dumps_root().iterdir()) == sorted([second.directory, third.directory])
    first.refresh_from_db()
    assert first.status == DataDump.Status.REMOVED
    assert dump_served() == third
    call_command("build_dumps", keep=1, stdout=io.StringIO())
    assert [path.name for path in dumps_root().iterdir()] == [dump_served().directory]


def test_a_build_left_running_by_a_killed_worker_is_marked_failed_and_its_folder_removed(data):
    killed = DataDump.objects.create()
    leftover = dumps_root() / f".building-{killed.pk}"
    leftover.mkdir(parents=True)
    (leftover / "recommendations.csv.gz").write_bytes(b"half")
    dump = dumps_build()
    killed.refresh_from_db()
    assert killed.status == DataDump.Status.FAILED
    assert killed.error.startswith("Interrupted")
    assert [path.name for path in dumps_root().iterdir()] == [dump.directory]


def _conninfo() -> dict:
    db = connection.settings_dict
    return {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"], "dbname": db["NAME"]}


@pytest.fixture
def another_build_running():
    """Another process holds the build's lock, as a build in progress does."""
    other = psycopg.connect(**_conninfo(), autocommit=True)
    other.execute("SELECT pg_advisory_lock(%s)", [build._LOCK_KEY])
    yield
    other.execute("SELECT pg_advisory_unlock(%s)", [build._LOCK_KEY])
    other.close()


def test_a_build_while_another_runs_returns_at_once_and_writes_nothing(data, another_build_running):
    assert dumps_build() is None
    assert not DataDump.objects.exists()
    assert list(dumps_root().iterdir()) == []
    with pytest.raises(CommandError, match="Another dump is being built"):
        call_command("build_dumps", stdout=io.StringIO())


def test_the_lock_is_released_after_a_build_and_after_a_failure(data, monkeypatch):
    dumps_build()
    monkeypatch.setattr(build, "dump_write", lambda *args, **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        dumps_build()
    other = psycopg.connect(**_conninfo(), autocommit=True)
    try:
        assert other.execute("SELECT pg_try_advisory_lock(%s)", [build._LOCK_KEY]).fetchone()[0] is True
    finally:
        other.close()


# --- The task and the command ---------------------------------------------------------------------------------------


def test_the_task_builds_a_dump_through_celery(data, eager):
    result = dumps_build_task.delay().get()
    dump = DataDump.objects.get()
    assert result == {"dump": dump.pk, "rows": sum(dump.rows.values()), "bytes": dump.size,
                      "seconds": dump.duration_seconds}  # fmt: skip
    assert dump_served() == dump


def test_the_task_skips_while_another_build_runs(data, eager, another_build_running):
    assert dumps_build_task.delay().get() == {"skipped": "another build is running"}


def test_the_nightly_build_is_scheduled_after_the_statistics_and_the_worker_knows_the_task():
    app.loader.import_default_modules()
    nightly = app.conf.beat_schedule["dumps-build-nightly"]
    assert nightly["task"] == dumps_build_task.name == "followup.tasks.dumps_build_task"
    assert nightly["task"] in app.tasks
    assert (nightly["schedule"].hour, nightly["schedule"].minute) == ({3}, {15})


def test_the_command_builds_and_prints_each_file(data):
    out = io.StringIO()
    call_command("build_dumps", stdout=out)
    dump = dump_served()
    text = out.getvalue()
    assert f"Data dump #{dump.pk}" in text
    for entry in dump.manifest["files"]:
        assert entry["name"] in text
    out = io.StringIO()
    call_command("build_dumps", "--json", stdout=out)
    assert json.loads(out.getvalue()) == dump_served().manifest
    with pytest.raises(CommandError, match="at least"):
        call_command("build_dumps", keep=0)


def test_the_command_reports_a_failure(data, monkeypatch):
    monkeypatch.setattr(build, "dump_write", lambda *args, **kwargs: 1 / 0)
    with pytest.raises(CommandError, match="previous one stays served"):
        call_command("build_dumps", stdout=io.StringIO())


# --- Serving --------------------------------------------------------------------------------------------------------


def test_before_the_first_dump_the_api_answers_503_with_retry_after_and_files_404(client):
    response = client.get("/api/v1/dumps/")
    assert response.status_code == 503
    assert response["Retry-After"] == "3600"
    assert response.json()["error"]["code"] == "not_ready"
    assert client.get("/dumps/recommendations.csv.gz").status_code == 404


def test_the_api_lists_every_file_with_its_url_rows_size_and_checksum(data, client):
    dump = dumps_build()
    response = client.get("/api/v1/dumps/")
    assert response.status_code == 200
    body = response.json()
    assert (body["generated_at"], body["data_as_of"]) == (dump.manifest["generated_at"], dump.manifest["data_as_of"])
    assert body["manifest_url"] == "http://testserver/dumps/manifest.json"
    assert [entry["name"] for entry in body["files"]] == [entry["name"] for entry in dump.manifest["files"]]
    recommendations = next(entry for entry in body["files"] if entry["table"] == "recommendations")
    assert recommendations["url"] == "http://testserver/dumps/recommendations.csv.gz"
    assert recommendations["rows"] == 3
    assert "recommending_states" in recommendations["columns"]
    for entry in body["files"]:
        downloaded = b"".join(client.get(entry["url"]).streaming_content)
        assert (hashlib.sha256(downloaded).hexdigest(), len(downloaded)) == (entry["sha256"], entry["bytes"])
    assert "dumps" in client.get("/api/v1/").json()


def test_the_api_and_a_download_each_read_one_row(data, client, django_assert_max_num_queries):
    dumps_build()
    with django_assert_max_num_queries(1):
        assert client.get("/api/v1/dumps/").status_code == 200
    with django_assert_max_num_queries(1):
        assert client.get("/dumps/recommendations.csv.gz").status_code == 200


def test_a_file_downloads_with_its_name_size_checksum_and_date(data, client):
    dump = dumps_build()
    entry = next(entry for entry in dump.manifest["files"] if entry["name"] == "assessments.csv.gz")
    response = client.get("/dumps/assessments.csv.gz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in response  # the gzip is the file, not a transfer encoding to undo
    assert response["Content-Length"] == str(entry["bytes"])
    assert response["Content-Disposition"] == (
        f'attachment; filename="uprtrax-{dump.data_as_of:%Y-%m-%d}-assessments.csv.gz"'
    )
    assert response["ETag"] == f'"{entry["sha256"]}"'
    assert response["Last-Modified"]
    assert response["Cache-Control"] == "public, no-cache"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == entry["sha256"]
    manifest = client.get("/dumps/manifest.json")
    assert manifest["Content-Type"] == "application/json"
    assert json.loads(b"".join(manifest.streaming_content)) == dump.manifest


def test_an_unchanged_file_is_not_sent_again(data, client):
    dumps_build()
    first = client.get("/dumps/issues.csv.gz")
    assert client.get("/dumps/issues.csv.gz", headers={"if-none-match": first["ETag"]}).status_code == 304
    later = client.get("/dumps/issues.csv.gz", headers={"if-modified-since": first["Last-Modified"]})
    assert later.status_code == 304
    assert client.get("/dumps/issues.csv.gz", headers={"if-none-match": '"other"'}).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/dumps/nothing.csv.gz",
        "/dumps/..",
        "/dumps/..%2Fmanifest.json",
        "/dumps/%2e%2e%2f%2e%2e%2fuprtrax%2fsettings.py",
        "/dumps/../../uprtrax/settings.py",
        "/dumps/%2Fetc%2Fpasswd",
        "/dumps/.building-1",
        "/dumps/recommendations.csv",
        "/dumps/stray.txt",
    ],
)
def test_only_the_dump_s_own_files_are_served(data, client, path):
    dump = dumps_build()
    (dumps_root() / dump.directory / "stray.txt").write_text("not in the manifest")
    (dumps_root() / ".building-1").mkdir()
    assert client.get(path).status_code == 404


def test_files_are_read_only(data, client):
    dumps_build()
    assert client.post("/dumps/issues.csv.gz").status_code == 405
    assert client.head("/dumps/issues.csv.gz").status_code == 200


def test_dumps_leads_to_the_api_s_description(client):
    response = client.get("/dumps/")
    assert (response.status_code, response["Location"]) == (302, "/api/v1/dumps/")


def test_the_schema_describes_the_endpoint_and_its_503(client):
    schema = client.get("/api/schema/", headers={"accept": "application/json"}).json()
    operation = schema["paths"]["/api/v1/dumps/"]["get"]
    assert {"200", "503"} <= set(operation["responses"])
    ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/DumpManifest"}  # one object, not a list
    assert "Retry-After" in operation["responses"]["503"]["headers"]
    assert "sha256" in json.dumps(schema["components"]["schemas"])


def test_the_admin_lists_dumps_and_shows_them_but_never_edits_them(data, admin_client):
    dump = dumps_build()
    response = admin_client.get("/admin/followup/datadump/")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [dump]
    assert admin_client.get(f"/admin/followup/datadump/{dump.pk}/change/").status_code == 200
    assert admin_client.get("/admin/followup/datadump/add/").status_code == 403
    admin_client.post(f"/admin/followup/datadump/{dump.pk}/change/", {"status": "failed"})
    dump.refresh_from_db()
    assert dump.status == DataDump.Status.SUCCEEDED
