"""Assessing one recommendation in the browser (followup/assessing/): the panel of the recommendation's page, its
POST (errors, conflicts, the phase by the date), deleting, and an assessment's page with its history. Every write
is walked against the whole cast; a denied write changes nothing."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from followup.models import Assessment, Membership
from followup.services.assessments import (
    assessment_delete,
    assessment_hide,
    assessment_input,
    assessment_record,
    assessment_restore,
    assessment_unhide,
)
from tests.factories import (
    AssessmentFactory,
    MembershipFactory,
    OrganisationFactory,
)
from tests.followup.cast import CAST, DAY, assessments_snapshot, logged_in, page_text

pytestmark = pytest.mark.django_db


def _page(recommendation, **query) -> str:
    url = reverse("recommendations:recommendation_detail", kwargs={"pk": recommendation.pk})
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def _form(organisation, **values) -> dict:
    return {
        "organisation": organisation.slug, "version": "", "phase": "", "status": "partially_implemented",
        "comment": "A bill is before parliament.", "evidence_urls": "", "assessed_on": DAY.isoformat(),
        "visibility": "public", **values,
    }  # fmt: skip


def _post(client, recommendation, organisation, **values):
    return client.post(reverse("assessing:record", kwargs={"pk": recommendation.pk}), _form(organisation, **values))


def _record(user, organisation, recommendation, version=None, **values):
    given = {"status": "partially_implemented", "assessed_on": DAY, "visibility": "public", **values}
    return assessment_record(user=user, organisation=organisation, recommendation=recommendation,
                             given=assessment_input(**given), version=version)  # fmt: skip


# --- The panel -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "panel"),
    [("anonymous", False), ("member_a", True), ("editor_a", True), ("member_b", True), ("moderator", False),
     ("admin", True)],
)  # fmt: skip
def test_the_panel_is_for_those_who_assess_for_an_organisation(client, cast, recommendation, who, panel):
    response = logged_in(client, getattr(cast, who)).get(_page(recommendation))
    assert response.status_code == 200
    assert ("Your organisation's assessment" in page_text(response)) is panel
    assert (
        f'action="{reverse("assessing:record", kwargs={"pk": recommendation.pk})}"' in response.content.decode()
    ) is panel


def test_a_member_of_several_organisations_chooses_among_theirs_only(client, cast, recommendation):
    MembershipFactory(user=cast.member_a, organisation=OrganisationFactory(name="Coalition C", slug="coalition-c"))
    OrganisationFactory(name="Not mine", slug="not-mine")
    response = logged_in(client, cast.member_a).get(_page(recommendation, organisation="coalition-c"))
    body = response.content.decode()
    chooser = body.split('<select id="assess-organisation"')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]+)"( selected)?>', chooser)
    assert options == [("coalition-c", " selected"), ("ligue-a", "")]
    assert 'name="organisation" value="coalition-c"' in body
    # Another organisation's address: theirs is shown instead, and the page says so.
    response = client.get(_page(recommendation, organisation="observatoire-b"))
    assert "You do not assess for “observatoire-b”: showing Coalition C." in page_text(response)
    assert 'name="organisation" value="observatoire-b"' not in response.content.decode()


def test_a_new_assessment_is_dated_today_by_the_date_phase_and_a_draft(client, cast, recommendation):
    form = logged_in(client, cast.member_a).get(_page(recommendation)).context["assessing"]["form"]
    assert form.initial["assessed_on"] == timezone.localdate()
    assert form.initial["visibility"] == "draft" and "version" not in form.initial
    assert form["phase"].value() in ("", None)
    text = page_text(client.get(_page(recommendation)))
    assert "New assessment" in text and "By the date: mid-term before" in text


def test_the_organisations_assessment_is_prefilled_with_its_version_and_marked_when_not_public(
    client, cast, recommendation
):
    assessment = _record(cast.editor_a, cast.org_a, recommendation, comment="Only for us",
                         evidence_urls="https://a.org/1 https://a.org/2", visibility="organisation")  # fmt: skip
    _record(cast.editor_a, cast.org_a, recommendation, version=1, comment="Only for us", visibility="organisation",
            evidence_urls="https://a.org/1 https://a.org/2")  # fmt: skip
    response = logged_in(client, cast.member_a).get(_page(recommendation, phase="mid_term"))
    body, text = response.content.decode(), page_text(response)
    assert '<input type="hidden" name="version" value="2"' in body
    assert "Edit the mid-term assessment" in text and "Organisation only" in text
    assert "\nOnly for us</textarea>" in body and "https://a.org/1\nhttps://a.org/2</textarea>" in body
    assert re.search(r'value="organisation"[^>]*checked', body) and re.search(
        r'value="partially_implemented"[^>]*checked', body
    )
    assert f'href="{reverse("assessing:detail", kwargs={"pk": assessment.pk})}"' in body
    # The public timeline shows public assessments only.
    timeline = text.split("what stakeholders said, over time")[1]
    assert "Only for us" not in timeline and "No public assessment of this recommendation yet." in timeline


def test_a_colleagues_draft_is_named_never_shown(client, cast, recommendation):
    _record(cast.member_a, cast.org_a, recommendation, comment="My private thoughts", visibility="draft")
    response = logged_in(client, cast.editor_a).get(_page(recommendation, phase="mid_term"))
    text = page_text(response)
    assert "member_a holds a draft. Only they can edit it until they share it with the organisation." in text
    assert "My private thoughts" not in text and "New assessment" in text
    # Its author sees it, marked as a draft.
    client.force_login(cast.member_a)
    text = page_text(client.get(_page(recommendation, phase="mid_term")))
    assert "My private thoughts" in text and "Draft: only you" in text


# --- Recording ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_recording_walks_the_cast(client, cast, recommendation, who):
    user = getattr(cast, who)
    before = assessments_snapshot()
    response = _post(logged_in(client, user), recommendation, cast.org_a)
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login") + "?next=")
    elif who in ("member_b", "moderator"):
        assert response.status_code == 403
    else:
        assessment = Assessment.objects.get()
        assert (assessment.organisation, assessment.author, assessment.comment) == (
            cast.org_a,
            user,
            "A bill is before parliament.",
        )
        assert response.status_code == 302
        assert response["Location"] == _page(recommendation, organisation="ligue-a", phase="mid_term") + "#assess"
        return
    assert assessments_snapshot() == before


def test_a_member_records_then_updates_and_is_told_so(client, cast, recommendation):
    logged_in(client, cast.member_a)
    response = _post(client, recommendation, cast.org_a, evidence_urls="https://example.org/law\r\nhttps://example.org/b",
                     comment="Line one\r\nLine two")  # fmt: skip
    assessment = Assessment.objects.get()
    assert (assessment.version, assessment.phase, assessment.visibility) == (1, "mid_term", "public")
    assert assessment.evidence_urls == ["https://example.org/law", "https://example.org/b"]
    assert assessment.comment == "Line one\nLine two"
    page = client.get(response["Location"])
    assert "Recorded Ligue des droits A's mid-term assessment: Partially implemented. It is public." in page_text(page)
    response = _post(client, recommendation, cast.org_a, version="1", status="fully_implemented", visibility="draft")
    assessment.refresh_from_db()
    assert (assessment.version, assessment.status, assessment.visibility) == (2, "fully_implemented", "draft")
    assert (
        "Saved Ligue des droits A's mid-term assessment: Fully implemented. It is a draft: only you see it."
        in page_text(client.get(response["Location"]))
    )


def test_the_phase_follows_the_date_unless_given(client, cast, recommendation):
    logged_in(client, cast.member_a)
    _post(client, recommendation, cast.org_a)
    _post(client, recommendation, cast.org_a, assessed_on="2019-03-01")
    assert dict(Assessment.objects.values_list("phase", "assessed_on")) == {
        "mid_term": DAY, "next_review": datetime.date(2019, 3, 1)
    }  # fmt: skip


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"status": ""}, "status", "Choose a status."),
        ({"status": "mostly_done"}, "status", "“mostly_done” is not a status"),
        ({"phase": "final"}, "phase", "“final” is not a phase"),
        ({"visibility": "secret"}, "visibility", "“secret” is not a visibility"),
        ({"comment": "x" * 10_001}, "comment", "The comment has 10,001 characters, over the limit of 10,000."),
        ({"evidence_urls": "https://a.org\njavascript:alert(1)"}, "evidence_urls",
         "“javascript:alert(1)” is not a web address"),
        ({"assessed_on": "2015-13-45"}, "assessed_on", "“2015-13-45” is not a date: write it as year-month-day"),
        ({"assessed_on": ""}, "assessed_on", "Give the date of the assessment"),
        ({"assessed_on": "2010-01-01"}, "assessed_on", "The date 2010-01-01 is before the review"),
        ({"assessed_on": "2019-03-01", "phase": "mid_term"}, "phase",
         "A mid-term assessment falls before the next review (2017-12-31); 2019-03-01 is later"),
        ({"assessed_on": (timezone.localdate() + datetime.timedelta(days=2)).isoformat()}, "assessed_on",
         "is in the future"),
    ],
)  # fmt: skip
def test_bad_input_is_shown_on_its_field_and_in_the_summary_and_nothing_is_saved(
    client, cast, recommendation, values, field, message
):
    response = _post(logged_in(client, cast.member_a), recommendation, cast.org_a, **values)
    assert response.status_code == 200
    assert not Assessment.objects.exists()
    form = response.context["assessing"]["form"]
    assert message in " ".join(form.errors[field])
    body, text = response.content.decode(), page_text(response)
    assert "The assessment was not saved" in text and message in text
    field_id = f"id_{field}_0" if field in ("status", "visibility") else f"id_{field}"
    assert f'href="#{field_id}"' in body  # the summary links to the field
    assert f'id="id_{field}_error"' in body  # the message, tied to the field by aria-describedby
    assert re.search(rf'aria-describedby="[^"]*id_{field}_error', body)
    # What was typed is kept.
    if field != "comment":
        assert values.get("comment", "A bill is before parliament.") in text


def test_an_unknown_recommendation_or_organisation_saves_nothing(client, cast, recommendation):
    logged_in(client, cast.member_a)
    assert client.post(reverse("assessing:record", kwargs={"pk": 999999999}), _form(cast.org_a)).status_code == 404
    response = client.post(
        reverse("assessing:record", kwargs={"pk": recommendation.pk}), {**_form(cast.org_a), "organisation": "nope"}
    )
    assert response.status_code == 400 and not Assessment.objects.exists()
    assert client.get(reverse("assessing:record", kwargs={"pk": recommendation.pk})).status_code == 405


def test_two_edits_from_the_same_version_the_second_sees_the_first_and_keeps_its_text(client, cast, recommendation):
    _record(cast.member_a, cast.org_a, recommendation, comment="First version")
    # Both open the page at version 1; the editor saves first.
    _post(logged_in(client, cast.editor_a), recommendation, cast.org_a, version="1", comment="The editor's words",
          status="fully_implemented", evidence_urls="https://editor.example.org/proof")  # fmt: skip
    client.force_login(cast.member_a)
    response = _post(client, recommendation, cast.org_a, version="1", comment="The member's words <b>bold</b>")
    assert response.status_code == 409
    assessment = Assessment.objects.get()
    assert (assessment.version, assessment.comment) == (2, "The editor's words")  # nothing overwritten
    body, text = response.content.decode(), page_text(response)
    assert "Someone else saved this assessment while you were editing it" in text
    assert "editor_a saved Ligue des droits A's mid-term assessment on" in text and "(version 2)" in text
    assert "Saving again replaces their version with yours." in text
    their = text.split("Their version, saved")[1].split("Your version, not saved yet")[0]
    assert "The editor's words" in their and "Fully implemented" in their and "editor.example.org/proof" in their
    assert "\nThe member&#x27;s words &lt;b&gt;bold&lt;/b&gt;</textarea>" in body  # the person's own text, kept
    assert '<input type="hidden" name="version" value="2"' in body  # now based on the version they saw
    assert "Save mine, replacing theirs" in text
    # Saving again replaces the other version, knowingly.
    response = _post(client, recommendation, cast.org_a, version="2", comment="The member's words")
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert (assessment.version, assessment.comment) == (3, "The member's words")


def test_recording_over_a_colleagues_draft_never_shows_it(client, cast, recommendation):
    _record(cast.member_a, cast.org_a, recommendation, comment="Secret draft", visibility="draft")
    before = assessments_snapshot()
    response = _post(logged_in(client, cast.editor_a), recommendation, cast.org_a, comment="Mine")
    assert response.status_code == 409 and assessments_snapshot() == before
    text = page_text(response)
    assert "member_a holds a draft of Ligue des droits A's mid-term assessment of this recommendation" in text
    assert "Secret draft" not in text and "Their version" not in text
    response = _post(client, recommendation, cast.org_a, version="1", comment="Mine")  # a guessed version
    assert (
        response.status_code == 403 and assessments_snapshot() == before and "Secret draft" not in page_text(response)
    )


# --- Deleting ---------------------------------------------------------------------------------------------------


@pytest.fixture
def public_assessment(cast, recommendation):
    return _record(cast.member_a, cast.org_a, recommendation, comment="To be deleted")


@pytest.mark.parametrize("who", CAST)
def test_deleting_walks_the_cast(client, cast, public_assessment, who):
    user = getattr(cast, who)
    before = assessments_snapshot()
    url = reverse("assessing:delete", kwargs={"pk": public_assessment.pk})
    response = logged_in(client, user).post(url, {"version": "1"})
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    elif who in ("member_b", "moderator"):
        assert response.status_code == 403
    else:  # its author, the organisation's editor and admin, the site's admin
        assert response.status_code == 302
        public_assessment.refresh_from_db()
        assert public_assessment.deleted_at is not None and public_assessment.deleted_by == user
        assert "A moderator can restore it." in page_text(client.get(response["Location"]))
        return
    assert assessments_snapshot() == before


def test_a_member_deletes_only_their_own(client, cast, recommendation):
    other = _record(cast.editor_a, cast.org_a, recommendation, comment="The editor's")
    before = assessments_snapshot()
    response = logged_in(client, cast.member_a).post(
        reverse("assessing:delete", kwargs={"pk": other.pk}), {"version": "1"}
    )
    assert response.status_code == 403 and assessments_snapshot() == before
    page = client.get(_page(recommendation, phase="mid_term")).content.decode()
    assert reverse("assessing:delete", kwargs={"pk": other.pk}) not in page


def test_deleting_a_stale_version_deletes_nothing(client, cast, public_assessment):
    _record(cast.editor_a, cast.org_a, public_assessment.recommendation, version=1, comment="Changed meanwhile")
    before = assessments_snapshot()
    response = logged_in(client, cast.editor_a).post(reverse("assessing:delete", kwargs={"pk": public_assessment.pk}),
                                                   {"version": "1"}, follow=True)  # fmt: skip
    assert assessments_snapshot() == before
    assert "Nothing was deleted." in page_text(response)
    bad = client.post(reverse("assessing:delete", kwargs={"pk": public_assessment.pk}), {"version": "x"})
    assert bad.status_code == 400 and assessments_snapshot() == before


def test_deleting_what_one_cannot_see_is_not_found(client, cast, recommendation):
    draft = _record(cast.member_a, cast.org_a, recommendation, visibility="draft")
    response = logged_in(client, cast.member_b).post(
        reverse("assessing:delete", kwargs={"pk": draft.pk}), {"version": "1"}
    )
    assert response.status_code == 404 and Assessment.objects.get().deleted_at is None


# --- An assessment's page and its history --------------------------------------------------------------------------


def _detail(client, assessment):
    return client.get(reverse("assessing:detail", kwargs={"pk": assessment.pk}))


@pytest.mark.parametrize(
    ("visibility", "sees"),
    [
        ("public", {"anonymous", "member_a", "editor_a", "admin_a", "member_b", "moderator", "admin"}),
        ("organisation", {"member_a", "editor_a", "admin_a", "admin"}),
        ("draft", {"member_a", "admin"}),
    ],
)
def test_the_assessment_page_is_for_those_who_may_see_it(client, cast, recommendation, visibility, sees):
    assessment = _record(cast.member_a, cast.org_a, recommendation, visibility=visibility, comment="Words")
    for who in CAST:
        client.logout()
        response = _detail(logged_in(client, getattr(cast, who)), assessment)
        assert response.status_code == (200 if who in sees else 404), who
    client.logout()
    assert "No assessment with number 999999999." in page_text(client.get("/assessments/999999999/"))


def test_the_history_tells_each_change_with_before_and_after_newest_first(client, cast, recommendation):
    first = _record(
        cast.member_a, cast.org_a, recommendation, comment="A bill exists.", evidence_urls="https://a.org/bill"
    )
    _record(cast.editor_a, cast.org_a, recommendation, version=1, status="fully_implemented", comment="The law passed.",
            evidence_urls="https://a.org/law")  # fmt: skip
    assessment_hide(user=cast.moderator, assessment_id=first.pk, reason="Names a victim")
    assessment_unhide(user=cast.moderator, assessment_id=first.pk)
    assessment_delete(user=cast.editor_a, assessment_id=first.pk, version=4)
    assessment_restore(user=cast.moderator, assessment_id=first.pk)
    text = page_text(_detail(logged_in(client, cast.member_a), first))
    history = text.split("Every change, newest first, with who made it.")[1]
    events = re.findall(r"· (Recorded|Edited|Hidden by a moderator|Shown again by a moderator|Deleted|Restored by a "
                        r"moderator) by (\w+)", history)  # fmt: skip
    assert events == [
        ("Restored by a moderator", "moderator"), ("Deleted", "editor_a"), ("Shown again by a moderator", "moderator"),
        ("Hidden by a moderator", "moderator"), ("Edited", "editor_a"), ("Recorded", "member_a"),
    ]  # fmt: skip
    assert "Reason: “Names a victim”" in history
    edited = history.split("Edited by editor_a")[1].split("Recorded by member_a")[0]
    assert "Status Partially implemented → , changed to Fully implemented" in edited
    assert "Comment Before A bill exists. After The law passed." in edited
    assert "Added a.org/law Removed a.org/bill" in edited
    recorded = history.split("Recorded by member_a")[1]
    assert (
        "Status Partially implemented" in recorded
        and "Date 1 June 2015" in recorded
        and "Who sees it Public" in recorded
    )


def test_the_public_sees_what_changed_but_not_who_nor_what_was_never_public(client, cast, recommendation):
    _record(cast.member_a, cast.org_a, recommendation, comment="Internal notes", visibility="organisation")
    _record(cast.member_a, cast.org_a, recommendation, version=1, comment="Published words")
    assessment = _record(cast.editor_a, cast.org_a, recommendation, version=2, comment="Corrected words")
    assessment_hide(user=cast.moderator, assessment_id=assessment.pk, reason="Insults a person")
    _record(cast.member_a, cast.org_a, recommendation, version=4, comment="Rewritten while hidden")
    assessment_unhide(user=cast.moderator, assessment_id=assessment.pk)
    for who in ("anonymous", "member_b"):
        client.logout()
        text = page_text(_detail(logged_in(client, getattr(cast, who)), assessment))
        history = text.split("shown to its organisation only.")[1]
        for secret in ("Internal notes", "member_a", "editor_a", "Insults a person"):
            assert secret not in history, (who, secret)
        assert not re.search(r"\bby (moderator|admin)\b", history)
        assert re.findall(r"· ([A-Z][a-z]+(?: [a-z]+)*)", history) == [
            "Shown again by a moderator", "Hidden by a moderator", "Edited", "Made public",
        ]  # fmt: skip
        assert "Before Corrected words After Rewritten while hidden" in history  # against what was last public
        assert "Before Published words After Corrected words" in history
    # Insiders see it all, names included.
    client.force_login(cast.admin_a)
    text = page_text(_detail(client, assessment))
    assert "Internal notes" in text and "Insults a person" in text and "by member_a" in text


def test_a_hidden_assessment_shows_the_moderators_reason_to_those_who_see_it(client, cast, public_assessment):
    assessment_hide(user=cast.moderator, assessment_id=public_assessment.pk, reason="Personal data <b>of</b> a victim")
    response = _detail(logged_in(client, cast.member_a), public_assessment)
    text, body = page_text(response), response.content.decode()
    assert "Hidden by a moderator on" in text and "(moderator)" in text
    assert "Reason: “Personal data <b>of</b> a victim”" in text and "&lt;b&gt;of&lt;/b&gt;" in body
    client.logout()
    assert _detail(client, public_assessment).status_code == 404


def test_the_assessment_page_escapes_comments_links_their_addresses_and_never_javascript(client, cast, recommendation):
    assessment = AssessmentFactory(
        recommendation=recommendation, organisation=cast.org_a, author=cast.member_a,
        comment="<script>alert(1)</script> See https://report.example.org/2015 for more.",
        evidence_urls=["https://evidence.example.org/a", "javascript:alert(2)"],
    )  # fmt: skip
    body = _detail(client, assessment).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert re.search(r'<a href="https://report\.example\.org/2015" rel="nofollow">', body)
    assert '<a href="https://evidence.example.org/a" rel="nofollow noopener noreferrer">' in body
    assert 'href="javascript:' not in body


def test_the_recommendation_page_escapes_what_members_see_in_the_panel(client, cast, recommendation):
    _record(cast.member_a, cast.org_a, recommendation, comment="<script>alert(1)</script>", visibility="organisation")
    body = logged_in(client, cast.member_a).get(_page(recommendation, phase="mid_term")).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_edit_and_delete_are_offered_to_those_allowed(client, cast, public_assessment):
    for who, edit, delete in (("member_a", True, True), ("member_b", False, False), ("moderator", False, False),
                              ("editor_a", True, True), ("anonymous", False, False)):  # fmt: skip
        client.logout()
        body = _detail(logged_in(client, getattr(cast, who)), public_assessment).content.decode()
        assert ("Edit<span" in body) is edit, who
        assert (reverse("assessing:delete", kwargs={"pk": public_assessment.pk}) in body) is delete, who


# --- Queries --------------------------------------------------------------------------------------------------------


def _crowd(recommendation, n: int):
    for i in range(n):
        AssessmentFactory(recommendation=recommendation, organisation=OrganisationFactory(name=f"Org {i}"))


def test_the_recommendation_page_for_a_member_runs_a_bounded_number_of_queries(
    client, cast, recommendation, django_assert_max_num_queries
):
    _record(cast.member_a, cast.org_a, recommendation, comment="Ours")
    _record(cast.member_a, cast.org_a, recommendation, assessed_on=datetime.date(2019, 1, 1), comment="Ours later")
    logged_in(client, cast.member_a)
    with django_assert_max_num_queries(13) as few:
        client.get(_page(recommendation))
    _crowd(recommendation, 20)
    for n in range(5):
        MembershipFactory(user=cast.member_a, organisation=OrganisationFactory(name=f"Mine {n}"),
                          role=Membership.Role.EDITOR)  # fmt: skip
    with django_assert_max_num_queries(len(few)):
        response = client.get(_page(recommendation))
    assert page_text(response).count("Partially implemented") >= 20


def test_the_recommendation_page_for_the_public_and_moderators_runs_few_queries(
    client, cast, recommendation, django_assert_max_num_queries
):
    _crowd(recommendation, 20)
    with django_assert_max_num_queries(5):
        client.get(_page(recommendation))
    client.force_login(cast.moderator)
    with django_assert_max_num_queries(8):
        response = client.get(_page(recommendation))
    assert response.content.decode().count('name="reason"') == 20


def test_the_assessment_page_runs_a_bounded_number_of_queries(
    client, cast, recommendation, django_assert_max_num_queries
):
    assessment = _record(cast.member_a, cast.org_a, recommendation)
    logged_in(client, cast.member_a)
    with django_assert_max_num_queries(8) as few:
        _detail(client, assessment)
    for version in range(1, 30):
        _record(cast.editor_a if version % 2 else cast.admin_a, cast.org_a, recommendation, version=version,
                comment=f"Version {version + 1}")  # fmt: skip
    with django_assert_max_num_queries(len(few)):
        response = _detail(client, assessment)
    assert page_text(response).count("Edited by") == 29
    client.logout()
    with django_assert_max_num_queries(4):
        _detail(client, assessment)


def test_pages_of_the_area_have_no_inline_style_or_script(client, cast, recommendation):
    assessment = _record(cast.member_a, cast.org_a, recommendation)
    logged_in(client, cast.moderator)
    for url in (_page(recommendation), reverse("assessing:detail", kwargs={"pk": assessment.pk})):
        body = client.get(url).content.decode()
        assert " style=" not in body and "<script>" not in body and " onclick=" not in body
    client.force_login(cast.member_a)
    body = client.get(_page(recommendation)).content.decode()
    assert " style=" not in body and "<script>" not in body
