"""The state, session, cycle and preparation pages: their figures, their links to the search, bad addresses, and a
number of queries that does not grow with the data."""

import datetime
import html
import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from followup.models import Assessment
from followup.status import implementation_status_refresh
from recommendations.facets import search_data_changed
from recommendations.models import Issue, Recommendation
from recommendations.tasks import search_facets_warm
from reviews.models import Session, State
from reviews.selectors import (
    Tally,
    browse_counts_warm,
    cycle_list_with_counts,
    session_list_with_counts,
    state_list_with_counts,
)
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db
R = Recommendation.Response
S = Assessment.Status


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


def _session(number: int) -> Session:
    return Session.objects.get(number=number)


def _read(markup: str) -> str:
    """Markup as a person reads it: tags dropped, entities decoded, whitespace collapsed (none inside brackets)."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())
    return re.sub(r"\( | (?=[),:.])", lambda match: match.group().strip(), text)


def _text(response) -> str:
    return _read(response.content.decode())


def _row(response, start: str) -> str:
    """The text of the one table row that starts with this text."""
    rows = re.findall(r"<tr>(.*?)</tr>", response.content.decode(), flags=re.S)
    texts = [_read(row) for row in rows]
    [text] = [text for text in texts if text.startswith(start + " ")]
    return text


def _assess(recommendation, status, name="Watchers"):
    AssessmentFactory(recommendation=recommendation, organisation=OrganisationFactory(name=name), status=status)


@pytest.fixture
def world():
    """France reviewed in sessions 15 and 28; Kenya in 28. Germany and Brazil recommend to France, France to Kenya.
    France received 4 recommendations (2 accepted, 1 noted, 1 pending) and a pledge; 2 are assessed."""
    france_15 = ReviewFactory(state=_state("FRA"), session=_session(15), report_symbol="A/HRC/23/3")
    france_28 = ReviewFactory(state=_state("FRA"), session=_session(28), report_symbol="A/HRC/38/4")
    kenya_28 = ReviewFactory(state=_state("KEN"), session=_session(28))
    women = Issue.objects.get(name="Women's rights")
    recs = {
        "a": RecommendationFactory(review=france_15, recommending_states=[_state("DEU"), _state("BRA")]),
        "b": RecommendationFactory(review=france_15, response=R.NOTED, recommending_states=[_state("DEU")]),
        "c": RecommendationFactory(review=france_28, issues=[women], recommending_states=[_state("DEU")]),
        "d": RecommendationFactory(review=france_28, response=R.PENDING, recommending_states=[_state("BRA")]),
        "pledge": RecommendationFactory(
            review=france_28,
            kind=Recommendation.Kind.VOLUNTARY_PLEDGE,
            response=R.NOT_APPLICABLE,
            recommending_states=[_state("FRA")],
        ),
        "to_kenya": RecommendationFactory(review=kenya_28, recommending_states=[_state("FRA")]),
        "to_kenya_noted": RecommendationFactory(
            review=kenya_28, response=R.NOTED, recommending_states=[_state("FRA"), _state("DEU")]
        ),
    }
    _assess(recs["a"], S.FULLY_IMPLEMENTED)
    _assess(recs["b"], S.NOT_IMPLEMENTED)
    _assess(recs["c"], S.NO_INFORMATION)
    _assess(recs["to_kenya"], S.PARTIALLY_IMPLEMENTED)
    implementation_status_refresh()
    return recs


def _many(n: int = 40):
    """Many more rows of every kind the pages count: recommendations to and from France, issues, assessments."""
    review = ReviewFactory(state=_state("FRA"), session=_session(41))
    chile = ReviewFactory(state=_state("CHL"), session=_session(41))
    issues = list(Issue.objects.order_by("name")[:12])
    senders = list(State.objects.exclude(iso3="FRA").order_by("iso3")[:15])
    for i in range(n):
        to_france = RecommendationFactory(
            review=review,
            text=f"More {i}",
            issues=issues[i % 12 : i % 12 + 2],
            recommending_states=senders[i % 15 :][:3],
        )
        from_france = RecommendationFactory(review=chile, text=f"From {i}", recommending_states=[_state("FRA")])
        _assess(to_france, S.PARTIALLY_IMPLEMENTED, name=f"Org {i % 5}")
        _assess(from_france, S.NOT_IMPLEMENTED, name=f"Org {i % 5}")
    implementation_status_refresh()


# --- Tally ------------------------------------------------------------------------------------------------------


def test_tally_counts_triggered_action_over_the_assessed_and_coverage_over_all():
    tally = Tally(total=10, accepted=6, noted=4, not_implemented=2, partially_implemented=1, fully_implemented=1,
                  no_information=3)  # fmt: skip
    assert (tally.triggered, tally.assessed, tally.not_assessed) == (2, 4, 6)  # "no information" is not assessed
    assert (tally.triggered_pct, tally.coverage_pct, tally.accepted_pct) == (50.0, 40.0, 60.0)
    assert Tally().triggered_pct is None and Tally().coverage_pct is None
    assert (tally + tally).total == 20 and (tally + tally).triggered_pct == 50.0


# --- States -----------------------------------------------------------------------------------------------------


def test_state_list_counts_received_and_made_without_pledges(world):
    states = {state.iso3: state for state in state_list_with_counts()}
    assert (states["FRA"].n_received, states["FRA"].n_made) == (4, 2)  # France's pledge counts neither way
    assert (states["DEU"].n_received, states["DEU"].n_made) == (0, 4)
    assert (states["KEN"].n_received, states["KEN"].n_made) == (2, 0)
    assert (states["TUV"].n_received, states["TUV"].n_made) == (0, 0)


def test_state_list_queries_do_not_grow_with_the_data(client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(3) as few:
        assert client.get(reverse("reviews:state_list")).status_code == 200
    _many()
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("reviews:state_list"))
    assert 'href="/states/CHL/"' in response.content.decode()


def test_state_page_has_two_parts_with_reviews_totals_and_summaries(client, world):
    response = client.get(reverse("reviews:state_detail", kwargs={"iso3": "FRA"}))
    text = _text(response)
    assert "As state under review: 4 recommendations received" in text
    assert "As recommending state: 2 recommendations made to other states" in text
    # session, cycle, dates, report, recommendations, accepted, noted, pending, triggered action, coverage
    assert _row(response, "Session 15") == "Session 15 (Cycle 2) 2013 A/HRC/23/3 2 1 1 0 50.0% 100.0%"
    assert _row(response, "Session 28") == "Session 28 (Cycle 3) 2017 A/HRC/38/4 2 1 0 1 – 0.0%"
    assert _row(response, "All reviews") == "All reviews 4 2 1 1 50.0% 50.0%"
    assert "France accepted 2 of them (50.0%). Of the 2 assessed at mid-term, 50.0% triggered action" in text
    assert "1 of the recommendations France made were accepted (50.0%)." in text


def test_every_count_on_the_state_page_links_to_exactly_its_recommendations(client, world):
    body = client.get(reverse("reviews:state_detail", kwargs={"iso3": "FRA"})).content.decode()
    links = {
        html.unescape(query): int(n) for query, n in re.findall(r'href="/recommendations/\?([^"]+)">([\d,]+)<', body)
    }
    assert links["sur=FRA&session=15&response=noted"] == 1
    assert links["sur=FRA&response=pending"] == 1
    assert links["sur=FRA&session=28"] == 2
    for query, expected in links.items():
        assert client.get("/recommendations/?" + query).context["page"].total == expected, query
    charted = [
        ("from=FRA&response=noted", 1),
        ("from=FRA&status=partially_implemented", 1),
        ("from=FRA&sur_region=Africa", 2),
        ("sur=FRA&from=DEU", 3),
        ("sur=FRA&status=none", 1),
        ("sur=FRA&status=no_information", 1),
    ]
    for query, expected in charted:
        assert f'href="/recommendations/?{html.escape(query)}"' in body, query
        assert client.get("/recommendations/?" + query).context["page"].total == expected, query


def test_state_page_charts_are_tables_with_captions_and_text_beside_each_bar(client, world):
    body = client.get(reverse("reviews:state_detail", kwargs={"iso3": "DEU"})).content.decode()
    assert "No review of Germany has been recorded yet." in body
    for caption in ("How they were answered", "How far implemented at mid-term", "To whom (most)",
                    "To which regional groups", "By cycle"):  # fmt: skip
        assert f"<caption>{caption}</caption>" in body
    assert '<th scope="col" class="num">Share</th>' in body
    assert re.search(r'<svg class="bar[^"]*"[^>]*aria-hidden="true"', body)  # the bars only repeat the numbers


def test_state_page_queries_do_not_grow_with_the_data(client, world, django_assert_max_num_queries):
    url = reverse("reviews:state_detail", kwargs={"iso3": "FRA"})
    with django_assert_max_num_queries(12) as few:
        assert client.get(url).status_code == 200
    _many()
    with django_assert_max_num_queries(len(few)):
        response = client.get(url)
    assert "As state under review: 44 recommendations received" in _text(response)
    assert "As recommending state: 42 recommendations made" in _text(response)


@pytest.fixture
def counts_cached(settings):
    """The figures kept in the cache, as in production (tests run with the cache off)."""
    settings.SEARCH_CACHE_SECONDS = 60
    search_data_changed()
    yield
    cache.clear()


def test_state_figures_are_cached_until_the_data_changes(client, world, counts_cached, django_assert_max_num_queries):
    url = reverse("reviews:state_detail", kwargs={"iso3": "FRA"})
    client.get(url), client.get(reverse("reviews:state_list"))
    with django_assert_max_num_queries(4):  # state, organisations, reviews, its statistics; the profile: cached
        client.get(url)
    with django_assert_max_num_queries(1):
        client.get(reverse("reviews:state_list"))
    RecommendationFactory(review=world["a"].review, text="One more", recommending_states=[_state("KEN")])
    assert "4 recommendations received" in _text(client.get(url))  # not told yet
    search_data_changed()  # what imports and assessments do after they commit
    assert "5 recommendations received" in _text(client.get(url))
    assert {s.iso3: s.n_made for s in client.get(reverse("reviews:state_list")).context["states"]}["KEN"] == 1


@pytest.mark.parametrize("warm", [browse_counts_warm, search_facets_warm.apply], ids=["selector", "celery-task"])
def test_warming_counts_the_lists_before_anyone_asks(client, world, counts_cached, django_assert_max_num_queries, warm):
    warm()  # the task that search_data_changed() queues warms these lists too
    with django_assert_max_num_queries(1):  # the states themselves
        client.get(reverse("reviews:state_list"))
    with django_assert_max_num_queries(1):  # the sessions themselves
        sessions = client.get(reverse("reviews:session_list")).context["sessions"]
    assert {s.number: s.n_reviews for s in sessions}[28] == 2


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/states/fra/", 301),
        ("/states/Fra/", 301),
        ("/states/XYZ/", 404),
        ("/states/FRANCE/", 404),
        ("/states/" + "A" * 5000 + "/", 404),
        ("/states/%C3%A9%C3%A9%C3%A9/", 404),  # "ééé", whose upper case is another string
        ("/states/%00/", 400),  # NUL refused for the whole site (uprtrax/middleware.py)
        ("/states/FR%27A/", 404),
    ],
)
def test_state_page_bad_codes_redirect_or_are_4xx_never_500(client, url, status):
    response = client.get(url, follow=False)
    assert response.status_code == status
    if status == 404:
        assert "Not found" in _text(response)


def test_unknown_state_says_which_code(client):
    assert "No state with code 'XYZ'." in _text(client.get("/states/xyz/", follow=True))


# --- Sessions and cycles ----------------------------------------------------------------------------------------


def test_session_list_counts_states_responses_and_implementation(client, world):
    sessions = {session.number: session for session in session_list_with_counts()}
    assert (sessions[28].n_reviews, sessions[28].tally) == (2, Tally(4, 2, 1, 1, 0, 1, 0, 1))
    assert sessions[15].tally.triggered_pct == 50.0 and sessions[1].tally == Tally()
    response = client.get(reverse("reviews:session_list"))
    assert _row(response, "Session 28") == "Session 28 2017 2 4 2 1 100.0% 25.0%"


def test_session_list_queries_do_not_grow_with_the_data(client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(3) as few:
        client.get(reverse("reviews:session_list"))
    _many()
    with django_assert_max_num_queries(len(few)):
        assert client.get(reverse("reviews:session_list")).status_code == 200


def test_session_page_lists_states_with_counts_totals_and_links(client, world, django_assert_max_num_queries):
    with django_assert_max_num_queries(3) as few:
        response = client.get(reverse("reviews:session_detail", kwargs={"number": 28}))
    # state, report, recommendations, accepted, noted, pending, triggered action, coverage
    assert _row(response, "France") == "France A/HRC/38/4 2 1 0 1 – 0.0%"
    assert _row(response, "Kenya") == "Kenya – 2 1 1 0 100.0% 50.0%"
    assert _row(response, "Total") == "Total 4 2 1 1 100.0% 25.0%"
    body = response.content.decode()
    assert 'href="/recommendations/?sur=KEN&amp;session=28&amp;response=noted">1<' in body
    assert 'href="/recommendations/?session=28&amp;response=pending">1<' in body
    assert 'href="/cycles/3/">Cycle 3</a>' in body and 'href="/sessions/28/prepare/"' in body
    _many()
    ReviewFactory(state=_state("BRA"), session=_session(28))
    with django_assert_max_num_queries(len(few)):
        assert client.get(reverse("reviews:session_detail", kwargs={"number": 28})).status_code == 200


def test_session_without_reviews_says_so(client):
    response = client.get(reverse("reviews:session_detail", kwargs={"number": 3}))
    assert response.status_code == 200
    assert "No review has been recorded for session 3 yet." in _text(response)


def test_cycle_list_sums_its_sessions(client, world, django_assert_max_num_queries):
    cycles = {cycle.number: cycle for cycle in cycle_list_with_counts()}
    assert (cycles[3].n_reviews, cycles[3].tally.total, cycles[3].tally.noted) == (2, 4, 1)
    assert (cycles[2].n_reviews, cycles[2].tally.total) == (1, 2)
    assert [s.number for s in cycles[1].sessions_counted] == list(range(1, 13))
    with django_assert_max_num_queries(4) as few:
        response = client.get(reverse("reviews:cycle_list"))
    assert _row(response, "Cycle 3") == "Cycle 3 2017–2022 27–40 2 4 2 1 100.0% 25.0%"
    assert _row(response, "Cycle 1") == "Cycle 1 2008–2011 1–12 0 0 0 0 – –"
    assert 'href="/recommendations/?cycle=3&amp;response=noted">1<' in response.content.decode()
    _many()
    with django_assert_max_num_queries(len(few)):
        client.get(reverse("reviews:cycle_list"))


def test_cycle_page_totals_its_sessions(client, world):
    response = client.get(reverse("reviews:cycle_detail", kwargs={"number": 3}))
    assert _row(response, "Cycle 3") == "Cycle 3 2 4 2 1 100.0% 25.0%"
    assert "14 sessions, 2 reviews, 4 recommendations (2 accepted)" in _text(response)


@pytest.mark.parametrize(
    "url",
    [
        "/sessions/abc/",
        "/sessions/-1/",
        "/sessions/0/",
        "/sessions/999/",
        "/sessions/99999999999999999999999/",
        "/sessions/99999999999999999999999/prepare/",
        "/sessions/1.5/",
        "/cycles/0/",
        "/cycles/9/",
        "/cycles/abc/",
        "/cycles/99999999999999999999999/",
    ],
)
def test_bad_session_and_cycle_addresses_are_404_never_500(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Not found" in _text(response)


def test_unknown_session_gives_the_known_range(client):
    assert "Unknown session 999: known sessions are 1–" in _text(client.get("/sessions/999/prepare/"))
    assert "There is no UPR session 999" in _text(client.get("/sessions/999/"))


# --- Preparing a session ----------------------------------------------------------------------------------------


def test_preparation_shows_status_counts_and_links_for_each_state(client, world, django_assert_max_num_queries):
    ReviewFactory(state=_state("FRA"), session=_session(42))
    ReviewFactory(state=_state("TUV"), session=_session(42))  # no earlier review
    with django_assert_max_num_queries(6) as few:
        response = client.get(reverse("reviews:session_prepare", kwargs={"number": 42}))
    # previous review, recommendations, accepted, noted, not / partially / fully implemented, no information,
    # triggered action (triggered/assessed), coverage
    assert _row(response, "France") == "France Session 28 (2017) 2 1 0 0 0 0 1 – 0.0%"
    assert _row(response, "Tuvalu") == "Tuvalu No earlier review recorded: this is its first review in uprtrax"
    body = response.content.decode()
    assert 'href="/recommendations/?sur=FRA&amp;session=28&amp;status=no_information">1<' in body
    _many()
    ReviewFactory(state=_state("CHL"), session=_session(42))
    with django_assert_max_num_queries(len(few)):
        assert client.get(reverse("reviews:session_prepare", kwargs={"number": 42})).status_code == 200


def test_next_session_page_says_clearly_when_none_is_known(client):
    Session.objects.filter(start_date__gt=datetime.date.today()).update(start_date=None, end_date=None)
    Session.objects.filter(year__gte=datetime.date.today().year).update(year=2020)
    response = client.get(reverse("reviews:session_next"))
    assert response.status_code == 404
    assert "No coming session is known" in _text(response)
    assert 'href="/sessions/"' in response.content.decode()
