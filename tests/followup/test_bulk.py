"""Assessing many at once from the search page (followup/bulk): the search's checkboxes and buttons, the bulk page,
its POST through assessments_record_bulk, and the result page."""

import datetime
import re
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup import rules
from followup.models import Assessment
from recommendations.models import Recommendation
from reviews.models import Session, State
from tests.factories import AssessmentFactory, RecommendationFactory, ReviewFactory
from tests.followup.cast import DAY, logged_in

pytestmark = pytest.mark.django_db

BULK = reverse("bulk:bulk")
SEARCH = reverse("recommendations:recommendation_list")


@pytest.fixture
def recs():
    """Twelve recommendations to France (session 15) and three to Germany (session 16)."""
    france = ReviewFactory()
    germany = ReviewFactory(state=State.objects.get(iso3="DEU"), session=Session.objects.get(number=16))
    return SimpleRecs(
        france=[RecommendationFactory(review=france, paragraph_ref=f"120.{i}") for i in range(1, 13)],
        germany=[RecommendationFactory(review=germany) for _ in range(3)],
    )


class SimpleRecs:
    def __init__(self, france, germany):
        self.france, self.germany = france, germany

    @property
    def all(self):
        return self.france + self.germany


def _post_data(organisation, ids, **values):
    data = {
        "organisation": str(getattr(organisation, "pk", organisation)),
        "ids": ",".join(str(getattr(r, "pk", r)) for r in ids),
        "search": "sur=FRA",
        "seen_at": timezone.now().isoformat(),
        "status": "partially_implemented",
        "comment": "A national plan was adopted.",
        "evidence_urls": "https://example.org/plan\nhttps://example.org/budget",
        "assessed_on": DAY.isoformat(),
        "phase": "",
        "visibility": "public",
    }
    data.update(values)
    return data


# --- The search page ---------------------------------------------------------------------------------------------


def test_anonymous_visitors_see_no_checkbox_nor_bulk_button_and_no_query_reads_memberships(client, recs):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(SEARCH, {"sur": "FRA"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "data-bulk-pick" not in html and 'id="bulk-form"' not in html and "Assess the selected" not in html
    assert "js/work.js" not in html
    assert not [q for q in queries.captured_queries if "followup_membership" in q["sql"]]


def test_search_page_offers_checkboxes_and_both_buttons_to_members(client, cast, recs):
    response = logged_in(client, cast.member_a).get(SEARCH, {"sur": "FRA", "q": ""})
    html = response.content.decode()
    assert 'id="bulk-form"' in html and "js/work.js" in html
    picks = re.findall(r'<input type="checkbox" name="id" value="(\d+)"[^>]*form="bulk-form"', html)
    assert sorted(map(int, picks)) == sorted(r.pk for r in recs.france)
    assert "Assess the selected" in html and "Assess all\n    12 matching" in html
    # The search's parameters go with the bulk form (the empty ones and the page do not).
    assert '<input type="hidden" name="sur" value="FRA" form="bulk-form">' in html
    assert 'name="q" value="" form="bulk-form"' not in html


def test_site_admins_get_the_bulk_controls_too(client, cast, recs):
    html = logged_in(client, cast.admin).get(SEARCH).content.decode()
    assert "data-bulk-pick" in html


@pytest.mark.parametrize("who", ["moderator", "nobody"])
def test_people_without_an_organisation_get_no_bulk_controls(client, cast, recs, who):
    from tests.factories import UserFactory

    user = cast.moderator if who == "moderator" else UserFactory(username="loner")
    html = logged_in(client, user).get(SEARCH).content.decode()
    assert "data-bulk-pick" not in html and "Assess the selected" not in html


def test_the_htmx_partial_keeps_the_checkboxes(client, cast, recs):
    response = logged_in(client, cast.member_a).get(SEARCH, {"sur": "DEU"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and html.count("data-bulk-pick") == 3


def test_over_the_limit_the_search_page_says_to_narrow_the_search(client, cast, recs, monkeypatch):
    monkeypatch.setattr("recommendations.views.BULK_MAX", 10)
    html = logged_in(client, cast.member_a).get(SEARCH).content.decode()
    assert "Assess all" not in html
    assert "15 match: narrow the search to 10 or fewer" in html
    assert "Assess the selected" in html


def test_search_page_queries_anonymous_as_before_and_members_at_most_two_more(
    client, cast, recs, django_assert_max_num_queries
):
    with CaptureQueriesContext(connection) as anonymous:
        client.get(SEARCH, {"sur": "FRA"})
    with django_assert_max_num_queries(13):  # the search's own bound (tests/recommendations/test_search.py)
        client.get(SEARCH, {"sur": "FRA"})
    logged_in(client, cast.member_a)
    with CaptureQueriesContext(connection) as member:
        client.get(SEARCH, {"sur": "FRA"})
    # Logged in: the session and the user (Django's own), then the person's roles: one query, shared with the header.
    own = [q for q in member.captured_queries if not re.search(r'FROM "(django_session|followup_user)"', q["sql"])]
    assert len(own) <= len(anonymous.captured_queries) + 1
    assert len([q for q in member.captured_queries if "followup_membership" in q["sql"]]) == 1


# --- The bulk page (GET) -----------------------------------------------------------------------------------------


def test_bulk_page_shows_the_chosen_recommendations_and_how_many_are_already_assessed(client, cast, recs):
    AssessmentFactory(recommendation=recs.france[0], organisation=cast.org_a, author=cast.editor_a,
                      visibility="organisation")  # fmt: skip
    AssessmentFactory(recommendation=recs.france[1], organisation=cast.org_a, author=cast.editor_a,
                      visibility="draft")  # fmt: skip
    ids = [r.pk for r in recs.france[:3]]
    response = logged_in(client, cast.member_a).get(BULK, [("sur", "FRA"), *(("id", pk) for pk in ids)])
    html = response.content.decode()
    assert response.status_code == 200
    assert "Assess 3 recommendations at once" in html
    tally = " ".join(html.split('<ul class="bulk-tallies">')[1].split("</ul>")[0].split())
    assert (
        "<strong>Ligue des droits A</strong>: 2 at mid-term, 0 at the next review (1 of them colleagues’ drafts)."
        in tally
    )
    for recommendation in recs.france[:3]:
        assert f'href="/recommendations/{recommendation.pk}/"' in html
    assert f'name="ids" value="{",".join(map(str, ids))}"' in html
    assert 'name="search" value="sur=FRA"' in html
    assert 'name="seen_at"' in html and 'name="csrfmiddlewaretoken"' in html
    assert f'<input type="hidden" name="organisation" value="{cast.org_a.pk}"' in html  # one organisation: no choice


def test_bulk_page_lists_twenty_and_says_how_many_more(client, cast, recs):
    more = [RecommendationFactory(review=recs.france[0].review) for _ in range(12)]
    ids = [r.pk for r in recs.all + more]
    html = logged_in(client, cast.member_a).get(BULK, {"id": ids}).content.decode()
    listed = html.split('<ol class="bulk-list">')[1].split("</ol>")[0]
    assert listed.count("<li>") == 20
    assert "and 7 more." in html


def test_all_matching_recomputes_the_ids_with_the_search_filters(client, cast, recs):
    response = logged_in(client, cast.member_a).get(BULK, {"sur": "DEU", "all": "1", "id": recs.france[0].pk})
    html = response.content.decode()
    assert "Assess 3 recommendations at once" in html
    ids = re.search(r'name="ids" value="([\d,]*)"', html).group(1)
    assert sorted(map(int, ids.split(","))) == sorted(r.pk for r in recs.germany)


def test_all_matching_over_the_limit_asks_to_narrow_the_search(client, cast, recs, monkeypatch):
    monkeypatch.setattr(rules, "BULK_MAX", 5)
    html = logged_in(client, cast.member_a).get(BULK, {"sur": "FRA", "all": "1"}).content.decode()
    assert "The search matches 12 recommendations: one request assesses at most 5." in html
    assert "Narrow the search" in html and 'name="status"' not in html
    assert 'href="/recommendations/?sur=FRA"' in html


def test_all_matching_with_a_bad_filter_names_it(client, cast, recs):
    html = logged_in(client, cast.member_a).get(BULK, {"sur": "XXX", "all": "1"}).content.decode()
    assert "State under review: No state with code &#x27;XXX&#x27;." in html
    assert 'name="status"' not in html


def test_chosen_ids_over_the_limit_are_refused(client, cast, recs, monkeypatch):
    monkeypatch.setattr(rules, "BULK_MAX", 5)
    html = logged_in(client, cast.member_a).get(BULK, {"id": [r.pk for r in recs.france]}).content.decode()
    assert "12 recommendations were chosen: one request assesses at most 5." in html
    assert 'name="status"' not in html


def test_unknown_and_malformed_ids_are_named_and_left_out(client, cast, recs):
    html = logged_in(client, cast.member_a).get(BULK, {"id": [recs.france[0].pk, 99999999, "12x"]}).content.decode()
    assert "No recommendation has the number 99999999: left out." in html
    assert "“12x” is not a recommendation number." in html
    assert f'name="ids" value="{recs.france[0].pk}"' in html


def test_nothing_chosen_says_so(client, cast, recs):
    html = logged_in(client, cast.member_a).get(BULK, {"sur": "FRA"}).content.decode()
    assert "No recommendation was chosen" in html and 'name="status"' not in html


def test_members_of_several_organisations_choose_one(client, cast, recs):
    from tests.factories import MembershipFactory

    MembershipFactory(user=cast.member_a, organisation=cast.org_b)
    html = logged_in(client, cast.member_a).get(BULK, {"id": recs.france[0].pk}).content.decode()
    assert "<legend>For the organisation</legend>" in html
    assert html.count('name="organisation"') == 2 and "checked" not in html.split('name="organisation"')[1][:80]
    html = client.get(BULK, {"id": recs.france[0].pk, "organisation": "observatoire-b"}).content.decode()
    assert re.search(rf'name="organisation" value="{cast.org_b.pk}"[^>]*checked', html)


def test_bulk_page_query_count_does_not_grow_with_the_recommendations(
    client, cast, recs, django_assert_max_num_queries
):
    more = [RecommendationFactory(review=recs.france[0].review) for _ in range(30)]
    logged_in(client, cast.member_a)
    for ids in ([r.pk for r in recs.france[:2]], [r.pk for r in recs.all + more]):
        # Session, user, roles, organisations, the ids' check, the first twenty, the counts by organisation.
        with django_assert_max_num_queries(7):
            assert client.get(BULK, {"id": ids}).status_code == 200
    with django_assert_max_num_queries(14):  # the search's FilterSet (reference tables) instead of the ids' check
        assert client.get(BULK, {"sur": "FRA", "all": "1"}).status_code == 200


# --- The bulk POST: the whole cast --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("anonymous", "login"),
        ("member_a", "saved"),
        ("editor_a", "saved"),
        ("admin_a", "saved"),
        ("admin", "saved"),
        ("member_b", 403),
        ("moderator", 403),
    ],
)
def test_bulk_post_by_the_whole_cast(client, cast, recs, who, expected):
    response = logged_in(client, getattr(cast, who)).post(BULK, _post_data(cast.org_a, recs.france))
    written = Assessment.objects.filter(organisation=cast.org_a).count()
    if expected == "login":
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
        assert written == 0
    elif expected == 403:
        assert response.status_code == 403 and written == 0
    else:
        assert response.status_code == 302 and response["Location"] == reverse("bulk:done")
        assert written == 12
        assessment = Assessment.objects.get(organisation=cast.org_a, recommendation=recs.france[0])
        assert (assessment.status, assessment.phase, assessment.visibility) == (
            "partially_implemented", "mid_term", "public"
        )  # fmt: skip
        assert assessment.evidence_urls == ["https://example.org/plan", "https://example.org/budget"]
        assert assessment.author == getattr(cast, who)


@pytest.mark.parametrize("forged", ["org_b", "unknown", "text"])
def test_a_forged_organisation_is_forbidden_and_writes_nothing(client, cast, recs, forged):
    organisation = {"org_b": cast.org_b.pk, "unknown": 99999999, "text": "ligue-a"}[forged]
    response = logged_in(client, cast.member_a).post(BULK, _post_data(organisation, recs.france))
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_the_get_of_the_bulk_page_is_for_members_only(client, cast, recs):
    assert client.get(BULK, {"id": recs.france[0].pk}).status_code == 302
    assert logged_in(client, cast.moderator).get(BULK, {"id": recs.france[0].pk}).status_code == 403


def test_bulk_of_500_recommendations_is_recorded_and_the_result_page_says_so(client, cast, recs):
    review = recs.france[0].review
    many = Recommendation.objects.bulk_create(
        Recommendation(review=review, text=f"Adopt law number {i}", response="accepted") for i in range(500)
    )
    response = logged_in(client, cast.member_a).post(BULK, _post_data(cast.org_a, many), follow=True)
    html = response.content.decode()
    assert Assessment.objects.filter(organisation=cast.org_a).count() == 500
    assert response.redirect_chain == [(reverse("bulk:done"), 302)]
    assert "<dt>Created</dt><dd>500</dd>" in html
    assert f'href="{reverse("bulk:work_review", args=["ligue-a", review.pk])}"' in html
    assert 'href="/recommendations/?sur=FRA"' in html


def test_existing_assessments_are_kept_unless_replace_and_drafts_of_colleagues_always(client, cast, recs):
    kept = AssessmentFactory(recommendation=recs.france[0], organisation=cast.org_a, author=cast.editor_a,
                             status="not_implemented", visibility="organisation")  # fmt: skip
    draft = AssessmentFactory(recommendation=recs.france[1], organisation=cast.org_a, author=cast.editor_a,
                              status="not_implemented", visibility="draft")  # fmt: skip
    logged_in(client, cast.member_a).post(BULK, _post_data(cast.org_a, recs.france[:3]))
    html = client.get(reverse("bulk:done")).content.decode()
    assert "<dt>Created</dt><dd>1</dd>" in html and "<dt>Already assessed, kept</dt><dd>1</dd>" in html
    assert "<dt>Colleagues’ drafts, left alone</dt><dd>1</dd>" in html
    assert f'href="/recommendations/{recs.france[1].pk}/">Recommendation #{recs.france[1].pk}' in html
    kept.refresh_from_db()
    assert kept.status == "not_implemented"

    client.post(BULK, _post_data(cast.org_a, recs.france[:3], replace="on", status="fully_implemented"))
    kept.refresh_from_db()
    draft.refresh_from_db()
    assert (kept.status, kept.version, kept.last_editor) == ("fully_implemented", 2, cast.member_a)
    assert (draft.status, draft.version) == ("not_implemented", 1)
    assert "<dt>Replaced</dt><dd>2</dd>" in client.get(reverse("bulk:done")).content.decode()


def test_a_conflict_writes_nothing_keeps_the_input_and_saving_again_replaces(client, cast, recs):
    theirs = AssessmentFactory(
        recommendation=recs.france[0],
        organisation=cast.org_a,
        author=cast.editor_a,
        last_editor=cast.editor_a,
        status="not_implemented",
        visibility="organisation",
    )
    seen = timezone.now() - datetime.timedelta(minutes=5)  # theirs changed after the page was loaded
    data = _post_data(cast.org_a, recs.france[:4], replace="on", comment="Our <b>view</b>", seen_at=seen.isoformat())
    response = logged_in(client, cast.member_a).post(BULK, data)
    html = response.content.decode()
    assert response.status_code == 409
    assert Assessment.objects.filter(organisation=cast.org_a).count() == 1
    assert "colleagues changed some of these meanwhile" in html
    assert f"Recommendation #{recs.france[0].pk}</a>:\n      Not implemented, by editor_a" in html
    assert "Our &lt;b&gt;view&lt;/b&gt;</textarea>" in html  # the input kept, escaped
    assert re.search(r'name="replace"[^>]*checked', html)
    seen_again = re.search(r'name="seen_at" value="([^"]+)"', html).group(1)
    assert datetime.datetime.fromisoformat(seen_again) > seen

    response = client.post(BULK, {**data, "seen_at": seen_again})
    assert response.status_code == 302
    theirs.refresh_from_db()
    assert (theirs.status, theirs.comment, theirs.last_editor) == (
        "partially_implemented",
        "Our <b>view</b>",
        cast.member_a,
    )
    assert Assessment.objects.filter(organisation=cast.org_a).count() == 4


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"evidence_urls": "example.org/plan"}, "evidence_urls", "“example.org/plan” is not a web address"),
        ({"status": "done"}, "status", "“done” is not a status: choose one of those listed."),
        ({"assessed_on": "31/05/2015"}, "assessed_on", "“31/05/2015” is not a date: write it as year-month-day"),
        ({"assessed_on": "2012-01-01"}, "assessed_on", "is before the review"),
        ({"comment": "x" * (rules.COMMENT_MAX + 1)}, "comment", "over the limit of 10,000"),
    ],
)
def test_bad_input_is_refused_with_a_message_naming_it_and_nothing_is_written(
    client, cast, recs, change, field, message
):
    response = logged_in(client, cast.member_a).post(BULK, _post_data(cast.org_a, recs.france, **change))
    html = response.content.decode()
    assert response.status_code == 422
    assert message in html
    assert "Nothing was saved: there is a problem" in html and f'href="#id_{field}' in html
    assert not Assessment.objects.exists()


def test_unknown_ids_in_the_post_are_named_and_nothing_is_written(client, cast, recs):
    response = logged_in(client, cast.member_a).post(BULK, _post_data(cast.org_a, [recs.france[0].pk, 99999998]))
    assert response.status_code == 422
    assert "No recommendation has the id 99999998." in response.content.decode()
    assert not Assessment.objects.exists()


def test_over_the_limit_in_the_post_is_refused(client, cast, recs, monkeypatch):
    monkeypatch.setattr(rules, "BULK_MAX", 5)
    response = logged_in(client, cast.member_a).post(BULK, _post_data(cast.org_a, recs.france))
    assert response.status_code == 422
    assert "12 recommendations: one request assesses at most 5." in response.content.decode()
    assert not Assessment.objects.exists()


def test_a_date_after_the_next_review_at_mid_term_names_the_recommendation(client, cast, recs):
    data = _post_data(cast.org_a, recs.france[:1], assessed_on="2019-03-01", phase="mid_term")
    html = logged_in(client, cast.member_a).post(BULK, data).content.decode()
    assert f"Recommendation #{recs.france[0].pk}: A mid-term assessment falls before the next review" in html
    assert not Assessment.objects.exists()


def test_the_result_page_needs_a_result_and_a_member(client, cast, recs):
    logged_in(client, cast.member_a)
    assert client.get(reverse("bulk:done"))["Location"] == SEARCH
    client.post(BULK, _post_data(cast.org_a, recs.france[:1]))
    assert client.get(reverse("bulk:done")).status_code == 200
    client.logout()
    assert client.get(reverse("bulk:done")).status_code == 302


def test_the_back_link_is_only_ever_a_search(client, cast, recs):
    data = _post_data(cast.org_a, recs.france[:1], search="//evil.example/?q=1")
    logged_in(client, cast.member_a).post(BULK, data)
    html = client.get(reverse("bulk:done")).content.decode()
    assert 'href="//evil' not in html
    assert f'href="{SEARCH}?{urlencode({"//evil.example/?q": "1"})}"' in html
