"""Each Celery worker says, every WORKER_HEARTBEAT_SECONDS, that it is alive; /readyz reads when each last did.

The heartbeats are one Redis sorted set: worker name (celery@host) -> the Redis server's clock at its last beat. One
set rather than a key per worker, so that a reader finds every worker in one command instead of scanning the cache's
keys; and the server's clock on both sides, so that a worker on another host with a drifting clock is not taken for
dead. A worker killed with SIGKILL simply stops beating: its score ages past WORKER_HEARTBEAT_STALE_SECONDS and
/readyz names it as stale (names a day old are dropped). A worker that stops properly removes its name at once.

The beat comes from a thread of the worker's main process, not from the worker's event loop: with the solo pool a
long task (an import, the statistics' recompute) holds the loop for minutes, and the worker is not dead meanwhile.
"""

import logging
import threading

import redis
from celery import bootsteps
from django.conf import settings

logger = logging.getLogger(__name__)

HEARTBEATS_KEY = "uprtrax:worker-heartbeats"
FORGET_AFTER_SECONDS = 24 * 60 * 60  # a worker silent this long is no longer listed, even as stale
REDIS_TIMEOUT_SECONDS = 1.0

# KEYS[1] the set, ARGV[1] the worker, ARGV[2] FORGET_AFTER_SECONDS. The score is the server's TIME.
_RECORD_SCRIPT = """
local now = redis.call('TIME')
local seconds = tonumber(now[1]) + tonumber(now[2]) / 1000000
redis.call('ZADD', KEYS[1], seconds, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', seconds - tonumber(ARGV[2]))
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


def heartbeat_redis_url() -> str | None:
    """The Redis the heartbeats are kept in: REDIS_URL, else the broker's when it is Redis; None without Redis."""
    url = settings.REDIS_URL or settings.CELERY_BROKER_URL
    return url if url and url.startswith(("redis://", "rediss://")) else None


def redis_client(url: str, *, timeout: float = REDIS_TIMEOUT_SECONDS) -> redis.Redis:
    """A client that gives up after `timeout` seconds, connecting or waiting for an answer: Redis down or hung
    never holds a probe or a worker's heartbeat thread for long."""
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def heartbeat_record(client: redis.Redis, *, worker: str) -> None:
    client.eval(_RECORD_SCRIPT, 1, HEARTBEATS_KEY, worker, FORGET_AFTER_SECONDS)


def heartbeat_forget(client: redis.Redis, *, worker: str) -> None:
    client.zrem(HEARTBEATS_KEY, worker)


def heartbeats_read(client: redis.Redis) -> list[tuple[str, float]]:
    """(worker, seconds since its last beat) of the workers heard from in the last day, most recent first."""
    pipeline = client.pipeline(transaction=False)
    pipeline.time()
    pipeline.zrevrange(HEARTBEATS_KEY, 0, 99, withscores=True)
    (seconds, microseconds), entries = pipeline.execute()
    now = seconds + microseconds / 1_000_000
    return [(name.decode(), max(0.0, now - score)) for name, score in entries]


class WorkerHeartbeat:
    """The thread that beats for one worker, started and stopped with it (HeartbeatStep)."""

    def __init__(self, *, worker: str, url: str, interval: float):
        self.worker, self.url, self.interval = worker, url, interval
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.client: redis.Redis | None = None

    def start(self) -> None:
        self.client = redis_client(self.url)
        self.thread = threading.Thread(target=self._run, name="uprtrax-heartbeat", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """A proper stop says so at once: /readyz need not wait for the heartbeat to age."""
        self.stopping.set()
        if self.thread is None:
            return
        self.thread.join(timeout=5)
        self.thread = None
        try:
            heartbeat_forget(self.client, worker=self.worker)
        except redis.RedisError as exc:
            logger.warning("Could not remove the heartbeat of %s: %s", self.worker, exc)
        self.client.close()

    def _run(self) -> None:
        failing = False
        while not self.stopping.is_set():
            try:
                heartbeat_record(self.client, worker=self.worker)
            except redis.RedisError as exc:
                if not failing:  # once per outage, not every few seconds
                    logger.warning("Heartbeat of %s not recorded (%s): /readyz takes it for dead", self.worker, exc)
                failing = True
            else:
                if failing:
                    logger.info("Worker heartbeat recorded again for %s", self.worker)
                failing = False
            self.stopping.wait(self.interval)


class HeartbeatStep(bootsteps.StartStopStep):
    """Bootstep of every worker (uprtrax/celery.py adds it): beats once the pool has started, stops with the worker,
    warm or cold. Left out where there is no Redis to beat to."""

    label = "uprtrax heartbeat"
    requires = {"celery.worker.components:Pool"}

    def include_if(self, worker) -> bool:
        return heartbeat_redis_url() is not None

    def create(self, worker) -> WorkerHeartbeat:
        return WorkerHeartbeat(
            worker=worker.hostname, url=heartbeat_redis_url(), interval=settings.WORKER_HEARTBEAT_SECONDS
        )
