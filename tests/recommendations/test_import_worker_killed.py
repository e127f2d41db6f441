"""The guarantee behind import jobs: a worker killed in the middle of a commit leaves nothing half-written, its run
is reported failed with the reason once its heartbeat expires, and running it again succeeds.

A real `celery -A uprtrax worker` process (solo pool, a queue of this test's own) works on the pytest test
database through Redis; the test previews a 60,000-row canonical CSV through it, confirms, waits until the commit
is writing, and SIGKILLs the worker. The data is committed for real (transactional_db), so the worker sees it.
"""

import csv
import random
import signal
import time
from pathlib import Path

import pytest
from django.core.files import File

from recommendations.imports import jobs, runs
from recommendations.imports.tasks import import_run_execute
from recommendations.models import ImportRun, Recommendation
from recommendations.reference import ISSUES
from reviews.models import Review
from reviews.reference.states import STATES
from tests.factories import UserFactory
from tests.workers import Worker, own_queue, wait_for

REPO = Path(__file__).resolve().parents[2]
ROWS = 60_000
HEARTBEAT_SECONDS = 2
WORKER_ENV = {"UPRTRAX_IMPORT_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS)}
HEADER = ["state_under_review", "session", "recommending_states", "text", "response", "action_category", "issues"]


@pytest.fixture
def queue(monkeypatch):
    """A queue of this test's own (test runs sharing one Redis never take each other's tasks), where the jobs
    send import_run_execute; deleted afterwards."""
    with own_queue(monkeypatch, import_run_execute, "uprtrax-import-test") as name:
        yield name


@pytest.fixture
def job_settings(settings, tmp_path):
    settings.IMPORT_HEARTBEAT_SECONDS = HEARTBEAT_SECONDS
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings


def _canonical_csv(path: Path, rows: int) -> None:
    """Real state names, sessions, issues and responses; every row valid and distinct."""
    rng = random.Random(7)
    names = [state.short_name for state in STATES]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            state = rng.randrange(len(names))
            session = 1 + rng.randrange(4) * 13 + state % 13  # each state reviewed once per cycle
            writer.writerow([
                names[state], session, ";".join(rng.sample(names, rng.choice((1, 1, 2, 3)))),
                f"Strengthen the protection of human rights defenders (recommendation {i}).",
                rng.choice(("accepted", "noted", "Supported")), rng.randint(1, 5),
                ";".join(rng.sample(ISSUES, rng.choice((1, 2)))),
            ])  # fmt: skip


def _status(run_id: int) -> str:
    return ImportRun.objects.filter(pk=run_id).values_list("status", flat=True).get()


def test_a_worker_killed_while_writing_leaves_nothing_and_the_rerun_succeeds(
    committed_db, job_settings, queue, tmp_path
):
    media = Path(job_settings.MEDIA_ROOT)
    path = tmp_path / "canonical.csv"
    _canonical_csv(path, ROWS)
    staff = UserFactory(username="importer", is_staff=True)
    before = (Recommendation.objects.count(), Review.objects.count(), Recommendation.issues.through.objects.count())

    workers = [Worker(queue=queue, media=media, env=WORKER_ENV, log=tmp_path / "worker-1.log")]
    try:
        with path.open("rb") as upload:
            run = jobs.job_start(user=staff, kind="recommendations", upload=File(upload, name=path.name),
                                 file_name=path.name, options={}, mapping=None)  # fmt: skip
        # No transaction around job_start here: its on_commit has already sent the task to the worker's queue.
        wait_for(
            lambda: _status(run.pk) == ImportRun.Status.DRY_RUN, timeout=240, what="the preview", worker=workers[0]
        )
        run.refresh_from_db()
        assert run.counts["create"] == ROWS and run.counts["errors"] == 0

        run = jobs.job_confirm(run=run, user=staff)
        phase = wait_for(
            lambda: (runs.progress_get(run.pk) or {}).get("phase") == "writing",
            timeout=240,
            what='the commit\'s "writing" phase',
            worker=workers[0],
            interval=0.05,
        )
        assert phase and _status(run.pk) == ImportRun.Status.RUNNING
        time.sleep(0.5)  # into the writes (about 10 s of them for 60,000 rows on a 2-core machine)
        assert runs.progress_get(run.pk)["phase"] == "writing", "the commit ended before the kill: use more rows"

        workers[0].kill()

        assert workers[0].process.returncode == -signal.SIGKILL
        after = (Recommendation.objects.count(), Review.objects.count(), Recommendation.issues.through.objects.count())
        assert after == before, "nothing half-written"
        assert _status(run.pk) == ImportRun.Status.RUNNING, "nobody has noticed yet"

        # Once the heartbeat has expired, reading the run reports the dead worker.
        failed = wait_for(
            lambda: jobs.run_refresh(ImportRun.objects.get(pk=run.pk)).status == ImportRun.Status.FAILED,
            timeout=HEARTBEAT_SECONDS + 30,
            what="the run to be marked failed after its heartbeat expired",
            interval=0.25,
        )
        assert failed
        run.refresh_from_db()
        assert run.error_message == (
            "The worker stopped during the import (killed or restarted); nothing was written. Run it again."
        )
        assert runs.progress_get(run.pk) is None and run.finished_at is not None

        # A restarted worker takes the rerun; the killed commit's lock and transaction are gone with its session.
        workers.append(Worker(queue=queue, media=media, env=WORKER_ENV, log=tmp_path / "worker-2.log"))
        rerun = jobs.job_rerun(run=run, user=staff, dry_run=False)
        wait_for(
            lambda: _status(rerun.pk) in (ImportRun.Status.SUCCEEDED, ImportRun.Status.FAILED),
            timeout=300,
            what="the rerun",
            worker=workers[1],
            interval=0.25,
        )
        rerun.refresh_from_db()
        assert rerun.status == ImportRun.Status.SUCCEEDED, rerun.errors[:3]
        assert rerun.counts["create"] == ROWS and rerun.upload.name == run.upload.name
        assert Recommendation.objects.count() == before[0] + ROWS
        assert "recommendations.imports.tasks.import_run_execute" in workers[1].output()
    finally:
        for worker in workers:
            worker.kill()
