"""The Celery wiring, for real: tasks travel through Redis (REDIS_URL of the test environment) to a worker.

Every test uses its own queue and node names, so that test runs sharing one Redis never take each other's tasks.
"""

import os
import shlex
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.exceptions import TimeoutError as CeleryTimeoutError
from celery.result import EagerResult
from django.conf import settings

from uprtrax.celery import app
from uprtrax.tasks import ping

REPO = Path(__file__).resolve().parent.parent


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def queue():
    """A queue of this test's own, deleted afterwards."""
    name = _unique("uprtrax-test")
    yield name
    with app.connection_for_write() as connection:
        connection.default_channel.queue_delete(name)


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "uprtrax", *args]


def _wait_until(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"{what} within {timeout:g}s")


def _stop(process: subprocess.Popen) -> str:
    process.terminate()
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


def _healthcheck(command: str) -> int:
    """Run a health check the way Compose's CMD-SHELL does, with our interpreter's celery."""
    argv = shlex.split(command)
    assert argv[:3] == ["celery", "-A", "uprtrax"]
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-m", "celery", *argv[1:]], cwd=REPO, capture_output=True, timeout=60, check=False
    ).returncode


def test_tests_send_tasks_to_redis_rather_than_running_them_eagerly():
    assert settings.REDIS_URL.startswith("redis://")
    assert app.conf.broker_url == settings.REDIS_URL
    assert app.conf.task_always_eager is False


def test_ping_goes_through_redis_to_a_worker_and_its_result_comes_back(queue):
    with start_worker(app, queues=[queue], perform_ping_check=False, shutdown_timeout=10):
        result = ping.apply_async(queue=queue)

        assert not isinstance(result, EagerResult)
        assert result.get(timeout=20) == "pong"
        assert result.state == "SUCCESS"


def test_task_waits_in_redis_until_a_worker_consumes_its_queue(queue):
    result = ping.apply_async(queue=queue)
    with pytest.raises(CeleryTimeoutError):
        result.get(timeout=1)  # no worker yet: nothing ran the task in this process
    assert result.state == "PENDING"

    with start_worker(app, queues=[queue], perform_ping_check=False, shutdown_timeout=10):
        assert result.get(timeout=20) == "pong"


def test_worker_process_started_as_compose_does_finds_and_runs_ping(queue):
    """A separate `celery -A uprtrax worker` must discover uprtrax.tasks by itself (uprtrax is no installed app)."""
    nodename = f"{_unique('uprtrax-test')}@{socket.gethostname()}"
    worker = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        _celery("worker", "-l", "info", "--pool", "solo", "-Q", queue, "-n", nodename, "--without-mingle"),
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        result = app.send_task("uprtrax.tasks.ping", queue=queue)
        assert result.get(timeout=60) == "pong"

        # The worker's Compose health check answers while it runs...
        assert _healthcheck(f"celery -A uprtrax inspect ping --destination {nodename} --timeout 10") == 0
    finally:
        output = _stop(worker)
    assert "uprtrax.tasks.ping" in output  # listed among the worker's registered tasks at start

    # ...and fails once it is gone.
    assert _healthcheck(f"celery -A uprtrax inspect ping --destination {nodename} --timeout 2") != 0


def test_beat_started_as_compose_does_answers_its_health_check(tmp_path):
    nodename = f"{_unique('celerybeat-test')}@{socket.gethostname()}"
    beat = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
        _celery(
            "beat",
            "-l",
            "info",
            "--schedule",
            str(tmp_path / "celerybeat-schedule"),
            "--enable-remote-control",
            "--hostname",
            nodename,
        ),
        cwd=REPO,
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_until(
            lambda: _healthcheck(f"celery -A uprtrax inspect ping --destination {nodename} --timeout 2") == 0,
            timeout=60,
            what="beat did not answer inspect ping",
        )
    finally:
        _stop(beat)
    assert any(path.name.startswith("celerybeat-schedule") for path in tmp_path.iterdir())
    assert _healthcheck(f"celery -A uprtrax inspect ping --destination {nodename} --timeout 2") != 0
