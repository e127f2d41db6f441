"""The guarantee behind import jobs: a worker killed in the middle of a commit leaves nothing half-written, its run
is reported failed with the reason once its heartbeat expires, and running it again succeeds.

A real `celery -A uprtrax worker` process (solo pool, a queue of this test's own) works on the pytest test
database through Redis; the test previews a 60,000-row canonical CSV through it, confirms, waits until the commit
is writing, and SIGKILLs the worker. The data is committed for real (transactional_db), so the worker sees it.
"""

import csv
import os
import random
import signal
import socket
import subprocess
import sys
import time
import uuid
from functools import partial
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files import File
from django.db import connection

from recommendations.imports import jobs, runs
from recommendations.imports.tasks import import_run_execute
from recommendations.models import ImportRun, Recommendation
from recommendations.reference import ISSUES
from reviews.models import Review
from reviews.reference.states import STATES
from tests.factories import UserFactory
from uprtrax.celery import app

REPO = Path(__file__).resolve().parents[2]
ROWS = 60_000
HEARTBEAT_SECONDS = 2
HEADER = ["state_under_review", "session", "recommending_states", "text", "response", "action_category", "issues"]


@pytest.fixture
def reference_data_restored(django_db_blocker):
    """Requested before transactional_db, so torn down after its flush, which empties every table: the reference
    data the rest of the run needs (tests/conftest.py loads it once) is loaded again."""
    yield
    from reviews.services import reference_data_load

    with django_db_blocker.unblock():
        reference_data_load()


@pytest.fixture
def committed_db(reference_data_restored, transactional_db):
    """Real commits, visible to the worker process."""


@pytest.fixture
def queue(monkeypatch):
    """A queue of this test's own (test runs sharing one Redis never take each other's tasks), where the jobs
    send import_run_execute; deleted afterwards."""
    name = f"uprtrax-import-test-{uuid.uuid4().hex[:12]}"
    # Through the broker, whatever ran before; afterwards Celery reads the Django setting again (an assignment
    # left in app.conf would mask the setting for every later test).
    masked = app.conf.changes.pop("task_always_eager", None)
    app.conf.task_always_eager = False
    monkeypatch.setattr(import_run_execute, "apply_async", partial(import_run_execute.apply_async, queue=name))
    yield name
    app.conf.changes.pop("task_always_eager", None)
    if masked is not None:
        app.conf.changes["task_always_eager"] = masked
    with app.connection_for_write() as broker:
        broker.default_channel.queue_delete(name)


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


class Worker:
    """`celery -A uprtrax worker` in its own process, on the test database and the test's media directory."""

    def __init__(self, *, queue: str, media: Path, log: Path):
        db = connection.settings_dict
        database_url = (
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "UPRTRAX_IMPORT_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "DJANGO_SETTINGS_MODULE": "tests.recommendations.worker_settings",
            "DJANGO_SECRET_KEY": "tests-only-not-a-secret",
            "UPRTRAX_TEST_MEDIA_ROOT": str(media),
            "PYTHONPATH": str(REPO),
        }
        self.log_path = log
        self.log = log.open("ab")
        nodename = f"{queue}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "celery", "-A", "uprtrax", "worker", "--pool=solo", "--concurrency=1",
             "-Q", queue, "-n", nodename, "--without-mingle", "--without-gossip", "-l", "info"],
            cwd=REPO, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, no acknowledgement, as the OOM killer or a lost host would do."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def _wait(predicate, *, timeout: float, what: str, worker: Worker | None = None, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if worker is not None and not worker.alive():
            pytest.fail(f"the worker exited while waiting for {what}:\n{worker.output()}")
        time.sleep(interval)
    pytest.fail(f"{what} within {timeout:g} s" + (f"; worker log:\n{worker.output()}" if worker else ""))


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

    workers = [Worker(queue=queue, media=media, log=tmp_path / "worker-1.log")]
    try:
        with path.open("rb") as upload:
            run = jobs.job_start(user=staff, kind="recommendations", upload=File(upload, name=path.name),
                                 file_name=path.name, options={}, mapping=None)  # fmt: skip
        # No transaction around job_start here: its on_commit has already sent the task to the worker's queue.
        _wait(lambda: _status(run.pk) == ImportRun.Status.DRY_RUN, timeout=240, what="the preview", worker=workers[0])
        run.refresh_from_db()
        assert run.counts["create"] == ROWS and run.counts["errors"] == 0

        run = jobs.job_confirm(run=run, user=staff)
        phase = _wait(
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
        failed = _wait(
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
        workers.append(Worker(queue=queue, media=media, log=tmp_path / "worker-2.log"))
        rerun = jobs.job_rerun(run=run, user=staff, dry_run=False)
        _wait(
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
