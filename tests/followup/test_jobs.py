"""Statistics recomputes and data dumps as jobs with a record (followup/jobs.py, uprtrax/jobs.py): queued, sent, run,
marked failed when their worker stops, sent again when the broker lost them; the commands and the task record who
asked. The real worker killed mid-job is bench/faults.py's (tests/test_faults.py)."""

import io
import logging
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from followup import jobs
from followup.dumps.build import dumps_build, dumps_root
from followup.models import DataDump, JobTrigger, StatisticsRecompute, StatisticsSnapshot
from followup.tasks import dumps_build_task, jobs_reap_task, statistics_recompute_task
from recommendations import facets
from tests.factories import AssessmentFactory, RecommendationFactory, UserFactory
from tests.workers import wait_for
from uprtrax.celery import app
from uprtrax.jobs import Heartbeat

Status = StatisticsRecompute.Status


@pytest.fixture
def sent(monkeypatch):
    """The recompute tasks handed to the broker (none is run)."""
    sent = []
    monkeypatch.setattr(statistics_recompute_task, "apply_async", lambda **options: sent.append(options))
    return sent


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(**options):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(statistics_recompute_task, "apply_async", refuse)


def _queue(capture, **kwargs):
    with capture(execute=True):
        return jobs.recompute_queue(trigger=kwargs.pop("trigger", JobTrigger.CHANGE), **kwargs)


def _age(run, **fields):
    """Move the run's times into the past."""
    past = timezone.now() - timedelta(hours=1)
    StatisticsRecompute.objects.filter(pk=run.pk).update(**dict.fromkeys(fields, past))


# --- Queueing --------------------------------------------------------------------------------------------------------


def test_a_queued_recompute_is_sent_after_its_commit_and_covers_the_next_changes(
    db, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        run = jobs.recompute_queue(trigger=JobTrigger.CHANGE, delay=60)
        assert sent == [], "not before the commit: the worker would not find the run"
    for callback in callbacks:
        callback()
    assert sent == [{"kwargs": {"run_id": run.pk}, "countdown": 60, "task_id": run.task_id}]
    again = _queue(django_capture_on_commit_callbacks, trigger=JobTrigger.ADMIN)
    assert again == run and len(sent) == 1
    run.refresh_from_db()
    assert (run.status, run.trigger) == (Status.QUEUED, JobTrigger.CHANGE) and run.sent_at is not None


def test_a_broker_that_is_down_leaves_the_recompute_queued_unsent_and_the_write_unharmed(
    db, broker_down, django_capture_on_commit_callbacks, caplog
):
    with caplog.at_level(logging.WARNING, logger="followup.jobs"):
        run = _queue(django_capture_on_commit_callbacks)
    run.refresh_from_db()
    assert (run.status, run.sent_at) == (Status.QUEUED, None)
    assert "not sent to the broker (OperationalError" in caplog.text


def test_the_reaper_sends_an_unsent_recompute_once_the_broker_answers_and_moves_the_search_on(
    db, broker_down, monkeypatch, django_capture_on_commit_callbacks
):
    run = _queue(django_capture_on_commit_callbacks, delay=0)
    assert jobs.recomputes_requeue() == 0, "queued a moment ago: its own send had its chance"
    _age(run, queued_at=True)
    assert jobs.recomputes_requeue() == 0, "the broker is still down"
    sent, moved = [], []
    monkeypatch.setattr(statistics_recompute_task, "apply_async", lambda **options: sent.append(options))
    monkeypatch.setattr(facets, "search_data_changed", lambda **kwargs: moved.append(kwargs))
    assert jobs.recomputes_requeue() == 1
    assert sent == [{"kwargs": {"run_id": run.pk}, "countdown": 0, "task_id": run.task_id}]
    assert moved == [{}], "a change written while Redis was down may have missed the search's cache"
    assert jobs.recomputes_requeue() == 0, "sent now: not again"


def test_a_recompute_whose_message_was_lost_is_sent_again_after_a_while(
    db, sent, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_REQUEUE_SECONDS = 600
    run = _queue(django_capture_on_commit_callbacks)
    assert jobs.recomputes_requeue() == 0
    _age(run, queued_at=True, sent_at=True, not_before=True)
    assert jobs.recomputes_requeue() == 1 and len(sent) == 2
    assert jobs.recomputes_requeue() == 0, "sent_at moved on"


def test_one_queued_recompute_at_most_even_when_two_processes_race(
    db, sent, monkeypatch, django_capture_on_commit_callbacks
):
    first = _queue(django_capture_on_commit_callbacks)
    with pytest.raises(IntegrityError, match="statisticsrecompute_one_queued"), transaction.atomic():
        StatisticsRecompute.objects.create()
    # Another process queued one between this one's look and its insert: the constraint refuses the second.
    real_filter, looks = StatisticsRecompute.objects.filter, []

    def filter_missing_the_first_look(**kwargs):
        looks.append(kwargs)
        return StatisticsRecompute.objects.none() if len(looks) == 1 else real_filter(**kwargs)

    monkeypatch.setattr(StatisticsRecompute.objects, "filter", filter_missing_the_first_look)
    assert _queue(django_capture_on_commit_callbacks) == first
    assert len(looks) == 2, "it looked, inserted (refused), and looked again"
    assert list(real_filter()) == [first] and len(sent) == 1


# --- Running ---------------------------------------------------------------------------------------------------------


def _data():
    for n in range(3):
        AssessmentFactory(recommendation=RecommendationFactory(), status="partially_implemented" if n else "")


def test_the_worker_claims_the_queued_run_stores_the_snapshots_and_records_it(
    db, sent, django_capture_on_commit_callbacks
):
    _data()
    run = _queue(django_capture_on_commit_callbacks)
    result = statistics_recompute_task.run(run_id=run.pk)
    run.refresh_from_db()
    stored = StatisticsSnapshot.objects.count()
    assert result == {"run": run.pk, "status": "succeeded", "snapshots": stored} and stored > 0
    assert (run.status, run.snapshots, run.error) == (Status.SUCCEEDED, stored, "")
    assert run.started_at <= run.heartbeat_at <= run.finished_at
    assert statistics_recompute_task.run(run_id=run.pk) == {"run": run.pk, "status": "skipped", "snapshots": 0}


def test_the_nightly_run_records_its_own_recompute(db):
    result = statistics_recompute_task.run()
    run = StatisticsRecompute.objects.get()
    assert (run.trigger, run.status, result["run"]) == (JobTrigger.NIGHTLY, Status.SUCCEEDED, run.pk)


def test_a_failing_recompute_is_recorded_failed_with_its_error(db, monkeypatch):
    def failing(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("followup.snapshots.statistics_recompute", failing)
    with pytest.raises(RuntimeError):
        statistics_recompute_task.run()
    run = StatisticsRecompute.objects.get()
    assert (run.status, run.error) == (Status.FAILED, "RuntimeError: disk full") and run.finished_at


def test_the_command_records_a_recompute_by_hand(db):
    call_command("compute_statistics", "--all", stdout=io.StringIO(), stderr=io.StringIO())
    run = StatisticsRecompute.objects.get()
    assert (run.trigger, run.status) == (JobTrigger.COMMAND, Status.SUCCEEDED)


# --- Reaping ---------------------------------------------------------------------------------------------------------


def _running(model, *, heartbeat_age: float, **fields):
    stamp = timezone.now() - timedelta(seconds=heartbeat_age)
    if model is StatisticsRecompute:
        return model.objects.create(status=Status.RUNNING, started_at=stamp, heartbeat_at=stamp, **fields)
    return model.objects.create(status=DataDump.Status.RUNNING, heartbeat_at=stamp, **fields)


def test_a_recompute_whose_heartbeat_stopped_is_marked_failed_and_queued_again_once(
    db, sent, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_HEARTBEAT_SECONDS = 30
    dead = _running(StatisticsRecompute, heartbeat_age=31)
    alive = _running(StatisticsRecompute, heartbeat_age=5)
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.recomputes_reap() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, dead.error) == (Status.FAILED, jobs.RECOMPUTE_STOPPED) and dead.finished_at
    assert alive.status == Status.RUNNING
    retry = StatisticsRecompute.objects.get(status=Status.QUEUED)
    assert retry.trigger == JobTrigger.RETRY and sent[0]["kwargs"] == {"run_id": retry.pk}

    # The retry's worker stops too: marked, not queued again (a recompute that kills its worker would loop).
    StatisticsRecompute.objects.filter(pk=retry.pk).update(
        status=Status.RUNNING, heartbeat_at=timezone.now() - timedelta(seconds=60)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.recomputes_reap() == 1
    retry.refresh_from_db()
    assert (retry.status, retry.error) == (Status.FAILED, jobs.RECOMPUTE_STOPPED_AGAIN)
    assert not StatisticsRecompute.objects.filter(status=Status.QUEUED).exists()


def test_a_dump_whose_heartbeat_stopped_is_marked_failed_and_its_folder_removed(db, settings, tmp_path):
    settings.MEDIA_ROOT, settings.JOBS_HEARTBEAT_SECONDS = tmp_path, 30
    dead = _running(DataDump, heartbeat_age=45)
    alive = _running(DataDump, heartbeat_age=2)
    for dump in (dead, alive):
        (dumps_root() / f".building-{dump.pk}").mkdir(parents=True)
    assert jobs.dumps_reap() == 1
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.status, dead.error) == (DataDump.Status.FAILED, jobs.DUMP_STOPPED)
    assert alive.status == DataDump.Status.RUNNING
    assert [path.name for path in dumps_root().iterdir()] == [f".building-{alive.pk}"]


def test_the_reaper_task_reports_what_it_did_and_forgets_old_recomputes(db, sent):
    old = StatisticsRecompute.objects.create(status=Status.SUCCEEDED, queued_at=timezone.now() - timedelta(days=31))
    recent = StatisticsRecompute.objects.create(status=Status.SUCCEEDED)
    assert jobs_reap_task.run() == {"recomputes_failed": 0, "dumps_failed": 0, "recomputes_sent": 0,
                                    "imports_sent": 0, "recomputes_forgotten": 1}  # fmt: skip
    assert list(StatisticsRecompute.objects.all()) == [recent] and old.pk != recent.pk


def test_beat_runs_the_reaper_often_and_drops_a_late_one():
    app.loader.import_default_modules()
    entry = app.conf.beat_schedule["jobs-reap"]
    assert entry == {"task": "followup.tasks.jobs_reap_task", "schedule": 60.0, "options": {"expires": 60.0}}
    assert entry["task"] in app.tasks


# --- The heartbeat ---------------------------------------------------------------------------------------------------


def test_a_running_job_stamps_its_heartbeat_from_a_thread_until_it_ends(committed_db, settings):
    """On its own connection: the job's may be inside one long statement (here, the test's thread sleeps)."""
    settings.JOBS_HEARTBEAT_SECONDS = 1  # a stamp every quarter of a second
    run = StatisticsRecompute.objects.create(status=Status.RUNNING, heartbeat_at=timezone.now() - timedelta(hours=1))

    def stamp():
        return StatisticsRecompute.objects.values_list("heartbeat_at", flat=True).get(pk=run.pk)

    with Heartbeat(StatisticsRecompute, run.pk):
        first = stamp()
        assert first > timezone.now() - timedelta(minutes=1), "stamped at once"
        wait_for(lambda: stamp() > first, timeout=30, what="a second stamp from the thread")
    ended = stamp()
    time.sleep(0.6)
    assert stamp() == ended, "no stamp once the job ended"


# --- Dumps: who asked ------------------------------------------------------------------------------------------------


def test_a_dump_records_why_and_for_whom(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = UserFactory(username="dumper", is_staff=True)
    dumps_build_task.run(trigger=JobTrigger.ADMIN, user_id=admin.pk)
    call_command("build_dumps", stdout=io.StringIO())
    by_hand, command = DataDump.objects.order_by("pk")
    assert (by_hand.trigger, by_hand.user, by_hand.status) == (JobTrigger.ADMIN, admin, DataDump.Status.SUCCEEDED)
    assert (command.trigger, command.user) == (JobTrigger.COMMAND, None)
    assert dumps_build().trigger == JobTrigger.COMMAND
