"""A state's page as a diplomat reads it: as state under review and as recommending state, charts as tables."""

import pytest
from django.urls import reverse

from followup.models import Assessment
from followup.status import implementation_status_refresh
from recommendations.models import Issue, Recommendation
from reviews.models import Session, State
from reviews.selectors import state_profile
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db
S = Assessment.Status


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


@pytest.fixture
def world():
    france = ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=28))
    kenya = ReviewFactory(state=_state("KEN"), session=Session.objects.get(number=35))
    brazil = ReviewFactory(state=_state("BRA"), session=Session.objects.get(number=41))
    women = Issue.objects.get(name="Women's rights")
    to_france = [
        RecommendationFactory(review=france, recommending_states=[_state("DEU")], issues=[women], action_category=5),
        RecommendationFactory(
            review=france,
            recommending_states=[_state("DEU"), _state("KEN")],
            issues=[women],
            response=Recommendation.Response.NOTED,
            action_category=3,
        ),
    ]
    by_france = [
        RecommendationFactory(review=kenya, recommending_states=[_state("FRA")]),
        RecommendationFactory(
            review=kenya, recommending_states=[_state("FRA")], response=Recommendation.Response.NOTED
        ),
        RecommendationFactory(review=brazil, recommending_states=[_state("FRA")]),
    ]
    AssessmentFactory(
        recommendation=by_france[0], organisation=OrganisationFactory(name="A"), status=S.FULLY_IMPLEMENTED
    )
    AssessmentFactory(recommendation=to_france[0], organisation=OrganisationFactory(name="B"), status=S.NOT_IMPLEMENTED)
    implementation_status_refresh()
    return to_france, by_france


def _bars(bars) -> dict[str, tuple[int, str]]:
    return {bar.label: (bar.count, bar.query) for bar in bars}


def test_profile_as_state_under_review(world):
    received = state_profile(state=_state("FRA"))["received"]
    assert received["total"] == 2
    assert _bars(received["responses"]) == {"Accepted": (1, "sur=FRA&response=accepted"),
                                            "Noted": (1, "sur=FRA&response=noted")}  # fmt: skip
    assert _bars(received["statuses"]) == {"Not implemented": (1, "sur=FRA&status=not_implemented"),
                                           "Not assessed": (1, "sur=FRA&status=none")}  # fmt: skip
    assert _bars(received["issues"]) == {"Women's rights": (2, "sur=FRA&issue=womens-rights")}
    assert _bars(received["recommenders"]) == {"Germany": (2, "sur=FRA&from=DEU"), "Kenya": (1, "sur=FRA&from=KEN")}
    assert [bar.percent for bar in received["responses"]] == [50.0, 50.0]


def test_profile_as_recommending_state(world):
    made = state_profile(state=_state("FRA"))["made"]
    assert made["total"] == 3
    assert _bars(made["states"]) == {"Kenya": (2, "from=FRA&sur=KEN"), "Brazil": (1, "from=FRA&sur=BRA")}
    assert _bars(made["statuses"])["Fully implemented"] == (1, "from=FRA&status=fully_implemented")
    assert _bars(made["cycles"]) == {"Cycle 3": (2, "from=FRA&cycle=3"), "Cycle 4": (1, "from=FRA&cycle=4")}
    assert sum(bar.count for bar in made["regions"]) == 3


def test_every_figure_links_to_exactly_its_recommendations(client, world):
    body = client.get(reverse("reviews:state_detail", kwargs={"iso3": "FRA"})).content.decode()
    for query, expected in (("from=FRA&amp;sur=KEN", 2), ("sur=FRA&amp;status=none", 1), ("from=FRA&amp;cycle=4", 1)):
        assert f'href="/recommendations/?{query}"' in body
        assert client.get("/recommendations/?" + query.replace("&amp;", "&")).context["page"].total == expected
    assert "<caption>To whom (most)</caption>" in body


def test_state_page_queries_do_not_grow_with_the_data(client, world, django_assert_max_num_queries):
    review = world[0][0].review
    for n in range(30):
        RecommendationFactory(review=review, text=f"More {n}", recommending_states=[_state("SEN")])
    with django_assert_max_num_queries(21):
        assert client.get(reverse("reviews:state_detail", kwargs={"iso3": "FRA"})).status_code == 200
    with django_assert_max_num_queries(21):
        assert client.get(reverse("reviews:state_detail", kwargs={"iso3": "SEN"})).status_code == 200
