"""Moderation in the browser (followup/moderation/): hiding a public assessment with a reason, showing it again,
restoring a deleted one, and the queue of hidden and deleted assessments. Every write is walked against the whole
cast; a denied write changes nothing; moderators never get a form that edits an assessment's words."""

import datetime
import re

import pytest
from django.urls import reverse

from followup.services.assessments import assessment_delete, assessment_hide, assessment_input, assessment_record
from tests.factories import (
    AssessmentFactory,
    MembershipFactory,
    OrganisationFactory,
)
from tests.followup.cast import CAST, DAY, assessments_snapshot, logged_in, page_text

pytestmark = pytest.mark.django_db

MODERATORS = {"moderator", "admin"}


def _record(user, organisation, recommendation, **values):
    given = {"status": "partially_implemented", "assessed_on": DAY, "visibility": "public", **values}
    return assessment_record(user=user, organisation=organisation, recommendation=recommendation,
                             given=assessment_input(**given), version=None)  # fmt: skip


@pytest.fixture
def public(cast, recommendation):
    return _record(cast.member_a, cast.org_a, recommendation, comment="The words of Ligue A")


def _page(recommendation) -> str:
    return reverse("recommendations:recommendation_detail", kwargs={"pk": recommendation.pk})


def _denied(response, who) -> bool:
    if who == "anonymous":
        return response.status_code == 302 and response["Location"].startswith(reverse("accounts:login") + "?next=")
    return response.status_code == 403


# --- Hiding -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_hiding_walks_the_cast(client, cast, recommendation, public, who):
    user = getattr(cast, who)
    before = assessments_snapshot()
    response = logged_in(client, user).post(reverse("moderation:hide", kwargs={"pk": public.pk}),
                                         {"reason": "Names a victim", "next": _page(recommendation)})  # fmt: skip
    if who not in MODERATORS:
        assert _denied(response, who)
        assert assessments_snapshot() == before
        return
    assert response.status_code == 302 and response["Location"] == _page(recommendation)
    public.refresh_from_db()
    assert (public.hidden_by, public.hidden_reason, public.comment) == (user, "Names a victim", "The words of Ligue A")
    page = client.get(response["Location"])
    text = page_text(page)
    assert "Hidden: Ligue des droits A's mid-term assessment. It is off the public pages and figures." in text
    assert "The words of Ligue A" not in text.split("what stakeholders said, over time")[1]


@pytest.mark.parametrize("who", CAST)
def test_the_hide_form_is_for_moderators_only(client, cast, public, who):
    response = logged_in(client, getattr(cast, who)).get(reverse("moderation:hide", kwargs={"pk": public.pk}))
    if who in MODERATORS:
        assert response.status_code == 200 and "Hide Ligue des droits A's assessment" in page_text(response)
    else:
        assert _denied(response, who)


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Say why the assessment is hidden: the reason is kept with it."),
        ("   ", "Say why the assessment is hidden: the reason is kept with it."),
        ("x" * 1001, "The reason has 1,001 characters, over the limit of 1,000."),
    ],
)
def test_hiding_needs_a_reason_and_says_so_on_the_field(client, cast, public, reason, message):
    before = assessments_snapshot()
    response = logged_in(client, cast.moderator).post(reverse("moderation:hide", kwargs={"pk": public.pk}),
                                                   {"reason": reason})  # fmt: skip
    assert response.status_code == 200 and assessments_snapshot() == before
    body, text = response.content.decode(), page_text(response)
    assert "The assessment was not hidden" in text and f"Reason: {message}" in text
    assert 'href="#hide-reason"' in body and 'id="hide-reason_error"' in body
    assert re.search(r'aria-describedby="[^"]*hide-reason_error', body)


def test_a_moderator_sees_hide_on_each_public_assessment_and_never_an_edit_form(client, cast, recommendation, public):
    _record(cast.member_b, cast.org_b, recommendation, visibility="organisation", comment="B's own")
    AssessmentFactory(recommendation=recommendation, organisation=OrganisationFactory(name="Third"))
    body = logged_in(client, cast.moderator).get(_page(recommendation)).content.decode()
    assert body.count('name="reason"') == 2  # the two public ones
    assert reverse("moderation:hide", kwargs={"pk": public.pk}) in body
    assert reverse("assessing:record", kwargs={"pk": recommendation.pk}) not in body
    assert 'name="comment"' not in body and "B's own" not in body
    detail = client.get(reverse("assessing:detail", kwargs={"pk": public.pk})).content.decode()
    assert 'name="reason"' in detail and 'name="comment"' not in detail and "Edit<span" not in detail
    # A moderator who is also a member edits as a member.
    MembershipFactory(user=cast.moderator, organisation=cast.org_a)
    body = client.get(_page(recommendation)).content.decode()
    assert reverse("assessing:record", kwargs={"pk": recommendation.pk}) in body


def test_an_unsafe_next_is_ignored(client, cast, public):
    response = logged_in(client, cast.moderator).post(reverse("moderation:hide", kwargs={"pk": public.pk}),
                                                   {"reason": "Spam", "next": "https://evil.example.org/"})  # fmt: skip
    assert response["Location"] == reverse("assessing:detail", kwargs={"pk": public.pk})


def test_hiding_what_a_moderator_cannot_see_is_not_found(client, cast, recommendation):
    organisation_only = _record(cast.member_a, cast.org_a, recommendation, visibility="organisation")
    before = assessments_snapshot()
    response = logged_in(client, cast.moderator).post(reverse("moderation:hide", kwargs={"pk": organisation_only.pk}),
                                                   {"reason": "Why not"})  # fmt: skip
    assert response.status_code == 404 and assessments_snapshot() == before
    assert client.post(reverse("moderation:hide", kwargs={"pk": 999999999}), {"reason": "x"}).status_code == 404


# --- Showing again and restoring --------------------------------------------------------------------------------


@pytest.fixture
def hidden(cast, public):
    return assessment_hide(user=cast.moderator, assessment_id=public.pk, reason="Insults a person")


@pytest.mark.parametrize("who", CAST)
def test_showing_again_walks_the_cast(client, cast, hidden, who):
    before = assessments_snapshot()
    response = logged_in(client, getattr(cast, who)).post(reverse("moderation:unhide", kwargs={"pk": hidden.pk}))
    if who not in MODERATORS:
        assert _denied(response, who)
        assert assessments_snapshot() == before
        return
    assert response.status_code == 302
    hidden.refresh_from_db()
    assert hidden.hidden_at is None and hidden.hidden_reason == ""
    assert "Shown again: Ligue des droits A's mid-term assessment." in page_text(client.get(response["Location"]))


@pytest.fixture
def deleted(cast, public):
    return assessment_delete(user=cast.member_a, assessment_id=public.pk, version=1)


@pytest.mark.parametrize("who", CAST)
def test_restoring_walks_the_cast(client, cast, deleted, who):
    before = assessments_snapshot()
    response = logged_in(client, getattr(cast, who)).post(reverse("moderation:restore", kwargs={"pk": deleted.pk}))
    if who not in MODERATORS:
        assert _denied(response, who)
        assert assessments_snapshot() == before
        return
    assert response.status_code == 302
    deleted.refresh_from_db()
    assert deleted.deleted_at is None and deleted.comment == "The words of Ligue A"
    assert "Restored: Ligue des droits A's mid-term assessment" in page_text(client.get(response["Location"]))


def test_unhide_and_restore_are_posts_only(client, cast, hidden):
    logged_in(client, cast.moderator)
    assert client.get(reverse("moderation:unhide", kwargs={"pk": hidden.pk})).status_code == 405
    assert client.get(reverse("moderation:restore", kwargs={"pk": hidden.pk})).status_code == 405


def test_restoring_a_draft_brings_the_moderator_back_to_the_queue(client, cast, recommendation):
    draft = _record(cast.member_a, cast.org_a, recommendation, visibility="draft")
    assessment_delete(user=cast.member_a, assessment_id=draft.pk, version=1)
    response = logged_in(client, cast.moderator).post(reverse("moderation:restore", kwargs={"pk": draft.pk}))
    assert response["Location"] == reverse("moderation:queue")  # a restored draft is its author's alone


def test_the_assessment_page_offers_a_moderator_the_actions_that_apply(client, cast, hidden):
    body = logged_in(client, cast.moderator).get(reverse("assessing:detail", kwargs={"pk": hidden.pk})).content.decode()
    assert reverse("moderation:unhide", kwargs={"pk": hidden.pk}) in body
    assert reverse("moderation:restore", kwargs={"pk": hidden.pk}) not in body
    assert 'name="reason"' not in body  # already hidden
    assert "Reason: “Insults a person”" in page_text(client.get(reverse("assessing:detail", kwargs={"pk": hidden.pk})))


# --- The queue --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_the_queue_is_for_moderators(client, cast, who):
    response = logged_in(client, getattr(cast, who)).get(reverse("moderation:queue"))
    if who in MODERATORS:
        assert response.status_code == 200 and "Nothing to moderate." in page_text(response)
    else:
        assert _denied(response, who)


def test_the_queue_lists_hidden_and_deleted_newest_first_with_reason_and_who(client, cast, recommendation):
    first = _record(cast.member_a, cast.org_a, recommendation, comment="Rude words")
    second = _record(cast.member_b, cast.org_b, recommendation, comment="Withdrawn words")
    _record(cast.member_a, cast.org_a, recommendation, assessed_on=datetime.date(2019, 1, 1), comment="Fine words")
    assessment_hide(user=cast.moderator, assessment_id=first.pk, reason="Insults <i>a person</i>")
    assessment_delete(user=cast.member_b, assessment_id=second.pk, version=1)
    response = logged_in(client, cast.moderator).get(reverse("moderation:queue"))
    text, body = page_text(response), response.content.decode()
    assert "Fine words" not in text
    assert text.index("Observatoire B's mid-term assessment") < text.index("Ligue des droits A's mid-term assessment")
    assert "Deleted" in text and "by member_b." in text
    assert "by moderator. Reason: “Insults <i>a person</i>”" in text and "&lt;i&gt;" in body
    assert "All 2" in text and "Hidden 1" in text and "Deleted 1" in text
    hidden_tab = page_text(client.get(reverse("moderation:queue"), {"show": "hidden"}))
    assert "Rude words" in hidden_tab and "Withdrawn words" not in hidden_tab
    assert reverse("moderation:unhide", kwargs={"pk": first.pk}) in body
    assert reverse("moderation:restore", kwargs={"pk": second.pk}) in body
    # An action from the queue comes back to it.
    back = client.post(reverse("moderation:restore", kwargs={"pk": second.pk}), {"next": "/moderation/?show=all"})
    assert back["Location"] == "/moderation/?show=all"


def test_the_queue_is_paginated_and_runs_a_bounded_number_of_queries(
    client, cast, recommendation, django_assert_max_num_queries
):
    def hide_some(n, start):
        for i in range(start, start + n):
            organisation = OrganisationFactory(name=f"Org {i}")
            AssessmentFactory(recommendation=recommendation, organisation=organisation, author=None,
                              hidden_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(days=i),
                              hidden_by=cast.moderator, hidden_reason=f"Reason {i}")  # fmt: skip

    hide_some(3, 0)
    logged_in(client, cast.moderator)
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("moderation:queue"))
    hide_some(27, 3)
    with django_assert_max_num_queries(len(few)):
        first = client.get(reverse("moderation:queue"))
    text = page_text(first)
    assert text.count("Reason: “Reason") == 25 and "Reason: “Reason 29”" in text and "Page 1 of 2" in text
    second = page_text(client.get(reverse("moderation:queue"), {"page": 2}))
    assert second.count("Reason: “Reason") == 5 and "Reason: “Reason 0”" in second
