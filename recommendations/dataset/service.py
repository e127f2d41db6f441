"""dataset_generate: a realistic, reproducible demo and benchmark data set on top of the reference data.

The plan (reviews, organisations, users) is small and goes through the ORM; the bulk (recommendations, their
issues and recommending states, assessments) streams from recommendations.dataset.rows into a writer: COPY on
PostgreSQL, batched INSERTs on SQLite. Everything happens in one transaction.
"""

import datetime
import math
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate

from django.db import connection, transaction
from django.utils.text import slugify

from followup.models import Assessment, Membership, Organisation, User
from followup.status import implementation_status_refresh
from recommendations.dataset import vocabulary as v
from recommendations.dataset.rows import (
    ASSESSMENT_COLUMNS,
    ISSUE_LINK_COLUMNS,
    PLEDGE,
    RECOMMENDATION_COLUMNS,
    STATE_LINK_COLUMNS,
    Catalogue,
    GeneratedRecommendations,
    OrganisationPlan,
    ReviewPlan,
    assessment_capacity,
    assessment_rows,
    issue_link_rows,
    recommendation_rows,
    state_link_rows,
)
from recommendations.dataset.writers import writer_for_connection
from recommendations.facets import search_data_changed
from recommendations.models import Issue, Recommendation
from reviews.models import Review, Session, State

DEFAULT_ORGANISATIONS = 36


class DatasetError(Exception):
    """The data set cannot be generated as asked; nothing was written."""


def _rng(seed: int, stream: str) -> random.Random:
    # A string seed is hashed with SHA-512: the same on every run and machine, unlike hash().
    return random.Random(f"uprtrax-dataset/{seed}/{stream}")


def dataset_generate(
    *, recommendations: int, assessments: int, seed: int, organisations: int | None = None, analyze: bool = True
) -> dict:
    """Generate `recommendations` rows (about 2% of them voluntary pledges) and `assessments` assessments.

    New reviews go only where the state has no review yet in that session's cycle, so that the generator can
    add to a database that already holds data (imported or generated). The same seed on the same database
    content gives the same data. Returns counts and the seconds spent per phase. Raises DatasetError, with
    nothing written, when the reference data is missing or the request cannot be met.
    """
    if recommendations < 1:
        raise DatasetError("The number of recommendations must be at least 1.")
    if assessments < 0:
        raise DatasetError("The number of assessments cannot be negative.")
    if organisations is not None and organisations < 1:
        raise DatasetError("The number of organisations must be at least 1.")
    seconds: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        seconds[phase] = round(now - clock, 3)
        clock = now

    recommendation_states = Recommendation.recommending_states.through
    recommendation_issues = Recommendation.issues.through
    bulk_models = [Recommendation, recommendation_states, recommendation_issues, Assessment]
    with transaction.atomic():
        writer = writer_for_connection()
        states, issue_ids = _reference_data()
        reviews = _reviews_plan(rng=_rng(seed, "reviews"), recommendations=recommendations, states=states)
        orgs = _organisations_plan(
            rng=_rng(seed, "organisations"),
            count=DEFAULT_ORGANISATIONS if organisations is None else organisations,
            reviews=reviews,
        )
        created_orgs = _organisations_create(orgs, day=reviews[0].base_date)
        eligible = _eligible_organisations(orgs, reviews)
        capacity = assessment_capacity(reviews=reviews, eligible=eligible)
        if assessments > capacity:
            raise DatasetError(
                f"{assessments:,} assessments do not fit: {len(orgs)} organisations can make at most {capacity:,} on "
                f"{recommendations:,} recommendations (one per recommendation, organisation and phase)."
            )
        _reviews_create(reviews)
        users, memberships = _users_create(rng=_rng(seed, "users"), organisations=orgs, day=reviews[0].base_date)
        catalogue = Catalogue(issue_ids)
        lap("plan")

        writer.begin(bulk_models)
        generated = GeneratedRecommendations(first_id=writer.reserve_ids(Recommendation, recommendations))
        rows = recommendation_rows(
            rng=_rng(seed, "recommendations"), reviews=reviews, catalogue=catalogue, out=generated
        )
        postgres = writer.vendor == "postgresql"
        if postgres:  # staged, and written with its browse columns once the links and assessments exist
            vectors = _catalogue_vectors(catalogue)
            rows = _with_entries(rows, generated)
            n_recommendations = writer.stage_recommendations(RECOMMENDATION_COLUMNS, rows, vectors)
        else:
            n_recommendations = writer.write(Recommendation, RECOMMENDATION_COLUMNS, rows)
        lap("recommendations")
        rows = state_link_rows(
            rng=_rng(seed, "recommending-states"),
            generated=generated,
            reviews=reviews,
            state_weights=_state_weights(_rng(seed, "state-activity"), states),
        )
        n_state_links = writer.write(recommendation_states, STATE_LINK_COLUMNS, rows)
        lap("recommending_states")
        issue_weights = {iid: v.ISSUE_FREQUENCIES.get(name, 100) for name, iid in issue_ids.items()}
        rows = issue_link_rows(
            rng=_rng(seed, "issues"), generated=generated, catalogue=catalogue, issue_weights=issue_weights
        )
        n_issue_links = writer.write(recommendation_issues, ISSUE_LINK_COLUMNS, rows)
        lap("issues")
        rows = assessment_rows(
            rng=_rng(seed, "assessments"),
            total=assessments,
            generated=generated,
            reviews=reviews,
            organisations=orgs,
            eligible=eligible,
        )
        n_assessments = writer.write(Assessment, ASSESSMENT_COLUMNS, rows)
        lap("assessments")
        if postgres:
            writer.recommendations_insert()
            lap("recommendations_insert")
        writer.finish()
        lap("foreign_key_checks")
        if not postgres:  # PostgreSQL's rows got their status as they were inserted
            implementation_status_refresh()
            lap("implementation_status")
        transaction.on_commit(search_data_changed)
        if analyze:
            writer.analyze(bulk_models)
            lap("analyze")
    lap("commit")
    seconds["total"] = round(time.perf_counter() - started, 3)
    pledges = generated.responses.count(PLEDGE)
    return {
        "database": writer.vendor,
        "seed": seed,
        "reviews": len(reviews),
        "sessions": len({review.session_id for review in reviews}),
        "recommendations": n_recommendations - pledges,
        "voluntary_pledges": pledges,
        "recommending_state_links": n_state_links,
        "issue_links": n_issue_links,
        "organisations": len(orgs),
        "organisations_created": created_orgs,
        "users_created": users,
        "memberships_created": memberships,
        "assessments": n_assessments,
        "seconds": seconds,
    }


def _catalogue_vectors(catalogue: Catalogue) -> dict[int, str]:
    """Each catalogue text's search vector, as PostgreSQL's text form: one to_tsvector per distinct text instead
    of one per row (a million rows share a few tens of thousands of texts)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n - 1, to_tsvector('english'::regconfig, t)::text FROM unnest(%s::text[]) WITH ORDINALITY u(t, n)",
            [catalogue.texts],
        )
        return dict(cursor.fetchall())


def _with_entries(rows: Iterable[tuple], generated: GeneratedRecommendations) -> Iterator[tuple]:
    """Each recommendation row followed by its catalogue entry (None for a pledge, whose text names its state)."""
    entries = generated.entries
    for row in rows:
        yield (*row, None if row[2] == "voluntary_pledge" else entries[-1])


def _reference_data() -> tuple[list[dict], dict[str, int]]:
    states = list(State.objects.order_by("iso3").values("id", "iso3", "short_name", "status", "regional_group__code"))
    issue_ids = dict(Issue.objects.order_by("name").values_list("name", "id"))
    if not states or not issue_ids or not Session.objects.exists():
        raise DatasetError(
            "The reference data (states, sessions, issues) is missing: run `python manage.py load_reference_data`."
        )
    return states, issue_ids


# UPR Info's group codes; states of WEOG and GRULAC make more recommendations than others.
_RECOMMENDING_ACTIVITY = {"WEOG": 3.0, "GRULAC": 1.6, "EEG": 1.3}


def _state_weights(rng: random.Random, states: list[dict]) -> dict[int, float]:
    """How often each state recommends: by group, times a per-state propensity drawn from the seed."""
    weights = {}
    for state in states:
        activity = _RECOMMENDING_ACTIVITY.get(state["regional_group__code"], 1.0)
        if state["status"] != State.Status.MEMBER:
            activity *= 0.4
        weights[state["id"]] = activity * rng.lognormvariate(0, 0.6)
    return weights


# Human Rights Council regular sessions open in March, June and September; the Council adopts UPR outcomes
# in the third week, at the first session opening at least six weeks after the Working Group session.
_COUNCIL_OPENINGS = ((3, 1), (6, 15), (9, 12))
_ADOPTION_DELAY = datetime.timedelta(days=45)


def _council_session(year: int, period: int) -> tuple[int, datetime.date]:
    """(number, opening day) of the Council session of `year` in `period` (0 March, 1 June, 2 September)."""
    year, period = year + period // 3, period % 3
    month, day = _COUNCIL_OPENINGS[period]
    return 7 + 3 * (year - 2008) + period, datetime.date(year, month, day)


def _council_session_after(day: datetime.date) -> tuple[int, datetime.date]:
    for period in range(6):
        number, opening = _council_session(day.year, period)
        if opening >= day + _ADOPTION_DELAY:
            return number, opening
    raise AssertionError("unreachable: a Council session opens within two years")


def _schedule(*, rng: random.Random, states: list[dict]) -> tuple[list[tuple[Session, int, dict]], dict[int, int]]:
    """Every (session, position, state) of the UPR calendar, and each session's size: each member state once per
    cycle, about 14 per session, in one order drawn from the seed and kept from cycle to cycle, as the Council
    does."""
    order = [state for state in states if state["status"] == State.Status.MEMBER]
    rng.shuffle(order)
    by_cycle: dict[int, list[Session]] = {}
    for session in Session.objects.select_related("cycle").order_by("cycle__number", "number"):
        by_cycle.setdefault(session.cycle.number, []).append(session)
    slots, size_of = [], {}
    for sessions in by_cycle.values():
        base, extra = divmod(len(order), len(sessions))
        sizes = [base + (1 if i < extra else 0) for i in range(len(sessions))]
        if sessions[0].cycle.end_date is None:  # a running cycle: no more than the usual 14 per session
            sizes = [min(size, v.REVIEWS_PER_SESSION) for size in sizes]
        start = 0
        for session, size in zip(sessions, sizes, strict=True):
            slots += [(session, position, state) for position, state in enumerate(order[start : start + size])]
            size_of[session.pk] = size
            start += size
    slots.sort(key=lambda slot: (slot[0].number, slot[1]))
    return slots, size_of


def _reviews_plan(*, rng: random.Random, recommendations: int, states: list[dict]) -> list[ReviewPlan]:
    """Free slots of the calendar, from the earliest session on, until they hold about `recommendations`.

    A slot is free when the state has no review yet in that cycle and the session is not full, so that a
    second run (with any seed) adds reviews without breaking the calendar's rules."""
    taken = set(Review.objects.values_list("state_id", "session__cycle_id"))
    held = Counter(Review.objects.values_list("session_id", flat=True))
    slots, size_of = _schedule(rng=rng, states=states)
    chosen, typical_total = [], 0
    for session, position, state in slots:
        if (state["id"], session.cycle_id) in taken or held[session.pk] >= size_of[session.pk]:
            continue
        chosen.append((session, position, state))
        held[session.pk] += 1
        typical_total += v.RECOMMENDATIONS_PER_REVIEW.get(session.cycle.number, 200)
        if typical_total >= recommendations:
            break
    if not chosen:
        raise DatasetError(
            "The UPR calendar is full: every session already has its reviews, or every state its review in each "
            "cycle. The generator only adds reviews where there is room: use an empty database."
        )
    # Split the rows over the reviews in proportion to each cycle's typical size, give or take.
    weights = [
        v.RECOMMENDATIONS_PER_REVIEW.get(session.cycle.number, 200) * rng.lognormvariate(0, 0.35)
        for session, _, _ in chosen
    ]
    counts = _apportion(recommendations, weights)

    symbols = {s.upper() for s in Review.objects.exclude(report_symbol="").values_list("report_symbol", flat=True)}
    next_number: dict[int, int] = {}
    rank_in_year = _session_ranks()
    shift: dict[int, int] = {}
    plans = []
    for (session, position, state), count in zip(chosen, counts, strict=True):
        if not count:
            continue
        if session.end_date:
            council, opening = _council_session_after(session.end_date)
        else:  # no dates: the year and the session's rank in it say roughly when
            council, opening = _council_session(session.year, rank_in_year[session.number] + 1)
        if session.number not in shift:
            shift[session.number] = rng.randint(0, 3)
        adopted = opening + datetime.timedelta(days=14 + shift[session.number] + position // 5)
        number = next_number.setdefault(council, rng.randint(4, 10))
        while f"A/HRC/{council}/{number}" in symbols:
            number += 1
        symbol = f"A/HRC/{council}/{number}"
        symbols.add(symbol)
        next_number[council] = number + 1
        low, high = _PARAGRAPHS.get(session.cycle.number, (120, 160))
        plans.append(
            ReviewPlan(
                state_id=state["id"],
                state_name=state["short_name"],
                session_id=session.pk,
                cycle=session.cycle.number,
                report_symbol=symbol,
                adoption_date=adopted if session.end_date else None,
                base_date=adopted,
                paragraph=rng.randint(low, high),
                accepted_word="Accepted" if session.cycle.number <= 2 else "Supported",
                count=count,
            )
        )
    return plans


# The Working Group report's paragraph listing the recommendations grew with the cycles.
_PARAGRAPHS = {1: (60, 100), 2: (90, 130), 3: (110, 150)}


def _session_ranks() -> dict[int, int]:
    """A session's rank within its year (0 for the first), for sessions without dates."""
    ranks, seen = {}, Counter()
    for number, year in Session.objects.order_by("number").values_list("number", "year"):
        ranks[number] = seen[year]
        seen[year] += 1
    return ranks


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Integers proportional to `weights` summing to `total` (largest remainders, ties to the earlier)."""
    scale = total / sum(weights)
    shares = [w * scale for w in weights]
    counts = [math.floor(share) for share in shares]
    left = total - sum(counts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[:left]:
        counts[i] += 1
    return counts


def _reviews_create(plans: list[ReviewPlan]) -> None:
    created = Review.objects.bulk_create(
        [
            Review(
                state_id=plan.state_id,
                session_id=plan.session_id,
                report_symbol=plan.report_symbol,
                adoption_date=plan.adoption_date,
            )
            for plan in plans
        ]
    )
    for plan, review in zip(plans, created, strict=True):
        plan.id = review.pk


def _noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)


def _organisations_plan(*, rng: random.Random, count: int, reviews: list[ReviewPlan]) -> list[OrganisationPlan]:
    """A few dozen stakeholders of every kind; those tied to a country sit in states under review."""
    weight_of: dict[int, int] = {}
    name_of: dict[int, str] = {}
    for review in reviews:
        weight_of[review.state_id] = weight_of.get(review.state_id, 0) + review.count
        name_of[review.state_id] = review.state_name
    candidates = list(weight_of)
    cumulative = list(accumulate(weight_of.values()))

    def countries(k: int) -> list[int]:
        """k states, distinct while there are enough, the busiest under review the likeliest."""
        picked: list[int] = []
        while len(picked) < k:
            state = rng.choices(candidates, cum_weights=cumulative)[0]
            if state not in picked or len(picked) >= len(candidates):
                picked.append(state)
        return picked

    kinds, shares = zip(*v.ORGANISATION_KIND_SHARES, strict=True)
    plans: list[OrganisationPlan] = []
    names: set[str] = set()

    def add(kind: str, country: int | None, make_name) -> None:
        name = make_name()
        for _ in range(50):
            if name not in names:
                break
            name = make_name()
        else:
            name = f"{name} {len(plans) + 1}"
        names.add(name)
        plans.append(OrganisationPlan(name=name, slug=slugify(name)[:190], kind=kind, country_id=country))

    def invented() -> str:
        return rng.choice(v.INVENTED_NAMES)

    for kind, how_many in zip(kinds, _apportion(count, shares), strict=True):
        if kind == "cso":
            national = countries(math.floor(how_many * 0.4))
            for i in range(how_many):
                country = national[i] if i < len(national) else None
                owner = name_of[country] if country else None
                add(kind, country, lambda owner=owner: f"{owner or invented()} {rng.choice(v.CSO_FORMS)} "
                    f"{rng.choice(v.CSO_FOCUSES)}")  # fmt: skip
        elif kind in ("state", "nhri", "other"):
            forms = {"state": v.STATE_FORMS, "nhri": v.NHRI_FORMS, "other": v.OTHER_FORMS}[kind]
            for country in countries(how_many):
                add(
                    kind, country, lambda country=country, forms=forms: rng.choice(forms).format(state=name_of[country])
                )
        elif kind == "un_agency":
            global_ones = math.ceil(how_many / 2)
            for i in range(global_ones):
                add(kind, None, lambda i=i: v.UN_AGENCY_GLOBAL[i % len(v.UN_AGENCY_GLOBAL)])
            for country in countries(how_many - global_ones):
                add(kind, country, lambda country=country: v.UN_AGENCY_FORMS[0].format(state=name_of[country]))
        else:  # academic
            for _ in range(how_many):
                add(kind, None, lambda: rng.choice(v.ACADEMIC_FORMS).format(name=invented()))
    return plans


def _organisations_create(plans: list[OrganisationPlan], *, day: datetime.date) -> int:
    """Create the planned organisations; one of the same name already there is reused as it is."""
    existing = {org.name: org for org in Organisation.objects.filter(name__in=[plan.name for plan in plans])}
    slugs = set(Organisation.objects.filter(slug__in=[plan.slug for plan in plans]).values_list("slug", flat=True))
    new = []
    for plan in plans:
        org = existing.get(plan.name)
        if org is not None:
            plan.id, plan.kind, plan.country_id, plan.slug = org.pk, org.kind, org.country_id, org.slug
            continue
        slug, n = plan.slug, 1
        while slug in slugs:
            n += 1
            slug = f"{plan.slug[:185]}-{n}"
        slugs.add(slug)
        plan.slug = slug
        new.append(plan)
    created = Organisation.objects.bulk_create(
        [Organisation(name=p.name, slug=p.slug, kind=p.kind, country_id=p.country_id, website=p.website) for p in new]
    )
    for plan, org in zip(new, created, strict=True):
        plan.id = org.pk
    # created_at comes from the data, not the clock, so that a seed always gives the same rows.
    Organisation.objects.filter(pk__in=[org.pk for org in created]).update(created_at=_noon(day))
    return len(created)


def _eligible_organisations(plans: list[OrganisationPlan], reviews: list[ReviewPlan]) -> dict[int, list[int]]:
    """For each state under review, the organisations that assess its recommendations (indices in `plans`):
    every one without a country, and those of that state."""
    international = [i for i, plan in enumerate(plans) if plan.country_id is None]
    eligible = {}
    for review in reviews:
        if review.state_id not in eligible:
            national = [i for i, plan in enumerate(plans) if plan.country_id == review.state_id]
            eligible[review.state_id] = sorted(international + national)
    return eligible


def _users_create(*, rng: random.Random, organisations: list[OrganisationPlan], day: datetime.date) -> tuple[int, int]:
    """A few users, members of every third organisation (its admin, sometimes an editor too). They cannot log in:
    their password is unusable. Existing users of the same name are reused."""
    wanted: list[tuple[str, str, str, OrganisationPlan, str]] = []
    usernames: set[str] = set()
    for index, org in enumerate(organisations):
        if index % 3:
            continue
        for role in (Membership.Role.ADMIN, Membership.Role.EDITOR)[: 1 + (rng.random() < 0.4)]:
            first, last = rng.choice(v.FIRST_NAMES), rng.choice(v.LAST_NAMES)
            username, n = f"{first}.{last}".lower(), 1
            while username in usernames:
                n += 1
                username = f"{first}.{last}{n}".lower()
            usernames.add(username)
            wanted.append((username, first, last, org, role))
    existing = {user.username: user for user in User.objects.filter(username__in=usernames)}
    new_users = [
        User(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@{org.slug}.example.org",
            password="!" + rng.randbytes(20).hex(),  # unusable (like set_unusable_password), but from the seed
            date_joined=_noon(day),
        )
        for username, first, last, org, _ in wanted
        if username not in existing
    ]
    for user in User.objects.bulk_create(new_users):
        existing[user.username] = user
    members = set(
        Membership.objects.filter(user__username__in=usernames).values_list("user__username", "organisation_id")
    )
    new_memberships = [
        Membership(user=existing[username], organisation_id=org.id, role=role)
        for username, _, _, org, role in wanted
        if (username, org.id) not in members
    ]
    created = Membership.objects.bulk_create(new_memberships)
    Membership.objects.filter(pk__in=[m.pk for m in created]).update(created_at=_noon(day))
    for username, _, _, org, _ in wanted:
        org.member_ids.append(existing[username].pk)
    for org in organisations:
        org.member_ids.sort()
    return len(new_users), len(created)
