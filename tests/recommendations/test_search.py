"""The recommendation search: full text, facets with counts, order, pages, partial updates and bad input."""

import re

import pytest

from followup.models import Assessment
from followup.status import implementation_status_refresh
from recommendations import search
from recommendations.facets import reference_load
from recommendations.filters import RecommendationFilterSet
from recommendations.models import Issue, Recommendation
from recommendations.selectors import recommendation_search
from reviews.models import Review, Session, State
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db

R = Recommendation.Response
S = Assessment.Status
URL = "/recommendations/"


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


def _issue(name: str) -> Issue:
    return Issue.objects.get(name=name)


def _review(iso3: str, session: int) -> Review:
    return ReviewFactory(state=_state(iso3), session=Session.objects.get(number=session))


@pytest.fixture
def data():
    """Five recommendations to France (session 28), Kenya (session 20) and Brazil (session 41), by several states."""
    france, kenya, brazil = _review("FRA", 28), _review("KEN", 20), _review("BRA", 41)
    women, torture = _issue("Women's rights"), _issue("Torture and other CID treatment")
    recs = {
        "ratify": RecommendationFactory(
            review=france, text="Ratify the Optional Protocol to the Convention against Torture",
            response=R.ACCEPTED, action_category=5, recommending_states=[_state("DEU"), _state("SEN")],
            issues=[torture],
        ),
        "ratified": RecommendationFactory(
            review=kenya, text="Consider ratifying the Convention on the Rights of Persons with Disabilities",
            response=R.NOTED, action_category=3, recommending_states=[_state("DEU"), _state("FRA")], issues=[],
        ),
        "violence": RecommendationFactory(
            review=kenya, text="Fight violence against women and girls, and ratify the Istanbul Convention",
            response=R.ACCEPTED, action_category=4, recommending_states=[_state("ARG")], issues=[women],
        ),
        "women": RecommendationFactory(
            review=brazil, text="Protect women human rights defenders from attacks & <script>threats</script>",
            response=R.ACCEPTED, action_category=4, recommending_states=[_state("NOR")], issues=[women],
        ),
        "death": RecommendationFactory(
            review=brazil, text="Abolish the death penalty and commute death sentences",
            response=R.NOTED, action_category=5, recommending_states=[_state("FRA")], issues=[torture],
        ),
    }  # fmt: skip
    RecommendationFactory(
        review=france, kind=Recommendation.Kind.VOLUNTARY_PLEDGE, text="France pledges to ratify a treaty",
        response=R.NOT_APPLICABLE, recommending_states=[], issues=[],
    )  # fmt: skip
    watchers, friends = OrganisationFactory(name="Watchers"), OrganisationFactory(name="Friends")
    AssessmentFactory(recommendation=recs["ratify"], organisation=watchers, status=S.PARTIALLY_IMPLEMENTED)
    AssessmentFactory(recommendation=recs["women"], organisation=watchers, status=S.NOT_IMPLEMENTED)
    AssessmentFactory(recommendation=recs["women"], organisation=friends, status=S.FULLY_IMPLEMENTED)
    implementation_status_refresh()
    return recs


def _search(**params) -> tuple[list[str], object]:
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for name, value in params.items():
        query.setlist(name.rstrip("_"), value if isinstance(value, list) else [value])
    page = recommendation_search(params=query)
    return [r.text for r in page.recommendations], page


def _keys(data, texts: list[str]) -> list[str]:
    by_text = {rec.text: key for key, rec in data.items()}
    return [by_text.get(text, text) for text in texts]


def _counts(page, facet: str) -> dict[str, int]:
    return {value.code: value.count for value in page.facets[facet].values}


# --- Full text ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("ratify", {"ratify", "ratified", "violence"}),  # stemming: "ratifying" is found by "ratify"
        ("RATIFIED convention", {"ratify", "ratified", "violence"}),
        ('"death penalty"', {"death"}),
        ('"penalty death"', set()),  # a phrase keeps its order
        ("ratify -women", {"ratify", "ratified"}),
        ('convention -"istanbul convention"', {"ratify", "ratified"}),
        ("disabilities or defenders", {"ratified", "women"}),
    ],
)
def test_text_search_stems_and_reads_phrases_exclusions_and_or(data, q, expected):
    texts, page = _search(q=q)
    assert set(_keys(data, texts)) == expected
    assert page.total == len(expected)


def test_text_search_ranks_the_better_match_first(data):
    twice = RecommendationFactory(
        review=data["death"].review, text="Prevent torture in prisons and prosecute torture by the police"
    )
    texts, page = _search(q="torture")
    assert texts == [twice.text, data["ratify"].text]
    assert page.filterset.order == "relevance"
    # Newest first when asked, whatever the rank.
    assert _search(q="torture", sort="oldest")[0] == [data["ratify"].text, twice.text]


def test_snippet_marks_the_matching_words_and_escapes_the_text(data):
    _, page = _search(q="defenders attack")
    [recommendation] = page.recommendations
    assert recommendation.headline == (
        "Protect women human rights <mark>defenders</mark> from <mark>attacks</mark> &amp; "
        "&lt;script&gt;threats&lt;/script&gt;"
    )


def test_search_page_shows_highlighted_snippets_escaped(client, data):
    body = client.get(URL, {"q": "defenders"}).content.decode()
    assert "<mark>defenders</mark>" in body
    assert "<script>threats" not in body


@pytest.mark.parametrize(
    ("q", "message"),
    [("the and of", "only very common words"), ("-women", "only leaves words out"), ("-", None)],
)
def test_query_that_cannot_run_gives_a_message_and_no_results(data, q, message):
    texts, page = _search(q=q)
    if message:
        assert texts == [] and page.total == 0
        assert any(message in notice for notice in page.notices)
    else:  # a lone sign is no query at all
        assert page.total == 5


def test_sqlite_fallback_reads_words_phrases_and_exclusions_without_stemming(data, monkeypatch):
    monkeypatch.setattr(search, "_postgres", lambda: False)
    assert set(_keys(data, _search(q="ratify")[0])) == {"ratify", "violence", "ratified"}  # "ratify" in "ratifying"
    assert set(_keys(data, _search(q="ratified")[0])) == set()  # no stemming
    assert set(_keys(data, _search(q='"death penalty" -commute')[0])) == set()
    assert set(_keys(data, _search(q="convention -istanbul")[0])) == {"ratify", "ratified"}
    _, page = _search(q="women defenders")
    assert page.recommendations[0].headline == (
        "Protect <mark>women</mark> human rights <mark>defenders</mark> from attacks &amp; "
        "&lt;script&gt;threats&lt;/script&gt;"
    )
    assert _search(q="-women")[1].total == 0


def test_query_parse_splits_words_phrases_and_exclusions():
    parsed = search.query_parse('ratify "death penalty" -women -"hate speech" or  -  "unclosed phrase')
    assert parsed.include == ("ratify", "death penalty", "unclosed phrase")
    assert parsed.exclude == ("women", "hate speech")


# --- Facets -------------------------------------------------------------------------------------------------------


def test_facets_count_every_dimension_of_the_result_set(data):
    _, page = _search()
    assert page.total == 5
    assert _counts(page, "sur") == {"KEN": 2, "BRA": 2, "FRA": 1}
    assert _counts(page, "from") == {"DEU": 2, "FRA": 2, "SEN": 1, "ARG": 1, "NOR": 1}
    assert _counts(page, "session") == {"41": 2, "28": 1, "20": 2}
    assert _counts(page, "cycle") == {"2": 2, "3": 1, "4": 2}
    assert _counts(page, "response") == {"accepted": 3, "noted": 2}
    assert _counts(page, "action") == {"3": 1, "4": 2, "5": 2}
    assert _counts(page, "issue") == {"torture-and-other-cid-treatment": 2, "womens-rights": 2}
    # ratify: partially; women: one "not", one "fully": a tie goes to the lower status.
    assert _counts(page, "status") == {"not_implemented": 1, "partially_implemented": 1, "none": 3}
    regions = {s.iso3: s.regional_group.code.upper() for s in State.objects.select_related("regional_group")}
    assert _counts(page, "sur_region")[regions["KEN"]] == 2
    # One recommendation by DEU and FRA (same group) counts once for the group.
    weog = regions["DEU"]
    assert _counts(page, "from_region")[weog] == 4  # ratify (DEU), ratified (DEU+FRA), women (NOR), death (FRA)


def test_organisation_facet_counts_recommendations_by_member_states_once(data):
    eu = State.organisations.through.objects.filter(intergovernmentalorganisation__acronym="EU")
    members = set(eu.values_list("state__iso3", flat=True))
    if not {"DEU", "FRA"} <= members:
        pytest.skip("the reference data lists no EU membership")
    _, page = _search()
    assert _counts(page, "org")["EU"] == 3  # ratify, ratified (DEU and FRA: once), death
    texts, page = _search(org="eu")
    assert set(_keys(data, texts)) == {"ratify", "ratified", "death"}


def test_a_chosen_facet_still_counts_its_other_values(data):
    texts, page = _search(sur="KEN")
    assert set(_keys(data, texts)) == {"ratified", "violence"}
    # Other states keep their counts (choosing one more widens the search); other facets follow the results.
    assert _counts(page, "sur") == {"KEN": 2, "BRA": 2, "FRA": 1}
    assert _counts(page, "response") == {"accepted": 1, "noted": 1}
    assert [v.code for v in page.facets["sur"].values if v.selected] == ["KEN"]


def test_values_of_one_filter_widen_and_filters_combine(data):
    texts, _ = _search(sur=["KEN", "bra"], response="noted")
    assert set(_keys(data, texts)) == {"ratified", "death"}
    texts, _ = _search(from_=["SEN", "NOR"])
    assert set(_keys(data, texts)) == {"ratify", "women"}
    texts, _ = _search(issue="womens-rights", status="none")
    assert _keys(data, texts) == ["violence"]
    texts, _ = _search(cycle="4", action="5")
    assert _keys(data, texts) == ["death"]


def test_kind_shows_pledges_only_when_asked(data):
    assert _search(kind="voluntary_pledge")[1].total == 1
    assert _search(kind="any")[1].total == 6
    assert _search()[1].total == 5


def test_chosen_value_without_results_stays_listed_to_be_unticked(data):
    _, page = _search(q="death", sur="KEN")
    assert page.total == 0
    values = {v.code: (v.count, v.selected) for v in page.facets["sur"].values}
    assert values["KEN"] == (0, True)
    assert values["BRA"] == (1, False)


# --- Order and pages ----------------------------------------------------------------------------------------------


def test_default_order_is_newest_session_first_then_the_report_order(data):
    texts, page = _search()
    assert _keys(data, texts) == ["women", "death", "ratify", "ratified", "violence"]
    assert page.filterset.order == "date"
    assert _keys(data, _search(sort="oldest")[0]) == ["violence", "ratified", "ratify", "death", "women"]
    assert _keys(data, _search(sort="state")[0]) == ["women", "death", "ratify", "ratified", "violence"]
    assert _search(q="ratify")[1].filterset.order == "relevance"
    assert _search(sort="relevance")[1].filterset.order == "date"  # nothing to rank without text


def test_pages_hold_the_chosen_size_and_numbers_are_checked(data):
    _texts, page = _search(per_page="25", page="1")
    assert (page.start_index, page.end_index, page.num_pages) == (1, 5, 1)
    _, page = _search(page="7")
    assert page.number == 1 and "There is no page 7: the last page is 1." in page.notices
    for bad in ("abc", "-1", "0", "1e9", "99999999999999999999999"):
        _, page = _search(page=bad)
        assert page.number == 1 and page.notices, bad
    _, page = _search(per_page="1000000")
    assert page.page_size == 25 and "showing 25" in page.notices[0]


def test_deep_page_of_many_results(client, data):
    review = data["ratify"].review
    for n in range(60):
        RecommendationFactory(review=review, text=f"Bulk recommendation {n}", recommending_states=[], issues=[])
    texts, page = _search(q="bulk", per_page="25", page="3", sort="oldest")
    assert page.total == 60 and len(texts) == 10 and (page.start_index, page.end_index) == (51, 60)


# --- The page -----------------------------------------------------------------------------------------------------


def test_page_renders_facets_as_checkboxes_with_counts_and_removable_filters(client, data):
    body = client.get(URL, {"sur": "KEN", "q": "ratify"}).content.decode()
    assert re.search(r'<input type="checkbox" name="sur" value="KEN" id="f-sur-ken" checked>', body)
    assert 'data-total="2"' in body
    assert 'href="?q=ratify"' in body  # removes the state filter, keeps the text
    assert "/recommendations/export.csv?sur=KEN&amp;q=ratify" in body


def test_htmx_request_gets_only_the_results_part(client, data):
    response = client.get(URL, {"sur": "KEN"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="results"' in body and 'name="sur"' in body
    assert "HX-Request" in response["Vary"]
    full = client.get(URL, {"sur": "KEN"}).content.decode()
    assert "<html" in full and 'hx-get="/recommendations/"' in full


def test_page_works_without_javascript_through_a_plain_form(client, data):
    body = client.get(URL).content.decode()
    assert '<form class="search" id="search-form" method="get" action="/recommendations/"' in body
    assert '<button class="button" type="submit">Apply filters</button>' in body


def test_search_page_query_count_does_not_grow_with_the_data(client, data, django_assert_max_num_queries):
    review = data["ratify"].review
    for n in range(40):
        RecommendationFactory(review=review, text=f"Bulk recommendation {n}")
    params = {"q": "recommendation", "sur": "FRA", "from": "BRA", "issue": "torture-and-other-cid-treatment"}
    # reference tables (6) and their fingerprint, query check, facets, total and page ids (1 statement, in a
    # savepoint here: +2), the page's rows (their states and issues from the rows' arrays), snippets
    with django_assert_max_num_queries(13):
        assert client.get(URL, params).status_code == 200
    with django_assert_max_num_queries(11):
        assert client.get(URL).status_code == 200


# --- Bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sur": "XYZ"}, "No state with code &#x27;XYZ&#x27;."),
        ({"from": "1"}, "No state with code &#x27;1&#x27;."),
        ({"sur_region": "MARS"}, "No regional group &#x27;MARS&#x27;."),
        ({"org": "NATO2"}, "No organisation &#x27;NATO2&#x27;."),
        ({"session": "0"}, "No session number &#x27;0&#x27;."),
        ({"cycle": "x"}, "No cycle &#x27;x&#x27;."),
        ({"response": "rejected"}, "No response &#x27;rejected&#x27;: use accepted, noted or pending."),
        ({"action": "9"}, "No action category &#x27;9&#x27;: use 1 to 5."),
        ({"issue": "nope"}, "No issue &#x27;nope&#x27;."),
        ({"status": "done"}, "No implementation status &#x27;done&#x27;."),
        ({"kind": "all"}, "Select a valid choice."),
        ({"sort": "id; DROP TABLE x"}, "Select a valid choice."),
        ({"q": "x" * 10_000}, "A search may hold at most 300 characters (this one has 10000)."),
        ({"sur": [f"S{n:02}" for n in range(51)]}, "Choose at most 50 values here (51 were given)."),
    ],
)
def test_bad_filter_values_give_a_clear_message_and_no_results(client, data, params, message):
    response = client.get(URL, params)
    body = response.content.decode()
    assert response.status_code == 200
    assert message in body
    assert 'role="alert"' in body
    assert response.context["page"].recommendations == []


@pytest.mark.parametrize(
    "value",
    ["' OR 1=1 --", "'; DROP TABLE recommendations_recommendation; --", "%' AND 1=(SELECT 1) --", "\\x00", "<b>"],
)
def test_injection_attempts_in_every_parameter_are_answered_without_error(client, data, value):
    for name in ("q", "sur", "from", "sur_region", "from_region", "org", "session", "cycle", "response", "action",
                 "issue", "status", "kind", "sort", "page", "per_page"):  # fmt: skip
        response = client.get(URL, {name: value})
        assert response.status_code == 200, name
        assert "<b>" not in response.content.decode().split('id="main"')[1] or name == "q", name
    assert Recommendation.objects.count() == 6


def test_unknown_parameters_are_ignored(client, data):
    response = client.get(URL, {"colour": "blue", "sur": "KEN"})
    assert response.status_code == 200 and response.context["page"].total == 2


def test_filterset_without_one_filter_keeps_the_others(data):
    from django.http import QueryDict

    filterset = RecommendationFilterSet(QueryDict("sur=KEN&response=noted"), queryset=Recommendation.objects.all())
    assert filterset.is_valid()
    assert set(filterset.without("sur").qs) == {data["ratified"], data["death"]}


def test_reference_names_every_value_once():
    reference = reference_load()
    assert reference.ids("state", ["FRA", "XXX"]) == [State.objects.get(iso3="FRA").pk]
    assert len(reference.state_choices()) == State.objects.count()


# --- Columns kept by the database ---------------------------------------------------------------------------------


def test_session_number_and_search_vector_follow_the_review_and_the_text(data):
    rec = data["ratify"]
    rec.refresh_from_db()
    assert rec.session_number == 28
    assert rec.search_vector is not None and "ratifi" in rec.search_vector
    review = rec.review
    review.session = Session.objects.get(number=29)
    review.save()
    rec.refresh_from_db()
    assert rec.session_number == 29
    Recommendation.objects.filter(pk=rec.pk).update(text="Ban landmines")
    assert _search(q="landmines")[0] == ["Ban landmines"]


def test_implementation_status_is_the_majority_with_ties_to_the_lower_and_public_mid_term_only(data):
    rec = data["violence"]
    orgs = [OrganisationFactory(name=f"Org {n}") for n in range(4)]

    def status() -> str:
        implementation_status_refresh([rec.pk])
        rec.refresh_from_db()
        return rec.implementation_status

    assert status() == ""
    AssessmentFactory(recommendation=rec, organisation=orgs[0], status=S.NO_INFORMATION)
    assert status() == "no_information"
    AssessmentFactory(recommendation=rec, organisation=orgs[1], status=S.FULLY_IMPLEMENTED)
    assert status() == "fully_implemented"
    AssessmentFactory(recommendation=rec, organisation=orgs[2], status=S.PARTIALLY_IMPLEMENTED)
    assert status() == "partially_implemented"  # a tie: the lower status
    AssessmentFactory(recommendation=rec, organisation=orgs[3], status=S.FULLY_IMPLEMENTED)
    assert status() == "fully_implemented"
    AssessmentFactory(
        recommendation=rec, organisation=orgs[0], status=S.NOT_IMPLEMENTED, phase=Assessment.Phase.NEXT_REVIEW
    )
    AssessmentFactory(
        recommendation=rec, organisation=OrganisationFactory(name="Drafty"), status=S.NOT_IMPLEMENTED,
        visibility=Assessment.Visibility.DRAFT,
    )  # fmt: skip
    assert status() == "fully_implemented"  # next review and drafts do not count
    Assessment.objects.filter(recommendation=rec).delete()
    assert status() == ""


def test_facets_follow_changes_of_recommending_states_and_issues(data):
    data["women"].recommending_states.add(_state("SEN"))
    data["women"].issues.clear()
    _, page = _search()
    assert _counts(page, "from")["SEN"] == 2
    assert _counts(page, "issue")["womens-rights"] == 1
    data["ratify"].recommending_states.remove(_state("SEN"))
    assert _counts(_search()[1], "from")["SEN"] == 1


def test_facets_are_cached_until_the_data_changes(data, settings, django_assert_max_num_queries):
    from django.core.cache import cache

    from recommendations.facets import search_data_changed

    settings.SEARCH_CACHE_SECONDS = 60
    cache.clear()
    assert _search(q="ratify")[1].total == 3
    RecommendationFactory(review=data["ratify"].review, text="Ratify the Rome Statute")
    with django_assert_max_num_queries(13):
        texts, page = _search(q="ratify")
    assert page.total == 3  # counts from the cache; the page itself is read afresh
    assert len(texts) == 4
    search_data_changed()
    assert _search(q="ratify")[1].total == 4
    implementation_status_refresh()  # nothing changed: the cache stays
    assert _search(q="ratify", sur="FRA")[1].total == 2


def test_a_data_change_counts_the_unfiltered_page_again_in_the_background(
    data, settings, eager, client, django_assert_max_num_queries
):
    from django.core.cache import cache

    from recommendations.facets import search_data_changed

    settings.SEARCH_CACHE_SECONDS = 60
    cache.clear()
    RecommendationFactory(review=data["ratify"].review, text="Ratify the Rome Statute")
    search_data_changed()  # the Celery task runs at once here (eager)
    # The page reads the facets from the cache: reference (6), page ids, rows, 2 prefetches.
    with django_assert_max_num_queries(10):
        response = client.get(URL)
    assert response.context["page"].total == 6
    assert len(response.context["page"].recommendations) == 6


def test_each_result_names_its_recommending_states_and_issues_by_name(client, data):
    data["ratified"].recommending_states.add(_state("ARG"))  # links added after the row: the arrays follow
    data["ratified"].issues.set([_issue("Women's rights"), _issue("Torture and other CID treatment")])
    page = client.get(URL, {"q": "disabilities"}).content.decode()
    result = page[page.index('<li class="rec">') :]
    result = result[: result.index("</li>")]
    states = re.findall(r'<a href="/states/([A-Z]{3})/">([^<]+)</a>', result.split("From", 1)[1])
    assert states == [("ARG", "Argentina"), ("FRA", "France"), ("DEU", "Germany")]  # by name, not by id or code
    tags = re.findall(r'<a class="tag" href="/recommendations/\?issue=([a-z-]+)">([^<]+)</a>', result)
    assert [name for _, name in tags] == ["Torture and other CID treatment", "Women&#x27;s rights"]


def test_a_burst_of_data_changes_queues_one_warm_up(settings, monkeypatch):
    from django.core.cache import cache

    from recommendations import tasks
    from recommendations.facets import WARM_DELAY_SECONDS, search_data_changed

    settings.SEARCH_CACHE_SECONDS = 60
    cache.clear()
    queued = []
    monkeypatch.setattr(tasks.search_facets_warm, "apply_async", lambda **options: queued.append(options))
    for _ in range(1000):  # CSO staff saving assessments one after another
        search_data_changed()
    assert queued == [{"countdown": WARM_DELAY_SECONDS}]
    monkeypatch.setattr("recommendations.facets.search_facets_warm", lambda: None)
    monkeypatch.setattr("reviews.selectors.browse_counts_warm", lambda: None)
    tasks.search_facets_warm.run()  # the warm-up starts: the next change queues another
    search_data_changed()
    assert len(queued) == 2
