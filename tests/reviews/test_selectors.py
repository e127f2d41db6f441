"""Resolving state names and session numbers as source data writes them."""

import pytest

from reviews.models import Session, State, StateAlias
from reviews.selectors import UnknownSession, UnknownState, session_get, state_index, state_resolve

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "iso3"),
    [
        ("fra", "FRA"),
        ("France", "FRA"),
        ("French Republic", "FRA"),
        ("  FRANCE ", "FRA"),
        ("Côte d’Ivoire", "CIV"),
        ("cote d'ivoire", "CIV"),
        ("CÔTE D’IVOIRE", "CIV"),
        ("Türkiye", "TUR"),
        ("turkiye", "TUR"),
        ("St. Kitts & Nevis", "KNA"),
        ("Saint Kitts and Nevis", "KNA"),
        ("DPR Korea", "PRK"),
        ("Macedonia FYR", "MKD"),
        ("Democratic Republic of Congo", "COD"),
        ("Republic of Congo", "COG"),
        ("São Tomé & Príncipe", "STP"),
        ("Swaziland", "SWZ"),
    ],
)
def test_state_resolve_accepts_codes_names_and_aliases_whatever_case_accents_and_punctuation(name, iso3):
    assert state_resolve(name=name).iso3 == iso3


def test_state_resolve_returns_the_state_with_its_group_in_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        state = state_resolve(name="Bosnia & Herzegovina")
        assert state.regional_group.code == "EEG"


def test_unknown_state_names_the_value_and_suggests_the_closest_states():
    with pytest.raises(UnknownState) as raised:
        state_resolve(name="Swaziand")
    assert str(raised.value).startswith('Unknown state "Swaziand". Did you mean: Eswatini (Swaziland), ')
    assert str(raised.value).endswith("?")


def test_unknown_state_suggests_a_state_whose_alias_contains_the_name():
    with pytest.raises(UnknownState, match=r"Did you mean: Saint Vincent and the Grenadines \("):
        state_resolve(name="St Vincent")


def test_unknown_state_suggests_both_koreas_for_an_ambiguous_name():
    with pytest.raises(UnknownState) as raised:
        state_resolve(name="Korea")
    message = str(raised.value)
    assert "Republic of Korea" in message
    assert "Democratic People's Republic of Korea" in message


def test_unknown_state_without_a_close_name_says_so():
    expected = r'^Unknown state "Atlantis Nova Prime"\. No known state has a close name\.$'
    with pytest.raises(UnknownState, match=expected):
        state_resolve(name="Atlantis Nova Prime")


@pytest.mark.parametrize("name", ["", "   ", "&#40;Unknown&#41;", "Unknown", "Kosovo", "Taiwan"])
def test_state_resolve_rejects_what_is_not_a_known_state(name):
    with pytest.raises(UnknownState):
        state_resolve(name=name)


def test_unknown_state_is_a_value_error_and_a_does_not_exist():
    with pytest.raises(UnknownState) as raised:
        state_resolve(name="Freedonia")
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, State.DoesNotExist)


def test_session_get_returns_the_session_with_its_cycle(django_assert_num_queries):
    with django_assert_num_queries(1):
        session = session_get(number=20)
        assert session.cycle.number == 2
    assert session.year == 2014


@pytest.mark.parametrize("number", [0, 55, 99])
def test_unknown_session_names_the_number_and_the_known_range(number):
    with pytest.raises(UnknownSession, match=rf"^Unknown session {number}: known sessions are 1–54\.$"):
        session_get(number=number)


def test_unknown_session_is_a_value_error_and_a_does_not_exist():
    with pytest.raises(UnknownSession) as raised:
        session_get(number=400)
    assert isinstance(raised.value, ValueError)
    assert isinstance(raised.value, Session.DoesNotExist)


def test_state_index_maps_every_alias_to_its_state():
    index = state_index()
    assert len(index) == StateAlias.objects.count()
    assert index["dpr korea"] == State.objects.get(iso3="PRK").pk
    assert index["usa"] == index["united states of america"] == State.objects.get(iso3="USA").pk


def test_state_index_is_cached_until_cleared(django_assert_num_queries):
    state_index.cache_clear()
    state_index()
    with django_assert_num_queries(0):
        state_index()
    StateAlias.objects.create(state=State.objects.get(iso3="FRA"), name="Hexagone")
    assert "hexagone" not in state_index()
    state_index.cache_clear()
    assert state_index()["hexagone"] == State.objects.get(iso3="FRA").pk
    state_index.cache_clear()  # the alias goes with this test's transaction
