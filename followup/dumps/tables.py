"""What the public data dump holds: one table per file, its columns, and its rows read from the database.

Every table yields tuples of JSON-ready values in its columns' order: text, numbers, None, dates as yyyy-mm-dd,
lists of codes. Big tables (recommendations, assessments) are read in batches through a server-side cursor, with
one query per batch for the recommendations' links; the small ones (states, reviews, organisations...) are read
once and kept as id -> code maps, so that no row joins them in SQL. Only public data: assessments that are public,
neither deleted nor hidden, with their organisation's name and kind, never who wrote or edited them; organisations'
public fields, never their members.
"""

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import batched

from followup.models import Assessment, Organisation, StatisticsSnapshot
from followup.statistics import figures, in_order
from recommendations.models import Issue, Recommendation
from reviews.models import Cycle, IntergovernmentalOrganisation, RegionalGroup, Review, Session, State

BATCH = 5000
STATISTICS_PHASE = Assessment.Phase.MID_TERM
STATISTICS_RULE = StatisticsSnapshot.Rule.MAJORITY


@dataclass(frozen=True)
class Table:
    name: str  # the CSV file's name without .csv.gz
    type: str  # the "type" of its rows in the JSON Lines file
    description: str
    columns: tuple[str, ...]
    rows: Callable[["Codes"], Iterator[tuple]]


class Codes:
    """The small tables' ids as the codes the dump uses (ISO3, session numbers, slugs...), read once per dump."""

    def __init__(self) -> None:
        self.regions = dict(RegionalGroup.objects.values_list("id", "code"))
        self.states = dict(State.objects.values_list("id", "iso3"))
        self.cycles = dict(Cycle.objects.values_list("id", "number"))
        self.sessions = {
            pk: (number, self.cycles[cycle_id])
            for pk, number, cycle_id in Session.objects.values_list("id", "number", "cycle_id")
        }
        self.reviews = {
            pk: (self.states[state_id], *self.sessions[session_id])
            for pk, state_id, session_id in Review.objects.values_list("id", "state_id", "session_id")
        }
        self.issues = dict(Issue.objects.values_list("id", "slug"))
        self.organisations = {
            pk: (slug, name, kind)
            for pk, slug, name, kind in Organisation.objects.values_list("id", "slug", "name", "kind")
        }


def _date(value) -> str | None:
    return value.isoformat() if value is not None else None


# --- Reference data -------------------------------------------------------------------------------------------------


def _regional_groups(codes: Codes) -> Iterator[tuple]:
    yield from RegionalGroup.objects.order_by("code").values_list("code", "name")


def _states(codes: Codes) -> Iterator[tuple]:
    members = defaultdict(list)
    links = State.organisations.through.objects.values_list("state_id", "intergovernmentalorganisation__acronym")
    for state_id, acronym in links.order_by("intergovernmentalorganisation__acronym"):
        members[state_id].append(acronym)
    for pk, iso3, short_name, name, status, region in State.objects.order_by("iso3").values_list(
        "id", "iso3", "short_name", "name", "status", "regional_group_id"
    ):
        yield iso3, short_name, name, status, codes.regions[region], members.get(pk, [])


def _intergovernmental_organisations(codes: Codes) -> Iterator[tuple]:
    yield from IntergovernmentalOrganisation.objects.order_by("acronym").values_list("acronym", "name")


def _cycles(codes: Codes) -> Iterator[tuple]:
    for number, start, end in Cycle.objects.order_by("number").values_list("number", "start_date", "end_date"):
        yield number, _date(start), _date(end)


def _sessions(codes: Codes) -> Iterator[tuple]:
    fields = ("number", "cycle_id", "year", "start_date", "end_date")
    for number, cycle_id, year, start, end in Session.objects.order_by("number").values_list(*fields):
        yield number, codes.cycles[cycle_id], year, _date(start), _date(end)


def _reviews(codes: Codes) -> Iterator[tuple]:
    fields = ("id", "report_symbol", "adoption_date")
    for pk, symbol, adopted in Review.objects.order_by("id").values_list(*fields).iterator(chunk_size=BATCH):
        state, session, cycle = codes.reviews[pk]
        yield pk, state, session, cycle, symbol, _date(adopted)


def _issues(codes: Codes) -> Iterator[tuple]:
    yield from Issue.objects.order_by("slug").values_list("slug", "name")


# --- Recommendations and follow-up ----------------------------------------------------------------------------------


def _links(model, target: str, low: int, high: int, names: dict[int, str]) -> dict[int, list[str]]:
    """A batch's links (recommending states or issues) as {recommendation id: [code, ...]}, codes in order. The
    batch is every recommendation from `low` to `high` (by id), so a range reads its links on the index."""
    found = defaultdict(list)
    links = model.objects.filter(recommendation_id__gte=low, recommendation_id__lte=high)
    links = links.values_list("recommendation_id", target)
    for recommendation_id, target_id in links:
        found[recommendation_id].append(names[target_id])
    for codes in found.values():
        codes.sort()
    return found


_RECOMMENDATION_FIELDS = ("id", "review_id", "kind", "paragraph_ref", "text", "response", "response_original",
                          "action_category", "implementation_status")  # fmt: skip


def _recommendations(codes: Codes) -> Iterator[tuple]:
    made_by, about = Recommendation.recommending_states.through, Recommendation.issues.through
    rows = Recommendation.objects.order_by("id").values_list(*_RECOMMENDATION_FIELDS).iterator(chunk_size=BATCH)
    for batch in batched(rows, BATCH):
        low, high = batch[0][0], batch[-1][0]
        states = _links(made_by, "state_id", low, high, codes.states)
        issues = _links(about, "issue_id", low, high, codes.issues)
        for pk, review, kind, paragraph, text, response, original, action, status in batch:
            state, session, cycle = codes.reviews[review]
            yield (pk, review, state, session, cycle, kind, paragraph, text, states.get(pk, []), response, original,
                   action, issues.get(pk, []), status)  # fmt: skip


def _organisations(codes: Codes) -> Iterator[tuple]:
    fields = ("slug", "name", "kind", "country_id", "website")
    for slug, name, kind, country, website in Organisation.objects.order_by("slug").values_list(*fields):
        yield slug, name, kind, codes.states.get(country), website


_ASSESSMENT_FIELDS = ("id", "recommendation_id", "organisation_id", "phase", "status", "comment", "evidence_urls",
                      "assessed_on")  # fmt: skip


def _assessments(codes: Codes) -> Iterator[tuple]:
    public = Assessment.objects.public().order_by("id").values_list(*_ASSESSMENT_FIELDS)
    for pk, recommendation, organisation, phase, status, comment, urls, assessed_on in public.iterator(
        chunk_size=BATCH
    ):
        slug, name, kind = codes.organisations[organisation]
        yield pk, recommendation, slug, name, kind, phase, status, comment, list(urls or ()), _date(assessed_on)


_FIGURES = tuple(figures(0, 0, 0, 0, 0))  # a group's figures, in the API's order


def _statistics(codes: Codes) -> Iterator[tuple]:
    """The latest snapshot's figures (mid-term, majority rule, pledges left out), all cycles then each: the overall
    row, then every group of every breakdown."""
    snapshots = StatisticsSnapshot.objects.filter(
        phase=STATISTICS_PHASE, rule=STATISTICS_RULE, include_pledges=False
    ).order_by("cycle")
    for snapshot in snapshots:
        part = in_order(snapshot.figures)
        chosen = (snapshot.phase, snapshot.rule, snapshot.cycle or None)
        computed_at = snapshot.computed_at.isoformat()
        yield (*chosen, "overall", "", *(part["overall"][key] for key in _FIGURES), computed_at)
        for breakdown, groups in part["by"].items():
            for group, shown in groups.items():
                yield (*chosen, breakdown, group, *(shown[key] for key in _FIGURES), computed_at)


RECOMMENDATION_COLUMNS = ("id", "review", "state_under_review", "session", "cycle", "kind", "paragraph_ref", "text",
                          "recommending_states", "response", "response_original", "action_category", "issues",
                          "implementation_status")  # fmt: skip
ASSESSMENT_COLUMNS = ("id", "recommendation", "organisation", "organisation_name", "organisation_kind", "phase",
                      "status", "comment", "evidence_urls", "assessed_on")  # fmt: skip

TABLES: tuple[Table, ...] = (
    Table("regional_groups", "regional_group", "The five UN regional groups.", ("code", "name"), _regional_groups),
    Table(
        "states",
        "state",
        "States with their regional group (code) and the intergovernmental organisations they belong to (acronyms).",
        ("iso3", "short_name", "name", "status", "regional_group", "intergovernmental_organisations"),
        _states,
    ),
    Table(
        "intergovernmental_organisations",
        "intergovernmental_organisation",
        "Organisations of states (AU, EU, OIC, ...); their members are in states.intergovernmental_organisations.",
        ("acronym", "name"),
        _intergovernmental_organisations,
    ),
    Table("cycles", "cycle", "UPR cycles.", ("number", "start_date", "end_date"), _cycles),
    Table(
        "sessions",
        "session",
        "Working Group sessions, with their cycle's number.",
        ("number", "cycle", "year", "start_date", "end_date"),
        _sessions,
    ),
    Table(
        "reviews",
        "review",
        "One state under review (ISO3) in one session.",
        ("id", "state_under_review", "session", "cycle", "report_symbol", "adoption_date"),
        _reviews,
    ),
    Table("issues", "issue", "UPR Info's issues (themes), by slug.", ("slug", "name"), _issues),
    Table(
        "recommendations",
        "recommendation",
        "Recommendations and voluntary pledges: the review (id), its state and session, the recommending states "
        "(ISO3) and issues (slugs); implementation_status is the consolidated status of the public mid-term "
        "assessments (majority, a tie to the lower status), empty when none.",
        RECOMMENDATION_COLUMNS,
        _recommendations,
    ),
    Table(
        "organisations",
        "organisation",
        "Organisations that assess implementation: their public fields (country as ISO3), never their members.",
        ("slug", "name", "kind", "country", "website"),
        _organisations,
    ),
    Table(
        "assessments",
        "assessment",
        "Public assessments only (not drafts, not those shared within an organisation, not deleted or hidden "
        "ones), by recommendation (id) and organisation (slug, name, kind); never who wrote them.",
        ASSESSMENT_COLUMNS,
        _assessments,
    ),
    Table(
        "statistics",
        "statistics",
        "The latest implementation statistics (mid-term, majority rule, voluntary pledges left out), all cycles "
        "(cycle empty) and each: the overall figures, then every group of every breakdown.",
        ("phase", "rule", "cycle", "breakdown", "group", *_FIGURES, "computed_at"),
        _statistics,
    ),
)
