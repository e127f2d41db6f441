"""The fault scenarios of bench/faults.py at a small size: a real gunicorn, Celery worker and beat on their own
PostgreSQL cluster and redis-server (loopback, free ports, a temporary folder), while Redis stops, a worker is killed
in the middle of an import and of a statistics recompute, and PostgreSQL restarts. One implementation: these tests
run the benchmark's scenario functions, which check that nothing is lost (counts before and after) and that the jobs
end marked and run again.

Selected with `-m faults`, left out with `-m "not faults"`; about a minute and a half together. Skipped where
PostgreSQL's or Redis's server programs are missing, except under CI, where that is an error.
"""

import os

import pytest

from tests.bench import bench_module

faults = bench_module("faults")

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def environment():
    """The PostgreSQL cluster and its template database (about 15 s), shared by the scenarios of this module."""
    missing = faults.services_missing()
    if missing:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI runs the fault scenarios, but {missing}", pytrace=False)
        pytest.skip(missing)
    with faults.Environment(faults.SMALL) as environment:
        yield environment


@pytest.mark.parametrize("scenario", faults.SCENARIOS)
def test_the_fault_scenario_ends_with_nothing_lost_and_its_jobs_done(environment, scenario):
    outcome = faults.scenario_run(environment, scenario)
    assert outcome.passed, outcome.report()
    assert len(outcome.checks) >= 5, outcome.report()  # every check ran, not only the first
