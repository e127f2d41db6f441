"""The work view of one review (followup/bulk): a row per recommendation with the organisation's mid-term
assessment, each row saved on its own through assessment_record (in place with htmx, or with the page)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from followup.models import Assessment
from followup.services.assessments import assessment_input, assessment_record
from recommendations.models import Issue
from reviews.models import Session, State
from tests.factories import AssessmentFactory, RecommendationFactory, ReviewFactory
from tests.followup.cast import DAY, logged_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def review():
    return ReviewFactory()


@pytest.fixture
def recs(review):
    torture = Issue.objects.get(name="Torture and other CID treatment")
    women = Issue.objects.get(name="Women's rights")
    return [
        RecommendationFactory(review=review, paragraph_ref="120.1", text="Ratify OPCAT", issues=[torture],
                              recommending_states=[State.objects.get(iso3="BRA"), State.objects.get(iso3="CHL")]),
        RecommendationFactory(review=review, paragraph_ref="120.2", text="Fund shelters for women", issues=[women]),
        RecommendationFactory(review=review, paragraph_ref="120.3", text="Train the police", issues=[torture, women]),
    ]  # fmt: skip


def _url(organisation, review, save=False):
    name = "bulk:work_review_save" if save else "bulk:work_review"
    return reverse(name, args=[getattr(organisation, "slug", organisation), review.pk])


def _row(recommendation, version="", **values):
    return {
        "recommendation": recommendation.pk,
        "version": version,
        "status": "partially_implemented",
        "comment": "A bill is before parliament.",
        "visibility": "organisation",
        "assessed_on": DAY.isoformat(),
        "back": "",
        **values,
    }


def _record(user, organisation, recommendation, version=None, **values):
    given = assessment_input(**{"status": "not_implemented", "assessed_on": DAY, "visibility": "organisation",
                                **values})  # fmt: skip
    return assessment_record(
        user=user, organisation=organisation, recommendation=recommendation, given=given, version=version
    )


HTMX = {"HTTP_HX_REQUEST": "true"}


# --- Who may see it and save ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", "login"), ("member_a", 200), ("editor_a", 200), ("admin_a", 200), ("admin", 200),
     ("member_b", 403), ("moderator", 403)],
)  # fmt: skip
def test_the_work_view_is_for_the_organisations_members_and_site_admins(client, cast, review, recs, who, expected):
    response = logged_in(client, getattr(cast, who)).get(_url(cast.org_a, review))
    if expected == "login":
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    else:
        assert response.status_code == expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", "login"), ("member_a", 302), ("editor_a", 302), ("admin_a", 302), ("admin", 302),
     ("member_b", 403), ("moderator", 403)],
)  # fmt: skip
def test_saving_a_row_by_the_whole_cast(client, cast, review, recs, who, expected):
    existing = _record(cast.editor_a, cast.org_a, recs[1])
    logged_in(client, getattr(cast, who))
    created = client.post(_url(cast.org_a, review, save=True), _row(recs[0]))
    updated = client.post(_url(cast.org_a, review, save=True), _row(recs[1], version=1, status="fully_implemented"))
    existing.refresh_from_db()
    if expected == 302:
        assert created.status_code == updated.status_code == 302
        mine = Assessment.objects.get(recommendation=recs[0], organisation=cast.org_a)
        assert (mine.status, mine.phase, mine.author, mine.version) == (
            "partially_implemented", "mid_term", getattr(cast, who), 1
        )  # fmt: skip
        assert (existing.status, existing.version, existing.last_editor) == ("fully_implemented", 2, getattr(cast, who))
        return
    if expected == "login":
        assert created.status_code == updated.status_code == 302
        assert created["Location"].startswith(reverse("accounts:login"))
    else:
        assert created.status_code == updated.status_code == 403
    assert not Assessment.objects.filter(recommendation=recs[0]).exists()
    assert (existing.status, existing.version) == ("not_implemented", 1)


def test_the_organisation_of_the_address_is_the_one_written_for(client, cast, review, recs):
    """member_b cannot write org_a's assessments by naming org_a in the address, nor org_b's by a member of A."""
    response = logged_in(client, cast.member_a).post(_url(cast.org_b, review, save=True), _row(recs[0]))
    assert response.status_code == 403
    assert not Assessment.objects.exists()


def test_unknown_organisation_review_or_a_recommendation_of_another_review_are_not_found(client, cast, review, recs):
    other = RecommendationFactory(review=ReviewFactory(state=State.objects.get(iso3="DEU")))
    logged_in(client, cast.member_a)
    assert client.get(_url("no-such-organisation", review)).status_code == 404
    assert client.get(reverse("bulk:work_review", args=["ligue-a", 99999999])).status_code == 404
    assert client.post(_url(cast.org_a, review, save=True), _row(other)).status_code == 404
    assert client.post(_url(cast.org_a, review, save=True), {"status": "x"}).status_code == 400
    assert client.get(_url(cast.org_a, review, save=True)).status_code == 405
    assert not Assessment.objects.exists()


# --- The page ------------------------------------------------------------------------------------------------------


def test_each_row_shows_the_recommendation_and_the_organisations_current_assessment(client, cast, review, recs):
    _record(cast.editor_a, cast.org_a, recs[0], comment="No <script>law</script> yet.", visibility="public")
    AssessmentFactory(recommendation=recs[1], organisation=cast.org_b, comment="B's words")  # another organisation's
    html = logged_in(client, cast.member_a).get(_url(cast.org_a, review)).content.decode()
    assert "3 recommendations,\n    1 assessed by Ligue des droits A" in html
    first = html.split(f'id="row-{recs[0].pk}"')[1].split("</li>")[0]
    assert "Recommendation 120.1" in first and "Ratify OPCAT" in first
    assert "From Brazil, Chile" in first and "Torture and other CID treatment" in first and "Accepted" in first
    assert '<option value="not_implemented" selected>' in first
    assert "No &lt;script&gt;law&lt;/script&gt; yet.</textarea>" in first
    assert '<option value="public" selected>Public</option>' in first
    assert '<input type="hidden" name="version" value="1">' in first and "Version 1" in first
    second = html.split(f'id="row-{recs[1].pk}"')[1].split("</li>")[0]
    assert '<option value="" selected>Not assessed</option>' in second and "B&#x27;s words" not in second
    assert '<option value="organisation" selected>Organisation</option>' in second  # the default for a new one
    assert '<input type="hidden" name="version" value="">' in second
    # Each row posts to the save view, in place with htmx, back at the row without it.
    save = _url(cast.org_a, review, save=True)
    assert f'action="{save}#row-{recs[1].pk}" hx-post="{save}"' in second
    assert 'hx-trigger="change, submit"' in second and 'hx-swap="outerHTML"' in second
    rows = html.split('<ol class="work-list">')[1].split("</ol>")[0]
    assert rows.count('name="csrfmiddlewaretoken"') == 3


def test_a_colleagues_draft_is_locked_and_its_words_are_not_shown(client, cast, review, recs):
    _record(cast.editor_a, cast.org_a, recs[0], comment="Secret draft", visibility="draft")
    html = logged_in(client, cast.member_a).get(_url(cast.org_a, review)).content.decode()
    row = html.split(f'id="row-{recs[0].pk}"')[1].split("</li>")[0]
    assert "Draft by editor_a: only they can edit it" in row
    assert "Secret draft" not in html and "<form" not in row
    # Its author sees their own draft as a form.
    client.force_login(cast.editor_a)
    assert "Secret draft</textarea>" in client.get(_url(cast.org_a, review)).content.decode()


def test_filters_by_issue_and_not_yet_assessed(client, cast, review, recs):
    _record(cast.editor_a, cast.org_a, recs[2])
    logged_in(client, cast.member_a)
    url = _url(cast.org_a, review)

    def shown(**params):
        html = client.get(url, params).content.decode()
        return [int(pk) for pk in re.findall(r'<li class="work-row[^"]*" id="row-(\d+)"', html)]

    assert shown() == [r.pk for r in recs]
    assert shown(issue="womens-rights") == [recs[1].pk, recs[2].pk]
    assert shown(todo="on") == [recs[0].pk, recs[1].pk]
    assert shown(issue="womens-rights", todo="on") == [recs[1].pk]
    html = client.get(url, {"issue": "no-such-issue"}).content.decode()
    assert "There is a problem with the filters" in html and "no-such-issue is not one of the available choices" in html


def test_the_date_of_the_saves_defaults_to_the_last_day_of_a_closed_window_and_can_be_chosen(
    client, cast, review, recs
):
    logged_in(client, cast.member_a)
    html = client.get(_url(cast.org_a, review)).content.decode()
    # FRA's session 15 review with no next review recorded: the window closes five years after it.
    closes = re.search(r"to the next one\s+\((\d+ \w+ \d{4})\)", html).group(1)
    assert "That window has closed" in html
    default = re.search(r'name="assessed_on" value="([\d-]+)"', html).group(1)
    assert datetime.date.fromisoformat(default) < timezone.localdate()
    assert datetime.datetime.strptime(closes, "%d %b %Y").date() - datetime.date.fromisoformat(default) == (
        datetime.timedelta(days=1)
    )
    html = client.get(_url(cast.org_a, review), {"date": "2015-06-01"}).content.decode()
    assert 'name="assessed_on" value="2015-06-01"' in html and "dated 1 Jun 2015" in html
    html = client.get(_url(cast.org_a, review), {"date": "2030-01-01"}).content.decode()
    assert "The date 2030-01-01 is in the future" in html and 'aria-invalid="true"' in html


# --- Saving a row ------------------------------------------------------------------------------------------------


def test_without_javascript_a_save_comes_back_to_the_row_with_the_filters(client, cast, review, recs):
    logged_in(client, cast.member_a)
    data = _row(recs[1], back="issue=womens-rights&todo=on&evil=//x.example")
    response = client.post(_url(cast.org_a, review, save=True), data)
    assert response.status_code == 302
    assert response["Location"] == f"{_url(cast.org_a, review)}?issue=womens-rights&todo=on#row-{recs[1].pk}"
    page = client.get(response["Location"]).content.decode()
    assert "Recommendation 120.2 saved." in page


def test_with_htmx_a_save_answers_with_the_row_alone(client, cast, review, recs):
    response = logged_in(client, cast.member_a).post(_url(cast.org_a, review, save=True), _row(recs[0]), **HTMX)
    html = response.content.decode().strip()
    assert response.status_code == 200
    assert html.startswith(f'<li class="work-row" id="row-{recs[0].pk}">') and html.endswith("</li>")
    assert "<html" not in html and "<h1" not in html and html.count('class="work-row"') == 1
    saved_at = timezone.localtime().strftime("%H:")
    assert f'role="status" id="row-{recs[0].pk}-saved" data-saved="Saved {saved_at}' in html
    assert '<input type="hidden" name="version" value="1">' in html  # the next save updates it
    assert f'name="assessed_on" value="{DAY.isoformat()}"' in html
    assert Assessment.objects.get(recommendation=recs[0], organisation=cast.org_a).version == 1


def test_saving_twice_with_the_new_version_updates_and_keeps_the_evidence(client, cast, review, recs):
    _record(cast.editor_a, cast.org_a, recs[0], evidence_urls="https://example.org/report")
    logged_in(client, cast.member_a)
    save = _url(cast.org_a, review, save=True)
    assert client.post(save, _row(recs[0], version=1, comment="First"), **HTMX).status_code == 200
    assert client.post(save, _row(recs[0], version=2, comment="Second"), **HTMX).status_code == 200
    assessment = Assessment.objects.get(recommendation=recs[0], organisation=cast.org_a)
    assert (assessment.version, assessment.comment, assessment.evidence_urls) == (
        3, "Second", ["https://example.org/report"]
    )  # fmt: skip
    assert assessment.history.count() == 3


def test_a_conflict_shows_the_other_version_keeps_the_input_and_saving_again_replaces(client, cast, review, recs):
    _record(cast.editor_a, cast.org_a, recs[0], comment="Seen by both")
    _record(cast.editor_a, cast.org_a, recs[0], version=1, status="fully_implemented", comment="Editor's <i>news</i>")
    logged_in(client, cast.member_a)
    save = _url(cast.org_a, review, save=True)
    response = client.post(save, _row(recs[0], version=1, comment="My words"), **HTMX)
    html = response.content.decode()
    assert response.status_code == 409
    assert html.strip().startswith(f'<li class="work-row work-row--conflict" id="row-{recs[0].pk}">')
    assert "Not saved." in html and "editor_a changed this" in html and "(version\n        2)" in html
    assert "<dt>Their status</dt><dd>Fully implemented</dd>" in html
    assert "Editor&#x27;s &lt;i&gt;news&lt;/i&gt;" in html
    assert "My words</textarea>" in html and '<option value="partially_implemented" selected>' in html
    assert '<input type="hidden" name="version" value="2">' in html and "Save again" in html
    assessment = Assessment.objects.get(recommendation=recs[0], organisation=cast.org_a)
    assert (assessment.version, assessment.comment) == (2, "Editor's <i>news</i>")

    assert client.post(save, _row(recs[0], version=2, comment="My words"), **HTMX).status_code == 200
    assessment.refresh_from_db()
    assert (assessment.version, assessment.comment, assessment.last_editor) == (3, "My words", cast.member_a)


def test_a_conflict_without_javascript_shows_the_page_with_the_row_in_conflict(client, cast, review, recs):
    _record(cast.editor_a, cast.org_a, recs[0])
    response = logged_in(client, cast.member_a).post(_url(cast.org_a, review, save=True), _row(recs[0], version=""))
    html = response.content.decode()
    assert response.status_code == 409
    assert "<h1>" in html and "work-row--conflict" in html and "A bill is before parliament.</textarea>" in html
    assert Assessment.objects.get(recommendation=recs[0], organisation=cast.org_a).version == 1


def test_a_conflict_with_a_colleagues_new_draft_does_not_show_its_words(client, cast, review, recs):
    _record(cast.editor_a, cast.org_a, recs[0], comment="Draft words", visibility="draft")
    response = logged_in(client, cast.member_a).post(_url(cast.org_a, review, save=True), _row(recs[0]), **HTMX)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Draft words" not in html
    assert "Draft by editor_a: only they can edit it" in html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": ""}, "Choose a status before saving."),
        ({"status": "done"}, "Select a valid choice. done is not one of the available choices."),
        ({"comment": "x" * 10_001}, "The comment has 10,001 characters, over the limit of 10,000."),
        ({"visibility": "everyone"}, "Select a valid choice. everyone is not one of the available choices."),
        ({"assessed_on": "2030-01-01"}, "The date 2030-01-01 is in the future"),
    ],
)
def test_bad_input_in_a_row_is_refused_with_its_message_in_the_row(client, cast, review, recs, change, message):
    response = logged_in(client, cast.member_a).post(
        _url(cast.org_a, review, save=True), _row(recs[0], **change), **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert message in html and "work-row--error" in html
    assert not Assessment.objects.exists()


def test_a_status_error_is_tied_to_its_select(client, cast, review, recs):
    response = logged_in(client, cast.member_a).post(
        _url(cast.org_a, review, save=True), _row(recs[0], status=""), **HTMX
    )
    html = response.content.decode()
    pk = recs[0].pk
    assert f'<p class="work-row__error" id="status-{pk}-error">Choose a status before saving.</p>' in html
    assert f'id="status-{pk}" aria-invalid="true" aria-describedby="status-{pk}-error"' in html


def test_a_deleted_assessment_is_shown_as_not_assessed_and_saving_restores_it(client, cast, review, recs):
    assessment = _record(cast.editor_a, cast.org_a, recs[0])
    assessment.deleted_at = timezone.now()
    assessment.save()
    logged_in(client, cast.member_a)
    html = client.get(_url(cast.org_a, review)).content.decode()
    row = html.split(f'id="row-{recs[0].pk}"')[1].split("</li>")[0]
    assert "Not assessed" in row
    assert client.post(_url(cast.org_a, review, save=True), _row(recs[0]), **HTMX).status_code == 200
    assessment.refresh_from_db()
    assert assessment.deleted_at is None and assessment.status == "partially_implemented"


# --- Queries -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 60])
def test_the_work_view_query_count_does_not_grow_with_the_rows(
    client, cast, review, count, django_assert_max_num_queries
):
    recommendations = [RecommendationFactory(review=review) for _ in range(count)]
    for recommendation in recommendations[::2]:
        AssessmentFactory(recommendation=recommendation, organisation=cast.org_a, author=cast.editor_a,
                          last_editor=cast.member_a, visibility="organisation")  # fmt: skip
    logged_in(client, cast.member_a)
    # Session, user, organisation, roles, review, its dates (2), issues, rows, their states and issues, assessments.
    with django_assert_max_num_queries(12):
        response = client.get(_url(cast.org_a, review), {"issue": "torture-and-other-cid-treatment", "todo": "on"})
    assert response.content.decode().count('<li class="work-row') == count // 2
    with django_assert_max_num_queries(12):
        response = client.get(_url(cast.org_a, review))
    assert response.content.decode().count('<li class="work-row') == count


def test_a_row_save_has_a_fixed_number_of_queries(client, cast, review, recs, django_assert_max_num_queries):
    logged_in(client, cast.member_a)
    # The page's checks (5), the current links, the dates (2), the write (6), the row again (4).
    with django_assert_max_num_queries(22):
        assert client.post(_url(cast.org_a, review, save=True), _row(recs[0]), **HTMX).status_code == 200


def test_another_review_of_another_session_is_its_own_page(client, cast, recs):
    germany = ReviewFactory(state=State.objects.get(iso3="DEU"), session=Session.objects.get(number=16))
    RecommendationFactory(review=germany, text="Protect journalists")
    html = logged_in(client, cast.member_a).get(_url(cast.org_a, germany)).content.decode()
    assert "Protect journalists" in html and "Ratify OPCAT" not in html
    assert "Germany, session 16" in html
