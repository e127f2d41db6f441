"""My organisation's work: /work/ (where a member starts) and /work/<organisation>/ (the dashboard)."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.shortcuts import resolve_url
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from followup import selectors
from followup.models import Assessment, Membership
from followup.services.assessments import assessment_delete, assessment_hide, assessment_input, assessment_record
from recommendations.models import Recommendation
from reviews.models import Session, State
from tests.factories import (
    AssessmentFactory,
    MembershipFactory,
    OrganisationFactory,
    RecommendationFactory,
    ReviewFactory,
    UserFactory,
)
from tests.followup.cast import logged_in

pytestmark = pytest.mark.django_db

S, V, P = Assessment.Status, Assessment.Visibility, Assessment.Phase
ALLOWED = ("member_a", "editor_a", "admin_a", "admin")
REFUSED = ("member_b", "moderator")


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


def _review(iso3: str, session: int):
    return ReviewFactory(state=_state(iso3), session=Session.objects.get(number=session))


@pytest.fixture
def work(cast):
    """Org A (based in Kenya) assessed France's session 15 review; Kenya was reviewed in sessions 8, 21 and 35.

    France s15: 4 recommendations and a voluntary pledge. A's assessments there: public (member_a, partially,
    mid-term), organisation-only (editor_a, not implemented, next review), member_a's draft, editor_a's draft,
    a deleted one and a public one hidden by a moderator. B assessed France's first recommendation too.
    """
    cast.org_a.country = _state("KEN")
    cast.org_a.save()
    france = _review("FRA", 15)
    recs = [RecommendationFactory(review=france, text=f"France recommendation {n}") for n in range(4)]
    RecommendationFactory(review=france, kind=Recommendation.Kind.VOLUNTARY_PLEDGE, response="", text="A pledge")
    kenya = {n: _review("KEN", n) for n in (8, 21, 35)}
    RecommendationFactory(review=kenya[8], text="Kenya, first cycle")
    for n in range(3):
        RecommendationFactory(review=kenya[21], text=f"Kenya, second cycle {n}")
    RecommendationFactory(review=kenya[35], text="Kenya, third cycle")
    a = cast.org_a
    made = {
        "public": AssessmentFactory(recommendation=recs[0], organisation=a, author=cast.member_a),
        "organisation": AssessmentFactory(recommendation=recs[0], organisation=a, author=cast.editor_a,
                                          phase=P.NEXT_REVIEW, status=S.NOT_IMPLEMENTED, visibility=V.ORGANISATION,
                                          assessed_on=datetime.date(2019, 3, 1)),
        "draft_member": AssessmentFactory(recommendation=recs[1], organisation=a, author=cast.member_a,
                                          visibility=V.DRAFT, status=S.FULLY_IMPLEMENTED),
        "draft_editor": AssessmentFactory(recommendation=recs[2], organisation=a, author=cast.editor_a,
                                          visibility=V.DRAFT, status=S.NO_INFORMATION,
                                          comment="Editor's secret draft"),
        "deleted": AssessmentFactory(recommendation=recs[3], organisation=a, author=cast.member_a,
                                     deleted_at=timezone.now(), comment="Deleted words"),
        "hidden": AssessmentFactory(recommendation=kenya[21].recommendations.first(), organisation=a,
                                    author=cast.member_a, status=S.NOT_IMPLEMENTED,
                                    hidden_at=timezone.now(), hidden_by=cast.moderator, hidden_reason="Insults"),
        "org_b": AssessmentFactory(recommendation=recs[0], organisation=cast.org_b, author=cast.member_b,
                                   comment="Observatoire B's words"),
    }  # fmt: skip
    cast.recs, cast.france, cast.kenya, cast.made = recs, france, kenya, made
    return cast


# --- /work/ ---------------------------------------------------------------------------------------------------------


def test_work_sends_a_member_of_one_organisation_to_its_dashboard(client, cast):
    response = logged_in(client, cast.member_a).get("/work/")
    assert response.status_code == 302
    assert response["Location"] == reverse("dashboard:dashboard", args=["ligue-a"]) == "/work/ligue-a/"


def test_work_lets_a_member_of_several_organisations_choose(client, cast):
    MembershipFactory(user=cast.member_a, organisation=cast.org_b, role=Membership.Role.EDITOR)
    response = logged_in(client, cast.member_a).get("/work/")
    assert response.status_code == 200
    html = " ".join(response.content.decode().split())
    assert 'href="/work/ligue-a/"' in html and 'href="/work/observatoire-b/"' in html
    assert "you are an organisation editor" in html and "you are a member" in html


@pytest.mark.parametrize("who", ["moderator", "admin"])
def test_work_explains_how_to_join_to_someone_without_organisation(client, cast, who):
    response = logged_in(client, getattr(cast, who)).get("/work/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "You do not belong to any organisation yet" in html and "by invitation" in html
    assert f"{who}@example.org" in html


def test_work_sends_anonymous_visitors_to_log_in(client):
    response = client.get("/work/")
    assert response.status_code == 302
    assert response["Location"] == f"{resolve_url(settings.LOGIN_URL)}?next=/work/"


def test_work_link_in_the_header_only_for_members(client, cast):
    assert "My work" not in client.get("/").content.decode()
    assert "My work" not in logged_in(client, cast.moderator).get("/").content.decode()
    assert 'href="/work/"' in logged_in(client, cast.member_b).get("/").content.decode()


# --- /work/<organisation>/: who sees it -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", [*ALLOWED, *REFUSED, "anonymous"])
def test_dashboard_is_for_the_organisations_members_and_site_admins(client, work, who):
    response = logged_in(client, getattr(work, who)).get("/work/ligue-a/")
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"{resolve_url(settings.LOGIN_URL)}?next=/work/ligue-a/"
    elif who in REFUSED:
        assert response.status_code == 403
        assert b"France recommendation" not in response.content
    else:
        assert response.status_code == 200
        assert response.context["organisation"] == work.org_a


def test_dashboard_of_an_unknown_organisation_is_404(client, cast):
    assert logged_in(client, cast.admin).get("/work/nobody/").status_code == 404


def test_member_b_sees_only_its_own_organisations_work(client, work):
    response = logged_in(client, work.member_b).get("/work/observatoire-b/")
    assert response.status_code == 200
    counts = response.context["counts"]
    assert (counts["total"], counts["recommendations"], counts["reviews"]) == (1, 1, 1)
    html = response.content.decode()
    assert "Editor&#x27;s secret draft" not in html and "Deleted words" not in html
    assert [c.assessment_id for c in response.context["changes"]] == [work.made["org_b"].pk]


# --- counts ---------------------------------------------------------------------------------------------------------


def _by_status(counts) -> dict[str, list[int]]:
    return {row["status"]: row["by_phase"] for row in counts["by_status"]}


def test_counts_are_what_the_member_may_see_drafts_only_their_own(client, work):
    counts = logged_in(client, work.member_a).get("/work/ligue-a/").context["counts"]

    # public, organisation-only, member_a's draft, the hidden one; neither editor_a's draft nor the deleted one
    assert (counts["total"], counts["recommendations"], counts["reviews"], counts["hidden"]) == (4, 3, 2, 1)
    assert {p["phase"]: p["n"] for p in counts["phases"]} == {"mid_term": 3, "next_review": 1}
    assert _by_status(counts) == {
        "not_implemented": [1, 1],
        "partially_implemented": [1, 0],
        "fully_implemented": [1, 0],
        "no_information": [0, 0],
    }
    assert {v["visibility"]: v["n"] for v in counts["by_visibility"]} == {"public": 2, "organisation": 1, "draft": 1}


def test_counts_for_the_editor_hold_the_editors_draft_not_the_members(client, work):
    counts = logged_in(client, work.editor_a).get("/work/ligue-a/").context["counts"]
    assert counts["total"] == 4
    assert _by_status(counts)["no_information"] == [1, 0]
    assert _by_status(counts)["fully_implemented"] == [0, 0]


def test_counts_for_a_site_admin_hold_every_draft(client, work):
    counts = logged_in(client, work.admin).get("/work/ligue-a/").context["counts"]
    assert counts["total"] == 5
    assert {v["visibility"]: v["n"] for v in counts["by_visibility"]}["draft"] == 2


def _page(client, path: str) -> str:
    """The page's HTML, whitespace collapsed."""
    return " ".join(client.get(path).content.decode().split())


def test_counts_are_shown_in_the_page(client, work):
    html = _page(logged_in(client, work.member_a), "/work/ligue-a/")
    assert '<dd class="stat__value" data-count="total">4</dd>' in html
    assert '<dd class="stat__value" data-count="phase-next_review">1</dd>' in html
    assert "1 public assessment hidden by a moderator" in html


def test_an_organisation_without_assessments_says_so(client, cast):
    html = _page(logged_in(client, cast.member_b), "/work/observatoire-b/")
    assert "Observatoire B has no assessment yet" in html
    assert "No review yet" in html and "You have no draft for Observatoire B" in html and "No change yet" in html


# --- drafts ---------------------------------------------------------------------------------------------------------


def test_drafts_are_the_users_own(client, work):
    response = logged_in(client, work.member_a).get("/work/ligue-a/")
    assert [d.pk for d in response.context["drafts"]] == [work.made["draft_member"].pk]
    assert response.context["drafts_total"] == 1
    html = response.content.decode()
    assert f'data-assessment="{work.made["draft_member"].pk}"' in html
    assert f'href="/recommendations/{work.recs[1].pk}/"' in html

    response = logged_in(client, work.editor_a).get("/work/ligue-a/")
    assert [d.pk for d in response.context["drafts"]] == [work.made["draft_editor"].pk]

    response = logged_in(client, work.admin).get("/work/ligue-a/")
    assert response.context["drafts"] == [] and response.context["drafts_total"] == 0


def test_drafts_beyond_the_limit_are_counted(client, work):
    review = _review("FRA", 28)
    for n in range(selectors.DASHBOARD_DRAFTS + 2):
        AssessmentFactory(recommendation=RecommendationFactory(review=review, text=f"Many {n}"),
                          organisation=work.org_a, author=work.member_a, visibility=V.DRAFT)  # fmt: skip
    response = logged_in(client, work.member_a).get("/work/ligue-a/")
    assert len(response.context["drafts"]) == selectors.DASHBOARD_DRAFTS
    assert response.context["drafts_total"] == selectors.DASHBOARD_DRAFTS + 3
    assert f"The {selectors.DASHBOARD_DRAFTS} last edited of your 53 drafts are shown." in response.content.decode()


# --- latest changes -------------------------------------------------------------------------------------------------


def _given(**values):
    values = {"status": S.NOT_IMPLEMENTED, "assessed_on": datetime.date(2015, 6, 1),
              "phase": P.MID_TERM, "visibility": V.ORGANISATION} | values  # fmt: skip
    return assessment_input(**values)


def test_latest_changes_say_who_when_and_what(client, cast):
    recommendation = RecommendationFactory(text="Protect human rights defenders")
    first = assessment_record(user=cast.member_a, organisation=cast.org_a, recommendation=recommendation,
                              given=_given(), version=None)  # fmt: skip
    edited = assessment_record(user=cast.editor_a, organisation=cast.org_a, recommendation=recommendation,
                               given=_given(status=S.PARTIALLY_IMPLEMENTED, comment="A law was passed.",
                                            visibility=V.PUBLIC), version=first.version)  # fmt: skip
    assessment_hide(user=cast.moderator, assessment_id=edited.pk, reason="Names a victim")
    hidden = Assessment.objects.get(pk=edited.pk)
    assessment_delete(user=cast.editor_a, assessment_id=hidden.pk, version=hidden.version)

    response = logged_in(client, cast.member_a).get("/work/ligue-a/")

    changes = response.context["changes"]
    assert [c.what for c in changes] == ["Deleted", "Hidden by a moderator", "Edited", "Recorded"]
    assert [c.record.history_user for c in changes] == [cast.editor_a, cast.moderator, cast.editor_a, cast.member_a]
    edit = changes[2]
    assert [(f.label, f.before, f.after) for f in edit.fields] == [
        ("status", "Not implemented", "Partially implemented"),
        ("visibility", "Organisation", "Public"),
        ("comment", None, None),
    ]
    assert changes[3].fields == []
    html = response.content.decode()
    assert "Status: Not implemented → Partially implemented" in html and "Comment changed" in html
    assert "Protect human rights defenders" in html
    assert f'href="/assessments/{edited.pk}/"' in html


def test_latest_changes_leave_out_colleagues_drafts_and_other_organisations(client, work):
    changes = logged_in(client, work.member_a).get("/work/ligue-a/").context["changes"]
    shown = {c.assessment_id for c in changes}
    made = work.made
    assert shown == {made[name].pk for name in ("public", "organisation", "draft_member", "deleted", "hidden")}

    admin_changes = logged_in(client, work.admin).get("/work/ligue-a/").context["changes"]
    assert made["draft_editor"].pk in {c.assessment_id for c in admin_changes}
    assert made["org_b"].pk not in {c.assessment_id for c in admin_changes}


def test_latest_changes_are_the_last_twenty(client, cast):
    review = _review("FRA", 28)
    made = [
        AssessmentFactory(recommendation=RecommendationFactory(review=review, text=f"R {n}"), organisation=cast.org_a)
        for n in range(selectors.DASHBOARD_CHANGES + 5)
    ]
    changes = logged_in(client, cast.member_a).get("/work/ligue-a/").context["changes"]
    assert [c.assessment_id for c in changes] == [a.pk for a in reversed(made)][: selectors.DASHBOARD_CHANGES]
    assert all(c.what == "Recorded" for c in changes)


# --- reviews to work on ---------------------------------------------------------------------------------------------


def test_reviews_to_work_on_are_the_assessed_ones_and_the_countrys_last_two_cycles(client, work):
    response = logged_in(client, work.member_a).get("/work/ligue-a/")

    reviews = response.context["reviews"]
    kenya = work.kenya
    # most recent first; Kenya's session 8 (cycle 1) is not among its last two cycles and was not assessed
    assert [r.pk for r in reviews] == [kenya[35].pk, kenya[21].pk, work.france.pk]
    figures = {r.pk: (r.total, r.assessed, r.open, r.country) for r in reviews}
    assert figures[kenya[35].pk] == (1, 0, 1, True)
    assert figures[kenya[21].pk] == (3, 1, 2, True)  # the hidden assessment counts: the member sees it
    # France: 4 recommendations (not the pledge); assessed: the public/organisation pair on one recommendation and
    # member_a's draft; neither editor_a's draft nor the deleted one
    assert figures[work.france.pk] == (4, 2, 2, False)
    html = response.content.decode()
    for review in reviews:
        assert f'href="{reverse("bulk:work_review", args=["ligue-a", review.pk])}"' in html


def test_reviews_of_the_country_come_first(client, work):
    later = _review("ITA", 40)
    AssessmentFactory(recommendation=RecommendationFactory(review=later), organisation=work.org_a)
    reviews = logged_in(client, work.member_a).get("/work/ligue-a/").context["reviews"]
    assert [r.pk for r in reviews] == [work.kenya[35].pk, work.kenya[21].pk, later.pk, work.france.pk]


def test_reviews_of_an_organisation_without_country_are_only_the_assessed_ones(client, work):
    work.org_a.country = None
    work.org_a.save()
    reviews = logged_in(client, work.member_a).get("/work/ligue-a/").context["reviews"]
    assert [r.pk for r in reviews] == [work.kenya[21].pk, work.france.pk]


def test_reviews_assessed_by_a_colleagues_draft_only_are_not_shown_to_the_member(client, cast):
    review = _review("BRA", 13)
    AssessmentFactory(recommendation=RecommendationFactory(review=review), organisation=cast.org_a,
                      author=cast.editor_a, visibility=V.DRAFT)  # fmt: skip
    assert logged_in(client, cast.member_a).get("/work/ligue-a/").context["reviews"] == []
    assert [r.pk for r in logged_in(client, cast.editor_a).get("/work/ligue-a/").context["reviews"]] == [review.pk]


# --- escaping, queries ----------------------------------------------------------------------------------------------


def test_user_text_is_escaped(client, cast):
    cast.org_a.name = "<b>Ligue</b>"
    cast.org_a.save()
    recommendation = RecommendationFactory(text="<script>alert(1)</script> Ratify")
    AssessmentFactory(recommendation=recommendation, organisation=cast.org_a, author=cast.member_a, visibility=V.DRAFT)
    html = logged_in(client, cast.member_a).get("/work/ligue-a/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; Ratify" in html
    assert "<b>Ligue</b>" not in html and "&lt;b&gt;Ligue&lt;/b&gt;" in html


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_dashboard_queries_are_bounded_and_do_not_grow_with_the_data(client, work, django_assert_max_num_queries):
    public = work.made["public"]
    assessment_record(user=work.editor_a, organisation=work.org_a, recommendation=public.recommendation,
                      given=_given(visibility=V.PUBLIC), version=public.version)  # fmt: skip
    logged_in(client, work.member_a)
    with django_assert_max_num_queries(10):
        client.get("/work/ligue-a/")
    before = _queries(client, "/work/ligue-a/")

    for iso3, session in (("BRA", 13), ("DEU", 16), ("ITA", 20)):
        review = _review(iso3, session)
        for n in range(4):
            assessment = AssessmentFactory(recommendation=RecommendationFactory(review=review, text=f"{iso3} {n}"),
                                           organisation=work.org_a, author=work.member_a,
                                           visibility=[V.DRAFT, V.PUBLIC][n % 2])  # fmt: skip
            if n % 2:  # edited by a colleague: two history records
                assessment_record(user=work.editor_a, organisation=work.org_a,
                                  recommendation=assessment.recommendation,
                                  given=_given(status=S.FULLY_IMPLEMENTED, visibility=V.PUBLIC),
                                  version=assessment.version)  # fmt: skip

    assert _queries(client, "/work/ligue-a/") == before
    assert len(client.get("/work/ligue-a/").context["reviews"]) == 6


def test_work_chooser_queries_are_bounded(client, cast, django_assert_max_num_queries):
    for n in range(5):
        MembershipFactory(user=cast.member_a, organisation=OrganisationFactory(name=f"Other {n}", slug=f"other-{n}"))
    logged_in(client, cast.member_a)
    with django_assert_max_num_queries(5):
        response = client.get("/work/")
    assert len(response.context["memberships"]) == 6


def test_a_user_who_left_keeps_no_access(client, work):
    Membership.objects.filter(user=work.member_a).delete()
    user = UserFactory(username="member_a")  # the same user, read again: no cached roles
    assert logged_in(client, user).get("/work/ligue-a/").status_code == 403
