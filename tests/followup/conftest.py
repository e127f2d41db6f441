import pytest

from tests.factories import RecommendationFactory, ReviewFactory


@pytest.fixture
def recommendation():
    """A recommendation to France (session 15), open for mid-term assessments on tests.followup.cast.DAY."""
    return RecommendationFactory(review=ReviewFactory(), text="Ratify the Optional Protocol to the CAT")
