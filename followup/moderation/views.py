"""Moderation: hide a public assessment with a reason, show it again, restore a deleted one; the queue of hidden
and deleted assessments. Moderators never change an assessment's words: no view here edits them."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from followup import permissions
from followup.assessing.selectors import assessment_detail
from followup.models import Assessment
from followup.moderation import selectors
from followup.moderation.forms import HideForm
from followup.services.assessments import assessment_hide, assessment_restore, assessment_unhide
from uprtrax.forms import error_summary

PER_PAGE = 25


def _moderator_only(request) -> None:
    if not permissions.can_moderate(request.user):
        raise PermissionDenied("Only moderators hide, show again and restore assessments.")


def _assessment(request, pk: int) -> Assessment:
    try:
        assessment = assessment_detail(pk=pk)
    except Assessment.DoesNotExist:
        assessment = None
    if assessment is None or not permissions.can_see(request.user, assessment):
        raise Http404(f"No assessment with number {pk}.")
    return assessment


def _back(request, assessment: Assessment) -> str:
    """Where the moderator came from (`next`, on this site), else the assessment's page while they may see it."""
    wanted = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    assessment.refresh_from_db(fields=["deleted_at", "hidden_at", "visibility"])
    if permissions.can_see(request.user, assessment):
        return reverse("assessing:detail", kwargs={"pk": assessment.pk})
    return reverse("moderation:queue")


def _named(assessment: Assessment) -> str:
    return f"{assessment.organisation.name}'s {assessment.get_phase_display().lower()} assessment"


@login_required
def hide(request, pk: int):
    """The form (a reason is required) and its POST; the recommendation page and the assessment page post here."""
    _moderator_only(request)
    assessment = _assessment(request, pk)
    form = HideForm(request.POST if request.method == "POST" else None, auto_id="hide-%s")
    if form.is_valid():
        try:
            assessment_hide(user=request.user, assessment_id=assessment.pk, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"Hidden: {_named(assessment)}. It is off the public pages and figures.")
            return redirect(_back(request, assessment))
    context = {
        "assessment": assessment,
        "form": form,
        "summary": error_summary(form),
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, "moderation/hide.html", context, status=200)


@login_required
@require_POST
def unhide(request, pk: int):
    _moderator_only(request)
    assessment = _assessment(request, pk)
    assessment_unhide(user=request.user, assessment_id=assessment.pk)
    messages.success(request, f"Shown again: {_named(assessment)}.")
    return redirect(_back(request, assessment))


@login_required
@require_POST
def restore(request, pk: int):
    _moderator_only(request)
    assessment = _assessment(request, pk)
    assessment_restore(user=request.user, assessment_id=assessment.pk)
    messages.success(request, f"Restored: {_named(assessment)}, as it was before it was deleted.")
    return redirect(_back(request, assessment))


@login_required
def queue(request):
    """Hidden and deleted assessments, the latest first, 25 a page."""
    _moderator_only(request)
    show = request.GET.get("show", "all")
    if show not in selectors.SHOWS:
        show = "all"
    page = Paginator(selectors.moderation_queue(show=show), PER_PAGE).get_page(request.GET.get("page"))
    counts = selectors.moderation_counts()
    tabs = [{"key": key, "label": label, "count": counts[key]} for key, label in selectors.SHOWS.items()]
    return render(request, "moderation/queue.html", {"page": page, "show": show, "tabs": tabs})
