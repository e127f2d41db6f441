"""The statistics' snapshots and their jobs (followup/snapshots.py, followup/tasks.py, uprtrax/celery.py): what a
recompute stores, that a burst of changes queues one recompute, that two never overlap, that a failure leaves the
previous snapshots whole; and, once, the whole path through Redis to a real worker process."""

import itertools
import threading
import time

import psycopg
import pytest
from django.db import connection, transaction

from followup import snapshots
from followup.models import Assessment, StatisticsRecompute, StatisticsSnapshot
from followup.services.assessments import assessment_input, assessment_record
from followup.snapshots import snapshot_read, statistics_changed, statistics_recompute
from followup.statistics import PHASES, RULES, statistics_compute
from followup.tasks import statistics_recompute_task
from recommendations.imports.service import recommendation_import
from reviews.models import Review, Session, State
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, csv_bytes
from tests.followup.cast import DAY
from tests.workers import Worker, own_queue, wait_for
from uprtrax.celery import app

IMPORT_HEADER = ["state_under_review", "session", "recommending_states", "text", "response"]


def _data() -> list:
    """Six recommendations to Kenya (session 20, cycle 2) and Brazil (session 28, cycle 3), four of them assessed."""
    kenya = Review.objects.create(state=State.objects.get(iso3="KEN"), session=Session.objects.get(number=20))
    brazil = Review.objects.create(state=State.objects.get(iso3="BRA"), session=Session.objects.get(number=28))
    recs = [RecommendationFactory(review=kenya if i < 3 else brazil, response="accepted" if i % 2 else "noted")
            for i in range(6)]  # fmt: skip
    cso, nhri = OrganisationFactory(name="CSO"), OrganisationFactory(name="NHRI", kind="nhri")
    for rec, organisation, status in (
        (recs[0], cso, "partially_implemented"),
        (recs[0], nhri, "not_implemented"),
        (recs[1], cso, "fully_implemented"),
        (recs[3], cso, "not_implemented"),
        (recs[4], nhri, "partially_implemented"),
    ):
        AssessmentFactory(recommendation=rec, organisation=organisation, status=status, visibility="public")
    return recs


@pytest.fixture
def data(db):
    return _data()


@pytest.fixture
def pending_cleared():
    """No recompute is queued by the test's data (a queued one covers the next change): they are records
    (followup.jobs), in the test's database. Listed after the fixture that gives the test its database."""
    StatisticsRecompute.objects.filter(status=StatisticsRecompute.Status.QUEUED).delete()


def _stored() -> list[tuple]:
    return list(
        StatisticsSnapshot.objects.order_by("phase", "rule", "cycle").values_list(
            "phase", "rule", "cycle", "figures", "recommendations", "assessments", "computed_at"
        )
    )


def test_a_recompute_stores_every_phase_and_rule_for_all_cycles_and_for_each(data, pending_cleared):
    stored = statistics_recompute()

    assert {(s.phase, s.rule, s.cycle) for s in stored} == set(itertools.product(PHASES, RULES, (0, 2, 3)))
    assert len({s.computed_at for s in stored}) == 1, "one reading of the data"
    for phase, rule in itertools.product(PHASES, RULES):
        computed = statistics_compute(phase=phase, rule=rule)
        read = snapshot_read(phase, rule)
        assert (read["overall"], read["by"]) == (computed["overall"], computed["by"])
        assert read["inputs"] == computed["inputs"]
        for cycle in (2, 3):
            part = snapshot_read(phase, rule, cycle=cycle)
            assert (part["overall"], part["by"], part["cycle"]) == (
                computed["cycles"][str(cycle)]["overall"], computed["cycles"][str(cycle)]["by"], cycle
            )  # fmt: skip
    overall = snapshot_read()["overall"]
    # Kenya: 0 majority of (partially, not) is a tie -> not; 1 fully. Brazil: 3 not; 4 partially.
    assert (overall["recommendations"], overall["assessed"], overall["not_implemented"]) == (6, 4, 2)
    assert (overall["triggered_action_pct"], overall["coverage_pct"]) == (50.0, 66.7)
    assert snapshot_read()["inputs"] == {"recommendations": 6, "assessments": 5}


def test_a_cycle_without_recommendations_reads_as_zeros_and_nothing_reads_as_none(data, pending_cleared):
    assert snapshot_read() is None  # before the first recompute
    statistics_recompute(phases=("mid_term",), rules=("majority",))
    empty = snapshot_read(cycle=1)
    assert empty["overall"]["recommendations"] == 0 and empty["overall"]["triggered_action_pct"] is None
    assert empty["by"]["issue"] == {} and empty["inputs"] == {"recommendations": 0, "assessments": 0}
    assert snapshot_read(rule="lowest") is None  # not computed yet


def test_unknown_phase_or_rule_is_refused_with_the_allowed_values(db):
    with pytest.raises(snapshots.UnknownFilter, match="Unknown rule 'median': use one of majority, lowest"):
        snapshot_read(rule="median")
    with pytest.raises(snapshots.UnknownFilter, match="Unknown phase 'final'"):
        statistics_recompute(phases=("final",))


def test_recomputing_the_same_data_stores_the_same_figures(data, pending_cleared):
    statistics_recompute()
    first = [row[:-1] for row in _stored()]
    statistics_recompute()
    assert [row[:-1] for row in _stored()] == first


def test_a_failed_recompute_leaves_the_previous_snapshots_whole(data, pending_cleared, monkeypatch):
    statistics_recompute()
    before = _stored()
    AssessmentFactory(recommendation=data[5], organisation=OrganisationFactory(name="Late"), visibility="public",
                      status="fully_implemented")  # fmt: skip
    stores = []

    def failing(computed, **kwargs):
        stores.append(computed)
        if len(stores) == 3:
            raise RuntimeError("the database went away")
        return store(computed, **kwargs)

    store = snapshots._store
    monkeypatch.setattr(snapshots, "_store", failing)
    with pytest.raises(RuntimeError):
        statistics_recompute()
    assert _stored() == before, "the two phase-rule pairs computed before the failure were not stored either"


def test_a_thousand_changes_queue_one_recompute_until_it_starts(
    db, pending_cleared, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.STATISTICS_RECOMPUTE_DELAY = 60
    queued = []
    monkeypatch.setattr(statistics_recompute_task, "apply_async", lambda **options: queued.append(options))
    with django_capture_on_commit_callbacks(execute=True):  # the task is sent once its record is committed
        for _ in range(1000):
            statistics_changed()
    run = StatisticsRecompute.objects.get()
    assert queued == [{"kwargs": {"run_id": run.pk}, "countdown": 60, "task_id": run.task_id}]
    assert (run.status, run.trigger) == (StatisticsRecompute.Status.QUEUED, "change") and run.sent_at is not None

    # it starts (the worker claims it): later changes need another
    StatisticsRecompute.objects.filter(pk=run.pk).update(status=StatisticsRecompute.Status.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        statistics_changed()
        statistics_changed()
    assert len(queued) == 2 and StatisticsRecompute.objects.count() == 2


def test_writing_an_assessment_queues_a_recompute_after_the_commit(
    cast, recommendation, monkeypatch, django_capture_on_commit_callbacks
):
    told = []
    monkeypatch.setattr("followup.status.statistics_changed", lambda: told.append(1))
    given = assessment_input(status="partially_implemented", assessed_on=DAY, visibility="public")
    with django_capture_on_commit_callbacks() as callbacks:
        assessment_record(user=cast.editor_a, organisation=cast.org_a, recommendation=recommendation, given=given,
                          version=None)  # fmt: skip
        assert told == []  # not before the commit
    for callback in callbacks:
        callback()
    assert told == [1]


def test_without_a_broker_the_change_recomputes_in_process(
    cast, recommendation, eager, settings, pending_cleared, django_capture_on_commit_callbacks
):
    """`make run`: Celery runs tasks in-process, so the page shows the new figures after the save."""
    settings.STATISTICS_RECOMPUTE_DELAY = 0
    given = assessment_input(status="fully_implemented", assessed_on=DAY, visibility="public")
    with django_capture_on_commit_callbacks(execute=True):
        assessment_record(user=cast.editor_a, organisation=cast.org_a, recommendation=recommendation, given=given,
                          version=None)  # fmt: skip
    overall = snapshot_read()["overall"]
    assert (overall["recommendations"], overall["fully_implemented"], overall["triggered_action_pct"]) == (1, 1, 100.0)


def test_a_second_recompute_waits_until_the_first_is_done(committed_db, pending_cleared):
    _data()
    other = psycopg.connect(**_conninfo(), autocommit=True)  # "the first recompute": it holds the lock
    other.execute("SELECT pg_advisory_lock(%s)", [snapshots._LOCK_KEY])
    done = threading.Event()

    def second():
        try:
            statistics_recompute(phases=("mid_term",), rules=("majority",))
            done.set()
        finally:
            connection.close()  # this thread's own connection

    thread = threading.Thread(target=second)
    thread.start()
    try:
        assert not done.wait(1.5), "it must wait for the lock"
        assert not StatisticsSnapshot.objects.exists()
    finally:
        other.execute("SELECT pg_advisory_unlock(%s)", [snapshots._LOCK_KEY])
        other.close()
        thread.join(30)
    assert done.is_set()
    assert snapshot_read()["overall"]["assessed"] == 4


def _conninfo() -> dict:
    db = connection.settings_dict
    return {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"], "dbname": db["NAME"]}


def test_the_nightly_recompute_is_scheduled_and_the_worker_knows_the_task():
    app.loader.import_default_modules()
    nightly = app.conf.beat_schedule["statistics-recompute-nightly"]
    assert nightly["task"] == statistics_recompute_task.name == "followup.tasks.statistics_recompute_task"
    assert nightly["task"] in app.tasks
    assert (nightly["schedule"].hour, nightly["schedule"].minute) == ({2}, {30})


@pytest.fixture
def queue(monkeypatch):
    """A queue of this test's own, where statistics_changed() sends the task; deleted afterwards."""
    with own_queue(monkeypatch, statistics_recompute_task, "uprtrax-statistics-test") as name:
        yield name


def test_a_burst_of_changes_reaches_a_real_worker_as_one_recompute(
    committed_db, pending_cleared, queue, settings, tmp_path
):
    settings.STATISTICS_RECOMPUTE_DELAY = 2
    _data()
    worker = Worker(queue=queue, log=tmp_path / "worker.log")
    try:
        for _ in range(300):
            statistics_changed()
        wait_for(lambda: StatisticsSnapshot.objects.count() == 30, timeout=90, what="the snapshots", worker=worker)
        wait_for(lambda: "succeeded in" in worker.output(), timeout=30, what="the task's end", worker=worker)
        time.sleep(3)  # time for a second recompute, were one queued
    finally:
        worker.stop()
    log = worker.output()
    assert log.count("followup.tasks.statistics_recompute_task[") == 2, log  # received, then succeeded: once
    assert "'snapshots': 30" in log
    computed = statistics_compute()
    assert snapshot_read()["by"] == computed["by"]
    run = StatisticsRecompute.objects.get()
    assert (run.status, run.snapshots) == (StatisticsRecompute.Status.SUCCEEDED, 30), "one run for the burst"


def test_outside_a_transaction_the_second_phase_is_read_by_a_second_connection_from_the_same_snapshot(
    committed_db, pending_cleared, monkeypatch
):
    recs = _data()
    AssessmentFactory(recommendation=recs[2], organisation=OrganisationFactory(name="Later"),
                      status="not_implemented", phase=Assessment.Phase.NEXT_REVIEW)  # fmt: skip
    threads = {}
    compute_all = snapshots.statistics_compute_all

    def spying(**kwargs):
        threads[kwargs["phases"]] = threading.current_thread().name
        if threading.current_thread().name == "statistics-phases":
            time.sleep(1)  # a change committed meanwhile must not be read by either connection
        return compute_all(**kwargs)

    monkeypatch.setattr(snapshots, "statistics_compute_all", spying)
    changer = threading.Timer(0.3, lambda: (_late_change(recs), connection.close()))
    changer.start()
    statistics_recompute()
    changer.join()

    assert threads == {("mid_term",): "MainThread", ("next_review",): "statistics-phases"}
    assert snapshot_read("next_review")["overall"]["assessed"] == 1, "the change after the start is not read"
    assert Assessment.objects.filter(phase="next_review").count() == 2
    monkeypatch.undo()
    for phase, rule in itertools.product(PHASES, RULES):
        read = snapshot_read(phase, rule)
        expected = statistics_compute(phase=phase, rule=rule)
        if phase == "next_review":
            assert read["overall"]["assessed"] == expected["overall"]["assessed"] - 1
        else:
            assert (read["overall"], read["by"]) == (expected["overall"], expected["by"])


def _late_change(recs: list) -> None:
    AssessmentFactory(recommendation=recs[3], organisation=OrganisationFactory(name="Even later"),
                      status="fully_implemented", phase=Assessment.Phase.NEXT_REVIEW)  # fmt: skip


def test_an_import_queues_a_recompute_when_it_commits_and_a_preview_does_not(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    told = []
    monkeypatch.setattr("recommendations.imports.service.statistics_changed", lambda: told.append(1))
    data = csv_bytes(IMPORT_HEADER, [["France", "3", "Norway", "Ratify the Optional Protocol.", "accepted"]])
    with django_capture_on_commit_callbacks(execute=True):
        assert recommendation_import(source=data, file_name="s3.csv", dry_run=True).ok
    assert told == []
    with django_capture_on_commit_callbacks(execute=True):
        assert recommendation_import(source=data, file_name="s3.csv", dry_run=False).committed
    assert told == [1]


def test_an_edit_in_the_admin_queues_a_recompute(data, admin_client, monkeypatch, django_capture_on_commit_callbacks):
    told = []
    monkeypatch.setattr("recommendations.admin.statistics_changed", lambda: told.append(1))
    rec = data[0]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/admin/recommendations/recommendation/{rec.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and told == [1]


def test_a_recompute_while_an_import_is_writing_counts_only_what_was_committed(committed_db, pending_cleared):
    recs = _data()
    writing, recomputed = threading.Event(), threading.Event()

    def import_in_progress():
        try:
            with transaction.atomic():  # the import's one transaction: nothing visible until it commits
                RecommendationFactory(review=recs[0].review, response="accepted")
                AssessmentFactory(recommendation=recs[5], organisation=OrganisationFactory(name="Importing"))
                writing.set()
                recomputed.wait(60)
        finally:
            connection.close()

    importer = threading.Thread(target=import_in_progress)
    importer.start()
    try:
        assert writing.wait(30)
        statistics_recompute()  # neither blocked by the import's locks nor reading its rows
    finally:
        recomputed.set()
        importer.join(30)
    snapshot = snapshot_read()
    assert snapshot["inputs"] == {"recommendations": 6, "assessments": 5}
    assert StatisticsSnapshot.objects.filter(phase="mid_term", rule="majority").count() == 3  # all, cycles 2, 3
    statistics_recompute()  # what the import's commit queues
    assert snapshot_read()["inputs"] == {"recommendations": 7, "assessments": 6}
