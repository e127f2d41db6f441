"""Snapshots of the implementation statistics: computed in the background, read by the pages and the API.

- statistics_recompute(): computes every phase and rule (followup.statistics) from one consistent reading of the
  data and stores them as StatisticsSnapshot rows, all in one transaction: a reader sees the old set or the new one,
  never a mix, and a failure leaves the old one whole. Two recomputes never overlap: the second waits for the first
  (a PostgreSQL advisory lock, which a killed worker's closed connection releases). Running it again over the same
  data stores the same figures.
- statistics_changed(): imports and assessment writes call it after they commit. It queues one recompute,
  STATISTICS_RECOMPUTE_DELAY seconds later, for every change until that recompute starts: a thousand changes in a
  minute cost one recompute. The recompute is a StatisticsRecompute record (followup/jobs.py), queued in the
  database, so that a broker that is down delays it rather than losing it. Celery beat also runs one every night
  (uprtrax/celery.py).
- snapshot_read(): the stored figures of a phase, rule and cycle, in the API's shape.
"""

import threading
import time
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from followup.models import StatisticsSnapshot
from followup.statistics import (
    BREAKDOWNS,
    DEFAULT_PHASE,
    DEFAULT_RULE,
    PHASES,
    RULES,
    UnknownFilter,
    figures,
    filters_check,
    in_order,
    statistics_compute_all,
)
from recommendations.models import ImportRun
from reviews.models import Cycle
from uprtrax.locks import advisory_lock

_LOCK_KEY = 0x75707273  # "uprs": the advisory lock's number, one for the whole database


def statistics_changed() -> None:
    """The recommendations or their public assessments changed (called after the commit): recompute the
    statistics once, a little later, for this change and every other until then. Never raises for a broker that is
    down: the recompute stays queued and is sent when it answers again."""
    from followup.jobs import recompute_queue
    from followup.models import JobTrigger

    recompute_queue(trigger=JobTrigger.CHANGE, delay=settings.STATISTICS_RECOMPUTE_DELAY)


def statistics_recompute(
    *, phases: tuple[str, ...] = PHASES, rules: tuple[str, ...] = RULES, include_pledges: bool = False
) -> list[StatisticsSnapshot]:
    """Compute and store the snapshots of these phases and rules (all by default); returns them. Waits while
    another recompute runs. The record of the job (queued, running...) is followup.jobs's."""
    filters_check(phases=phases, rules=rules)
    outer = connection.in_atomic_block  # a caller's transaction (tests): its snapshot is the one read
    with advisory_lock(_LOCK_KEY), transaction.atomic(), connection.cursor() as cursor:
        shared = None
        if connection.vendor == "postgresql" and not outer:  # every phase and rule from one reading
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")  # the reading starts here, before computed_at
            shared = cursor.fetchone()[0]
        computed_at = timezone.now()
        started = time.perf_counter()
        computed = _compute(phases, rules, include_pledges=include_pledges, shared=shared)
        duration = round(time.perf_counter() - started, 3)
        return [
            snapshot
            for found in computed.values()
            for snapshot in _store(found, computed_at=computed_at, duration=duration)
        ]


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


def cycle_check(number: int, cycles: Iterable[int] | None = None) -> None:
    """UnknownFilter unless a cycle of this number exists (`cycles`: their numbers, when already read)."""
    known = list(Cycle.objects.order_by("number").values_list("number", flat=True) if cycles is None else cycles)
    if number not in known:
        numbers = ", ".join(str(n) for n in known) or "none yet"
        raise UnknownFilter(f"There is no cycle {number}: the cycles are {numbers}.")


def _empty() -> dict:
    return {"overall": figures(0, 0, 0, 0, 0), "by": {name: {} for name in BREAKDOWNS}}


def snapshot_read(
    phase: str = DEFAULT_PHASE,
    rule: str = DEFAULT_RULE,
    *,
    cycle: int | None = None,
    include_pledges: bool = False,
) -> dict | None:
    """The stored figures of this phase and rule, for all cycles or one, in the API's shape: {"phase", "rule",
    "cycle", "include_pledges", "computed_at" (ISO 8601), "duration_seconds", "inputs": {"recommendations",
    "assessments"}, "overall": G, "by": {breakdown: {group: G}}}; None before the first recompute. A cycle without
    recommendations has figures of zero. UnknownFilter for a phase or rule that does not exist."""
    filters_check(phases=(phase,), rules=(rule,))
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
