"""Preparing a session: its states' previous review, what they received and how far it was implemented."""

import datetime

import pytest
from django.urls import reverse

from followup.models import Assessment
from followup.status import implementation_status_refresh
from recommendations.models import Recommendation
from reviews.models import Session, State
from reviews.selectors import session_next, session_preparation
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db
S = Assessment.Status


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


def _session(number: int) -> Session:
    return Session.objects.get(number=number)


@pytest.fixture
def reviews():
    """Kenya reviewed in sessions 21 and 35; Chile only in 35 (no earlier review); both in session 35."""
    old = ReviewFactory(state=_state("KEN"), session=_session(21))
    recs = [RecommendationFactory(review=old, text=f"Kenya old {n}") for n in range(4)]
    recs[3].response = Recommendation.Response.NOTED
    recs[3].save()
    for rec, status in zip(recs[:3], (S.FULLY_IMPLEMENTED, S.NOT_IMPLEMENTED, S.NO_INFORMATION), strict=True):
        AssessmentFactory(recommendation=rec, organisation=OrganisationFactory(name=f"Org {rec.pk}"), status=status)
    implementation_status_refresh()
    ReviewFactory(state=_state("KEN"), session=_session(35))
    ReviewFactory(state=_state("CHL"), session=_session(35))
    return old


def test_each_state_shows_its_previous_review_and_its_implementation(reviews):
    prepared = session_preparation(session=_session(35))
    assert prepared["source"] == "recorded"
    rows = {row["state"].iso3: row for row in prepared["rows"]}
    kenya = rows["KEN"]
    assert kenya["review"].session.number == 21
    assert (kenya["review"].n_total, kenya["review"].n_accepted, kenya["review"].n_noted) == (4, 3, 1)
    # fully (triggered) and not implemented are assessed; "no information" is not.
    assert (kenya["triggered"], kenya["assessed"], kenya["triggered_pct"], kenya["coverage_pct"]) == (1, 2, 50.0, 50.0)
    assert rows["CHL"]["review"] is None


def test_a_session_without_recorded_reviews_takes_the_states_of_the_previous_cycle(reviews):
    prepared = session_preparation(session=_session(49))  # 35 + 14: the same place, one cycle later
    assert prepared["source"] == "previous_cycle"
    assert {row["state"].iso3 for row in prepared["rows"]} == {"KEN", "CHL"}
    assert {row["state"].iso3: row["review"].session.number for row in prepared["rows"]} == {"KEN": 35, "CHL": 35}
    assert session_preparation(session=_session(3))["source"] == "unknown"


def test_page_links_each_figure_and_bounds_its_queries(client, reviews, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        response = client.get(reverse("reviews:session_prepare", kwargs={"number": 35}))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'href="/recommendations/?sur=KEN&amp;session=21"' in body
    assert "No earlier review recorded" in body
    assert "50.0%" in body


def test_next_session_is_the_first_ahead_or_says_none_is_known(client, reviews):
    future = _session(54)
    future.start_date, future.end_date = datetime.date(2027, 1, 18), datetime.date(2027, 1, 29)
    future.save()
    assert session_next(today=datetime.date(2026, 11, 28)) == future
    response = client.get(reverse("reviews:session_next"))
    assert response.status_code == 302 and response["Location"].endswith("/sessions/54/prepare/")
    Session.objects.filter(start_date__gt=datetime.date(2026, 11, 28)).update(start_date=None, end_date=None)
    Session.objects.filter(year__gte=2026).update(year=2020)
    assert session_next(today=datetime.date(2026, 11, 28)) is None
    assert client.get(reverse("reviews:session_next")).status_code == 404


@pytest.mark.parametrize("url", ["/sessions/999/prepare/", "/sessions/0/prepare/", "/sessions/99999999999/prepare/"])
def test_unknown_session_is_a_404(client, url):
    assert client.get(url).status_code == 404


def test_cycle_page_lists_its_sessions_with_counts(client, reviews, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # the cycle, its sessions, states reviewed and recommendations by session
        response = client.get(reverse("reviews:cycle_detail", kwargs={"number": 2}))
    assert response.status_code == 200
    cycle = response.context["cycle"]
    assert [s.number for s in cycle.sessions_counted] == list(range(13, 27))
    assert (cycle.n_reviews, cycle.tally.total, cycle.tally.accepted) == (1, 4, 3)
    assert 'href="/recommendations/?cycle=2"' in response.content.decode()
    assert client.get("/cycles/9/").status_code == 404
    assert client.get("/sessions/").content.decode().count('href="/cycles/') == 5  # the four cycles and their list
