"""The readiness checks behind /readyz: the database, Redis and the workers' heartbeat, each reported.

The three run at once in threads and the report is due within CHECKS_DEADLINE_SECONDS whatever hangs: each check
has its own timeouts (libpq's connect_timeout and PostgreSQL's statement_timeout; Redis socket timeouts), and a
check still running at the deadline is reported as timed out. Such a check is not started again while it runs:
the next probe waits on the same one, so that a hung PostgreSQL never piles up threads or connections.

What the report shows is meant for a load balancer or a monitor: status, milliseconds, worker names, and for a
failure the exception's class with a short phrase of ours. The exception's own text can name hosts, ports and
database users: it goes to the server's log (logger uprtrax.ops.readiness), without traceback.
"""

import contextvars
import copy
import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait

import redis
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from uprtrax.ops.heartbeat import heartbeat_redis_url, heartbeats_read, redis_client

logger = logging.getLogger(__name__)

CHECKS_DEADLINE_SECONDS = 2.0
DATABASE_CONNECT_TIMEOUT_SECONDS = 2  # libpq's smallest: it takes 1 for 2
DATABASE_STATEMENT_TIMEOUT_MS = 1500
REDIS_TIMEOUT_SECONDS = 1.0

_executor: ThreadPoolExecutor | None = None
_running: dict[str, Future] = {}
_lock = threading.Lock()


def readiness_report() -> dict:
    """{"status": "ok" | "fail", "checks": {name: {"status": "ok" | "fail" | "skipped", "ms", ...}}}: ok when no
    check failed (a skipped check does not apply to this configuration)."""
    started = time.monotonic()
    futures = _checks_start()
    wait(futures.values(), timeout=CHECKS_DEADLINE_SECONDS)
    checks = {}
    for name, future in futures.items():
        if future.done():
            checks[name] = future.result()
        else:
            elapsed = round((time.monotonic() - started) * 1000, 1)
            checks[name] = {"status": "fail", "ms": elapsed, "error": f"timed out after {CHECKS_DEADLINE_SECONDS:g} s"}
    status = "fail" if any(check["status"] == "fail" for check in checks.values()) else "ok"
    return {"status": status, "checks": checks}


def _checks_start() -> dict[str, Future]:
    global _executor
    with _lock:
        if _executor is None:  # made on first use: a process forked later (gunicorn workers) makes its own
            _executor = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readyz")
        for name, check in CHECKS.items():
            previous = _running.get(name)
            if previous is None or previous.done():
                # in the request's context: a failure logged by the check carries the request's id
                _running[name] = _executor.submit(contextvars.copy_context().run, _measured, name, check)
        return dict(_running)


def _measured(name: str, check) -> dict:
    started = time.monotonic()
    try:
        result = check()
    except Exception as exc:  # every failure is a report, never a 500
        logger.warning("Readiness check %s failed: %s: %s", name, type(exc).__name__, str(exc).strip())
        result = {"status": "fail", "error": _error_summary(exc)}
    return {"status": result.pop("status"), "ms": round((time.monotonic() - started) * 1000, 1), **result}


def _error_summary(exc: BaseException) -> str:
    """The exception's class and a short phrase of ours (its own text stays in the server's log)."""
    text = f"{exc} {exc.__cause__ or ''}".lower()
    timed_out = isinstance(exc, TimeoutError | redis.TimeoutError) or "timeout" in text or "timed out" in text
    return f"{type(exc).__name__}: {'timed out' if timed_out else 'failed, see the server log'}"


def database_check() -> dict:
    """SELECT 1 on a connection of its own, opened with short timeouts and closed again: the request's connection
    has no connect timeout (libpq waits for the operating system's), and this one leaves it untouched."""
    base = connections[DEFAULT_DB_ALIAS]
    settings_dict = copy.deepcopy(base.settings_dict)
    if base.vendor == "postgresql":
        options = settings_dict.setdefault("OPTIONS", {})
        options["connect_timeout"] = DATABASE_CONNECT_TIMEOUT_SECONDS
        options["options"] = f"{options.get('options', '')} -c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}"
    probe = type(base)(settings_dict, alias=DEFAULT_DB_ALIAS)  # a wrapper of its own, not the one in `connections`
    try:
        with probe.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        probe.close()
    return {"status": "ok"}


def redis_check() -> dict:
    url = heartbeat_redis_url()
    if url is None:
        return {"status": "skipped", "reason": "no Redis configured"}
    client = redis_client(url, timeout=REDIS_TIMEOUT_SECONDS)
    try:
        client.ping()
    finally:
        client.close()
    return {"status": "ok"}


def worker_check() -> dict:
    """Ok when some worker beat within WORKER_HEARTBEAT_STALE_SECONDS (uprtrax/ops/heartbeat.py)."""
    from uprtrax.celery import app

    if app.conf.task_always_eager:
        return {"status": "skipped", "reason": "tasks run in-process"}
    url = heartbeat_redis_url()
    if url is None:
        return {"status": "skipped", "reason": "no Redis broker"}
    client = redis_client(url, timeout=REDIS_TIMEOUT_SECONDS)
    try:
        heartbeats = heartbeats_read(client)
    finally:
        client.close()
    limit = settings.WORKER_HEARTBEAT_STALE_SECONDS
    result = {
        "workers": [name for name, age in heartbeats if age <= limit],
        "age_seconds": round(heartbeats[0][1], 1) if heartbeats else None,  # of the most recent heartbeat
        "stale_workers": [name for name, age in heartbeats if age > limit],
    }
    if result["workers"]:
        return {"status": "ok", **result}
    return {"status": "fail", **result, "error": f"no worker heartbeat within the last {limit} s"}


CHECKS = {"database": database_check, "redis": redis_check, "worker": worker_check}
