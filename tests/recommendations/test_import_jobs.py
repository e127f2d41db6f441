"""Import jobs (recommendations.imports.jobs) and their Celery tasks, run in-process through the task functions.

The tasks go through Celery's apply() here (the test's own thread and transaction); the real worker, the broker
and a killed worker are in test_import_worker_killed.py.
"""

import io
from datetime import timedelta

import openpyxl
import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone
from kombu.exceptions import OperationalError

from followup.models import Assessment
from recommendations.imports import jobs, runs
from recommendations.imports.tasks import import_run_execute, import_runs_reap
from recommendations.models import ImportMapping, ImportRun, Recommendation
from reviews.models import Review
from tests.factories import RecommendationFactory, UserFactory, csv_bytes
from uprtrax.celery import app

pytestmark = pytest.mark.django_db

HEADER = ["state_under_review", "session", "recommending_states", "text", "response", "action_category", "issues"]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploads go to this test's own directory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def staff():
    return UserFactory(username="importer", is_staff=True)


def _csv(rows, header=HEADER) -> bytes:
    return csv_bytes(header, rows)


GOOD = _csv([
    ["France", "3", "Ghana", "Ratify the Optional Protocol to the Convention against Torture.", "accepted", "5",
     "Torture and other CID treatment"],
    ["France", "3", "Chile;Brazil", "Fund shelters for women victims of violence.", "noted", "4", "Women's rights"],
    ["Ghana", "2", "France", "Abolish the death penalty.", "accepted", "5", "Death penalty"],
])  # fmt: skip
BAD = _csv([["Atlantis", "3", "Ghana", "Ratify the Convention.", "accepted", "", ""]])


def _start(staff, data=GOOD, *, name="session.csv", options=None, mapping=None, capture):
    with capture(execute=False) as callbacks:
        run = jobs.job_start(
            user=staff, kind="recommendations", upload=ContentFile(data, name=name), file_name=name,
            options=options or {}, mapping=mapping,
        )  # fmt: skip
    assert len(callbacks) == 1, "the task is queued once, after the commit"
    return run


def _execute(run) -> ImportRun:
    """What the worker does with the message, in this process."""
    import_run_execute.apply(args=[run.pk]).get()
    run.refresh_from_db()
    return run


def test_start_preview_confirm_commit_writes_the_rows(staff, media, django_capture_on_commit_callbacks):
    run = _start(staff, name="../../etc/UPR session 3.csv", capture=django_capture_on_commit_callbacks)
    assert (run.status, run.dry_run, run.kind) == (ImportRun.Status.PENDING, True, "recommendations")
    assert run.file_name == "UPR session 3.csv"  # the client's name, for display only
    assert run.upload.name.startswith(f"imports/{timezone.now():%Y/%m}/") and run.upload.name.endswith(".csv")
    assert "session" not in run.upload.name and ".." not in run.upload.name
    assert (media / run.upload.name).read_bytes() == GOOD
    assert run.task_id and run.size == len(GOOD)
    assert jobs.run_progress(run) == {"phase": "queued", "rows": 0, "at": None}

    preview = _execute(run)
    assert preview.status == ImportRun.Status.DRY_RUN and preview.dry_run
    assert preview.counts["create"] == 3 and preview.counts["errors"] == 0
    assert Recommendation.objects.count() == 0, "a preview writes nothing"
    assert jobs.run_progress(preview) is None and runs.progress_get(run.pk) is None

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        confirmed = jobs.job_confirm(run=preview, user=staff)
    assert len(callbacks) == 1
    assert (confirmed.pk, confirmed.status, confirmed.dry_run) == (run.pk, ImportRun.Status.PENDING, False)
    assert confirmed.task_id != run.task_id

    done = _execute(confirmed)
    assert done.status == ImportRun.Status.SUCCEEDED and not done.dry_run
    assert done.counts["create"] == 3 and done.finished_at is not None and done.error_message == ""
    assert Recommendation.objects.count() == 3
    france = Recommendation.objects.get(text__startswith="Fund shelters")
    assert sorted(s.iso3 for s in france.recommending_states.all()) == ["BRA", "CHL"]
    assert france.response == Recommendation.Response.NOTED


def test_confirming_anything_but_a_successful_preview_is_refused(staff, django_capture_on_commit_callbacks):
    failed = _execute(_start(staff, BAD, capture=django_capture_on_commit_callbacks))
    assert failed.status == ImportRun.Status.FAILED
    assert failed.errors[0]["row"] == 2 and failed.errors[0]["value"] == "Atlantis"
    with pytest.raises(jobs.JobConflict, match="Only a successful preview can be confirmed; this run is failed"):
        jobs.job_confirm(run=failed, user=staff)

    pending = _start(staff, capture=django_capture_on_commit_callbacks)
    with pytest.raises(jobs.JobConflict, match="this run is pending"):
        jobs.job_confirm(run=pending, user=staff)

    committed = _execute(jobs.job_confirm(run=_execute(pending), user=staff))
    assert committed.status == ImportRun.Status.SUCCEEDED
    with pytest.raises(jobs.JobConflict, match="this run is succeeded"):
        jobs.job_confirm(run=committed, user=staff)
    assert Recommendation.objects.count() == 3


def test_a_duplicate_or_redelivered_message_does_nothing(staff, django_capture_on_commit_callbacks):
    run = _execute(jobs.job_confirm(run=_execute(_start(staff, capture=django_capture_on_commit_callbacks)),
                                    user=staff))  # fmt: skip
    finished = run.finished_at
    assert import_run_execute.apply(args=[run.pk]).get() == {"run": run.pk, "status": "skipped"}
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED and run.finished_at == finished
    assert Recommendation.objects.count() == 3

    # A run another worker has claimed is left to it.
    other = _start(staff, capture=django_capture_on_commit_callbacks)
    ImportRun.objects.filter(pk=other.pk).update(status=ImportRun.Status.RUNNING)
    assert import_run_execute.apply(args=[other.pk]).get()["status"] == "skipped"
    other.refresh_from_db()
    assert other.status == ImportRun.Status.RUNNING and other.counts == {}


def test_an_unexpected_error_in_the_importer_fails_the_run_with_its_reason(
    staff, monkeypatch, django_capture_on_commit_callbacks
):
    seen = {}

    def importer(**kwargs):
        seen.update(kwargs)
        kwargs["progress"]("validating", 10)
        assert runs.progress_get(kwargs["run"].pk)["phase"] == "validating"
        raise RuntimeError("server closed the connection unexpectedly")

    kind = jobs.IMPORT_KINDS["recommendations"]
    monkeypatch.setitem(jobs.IMPORT_KINDS, "recommendations", jobs.ImportKind(
        name=kind.name, label=kind.label, importer=importer, module=kind.module))  # fmt: skip
    run = _start(staff, options={"encoding": "cp1252", "sheet": ""}, capture=django_capture_on_commit_callbacks)

    with pytest.raises(RuntimeError, match="server closed"):
        import_run_execute.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and run.finished_at is not None
    assert run.error_message == (
        "The import stopped on an unexpected error (RuntimeError: server closed the connection unexpectedly); "
        "nothing was written."
    )
    assert run.errors == [{"row": None, "column": "", "value": "", "message": run.error_message}]
    assert run.counts == {"errors": 1, "warnings": 0}
    assert runs.progress_get(run.pk) is None, "the heartbeat stops with the job"
    # The importer got the stored file, the run's options and a live progress.
    assert seen["source"].name == run.upload.name and seen["file_name"] == "session.csv"
    assert (seen["encoding"], seen["sheet"], seen["mapping"], seen["dry_run"]) == ("cp1252", None, None, True)
    assert seen["user"] == staff and seen["run"].pk == run.pk


def test_a_stored_file_that_went_missing_fails_the_run(staff, media, django_capture_on_commit_callbacks):
    run = _start(staff, capture=django_capture_on_commit_callbacks)
    (media / run.upload.name).unlink()
    with pytest.raises(FileNotFoundError):
        import_run_execute.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED
    assert run.error_message == "The uploaded file is no longer stored; upload it again."


def test_a_running_run_without_heartbeat_is_marked_failed_on_read(staff, settings):
    settings.IMPORT_HEARTBEAT_SECONDS = 5
    long_ago = timezone.now() - timedelta(seconds=60)
    dead = ImportRun.objects.create(status=ImportRun.Status.RUNNING, dry_run=False, started_at=long_ago)
    just_started = ImportRun.objects.create(status=ImportRun.Status.RUNNING, started_at=timezone.now())
    alive = ImportRun.objects.create(status=ImportRun.Status.RUNNING, started_at=long_ago)
    for run in (dead, just_started, alive):
        cache.delete(runs._progress_key(run.pk))

    with runs.Progress(alive.pk) as progress:
        progress("writing", 1200)
        assert jobs.run_progress(alive)["phase"] == "writing"
        assert jobs.run_refresh(alive).status == ImportRun.Status.RUNNING
        assert jobs.run_refresh(just_started).status == ImportRun.Status.RUNNING  # its worker may be starting
        refreshed = jobs.run_refresh(dead)
        assert refreshed.status == ImportRun.Status.FAILED
        assert refreshed.error_message == jobs.WORKER_STOPPED
        assert refreshed.error_message == (
            "The worker stopped during the import (killed or restarted); nothing was written. Run it again."
        )
        assert jobs.run_progress(refreshed) is None
        assert import_runs_reap.apply().get() == {"failed": 0}

    # Once the live job's heartbeat is gone too, the beat's reaper marks it failed.
    assert import_runs_reap.apply().get() == {"failed": 1}
    alive.refresh_from_db()
    just_started.refresh_from_db()
    assert alive.status == ImportRun.Status.FAILED and alive.error_message == jobs.WORKER_STOPPED
    assert just_started.status == ImportRun.Status.RUNNING


def test_rerun_makes_a_new_run_of_the_same_file_with_the_new_mapping(staff, django_capture_on_commit_callbacks):
    data = _csv([["France", "3", "Ghana", "Ratify the Convention against Torture.", "Supported"]],
                header=["Country", "Session", "From", "Recommendation", "Response"])  # fmt: skip
    mapping = {"columns": {"Country": "state_under_review", "Session": "session", "Recommendation": "text"}}
    first = _execute(_start(staff, data, mapping=mapping, capture=django_capture_on_commit_callbacks))
    assert first.status == ImportRun.Status.DRY_RUN and first.counts["create"] == 1
    assert first.options["mapping"] == mapping

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        better = {"columns": {**mapping["columns"], "From": "recommending_states", "Response": "response"},
                  "synonyms": {"response": {"Supported": "accepted"}}}  # fmt: skip
        second = jobs.job_rerun(run=first, user=staff, mapping=better)
    assert len(callbacks) == 1
    assert second.pk != first.pk and second.upload.name == first.upload.name
    assert (second.status, second.dry_run, second.options["rerun_of"]) == (ImportRun.Status.PENDING, True, first.pk)
    second = _execute(second)
    assert second.status == ImportRun.Status.DRY_RUN and second.counts["accepted"] == 1

    # A rerun without a mapping keeps the run's; dry_run=False commits directly (after a killed commit).
    with django_capture_on_commit_callbacks(execute=False):
        third = jobs.job_rerun(run=second, user=staff, dry_run=False)
    assert third.options["mapping"] == better
    assert _execute(third).status == ImportRun.Status.SUCCEEDED
    assert Recommendation.objects.get().recommending_states.get().iso3 == "GHA"

    ImportRun.objects.filter(pk=first.pk).update(status=ImportRun.Status.RUNNING)
    with pytest.raises(jobs.JobConflict, match=r"This run is running; wait for it to finish\."):
        jobs.job_rerun(run=first, user=staff)
    no_file = ImportRun.objects.create(status=ImportRun.Status.FAILED)
    with pytest.raises(jobs.JobConflict, match="kept no file"):
        jobs.job_rerun(run=no_file, user=staff)


def test_a_saved_mapping_of_the_kind_is_used_by_name(staff, django_capture_on_commit_callbacks):
    ImportMapping.objects.create(name="UN matrix", kind=ImportRun.Kind.RECOMMENDATIONS, mapping={
        "columns": {"SuR": "state_under_review", "WG session": "session", "Recommendation": "text"}})  # fmt: skip
    ImportMapping.objects.create(name="MIA sheet", kind=ImportRun.Kind.ASSESSMENTS, mapping={"columns": {}})
    data = _csv([["Ghana", "2", "Abolish the death penalty."]], header=["SuR", "WG session", "Recommendation"])
    options = {"mapping_name": "UN matrix"}
    run = _execute(_start(staff, data, options=options, capture=django_capture_on_commit_callbacks))
    assert run.status == ImportRun.Status.DRY_RUN and run.counts["create"] == 1
    assert run.options["mapping_name"] == "UN matrix" and run.layout == "mapping"

    with pytest.raises(jobs.JobError, match=r'No saved mapping "MIA sheet" for recommendations\.') as error:
        jobs.job_start(user=staff, kind="recommendations", upload=ContentFile(data, name="a.csv"), file_name="a.csv",
                       options={"mapping_name": "MIA sheet"}, mapping=None)  # fmt: skip
    assert error.value.field == "mapping_name"


def test_an_xlsx_upload_is_read_from_storage(staff, django_capture_on_commit_callbacks):
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    sheet = book.create_sheet("Recommendations")
    sheet.append(HEADER)
    sheet.append(["Ghana", 2, "France", "Abolish the death penalty.", "accepted", 5, "Death penalty"])
    out = io.BytesIO()
    book.save(out)
    run = _start(staff, out.getvalue(), name="matrix.xlsx", options={"sheet": "Recommendations"},
                 capture=django_capture_on_commit_callbacks)  # fmt: skip
    assert run.upload.name.endswith(".xlsx")
    run = _execute(run)
    assert run.status == ImportRun.Status.DRY_RUN, run.errors
    assert (run.sheet, run.counts["create"]) == ("Recommendations", 1)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"kind": "votes"}, "kind", 'Unknown kind "votes"; kinds are: recommendations, assessments.'),
        ({"data": b"x" * 101}, "file", "The file is 101 bytes, over the size limit of 100 bytes"),
        ({"data": b""}, "file", "The file is empty."),
        ({"options": {"encoding": "klingon-8"}}, "encoding", 'Unknown encoding "klingon-8"'),
        ({"options": {"delimiter": ";"}}, "delimiter", "Unknown option 'delimiter'"),
        ({"mapping": ["Country"]}, "mapping", "A mapping is a JSON object"),
        ({"mapping": {"columns": {"Country": "country"}}}, "mapping", 'Unknown field "country" for column "Country"'),
        ({"mapping": {"columns": {"Country": "state_under_review"}}}, "mapping",
         "no column for the required fields session, text"),
        ({"options": {"mapping_name": "nowhere"}}, "mapping_name", 'No saved mapping "nowhere"'),
    ],
)  # fmt: skip
def test_start_refuses_bad_input_naming_the_field_and_stores_nothing(
    staff, media, settings, django_capture_on_commit_callbacks, kwargs, field, message
):
    settings.IMPORT_MAX_BYTES = 100
    data = kwargs.pop("data", GOOD[:100])
    arguments = {"kind": "recommendations", "options": {}, "mapping": None, **kwargs}
    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(jobs.JobError) as error:
        jobs.job_start(user=staff, upload=ContentFile(data, name="a.csv"), file_name="a.csv", **arguments)
    assert error.value.field == field and message in error.value.message
    assert not callbacks and not ImportRun.objects.exists()
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_a_broker_that_refuses_the_task_leaves_the_run_pending_until_the_reaper_sends_it(
    staff, monkeypatch, django_capture_on_commit_callbacks
):
    """Redis down when the upload is saved: the upload is not lost, the run waits unsent (no task id), and the
    reaper (followup.jobs.jobs_reap, Celery beat) sends it once the broker answers again."""
    run = _start(staff, capture=django_capture_on_commit_callbacks)
    sent = []

    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(import_run_execute, "apply_async", refuse)
    assert jobs._task_send(run.pk, run.task_id) is False
    run.refresh_from_db()
    assert (run.status, run.task_id, run.error_message) == (ImportRun.Status.PENDING, "", "")
    assert jobs.runs_requeue() == 0, "the broker still refuses: still pending, unsent"

    monkeypatch.setattr(import_run_execute, "apply_async", lambda **options: sent.append(options))
    assert jobs.runs_requeue() == 1
    run.refresh_from_db()
    assert run.status == ImportRun.Status.PENDING and run.task_id
    assert sent == [{"args": [run.pk], "task_id": run.task_id}]
    assert jobs.runs_requeue() == 0, "sent: not again until JOBS_REQUEUE_SECONDS have passed"


def test_a_run_pending_for_too_long_is_sent_again(staff, monkeypatch, settings, django_capture_on_commit_callbacks):
    """Its message was lost (a Redis restarted without its data): sent again, once per JOBS_REQUEUE_SECONDS."""
    settings.JOBS_REQUEUE_SECONDS = 600
    run = _start(staff, capture=django_capture_on_commit_callbacks)
    ImportRun.objects.filter(pk=run.pk).update(started_at=timezone.now() - timedelta(seconds=601))
    sent = []
    monkeypatch.setattr(import_run_execute, "apply_async", lambda **options: sent.append(options))
    assert jobs.runs_requeue() == 1
    assert jobs.runs_requeue() == 0
    run.refresh_from_db()
    assert sent == [{"args": [run.pk], "task_id": run.task_id}] and run.task_id != ""


def test_the_worker_and_beat_know_the_import_tasks():
    app.loader.import_default_modules()
    names = {"recommendations.imports.tasks.import_run_execute", "recommendations.imports.tasks.import_runs_reap"}
    assert names <= set(app.tasks)
    entry = app.conf.beat_schedule["import-runs-reap"]
    assert entry == {"task": "recommendations.imports.tasks.import_runs_reap", "schedule": 60.0,
                     "options": {"expires": 60.0}}  # fmt: skip


def test_a_run_killed_mid_commit_leaves_nothing_and_reruns_cleanly(staff, django_capture_on_commit_callbacks):
    """In-process stand-in for the killed worker: the claim committed, the import never ran (or died)."""
    preview = _execute(_start(staff, capture=django_capture_on_commit_callbacks))
    with django_capture_on_commit_callbacks(execute=False):
        commit = jobs.job_confirm(run=preview, user=staff)
    ImportRun.objects.filter(pk=commit.pk).update(
        status=ImportRun.Status.RUNNING, started_at=timezone.now() - timedelta(minutes=5)
    )
    cache.delete(runs._progress_key(commit.pk))
    commit = jobs.run_refresh(ImportRun.objects.get(pk=commit.pk))
    assert commit.status == ImportRun.Status.FAILED
    assert Recommendation.objects.count() == 0 and not Review.objects.filter(session__number=3).exists()
    with django_capture_on_commit_callbacks(execute=False):
        again = jobs.job_rerun(run=commit, user=staff, dry_run=False)
    assert _execute(again).status == ImportRun.Status.SUCCEEDED
    assert Recommendation.objects.count() == 3


def test_an_assessments_job_runs_the_assessment_importer(staff, django_capture_on_commit_callbacks):
    recommendation = RecommendationFactory()
    data = _csv([[recommendation.pk, "Ligue des droits", "CSO", "partially implemented", "2016-05-31"]],
                header=["recommendation_id", "organisation", "organisation_kind", "status", "date"])  # fmt: skip
    with django_capture_on_commit_callbacks(execute=False):
        run = jobs.job_start(user=staff, kind="assessments", upload=ContentFile(data, name="mia.csv"),
                             file_name="mia.csv", options={}, mapping=None)  # fmt: skip
    preview = _execute(run)
    assert (preview.kind, preview.status) == ("assessments", ImportRun.Status.DRY_RUN), preview.errors
    assert preview.counts["errors"] == 0 and not Assessment.objects.exists()
    with django_capture_on_commit_callbacks(execute=False):
        jobs.job_confirm(run=preview, user=staff)
    assert _execute(preview).status == ImportRun.Status.SUCCEEDED
    assessment = Assessment.objects.get()
    assert (assessment.recommendation, assessment.organisation.name) == (recommendation, "Ligue des droits")


def test_a_mapping_may_name_the_review_by_date_instead_of_session(staff, django_capture_on_commit_callbacks):
    """The kind's own rule decides what is required: for recommendations a date stands for the session."""
    data = _csv([["France", "22/01/2018", "Ratify the Convention against Torture."]], header=["SuR", "Day", "Text"])
    mapping = {"columns": {"SuR": "state_under_review", "Day": "date", "Text": "text"}}
    run = _execute(_start(staff, data, mapping=mapping, capture=django_capture_on_commit_callbacks))
    assert run.status == ImportRun.Status.DRY_RUN, run.errors
    assert run.counts["create"] == 1
