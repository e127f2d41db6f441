"""Snapshots of the implementation statistics: computed in the background, read by the pages and the API.

- statistics_recompute(): computes every phase and rule (followup.statistics) from one consistent reading of the
  data and stores them as StatisticsSnapshot rows, all in one transaction: a reader sees the old set or the new one,
  never a mix, and a failure leaves the old one whole. Two recomputes never overlap: the second waits for the first
  (a PostgreSQL advisory lock, which a killed worker's closed connection releases). Running it again over the same
  data stores the same figures.
- statistics_changed(): imports and assessment writes call it after they commit. It queues one recompute,
  STATISTICS_RECOMPUTE_DELAY seconds later, for every change until that recompute starts: a thousand changes in a
  minute cost one recompute. Celery beat also runs one every night (uprtrax/celery.py).
- snapshot_read(): the stored figures of a phase, rule and cycle, in the API's shape.
"""

import threading
import time
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from followup.models import Assessment, StatisticsSnapshot
from followup.statistics import BREAKDOWNS, PHASES, RULES, figures, in_order, statistics_compute_all
from recommendations.models import ImportRun

_PENDING_KEY = "statistics:recompute-pending"
_LOCK_KEY = 0x75707273  # "uprs": the advisory lock's number, one for the whole database


class UnknownFilter(ValueError):
    """A filter value that names nothing: its message says which and what is allowed."""


def statistics_changed() -> None:
    """The recommendations or their public assessments changed (called after the commit): recompute the
    statistics once, a little later, for this change and every other until then."""
    delay = settings.STATISTICS_RECOMPUTE_DELAY
    if cache.add(_PENDING_KEY, 1, timeout=max(delay * 30, 600)):
        from followup.tasks import statistics_recompute_task

        statistics_recompute_task.apply_async(countdown=delay)


def _lock(cursor) -> None:
    if connection.vendor == "postgresql":  # SQLite serialises writers by itself
        cursor.execute("SELECT pg_advisory_lock(%s)", [_LOCK_KEY])


def _unlock(cursor) -> None:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT pg_advisory_unlock(%s)", [_LOCK_KEY])


def statistics_recompute(
    *, phases: tuple[str, ...] = PHASES, rules: tuple[str, ...] = RULES, include_pledges: bool = False
) -> list[StatisticsSnapshot]:
    """Compute and store the snapshots of these phases and rules (all by default); returns them. Waits while
    another recompute runs. A change committed from now on queues another recompute."""
    for phase in phases:
        _check("phase", phase, PHASES)
    for rule in rules:
        _check("rule", rule, RULES)
    cache.delete(_PENDING_KEY)
    with connection.cursor() as cursor:
        _lock(cursor)
        try:
            outer = connection.in_atomic_block  # a caller's transaction (tests): its snapshot is the one read
            with transaction.atomic():
                shared = None
                if connection.vendor == "postgresql" and not outer:  # every phase and rule from one reading
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    cursor.execute("SELECT pg_export_snapshot()")  # the reading starts here, before computed_at
                    shared = cursor.fetchone()[0]
                computed_at = timezone.now()
                started = time.perf_counter()
                computed = _compute(phases, rules, include_pledges=include_pledges, shared=shared)
                duration = round(time.perf_counter() - started, 3)
                stored = [
                    snapshot
                    for found in computed.values()
                    for snapshot in _store(found, computed_at=computed_at, duration=duration)
                ]
        finally:
            _unlock(cursor)
    return stored


def _compute(phases, rules, *, include_pledges: bool, shared: str | None) -> dict:
    """statistics_compute_all() of these phases and rules. With a `shared` reading of the data (PostgreSQL's
    exported snapshot) and more than one phase, the phases after the first are computed at the same time by a
    second connection that reads the same snapshot: the machine's second core halves the wait."""
    if shared is None or len(phases) < 2 or not settings.STATISTICS_PARALLEL:
        return statistics_compute_all(phases=phases, rules=rules, include_pledges=include_pledges)
    others: dict = {}

    def other_phases():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [shared])
                others["computed"] = statistics_compute_all(
                    phases=phases[1:], rules=rules, include_pledges=include_pledges
                )
        except Exception as error:  # handed to the calling thread, raised there
            others["error"] = error
        finally:
            connection.close()  # this thread's own connection

    helper = threading.Thread(target=other_phases, name="statistics-phases")
    helper.start()
    try:
        first = statistics_compute_all(phases=phases[:1], rules=rules, include_pledges=include_pledges)
    finally:
        helper.join()
    if "error" in others:
        raise others["error"]
    return {**first, **others["computed"]}


def _store(computed: dict, *, computed_at: datetime, duration: float) -> list[StatisticsSnapshot]:
    """One phase and rule's snapshots (all cycles, and each), replacing its earlier ones."""
    parts = {0: computed, **{int(number): part for number, part in computed["cycles"].items()}}
    chosen = {key: computed[key] for key in ("phase", "rule", "include_pledges")}
    rows = [
        StatisticsSnapshot(
            **chosen,
            cycle=cycle,
            figures={"overall": part["overall"], "by": part["by"]},
            recommendations=part["inputs"]["recommendations"],
            assessments=part["inputs"]["assessments"],
            computed_at=computed_at,
            duration_seconds=duration,
        )
        for cycle, part in parts.items()
    ]
    StatisticsSnapshot.objects.filter(**chosen).delete()
    return StatisticsSnapshot.objects.bulk_create(rows)


def _check(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise UnknownFilter(f"Unknown {name} {value!r}: use one of {', '.join(allowed)}.")


def _empty() -> dict:
    return {"overall": figures(0, 0, 0, 0, 0), "by": {name: {} for name in BREAKDOWNS}}


def snapshot_read(
    phase: str = Assessment.Phase.MID_TERM,
    rule: str = StatisticsSnapshot.Rule.MAJORITY,
    *,
    cycle: int | None = None,
    include_pledges: bool = False,
) -> dict | None:
    """The stored figures of this phase and rule, for all cycles or one, in the API's shape: {"phase", "rule",
    "cycle", "include_pledges", "computed_at" (ISO 8601), "duration_seconds", "inputs": {"recommendations",
    "assessments"}, "overall": G, "by": {breakdown: {group: G}}}; None before the first recompute. A cycle without
    recommendations has figures of zero. UnknownFilter for a phase or rule that does not exist."""
    _check("phase", phase, PHASES)
    _check("rule", rule, RULES)
    chosen = StatisticsSnapshot.objects.filter(phase=phase, rule=rule, include_pledges=include_pledges)
    snapshot = chosen.filter(cycle=cycle or 0).first()
    if snapshot is None and cycle:  # a cycle without recommendations: zeros, as of the last recompute
        snapshot = chosen.filter(cycle=0).first()
        if snapshot is not None:
            snapshot.figures, snapshot.recommendations, snapshot.assessments = _empty(), 0, 0
    if snapshot is None:
        return None
    return {
        "phase": phase,
        "rule": rule,
        "cycle": cycle,
        "include_pledges": include_pledges,
        "computed_at": snapshot.computed_at.isoformat(),
        "duration_seconds": snapshot.duration_seconds,
        "inputs": {"recommendations": snapshot.recommendations, "assessments": snapshot.assessments},
        **in_order(snapshot.figures),
    }


def imports_running() -> list[ImportRun]:
    """The imports running now: their data is not in the figures until they finish (which recomputes them)."""
    running = ImportRun.objects.filter(status=ImportRun.Status.RUNNING, dry_run=False)
    return list(running.order_by("started_at")[:5])


DEFAULT_PHASE = Assessment.Phase.MID_TERM
DEFAULT_RULE = StatisticsSnapshot.Rule.MAJORITY
