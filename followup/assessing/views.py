"""Assessing one recommendation: the panel of the recommendation's page ("your organisation's assessment"), the
form's POST, deleting; and one assessment's page with its history. The writes are followup.services.assessments."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from followup import permissions, rules
from followup.assessing import selectors
from followup.assessing.forms import AssessmentForm, assessment_initial, phase_hint
from followup.models import Assessment, Organisation
from followup.moderation.forms import HideForm
from followup.services.assessments import AssessmentConflict, assessment_delete, assessment_record
from recommendations import selectors as recommendation_selectors
from recommendations.models import Recommendation
from uprtrax.forms import error_summary

DRAFT_OF_OTHER = (
    "{author} holds a draft of {organisation}'s {phase} assessment of this recommendation: only they can edit it "
    "until they share it with the organisation. Nothing was saved."
)


def recommendation_url(recommendation_id: int, *, organisation: Organisation | None = None, phase: str = "") -> str:
    url = reverse("recommendations:recommendation_detail", kwargs={"pk": recommendation_id})
    query = {
        key: value for key, value in (("organisation", organisation and organisation.slug), ("phase", phase)) if value
    }
    return url + (f"?{urlencode(query)}" if query else "") + ("#assess" if organisation else "")


def recommendation_panel(request, recommendation: Recommendation, *, form=None, conflict=None) -> dict:
    """The recommendation page's parts for this person: whether they moderate, and the panel where they record
    their organisation's assessment (None for those who assess for no organisation). `form` is a posted form to
    show again (its errors, or a conflict with `conflict`, the other person's saved version)."""
    user = request.user
    context = {"moderating": permissions.can_moderate(user), "assessing": None}
    organisations = selectors.assessable_organisations(user=user)
    if not organisations:
        return context
    wanted = form["organisation"].value() if form is not None else request.GET.get("organisation")
    organisation = next((o for o in organisations if o.slug == wanted), organisations[0])
    current = selectors.organisation_assessments(organisation=organisation, recommendation_id=recommendation.pk)
    shown = [a for a in current if permissions.can_see(user, a)]
    for assessment in shown:
        assessment.user_can_delete = permissions.can_delete(user, assessment)
    dates = rules.reviews_dates([recommendation.review_id])[recommendation.review_id]
    if form is None:
        phase = request.GET.get("phase")
        if phase not in Assessment.Phase.values:
            phase = rules.phase_default(timezone.localdate(), dates)
        editing = next((a for a in shown if a.phase == phase), None)
        form = AssessmentForm(initial=assessment_initial(organisation=organisation, assessment=editing))
    else:
        version, phase = str(form["version"].value() or ""), form["phase"].value()
        editing = next((a for a in shown if str(a.version) == version and a.phase == phase), None)
    form.fields["phase"].help_text = phase_hint(dates)
    context["assessing"] = {
        "organisations": organisations,
        "organisation": organisation,
        "unknown_organisation": wanted if wanted and wanted != organisation.slug else "",
        "assessments": shown,
        "drafts_of_others": [a for a in current if a not in shown],
        "editing": editing,
        "form": form,
        "summary": error_summary(form) if form.is_bound else [],
        "conflict": conflict,
    }
    return context


def _recommendation_page(request, pk: int, *, form, conflict=None, status: int = 200):
    recommendation = recommendation_selectors.recommendation_detail(pk=pk)
    context = {"recommendation": recommendation, **recommendation_panel(request, recommendation, form=form,
                                                                         conflict=conflict)}  # fmt: skip
    return render(request, "recommendations/recommendation_detail.html", context, status=status)


def _saved_message(assessment: Assessment, created: bool) -> str:
    who_sees = {
        Assessment.Visibility.DRAFT: "It is a draft: only you see it.",
        Assessment.Visibility.ORGANISATION: "Your organisation's members see it.",
        Assessment.Visibility.PUBLIC: "It is public.",
    }[assessment.visibility]
    what = f"{assessment.organisation.name}'s {assessment.get_phase_display().lower()} assessment"
    return f"{'Recorded' if created else 'Saved'} {what}: {assessment.get_status_display()}. {who_sees}"


@login_required
@require_POST
def record(request, pk: int):
    """Record or update the organisation's assessment (POST from the recommendation page's panel), then back to
    the page; with errors or a conflict, the page again with the person's input kept."""
    recommendation = get_object_or_404(Recommendation.objects.only("pk", "review_id"), pk=pk)
    organisation = Organisation.objects.filter(slug=str(request.POST.get("organisation", ""))[:200]).first()
    if organisation is None:
        return HttpResponseBadRequest("Nothing saved: the form names no known organisation.", content_type="text/plain")
    if not permissions.can_assess(request.user, organisation):
        raise PermissionDenied(f"You are not a member of {organisation.name}: nothing was saved.")
    form, conflict, status = AssessmentForm(request.POST), None, 200
    if form.is_valid():
        try:
            assessment = assessment_record(user=request.user, organisation=organisation, recommendation=recommendation,
                                           given=form.given, version=form.cleaned_data["version"])  # fmt: skip
        except ValidationError as error:
            form.add_error(None, error)
        except PermissionDenied as error:  # a colleague's draft, at the version it has
            form.add_error(None, str(error))
            status = 403
        except AssessmentConflict as error:
            form, conflict, status = _conflict(request, form, organisation, error.current)
        else:
            messages.success(request, _saved_message(assessment, created=assessment.version == 1))
            return redirect(recommendation_url(recommendation.pk, organisation=organisation, phase=assessment.phase))
    return _recommendation_page(request, recommendation.pk, form=form, conflict=conflict, status=status)


def _conflict(request, form, organisation, current):
    """Someone else saved first: the form again with the person's input and the version now current (so that saving
    again replaces it), beside what the other saved. A colleague's draft is never shown, only named."""
    if not permissions.can_see(request.user, current):
        author = current.author.get_full_name() or current.author.username if current.author else "A colleague"
        phase = current.get_phase_display().lower()
        form.add_error(None, DRAFT_OF_OTHER.format(author=author, organisation=organisation.name, phase=phase))
        return form, None, 409
    data = request.POST.copy()
    data["version"] = str(current.version)
    return AssessmentForm(data), current, 409


@login_required
@require_POST
def delete(request, pk: int):
    """Soft delete (a moderator can restore it), for those permissions.can_delete allows, from the version read."""
    assessment = get_object_or_404(Assessment.objects.select_related("organisation"), pk=pk)
    if not permissions.can_see(request.user, assessment):
        raise Http404(f"No assessment with number {pk}.")
    if not permissions.can_delete(request.user, assessment):
        raise PermissionDenied("You may not delete this assessment: nothing was deleted.")
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        return HttpResponseBadRequest("Nothing deleted: the form gives no version.", content_type="text/plain")
    try:
        assessment_delete(user=request.user, assessment_id=assessment.pk, version=version)
    except AssessmentConflict as conflict:
        messages.error(request, f"Nothing was deleted. {conflict}")
        return redirect("assessing:detail", pk=assessment.pk)
    messages.success(request, f"Deleted {assessment.organisation.name}'s {assessment.get_phase_display().lower()} "
                              "assessment. A moderator can restore it.")  # fmt: skip
    return redirect(recommendation_url(assessment.recommendation_id, organisation=assessment.organisation))


def detail(request, pk: int):
    """One assessment, as the person may see it, and its history newest first."""
    try:
        assessment = selectors.assessment_detail(pk=pk)
    except Assessment.DoesNotExist:
        assessment = None
    if assessment is None or not permissions.can_see(request.user, assessment):
        raise Http404(f"No assessment with number {pk}.")
    user, alive = request.user, assessment.deleted_at is None
    insider = selectors.is_insider(user, assessment)
    context = {
        "assessment": assessment,
        "recommendation": assessment.recommendation,
        "insider": insider,
        "history": selectors.assessment_history(assessment=assessment, insider=insider),
        "can_edit": alive
        and permissions.can_assess(user, assessment.organisation_id)
        and permissions.can_edit(user, assessment),
        "can_delete": alive and permissions.can_delete(user, assessment),
        "moderating": permissions.can_moderate(user),
        "hide_form": HideForm(auto_id="hide-%s"),
        "edit_url": recommendation_url(
            assessment.recommendation_id, organisation=assessment.organisation, phase=assessment.phase
        ),
    }
    return render(request, "assessing/assessment_detail.html", context)
