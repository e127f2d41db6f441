"""/readyz and the worker heartbeat, for real: PostgreSQL, Redis and a `celery worker` process (tests/workers.py).

A failing dependency is made the way it fails in production: a port where nothing listens (refused), a port that
accepts connections and never answers (hung), a worker killed with SIGKILL.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection

from tests.workers import REPO, Worker, wait_for
from uprtrax.ops import readiness
from uprtrax.ops.heartbeat import HEARTBEATS_KEY, heartbeat_record, heartbeats_read, redis_client


@pytest.fixture
def heartbeats(settings):
    """The heartbeats' Redis, emptied: a worker that an earlier test killed may still look alive for a minute."""
    client = redis_client(settings.REDIS_URL)
    client.delete(HEARTBEATS_KEY)
    yield client
    client.delete(HEARTBEATS_KEY)
    client.close()


@pytest.fixture(autouse=True)
def _checks_settled():
    """A check still running when its probe answered (a hung dependency) is shared with the next probe: let it end
    here, so that no test reads another's."""
    yield
    for future in list(readiness._running.values()):
        future.result(timeout=15)


def _readyz(client) -> tuple[int, dict, float]:
    started = time.monotonic()
    response = client.get("/readyz")
    elapsed = time.monotonic() - started
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content), elapsed


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _silent_server():
    """A port that accepts connections and never says a word: a hung Redis or PostgreSQL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    accepted, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for peer in accepted:
            peer.close()
        server.close()


def _nodename(worker: Worker) -> str:
    args = worker.process.args
    return args[args.index("-n") + 1]


# --- all well, with a real worker --------------------------------------------------------------------------------


def test_readyz_is_ok_with_database_redis_and_a_live_worker_and_fails_once_it_is_killed(
    db, client, heartbeats, settings, tmp_path
):
    settings.WORKER_HEARTBEAT_STALE_SECONDS = 3
    worker = Worker(
        queue="uprtrax-test-readyz", log=tmp_path / "worker.log", env={"UPRTRAX_WORKER_HEARTBEAT_SECONDS": "1"}
    )
    try:
        status, body = wait_for(
            lambda: (lambda result: result[:2] if result[0] == 200 else None)(_readyz(client)),
            timeout=60,
            what="/readyz ok with the worker started",
            worker=worker,
        )
        assert body["status"] == "ok"
        assert body["checks"]["database"]["status"] == "ok"
        assert body["checks"]["redis"]["status"] == "ok"
        assert body["checks"]["worker"]["status"] == "ok"
        assert body["checks"]["worker"]["workers"] == [_nodename(worker)]
        assert 0 <= body["checks"]["worker"]["age_seconds"] <= 3
        assert all(isinstance(check["ms"], float) for check in body["checks"].values())
    finally:
        worker.kill()  # SIGKILL: no shutdown, nothing said to Redis

    status, body, _ = _readyz(client)
    assert status == 200  # dead for less than the staleness limit: not yet known
    _, body = wait_for(
        lambda: (lambda result: result[:2] if result[0] == 503 else None)(_readyz(client)),
        timeout=10,
        what="/readyz 503 after the worker was killed",
    )
    worker_check = body["checks"]["worker"]
    assert body["status"] == "fail"
    assert worker_check["status"] == "fail"
    assert worker_check["workers"] == []
    assert worker_check["stale_workers"] == [_nodename(worker)]
    assert worker_check["age_seconds"] >= 3
    assert "no worker heartbeat within the last 3 s" in worker_check["error"]
    assert body["checks"]["database"]["status"] == "ok" and body["checks"]["redis"]["status"] == "ok"


def test_a_worker_stopped_properly_withdraws_its_heartbeat_at_once(db, heartbeats, tmp_path):
    worker = Worker(queue="uprtrax-test-readyz", log=tmp_path / "worker.log")
    name = _nodename(worker)
    try:
        wait_for(lambda: name in dict(heartbeats_read(heartbeats)), timeout=60, what="a heartbeat", worker=worker)
    finally:
        worker.stop()
    assert name not in dict(heartbeats_read(heartbeats))


# --- failures, each named --------------------------------------------------------------------------------------


def test_readyz_fails_naming_redis_when_nothing_listens_there_and_shows_no_address(db, client, heartbeats, settings):
    port = _closed_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"

    status, body, _ = _readyz(client)

    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"] == {
        "status": "fail",
        "ms": body["checks"]["redis"]["ms"],
        "error": "ConnectionError: failed, see the server log",
    }
    assert body["checks"]["worker"]["status"] == "fail"  # its heartbeats are in that Redis
    text = json.dumps(body)
    assert "127.0.0.1" not in text and str(port) not in text and "Traceback" not in text


def test_readyz_answers_within_its_deadline_when_redis_hangs(db, client, heartbeats, settings):
    with _silent_server() as port:
        settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"

        status, body, elapsed = _readyz(client)

    assert status == 503
    assert body["checks"]["redis"]["status"] == "fail"
    assert "timed out" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["status"] == "ok"
    assert elapsed < 3.5  # about 2 s promised: a bound, not a benchmark (it does not hang)


def test_readyz_answers_within_its_deadline_when_postgresql_hangs(db, client, heartbeats, monkeypatch):
    with _silent_server() as port:
        monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
        monkeypatch.setitem(connection.settings_dict, "PORT", str(port))

        status, body, elapsed = _readyz(client)

        assert status == 503
        assert body["checks"]["database"]["status"] == "fail"
        assert "timed out" in body["checks"]["database"]["error"]
        assert body["checks"]["redis"]["status"] == "ok"
        assert elapsed < 3.5
        for future in list(readiness._running.values()):  # the connect timeout ends before the server goes
            future.result(timeout=15)


def test_a_check_hung_past_its_own_timeouts_is_failed_at_the_deadline_and_not_started_again(
    db, client, heartbeats, monkeypatch
):
    """PostgreSQL frozen after the connection was made: statement_timeout is the server's, and the server is stuck."""
    release, calls = threading.Event(), []

    def frozen_database():
        calls.append(1)
        release.wait(timeout=30)
        return {"status": "ok"}

    monkeypatch.setitem(readiness.CHECKS, "database", frozen_database)
    try:
        status, body, elapsed = _readyz(client)
        assert status == 503
        assert body["checks"]["database"]["error"] == "timed out after 2 s"
        assert body["checks"]["redis"]["status"] == "ok"
        assert elapsed < 3.5

        status, body, _ = _readyz(client)  # the next probe waits on the same check: no pile of stuck threads
        assert status == 503
        assert len(calls) == 1
    finally:
        release.set()
    readiness._running["database"].result(timeout=5)

    _readyz(client)
    assert len(calls) == 2  # once it ended, a new probe checks again


def test_readyz_fails_naming_postgresql_when_it_refuses(db, client, heartbeats, monkeypatch):
    port = _closed_port()
    monkeypatch.setitem(connection.settings_dict, "PORT", str(port))

    status, body, _ = _readyz(client)

    assert status == 503
    assert body["checks"]["database"]["status"] == "fail"
    assert body["checks"]["database"]["error"] == "OperationalError: failed, see the server log"
    assert str(port) not in json.dumps(body)


def test_readyz_fails_when_no_worker_ever_beat(db, client, heartbeats):
    status, body, _ = _readyz(client)

    assert status == 503
    assert body["checks"]["worker"]["status"] == "fail"
    assert body["checks"]["worker"]["workers"] == []
    assert body["checks"]["worker"]["age_seconds"] is None


def test_readyz_names_a_worker_whose_heartbeat_is_stale(db, client, heartbeats, settings):
    heartbeat_record(heartbeats, worker="celery@fresh-one")
    heartbeats.zadd(HEARTBEATS_KEY, {"celery@gone": time.time() - 300})  # beat 5 minutes ago, then died

    status, body, _ = _readyz(client)
    assert status == 200
    assert body["checks"]["worker"]["workers"] == ["celery@fresh-one"]
    assert body["checks"]["worker"]["stale_workers"] == ["celery@gone"]

    heartbeats.zrem(HEARTBEATS_KEY, "celery@fresh-one")
    status, body, _ = _readyz(client)
    assert status == 503
    assert body["checks"]["worker"]["stale_workers"] == ["celery@gone"]
    assert 295 < body["checks"]["worker"]["age_seconds"] < 320


def test_readyz_skips_the_worker_when_tasks_run_in_process(db, client, heartbeats, eager):
    status, body, _ = _readyz(client)

    assert status == 200
    assert body["status"] == "ok"
    assert body["checks"]["worker"] == {"status": "skipped", "ms": body["checks"]["worker"]["ms"],
                                        "reason": "tasks run in-process"}  # fmt: skip


def test_readyz_skips_redis_without_redis_and_passes_on_the_database_alone(db, client, eager, settings):
    settings.REDIS_URL = ""
    settings.CELERY_BROKER_URL = ""

    status, body, _ = _readyz(client)

    assert status == 200
    assert body["checks"]["redis"]["status"] == "skipped"
    assert body["checks"]["database"]["status"] == "ok"


# --- what the probe does not do --------------------------------------------------------------------------------


def test_readyz_sets_no_cookie_is_never_cached_and_leaves_the_request_connection_alone(
    db, client, heartbeats, django_assert_num_queries
):
    client.cookies["sessionid"] = "x" * 32  # a browser's session cookie is not even read
    with django_assert_num_queries(0):
        response = client.get("/readyz")

    assert response.cookies == {} or all(not morsel.value for morsel in response.cookies.values())
    assert "no-store" in response["Cache-Control"]
    assert client.post("/readyz").status_code == 405


def test_readyz_has_no_trailing_slash_and_is_not_redirected_to_https(db, client, heartbeats, settings):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/readyz").status_code in (200, 503)
    assert client.get("/healthz").status_code == 200


def test_a_staleness_limit_not_above_the_heartbeat_interval_stops_the_start_naming_both():
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.path.expanduser("~"),
        "DJANGO_SETTINGS_MODULE": "uprtrax.settings",
        "DJANGO_SECRET_KEY": "tests-only-not-a-secret",
        "UPRTRAX_WORKER_HEARTBEAT_SECONDS": "30",
        "UPRTRAX_WORKER_HEARTBEAT_STALE_SECONDS": "30",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode != 0
    assert (
        "UPRTRAX_WORKER_HEARTBEAT_STALE_SECONDS=30 must be more than UPRTRAX_WORKER_HEARTBEAT_SECONDS=30"
        in result.stderr
    )
