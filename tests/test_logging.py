"""Structured logs: JSON lines with the request's fields and id, from the web process, a real worker and beat.

The web's lines are read from the handler settings.LOGGING configured (its stream swapped for a buffer); the
worker's and beat's from their own output, as a log collector would read them.
"""

import io
import json
import logging
import os
import re
import subprocess
import sys
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django_guid.context import guid

from tests.factories import UserFactory
from tests.workers import Worker, own_queue, wait_for
from uprtrax.celery import app
from uprtrax.tasks import ping

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def log_lines():
    """The records the console handler writes during the test, each parsed from its JSON line."""
    assert settings.LOG_FORMAT == "json"  # the default without DEBUG, as in production
    (handler,) = [handler for handler in logging.getLogger().handlers if handler.name == "console"]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)

    def read() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines()]

    yield read
    handler.setStream(previous)


def _request_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "uprtrax.requests"]


def test_a_request_logs_one_json_line_with_its_fields_and_the_request_id_it_was_given(client, log_lines):
    given = str(uuid.uuid4())

    response = client.get("/healthz?token=not-for-the-log", HTTP_X_REQUEST_ID=given)

    assert response["X-Request-ID"] == given
    (line,) = _request_lines(log_lines())
    assert line["level"] == "INFO"
    assert line["message"] == f"GET /healthz 200 {line['duration_ms']:.1f}ms"
    assert line["method"] == "GET"
    assert line["path"] == "/healthz"  # without the query string
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["user_id"] is None
    assert line["request_id"] == given
    assert datetime.fromisoformat(line["timestamp"]).utcoffset().total_seconds() == 0
    assert "not-for-the-log" not in json.dumps(log_lines())


@pytest.mark.parametrize("given", [None, "", "not-a-uuid", "x" * 300, "0f8fad5b-d9cb-469f-a165-70867728950e;drop"])
def test_a_request_without_a_sane_request_id_gets_a_new_one_in_its_response_and_log(client, log_lines, given):
    headers = {} if given is None else {"HTTP_X_REQUEST_ID": given}

    first = client.get("/healthz", **headers)
    second = client.get("/healthz", **headers)

    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert [line["request_id"] for line in _request_lines(log_lines())] == [
        first["X-Request-ID"],
        second["X-Request-ID"],
    ]


def test_the_request_log_names_the_signed_in_user(db, client, log_lines):
    user = UserFactory()
    client.get("/")
    client.force_login(user)
    client.get("/accounts/profile/")

    anonymous, signed_in = _request_lines(log_lines())
    assert anonymous["path"] == "/" and anonymous["user_id"] is None
    assert signed_in["path"] == "/accounts/profile/" and signed_in["status"] == 200
    assert signed_in["user_id"] == user.pk


def test_every_line_of_a_request_carries_its_id_also_from_the_readiness_threads(db, client, log_lines, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens: the redis check logs a warning

    response = client.get("/readyz")

    request_id = response["X-Request-ID"]
    warnings = [line for line in log_lines() if line["logger"] == "uprtrax.ops.readiness"]
    assert warnings and all(line["request_id"] == request_id for line in warnings)
    assert _request_lines(log_lines())[-1]["status"] == 503


def test_a_streamed_response_is_logged_once_its_last_byte_is_sent(db, client, log_lines):
    response = client.get("/recommendations/export.csv")
    assert response.streaming
    assert _request_lines(log_lines()) == []  # nothing sent yet

    b"".join(response.streaming_content)

    (line,) = _request_lines(log_lines())
    assert line["path"] == "/recommendations/export.csv"
    assert line["status"] == 200
    assert line["streamed"] is True
    assert line["request_id"] == response["X-Request-ID"]


@app.task(name="tests.test_logging.request_id_seen")
def request_id_seen() -> str | None:
    return guid.get()


def test_a_task_run_in_the_request_sees_its_id_and_leaves_it_in_place(eager):
    token = guid.set("0f8fad5bd9cb469fa16570867728950e")
    try:
        assert request_id_seen.delay().get() == "0f8fad5bd9cb469fa16570867728950e"
        assert guid.get() == "0f8fad5bd9cb469fa16570867728950e"  # the rest of the request keeps it
    finally:
        guid.reset(token)


def test_worker_logs_json_lines_and_a_queued_task_carries_the_request_id(db, monkeypatch, tmp_path):
    request_id = uuid.uuid4().hex
    with own_queue(monkeypatch, ping, "uprtrax-test-logs") as queue:
        worker = Worker(queue=queue, log=tmp_path / "worker.log", env={"UPRTRAX_LOG_FORMAT": "json"})
        try:
            token = guid.set(request_id)
            try:
                result = ping.delay()
            finally:
                guid.reset(token)
            assert result.get(timeout=60) == "pong"
            lines = wait_for(
                lambda: (lambda found: found if any("succeeded" in line["message"] for line in found) else None)(
                    _json_lines(worker.log_path)
                ),
                timeout=20,
                what="the task's success logged",
                worker=worker,
            )
        finally:
            worker.stop()

    assert any(line["logger"] == "celery.apps.worker" and line["message"].endswith("ready.") for line in lines)
    (succeeded,) = [line for line in lines if "succeeded" in line["message"]]
    assert succeeded["request_id"] == request_id
    assert succeeded["task_name"] == "uprtrax.tasks.ping"
    assert succeeded["task_id"] == result.id
    assert {"timestamp", "level", "logger", "message"} <= set(succeeded)


def _json_lines(path: Path) -> list[dict]:
    """The log records of a Celery process's output: its start banner is printed, not logged, and stays text."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def test_beat_logs_json_lines(tmp_path):
    log = tmp_path / "beat.log"
    with log.open("wb") as output:
        beat = subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "-m", "celery", "-A", "uprtrax", "beat", "-l", "info",
             "--schedule", str(tmp_path / "celerybeat-schedule")],
            cwd=REPO, env={**os.environ, "UPRTRAX_LOG_FORMAT": "json"}, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            lines = wait_for(
                lambda: (lambda found: found if any(line["logger"] == "celery.beat" for line in found) else None)(
                    _json_lines(log)
                ),
                timeout=60,
                what="beat's first log line",
            )
        finally:
            beat.terminate()
            beat.wait(timeout=30)
    assert all(line["level"] in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"} for line in lines)


# --- the switch ------------------------------------------------------------------------------------------------

LOG_ONE_LINE = "import django, logging; django.setup(); logging.getLogger('uprtrax.check').warning('hello')"


def _one_line(**variables: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.path.expanduser("~"),
        "DJANGO_SETTINGS_MODULE": "uprtrax.settings",
        "DJANGO_SECRET_KEY": "tests-only-not-a-secret",
        **variables,
    }
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, "-c", LOG_ONE_LINE], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_logs_are_json_by_default_in_production_and_plain_with_debug_or_when_asked():
    production = _one_line()
    assert json.loads(production.stderr.strip())["message"] == "hello"

    for variables in ({"DJANGO_DEBUG": "1"}, {"UPRTRAX_LOG_FORMAT": "plain"}):
        line = _one_line(**variables).stderr.strip()
        assert re.fullmatch(r"\S+ \S+ WARNING uprtrax.check hello", line), line

    assert json.loads(_one_line(DJANGO_DEBUG="1", UPRTRAX_LOG_FORMAT="json").stderr.strip())["level"] == "WARNING"


def test_an_unknown_log_format_stops_the_start_naming_the_variable():
    result = _one_line(UPRTRAX_LOG_FORMAT="xml")

    assert result.returncode != 0
    assert "UPRTRAX_LOG_FORMAT='xml' is not one of json, plain" in result.stderr


def test_gunicorn_writes_no_access_log_of_its_own_beside_the_request_log():
    """One line per request: the application's (with its id and user), not gunicorn's too."""
    web = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["web"]["command"]
    image_command = next(line for line in (REPO / "Dockerfile").read_text().splitlines() if line.startswith("CMD "))

    assert web[0] == "gunicorn"
    assert "--access-logfile" not in web
    assert "--access-logfile" not in image_command
