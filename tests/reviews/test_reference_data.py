"""The reference data loaded into every database: complete, consistent with the real UPR files, idempotent."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db.models import Count, Max, Min, Q

from recommendations.models import Issue
from reviews.models import Cycle, IntergovernmentalOrganisation, RegionalGroup, Session, State, StateAlias
from reviews.names import normalise_name
from reviews.selectors import state_index
from reviews.services import reference_data_load

pytestmark = pytest.mark.django_db

UNKNOWN_PLACEHOLDER = "&#40;Unknown&#41;"
UN_GROUP_CODES = {
    "African Group": "Africa",
    "Asia-Pacific Group": "Asia",
    "Eastern European Group": "EEG",
    "GRULAC": "GRULAC",
    "WEOG": "WEOG",
}
# States whose organisations today differ from what UPR Info's files (2008–2014) say, and why.
ORGANISATION_CHANGES_SINCE_UPR_INFO = {
    "AND": "joined the OEI",
    "ARE": "OIF associate member since 2010",
    "BFA": "left the OIF in 2025",
    "GAB": "joined the Commonwealth in 2022",
    "GBR": "left the EU in 2020",
    "MAR": "rejoined the AU in 2017",
    "MLI": "left the OIF in 2025",
    "NER": "left the OIF in 2025",
    "NIC": "left the OAS in 2023",
    "QAT": "OIF associate member since 2012",
    "SRB": "OIF associate member, not listed by UPR Info",
    "SSD": "UPR Info's session-11 'South Sudan' rows are Sudan's review, with Sudan's organisations",
    "TGO": "joined the Commonwealth in 2022",
    "TLS": "joined ASEAN in 2025",
    "UKR": "stopped taking part in the CIS in 2018",
    "VEN": "left the OAS in 2019",
}
KNOWN_SESSION_DATES = {
    1: ("2008-04-07", "2008-04-18"),
    2: ("2008-05-05", "2008-05-16"),
    4: ("2009-02-02", "2009-02-13"),
    5: ("2009-05-04", "2009-05-15"),
    6: ("2009-11-30", "2009-12-11"),
    14: ("2012-10-22", "2012-11-05"),
    17: ("2013-10-21", "2013-11-01"),
    20: ("2014-10-27", "2014-11-07"),
    21: ("2015-01-19", "2015-01-30"),
    29: ("2018-01-15", "2018-01-26"),
    40: ("2022-01-24", "2022-02-03"),
}


def _upr_info_state_names(rows) -> set[str]:
    return {row[side] for row in rows for side in ("To", "From")} - {UNKNOWN_PLACEHOLDER}


def _database_dump() -> dict[str, list]:
    return {
        "groups": list(RegionalGroup.objects.order_by("code").values_list()),
        "states": list(State.objects.order_by("iso3").values_list()),
        "aliases": list(StateAlias.objects.order_by("normalised").values_list()),
        "organisations": list(IntergovernmentalOrganisation.objects.order_by("acronym").values_list()),
        "memberships": list(State.organisations.through.objects.order_by("id").values_list()),
        "cycles": list(Cycle.objects.order_by("number").values_list()),
        "sessions": list(Session.objects.order_by("number").values_list()),
        "issues": list(Issue.objects.order_by("name").values_list()),
    }


# --- States and groups ------------------------------------------------------------------------------------------


def test_reference_data_holds_193_member_states_and_2_observers():
    counts = State.objects.aggregate(
        members=Count("id", filter=Q(status=State.Status.MEMBER)),
        observers=Count("id", filter=Q(status=State.Status.OBSERVER)),
    )
    assert counts == {"members": 193, "observers": 2}
    assert set(State.objects.filter(status=State.Status.OBSERVER).values_list("iso3", flat=True)) == {"VAT", "PSE"}


def test_each_regional_group_holds_the_expected_number_of_states():
    counts = dict(RegionalGroup.objects.annotate(n=Count("states")).values_list("code", "n"))
    # Turkey counted in WEOG; the Holy See filed under WEOG, the State of Palestine under Asia-Pacific.
    assert counts == {"Africa": 54, "Asia": 55, "EEG": 23, "GRULAC": 33, "WEOG": 30}
    assert dict(RegionalGroup.objects.values_list("code", "name")) == {
        "Africa": "African Group",
        "Asia": "Asia-Pacific Group",
        "EEG": "Eastern European Group",
        "GRULAC": "Latin American and Caribbean Group",
        "WEOG": "Western European and other States Group",
    }


def test_disputed_group_placements_follow_the_documented_choices():
    groups = dict(
        State.objects.filter(iso3__in=["TUR", "KIR", "PSE", "VAT", "CYP", "USA"]).values_list(
            "iso3", "regional_group__code"
        )
    )
    assert groups == {"TUR": "WEOG", "KIR": "Asia", "PSE": "Asia", "VAT": "WEOG", "CYP": "Asia", "USA": "WEOG"}


def test_states_carry_un_official_and_short_names():
    names = dict(State.objects.filter(iso3__in=["BOL", "PRK", "COD", "GBR"]).values_list("iso3", "name"))
    short = dict(State.objects.filter(iso3__in=["BOL", "PRK", "COD", "GBR"]).values_list("iso3", "short_name"))
    assert names["BOL"] == "Plurinational State of Bolivia"
    assert names["PRK"] == "Democratic People's Republic of Korea"
    assert short == {
        "BOL": "Bolivia",
        "PRK": "Democratic People's Republic of Korea",
        "COD": "Democratic Republic of the Congo",
        "GBR": "United Kingdom",
    }


def test_every_state_is_an_alias_of_itself_by_code_name_and_short_name():
    index = state_index()
    for state in State.objects.all():
        for form in (state.iso3, state.name, state.short_name):
            assert index[normalise_name(form)] == state.pk, form


def test_common_name_forms_resolve_to_the_right_state():
    index = state_index()
    ids = dict(State.objects.values_list("iso3", "id"))
    expected = {
        "Türkiye": "TUR", "Turkey": "TUR", "Czechia": "CZE", "Czech Republic": "CZE", "North Macedonia": "MKD",
        "Eswatini": "SWZ", "Cabo Verde": "CPV", "Cape Verde": "CPV", "Ivory Coast": "CIV", "UK": "GBR",
        "USA": "USA", "Russia": "RUS", "Viet Nam": "VNM", "Vietnam": "VNM", "Brunei": "BRN", "Moldova": "MDA",
        "Tanzania": "TZA", "Venezuela": "VEN", "Gambia": "GMB", "The Gambia": "GMB", "Bahamas": "BHS",
        "The Bahamas": "BHS", "Korea, Republic of": "KOR", "South Korea": "KOR", "North Korea": "PRK",
        "Libyan Arab Jamahiriya": "LBY", "Holy See": "VAT", "Palestine": "PSE", "Congo": "COG",
    }  # fmt: skip
    assert {name: index.get(normalise_name(name)) for name in expected} == {
        name: ids[iso3] for name, iso3 in expected.items()
    }


# --- Against the real files -------------------------------------------------------------------------------------


def test_every_state_name_in_upr_info_files_resolves_to_exactly_one_state(upr_info_rows):
    index = state_index()
    names = _upr_info_state_names(upr_info_rows)
    unresolved = sorted(name for name in names if normalise_name(name) not in index)
    assert unresolved == []
    # 193 states under review and the two observers among the recommending states, each under one or more names.
    assert len({index[normalise_name(name)] for name in names}) == 195


def test_unknown_placeholder_in_upr_info_files_resolves_to_no_state(upr_info_rows):
    assert sum(row["From"] == UNKNOWN_PLACEHOLDER for row in upr_info_rows) == 9
    assert normalise_name(UNKNOWN_PLACEHOLDER) not in state_index()


def test_regional_groups_agree_with_upr_info_files_save_for_observers(upr_info_rows):
    index = state_index()
    states = {state.pk: state for state in State.objects.select_related("regional_group")}
    disagreements = set()
    for row in upr_info_rows:
        for side in ("To", "From"):
            if row[side] == UNKNOWN_PLACEHOLDER:
                continue
            state = states[index[normalise_name(row[side])]]
            expected = "Observer" if state.status == State.Status.OBSERVER else state.regional_group.code
            if row[f"{side}-Rgrp"] != expected:
                disagreements.add((row[side], row[f"{side}-Rgrp"]))
    assert disagreements == set()


def test_organisation_sets_differ_from_upr_info_files_only_where_membership_changed(upr_info_rows):
    index = state_index()
    ours = {state.pk: set() for state in State.objects.all()}
    for state_id, acronym in State.organisations.through.objects.values_list(
        "state_id", "intergovernmentalorganisation__acronym"
    ):
        ours[state_id].add(acronym)
    iso3 = dict(State.objects.values_list("id", "iso3"))
    differing = set()
    for row in upr_info_rows:
        for side in ("To", "From"):
            if row[side] == UNKNOWN_PLACEHOLDER:
                continue
            state_id = index[normalise_name(row[side])]
            theirs = {acronym.strip() for acronym in row[f"{side}-Org"].split(",") if acronym.strip()}
            if theirs != ours[state_id]:
                differing.add(iso3[state_id])
    assert differing == set(ORGANISATION_CHANGES_SINCE_UPR_INFO)


def test_organisations_are_those_upr_info_names(upr_info_rows):
    used = {
        acronym.strip()
        for row in upr_info_rows
        for column in ("To-Org", "From-Org")
        for acronym in row[column].split(",")
        if acronym.strip() and row[column] != UNKNOWN_PLACEHOLDER
    }
    assert set(IntergovernmentalOrganisation.objects.values_list("acronym", flat=True)) == used
    assert used >= {"AU", "EU", "OIC", "OIF", "Commonwealth", "ASEAN", "OAS", "AL"}


def test_un_regional_groups_list_resolves_by_name_and_code_to_the_same_state_and_group(un_regional_groups_rows):
    index = state_index()
    states = {state.pk: state for state in State.objects.select_related("regional_group")}
    assert len({row["Code"] for row in un_regional_groups_rows}) == 193
    for row in un_regional_groups_rows:
        by_name = states[index[normalise_name(row["Name"])]]
        by_code = states[index[normalise_name(row["Code"])]]
        assert by_name == by_code, row
        assert by_name.iso3 == row["Code"], row
        if row["Code"] == "TUR":  # listed under both groups; we count it in WEOG
            assert by_name.regional_group.code == "WEOG"
        else:
            assert by_name.regional_group.code == UN_GROUP_CODES[row["Region"]], row


def test_issues_are_the_54_distinct_names_of_the_upr_info_files(upr_info_rows):
    in_files = {issue for row in upr_info_rows for issue in row["Issue"].split(",") if issue}
    assert len(in_files) == 54
    assert set(Issue.objects.values_list("name", flat=True)) == in_files
    assert Issue.objects.get(name="Women's rights").slug == "womens-rights"
    assert Issue.objects.values("slug").distinct().count() == 54


# --- Calendar ---------------------------------------------------------------------------------------------------


def test_four_cycles_group_their_sessions():
    ranges = {
        cycle.number: (cycle.first, cycle.last)
        for cycle in Cycle.objects.annotate(first=Min("sessions__number"), last=Max("sessions__number"))
    }
    assert ranges == {1: (1, 12), 2: (13, 26), 3: (27, 40), 4: (41, 54)}
    assert Cycle.objects.get(number=4).end_date is None
    assert Cycle.objects.get(number=1).start_date == datetime.date(2008, 4, 7)


def test_sessions_1_to_54_each_have_a_cycle_and_the_year_of_the_source_list(upr_session_years):
    sessions = {s.number: s for s in Session.objects.select_related("cycle")}
    assert sorted(sessions) == list(range(1, 55))
    assert {n: s.year for n, s in sessions.items() if n in upr_session_years} == upr_session_years


def test_sessions_have_the_dates_known_for_sure():
    dates = {
        n: (start.isoformat(), end.isoformat())
        for n, start, end in Session.objects.filter(number__in=KNOWN_SESSION_DATES).values_list(
            "number", "start_date", "end_date"
        )
    }
    assert dates == KNOWN_SESSION_DATES
    assert Session.objects.get(number=3).start_date is None  # sources disagree: left empty


def test_dated_sessions_fall_in_their_year_and_cycle():
    for session in Session.objects.select_related("cycle").exclude(start_date=None):
        assert session.start_date.year == session.year, session
        assert session.cycle.start_date <= session.start_date, session
        assert session.cycle.end_date is None or session.end_date <= session.cycle.end_date, session
        assert datetime.timedelta(days=9) <= session.end_date - session.start_date <= datetime.timedelta(days=16)


# --- Loading ----------------------------------------------------------------------------------------------------


def test_loading_reference_data_again_changes_nothing():
    before = _database_dump()
    counts = reference_data_load()
    assert set(counts) >= {"states_created", "states_updated", "state_aliases_created", "issues_created"}
    assert all(count == 0 for count in counts.values()), counts
    assert _database_dump() == before


def test_loading_reference_data_restores_what_was_changed_and_reports_it():
    france = State.objects.get(iso3="FRA")
    State.objects.filter(pk=france.pk).update(short_name="République française")
    StateAlias.objects.filter(normalised="swaziland").delete()
    france.organisations.add(IntergovernmentalOrganisation.objects.get(acronym="AU"))
    Session.objects.filter(number=20).update(start_date=None, end_date=None)

    counts = reference_data_load()

    assert counts["states_updated"] == 1
    assert counts["state_aliases_created"] == 1
    assert counts["memberships_deleted"] == 1
    assert counts["sessions_updated"] == 1
    assert sum(counts.values()) == 4
    assert State.objects.get(iso3="FRA").short_name == "France"
    assert not State.objects.get(iso3="FRA").organisations.filter(acronym="AU").exists()
    assert state_index()[normalise_name("Swaziland")] == State.objects.get(iso3="SWZ").pk
    assert Session.objects.get(number=20).start_date == datetime.date(2014, 10, 27)


def test_load_reference_data_command_reports_counts():
    out = io.StringIO()
    call_command("load_reference_data", stdout=out)
    assert "states_created: 0" in out.getvalue()
    assert "0 rows created, updated or deleted" in out.getvalue()
