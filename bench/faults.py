"""Fault scenarios (issue 8): uprtrax under a real gunicorn, PostgreSQL, Redis and Celery worker on loopback, while
Redis stops, a worker is killed mid-job, or PostgreSQL restarts. Each scenario counts the data before and after,
prints its figures and a PASS or FAIL per check, and the command exits 1 on any FAIL.

    .venv/bin/python bench/faults.py                          # every scenario (about 2 minutes)
    .venv/bin/python bench/faults.py redis_stop               # one: redis_stop, worker_kill_import,
                                                              #      worker_kill_recompute, postgres_restart
    .venv/bin/python bench/faults.py --small                  # the test suite's sizes (tests/test_faults.py)

Everything runs in a temporary folder, on free loopback ports, and is stopped at the end: its own PostgreSQL 15
cluster (initdb; fsync off, as a scratch cluster may), whose template database is migrated and filled once
(reference data, `generate_dataset`, a staff user, a member of an organisation with a write token) and copied for
each scenario; its own redis-server without persistence; gunicorn (2 sync workers), a Celery worker (solo pool) and
Celery beat, with the reapers every 2 s and heartbeats of 4 s so that a killed worker's job is marked within seconds.
Nothing touches the machine's own PostgreSQL or Redis. As root, PostgreSQL runs as the user postgres (runuser).

- redis_stop: clients browse (home, search with and without text, states, sessions, a recommendation, statistics,
  the API) while Redis is stopped for a while and started again, empty. During the outage a member records an
  assessment through the API (it queues a statistics recompute) and the staff user uploads an import (it queues its
  preview). Checks: no page failed in any phase; both writes answered at once (201, 202); the jobs stayed queued
  in the database, unsent; once Redis was back, beat's reaper sent them and the worker ran them; one assessment more,
  nothing else changed.
- worker_kill_import: a file of a few thousand rows (the real UPR Info export of sessions 1-5 when
  ../shared/data/real/1-5.csv exists, else a generated canonical CSV) is previewed, then confirmed; the worker is
  SIGKILLed in the middle of the commit (the scenario holds a lock on the recommending states' link table, so the
  kill lands after the import's reviews, recommendations and issue links were written in its transaction, every
  time). Checks: the counts are as before; the run is marked failed (worker stopped); a new worker, a rerun (preview
  and confirm, as an admin does) succeeds with exactly the previewed numbers.
- worker_kill_recompute: a statistics recompute asked for by hand (the admin's Background jobs page) is killed
  while it replaces the snapshots (a lock on the last snapshots it replaces catches it there). Checks: the snapshots
  are the previous ones, whole; the recompute is marked failed; a new worker runs the recompute the reaper queued
  again, which stores a whole new set.
- postgres_restart: clients browse while `pg_ctl restart -m fast` runs. Checks: a request during the restart either
  succeeds or gets the clean 503 page (never a 500 or a traceback); every request after it succeeds, with the same
  gunicorn and Celery processes (none restarted); the worker runs a job after it (an assessment's recompute); the
  counts are as before but that assessment.
"""

import argparse
import csv
import io
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib import request as urlrequest

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _faults_stack import (
    IMPORTS,
    RECOMPUTES,
    REPO,
    SMALL,
    Answer,
    Browsing,
    Environment,
    ScenarioError,
    Session,
    Sizes,
    Stack,
    failed_urls,
    failures,
    http_send,
    phase_figures,
    services_missing,
    wait_until,
)

REAL_IMPORT_FILE = REPO.parent / "shared" / "data" / "real" / "1-5.csv"
SCENARIOS = ("redis_stop", "worker_kill_import", "worker_kill_recompute", "postgres_restart")

# --- Outcome ---------------------------------------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class Outcome:
    scenario: str
    figures: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    def check(self, name: str, passed: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, bool(passed), detail))
        return bool(passed)

    def figure(self, text: str) -> None:
        self.figures.append(text)

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(check.passed for check in self.checks)

    def report(self) -> str:
        lines = [f"=== {self.scenario} ({self.seconds:.1f} s): {'PASS' if self.passed else 'FAIL'}"]
        lines += [f"  {text}" for text in self.figures]
        for check in self.checks:
            lines.append(
                f"  {'PASS' if check.passed else 'FAIL'}  {check.name}{f': {check.detail}' if check.detail else ''}"
            )
        return "\n".join(lines)


def assessment_post(stack: Stack, recommendation: int) -> Answer:
    """A member records an assessment through the API with a personal token (it queues a statistics recompute)."""
    credentials = stack.environment.credentials
    body = json.dumps(
        {
            "organisation": credentials.organisation,
            "recommendation": recommendation,
            "status": "partially_implemented",
            "comment": "A bill was tabled (fault scenario).",
            "visibility": "public",
        }
    ).encode()
    req = urlrequest.Request(
        stack.base + "/api/v1/assessments/",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {credentials.token}", "Content-Type": "application/json"},
    )
    return http_send(urlrequest.urlopen, req, 60)


def unassessed(stack: Stack, count: int) -> list[int]:
    """Recommendations the member's organisation has not assessed yet (mid-term)."""
    with stack.connect() as conn:
        rows = conn.execute(
            "SELECT r.id FROM recommendations_recommendation r WHERE NOT EXISTS (SELECT 1 FROM followup_assessment a"
            " JOIN followup_organisation o ON o.id = a.organisation_id WHERE a.recommendation_id = r.id"
            " AND o.slug = %s) ORDER BY r.id LIMIT %s",
            [stack.environment.credentials.organisation, count],
        ).fetchall()
    return [row[0] for row in rows]


def browse_urls(stack: Stack) -> list[str]:
    """What visitors read: pages, a search with and without text, facets, a recommendation, the API."""
    with stack.connect() as conn:
        rec = conn.execute("SELECT id FROM recommendations_recommendation ORDER BY id LIMIT 1 OFFSET 10").fetchone()[0]
        state = conn.execute(
            "SELECT s.iso3 FROM reviews_state s JOIN reviews_review r ON r.state_id = s.id GROUP BY s.iso3 "
            "ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
        session = conn.execute(
            "SELECT max(s.number) FROM reviews_session s JOIN reviews_review r ON r.session_id = s.id"
        ).fetchone()[0]
    return [
        "/",
        "/recommendations/",
        "/recommendations/?q=torture",
        f"/recommendations/?sur={state}&response=accepted",
        f"/recommendations/{rec}/",
        "/states/",
        f"/states/{state}/",
        f"/sessions/{session}/",
        "/statistics/",
        f"/api/v1/recommendations/?sur={state}&page_size=20",
        f"/api/v1/recommendations/{rec}/",
        "/api/v1/states/",
    ]


# --- Scenarios -------------------------------------------------------------------------------------------------------


def redis_stop(environment: Environment) -> Outcome:
    outcome = Outcome("redis_stop")
    sizes = environment.sizes
    stack = Stack(environment, "redis_stop").start()
    try:
        session = stack.session()
        before = stack.counts()
        targets = unassessed(stack, 1)
        import_name, import_content = import_file_make(sizes)
        with Browsing(stack.base, browse_urls(stack), sizes.clients) as browsing:
            t0 = time.monotonic()
            time.sleep(sizes.phase_seconds)
            t1 = time.monotonic()
            stack.redis.stop()
            time.sleep(min(1.0, sizes.outage_seconds / 4))
            assessed = assessment_post(stack, targets[0])
            uploaded = session.import_start(import_name, import_content)
            run_id = uploaded.json().get("id")
            with stack.connect() as conn:
                recompute = conn.execute(
                    "SELECT id, status, sent_at FROM followup_statisticsrecompute ORDER BY id DESC LIMIT 1"
                ).fetchone()
                pending = (
                    conn.execute(
                        "SELECT status, task_id FROM recommendations_importrun WHERE id = %s", [run_id]
                    ).fetchone()
                    if run_id
                    else None
                )
            time.sleep(max(0.0, sizes.outage_seconds - (time.monotonic() - t1)))
            t2 = time.monotonic()
            stack.redis.start()
            t3 = time.monotonic()
            try:
                recompute_done = stack.job_end(RECOMPUTES, recompute[0], "the recompute queued during the outage")
                recompute_seconds = time.monotonic() - t3
                import_done = stack.job_end(IMPORTS, run_id, "the import queued during the outage")
                import_seconds = time.monotonic() - t3
            finally:
                time.sleep(max(0.0, sizes.phase_seconds - (time.monotonic() - t3)))
                t4 = time.monotonic()
        phases = dict(zip(("before", "Redis stopped", "after"), browsing.phases(t0, t1, t3, t4), strict=True))
        for name, hits in phases.items():
            outcome.figure(phase_figures(name, hits))
        outcome.figure(
            f"Redis stopped {t2 - t1:.1f} s; the jobs queued meanwhile ran {recompute_seconds:.1f} s "
            f"(recompute) and {import_seconds:.1f} s (import preview) after it was back"
        )
        outcome.figure(
            f"during the outage: assessment POST {assessed.status} in {assessed.seconds * 1000:.0f} ms, "
            f"import upload {uploaded.status} in {uploaded.seconds * 1000:.0f} ms"
        )
        after = stack.counts()
        for name, hits in phases.items():
            bad = failures(hits)
            outcome.check(
                f"no page failed ({name})",
                hits and not bad,
                f"{len(bad)} of {len(hits)}: {failed_urls(bad)}" if bad else f"{len(hits)} requests",
            )
        outcome.check(
            "the assessment was recorded during the outage", assessed.status == 201, f"HTTP {assessed.status}"
        )
        outcome.check(
            "the import was accepted during the outage", uploaded.status == 202 and run_id, f"HTTP {uploaded.status}"
        )
        outcome.check(
            "the recompute stayed queued, unsent, while Redis was down",
            recompute and recompute[1] == "queued" and recompute[2] is None,
            str(recompute),
        )
        outcome.check(
            "the import stayed pending, unsent, while Redis was down",
            pending and pending[0] == "pending" and pending[1] == "",
            str(pending),
        )
        outcome.check("the recompute ran once Redis was back", recompute_done == "succeeded", recompute_done)
        outcome.check("the import's preview ran once Redis was back", import_done == "dry_run", str(import_done))
        expected = {**before, "assessments": before["assessments"] + 1}
        outcome.check(
            "nothing lost: one assessment more, nothing else changed", after == expected, _difference(before, after)
        )
    finally:
        stack.stop()
    return outcome


def worker_kill_import(environment: Environment) -> Outcome:
    outcome = Outcome("worker_kill_import")
    sizes = environment.sizes
    stack = Stack(environment, "worker_kill_import").start()
    try:
        session = stack.session()
        name, content = import_file_make(sizes)
        started = session.import_start(name, content)
        run_id = started.json().get("id")
        if started.status != 202 or not run_id:
            raise ScenarioError(f"the upload answered {started.status}: {started.body[:300]!r}")
        if stack.job_end(IMPORTS, run_id, "the preview") != "dry_run":
            raise ScenarioError(f"the preview failed: {_import_row(stack, run_id)}")
        preview = session.request("GET", f"/api/v1/imports/{run_id}/").json()
        create = preview["counts"]["create"]
        outcome.figure(
            f"file: {name}, {preview['counts']['rows']:,} rows, {len(content) / 1e6:.1f} MB; preview: "
            f"{create:,} recommendations to create, {preview['counts'].get('reviews', '?')} reviews"
        )
        before = stack.counts()
        with stack.connect() as blocker:
            # Holds back the import's last writes (its recommending states' links) so that the kill lands after
            # the reviews, recommendations and issues were written in its transaction.
            blocker.autocommit = False
            blocker.execute("LOCK TABLE recommendations_recommendation_recommending_states IN SHARE MODE")
            confirmed = session.request("POST", f"/api/v1/imports/{run_id}/confirm/")
            if confirmed.status != 202:
                raise ScenarioError(f"confirm answered {confirmed.status}: {confirmed.body[:300]!r}")
            waiting = wait_until(
                lambda: _waiting_for(stack, blocker),
                timeout=sizes.job_timeout,
                what="the import to reach its last writes",
            )
            wrote = _holds_write_lock(stack, waiting, "recommendations_recommendation")
            killed_at = time.monotonic()
            stack.worker.kill()
            blocker.rollback()
        wait_until(lambda: not _backend_alive(stack, waiting), timeout=30, what="the killed worker's session to end")
        after_kill = stack.counts()
        stack.worker_start()
        stack.worker_ready()
        marked = wait_until(
            lambda: (row := _import_row(stack, run_id)) and row[0] == "failed" and row,
            timeout=sizes.job_timeout,
            what="the killed import to be marked failed",
        )
        marked_seconds = time.monotonic() - killed_at
        rerun = session.request("POST", f"/api/v1/imports/{run_id}/rerun/", body=b"{}", content_type="application/json")
        rerun_id = rerun.json().get("id")
        if rerun.status != 202 or not rerun_id:
            raise ScenarioError(f"rerun answered {rerun.status}: {rerun.body[:300]!r}")
        if stack.job_end(IMPORTS, rerun_id, "the rerun's preview") != "dry_run":
            raise ScenarioError(f"the rerun's preview failed: {_import_row(stack, rerun_id)}")
        session.request("POST", f"/api/v1/imports/{rerun_id}/confirm/")
        final = stack.job_end(IMPORTS, rerun_id, "the rerun's commit")
        after = stack.counts()
        outcome.figure(f"counts before: {before}")
        outcome.figure(f"after the kill: {after_kill}")
        outcome.figure(f"after the rerun: {after}")
        outcome.figure(f"run #{run_id} marked failed {marked_seconds:.1f} s after the kill: {marked[1]}")
        outcome.check("the kill landed mid-write (the worker's transaction had written recommendations)", wrote)
        outcome.check(
            "nothing half-written: counts after the kill equal those before",
            after_kill == before,
            _difference(before, after_kill),
        )
        outcome.check(
            "the run is marked failed, worker stopped",
            marked[0] == "failed" and "worker stopped" in marked[1],
            _first_clause(marked[1]),
        )
        outcome.check("the rerun succeeded", final == "succeeded", str(final))
        outcome.check(
            "the rerun wrote exactly the previewed recommendations",
            after["recommendations"] - before["recommendations"] == create,
            f"{after['recommendations'] - before['recommendations']:,} written, {create:,} previewed",
        )
    finally:
        stack.stop()
    return outcome


def worker_kill_recompute(environment: Environment) -> Outcome:
    outcome = Outcome("worker_kill_recompute")
    sizes = environment.sizes
    stack = Stack(environment, "worker_kill_recompute").start()
    try:
        session = stack.session()
        first = _recompute_by_hand(stack, session)
        if stack.job_end(RECOMPUTES, first, "the first recompute") != "succeeded":
            raise ScenarioError(f"the first recompute failed: {_recompute_row(stack, first)}")
        snapshots_before = _snapshots(stack)
        outcome.figure(f"snapshots before: {len(snapshots_before)}, computed at {_computed_at(snapshots_before)}")
        with stack.connect() as blocker:
            # The last phase and rule the recompute replaces are held: it blocks there, the others already replaced
            # in its transaction.
            blocker.autocommit = False
            phase, rule = blocker.execute(
                "SELECT phase, rule FROM followup_statisticssnapshot ORDER BY phase DESC, rule DESC LIMIT 1"
            ).fetchone()
            blocker.execute(
                "SELECT id FROM followup_statisticssnapshot WHERE phase = %s AND rule = %s FOR UPDATE", [phase, rule]
            )
            second = _recompute_by_hand(stack, session)
            waiting = wait_until(
                lambda: _waiting_for(stack, blocker),
                timeout=sizes.job_timeout,
                what="the recompute to reach its writes",
            )
            wrote = _holds_write_lock(stack, waiting, "followup_statisticssnapshot")
            killed_at = time.monotonic()
            stack.worker.kill()
            blocker.rollback()
        wait_until(lambda: not _backend_alive(stack, waiting), timeout=30, what="the killed worker's session to end")
        snapshots_after_kill = _snapshots(stack)
        stack.worker_start()
        stack.worker_ready()
        marked = wait_until(
            lambda: (row := _recompute_row(stack, second)) and row[0] == "failed" and row,
            timeout=sizes.job_timeout,
            what="the killed recompute to be marked failed",
        )
        marked_seconds = time.monotonic() - killed_at
        retry = wait_until(
            lambda: _recompute_after(stack, second),
            timeout=sizes.job_timeout,
            what="the recompute queued again to succeed",
        )
        snapshots_after = _snapshots(stack)
        outcome.figure(
            f"recompute #{second} marked failed {marked_seconds:.1f} s after the kill: {_first_clause(marked[1])}"
        )
        outcome.figure(
            f"recompute #{retry[0]} ({retry[1]}) {retry[2]}, {len(snapshots_after)} snapshots computed at "
            f"{_computed_at(snapshots_after)}"
        )
        outcome.check("the kill landed mid-write (the recompute had replaced snapshots in its transaction)", wrote)
        outcome.check(
            "the snapshots are the previous ones, whole, after the kill",
            snapshots_after_kill == snapshots_before,
            f"{len(snapshots_after_kill)} of {len(snapshots_before)}",
        )
        outcome.check(
            "the recompute is marked failed, worker stopped", "worker stopped" in marked[1], _first_clause(marked[1])
        )
        outcome.check("the recompute queued again succeeded", retry[2] == "succeeded", str(retry))
        outcome.check(
            "a whole new set of snapshots was stored",
            len(snapshots_after) == len(snapshots_before)
            and _computed_at(snapshots_after) > _computed_at(snapshots_before)
            and len({row[1] for row in snapshots_after}) == 1,
            f"{len(snapshots_after)} snapshots",
        )
    finally:
        stack.stop()
    return outcome


def postgres_restart(environment: Environment) -> Outcome:
    outcome = Outcome("postgres_restart")
    sizes = environment.sizes
    stack = Stack(environment, "postgres_restart").start(beat=False)
    try:
        targets = unassessed(stack, 2)
        first = assessment_post(stack, targets[0])  # the worker works once: it holds a connection to be broken
        if first.status != 201:
            raise ScenarioError(f"the first assessment answered {first.status}: {first.body[:300]!r}")
        wait_until(
            lambda: _recomputes(stack).get("succeeded", 0) >= 1, timeout=sizes.job_timeout, what="the first recompute"
        )
        before = stack.counts()
        web_processes = (stack.web.pid, stack.web.children())
        worker_pid = stack.worker.pid
        with Browsing(stack.base, browse_urls(stack), sizes.clients) as browsing:
            t0 = time.monotonic()
            time.sleep(sizes.phase_seconds)
            t1 = time.monotonic()
            restart_seconds = environment.postgres.restart()
            t2 = time.monotonic()
            time.sleep(sizes.phase_seconds * 2)
            t3 = time.monotonic()
        second = assessment_post(stack, targets[1])
        recomputed = wait_until(
            lambda: _recomputes(stack).get("succeeded", 0) >= 2,
            timeout=sizes.job_timeout,
            what="a recompute after the restart",
        )
        after = stack.counts()
        earlier, during, later = browsing.phases(t0, t1, t2, t3)
        outcome.figure(phase_figures("before", earlier))
        outcome.figure(phase_figures(f"during the restart ({restart_seconds:.1f} s)", during))
        outcome.figure(phase_figures("after", later))
        unclean = [hit for hit in during if hit.status != 200 and not hit.clean_503]
        outcome.check(
            "during the restart, every failure is the clean 503 page",
            not unclean,
            f"{len(unclean)}: {failed_urls(unclean)}"
            if unclean
            else f"{sum(hit.clean_503 for hit in during)} clean 503s of {len(during)}",
        )
        outcome.check("no traceback shown", not any(hit.traceback for hit in browsing.hits))
        bad = failures(later)
        outcome.check(
            "every request after the restart succeeded",
            later and not bad,
            f"{len(bad)} of {len(later)}: {failed_urls(bad)}" if bad else f"{len(later)} requests",
        )
        outcome.check(
            "gunicorn was not restarted (same master and workers)",
            (stack.web.pid, stack.web.children()) == web_processes,
            str(web_processes),
        )
        outcome.check(
            "the worker was not restarted, and ran a job after the restart",
            stack.worker.alive() and stack.worker.pid == worker_pid and recomputed and second.status == 201,
            f"assessment POST {second.status}",
        )
        expected = {**before, "assessments": before["assessments"] + 1}
        outcome.check(
            "nothing lost: counts as before, but the assessment recorded after",
            after == expected,
            _difference(expected, after),
        )
    finally:
        stack.stop()
    return outcome


# --- Helpers of the scenarios -----------------------------------------------------------------------------------------


def _waiting_for(stack: Stack, blocker: psycopg.Connection) -> int | None:
    """The pid of a backend waiting for a lock that `blocker` holds (the job caught where the scenario holds it)."""
    with stack.connect() as conn:
        row = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid)) LIMIT 1", [blocker.info.backend_pid]
        ).fetchone()
    return row[0] if row else None


def _holds_write_lock(stack: Stack, pid: int, table: str) -> bool:
    """Whether backend `pid` holds a write lock on `table`: it has written rows there in its open transaction."""
    with stack.connect() as conn:
        return conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = %s AND relation = %s::regclass AND granted "
            "AND mode = 'RowExclusiveLock')",
            [pid, table],
        ).fetchone()[0]


def _backend_alive(stack: Stack, pid: int) -> bool:
    with stack.connect() as conn:
        return conn.execute("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s)", [pid]).fetchone()[0]


def _import_row(stack: Stack, run_id: int):
    with stack.connect() as conn:
        return conn.execute(
            "SELECT status, error_message FROM recommendations_importrun WHERE id = %s", [run_id]
        ).fetchone()


def _recompute_row(stack: Stack, run_id: int):
    with stack.connect() as conn:
        return conn.execute("SELECT status, error FROM followup_statisticsrecompute WHERE id = %s", [run_id]).fetchone()


def _recompute_after(stack: Stack, run_id: int):
    """The recompute after `run_id` once finished: (id, trigger, status)."""
    with stack.connect() as conn:
        row = conn.execute(
            "SELECT id, trigger, status FROM followup_statisticsrecompute WHERE id > %s "
            "AND status IN ('succeeded', 'failed') ORDER BY id LIMIT 1",
            [run_id],
        ).fetchone()
    return row


def _recomputes(stack: Stack) -> dict[str, int]:
    with stack.connect() as conn:
        return dict(
            conn.execute("SELECT status, count(*) FROM followup_statisticsrecompute GROUP BY status").fetchall()
        )


def _recompute_by_hand(stack: Stack, session: Session) -> int:
    """The admin's "Recompute the statistics" button on the Background jobs page; the new run's id."""
    latest = stack.scalar("SELECT coalesce(max(id), 0) FROM followup_statisticsrecompute")
    answer = session.form("/admin/jobs/", {"action": "recompute"})
    if answer.status != 200:
        raise ScenarioError(f"the Background jobs page answered {answer.status}")
    return wait_until(
        lambda: stack.scalar("SELECT max(id) FROM followup_statisticsrecompute WHERE id > %s", [latest]),
        timeout=10,
        what="the recompute asked for by hand to be recorded",
    )


def _snapshots(stack: Stack) -> list[tuple]:
    with stack.connect() as conn:
        return conn.execute(
            "SELECT id, computed_at, phase, rule, include_pledges, cycle FROM followup_statisticssnapshot ORDER BY id"
        ).fetchall()


def _computed_at(snapshots: list[tuple]):
    return max((row[1] for row in snapshots), default=None)


def _first_clause(text: str) -> str:
    """A job's reason up to its first semicolon: what happened, without the advice."""
    return text.split(";")[0]


def _difference(before: dict, after: dict) -> str:
    changed = {
        name: (before.get(name), after.get(name)) for name in {*before, *after} if before.get(name) != after.get(name)
    }
    return "unchanged" if not changed else ", ".join(f"{name}: {a} -> {b}" for name, (a, b) in sorted(changed.items()))


def import_file_make(sizes: Sizes) -> tuple[str, bytes]:
    """The file to import: the real UPR Info export of sessions 1-5 when it is there (and wanted), else a generated
    canonical CSV of sizes.import_rows recommendations (sessions 1-5, states and issues from the reference data)."""
    if sizes.real_import and REAL_IMPORT_FILE.is_file():
        content = REAL_IMPORT_FILE.read_bytes()
        return REAL_IMPORT_FILE.name, content
    states = ["KEN", "FRA", "BRA", "IND", "ZAF", "MEX", "NOR", "JPN", "EGY", "PER", "GHA", "CAN"]
    issues = [
        "Torture and other CID treatment",
        "Detention",
        "Women's rights",
        "Rights of the Child",
        "International instruments",
        "Freedom of opinion and expression",
    ]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["state_under_review", "session", "recommending_states", "text", "response", "action_category", "issues"]
    )
    for n in range(sizes.import_rows):
        writer.writerow(
            [
                states[n % len(states)],
                1 + n % 5,
                f"{states[(n + 3) % len(states)]}; {states[(n + 7) % len(states)]}",
                f"Fault scenario recommendation {n}: ratify the Optional Protocol and report on it ({n % 97}).",
                "accepted" if n % 3 else "noted",
                1 + n % 5,
                f"{issues[n % len(issues)]}; {issues[(n + 2) % len(issues)]}",
            ]
        )
    return "faults-import.csv", out.getvalue().encode()


# --- Running ---------------------------------------------------------------------------------------------------------

RUNNERS: dict[str, Callable[[Environment], Outcome]] = {
    "redis_stop": redis_stop,
    "worker_kill_import": worker_kill_import,
    "worker_kill_recompute": worker_kill_recompute,
    "postgres_restart": postgres_restart,
}


def scenario_run(environment: Environment, name: str) -> Outcome:
    """One scenario; an error on the way is its last check, failed, with the logs' tails kept in the folder."""
    started = time.monotonic()
    try:
        outcome = RUNNERS[name](environment)
    except Exception as error:  # reported, not raised: the other scenarios still run, the command exits 1
        outcome = Outcome(name)
        outcome.check("the scenario ran to its end", False, f"{type(error).__name__}: {error}")
        outcome.figure(f"logs kept in {environment.root / name}")
        environment.keep = True
    outcome.seconds = time.monotonic() - started
    return outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("scenarios", nargs="*", metavar="scenario", help=f"{', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--small", action="store_true", help="the test suite's sizes")
    parser.add_argument("--recommendations", type=int, help="of the generated data set (default 20,000)")
    parser.add_argument("--generated-import", action="store_true", help="a generated file even if the real one exists")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, databases)")
    arguments = parser.parse_args(argv)
    sizes = SMALL if arguments.small else Sizes()
    if arguments.recommendations:
        sizes = Sizes(
            **{
                **sizes.__dict__,
                "recommendations": arguments.recommendations,
                "assessments": arguments.recommendations * 3,
            }
        )
    if arguments.generated_import:
        sizes = Sizes(**{**sizes.__dict__, "real_import": False})
    unknown = [name for name in arguments.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenario {unknown[0]!r}: the scenarios are {', '.join(SCENARIOS)}")
    chosen = arguments.scenarios or list(SCENARIOS)
    missing = services_missing()
    if missing:
        print(f"The fault scenarios cannot run here: {missing}.", file=sys.stderr)
        return 2
    print(
        f"fault scenarios: {', '.join(chosen)}; data set {sizes.recommendations:,} recommendations, "
        f"{sizes.assessments:,} assessments; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    with Environment(sizes, keep=arguments.keep) as environment:
        print(
            f"environment ready in {environment.setup_seconds:.1f} s (PostgreSQL on port {environment.postgres.port}, "
            f"folder {environment.root})",
            flush=True,
        )
        outcomes = []
        for name in chosen:
            outcome = scenario_run(environment, name)
            outcomes.append(outcome)
            print(outcome.report(), flush=True)
    passed = all(outcome.passed for outcome in outcomes)
    print(
        f"{'PASS' if passed else 'FAIL'}: {sum(o.passed for o in outcomes)} of {len(outcomes)} scenarios passed; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
