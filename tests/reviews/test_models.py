"""Database constraints of states, aliases, cycles, sessions and reviews."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from reviews.models import Cycle, Review, Session, State, StateAlias

pytestmark = pytest.mark.django_db


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


def _session(number: int) -> Session:
    return Session.objects.get(number=number)


def test_review_without_state_is_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(session=_session(15))


def test_review_without_session_is_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(state=_state("FRA"))


def test_second_review_of_a_state_in_the_same_session_is_rejected():
    Review.objects.create(state=_state("FRA"), session=_session(15))
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(state=_state("FRA"), session=_session(15))
    Review.objects.create(state=_state("FRA"), session=_session(29))  # another session is fine


def test_report_symbol_is_unique_whatever_its_case_but_may_be_empty_many_times():
    Review.objects.create(state=_state("FRA"), session=_session(15), report_symbol="A/HRC/23/3")
    Review.objects.create(state=_state("BRA"), session=_session(13))
    Review.objects.create(state=_state("DEU"), session=_session(16))  # two empty symbols
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(state=_state("TGO"), session=_session(12), report_symbol="a/hrc/23/3")


def test_review_mid_term_date_falls_two_and_a_half_years_after_adoption_or_session_end():
    review = Review(state=_state("FRA"), session=_session(29))
    assert review.mid_term_date == datetime.date(2018, 1, 26) + datetime.timedelta(days=913)
    review.adoption_date = datetime.date(2018, 6, 29)
    assert review.mid_term_date == datetime.date(2020, 12, 28)
    assert Review(state=_state("FRA"), session=_session(15)).mid_term_date is None  # no dates known


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime.date(2030, 1, 10), None),
        (None, datetime.date(2030, 1, 21)),
        (datetime.date(2030, 1, 21), datetime.date(2030, 1, 10)),
    ],
)
def test_session_dates_must_be_both_or_none_and_in_order(start, end):
    cycle = Cycle.objects.get(number=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.create(number=60, cycle=cycle, year=2030, start_date=start, end_date=end)


def test_session_with_no_dates_or_ordered_dates_is_accepted():
    cycle = Cycle.objects.get(number=4)
    Session.objects.create(number=60, cycle=cycle, year=2030)
    Session.objects.create(
        number=61, cycle=cycle, year=2030, start_date=datetime.date(2030, 5, 6), end_date=datetime.date(2030, 5, 17)
    )
    assert Session.objects.filter(number__gte=60).count() == 2


def test_session_number_is_unique_and_positive():
    cycle = Cycle.objects.get(number=4)
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.create(number=20, cycle=cycle, year=2030)
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.create(number=0, cycle=cycle, year=2030)


def test_cycle_cannot_end_before_it_starts():
    with pytest.raises(IntegrityError), transaction.atomic():
        Cycle.objects.create(number=9, start_date=datetime.date(2030, 1, 1), end_date=datetime.date(2029, 1, 1))
    Cycle.objects.create(number=9, start_date=datetime.date(2030, 1, 1))  # open-ended is fine


@pytest.mark.parametrize("iso3", ["fra", "F1A", "AB", "X-Y"])
def test_state_iso3_must_be_three_capital_letters(iso3):
    group = _state("FRA").regional_group
    with pytest.raises(IntegrityError), transaction.atomic():
        State.objects.create(iso3=iso3, name="Testland", short_name="Testland", regional_group=group)


def test_state_alias_normal_form_is_set_on_save_and_unique_across_states():
    alias = StateAlias.objects.create(state=_state("FRA"), name="  La  République Française! ")
    assert alias.normalised == "la republique francaise"
    with pytest.raises(IntegrityError), transaction.atomic():
        StateAlias.objects.create(state=_state("BEL"), name="LA REPUBLIQUE FRANCAISE")
    with pytest.raises(IntegrityError), transaction.atomic():
        StateAlias.objects.create(state=_state("GBR"), name="Cote d'Ivoire")  # already Côte d'Ivoire's


def test_state_alias_bulk_created_with_a_duplicate_normal_form_is_rejected():
    with pytest.raises(IntegrityError), transaction.atomic():
        StateAlias.objects.bulk_create([StateAlias(state=_state("SWZ"), name="Swazi land", normalised="swaziland")])
