"""The public pages: home, states, sessions, recommendations, statistics. Content, 404s, query counts, escaping."""

import datetime
import html
import re
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.urls import reverse

from followup.models import Assessment
from followup.snapshots import statistics_recompute
from recommendations.filters import RecommendationFilterSet
from recommendations.models import Issue, Recommendation
from recommendations.selectors import (
    HEADLINE_COUNTS_CACHE_KEY,
    HEADLINE_COUNTS_CACHE_VERSION,
    headline_counts,
    recommendation_list,
)
from reviews.models import Session, State
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db

R = Recommendation.Response
S = Assessment.Status


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


def _issue(name: str) -> Issue:
    return Issue.objects.get(name=name)


def _text(response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, whitespace collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


class _Elements(HTMLParser):
    """Every element of a page as (tag, attributes, text inside it with whitespace collapsed)."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__()
        self.open: list[tuple[str, dict, list[str]]] = []
        self.found: list[tuple[str, dict, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            self.found.append((tag, dict(attrs), ""))
        else:
            self.open.append((tag, dict(attrs), []))

    def handle_endtag(self, tag):
        while self.open:
            name, attrs, parts = self.open.pop()
            text = "".join(parts)
            self.found.append((name, attrs, " ".join(text.split())))
            if self.open:
                self.open[-1][2].append(text)
            if name == tag:
                break

    def handle_data(self, data):
        if self.open:
            self.open[-1][2].append(data)


def _elements(response, tag: str | None = None, **attrs: str | None) -> list[tuple[str, dict, str]]:
    """The elements with this tag and these attributes (a value of None: the attribute is merely present)."""
    parser = _Elements()
    parser.feed(response.content.decode())
    wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
    return [
        (name, found, text)
        for name, found, text in parser.found
        if (tag is None or name == tag)
        and all(key in found and (value is None or found[key] == value) for key, value in wanted.items())
    ]


def _text_of(response, **attrs: str | None) -> str:
    [(_tag, _attrs, text)] = _elements(response, **attrs)
    return text


def _row(response, starts_with: str) -> str:
    """The text of the one table row that starts with this text."""
    [text] = [text for _tag, _attrs, text in _elements(response, "tr") if text.startswith(starts_with + " ")]
    return text


@pytest.fixture(autouse=True)
def _fresh_headline_counts():
    cache.delete(HEADLINE_COUNTS_CACHE_KEY, version=HEADLINE_COUNTS_CACHE_VERSION)
    yield
    cache.delete(HEADLINE_COUNTS_CACHE_KEY, version=HEADLINE_COUNTS_CACHE_VERSION)


@pytest.fixture
def sample():
    """France reviewed in session 15 (cycle 2), Kenya in session 4 (cycle 1); Brazil and Germany recommend."""
    france = ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=15), report_symbol="A/HRC/23/3")
    kenya = ReviewFactory(state=_state("KEN"), session=Session.objects.get(number=4), report_symbol="")
    torture = _issue("Torture and other CID treatment")
    women = _issue("Women's rights")
    ratify = RecommendationFactory(
        review=france,
        text="Ratify the Optional Protocol to the Convention against Torture",
        response=R.ACCEPTED,
        response_original="Supported",
        paragraph_ref="120.1",
        recommending_states=[_state("BRA"), _state("DEU")],
        issues=[torture],
    )
    shelters = RecommendationFactory(
        review=france,
        text="Fund shelters for women victims of violence",
        response=R.NOTED,
        response_original="Rejected",
        action_category=Recommendation.ActionCategory.CONSIDERING,
        paragraph_ref="120.2",
        recommending_states=[_state("BRA")],
        issues=[women],
    )
    kenya_rec = RecommendationFactory(
        review=kenya,
        text="Abolish the death penalty",
        response=R.ACCEPTED,
        recommending_states=[_state("DEU")],
        issues=[torture],
    )
    pledge = RecommendationFactory(
        review=france,
        kind=Recommendation.Kind.VOLUNTARY_PLEDGE,
        text="France pledges to report on its national action plan",
        response=R.NOT_APPLICABLE,
        response_original="Voluntary Pledge",
        recommending_states=[],
        issues=[],
    )
    watchers = OrganisationFactory(name="Watchers of Rights")
    AssessmentFactory(recommendation=ratify, organisation=watchers, author=None, status=S.PARTIALLY_IMPLEMENTED)
    AssessmentFactory(
        recommendation=ratify,
        organisation=OrganisationFactory(name="Secret Draft Org"),
        author=None,
        status=S.FULLY_IMPLEMENTED,
        comment="draft comment that must stay private",
        visibility=Assessment.Visibility.DRAFT,
    )
    AssessmentFactory(recommendation=shelters, organisation=watchers, author=None, status=S.NOT_IMPLEMENTED)
    AssessmentFactory(recommendation=kenya_rec, organisation=watchers, author=None, status=S.NO_INFORMATION)
    return {"ratify": ratify, "shelters": shelters, "kenya": kenya_rec, "pledge": pledge, "watchers": watchers}


# --- Every page -------------------------------------------------------------------------------------------------


PAGES = [
    ("home", {}, None),
    ("recommendations:recommendation_list", {}, "Recommendations"),
    ("reviews:state_list", {}, "States"),
    ("reviews:session_list", {}, "Sessions"),
    ("followup:statistics", {}, "Statistics"),
    ("reviews:state_detail", {"iso3": "FRA"}, "States"),
    ("reviews:session_detail", {"number": 15}, "Sessions"),
]


@pytest.mark.parametrize(("name", "kwargs", "current"), PAGES)
def test_page_renders_with_layout_and_marks_its_nav_item_current(client, sample, name, kwargs, current):
    response = client.get(reverse(name, kwargs=kwargs))

    assert response.status_code == 200
    body = response.content.decode()
    assert '<html lang="en">' in body
    assert 'class="skip-link" href="#main"' in body
    assert '<main id="main"' in body
    assert 'role="search"' in body and 'name="q"' in body
    for label in ("Recommendations", "States", "Sessions", "Statistics", "API"):
        assert f">{label}</a>" in body
    assert 'href="/api/docs/">API</a>' in body
    assert "UPR Info database, OHCHR" in body and "AGPL" in body and 'href="/admin/"' in body
    current_items = [
        text for _tag, _attrs, text in _elements(response, "a", class_="site-nav__link", aria_current=None)
    ]
    assert current_items == ([current] if current else [])


@pytest.mark.parametrize(("name", "kwargs", "current"), PAGES)
def test_page_has_no_inline_script_or_style_and_loads_only_local_assets(client, sample, name, kwargs, current):
    body = client.get(reverse(name, kwargs=kwargs)).content.decode()

    assert "style=" not in body
    assert "<style" not in body
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", body) == []
    for url in re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', body):
        assert url.startswith("/"), url


def test_recommendation_detail_page_has_no_inline_style(client, sample):
    body = client.get(reverse("recommendations:recommendation_detail", kwargs={"pk": sample["ratify"].pk})).content
    assert b"style=" not in body and b"<style" not in body


# --- Home -------------------------------------------------------------------------------------------------------


def test_home_shows_headline_counts_from_the_database(client, sample):
    response = client.get(reverse("home"))

    # 3 recommendations (the pledge is not one), 2 states in 2 sessions, 3 public assessments, 2 of 3 accepted.
    assert _text_of(response, data_count="recommendations") == "3"
    assert _text_of(response, data_count="states") == "2"
    assert _text_of(response, data_count="sessions") == "2"
    assert _text_of(response, data_count="assessments") == "3"
    assert _text_of(response, data_count="accepted") == "66.7%"


def test_home_lists_latest_sessions_with_data_and_links_into_browsing(client, sample):
    response = client.get(reverse("home"))
    text = _text(response)

    assert [s.number for s in response.context["latest_sessions"]] == [15, 4]
    assert 'href="/sessions/15/"' in response.content.decode()
    assert "civil society staff" in text and "diplomats" in text and "researchers and journalists" in text
    body = response.content.decode()
    assert 'href="/states/"' in body and 'href="/sessions/"' in body
    assert '<option value="torture-and-other-cid-treatment">Torture and other CID treatment</option>' in body


def test_headline_counts_take_one_query_per_table_and_are_cached(django_assert_num_queries, sample):
    with django_assert_num_queries(3):
        first = headline_counts()
    RecommendationFactory(review=sample["ratify"].review, text="Another recommendation")
    with django_assert_num_queries(0):
        cached = headline_counts()

    assert cached == first
    assert cache.get(HEADLINE_COUNTS_CACHE_KEY, version=HEADLINE_COUNTS_CACHE_VERSION) == first
    cache.delete(HEADLINE_COUNTS_CACHE_KEY, version=HEADLINE_COUNTS_CACHE_VERSION)
    assert headline_counts()["recommendations"] == first["recommendations"] + 1


def test_headline_counts_on_an_empty_database_say_nothing_is_accepted_rather_than_dividing_by_zero():
    counts = headline_counts()
    assert counts["recommendations"] == 0
    assert counts["percent_accepted"] is None


# --- States -----------------------------------------------------------------------------------------------------


def test_state_list_groups_all_states_with_counts_received_and_made(client, sample):
    response = client.get(reverse("reviews:state_list"))
    states = {state.iso3: state for state in response.context["states"]}

    assert len(states) == State.objects.count() == 195
    assert (states["FRA"].n_received, states["FRA"].n_made) == (2, 0)
    assert (states["BRA"].n_received, states["BRA"].n_made) == (0, 2)
    assert (states["DEU"].n_received, states["DEU"].n_made) == (0, 2)
    assert (states["KEN"].n_received, states["KEN"].n_made) == (1, 0)
    body = response.content.decode()
    for _code, name in (("Africa", "African Group"), ("WEOG", "Western European and other States Group")):
        assert f">{name} <span" in body
    assert _row(response, "France") == "France FRA 2 0"
    assert _row(response, "Brazil") == "Brazil BRA 0 2"
    assert 'href="/states/FRA/"' in body


def test_state_list_runs_a_bounded_number_of_queries(client, sample, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert client.get(reverse("reviews:state_list")).status_code == 200


def test_state_detail_shows_group_organisations_reviews_by_response_and_recommendations_made(client, sample):
    response = client.get(reverse("reviews:state_detail", kwargs={"iso3": "FRA"}))
    text = _text(response)

    assert "France" in text and "French Republic" in text
    assert "Western European and other States Group" in text
    assert "EU" in text  # France's organisations come from the reference data
    [review] = response.context["reviews"]
    assert (review.n_total, review.n_accepted, review.n_noted, review.n_pending) == (2, 1, 1, 0)
    assert "Cycle 2" in text and "Session 15" in text and "A/HRC/23/3" in text
    assert response.context["made"] == {"total": 0, "accepted": 0, "noted": 0, "pending": 0}

    made = client.get(reverse("reviews:state_detail", kwargs={"iso3": "BRA"})).context["made"]
    assert made == {"total": 2, "accepted": 1, "noted": 1, "pending": 0}


def test_state_detail_queries_are_bounded(client, sample, django_assert_max_num_queries):
    # state, organisations, reviews, made counts, then the profile's grouped counts (16)
    with django_assert_max_num_queries(21):
        assert client.get(reverse("reviews:state_detail", kwargs={"iso3": "FRA"})).status_code == 200


def test_state_detail_redirects_lowercase_code_to_uppercase(client, sample):
    response = client.get("/states/fra/")
    assert response.status_code == 301
    assert response["Location"] == "/states/FRA/"


def test_state_detail_unknown_code_is_a_404_naming_the_code(client):
    response = client.get("/states/XYZ/")
    assert response.status_code == 404
    assert "No state with code 'XYZ'." in _text(response)
    assert "Not found" in _text(response)


# --- Sessions ---------------------------------------------------------------------------------------------------


def test_session_list_shows_every_session_with_dates_or_year_and_counts(client, sample):
    response = client.get(reverse("reviews:session_list"))
    sessions = {session.number: session for session in response.context["sessions"]}

    assert len(sessions) == Session.objects.count()
    assert (sessions[15].n_reviews, sessions[15].n_recommendations, sessions[15].n_accepted) == (1, 2, 1)
    assert (sessions[4].n_reviews, sessions[4].n_recommendations, sessions[4].n_accepted) == (1, 1, 1)
    assert (sessions[1].n_reviews, sessions[1].n_recommendations) == (0, 0)
    # states, recommendations, accepted, noted, triggered action (of the assessed), coverage
    assert _row(response, "Session 1") == "Session 1 7–18 Apr 2008 0 0 0 0 – –"  # known dates, within a month
    assert _row(response, "Session 6") == "Session 6 30 Nov–11 Dec 2009 0 0 0 0 – –"
    assert _row(response, "Session 15") == "Session 15 2013 1 2 1 1 – 0.0%"  # dates unknown: the year; none assessed
    assert _elements(response, "time", datetime="2008-04-18")
    assert "Cycle 4" in _text(response)


def test_session_list_runs_a_bounded_number_of_queries(client, sample, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        assert client.get(reverse("reviews:session_list")).status_code == 200


def test_session_detail_lists_states_reviewed_with_counts(client, sample):
    response = client.get(reverse("reviews:session_detail", kwargs={"number": 15}))

    [review] = response.context["reviews"]
    assert review.state.iso3 == "FRA"
    assert (review.n_total, review.n_accepted, review.n_noted) == (2, 1, 1)
    assert 'href="/states/FRA/">France</a>' in response.content.decode()
    assert "Cycle 2" in _text(response)


def test_session_detail_unknown_number_is_a_404_naming_it(client):
    response = client.get("/sessions/999/")
    assert response.status_code == 404
    assert "There is no UPR session 999" in _text(response)


# --- Recommendations --------------------------------------------------------------------------------------------


def _listed(client, **params) -> list[str]:
    response = client.get(reverse("recommendations:recommendation_list"), params)
    assert response.status_code == 200
    return [recommendation.text for recommendation in response.context["page"].recommendations]


def test_recommendation_list_shows_recommendations_newest_session_first_without_pledges(client, sample):
    assert _listed(client) == [sample["ratify"].text, sample["shelters"].text, sample["kenya"].text]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "SHELTERS"}, ["shelters"]),
        ({"sur": "KEN"}, ["kenya"]),
        ({"sur": "fra"}, ["ratify", "shelters"]),
        ({"from": "DEU"}, ["ratify", "kenya"]),
        ({"session": "4"}, ["kenya"]),
        ({"response": "noted"}, ["shelters"]),
        ({"issue": "torture-and-other-cid-treatment"}, ["ratify", "kenya"]),
        ({"from": "BRA", "response": "accepted"}, ["ratify"]),
        ({"kind": "voluntary_pledge"}, ["pledge"]),
        ({"kind": "any", "sur": "FRA"}, ["ratify", "shelters", "pledge"]),
    ],
)
def test_recommendation_list_filters(client, sample, params, expected):
    assert _listed(client, **params) == [sample[key].text for key in expected]


def test_recommendation_list_paginates_by_25_keeping_the_filters(client, sample):
    review = sample["ratify"].review
    for n in range(30):
        RecommendationFactory(review=review, text=f"Bulk recommendation {n}", recommending_states=[])

    first = client.get(reverse("recommendations:recommendation_list"), {"q": "bulk"})
    second = client.get(reverse("recommendations:recommendation_list"), {"q": "bulk", "page": 2})

    assert len(first.context["page"].recommendations) == 25
    assert len(second.context["page"].recommendations) == 5
    assert "1–25 of 30 recommendations" in _text(first)
    assert 'href="?q=bulk&amp;page=2"' in first.content.decode()


def test_recommendation_list_runs_a_bounded_number_of_queries(client, sample, django_assert_max_num_queries):
    review = sample["ratify"].review
    for n in range(40):
        RecommendationFactory(review=review, text=f"Bulk recommendation {n}")
    url = reverse("recommendations:recommendation_list")

    # reference tables (6), facets and total (1), page ids (1), rows (1) + 2 prefetches, query check, snippets
    with django_assert_max_num_queries(13):
        assert client.get(url).status_code == 200
    with django_assert_max_num_queries(13):
        assert (
            client.get(url, {"sur": "FRA", "from": "BRA", "issue": "torture-and-other-cid-treatment"}).status_code
            == 200
        )


def test_recommendation_list_unknown_state_code_shows_a_form_error_and_no_results(client, sample):
    response = client.get(reverse("recommendations:recommendation_list"), {"sur": "XYZ"})

    assert response.status_code == 200
    assert "No state with code 'XYZ'." in _text(response)
    assert 'role="alert"' in response.content.decode()
    assert response.context["page"].recommendations == []


def test_recommendation_text_is_escaped(client, sample):
    RecommendationFactory(review=sample["ratify"].review, text='Stop <script>alert("x")</script> now')

    list_body = client.get(reverse("recommendations:recommendation_list"), {"q": "stop"}).content.decode()
    assert "<script>alert" not in list_body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in list_body


def test_recommendation_detail_shows_all_facts_and_only_public_assessments(client, sample):
    ratify = sample["ratify"]
    response = client.get(reverse("recommendations:recommendation_detail", kwargs={"pk": ratify.pk}))
    text = _text(response)

    assert response.status_code == 200
    assert ratify.text in text
    assert "France" in text and "Session 15" in text and "cycle 2" in text
    assert "Brazil" in text and "Germany" in text
    assert "Accepted" in text and "“Supported”" in text
    assert "5 – Specific action" in text
    assert "Torture and other CID treatment" in text
    assert "120.1" in text and "A/HRC/23/3" in text
    assert "Watchers of Rights" in text and "Partially implemented" in text and "1 June 2015" in text
    assert "A national action plan was adopted but is not funded." in text
    assert "Secret Draft Org" not in text and "draft comment" not in text


def test_recommendation_detail_runs_a_bounded_number_of_queries(client, sample, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        client.get(reverse("recommendations:recommendation_detail", kwargs={"pk": sample["ratify"].pk}))


def test_recommendation_detail_unknown_id_is_a_404(client):
    response = client.get("/recommendations/987654/")
    assert response.status_code == 404
    assert "No recommendation with number 987654." in _text(response)


# --- The FilterSet ----------------------------------------------------------------------------------------------


def test_filterset_rejects_unknown_codes_with_a_clear_message():
    filterset = RecommendationFilterSet(
        {"sur": "xyz", "from": "ABC", "session": "999", "issue": "nope"}, queryset=recommendation_list()
    )

    assert not filterset.is_valid()
    assert filterset.errors["sur"] == ["No state with code 'XYZ'."]
    assert filterset.errors["from"] == ["No state with code 'ABC'."]
    assert filterset.errors["session"] == ["No session number '999'."]
    assert filterset.errors["issue"] == ["No issue 'nope'."]
    assert not filterset.qs.exists()


def test_filterset_accepts_codes_in_any_case(sample):
    filterset = RecommendationFilterSet({"sur": " ken "}, queryset=recommendation_list())
    assert filterset.is_valid(), filterset.errors
    assert list(filterset.qs) == [sample["kenya"]]


# --- Statistics -------------------------------------------------------------------------------------------------


def test_statistics_count_responses_categories_and_mid_term_implementation(client, sample):
    statistics_recompute()
    response = client.get(reverse("followup:statistics"))

    rows = {attrs["id"]: text for _tag, attrs, text in _elements(response, "tr", id=None)}
    # Columns: recommendations, assessed, not, partially, fully implemented, % triggered, % fully, % coverage.
    assert rows["cycle-1"].startswith("Cycle 1 1 0 0 0 0 – – 0.0%")
    assert rows["cycle-2"].startswith("Cycle 2 2 2 1 1 0 50.0% 0.0% 100.0%")
    assert rows["action_category-5"].startswith("5 – Specific action 2 1 ")
    assert rows["action_category-3"].startswith("3 – Considering action 1 1 ")
    assert "action_category-1" not in rows  # no recommendation asks for minimal action
    # Assessed: ratify (partial) and shelters (not implemented); Kenya's only says "no information".
    # The draft "fully implemented" on ratify is not public and does not count.
    assert _text_of(response, data_stat="triggered") == "50.0%"
    assert _text_of(response, data_stat="coverage") == "66.7%"
    assert _text_of(response, data_stat="recommendations") == "3"
    assert rows["response-accepted"].startswith("Accepted 2 1 0 1 0 100.0% 0.0% 50.0%")
    assert rows["response-noted"].startswith("Noted 1 1 1 0 0 0.0% 0.0% 100.0%")


def test_statistics_ignore_next_review_assessments_at_mid_term(client, sample):
    AssessmentFactory(
        recommendation=sample["shelters"],
        organisation=OrganisationFactory(name="Later Org"),
        author=None,
        phase=Assessment.Phase.NEXT_REVIEW,
        status=S.FULLY_IMPLEMENTED,
        assessed_on=datetime.date(2017, 1, 1),
    )
    statistics_recompute()
    assert _text_of(client.get(reverse("followup:statistics")), data_stat="triggered") == "50.0%"
    next_review = client.get(reverse("followup:statistics") + "?phase=next_review")
    assert _text_of(next_review, data_stat="triggered") == "100.0%"


def test_statistics_page_presents_the_figures_with_a_method_link(client, sample, django_assert_max_num_queries):
    statistics_recompute()
    with django_assert_max_num_queries(7):
        response = client.get(reverse("followup:statistics"))
    text = _text(response)

    assert "How these figures are computed" in text
    assert "50.0% of the assessed recommendations triggered action: 100.0% of accepted and 0.0% of noted ones" in text
    assert "Cycle 1" in text and "Cycle 2" in text and "All cycles" in text
    assert "5 – Specific action" in text
    assert response.content.decode().count('class="bar') >= 10
    assert 'width="100.0"' in response.content.decode()


def test_pages_work_on_an_empty_database(client):
    for name in ("home", "reviews:state_list", "reviews:session_list", "followup:statistics"):
        assert client.get(reverse(name)).status_code == 200
    assert "No recommendation matches" in _text(client.get(reverse("recommendations:recommendation_list")))


def test_home_runs_a_bounded_number_of_queries(client, sample, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # 3 counts, issues, latest sessions
        client.get(reverse("home"))
    with django_assert_max_num_queries(2):  # counts now come from the cache
        client.get(reverse("home"))


def test_recommendation_timeline_orders_assessments_by_date_and_escapes_comments(client, sample):
    from followup.models import Organisation

    later = OrganisationFactory(name="Later Watch", kind=Organisation.Kind.NHRI)
    AssessmentFactory(
        recommendation=sample["ratify"], organisation=later, author=None, assessed_on=datetime.date(2019, 3, 2),
        phase=Assessment.Phase.NEXT_REVIEW, status=S.FULLY_IMPLEMENTED,
        comment="Adopted <b>in law</b>\nSecond line", evidence_urls=["javascript:alert(1)"],
    )  # fmt: skip
    body = client.get(reverse("recommendations:recommendation_detail", kwargs={"pk": sample["ratify"].pk}))
    html = body.content.decode()
    assert html.index("Watchers of Rights") < html.index("Later Watch")  # 2015 before 2019
    assert "Adopted &lt;b&gt;in law&lt;/b&gt;<br>Second line" in html
    assert "javascript:alert" not in html
    assert "National human rights institution" in _text(body) and "Next review" in _text(body)
