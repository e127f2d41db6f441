"""The statistics' SQL (followup/statistics.py) against a plain Python reading of DOMAIN.md's definitions, on random
small data sets (hypothesis), for every rule, phase and breakdown."""

import datetime
import itertools
from collections import Counter, defaultdict

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from followup.models import Assessment, Organisation
from followup.statistics import BREAKDOWNS, PHASES, RULES, figures, statistics_compute
from recommendations.models import Issue, Recommendation
from reviews.models import Review, Session, State
from tests.factories import OrganisationFactory, RecommendationFactory

pytestmark = pytest.mark.django_db

LEVELS = ("not_implemented", "partially_implemented", "fully_implemented")
STATUSES = (*LEVELS, "no_information")
REVIEWS = (("FRA", 15), ("KEN", 20), ("BRA", 28))  # three regions, two cycles
RECOMMENDING = ("DEU", "NOR", "SEN", "CHN", "ARG")  # DEU and NOR: one regional group
ISSUES = ("Women's rights", "Torture and other CID treatment", "Rights of the Child")
ORGANISATIONS = (("cso", "CSO one"), ("cso", "CSO two"), ("cso", "CSO three"), ("nhri", "NHRI"),
                 ("un_agency", "UN agency"), ("state", "The state"))  # fmt: skip

recommendation = st.fixed_dictionaries({
    "review": st.integers(0, len(REVIEWS) - 1),
    "pledge": st.booleans(),
    "response": st.sampled_from(["accepted", "noted"]),
    "action": st.one_of(st.none(), st.integers(1, 5)),
    "issues": st.sets(st.integers(0, len(ISSUES) - 1)),
    "recommending": st.sets(st.integers(0, len(RECOMMENDING) - 1), max_size=3),
})  # fmt: skip
assessment = st.fixed_dictionaries({
    "rec": st.integers(0, 3),  # few recommendations for many assessments: ties and disagreements are common
    "org": st.integers(0, len(ORGANISATIONS) - 1),
    "phase": st.sampled_from(["mid_term", "next_review"]),
    "status": st.sampled_from((*LEVELS, *STATUSES)),  # "no information" less often
    "visibility": st.sampled_from(["public"] * 6 + ["organisation", "draft"]),  # most count
    "gone": st.sampled_from([None] * 6 + ["deleted", "hidden"]),
    "day": st.integers(0, 3),
})  # fmt: skip


def _deciding(rows: list[dict], rule: str) -> list[dict]:
    """The assessments a rule reads: "no information" says nothing; non_state leaves the state's own out."""
    return [r for r in rows if r["status"] != "no_information" and (rule != "non_state" or r["kind"] != "state")]


def _consolidated(rows: list[dict], rule: str) -> int | None:
    """DOMAIN.md's rule over one recommendation's counted assessments: a level 0-2, or None (not assessed)."""
    rows = _deciding(rows, rule)
    if not rows:
        return None
    levels = [LEVELS.index(r["status"]) for r in rows]
    if rule == "lowest":
        return min(levels)
    if rule == "highest":
        return max(levels)
    if rule == "latest":
        latest = max(r["day"] for r in rows)
        return min(LEVELS.index(r["status"]) for r in rows if r["day"] == latest)
    counts = Counter(levels)
    most = max(counts.values())
    return min(level for level, n in counts.items() if n == most)  # a tie goes to the lower status


def _reference(
    recs: list[dict], assessments: list[dict], *, phase: str, rule: str, include_pledges: bool, cycle: int | None = None
) -> dict:
    counted = defaultdict(list)
    for a in assessments:
        if a["phase"] == phase and a["visibility"] == "public" and a["gone"] is None:
            counted[a["rec"]].append(a)
    groups: dict[str, dict[str, list[int | None]]] = {name: defaultdict(list) for name in ("overall", *BREAKDOWNS)}
    used: dict[int, list[dict]] = {}
    for index, rec in enumerate(recs):
        if (rec["pledge"] and not include_pledges) or cycle not in (None, rec["cycle"]):
            continue
        level = _consolidated(counted[index], rule)
        used[index] = _deciding(counted[index], rule)
        iso3, session = REVIEWS[rec["review"]]
        keys = {
            "overall": [""],
            "response": ["not_applicable" if rec["pledge"] else rec["response"]],
            "action_category": [str(rec["action"]) if rec["action"] else "none"],
            "issue": [ISSUES[i] for i in rec["issues"]],
            "sur_region": [rec["sur_region"]],
            "sur_state": [iso3],
            "recommending_state": [RECOMMENDING[i] for i in rec["recommending"]],
            "recommending_region": sorted({rec["regions"][i] for i in rec["recommending"]}),
            "cycle": [str(rec["cycle"])],
            "session": [str(session)],
        }
        for name, values in keys.items():
            for value in values:
                groups[name][value].append(level)

    def figures_of(levels: list[int | None]) -> dict:
        assessed = [level for level in levels if level is not None]
        return figures(len(levels), len(assessed), *(assessed.count(n) for n in range(3)))

    by = {name: {value: figures_of(levels) for value, levels in groups[name].items()} for name in BREAKDOWNS}
    overall = figures_of(groups["overall"][""]) if groups["overall"] else figures(0, 0, 0, 0, 0)
    inputs = {"recommendations": overall["recommendations"], "assessments": sum(len(v) for v in used.values())}
    return {"overall": overall, "by": by, "inputs": inputs}


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(recs=st.lists(recommendation, min_size=1, max_size=6), assessments=st.lists(assessment, min_size=4, max_size=40))
def test_sql_figures_equal_the_definitions_for_every_rule_phase_and_breakdown(recs, assessments):
    with transaction.atomic():
        reviews = [
            Review.objects.get_or_create(state=State.objects.get(iso3=iso3), session=Session.objects.get(number=n))[0]
            for iso3, n in REVIEWS
        ]
        organisations = [OrganisationFactory(name=name, slug=name.lower().replace(" ", "-"), kind=kind,
                                             country=State.objects.get(iso3="FRA") if kind == "state" else None)
                         for kind, name in ORGANISATIONS]  # fmt: skip
        states = {s.iso3: s for s in State.objects.filter(iso3__in=RECOMMENDING).select_related("regional_group")}
        stored = []
        for rec in recs:
            review = reviews[rec["review"]]
            stored.append(RecommendationFactory(
                review=review,
                kind=Recommendation.Kind.VOLUNTARY_PLEDGE if rec["pledge"] else Recommendation.Kind.RECOMMENDATION,
                response="" if rec["pledge"] else rec["response"], action_category=rec["action"],
                issues=[Issue.objects.get(name=ISSUES[i]) for i in rec["issues"]],
                recommending_states=[states[RECOMMENDING[i]] for i in rec["recommending"]],
            ))  # fmt: skip
            rec["sur_region"] = review.state.regional_group.code
            rec["cycle"] = review.session.cycle.number
            rec["regions"] = {i: states[RECOMMENDING[i]].regional_group.code for i in range(len(RECOMMENDING))}
        seen = set()
        kept = []
        for a in assessments:
            a["rec"] %= len(recs)
            if (a["rec"], a["org"], a["phase"]) in seen:
                continue  # one per organisation, recommendation and phase
            seen.add((a["rec"], a["org"], a["phase"]))
            a["kind"] = ORGANISATIONS[a["org"]][0]
            kept.append(a)
            Assessment.objects.create(
                recommendation=stored[a["rec"]], organisation=organisations[a["org"]], phase=a["phase"],
                status=a["status"], visibility=a["visibility"], assessed_on=datetime.date(2016, 1, 1 + a["day"]),
                deleted_at=datetime.datetime(2017, 1, 1, tzinfo=datetime.UTC) if a["gone"] == "deleted" else None,
                hidden_at=datetime.datetime(2017, 1, 1, tzinfo=datetime.UTC) if a["gone"] == "hidden" else None,
                hidden_reason="Off topic" if a["gone"] == "hidden" else "",
            )  # fmt: skip
        cycles = {
            include: sorted({r["cycle"] for r in recs if include or not r["pledge"]}) for include in (False, True)
        }
        for rule, phase, pledges, portable in itertools.product(RULES, PHASES, (False, True), (False, True)):
            # PostgreSQL's statement (arrays, grouping sets) and the portable one SQLite runs
            computed = statistics_compute(phase=phase, rule=rule, include_pledges=pledges, portable=portable)
            case = (rule, phase, pledges, portable)
            _assert_same(computed, _reference(recs, kept, phase=phase, rule=rule, include_pledges=pledges), case)
            assert set(computed["cycles"]) == {str(c) for c in cycles[pledges]}, case
            for cycle in cycles[pledges]:
                expected = _reference(recs, kept, phase=phase, rule=rule, include_pledges=pledges, cycle=cycle)
                _assert_same(computed["cycles"][str(cycle)], expected, (*case, cycle))
        transaction.set_rollback(True)


def _assert_same(computed: dict, expected: dict, case: tuple) -> None:
    assert computed["overall"] == expected["overall"], case
    assert computed["inputs"] == expected["inputs"], case
    for name in BREAKDOWNS:
        assert computed["by"][name] == expected["by"][name], (*case, name)
        assert list(computed["by"][name]) == sorted(computed["by"][name], key=_order_key(name)), (*case, name)


def _order_key(name: str):
    if name in ("cycle", "session", "action_category"):
        return lambda key: (1, 0) if key == "none" else (0, int(key))
    if name == "response":
        return ["accepted", "noted", "pending", "not_applicable"].index
    return lambda key: key


def test_the_organisation_kinds_cover_the_reference_cast():
    assert {kind for kind, _ in ORGANISATIONS} <= set(Organisation.Kind.values)


def test_unknown_rule_or_phase_is_refused():
    with pytest.raises(ValueError, match="Unknown rule"):
        statistics_compute(rule="median")
    with pytest.raises(ValueError, match="Unknown phase"):
        statistics_compute(phase="final")


def test_a_tie_goes_to_the_lower_status_and_no_information_says_nothing():
    review = Review.objects.create(state=State.objects.get(iso3="KEN"), session=Session.objects.get(number=20))
    rec = RecommendationFactory(review=review)
    silent = RecommendationFactory(review=review)
    for name, status in (("A", "fully_implemented"), ("B", "not_implemented"), ("C", "no_information")):
        organisation = OrganisationFactory(name=name, slug=name.lower())
        Assessment.objects.create(recommendation=rec, organisation=organisation, status=status,
                                  assessed_on="2016-01-01", visibility="public")  # fmt: skip
    Assessment.objects.create(recommendation=silent, organisation=organisation, status="no_information",
                              assessed_on="2016-01-01", visibility="public")  # fmt: skip
    overall = statistics_compute()["overall"]
    assert (overall["recommendations"], overall["assessed"], overall["not_implemented"]) == (2, 1, 1)
    assert (overall["triggered_action_pct"], overall["coverage_pct"]) == (0.0, 50.0)
    assert statistics_compute(rule="highest")["overall"]["fully_implemented"] == 1
