"""Database constraints of recommendations and issues."""

import pytest
from django.db import IntegrityError, transaction

from recommendations.models import Issue, Recommendation
from reviews.models import Session
from tests.factories import RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db

Kind = Recommendation.Kind
Response = Recommendation.Response


def _recommendation(**fields) -> Recommendation:
    values = {"kind": Kind.RECOMMENDATION, "text": "Ratify the Convention", "response": Response.ACCEPTED} | fields
    values.setdefault("review", ReviewFactory())
    return Recommendation.objects.create(**values)


@pytest.mark.parametrize("category", [0, 6, 9])
def test_action_category_outside_1_to_5_is_rejected_by_the_database(category):
    with pytest.raises(IntegrityError), transaction.atomic():
        _recommendation(action_category=category)


@pytest.mark.parametrize("category", [None, 1, 2, 3, 4, 5])
def test_action_category_from_1_to_5_or_none_is_accepted(category):
    assert _recommendation(action_category=category).action_category == category


@pytest.mark.parametrize("response", [Response.ACCEPTED, Response.NOTED, Response.PENDING])
def test_recommendation_takes_an_answer_not_an_empty_response(response):
    _recommendation(response=response)
    with pytest.raises(IntegrityError), transaction.atomic():
        _recommendation(response=Response.NOT_APPLICABLE)


@pytest.mark.parametrize("response", [Response.ACCEPTED, Response.NOTED, Response.PENDING])
def test_voluntary_pledge_takes_no_response(response):
    _recommendation(kind=Kind.VOLUNTARY_PLEDGE, response=Response.NOT_APPLICABLE)
    with pytest.raises(IntegrityError), transaction.atomic():
        _recommendation(kind=Kind.VOLUNTARY_PLEDGE, response=response)


def test_response_outside_the_choices_is_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        _recommendation(response="supported")


def test_recommendation_text_may_not_be_empty():
    with pytest.raises(IntegrityError), transaction.atomic():
        _recommendation(text="")


def test_paragraph_is_cited_once_per_report_but_may_be_blank_many_times():
    review = ReviewFactory()
    _recommendation(review=review, paragraph_ref="136.12")
    _recommendation(review=review, paragraph_ref="")
    _recommendation(review=review, paragraph_ref="")
    other_review = ReviewFactory(session=Session.objects.get(number=16))
    _recommendation(review=other_review, paragraph_ref="136.12")
    with pytest.raises(IntegrityError), transaction.atomic():
        _recommendation(review=review, paragraph_ref="136.12")


def test_factory_recommendation_carries_its_states_and_issues():
    recommendation = RecommendationFactory()
    assert list(recommendation.recommending_states.values_list("iso3", flat=True)) == ["BRA"]
    assert list(recommendation.issues.values_list("name", flat=True)) == ["Torture and other CID treatment"]
    assert str(recommendation) == f"France – Session 15 #{recommendation.pk}"


def test_issue_name_and_slug_are_unique():
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.create(name="Women's rights", slug="womens-rights-2")
    with pytest.raises(IntegrityError), transaction.atomic():
        Issue.objects.create(name="Women's rights (2)", slug="womens-rights")
