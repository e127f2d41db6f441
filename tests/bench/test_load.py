"""The load test's short version (bench/load.py at a small size): a real gunicorn with the production settings and
configuration (docker/gunicorn.conf.py), a Celery worker, PostgreSQL and Redis on loopback, and concurrent clients on
the mix of search, state pages, recommendation pages and the API. Checks that everything answers without an error;
the figures (throughput, latency) are the benchmark's to measure on a quiet machine, not a test's."""

import pytest
from django.conf import settings
from django.db import connection

from followup.snapshots import statistics_recompute
from followup.status import implementation_status_refresh
from recommendations.dataset import dataset_generate
from tests.bench import bench_module

load = bench_module("load")


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.usefixtures("committed_db")
def test_the_mix_is_served_without_an_error_under_concurrent_clients():
    dataset_generate(recommendations=600, assessments=1200, seed=3)
    implementation_status_refresh()
    statistics_recompute()
    database = _database_url()
    mix = load.request_mix(database, size=400)
    assert {kind for kind, _ in mix} == set(load.SHARES)
    redis = settings.REDIS_URL.rsplit("/", 1)[0] + "/14"
    with load.stack(database, redis) as server:
        samples = load.load_run(server.base, mix, clients=8, seconds=6, warmup=4)
    overall = load.figures(samples, 6)
    failed = [(s.kind, s.status, s.error) for s in samples if s.status == 0 or s.status >= 400]
    assert failed == []
    assert overall.requests >= 30  # the server answered all along, not once
    assert {s.kind for s in samples} == set(load.SHARES)
