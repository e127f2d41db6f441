"""Writing assessments: one at a time, many at once, deleting, and moderating. Every write checks the permission
(followup.permissions), keeps the change in the history (django-simple-history: who, when, the record after; the
record before is the previous entry), refuses to overwrite a change the writer has not seen (the `version` column),
and is all or nothing.
"""

import datetime
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from followup import permissions, rules
from followup.models import Assessment, Organisation, User
from followup.status import implementation_status_refresh
from recommendations.models import Recommendation


class AssessmentConflict(Exception):
    """Someone else changed the assessment since the writer read it: nothing was written. `current` is the
    assessment as it now is (to show beside what the writer tried to save)."""

    def __init__(self, current: Assessment):
        self.current = current
        who = current.last_editor or current.author
        super().__init__(
            f"{who or 'Someone'} changed this assessment on {current.updated_at:%Y-%m-%d at %H:%M} UTC "
            f"(version {current.version}) while you were editing it. Nothing was saved: compare the two, then save "
            "again."
        )


@dataclass(frozen=True)
class AssessmentInput:
    """What a writer gives; checked by `assessment_input` (which names the field at fault)."""

    status: str
    comment: str = ""
    evidence_urls: tuple[str, ...] = ()
    assessed_on: datetime.date | None = None
    phase: str = ""  # "": by the date
    visibility: str = Assessment.Visibility.DRAFT


def _field_errors(error: ValidationError, name: str) -> ValidationError:
    return ValidationError({name: error.messages})


def assessment_input(
    *,
    status: str,
    comment: str = "",
    evidence_urls: str | list[str] | tuple[str, ...] = (),
    assessed_on: datetime.date | None = None,
    phase: str = "",
    visibility: str = Assessment.Visibility.DRAFT,
) -> AssessmentInput:
    """Check what does not depend on the recommendation; raises ValidationError keyed by field."""
    errors: dict[str, list[str]] = {}
    for name, value, choices in (
        ("status", status, Assessment.Status),
        ("phase", phase, Assessment.Phase),
        ("visibility", visibility, Assessment.Visibility),
    ):
        if (value or name != "phase") and value not in choices.values:
            errors[name] = [f"“{str(value)[:40]}” is not a {name}: choose one of {', '.join(choices.values)}."]
    comment = rules.comment_clean(comment)
    try:
        rules.comment_check(comment)
    except ValidationError as error:
        errors["comment"] = error.messages
    links: list[str] = []
    try:
        links = rules.evidence_parse(list(evidence_urls) if not isinstance(evidence_urls, str) else evidence_urls)
    except ValidationError as error:
        errors["evidence_urls"] = error.messages
    if errors:
        raise ValidationError(errors)
    return AssessmentInput(
        status=status,
        comment=comment,
        evidence_urls=tuple(links),
        assessed_on=assessed_on or timezone.localdate(),
        phase=phase,
        visibility=visibility,
    )


def _phase(given: AssessmentInput, dates: rules.Dates) -> str:
    phase = given.phase or rules.phase_default(given.assessed_on, dates)
    try:
        rules.date_and_phase_check(given.assessed_on, phase, dates)
    except ValidationError as error:
        raise _field_errors(error, "phase" if error.code == "phase_dates" else "assessed_on") from None
    return phase


def _apply(assessment: Assessment, given: AssessmentInput, phase: str, user: User) -> None:
    assessment.phase = phase
    assessment.status = given.status
    assessment.comment = given.comment
    assessment.evidence_urls = list(given.evidence_urls)
    assessment.assessed_on = given.assessed_on
    assessment.visibility = given.visibility
    assessment.last_editor = user
    assessment.deleted_at, assessment.deleted_by = None, None


def _refresh_if_public(recommendation_ids, *visibilities: str) -> None:
    if Assessment.Visibility.PUBLIC in visibilities:
        implementation_status_refresh(recommendation_ids)


def _saved(assessment: Assessment, user: User, reason: str) -> Assessment:
    assessment._history_user = user
    assessment._change_reason = reason
    assessment.save()
    return assessment


def assessment_record(
    *,
    user: User,
    organisation: Organisation,
    recommendation: Recommendation,
    given: AssessmentInput,
    version: int | None,
) -> Assessment:
    """Record the organisation's assessment of one recommendation at the phase (by the date when not given): create
    it, or update it when `version` is the one the writer read (None: they saw none). Raises PermissionDenied,
    ValidationError (keyed by field) or AssessmentConflict; writes nothing then."""
    if not permissions.can_assess(user, organisation):
        raise PermissionDenied(f"You are not a member of {organisation.name}.")
    phase = _phase(given, rules.reviews_dates([recommendation.review_id])[recommendation.review_id])
    try:
        with transaction.atomic():
            current = (
                Assessment.objects.select_for_update(of=("self",))
                .select_related("author", "last_editor")
                .filter(recommendation=recommendation, organisation=organisation, phase=phase)
                .first()
            )
            before = current.visibility if current else ""
            if current is None:
                assessment = Assessment(recommendation=recommendation, organisation=organisation, author=user)
                _apply(assessment, given, phase, user)
                _saved(assessment, user, "recorded")
            else:
                if current.deleted_at is None and current.version != version:
                    raise AssessmentConflict(current)
                if not permissions.can_edit(user, current):
                    raise PermissionDenied(
                        f"{current.author or 'A colleague'} holds a draft of this assessment: only they can edit it "
                        "until they share it with the organisation."
                    )
                _apply(current, given, phase, user)
                current.version += 1
                assessment = _saved(current, user, "edited")
            _refresh_if_public([recommendation.pk], before, assessment.visibility)
    except IntegrityError:  # created by someone else between our read and our write
        current = Assessment.objects.get(recommendation=recommendation, organisation=organisation, phase=phase)
        raise AssessmentConflict(current) from None
    return assessment


@dataclass
class BulkResult:
    created: int = 0
    updated: int = 0
    kept: int = 0  # already assessed, left as they were (replace off)
    drafts_of_others: list[int] = field(default_factory=list)  # recommendation ids, left alone
    recommendation_ids: list[int] = field(default_factory=list)  # those written


class BulkConflict(Exception):
    """Assessments changed by someone else after `seen_at`: nothing was written."""

    def __init__(self, conflicts: list[Assessment]):
        self.conflicts = conflicts
        shown = ", ".join(f"#{a.recommendation_id}" for a in conflicts[:10])
        more = f" and {len(conflicts) - 10} more" if len(conflicts) > 10 else ""
        super().__init__(
            f"{len(conflicts)} of these assessments changed since you loaded the list (recommendations {shown}{more})."
            " Nothing was saved: reload the list to see the changes, then save again."
        )


def assessments_record_bulk(
    *,
    user: User,
    organisation: Organisation,
    recommendation_ids: list[int],
    given: AssessmentInput,
    replace: bool,
    seen_at: datetime.datetime | None,
) -> BulkResult:
    """Record one status, comment and links for many recommendations of the organisation at once.

    Existing assessments are replaced when `replace`, else kept; a colleague's draft is never touched. An
    assessment changed by someone else after `seen_at` (when the writer loaded the list) refuses the whole request
    (BulkConflict). Unknown recommendations, more than rules.BULK_MAX of them, or a date that does not fit one of
    them raise ValidationError naming them. All or nothing."""
    if not permissions.can_assess(user, organisation):
        raise PermissionDenied(f"You are not a member of {organisation.name}.")
    wanted = sorted(set(recommendation_ids))
    if not wanted:
        raise ValidationError({"recommendations": ["Choose at least one recommendation."]})
    if len(wanted) > rules.BULK_MAX:
        raise ValidationError(
            {"recommendations": [f"{len(wanted):,} recommendations: one request assesses at most {rules.BULK_MAX:,}."]}
        )
    reviews = dict(Recommendation.objects.filter(pk__in=wanted).values_list("pk", "review_id"))
    unknown = [pk for pk in wanted if pk not in reviews]
    if unknown:
        shown = ", ".join(map(str, unknown[:10])) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise ValidationError({"recommendations": [f"No recommendation has the id {shown}."]})
    dates = rules.reviews_dates(set(reviews.values()))
    phases: dict[int, str] = {}
    for pk in wanted:
        try:
            phases[pk] = _phase(given, dates[reviews[pk]])
        except ValidationError as error:
            messages = [f"Recommendation #{pk}: {m}" for m in error.messages]
            raise ValidationError({next(iter(error.error_dict)): messages}) from None
    result = BulkResult()
    with transaction.atomic():
        existing = {
            (a.recommendation_id, a.phase): a
            for a in Assessment.objects.select_for_update().filter(
                organisation=organisation, recommendation_id__in=wanted, phase__in=set(phases.values())
            )
        }
        conflicts = [
            a
            for a in existing.values()
            if (replace or a.deleted_at is not None)
            and seen_at is not None
            and a.updated_at > seen_at
            and a.last_editor_id not in (None, user.pk)
        ]
        if conflicts:
            raise BulkConflict(conflicts)
        new, changed, visibilities = [], [], {given.visibility}
        for pk in wanted:
            current = existing.get((pk, phases[pk]))
            if current is None:
                assessment = Assessment(recommendation_id=pk, organisation=organisation, author=user, version=1)
                _apply(assessment, given, phases[pk], user)
                new.append(assessment)
            elif not permissions.can_edit(user, current):
                result.drafts_of_others.append(pk)
                continue
            elif current.deleted_at is None and not replace:
                result.kept += 1
                continue
            else:
                visibilities.add(current.visibility)
                _apply(current, given, phases[pk], user)
                current.version += 1
                changed.append(current)
            result.recommendation_ids.append(pk)
        now = timezone.now()
        for assessment in new:
            assessment.created_at = assessment.updated_at = now
        for assessment in changed:
            assessment.updated_at = now
        if new:
            bulk_create_with_history(new, Assessment, default_user=user, default_change_reason="recorded in bulk")
        if changed:
            # Every edited assessment takes the same values but its phase (by its review's dates) and its version:
            # one UPDATE per phase (bulk_update's CASE per row and field costs seconds at 500 rows), then their
            # history from the objects, as bulk_update_with_history would write it.
            same = {"status": given.status, "comment": given.comment, "evidence_urls": list(given.evidence_urls),
                    "assessed_on": given.assessed_on, "visibility": given.visibility, "last_editor": user,
                    "deleted_at": None, "deleted_by": None, "updated_at": now}  # fmt: skip
            for phase in {a.phase for a in changed}:
                ids = [a.pk for a in changed if a.phase == phase]
                Assessment.objects.filter(pk__in=ids).update(phase=phase, version=F("version") + 1, **same)
            Assessment.history.bulk_history_create(
                changed, update=True, default_user=user, default_change_reason="edited in bulk"
            )
        result.created, result.updated = len(new), len(changed)
        _refresh_if_public(result.recommendation_ids, *visibilities)
    return result


def _locked(assessment_id: int) -> Assessment:
    locked = Assessment.objects.select_for_update(of=("self",)).select_related("author", "last_editor")
    return locked.get(pk=assessment_id)


def assessment_delete(*, user: User, assessment_id: int, version: int) -> Assessment:
    """Soft delete: the assessment leaves every page and figure; a moderator can restore it."""
    with transaction.atomic():
        assessment = _locked(assessment_id)
        if not permissions.can_delete(user, assessment):
            raise PermissionDenied("You may not delete this assessment.")
        if assessment.version != version:
            raise AssessmentConflict(assessment)
        if assessment.deleted_at is None:
            assessment.deleted_at, assessment.deleted_by = timezone.now(), user
            assessment.last_editor = user
            assessment.version += 1
            _saved(assessment, user, "deleted")
            _refresh_if_public([assessment.recommendation_id], assessment.visibility)
    return assessment


def assessment_restore(*, user: User, assessment_id: int) -> Assessment:
    """A moderator brings a deleted assessment back, as it was."""
    if not permissions.can_moderate(user):
        raise PermissionDenied("Only moderators restore deleted assessments.")
    with transaction.atomic():
        assessment = _locked(assessment_id)
        if assessment.deleted_at is not None:
            assessment.deleted_at, assessment.deleted_by = None, None
            assessment.version += 1
            _saved(assessment, user, "restored")
            _refresh_if_public([assessment.recommendation_id], assessment.visibility)
    return assessment


def assessment_hide(*, user: User, assessment_id: int, reason: str) -> Assessment:
    """A moderator takes a public assessment off the public pages and figures, with the reason kept; its words
    stay as written."""
    if not permissions.can_moderate(user):
        raise PermissionDenied("Only moderators hide assessments.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the assessment is hidden: the reason is kept with it."]})
    if len(reason) > 1000:
        raise ValidationError({"reason": [f"The reason has {len(reason):,} characters, over the limit of 1,000."]})
    with transaction.atomic():
        assessment = _locked(assessment_id)
        assessment.hidden_at, assessment.hidden_by, assessment.hidden_reason = timezone.now(), user, reason
        assessment.version += 1
        _saved(assessment, user, f"hidden: {reason}"[:100])
        _refresh_if_public([assessment.recommendation_id], assessment.visibility)
    return assessment


def assessment_unhide(*, user: User, assessment_id: int) -> Assessment:
    if not permissions.can_moderate(user):
        raise PermissionDenied("Only moderators show hidden assessments again.")
    with transaction.atomic():
        assessment = _locked(assessment_id)
        if assessment.hidden_at is not None:
            assessment.hidden_at, assessment.hidden_by, assessment.hidden_reason = None, None, ""
            assessment.version += 1
            _saved(assessment, user, "shown again")
            _refresh_if_public([assessment.recommendation_id], assessment.visibility)
    return assessment
