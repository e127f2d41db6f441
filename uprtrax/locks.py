"""One PostgreSQL advisory lock per long job (the statistics' recompute, the data dumps), so that two runs never
overlap. Session-level: held across the job's transactions, and released by PostgreSQL itself when a killed
worker's connection closes."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


@contextmanager
def advisory_lock(key: int, *, wait: bool = True) -> Iterator[bool]:
    """Hold the lock `key` for the block: wait for it, or (`wait=False`) yield False at once when another session
    holds it. On other databases (SQLite, the demo: one writer at a time anyway) it always yields True."""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        if wait:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
            held = True
        else:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            held = cursor.fetchone()[0]
    try:
        yield held
    finally:
        if held:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
