"""Reads for follow-up: the implementation statistics as the pages show them (from the latest snapshot); an
organisation's dashboard and export."""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Case, Count, Max, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Coalesce
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe

from followup import permissions
from followup.models import Assessment, Membership, Organisation, StatisticsSnapshot, User
from followup.snapshots import DEFAULT_PHASE, DEFAULT_RULE, UnknownFilter, cycle_check, snapshot_read
from followup.statistics import BREAKDOWNS, PHASES, RULES, figures
from recommendations.models import Issue, Recommendation
from reviews.models import Cycle, RegionalGroup, Review, State


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


# --- Implementation statistics: the latest snapshot (followup.snapshots), labelled for people ----------------------

STATISTICS_TABLES = ("overall", *BREAKDOWNS)  # the tables /statistics/<table>.csv exports
PHASE_LABELS = dict(Assessment.Phase.choices)
RULE_LABELS = dict(StatisticsSnapshot.Rule.choices)
RULE_DEFINITIONS = {
    "majority": "the status most stakeholders gave; a tie goes to the lower status (not implemented, then partially, "
    "then fully implemented).",
    "lowest": "the lowest status any stakeholder gave: the most cautious reading.",
    "highest": "the highest status any stakeholder gave: the most generous reading.",
    "latest": "the status of the latest assessment, by its date; of two on the same day, the lower.",
    "non_state": "the majority rule (a tie to the lower status) over the assessments of non-state stakeholders only: "
    "those of organisations of the kind “state” (a government reporting on itself) are left out.",
}


@dataclass(frozen=True)
class StatisticsFilters:
    """What the statistics pages show: a phase, a consolidation rule and a cycle (None: all cycles); `cycles` are
    the numbers of every cycle, for the form."""

    phase: str = DEFAULT_PHASE
    rule: str = DEFAULT_RULE
    cycle: int | None = None
    cycles: tuple[int, ...] = field(default=(), compare=False)

    @property
    def query(self) -> str:
        """The filters as a query string, each one named (for links to the CSV files and the methodology)."""
        return urlencode({"cycle": self.cycle or "all", "phase": self.phase, "rule": self.rule})

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]

    @property
    def rule_label(self) -> str:
        return RULE_LABELS[self.rule]

    @property
    def phase_choices(self):
        return PHASE_LABELS.items()

    @property
    def rule_choices(self):
        return RULE_LABELS.items()

    @property
    def by_phase(self) -> str:
        """The phase as the headline says it: "by mid-term", "by the next review"."""
        return "by mid-term" if self.phase == Assessment.Phase.MID_TERM else "by the next review"

    @property
    def cycle_label(self) -> str:
        return f"Cycle {self.cycle}" if self.cycle else "All cycles"

    def filename(self, table: str) -> str:
        cycle = f"cycle-{self.cycle}" if self.cycle else "all-cycles"
        return f"uprtrax-statistics-{table.replace('_', '-')}-{self.phase.replace('_', '-')}-{self.rule}-{cycle}.csv"


def _shown(value: str) -> str:
    """A value from the address as a message quotes it: short, on one line."""
    value = " ".join(value.split())
    return value if len(value) <= 30 else value[:29] + "…"


def _error(field_name: str, message: str) -> dict[str, str]:
    """An error as includes/error_summary.html lists it, linked to the form's field."""
    return {"message": message, "anchor": f"stats-{field_name}"}


def statistics_filters(params: Mapping[str, str]) -> tuple[StatisticsFilters, list[dict[str, str]]]:
    """The filters of a request's parameters `cycle` (a number, or "all"), `phase` and `rule` (the defaults when
    absent or empty), and an error ({"message", "anchor": the form's field}) for each value that names nothing;
    those fall back to the default. One query (the cycles)."""
    cycles = tuple(Cycle.objects.order_by("number").values_list("number", flat=True))
    errors = []
    phase = params.get("phase") or DEFAULT_PHASE
    if phase not in PHASES:
        allowed = ", ".join(f"{value} ({label})" for value, label in PHASE_LABELS.items())
        errors.append(_error("phase", f"Unknown phase “{_shown(phase)}”: use one of {allowed}."))
        phase = DEFAULT_PHASE
    rule = params.get("rule") or DEFAULT_RULE
    if rule not in RULES:
        errors.append(_error("rule", f"Unknown consolidation rule “{_shown(rule)}”: use one of {', '.join(RULES)}."))
        rule = DEFAULT_RULE
    cycle = None
    text = (params.get("cycle") or "all").strip()
    if text.lower() != "all":
        if not (text.isascii() and text.isdecimal()):
            errors.append(_error("cycle", f"A cycle is a number such as 3, or “all”, not “{_shown(text)}”."))
        else:
            try:
                cycle_check(int(text), cycles)
                cycle = int(text)
            except UnknownFilter as error:
                errors.append(_error("cycle", str(error)))
    return StatisticsFilters(phase=phase, rule=rule, cycle=cycle, cycles=cycles), errors


_COUNTS = ("recommendations", "assessed", "not_implemented", "partially_implemented", "fully_implemented")
_PERCENTS = ("triggered_action_pct", "fully_implemented_pct", "coverage_pct")


@dataclass(frozen=True)
class StatisticsRow:
    """One group of a breakdown: its key in the snapshot, its name for people, its figures (G), the search
    parameters of its recommendations ("" when the search has none) and the id of its table row."""

    key: str
    label: str
    figures: dict
    search: str
    anchor: str

    @property
    def triggered(self) -> int:
        """Recommendations that triggered action: partially or fully implemented."""
        return self.figures["partially_implemented"] + self.figures["fully_implemented"]

    @property
    def cells(self) -> list[str]:
        """The figures as the table shows them: counts with thousands separators, percentages or "–"."""
        counts = [f"{self.figures[name]:,}" for name in _COUNTS]
        return counts + ["–" if self.figures[name] is None else f"{self.figures[name]:.1f}%" for name in _PERCENTS]

    @property
    def cells_html(self) -> str:
        """The figures' table cells, written here: hundreds of rows of eight cells through the template engine cost
        tens of milliseconds. Safe: digits, separators, "%" and "–" only."""
        return mark_safe("".join(f' <td class="num">{cell}</td>' for cell in self.cells))  # noqa: S308

    @property
    def bar(self) -> str:
        """The width of its bar (triggered action, 0-100)."""
        return f"{self.figures['triggered_action_pct'] or 0:.1f}"


@dataclass(frozen=True)
class StatisticsSection:
    """One breakdown as the page shows it: a chart (when `chart`) and the table of `rows`."""

    name: str
    title: str
    heading: str
    note: str
    chart: bool
    rows: list[StatisticsRow]

    @property
    def chart_summary(self) -> str:
        """What the chart shows, in words (the canvas's text alternative; the table gives every figure)."""
        rated = [row for row in self.rows if row.figures["triggered_action_pct"] is not None]
        what = f"Bar chart of the share of assessed recommendations that triggered action, {self.title.lower()}"
        if not rated:
            return f"{what}: no recommendation was assessed, so there is no bar."
        if len(rated) <= 8:
            bars = ", ".join(f"{row.label} {row.figures['triggered_action_pct']:.1f}%" for row in rated)
            return f"{what}: {bars}."
        ordered = sorted(rated, key=lambda row: -row.figures["triggered_action_pct"])
        high, low = ordered[0], ordered[-1]
        return (
            f"{what}, {len(rated)} bars: highest {high.label} ({high.figures['triggered_action_pct']:.1f}%), "
            f"lowest {low.label} ({low.figures['triggered_action_pct']:.1f}%). The table below gives every figure."
        )


# breakdown: (title, heading of its first column, note, chart, search parameter), in the page's order
_SECTIONS = {
    "response": ("By response", "Response", "Accepted and noted recommendations side by side.", True, "response"),
    "action_category": ("By action category", "Action category", "What the recommendation asks for, on Edward "
                        "McMahon's scale from 1 (minimal action) to 5 (specific action).", True, "action"),
    "issue": ("By issue", "Issue", "A recommendation counts under each of its issues: the rows add up to more than "
              "the total. The chart orders the issues from the highest share to the lowest.", True, "issue"),
    "sur_region": ("By regional group of the state under review", "Regional group", "", True, "sur_region"),
    "recommending_region": ("By regional group of the recommending state", "Regional group", "A recommendation made "
                            "jointly counts once under each distinct regional group of the states that made it.", True,
                            "from_region"),
    "cycle": ("By cycle", "Cycle", "", True, "cycle"),
    "session": ("By session", "Session", "", True, "session"),
    "sur_state": ("By state under review", "State under review", "", False, "sur"),
    "recommending_state": ("By recommending state", "Recommending state", "A recommendation made jointly counts once "
                           "under each of the states that made it.", False, "from"),
}  # fmt: skip
_SORTED_CHART = {"issue"}  # charts whose bars go from the highest share to the lowest (statistics.js)
_RESPONSE_LABELS = {str(value or "not_applicable"): label for value, label in Recommendation.Response.choices}
_ACTION_LABELS = {str(value): label for value, label in Recommendation.ActionCategory.choices} | {
    "none": "Not categorised"
}


def _names(breakdowns) -> dict[str, dict[str, tuple[str, str]]]:
    """group key -> (label, search value) for the breakdowns named by reference data; a query per kind needed."""
    names: dict[str, dict[str, tuple[str, str]]] = {}
    if {"sur_state", "recommending_state"} & set(breakdowns):
        states = {iso3: (name, iso3) for iso3, name in State.objects.values_list("iso3", "short_name")}
        names["sur_state"] = names["recommending_state"] = states
    if {"sur_region", "recommending_region"} & set(breakdowns):
        regions = {code: (name, code) for code, name in RegionalGroup.objects.values_list("code", "name")}
        names["sur_region"] = names["recommending_region"] = regions
    if "issue" in breakdowns:
        names["issue"] = {name: (name, slug) for name, slug in Issue.objects.values_list("name", "slug")}
    return names


def _label(breakdown: str, key: str, names: dict) -> tuple[str, str]:
    """(label, search value or "") of a group."""
    if breakdown in names:
        return names[breakdown].get(key, (key, ""))
    if breakdown == "response":
        return _RESPONSE_LABELS.get(key, key), key if key in ("accepted", "noted", "pending") else ""
    if breakdown == "action_category":
        return _ACTION_LABELS.get(key, key), key if key.isdigit() else ""
    if breakdown == "cycle":
        return f"Cycle {key}", key
    if breakdown == "session":
        return f"Session {key}", key
    return key, ""


def _rows(breakdown: str, groups: dict, names: dict, filters: StatisticsFilters) -> list[StatisticsRow]:
    parameter = _SECTIONS[breakdown][4]
    cycle = f"&cycle={filters.cycle}" if filters.cycle and breakdown != "cycle" else ""
    rows = []
    for key, group in groups.items():
        label, value = _label(breakdown, key, names)
        search = urlencode({parameter: value}) + cycle if value else ""
        anchor = f"{breakdown}-{value or key}".replace(" ", "-")
        rows.append(StatisticsRow(key, label, group, search, anchor))
    if breakdown in names:  # by name, as people look for them (the snapshot orders them by code)
        rows.sort(key=lambda row: row.label)
    return rows


def _sections(snapshot: dict, filters: StatisticsFilters, breakdowns) -> list[StatisticsSection]:
    names = _names(breakdowns)
    sections = []
    for name in breakdowns:
        title, heading, note, chart, _parameter = _SECTIONS[name]
        rows = _rows(name, snapshot["by"][name], names, filters)
        sections.append(StatisticsSection(name, title, heading, note, chart and len(rows) > 1, rows))
    return sections


def _computed_at(snapshot: dict) -> datetime.datetime:
    return datetime.datetime.fromisoformat(snapshot["computed_at"])


def statistics_page(*, filters: StatisticsFilters) -> dict[str, Any] | None:
    """What /statistics/ shows for these filters, read from the latest snapshot only (no query over recommendations
    or assessments): the snapshot (computed_at as a datetime), the overall figures, those of accepted and noted
    recommendations, and every breakdown as a section (labelled when first read: a query per kind of reference
    data). None before the first computation."""
    snapshot = snapshot_read(filters.phase, filters.rule, cycle=filters.cycle)
    if snapshot is None:
        return None
    responses = snapshot["by"]["response"]
    empty = figures(0, 0, 0, 0, 0)
    return {
        "snapshot": snapshot,
        "computed_at": _computed_at(snapshot),
        "overall": snapshot["overall"],
        "triggered": snapshot["overall"]["partially_implemented"] + snapshot["overall"]["fully_implemented"],
        "accepted": responses.get("accepted", empty),
        "noted": responses.get("noted", empty),
        # Labelled only when read: the page keeps its rendered tables in the cache (until the next computation).
        "sections": SimpleLazyObject(lambda: _sections(snapshot, filters, tuple(_SECTIONS))),
    }


STATISTICS_CSV_HEADER = [
    "breakdown", "group", "label", "recommendations", "assessed", "not_implemented", "partially_implemented",
    "fully_implemented", "triggered_action_pct", "fully_implemented_pct", "coverage_pct", "phase", "rule", "cycle",
    "computed_at",
]  # fmt: skip


def statistics_table_rows(*, filters: StatisticsFilters, table: str) -> list[list] | None:
    """The rows of one table ("overall" or a breakdown) for its CSV file, header first: the group's key and name,
    every figure, and what they are (phase, rule, cycle, when computed). None before the first computation."""
    snapshot = snapshot_read(filters.phase, filters.rule, cycle=filters.cycle)
    if snapshot is None:
        return None
    if table == "overall":
        rows = [StatisticsRow("", "All recommendations", snapshot["overall"], "", "")]
    else:
        [section] = _sections(snapshot, filters, (table,))
        rows = section.rows
    what = [filters.phase, filters.rule, filters.cycle or "all", snapshot["computed_at"]]
    return [STATISTICS_CSV_HEADER] + [
        [table, row.key, row.label, *(row.figures[name] for name in STATISTICS_CSV_HEADER[3:11]), *what] for row in rows
    ]


def statistics_stamp() -> str:
    """When the statistics' snapshots were last stored (one query on their small table): a version of every page
    that shows them (uprtrax.pagecache)."""
    latest = StatisticsSnapshot.objects.aggregate(latest=Max("computed_at"))["latest"]
    return latest.isoformat() if latest else ""


def state_statistics(*, iso3: str) -> dict[str, Any] | None:
    """A state's own figures, for the default phase and rule over all cycles: "parts", as state under review and as
    recommending state (figures of zero when it has none), and when they were computed. One query, which reads only
    the state's two groups out of the snapshot. None before the first computation."""
    by = KeyTransform("by", "figures")
    row = (
        StatisticsSnapshot.objects.filter(phase=DEFAULT_PHASE, rule=DEFAULT_RULE, include_pledges=False, cycle=0)
        .annotate(
            received=KeyTransform(iso3, KeyTransform("sur_state", by)),
            made=KeyTransform(iso3, KeyTransform("recommending_state", by)),
        )
        .values("computed_at", "received", "made")
        .first()
    )
    if row is None:
        return None
    empty = figures(0, 0, 0, 0, 0)
    return {
        "computed_at": row["computed_at"],
        "filters": StatisticsFilters(),
        "parts": [
            {"name": "sur_state", "title": "As state under review", "figures": row["received"] or empty,
             "among": "states under review"},
            {"name": "recommending_state", "title": "As recommending state", "figures": row["made"] or empty,
             "among": "recommending states"},
        ],
    }  # fmt: skip


# --- "My organisation's work": the dashboard of one organisation, as one of its members sees it --------------------

DASHBOARD_CHANGES = 20  # latest changes shown
DASHBOARD_DRAFTS = 50  # the user's drafts shown (the total is given beside them)
DASHBOARD_REVIEWS = 100  # reviews to work on, the most recent first
COUNTRY_CYCLES = 2  # the organisation's country's reviews from its last two cycles

_WHAT = {  # history_change_reason (followup.services, imports) -> what happened, as the dashboard says it
    "recorded": "Recorded",
    "edited": "Edited",
    "recorded in bulk": "Recorded in bulk",
    "edited in bulk": "Edited in bulk",
    "imported": "Imported",
    "deleted": "Deleted",
    "restored": "Restored",
    "shown again": "Shown again by a moderator",
}
_DIFFED = (  # field, label, shown before -> after (else only named: long texts)
    ("status", "status", True),
    ("phase", "phase", True),
    ("visibility", "visibility", True),
    ("assessed_on", "date", True),
    ("comment", "comment", False),
    ("evidence_urls", "evidence links", False),
)
_LABELS = {
    "status": dict(Assessment.Status.choices),
    "phase": dict(Assessment.Phase.choices),
    "visibility": {"draft": "Draft", "organisation": "Organisation", "public": "Public"},
}


@dataclass(frozen=True)
class FieldChange:
    label: str
    before: str | None  # None: a long text, only named
    after: str | None


@dataclass(frozen=True)
class Change:
    """One entry of an assessment's history, for the dashboard's list of latest changes."""

    record: Any  # the historical record (Assessment.history.model), its recommendation and user loaded
    what: str
    fields: list[FieldChange]

    @property
    def assessment_id(self) -> int:
        return self.record.id


def memberships_of(*, user: User) -> list[Membership]:
    """The user's memberships with their organisations, by organisation name."""
    return list(Membership.objects.filter(user=user).select_related("organisation").order_by("organisation__name"))


def _organisation_assessments(*, user: User, organisation: Organisation) -> QuerySet[Assessment]:
    """The organisation's assessments this user may see (drafts: only their own), not deleted."""
    return permissions.visible_assessments(user).filter(organisation=organisation, deleted_at__isnull=True)


def organisation_counts(*, user: User, organisation: Organisation) -> dict[str, Any]:
    """What the organisation assessed, as the user may see it, in one query: assessments by status and phase, by
    visibility, those hidden by a moderator, and the recommendations and reviews they cover."""
    statuses, phases = Assessment.Status, Assessment.Phase
    counts = _organisation_assessments(user=user, organisation=organisation).aggregate(
        total=Count("id"),
        recommendations=Count("recommendation", distinct=True),
        reviews=Count("recommendation__review", distinct=True),
        hidden=Count("id", filter=Q(hidden_at__isnull=False)),
        **{f"phase:{phase}": Count("id", filter=Q(phase=phase)) for phase in phases.values},
        **{f"visibility:{value}": Count("id", filter=Q(visibility=value)) for value in Assessment.Visibility.values},
        **{
            f"{status}:{phase}": Count("id", filter=Q(status=status, phase=phase))
            for status in statuses.values
            for phase in phases.values
        },
    )
    by_status = [
        {
            "status": status,
            "label": label,
            "by_phase": [counts[f"{status}:{phase}"] for phase in phases.values],
            "total": sum(counts[f"{status}:{phase}"] for phase in phases.values),
        }
        for status, label in statuses.choices
    ]
    by_visibility = [
        {"visibility": value, "label": _LABELS["visibility"][value], "n": counts[f"visibility:{value}"]}
        for value in (Assessment.Visibility.PUBLIC, Assessment.Visibility.ORGANISATION, Assessment.Visibility.DRAFT)
    ]
    return {
        "total": counts["total"],
        "recommendations": counts["recommendations"],
        "reviews": counts["reviews"],
        "hidden": counts["hidden"],
        "phases": [{"phase": p, "label": label, "n": counts[f"phase:{p}"]} for p, label in phases.choices],
        "by_status": by_status,
        "by_visibility": by_visibility,
    }


def organisation_drafts(
    *, user: User, organisation: Organisation, limit: int = DASHBOARD_DRAFTS
) -> tuple[list[Assessment], int]:
    """The user's own drafts for the organisation, last edited first (at most `limit`), and how many there are."""
    drafts = _organisation_assessments(user=user, organisation=organisation).filter(
        author=user, visibility=Assessment.Visibility.DRAFT
    )
    shown = list(
        drafts.select_related("recommendation__review__state", "recommendation__review__session").order_by(
            "-updated_at", "-id"
        )[:limit]
    )
    total = len(shown) if len(shown) < limit else drafts.count()
    return shown, total


def _field_text(name: str, value: Any) -> str:
    if value is None or value == "":
        return "–"
    if name in _LABELS:
        return _LABELS[name].get(value, str(value))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _change(record: Any, previous: Any | None) -> Change:
    reason = record.history_change_reason or ""
    if reason.startswith("hidden"):
        what = "Hidden by a moderator"
    elif record.history_type == "+" or previous is None:
        what = _WHAT.get(reason, "Recorded")
    else:
        what = _WHAT.get(reason, "Deleted" if record.history_type == "-" else "Edited")
    fields = []
    if previous is not None:
        for name, label, shown in _DIFFED:
            before, after = getattr(previous, name), getattr(record, name)
            if before != after:
                if shown:
                    fields.append(FieldChange(label, _field_text(name, before), _field_text(name, after)))
                else:
                    fields.append(FieldChange(label, None, None))
    return Change(record=record, what=what, fields=fields)


def organisation_changes(*, user: User, organisation: Organisation, limit: int = DASHBOARD_CHANGES) -> list[Change]:
    """The latest changes to the organisation's assessments that the user may see (deleted ones included: their
    deletion is a change), newest first: who, when, what happened and which fields changed. Two queries: the
    records (each with the id of its previous record, a subquery), then those previous records."""
    history = Assessment.history.model
    visible = permissions.visible_assessments(user).filter(organisation=organisation).values("id")
    earlier = history.objects.filter(id=OuterRef("id")).filter(
        Q(history_date__lt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__lt=OuterRef("history_id"))
    )
    records = list(
        history.objects.filter(organisation_id=organisation.pk, id__in=visible)
        .select_related("history_user", "recommendation__review__state", "recommendation__review__session")
        .annotate(previous_id=Subquery(earlier.order_by("-history_date", "-history_id").values("history_id")[:1]))
        .order_by("-history_date", "-history_id")[:limit]
    )
    wanted = [record.previous_id for record in records if record.previous_id is not None]
    previous = history.objects.in_bulk(wanted) if wanted else {}
    return [_change(record, previous.get(record.previous_id)) for record in records]


def _country_cycles(organisation: Organisation) -> list[int]:
    """The last COUNTRY_CYCLES cycles in which the organisation's country was reviewed (none without a country)."""
    if organisation.country_id is None:
        return []
    cycles = (
        Review.objects.filter(state_id=organisation.country_id)
        .order_by("-session__cycle__number")
        .values_list("session__cycle__number", flat=True)
        .distinct()
    )
    return list(cycles[:COUNTRY_CYCLES])


def organisation_reviews(
    *, user: User, organisation: Organisation, limit: int = DASHBOARD_REVIEWS
) -> tuple[list[Review], bool]:
    """The reviews to work on: the organisation's country's reviews of the last two cycles in which the country was
    reviewed, then those where the organisation has assessments (that the user may see), the most recent first.
    Each with `total` (recommendations; voluntary pledges do not count), `assessed` (of those, the ones the
    organisation assessed at any phase), `open` (the others) and `percent` (assessed), counted by subqueries;
    `country` tells a country review.
    Returns at most `limit` reviews, and whether there are more. Three queries whatever the data."""
    assessments = _organisation_assessments(user=user, organisation=organisation)
    where = Q(id__in=assessments.values("recommendation__review_id"))
    if cycles := _country_cycles(organisation):
        where |= Q(state_id=organisation.country_id, session__cycle__number__in=cycles)
    recommendation = Recommendation.Kind.RECOMMENDATION
    total = (
        Recommendation.objects.filter(review=OuterRef("pk"), kind=recommendation)
        .order_by()
        .values("review")
        .annotate(n=Count("id"))
        .values("n")
    )
    assessed = (
        assessments.filter(recommendation__review=OuterRef("pk"), recommendation__kind=recommendation)
        .order_by()
        .values("recommendation__review")
        .annotate(n=Count("recommendation", distinct=True))
        .values("n")
    )
    reviews = list(
        Review.objects.filter(where)
        .select_related("state", "session__cycle")
        .annotate(
            total=Coalesce(Subquery(total), 0),
            assessed=Coalesce(Subquery(assessed), 0),
            elsewhere=Case(When(state_id=organisation.country_id, then=Value(0)), default=Value(1)),
        )
        .order_by("elsewhere", "-session__number", "state__short_name")[: limit + 1]
    )
    for review in reviews:
        review.open = max(review.total - review.assessed, 0)
        review.percent = _percent(review.assessed, review.total)
        review.country = review.state_id == organisation.country_id
    return reviews[:limit], len(reviews) > limit


def organisation_dashboard(*, user: User, organisation: Organisation) -> dict[str, Any]:
    """Everything the dashboard shows; the number of queries does not grow with the data."""
    drafts, drafts_total = organisation_drafts(user=user, organisation=organisation)
    reviews, more_reviews = organisation_reviews(user=user, organisation=organisation)
    return {
        "organisation": organisation,
        "role": permissions.roles(user).get(organisation.pk),
        "counts": organisation_counts(user=user, organisation=organisation),
        "drafts": drafts,
        "drafts_total": drafts_total,
        "changes": organisation_changes(user=user, organisation=organisation),
        "reviews": reviews,
        "more_reviews": more_reviews,
        "phases": Assessment.Phase.choices,
    }


def organisation_export(*, user: User, organisation: Organisation) -> QuerySet[Assessment]:
    """The organisation's assessments the user may see, not deleted, for the export: review by review (session,
    then state), recommendation by recommendation."""
    return _organisation_assessments(user=user, organisation=organisation).order_by(
        "recommendation__session_number", "recommendation__review_id", "recommendation_id", "phase"
    )
