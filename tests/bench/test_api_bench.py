"""The API benchmark's harness (bench/api.py) against a small factory-made database, so that it cannot rot: every
URL it measures answers, and a cursor it builds for a deep position starts the page at the row after it."""

import io

import pytest
from django.core.cache import cache

from reviews.models import Session, State
from tests.bench import bench_module
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db


bench = bench_module("api")


@pytest.fixture
def data():
    """Reviews of three states in four sessions, with recommendations assessed by two organisations."""
    big, small = OrganisationFactory(slug="big-one"), OrganisationFactory(slug="small-one")
    for iso3, session in (("FRA", 20), ("KEN", 20), ("FRA", 54), ("TLS", 3)):
        review = ReviewFactory(state=State.objects.get(iso3=iso3), session=Session.objects.get(number=session))
        for n in range(4):
            rec = RecommendationFactory(review=review, response="noted" if n % 2 else "accepted")
            AssessmentFactory(recommendation=rec, organisation=big, status="fully_implemented")
            if n == 0:
                AssessmentFactory(recommendation=rec, organisation=small)


@pytest.fixture(autouse=True)
def _no_throttle_history():
    cache.clear()  # the rate limits count in the cache: none of another test's requests


def test_every_url_of_the_benchmark_answers(client, data):
    picks = bench.picks()
    assert (picks["org_big"], picks["org_small"]) == ("big-one", "small-one")
    urls = bench.first_pages(picks)
    results = [bench.measure_url(client, label, url, runs=1) for label, url in urls]
    refused = {m.label: sorted({run.status for run in m.runs}) for m in results if not m.ok}
    # No statistics computed in this database; and too few matches here for a fifth page of a ranked search.
    allowed = {"statistics": [503], "recommendations: torture, by relevance, page 5": [404]}
    assert {label: refused[label] for label in refused if allowed.get(label) != refused[label]} == {}


def test_deep_cursors_start_after_their_position(client, data, monkeypatch):
    monkeypatch.setattr(bench, "DEPTH_PAGES", 2)
    monkeypatch.setattr(bench, "PAGE_SIZE", 3)
    measured, wrong = bench.deep_pages(client, 1, "", io.StringIO())
    assert wrong == []
    assert len(measured) >= len(bench.DEEP)
    assert all(m.ok for m in measured)
