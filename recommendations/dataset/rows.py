"""Row generation for the data set: plain tuples, one stream per table, the same for every database writer.

Each stream draws from its own random.Random, so the rows depend only on the seed and on the plan (reviews,
organisations) they are given; nothing reads the clock or iterates over a set.
"""

import datetime
import json
import math
import random
from array import array
from bisect import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate

from recommendations.dataset import vocabulary as v
from recommendations.imports.keys import recommendation_natural_key as natural_key

# Response codes kept per generated recommendation, for the later streams.
ACCEPTED, NOTED, PLEDGE = 0, 1, 2
_RESPONSE_KEYS = {ACCEPTED: "accepted", NOTED: "noted", PLEDGE: ""}

# Draws of a pledge text not yet used in the review before the row becomes a recommendation instead.
_PLEDGE_ATTEMPTS = 20
RECOMMENDATION_COLUMNS = (
    "id", "review_id", "kind", "paragraph_ref", "text", "response", "response_original", "action_category",
    "created_at", "updated_at", "natural_key",
)  # fmt: skip
ISSUE_LINK_COLUMNS = ("recommendation_id", "issue_id")
STATE_LINK_COLUMNS = ("recommendation_id", "state_id")
ASSESSMENT_COLUMNS = (
    "recommendation_id", "organisation_id", "author_id", "last_editor_id", "phase", "status", "comment",
    "evidence_urls", "assessed_on", "visibility", "version", "created_at", "updated_at", "hidden_reason",
)  # fmt: skip


def timestamp(day: datetime.date) -> str:
    """Creation time of generated rows: noon UTC on a day taken from the data, never the clock.

    The same text suits both writers: PostgreSQL reads it in the connection's UTC, SQLite stores it as is.
    """
    return f"{day.isoformat()} 12:00:00"


@dataclass
class ReviewPlan:
    """A review to create, and how many rows (recommendations and pledges) it gets."""

    state_id: int
    state_name: str
    session_id: int
    cycle: int
    report_symbol: str
    adoption_date: datetime.date | None
    base_date: datetime.date  # adoption, or its estimate where the session has no dates
    paragraph: int
    accepted_word: str
    count: int
    id: int | None = None


@dataclass
class OrganisationPlan:
    name: str
    slug: str
    kind: str
    country_id: int | None
    id: int | None = None
    member_ids: list[int] = field(default_factory=list)

    @property
    def website(self) -> str:
        return f"https://{self.slug}.example.org"


class Catalogue:
    """Every recommendation text the generator can write, by action category, with the issues each one carries."""

    def __init__(self, issue_ids: dict[str, int]):
        theme_counts: dict[str, int] = {}
        for theme in v.THEMES:
            theme_counts[theme.issues[0]] = theme_counts.get(theme.issues[0], 0) + 1
        self.texts: list[str] = []
        self.issue_ids: list[tuple[int, ...]] = []
        self.categories: dict[int, tuple[list[float], list[int]]] = {}
        self.pledges: dict[int, tuple[list[float], list[int]]] = {}
        for category, frames in v.FRAMES.items():
            weights, indices = [], []
            for theme in v.THEMES:
                suits = "specific" if theme.specific else "general"
                theme_weight = v.ISSUE_FREQUENCIES[theme.issues[0]] / theme_counts[theme.issues[0]]
                for frame, frame_weight, frame_suits in frames:
                    if frame_suits not in ("any", suits):
                        continue
                    issues = theme.issues + ((v.FRAME_ISSUES[frame],) if frame in v.FRAME_ISSUES else ())
                    suffixes = [("", 1, "any")] if frame in v.FRAMES_WITHOUT_SUFFIX else v.SUFFIXES
                    for suffix, suffix_weight, suffix_suits in suffixes:
                        if suffix_suits not in ("any", suits):
                            continue
                        indices.append(self._add(_phrase(frame, theme) + suffix, issues, issue_ids))
                        weights.append(theme_weight * frame_weight * suffix_weight)
            self.categories[category] = (list(accumulate(weights)), indices)
        for category, frames in v.PLEDGE_FRAMES.items():
            weights, indices = [], []
            for theme in v.THEMES:
                theme_weight = v.ISSUE_FREQUENCIES[theme.issues[0]] / theme_counts[theme.issues[0]]
                for frame in frames:
                    indices.append(self._add(_phrase(frame, theme), theme.issues, issue_ids))
                    weights.append(theme_weight)
            self.pledges[category] = (list(accumulate(weights)), indices)

    def _add(self, text: str, issues: tuple[str, ...], issue_ids: dict[str, int]) -> int:
        self.texts.append(text)
        self.issue_ids.append(tuple(dict.fromkeys(issue_ids[name] for name in issues if name in issue_ids)))
        return len(self.texts) - 1


def _phrase(frame: str, theme: v.Theme) -> str:
    verb = theme.verb
    return frame.format(v=verb, V=verb[0].upper() + verb[1:], g=v.GERUNDS[verb], o=theme.object)


def _picker(weights):
    """(cumulative weights, total) for bisect-based weighted choice, cheaper than random.choices per call."""
    cumulative = list(accumulate(weights))
    return cumulative, cumulative[-1]


@dataclass
class GeneratedRecommendations:
    """What later streams need to know about each generated row, by position (id = first_id + position)."""

    first_id: int
    entries: array = field(default_factory=lambda: array("I"))
    responses: array = field(default_factory=lambda: array("b"))


def recommendation_rows(
    *, rng: random.Random, reviews: list[ReviewPlan], catalogue: Catalogue, out: GeneratedRecommendations
) -> Iterator[tuple]:
    rnd = rng.random
    category_cum, category_total = _picker(v.ACTION_CATEGORY_COUNTS)
    pledge_cum, pledge_total = _picker(v.PLEDGE_ACTION_CATEGORY_COUNTS)
    accepted_share = v.ACCEPTED_SHARE_BY_CATEGORY
    texts = catalogue.texts
    tables = [None] + [catalogue.categories[c] for c in range(1, 6)]
    pledge_tables = [None] + [catalogue.pledges[c] for c in range(1, 6)]
    entries_append, responses_append = out.entries.append, out.responses.append
    pledge_share = v.PLEDGE_SHARE
    rec_id = out.first_id
    for review in reviews:
        review_id, created = review.id, timestamp(review.base_date)
        prefix, accepted_word = f"{review.paragraph}.", review.accepted_word
        number = 0
        pledged = set()  # a state pledges a thing once per review: the same text twice would share a natural key
        for _ in range(review.count):
            entry = None
            if rnd() < pledge_share:
                for _attempt in range(_PLEDGE_ATTEMPTS):
                    category = bisect(pledge_cum, rnd() * pledge_total) + 1
                    cum, indices = pledge_tables[category]
                    entry = indices[bisect(cum, rnd() * cum[-1])]
                    if entry not in pledged:
                        break
                else:
                    entry = None  # every drawn pledge was taken: this row becomes a recommendation
            if entry is not None:
                pledged.add(entry)
                text = f"{review.state_name} {texts[entry]}"
                # The same natural key an import computes, so that generated rows re-import idempotently.
                key = natural_key(kind="voluntary_pledge", paragraph_ref="", text=text,
                                  recommending_state_ids=(review.state_id,))  # fmt: skip
                row = (rec_id, review_id, "voluntary_pledge", "", text, "", "Voluntary Pledge", category, created,
                       created, key)  # fmt: skip
                responses_append(PLEDGE)
            else:
                category = bisect(category_cum, rnd() * category_total) + 1
                cum, indices = tables[category]
                entry = indices[bisect(cum, rnd() * cum[-1])]
                number += 1
                if rnd() < accepted_share[category - 1]:
                    response, original, code = "accepted", accepted_word, ACCEPTED
                else:
                    response, original, code = "noted", "Noted", NOTED
                paragraph = f"{prefix}{number}"
                key = natural_key(kind="recommendation", paragraph_ref=paragraph, text="", recommending_state_ids=())
                row = (rec_id, review_id, "recommendation", paragraph, texts[entry], response, original,
                       category, created, created, key)  # fmt: skip
                responses_append(code)
            entries_append(entry)
            yield row
            rec_id += 1


def issue_link_rows(
    *, rng: random.Random, generated: GeneratedRecommendations, catalogue: Catalogue, issue_weights: dict[int, float]
) -> Iterator[tuple[int, int]]:
    """1–6 issues per recommendation: the text's own issues first, then others in their real proportions."""
    rnd = rng.random
    count_cum, count_total = _picker(v.ISSUE_COUNT_FREQUENCIES)
    pool = list(issue_weights)
    pool_cum, pool_total = _picker(issue_weights.values())
    own_issues = catalogue.issue_ids
    rec_id = generated.first_id
    for entry in generated.entries:
        wanted = bisect(count_cum, rnd() * count_total) + 1
        own = own_issues[entry]
        if wanted <= len(own):
            chosen = own[:wanted]
        else:
            chosen = list(own)
            while len(chosen) < wanted:
                issue = pool[bisect(pool_cum, rnd() * pool_total)]
                if issue not in chosen:
                    chosen.append(issue)
        for issue in chosen:
            yield rec_id, issue
        rec_id += 1


def state_link_rows(
    *,
    rng: random.Random,
    generated: GeneratedRecommendations,
    reviews: list[ReviewPlan],
    state_weights: dict[int, float],
) -> Iterator[tuple[int, int]]:
    """Mostly one recommending state, sometimes 2–4, never the state under review; a pledge is the state's own."""
    rnd = rng.random
    count_cum, count_total = _picker(v.RECOMMENDING_STATE_COUNT_FREQUENCIES)
    pool = list(state_weights)
    pool_cum, pool_total = _picker(state_weights.values())
    responses = generated.responses
    rec_id, position = generated.first_id, 0
    for review in reviews:
        under_review = review.state_id
        for _ in range(review.count):
            if responses[position] == PLEDGE:
                yield rec_id, under_review
            else:
                wanted = bisect(count_cum, rnd() * count_total) + 1
                chosen: list[int] = []
                while len(chosen) < wanted:
                    state = pool[bisect(pool_cum, rnd() * pool_total)]
                    if state != under_review and state not in chosen:
                        chosen.append(state)
                for state in chosen:
                    yield rec_id, state
            rec_id += 1
            position += 1


_NOT, _PARTIAL, _FULL, _NO_INFO = "not_implemented", "partially_implemented", "fully_implemented", "no_information"
_LADDER = (_NOT, _PARTIAL, _FULL)
_STATUS_INDEX = {_NOT: 0, _PARTIAL: 1, _FULL: 2, _NO_INFO: 3}


def assessment_capacity(*, reviews: list[ReviewPlan], eligible: dict[int, list[int]]) -> int:
    """At most one assessment per (recommendation, organisation, phase) for the organisations that follow a state."""
    return sum(review.count * 2 * len(eligible[review.state_id]) for review in reviews)


def _assessed(
    *, rng: random.Random, total: int, responses: array, reviews: list[ReviewPlan], eligible: dict[int, list[int]]
) -> tuple[array, array, array]:
    """Which recommendations are assessed (positions, their review's index) and how many times each.

    Accepted ones are picked more often than noted ones; each gets one assessment, and the rest are spread at
    random (at most one per organisation and phase).
    """
    rnd = rng.random
    weight_of = [v.ASSESSMENT_WEIGHT_BY_RESPONSE[_RESPONSE_KEYS[code]] for code in (ACCEPTED, NOTED, PLEDGE)]
    target = min(len(responses), math.ceil(total / v.ASSESSED_SHARE_TARGET))
    total_weight = sum(weight_of[code] * responses.count(code) for code in (ACCEPTED, NOTED, PLEDGE))
    probability = [min(1.0, weight * target / total_weight) for weight in weight_of]
    selected, review_of, caps = array("I"), array("I"), array("I")
    start = 0
    for review_index, review in enumerate(reviews):
        cap = 2 * len(eligible[review.state_id])
        for position in range(start, start + review.count):
            p = probability[responses[position]]
            if cap and (p >= 1.0 or rnd() < p):
                selected.append(position)
                review_of.append(review_index)
                caps.append(cap)
        start += review.count
    if len(selected) > total:
        keep = sorted(rng.sample(range(len(selected)), total))
        selected = array("I", (selected[i] for i in keep))
        review_of = array("I", (review_of[i] for i in keep))
        caps = array("I", (caps[i] for i in keep))
    n_selected = len(selected)
    counts = array("I", [1]) * n_selected
    extra = total - n_selected
    spare = sum(caps) - n_selected
    if extra > spare:
        raise ValueError(f"{total:,} assessments do not fit: at most {spare + n_selected:,} for these organisations")
    if extra * 2 <= spare:  # plenty of room: uniform at random, retrying the full ones
        while extra:
            i = int(rnd() * n_selected)
            if counts[i] < caps[i]:
                counts[i] += 1
                extra -= 1
    else:  # nearly full: fill recommendations up, in a random order
        order = list(range(n_selected))
        rng.shuffle(order)
        for i in order:
            add = min(caps[i] - counts[i], extra)
            counts[i] += add
            extra -= add
            if not extra:
                break
    return selected, review_of, counts


def _distinct(rnd, items: list[int], k: int) -> list[int]:
    """k distinct items drawn at random (k <= len(items)); cheaper than random.sample for small k."""
    n = len(items)
    if k * 3 > n:
        pool = list(items)
        for i in range(k):  # partial Fisher-Yates
            j = i + int(rnd() * (n - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]
    chosen: list[int] = []
    while len(chosen) < k:
        item = items[int(rnd() * n)]
        if item not in chosen:
            chosen.append(item)
    return chosen


def assessment_rows(
    *,
    rng: random.Random,
    total: int,
    generated: GeneratedRecommendations,
    reviews: list[ReviewPlan],
    organisations: list[OrganisationPlan],
    eligible: dict[int, list[int]],
) -> Iterator[tuple]:
    """`total` assessments over a share of the recommendations, statuses calibrated on UPR Info's findings.

    `eligible` maps a state under review to the indices (in `organisations`) of those that assess its
    recommendations: its own state bodies, NHRI and national organisations, and every international one.
    Hot loop: one 64-bit random number per assessment feeds all its small choices.
    """
    if total <= 0:
        return
    rnd, bits = rng.random, rng.getrandbits
    responses = generated.responses
    selected, review_of, counts = _assessed(
        rng=rng, total=total, responses=responses, reviews=reviews, eligible=eligible
    )

    # Texts by day: every day an assessment can fall on, computed once.
    windows = {"mid_term": v.MID_TERM_WINDOW, "next_review": v.NEXT_REVIEW_WINDOW}
    first_day = min(review.base_date for review in reviews).toordinal() + v.MID_TERM_WINDOW[0]
    last_day = max(review.base_date for review in reviews).toordinal() + sum(v.NEXT_REVIEW_WINDOW)
    days = [datetime.date.fromordinal(o) for o in range(first_day, last_day + 1)]
    day_texts = [(day.isoformat(), timestamp(day)) for day in days]
    # Comments by (year, status): the empty comment among them in its share, so that one index picks either.
    years = range(days[0].year, days[-1].year + 1)
    comments: dict[int, list[tuple[str, ...]]] = {}
    for year in years:
        comments[year] = []
        for status in (_NOT, _PARTIAL, _FULL, _NO_INFO):
            texts = [text.format(year=year) for text in v.COMMENTS[status]]
            empties = round(len(texts) * v.EMPTY_COMMENT_SHARE / (1 - v.EMPTY_COMMENT_SHARE))
            comments[year].append(tuple(texts + [""] * empties))
    year_of_day = [comments[day.year] for day in days]
    # evidence_urls as JSON text, which COPY and SQLite both take for a JSON column
    evidence = [{year: json.dumps([f"{org.website}/upr-follow-up/{year}"]) for year in years} for org in organisations]
    visibility_table = _table_of_256(v.VISIBILITY_WEIGHTS)
    evidence_below = round(256 * v.EVIDENCE_SHARE)
    no_info_below = round(1024 * v.NO_INFORMATION_SHARE)
    disagree_below = no_info_below + round(1024 * v.DISAGREEMENT_SHARE)
    next_below = v.NEXT_REVIEW_SHARE
    probabilities = [v.MID_TERM_PROBABILITIES[_RESPONSE_KEYS[code]] for code in (ACCEPTED, NOTED, PLEDGE)]
    progress = [v.NEXT_REVIEW_PROGRESS[_LADDER[0]], v.NEXT_REVIEW_PROGRESS[_LADDER[1]]]
    org_ids = [org.id for org in organisations]
    org_is_state = [org.kind == "state" for org in organisations]
    org_members = [org.member_ids for org in organisations]
    base_days = [review.base_date.toordinal() - first_day for review in reviews]
    state_of = [review.state_id for review in reviews]
    first_id = generated.first_id

    for position, review_index, count in zip(selected, review_of, counts, strict=True):
        # The recommendation's own status at mid-term and at the next review; assessors mostly agree with it.
        p_partial, p_full = probabilities[responses[position]]
        u = rnd()
        mid_term = 2 if u < p_full else 1 if u < p_full + p_partial else 0
        if mid_term < 2:
            one_up, two_up = progress[mid_term]
            u = rnd()
            next_review = mid_term + 2 if u < two_up else mid_term + 1 if u < two_up + one_up else mid_term
        else:
            next_review = 2
        orgs = eligible[state_of[review_index]]
        n_orgs = len(orgs)
        n_next = sum(rnd() < next_below for _ in range(count)) if count > 1 else int(rnd() < next_below)
        n_mid = count - n_next
        if n_mid > n_orgs:
            n_next, n_mid = n_next + n_mid - n_orgs, n_orgs
        elif n_next > n_orgs:
            n_mid, n_next = n_mid + n_next - n_orgs, n_orgs
        base = base_days[review_index]
        rec_id = first_id + position
        for phase, how_many, latent in (("mid_term", n_mid, mid_term), ("next_review", n_next, next_review)):
            if not how_many:
                continue
            start, spread = windows[phase]
            earliest = base + start
            chosen = (orgs[int(rnd() * n_orgs)],) if how_many == 1 else _distinct(rnd, orgs, how_many)
            for org in chosen:
                r = bits(64)
                u = r >> 54  # 10 bits
                if u < no_info_below:
                    status = 3
                elif u < disagree_below:
                    if org_is_state[org]:  # a state reporting on itself errs on the bright side
                        status = latent + 1 if latent < 2 else 1
                    else:
                        status = (latent + 1 + (r >> 53 & 1)) % 3
                else:
                    status = latent
                day = earliest + ((r & 0x3FF) * spread >> 10)
                day_text, created = day_texts[day]
                choices = year_of_day[day][status]
                comment = choices[((r >> 10) & 0xFFFF) * len(choices) >> 16]
                links = evidence[org][days[day].year] if (r >> 26) & 0xFF < evidence_below else "[]"
                members = org_members[org]
                author = members[((r >> 42) & 0x7FF) * len(members) >> 11] if members else None
                yield (rec_id, org_ids[org], author, author, phase, _STATUSES[status], comment, links, day_text,
                       visibility_table[(r >> 34) & 0xFF], 1, created, created, "")  # fmt: skip


_STATUSES = (_NOT, _PARTIAL, _FULL, _NO_INFO)


def _table_of_256(weights: tuple[tuple[str, int], ...]) -> list[str]:
    """256 entries in proportion to the weights: an 8-bit random number indexes a weighted choice."""
    total = sum(weight for _, weight in weights)
    counts = [round(256 * weight / total) for _, weight in weights]
    counts[0] += 256 - sum(counts)
    return [value for (value, _), count in zip(weights, counts, strict=True) for _ in range(count)]
