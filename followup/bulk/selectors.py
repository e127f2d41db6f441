"""Reads for assessing many at once: which organisations a person assesses for, what a bulk request is about (the
recommendations chosen on the search page), and the rows of the work view of one review."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from followup import permissions, rules
from followup.models import Assessment, Organisation, User
from recommendations.filters import RecommendationFilterSet
from recommendations.models import Issue, Recommendation
from reviews.models import Review, State

SHOWN = 20  # recommendations listed on the bulk page before "and N more"
TALLIES_ALL = 5  # organisations listed on the bulk page even when they assessed none of the recommendations
# Parameters of a bulk request that are not the search's own.
OWN_PARAMETERS = frozenset({"id", "all", "organisation", "page", "per_page"})


def may_assess_any(user) -> bool:
    """Whether the person records assessments for at least one organisation. No query for anonymous visitors; one
    for others (their roles, read once per request and shared with the permission checks)."""
    if not user.is_authenticated:
        return False
    return permissions.is_admin(user) or bool(permissions.roles(user))


def assessable_organisations(user: User) -> list[Organisation]:
    """The organisations the person may record assessments for: their own, every one for a site admin."""
    if permissions.is_admin(user):
        return list(Organisation.objects.order_by("name"))
    mine = permissions.roles(user)
    return list(Organisation.objects.filter(pk__in=mine).order_by("name")) if mine else []


def search_query(params: QueryDict) -> str:
    """The search's own parameters (not the bulk's), as a query string: for links back to the search."""
    kept = QueryDict(mutable=True)
    for name, values in params.lists():
        if name not in OWN_PARAMETERS:
            kept.setlist(name, [value for value in values if value])
    return kept.urlencode()


@dataclass
class Selection:
    """The recommendations a bulk request is about, in the search's order, and what was wrong with the request."""

    ids: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the request cannot go on
    notices: list[str] = field(default_factory=list)  # it can, without what they name


def _shown(values, *, quoted: bool = True) -> str:
    """The first ten values, and how many more."""
    values = [f"“{str(v)[:20]}”" if quoted else str(v) for v in values]
    return ", ".join(values[:10]) + (f" and {len(values) - 10} more" if len(values) > 10 else "")


def ids_parse(values: list[str]) -> tuple[list[int], list[str]]:
    """Recommendation numbers from text values (repeated, or separated by commas or spaces), duplicates dropped, in
    order; and the values that are not numbers."""
    ids: dict[int, None] = {}
    bad = []
    for value in values:
        for item in value.replace(",", " ").split():
            if item.isascii() and item.isdigit() and 0 < int(item) < 2**31:
                ids[int(item)] = None
            else:
                bad.append(item)
    return list(ids), bad


def selection_from_search(*, params: QueryDict) -> Selection:
    """The recommendations chosen on the search page: the `id` values, or with `all=1` every recommendation the
    search's parameters match (the same FilterSet as the page), at most rules.BULK_MAX of them."""
    selection = Selection()
    if params.get("all") == "1":
        filterset = RecommendationFilterSet(params, queryset=Recommendation.objects.all())
        if not filterset.is_valid():
            for name, errors in filterset.errors.items():
                label = filterset.filters[name].label if name in filterset.filters else name
                selection.problems.extend(f"{label}: {error}" for error in errors)
            return selection
        ids = list(filterset.qs.values_list("id", flat=True)[: rules.BULK_MAX + 1])
        if len(ids) > rules.BULK_MAX:
            total = filterset.qs.count()
            selection.problems.append(
                f"The search matches {total:,} recommendations: one request assesses at most {rules.BULK_MAX:,}. "
                "Narrow the search (a session, a state, an issue), then assess them all."
            )
            return selection
        selection.ids = ids
    else:
        ids, bad = ids_parse(params.getlist("id"))
        if bad:
            selection.notices.append(f"{_shown(bad)} {'is' if len(bad) == 1 else 'are'} not a recommendation number.")
        if len(ids) > rules.BULK_MAX:
            selection.problems.append(
                f"{len(ids):,} recommendations were chosen: one request assesses at most {rules.BULK_MAX:,}."
            )
            return selection
        known = set(Recommendation.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()
        unknown = [pk for pk in ids if pk not in known]
        if unknown:
            numbers = _shown(unknown, quoted=False)
            selection.notices.append(f"No recommendation has the number {numbers}: left out.")
        selection.ids = [pk for pk in ids if pk in known]
    if not selection.ids and not selection.problems:
        selection.problems.append("No recommendation was chosen: tick some on the search page, or choose “Assess all”.")
    return selection


@dataclass
class OrganisationTally:
    organisation: Organisation
    mid_term: int = 0
    next_review: int = 0
    drafts_of_others: int = 0

    @property
    def assessed(self) -> int:
        return self.mid_term + self.next_review


def bulk_summary(*, ids: list[int], organisations: list[Organisation], user: User) -> dict:
    """What the bulk page shows about the chosen recommendations: the first few (in the order given), and how many
    each organisation already assessed, by phase (alive ones; a colleague's draft counted apart). Two queries."""
    shown = Recommendation.objects.select_related("review__state", "review__session").in_bulk(ids[:SHOWN])
    tallies = {o.pk: OrganisationTally(o) for o in organisations}
    if ids and tallies:
        others_draft = Q(visibility=Assessment.Visibility.DRAFT) & ~Q(author_id=user.pk) & ~Q(author__isnull=True)
        counts = (
            Assessment.objects.alive()
            .filter(recommendation_id__in=ids, organisation_id__in=list(tallies))
            .values("organisation_id", "phase")
            .annotate(n=Count("id"), drafts=Count("id", filter=others_draft))
        )
        for row in counts:
            tally = tallies[row["organisation_id"]]
            setattr(tally, row["phase"], row["n"])
            tally.drafts_of_others += row["drafts"]
    listed = list(tallies.values())
    only_assessed = len(listed) > TALLIES_ALL  # a site admin assesses for every organisation: list those concerned
    return {
        "recommendations": [shown[pk] for pk in ids[:SHOWN] if pk in shown],
        "more": max(0, len(ids) - SHOWN),
        "tallies": [t for t in listed if t.assessed] if only_assessed else listed,
        "only_assessed": only_assessed,
    }


def reviews_of(recommendation_ids: list[int], *, limit: int = 30) -> tuple[list[Review], int]:
    """The reviews of these recommendations (for links to their work views), newest session first; and how many
    there are in all. Two queries."""
    reviews = Review.objects.filter(
        Exists(Recommendation.objects.filter(review=OuterRef("pk"), pk__in=recommendation_ids))
    )
    total = reviews.count()
    shown = list(reviews.select_related("state", "session").order_by("-session__number", "state__short_name")[:limit])
    return shown, total


# --- Work view of one review ----------------------------------------------------------------------------------------


def mid_term_window(review: Review) -> tuple[datetime.date | None, datetime.date | None]:
    """When the review took place and when the mid-term window closes (the next review). Two queries."""
    return rules.reviews_dates([review.pk])[review.pk]


def date_default(window) -> datetime.date:
    """Today, or the last day of the mid-term window once it has closed."""
    today = timezone.localdate()
    held, following = window
    if following is not None and today >= following:
        return max(following - datetime.timedelta(days=1), held or following)
    return today


def review_issues(review: Review) -> QuerySet[Issue]:
    """The issues of the review's recommendations, for the filter."""
    return Issue.objects.filter(recommendations__review=review).distinct().order_by("name")


@dataclass
class WorkRow:
    recommendation: Recommendation
    assessment: Assessment | None  # the organisation's mid-term assessment, alive
    locked: bool = False  # a colleague's draft: only they may edit it
    values: dict = field(default_factory=dict)  # what the row's form shows
    conflict: Assessment | None = None
    conflict_hidden: bool = False  # the other version is a draft the person may not see
    errors: dict = field(default_factory=dict)
    saved_at: datetime.datetime | None = None


def _row(recommendation: Recommendation, assessment: Assessment | None, user: User) -> WorkRow:
    if assessment is not None and assessment.deleted_at is not None:
        assessment = None  # deleted: saving the row writes over it (and so restores it)
    locked = assessment is not None and not permissions.can_edit(user, assessment)
    values = {
        "status": assessment.status if assessment else "",
        "comment": assessment.comment if assessment else "",
        "visibility": assessment.visibility if assessment else Assessment.Visibility.ORGANISATION,
        "version": assessment.version if assessment else "",
    }
    return WorkRow(recommendation, assessment, locked, values)


def _recommendations(review: Review) -> QuerySet[Recommendation]:
    return Recommendation.objects.filter(review=review, kind=Recommendation.Kind.RECOMMENDATION).prefetch_related(
        Prefetch("recommending_states", State.objects.only("iso3", "short_name").order_by("short_name")),
        Prefetch("issues", Issue.objects.order_by("name")),
    )


def _current(organisation: Organisation, recommendation_ids) -> QuerySet[Assessment]:
    return Assessment.objects.filter(
        organisation=organisation, phase=Assessment.Phase.MID_TERM, recommendation_id__in=recommendation_ids
    ).select_related("author", "last_editor")


def work_rows(
    *, user: User, organisation: Organisation, review: Review, issue: Issue | None = None, todo: bool = False
) -> list[WorkRow]:
    """The review's recommendations (in the report's order), each with the organisation's mid-term assessment:
    optionally only those of an issue, or only those not yet assessed. Four queries whatever the number of rows."""
    recommendations = _recommendations(review)
    if issue is not None:
        recommendations = recommendations.filter(issues=issue)
    if todo:
        assessed = Assessment.objects.alive().filter(
            recommendation=OuterRef("pk"), organisation=organisation, phase=Assessment.Phase.MID_TERM
        )
        recommendations = recommendations.exclude(Exists(assessed))
    recommendations = list(recommendations.order_by("id"))
    current = {a.recommendation_id: a for a in _current(organisation, [r.pk for r in recommendations])}
    return [_row(r, current.get(r.pk), user) for r in recommendations]


def work_row(*, user: User, organisation: Organisation, recommendation: Recommendation) -> WorkRow:
    """One row (after a save): four queries."""
    recommendation = _recommendations(recommendation.review_id).get(pk=recommendation.pk)
    return _row(recommendation, _current(organisation, [recommendation.pk]).first(), user)
