"""What the records of long background jobs share (statistics recomputes, data dumps: followup/jobs.py): a
heartbeat in the database while one runs, and the test that tells a dead one from a slow one.

The heartbeat is a column of the job's own row (heartbeat_at), stamped with the database's clock by a thread of the
worker every JOBS_HEARTBEAT_SECONDS / 4. A worker that is killed stops stamping; the reaper (Celery beat) then
marks the job failed once its stamp is older than JOBS_HEARTBEAT_SECONDS. In the database rather than in Redis (as
imports keep their progress) because it must survive what it watches for: a Redis restart loses its keys, and a
recompute or a dump that runs through a Redis outage is alive. The database's clock, so that the workers' and the
reaper's clocks never need to agree.
"""

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Q
from django.db.models.functions import Now

logger = logging.getLogger(__name__)


class Heartbeat:
    """Stamps `model`'s row `pk` (heartbeat_at = now) while the block runs: once at the start, then from a thread
    every JOBS_HEARTBEAT_SECONDS / 4, on the thread's own connection (the job's may be inside one long statement).
    A failed stamp (the database restarting) is logged and tried again at the next beat.

    On SQLite (the demo, where Celery runs tasks in the web process) there is no thread: SQLite takes one writer at
    a time, and no reaper runs there."""

    def __init__(self, model, pk: int):
        self.model, self.pk = model, pk
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def stamp(self) -> None:
        self.model.objects.filter(pk=self.pk).update(heartbeat_at=Now())

    def __enter__(self) -> "Heartbeat":
        self.stamp()
        if connection.vendor == "postgresql":
            name = f"heartbeat-{self.model._meta.model_name}-{self.pk}"
            self._thread = threading.Thread(target=self._beat, name=name, daemon=True)
            self._thread.start()
        return self

    def _beat(self) -> None:
        interval = max(settings.JOBS_HEARTBEAT_SECONDS / 4, 0.2)
        try:
            while not self._stop.wait(interval):
                try:
                    self.stamp()
                except DatabaseError as error:
                    logger.warning("%s %s: heartbeat not stamped (%s)", self.model.__name__, self.pk, error)
                    connection.close()  # a fresh connection at the next beat
        finally:
            connection.close()  # this thread's own

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def silent_for_too_long() -> Q:
    """The running jobs whose heartbeat is older than JOBS_HEARTBEAT_SECONDS (or never came): their worker is dead.
    Combine with the model's own running status."""
    cutoff = Now() - timedelta(seconds=settings.JOBS_HEARTBEAT_SECONDS)
    return Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True)
