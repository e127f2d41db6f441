"""A real `celery -A uprtrax worker` process for the tests that need one (import jobs killed mid-commit, the
statistics' recompute): it works on the pytest test database through the test run's Redis, on a queue of the
test's own. Use it with the `committed_db` fixture (tests/conftest.py): the worker sees committed data only."""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from uprtrax.celery import app

REPO = Path(__file__).resolve().parents[1]


class Worker:
    """`celery -A uprtrax worker` in its own process (solo pool), on the test database; `env`: more variables, and
    `media` the test's media directory (tests/recommendations/worker_settings.py reads it)."""

    def __init__(self, *, queue: str, log: Path, media: Path | None = None, env: dict[str, str] | None = None):
        db = connection.settings_dict
        database_url = (
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "tests.recommendations.worker_settings",
            "DJANGO_SECRET_KEY": "tests-only-not-a-secret",
            "UPRTRAX_TEST_MEDIA_ROOT": str(media or log.parent / "media"),
            "PYTHONPATH": str(REPO),
            **(env or {}),
        }
        self.log_path = log
        self.log = log.open("ab")
        nodename = f"{queue}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "celery", "-A", "uprtrax", "worker", "--pool=solo", "--concurrency=1",
             "-Q", queue, "-n", nodename, "--without-mingle", "--without-gossip", "-l", "info"],
            cwd=REPO, env=environment, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown, no cleanup, no acknowledgement, as the OOM killer or a lost host would do."""
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=20)
        self.log.close()

    def stop(self) -> None:
        """SIGTERM: a warm shutdown (the task running ends first)."""
        if self.alive():
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def wait_for(predicate, *, timeout: float, what: str, worker: Worker | None = None, interval: float = 0.1):
    """predicate()'s first true value, polled until `timeout`; fails the test (with the worker's log) otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if worker is not None and not worker.alive():
            pytest.fail(f"the worker exited while waiting for {what}:\n{worker.output()}")
        time.sleep(interval)
    pytest.fail(f"{what} within {timeout:g} s" + (f"; worker log:\n{worker.output()}" if worker else ""))


@contextmanager
def own_queue(monkeypatch, task, prefix: str) -> Iterator[str]:
    """A queue of the test's own where `task` is sent (test runs sharing one Redis never take each other's tasks),
    through the broker whatever ran before; deleted afterwards, when Celery reads the Django setting again (an
    assignment left in app.conf would mask the setting for every later test)."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    masked = app.conf.changes.pop("task_always_eager", None)
    app.conf.task_always_eager = False
    monkeypatch.setattr(task, "apply_async", partial(task.apply_async, queue=name))
    try:
        yield name
    finally:
        app.conf.changes.pop("task_always_eager", None)
        if masked is not None:
            app.conf.changes["task_always_eager"] = masked
        with app.connection_for_write() as broker:
            broker.default_channel.queue_delete(name)
