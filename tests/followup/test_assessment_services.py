"""Writing assessments (followup/services/assessments.py): one, many, deleting, moderating; history, conflicts,
permissions and bad input."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from followup.models import Assessment
from followup.rules import BULK_MAX, COMMENT_MAX
from followup.services.assessments import (
    AssessmentConflict,
    BulkConflict,
    assessment_delete,
    assessment_hide,
    assessment_input,
    assessment_record,
    assessment_restore,
    assessment_unhide,
    assessments_record_bulk,
)
from recommendations.models import Recommendation
from reviews.models import Session
from tests.factories import RecommendationFactory, ReviewFactory
from tests.followup.cast import DAY

pytestmark = pytest.mark.django_db


def _given(**values):
    values = {"status": "partially_implemented", "assessed_on": DAY, "visibility": "public", **values}
    return assessment_input(**values)


def _record(user, organisation, recommendation, version=None, **values):
    return assessment_record(
        user=user, organisation=organisation, recommendation=recommendation, given=_given(**values), version=version
    )


def test_a_member_records_then_updates_one_assessment_and_every_change_is_kept(cast, recommendation):
    first = _record(cast.member_a, cast.org_a, recommendation, comment="A bill exists.")
    assert (first.version, first.author, first.phase) == (1, cast.member_a, Assessment.Phase.MID_TERM)
    second = _record(cast.editor_a, cast.org_a, recommendation, version=1, status="fully_implemented",
                     comment="The law was adopted.", evidence_urls="https://example.org/law")  # fmt: skip
    assert second.pk == first.pk and second.version == 2
    assert (second.author, second.last_editor) == (cast.member_a, cast.editor_a)
    history = list(second.history.order_by("history_id"))
    assert [(h.history_user, h.status, h.comment) for h in history] == [
        (cast.member_a, "partially_implemented", "A bill exists."),
        (cast.editor_a, "fully_implemented", "The law was adopted."),
    ]
    changes = {c.field: (c.old, c.new) for c in history[1].diff_against(history[0]).changes}
    assert changes["status"] == ("partially_implemented", "fully_implemented")
    assert changes["evidence_urls"] == ([], ["https://example.org/law"])
    recommendation.refresh_from_db()
    assert recommendation.implementation_status == "fully_implemented"  # public: the consolidated status follows


def test_a_stale_version_is_refused_and_shows_the_other_persons_version(cast, recommendation):
    _record(cast.member_a, cast.org_a, recommendation, comment="Mine")
    _record(cast.editor_a, cast.org_a, recommendation, version=1, comment="The editor's")
    with pytest.raises(AssessmentConflict) as conflict:
        _record(cast.member_a, cast.org_a, recommendation, version=1, comment="Overwrite?")
    assert conflict.value.current.comment == "The editor's"
    assert "editor_a changed this assessment" in str(conflict.value)
    assert Assessment.objects.get().comment == "The editor's"


def test_creating_when_someone_already_created_it_is_a_conflict(cast, recommendation):
    _record(cast.member_a, cast.org_a, recommendation, comment="First")
    with pytest.raises(AssessmentConflict):
        _record(cast.editor_a, cast.org_a, recommendation, version=None, comment="Second")
    assert Assessment.objects.get().comment == "First"


def test_a_colleagues_draft_is_theirs_alone(cast, recommendation):
    _record(cast.member_a, cast.org_a, recommendation, visibility="draft")
    with pytest.raises(PermissionDenied, match="holds a draft"):
        _record(cast.editor_a, cast.org_a, recommendation, version=1)


@pytest.mark.parametrize("who", ["anonymous", "member_b", "moderator"])
def test_only_members_record_their_organisations_assessments(cast, recommendation, who):
    user = getattr(cast, who)
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        _record(user, cast.org_a, recommendation)
    assert not Assessment.objects.exists()


def test_the_phase_follows_the_date_and_a_date_that_does_not_fit_is_refused(cast, recommendation):
    later = ReviewFactory(state=recommendation.review.state, session=Session.objects.get(number=29))
    next_review_day = later.session.start_date
    assert _record(cast.member_a, cast.org_a, recommendation, assessed_on=next_review_day).phase == "next_review"
    with pytest.raises(ValidationError) as error:
        _record(cast.member_a, cast.org_a, recommendation, phase="mid_term", assessed_on=next_review_day)
    assert "phase" in error.value.error_dict and "before the next review" in str(error.value)
    with pytest.raises(ValidationError, match="before the review"):
        _record(cast.member_a, cast.org_a, recommendation, assessed_on=datetime.date(2010, 1, 1))
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError, match="in the future"):
        _record(cast.member_a, cast.org_a, recommendation, assessed_on=tomorrow)
    assert Assessment.objects.count() == 1


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"status": "mostly_done"}, "status", "“mostly_done” is not a status"),
        ({"phase": "final"}, "phase", "is not a phase"),
        ({"visibility": "secret"}, "visibility", "is not a visibility"),
        ({"comment": "x" * (COMMENT_MAX + 1)}, "comment", "over the limit of 10,000"),
        ({"evidence_urls": "javascript:alert(1)"}, "evidence_urls", "“javascript:alert(1)” is not a web address"),
        ({"evidence_urls": "https://a.org ftp://b.org"}, "evidence_urls", "“ftp://b.org” is not a web address"),
        ({"evidence_urls": " ".join(f"https://a.org/{n}" for n in range(11))}, "evidence_urls", "at most 10"),
    ],
)
def test_bad_input_names_the_field_and_the_value(values, field, message):
    with pytest.raises(ValidationError) as error:
        _given(**values)
    assert field in error.value.error_dict
    assert message in " ".join(error.value.message_dict[field])


def test_comments_are_kept_as_plain_text(cast, recommendation):
    text = "<script>alert(1)</script>\r\nSee https://example.org"
    assert _record(cast.member_a, cast.org_a, recommendation, comment=text).comment == text.replace("\r\n", "\n")


# --- Many at once ------------------------------------------------------------------------------------------------


@pytest.fixture
def cluster():
    review = ReviewFactory()
    return [RecommendationFactory(review=review).pk for _ in range(6)]


def _bulk(user, organisation, ids, *, replace=False, seen_at=None, **values):
    return assessments_record_bulk(
        user=user, organisation=organisation, recommendation_ids=ids, given=_given(**values), replace=replace,
        seen_at=seen_at,
    )  # fmt: skip


def test_bulk_records_new_ones_keeps_or_replaces_existing_ones_and_keeps_history(cast, cluster):
    _record(cast.editor_a, cast.org_a, Recommendation.objects.get(pk=cluster[0]), comment="Assessed alone")
    result = _bulk(cast.member_a, cast.org_a, cluster, comment="Cluster")
    assert (result.created, result.updated, result.kept) == (5, 0, 1)
    assert Assessment.objects.get(recommendation_id=cluster[0]).comment == "Assessed alone"
    result = _bulk(cast.member_a, cast.org_a, cluster, replace=True, status="not_implemented", comment="All")
    assert (result.created, result.updated) == (0, 6)
    assert set(Assessment.objects.values_list("comment", "version")) == {("All", 2)}
    assert Assessment.history.filter(history_user=cast.member_a).count() == 11
    assert set(Recommendation.objects.filter(pk__in=cluster).values_list("implementation_status", flat=True)) == {
        "not_implemented"
    }


def test_bulk_refuses_all_when_someone_else_changed_one_since_the_list_was_loaded(cast, cluster):
    _bulk(cast.member_a, cast.org_a, cluster)
    seen_at = timezone.now()
    _record(cast.editor_a, cast.org_a, Recommendation.objects.get(pk=cluster[2]), version=1, comment="Newer")
    with pytest.raises(BulkConflict, match=f"#{cluster[2]}"):
        _bulk(cast.member_a, cast.org_a, cluster, replace=True, seen_at=seen_at, comment="Bulk")
    assert not Assessment.objects.filter(comment="Bulk").exists()


def test_bulk_leaves_a_colleagues_draft_alone(cast, cluster):
    _record(cast.editor_a, cast.org_a, Recommendation.objects.get(pk=cluster[0]), visibility="draft")
    result = _bulk(cast.member_a, cast.org_a, cluster, replace=True)
    assert result.drafts_of_others == [cluster[0]] and result.created == 5


def test_bulk_bad_input_names_the_recommendations_and_writes_nothing(cast, cluster):
    with pytest.raises(ValidationError, match="No recommendation has the id 999999"):
        _bulk(cast.member_a, cast.org_a, [*cluster, 999999])
    with pytest.raises(ValidationError, match=f"at most {BULK_MAX:,}"):
        _bulk(cast.member_a, cast.org_a, list(range(1, BULK_MAX + 2)))
    other = RecommendationFactory(review=ReviewFactory(session=Session.objects.get(number=28)))
    with pytest.raises(ValidationError, match=f"Recommendation #{other.pk}: The date 2015-06-01 is before the review"):
        _bulk(cast.member_a, cast.org_a, [*cluster, other.pk])
    with pytest.raises(PermissionDenied):
        _bulk(cast.member_b, cast.org_a, cluster)
    assert not Assessment.objects.exists()


# --- Deleting and moderating ---------------------------------------------------------------------------------------


def test_delete_is_soft_and_a_moderator_restores_it(cast, recommendation):
    assessment = _record(cast.member_a, cast.org_a, recommendation)
    with pytest.raises(PermissionDenied):
        assessment_delete(user=cast.member_b, assessment_id=assessment.pk, version=1)
    assessment_delete(user=cast.member_a, assessment_id=assessment.pk, version=1)
    assert not Assessment.objects.public().exists() and Assessment.objects.get().deleted_by == cast.member_a
    recommendation.refresh_from_db()
    assert recommendation.implementation_status == ""
    with pytest.raises(PermissionDenied):
        assessment_restore(user=cast.admin_a, assessment_id=assessment.pk)
    assessment_restore(user=cast.moderator, assessment_id=assessment.pk)
    assert Assessment.objects.public().get().comment == assessment.comment
    assert [h.history_change_reason for h in Assessment.history.order_by("history_id")] == [
        "recorded", "deleted", "restored",
    ]  # fmt: skip


def test_a_moderator_hides_with_a_reason_but_cannot_rewrite(cast, recommendation):
    assessment = _record(cast.member_a, cast.org_a, recommendation, comment="Insulting words")
    with pytest.raises(ValidationError, match="Say why"):
        assessment_hide(user=cast.moderator, assessment_id=assessment.pk, reason=" ")
    with pytest.raises(PermissionDenied):
        assessment_hide(user=cast.member_a, assessment_id=assessment.pk, reason="Mine")
    assessment_hide(user=cast.moderator, assessment_id=assessment.pk, reason="Personal attack")
    hidden = Assessment.objects.get()
    assert (hidden.hidden_reason, hidden.comment, hidden.hidden_by) == (
        "Personal attack", "Insulting words", cast.moderator,
    )  # fmt: skip
    assert not Assessment.objects.public().exists()
    with pytest.raises(PermissionDenied):
        _record(cast.moderator, cast.org_a, recommendation, version=hidden.version, comment="Rewritten")
    assessment_unhide(user=cast.moderator, assessment_id=assessment.pk)
    assert Assessment.objects.public().get().comment == "Insulting words"


def test_recording_again_after_a_delete_brings_it_back_with_the_new_words(cast, recommendation):
    assessment = _record(cast.member_a, cast.org_a, recommendation, comment="Old")
    assessment_delete(user=cast.member_a, assessment_id=assessment.pk, version=1)
    again = _record(cast.member_a, cast.org_a, recommendation, version=None, comment="New")
    assert (again.pk, again.deleted_at, again.comment) == (assessment.pk, None, "New")


def test_comments_keep_their_line_breaks_whatever_their_kind_and_lose_control_characters():
    given = _given(comment="  First line\x0bsecond\r\nthird\rfourth\u2028fifth\x00\x07 end  ")
    assert given.comment == "First line\nsecond\nthird\nfourth\nfifth end"
