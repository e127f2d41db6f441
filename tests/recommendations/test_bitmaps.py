"""The search's facet bitmaps (recommendations/bitmaps.py) give exactly what the SQL path gives."""

import itertools
import time

import pytest
from django.db.models import Count

from followup.status import implementation_status_refresh
from recommendations import bitmaps
from recommendations.bitmaps import bitmap_counts, bitmaps_build, bitmaps_current, bitmaps_forget
from recommendations.dataset import dataset_generate
from recommendations.facets import (
    FacetCounts,
    data_version,
    facet_counts,
    reference_cache_clear,
    reference_load,
    search_data_changed,
)
from recommendations.models import Recommendation
from reviews.models import IntergovernmentalOrganisation
from tests.factories import RecommendationFactory
from tests.recommendations.searching import filterset_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def generated():
    dataset_generate(recommendations=1500, assessments=3000, seed=11)
    implementation_status_refresh()
    bitmaps_forget()
    yield
    bitmaps_forget()


def _shown(counted: FacetCounts) -> dict:
    return {name: [(v.code, v.count, v.selected) for v in facet.values] for name, facet in counted.facets.items()}


def _searches() -> list[dict]:
    """Searches over the generated data: each facet alone, then pairs and triples of them."""
    recs = Recommendation.objects.filter(kind=Recommendation.Kind.RECOMMENDATION)
    sur = recs.values("review__state__iso3").annotate(n=Count("id")).order_by("-n")[0]["review__state__iso3"]
    made = recs.values("recommending_states__iso3").annotate(n=Count("id")).order_by("-n")
    session = recs.values("session_number").annotate(n=Count("id")).order_by("-n")[0]["session_number"]
    issue = recs.values("issues__slug").annotate(n=Count("id")).order_by("-n")[0]["issues__slug"]
    organisation = IntergovernmentalOrganisation.objects.order_by("acronym").first().acronym
    single = [
        {"sur": sur},
        {"sur_region": ["WEOG", "GRULAC"]},
        {"from": [made[0]["recommending_states__iso3"], made[1]["recommending_states__iso3"]]},
        {"from_region": "EEG"},
        {"org": organisation},
        {"session": str(session)},
        {"cycle": ["2", "3"]},
        {"response": "noted"},
        {"action": ["4", "5"]},
        {"issue": issue},
        {"status": ["none", "partially_implemented"]},
        {"kind": "any"},
        {"kind": "voluntary_pledge"},
    ]
    combined = [{**a, **b} for a, b in itertools.combinations(single[:11], 2)]
    triples = [{**single[1], **single[7], **single[10]}, {"issue": issue, "from_region": "WEOG", "status": "none"}]
    return [{}, *single, *combined, *triples]


def _sql_page(filterset, sql: FacetCounts, page: tuple[int, int]) -> list[int]:
    """The SQL path's ids of the page asked for, or of the last page when it is past the end (as the bitmaps give)."""
    offset, limit = page
    if offset < sql.total:
        return sql.page_ids
    return facet_counts(filterset, page=(max(0, (sql.total - 1) // limit * limit), limit)).page_ids


def test_bitmaps_count_every_facet_and_page_exactly_as_sql_does(generated):
    maps = bitmaps_build(0, reference_load())
    checked = 0
    for params in _searches():
        for sort, page in (("", (0, 25)), ("", (40, 25)), ("oldest", (0, 25)), ("oldest", (30, 50)),
                           ("state", (0, 25)), ("state", (60, 25)), ("", (10_000, 25))):  # fmt: skip
            filterset = filterset_for({**params, **({"sort": sort} if sort else {})})
            sql = facet_counts(filterset, page=page)
            fast = bitmap_counts(filterset, maps, page=page)
            assert fast.total == sql.total, params
            assert _shown(fast) == _shown(sql), params
            assert fast.page_ids == _sql_page(filterset, sql, page), (params, sort, page)
            checked += bool(sql.total) + bool(sql.page_ids)
    assert checked > 150  # most searches found something: the comparison is not between empty results


TEXTS = ["torture", "rights", '"death penalty"', "women -violence", "hate speech OR racism", "continue efforts",
         "ratified", "zzzqqq", "the", "human rights", "non-refoulement", '"right to education"']  # fmt: skip


def test_searches_with_text_count_and_rank_exactly_as_sql_does(generated):
    maps = bitmaps_build(0, reference_load())
    issue = _searches()[10]["issue"]
    searches = [{}, {"response": "noted"}, {"sur_region": ["Africa", "Asia"], "status": "none"}, {"kind": "any"},
                {"from_region": "WEOG", "cycle": ["2", "3"]}, {"issue": issue, "action": "4"}]  # fmt: skip
    found = 0
    for text, params in itertools.product(TEXTS, searches):
        for sort, page in (("", (0, 25)), ("", (20, 10)), ("date", (0, 25)), ("state", (5, 25))):
            filterset = filterset_for({"q": text, **params, **({"sort": sort} if sort else {})})
            sql = facet_counts(filterset, page=page)
            fast = bitmap_counts(filterset, maps, page=page)
            assert fast.total == sql.total, (text, params)
            assert _shown(fast) == _shown(sql), (text, params)
            assert fast.page_ids == _sql_page(filterset, sql, page), (text, params, sort, page)
            found += bool(sql.page_ids)
    assert found > 80


def test_search_page_without_text_reads_no_recommendation_row_for_its_counts(
    generated, client, settings, django_assert_max_num_queries
):
    settings.SEARCH_BITMAPS = "off"
    slow = client.get("/recommendations/", {"response": "accepted", "sur_region": "Africa"}).content.decode()
    settings.SEARCH_BITMAPS = "inline"
    client.get("/recommendations/")  # builds the bitmaps of this data version
    with django_assert_max_num_queries(6):  # fingerprint, version (cache), the page's rows, snippets: no count query
        fast = client.get("/recommendations/", {"response": "accepted", "sur_region": "Africa"}).content.decode()
    marker = 'data-total="'
    assert fast[fast.index(marker) :][:20] == slow[slow.index(marker) :][:20]
    assert fast.count('class="facet__count"') == slow.count('class="facet__count"')


def test_new_data_makes_new_bitmaps(generated, settings):
    settings.SEARCH_BITMAPS = "inline"
    reference = reference_load()
    first = bitmaps_current(reference)
    assert bitmaps_current(reference) is first  # kept while the data stays the same
    before = bitmap_counts(filterset_for({}), first, page=(0, 0)).total
    RecommendationFactory(review=Recommendation.objects.first().review, text="Newly imported")
    search_data_changed()
    second = bitmaps_current(reference)
    assert second is not first
    assert bitmap_counts(filterset_for({}), second, page=(0, 0)).total == before + 1
    reference_cache_clear()  # reference data loaded again (a state joined an organisation, say): new bitmaps
    assert bitmaps_current(reference_load()) is not second


def test_in_the_background_the_sql_path_answers_until_the_bitmaps_are_built(settings):
    """A thread builds them, on its own connection: it sees the committed data only (the reference data, none of
    this test's rows), which is enough to see the mechanics without committing anything."""
    settings.SEARCH_BITMAPS = "background"
    bitmaps_forget()
    reference = reference_load()
    assert bitmaps_current(reference) is None  # a thread builds them meanwhile
    assert bitmaps_current(reference) is None  # and only one thread
    deadline = time.monotonic() + 30
    while (maps := bitmaps_current(reference)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert maps is not None
    assert maps.version == data_version() and maps.reference is reference
    assert bitmaps_current(reference) is maps
    bitmaps_forget()


def test_off_never_builds_bitmaps(settings):
    settings.SEARCH_BITMAPS = "off"
    assert bitmaps_current(reference_load()) is None
    assert bitmaps._current is None


def test_assessments_patch_the_status_bitmaps_instead_of_reading_everything_again(
    generated, settings, django_capture_on_commit_callbacks
):
    from followup.models import Assessment, Organisation
    from followup.status import implementation_status_refresh

    settings.SEARCH_BITMAPS = "inline"
    reference = reference_load()
    first = bitmaps_current(reference)
    unassessed = list(Recommendation.objects.filter(implementation_status="").values_list("id", flat=True)[:3])
    organisation = Organisation.objects.first()
    with django_capture_on_commit_callbacks(execute=True):
        for pk, status in zip(unassessed, ["fully_implemented", "not_implemented", "fully_implemented"], strict=True):
            Assessment.objects.create(recommendation_id=pk, organisation=organisation, status=status,
                                      assessed_on="2020-01-01", visibility="public")  # fmt: skip
        implementation_status_refresh(unassessed)
    patched = bitmaps_current(reference)
    assert patched is not first and patched.version == data_version()
    assert patched.words is first.words and patched.sur is first.sur  # shared: only the statuses were read again
    for params in ({}, {"status": "fully_implemented"}, {"status": ["none", "not_implemented"], "response": "noted"}):
        filterset = filterset_for(params)
        assert _shown(bitmap_counts(filterset, patched, page=(0, 0))) == _shown(facet_counts(filterset)), params
    with django_capture_on_commit_callbacks(execute=True):
        search_data_changed()  # any other change (an import, say): everything is read again
    rebuilt = bitmaps_current(reference)
    assert rebuilt.words is not first.words and rebuilt.version == data_version()


def test_the_apis_ranked_pages_from_the_bitmaps_are_those_postgresql_ranks(
    generated, client, settings, django_assert_max_num_queries
):
    """/api/v1/recommendations/?q=... by relevance: the same count, rows and order, page after page, whether
    PostgreSQL ranks every match (SEARCH_BITMAPS off) or the bitmaps and word index do (one word: in memory)."""
    api = "/api/v1/recommendations/"
    searches = [{"q": "rights"}, {"q": "rights -women"}, {"q": "rights", "response": "noted", "cycle": ["2", "3"]},
                {"q": '"human rights"'}, {"q": "ratify OR torture", "sur_region": "Africa"}, {"q": "zzzunknown"},
                {"q": "the"}]  # fmt: skip
    pages = [{"page_size": "7"}, {"page_size": "7", "page": "2"}, {"page_size": "100", "page": "last"}]
    settings.SEARCH_BITMAPS = "off"
    slow = {(i, j): client.get(api, {**s, **p}).json() for i, s in enumerate(searches) for j, p in enumerate(pages)}
    settings.SEARCH_BITMAPS = "inline"
    client.get(api, {"q": "rights"})  # builds the bitmaps of this data version
    shown = 0
    for (i, j), expected in slow.items():
        with django_assert_max_num_queries(8):  # no ranking and no count statement: reference, rows, prefetches
            fast = client.get(api, {**searches[i], **pages[j]}).json()
        if "error" in expected:  # a page past the end: the same 404
            assert fast == expected
            continue
        assert fast["count"] == expected["count"], searches[i]
        assert [r["id"] for r in fast["results"]] == [r["id"] for r in expected["results"]], (searches[i], pages[j])
        assert fast == expected
        shown += len(fast["results"])
    assert shown > 100 and slow[0, 0]["count"] > 14
