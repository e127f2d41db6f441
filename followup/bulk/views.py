"""Assessing many at once: the bulk page (recommendations chosen on the search page, one assessment for all) and
the work view of one review (a row per recommendation, each saved on its own). The writes are
followup.services.assessments; the permission checks followup.permissions."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from followup import permissions
from followup.bulk import selectors
from followup.bulk.forms import BulkAssessForm, RowForm, WorkFilterForm
from followup.models import Assessment, Organisation
from followup.services.assessments import (
    AssessmentConflict,
    BulkConflict,
    assessment_record,
    assessments_record_bulk,
)
from recommendations.models import Recommendation
from reviews.models import Review
from uprtrax.forms import error_summary

# The work view's narrow column says who sees an assessment in fewer words than Assessment.Visibility.
VISIBILITY_SHORT = [
    (Assessment.Visibility.DRAFT, "Draft, only me"),
    (Assessment.Visibility.ORGANISATION, "Organisation"),
    (Assessment.Visibility.PUBLIC, "Public"),
]
RESULT_KEY = "uprtrax:bulk-result"  # the last bulk request's result, for the page after the redirect


def _organisations(request) -> list[Organisation]:
    organisations = selectors.assessable_organisations(request.user)
    if not organisations:
        raise PermissionDenied("Only members of an organisation record assessments.")
    return organisations


# --- Bulk -----------------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def bulk(request):
    """GET: what the request is about and the form; POST: record it, then the result (after a redirect)."""
    organisations = _organisations(request)
    if request.method == "POST":
        return _bulk_post(request, organisations)
    selection = selectors.selection_from_search(params=request.GET)
    asked = request.GET.get("organisation", "")
    chosen = next((o.pk for o in organisations if o.slug == asked or len(organisations) == 1), None)
    form = BulkAssessForm(
        organisations=organisations,
        initial={
            "organisation": chosen,
            "ids": ",".join(map(str, selection.ids)),
            "search": selectors.search_query(request.GET),
            "seen_at": timezone.now(),
            "assessed_on": timezone.localdate(),
        },
    )
    return _bulk_page(request, form, organisations, selection.ids, selection=selection)


def _bulk_post(request, organisations):
    allowed = {o.pk: o for o in organisations}
    raw = request.POST.get("organisation", "").strip()
    if raw and (not raw.isdigit() or int(raw) not in allowed):
        raise PermissionDenied("You do not record assessments for this organisation.")
    form = BulkAssessForm(request.POST, organisations=organisations)
    if not form.is_valid():
        return _bulk_page(request, form, organisations, form.cleaned_data.get("ids") or [], status=422)
    data = form.cleaned_data
    try:
        result = assessments_record_bulk(
            user=request.user,
            organisation=allowed[data["organisation"]],
            recommendation_ids=data["ids"],
            given=data["given"],
            replace=data["replace"],
            seen_at=data["seen_at"],
        )
    except BulkConflict as conflict:
        fresh = request.POST.copy()  # "Save again" now replaces what the others did
        fresh["seen_at"] = timezone.now().isoformat()
        form = BulkAssessForm(fresh, organisations=organisations)
        form.is_valid()
        return _bulk_page(request, form, organisations, data["ids"], conflict=conflict, status=409)
    except ValidationError as error:
        form.service_errors(error)
        return _bulk_page(request, form, organisations, data["ids"], status=422)
    request.session[RESULT_KEY] = {
        "organisation": data["organisation"],
        "created": result.created,
        "updated": result.updated,
        "kept": result.kept,
        "drafts_of_others": result.drafts_of_others,
        "ids": data["ids"],
        "search": data["search"],
    }
    return redirect("bulk:done")


def _bulk_page(request, form, organisations, ids, *, selection=None, conflict=None, status=200):
    shown = conflict.conflicts[:20] if conflict else []
    prefetch_related_objects(shown, "last_editor")
    conflicts = [{"assessment": a, "visible": permissions.can_see(request.user, a)} for a in shown]
    context = {
        "form": form,
        "organisations": organisations,
        "total": len(ids),
        "selection": selection,
        "conflict": conflict,
        "conflicts": conflicts,
        "summary": selectors.bulk_summary(ids=ids, organisations=organisations, user=request.user),
        "errors": error_summary(form) if form.is_bound else [],
        "search_url": _search_url(form["search"].value() or ""),
    }
    return render(request, "bulk/bulk.html", context, status=status)


def _search_url(query: str) -> str:
    """The search page with the search's parameters (re-encoded: only ever a query string of that page)."""
    query = QueryDict(query).urlencode()
    return reverse("recommendations:recommendation_list") + (f"?{query}" if query else "")


@login_required
@require_GET
def bulk_done(request):
    """The result of the last bulk request: figures, colleagues' drafts left alone, where to go on."""
    result = request.session.get(RESULT_KEY)
    if not result:
        return redirect("recommendations:recommendation_list")
    organisation = Organisation.objects.filter(pk=result["organisation"]).first()
    if organisation is None or not permissions.can_assess(request.user, organisation):
        raise PermissionDenied("You do not record assessments for this organisation.")
    reviews, reviews_total = selectors.reviews_of(result["ids"])
    context = {
        "result": result,
        "organisation": organisation,
        "reviews": reviews,
        "reviews_more": reviews_total - len(reviews),
        "search_url": _search_url(result["search"]),
    }
    return render(request, "bulk/bulk_done.html", context)


# --- Work view of one review ---------------------------------------------------------------------------------------


def _work_target(request, slug: str, review_id: int) -> tuple[Organisation, Review]:
    organisation = get_object_or_404(Organisation, slug=slug)
    if not permissions.can_assess(request.user, organisation):
        raise PermissionDenied(f"Only members of {organisation.name} work on its assessments.")
    review = get_object_or_404(Review.objects.select_related("state", "session__cycle"), pk=review_id)
    return organisation, review


@login_required
@require_GET
def work_review(request, slug: str, review_id: int):
    """One review's recommendations with the organisation's mid-term assessments, a form per row."""
    organisation, review = _work_target(request, slug, review_id)
    return _work_page(request, organisation, review, params=request.GET)


def _work_page(request, organisation, review, *, params, replaced=None, status=200):
    window = selectors.mid_term_window(review)
    filters = WorkFilterForm(params, issues=list(selectors.review_issues(review)), window=window)
    filters.is_valid()
    chosen = filters.cleaned_data
    rows = selectors.work_rows(
        user=request.user,
        organisation=organisation,
        review=review,
        issue=filters.issues.get(chosen.get("issue") or ""),
        todo=bool(chosen.get("todo")),
    )
    if replaced is not None:  # the row as the person left it (their input, the conflict), even if filtered out
        others = [row for row in rows if row.recommendation.pk != replaced.recommendation.pk]
        at = next((i for i, row in enumerate(rows) if row.recommendation.pk == replaced.recommendation.pk), 0)
        rows = [*others[:at], replaced, *others[at:]]
    date = chosen.get("date") or selectors.date_default(window)
    context = {
        **_row_context(organisation, review, date=date, back=_work_query(filters)),
        "filters": filters,
        "rows": rows,
        "assessed": sum(1 for row in rows if row.assessment is not None),
        "window": window,
        "date": date,
        "date_note": _date_note(date, asked=bool(chosen.get("date"))),
    }
    return render(request, "bulk/work_review.html", context, status=status)


def _row_context(organisation, review, *, date, back) -> dict:
    """What a row needs besides itself (the page's and the save's answers alike)."""
    return {
        "organisation": organisation,
        "review": review,
        "date_value": date.isoformat() if hasattr(date, "isoformat") else str(date),
        "back": back,
        "statuses": Assessment.Status.choices,
        "visibilities": VISIBILITY_SHORT,
        "save_url": reverse("bulk:work_review_save", args=[organisation.slug, review.pk]),
    }


def _date_note(date, *, asked: bool) -> str:
    if asked:
        return f"Assessments you save here are dated {date:%-d %b %Y}."
    if date == timezone.localdate():
        return "Assessments you save here are dated today."
    return (
        f"That window has closed: assessments you save here are dated {date:%-d %b %Y}, its last day, unless you "
        "choose another date within it."
    )


def _work_query(filters: WorkFilterForm) -> str:
    """The work view's valid filters as a query string (for the way back after a save)."""
    chosen = filters.cleaned_data
    kept = {
        "issue": chosen.get("issue") or "",
        "todo": "1" if chosen.get("todo") else "",
        "date": chosen["date"].isoformat() if chosen.get("date") else "",
    }
    return urlencode({name: value for name, value in kept.items() if value})


@login_required
@require_POST
def work_review_save(request, slug: str, review_id: int):
    """Save one row. With htmx (HX-Request) the answer is the row alone; without, the page, back at the row."""
    organisation, review = _work_target(request, slug, review_id)
    form = RowForm(request.POST)
    form.is_valid()
    if "recommendation" not in form.cleaned_data:
        return HttpResponseBadRequest("Which recommendation? The form lacks its number.")
    recommendation = get_object_or_404(Recommendation, pk=form.cleaned_data["recommendation"], review=review)
    row, status = _row_save(request, organisation, recommendation, form)
    if request.headers.get("HX-Request") == "true":
        date = form.cleaned_data.get("assessed_on") or form.data.get("assessed_on", "")
        context = {"row": row, **_row_context(organisation, review, date=date, back=_back(form))}
        return render(request, "bulk/includes/work_row.html", context, status=status)
    url = reverse("bulk:work_review", args=[organisation.slug, review.pk])
    if status == 200:
        messages.success(request, f"{_row_name(recommendation)} saved.")
        query = _back(form)
        return redirect(f"{url}{'?' + query if query else ''}#row-{recommendation.pk}")
    return _work_page(request, organisation, review, params=QueryDict(_back(form)), replaced=row, status=status)


def _back(form: RowForm) -> str:
    """The filters the row was saved from, re-encoded (never anything but the work view's own query)."""
    given = QueryDict(form.cleaned_data.get("back") or "")
    return urlencode({name: given[name] for name in ("issue", "todo", "date") if given.get(name)})


def _row_name(recommendation: Recommendation) -> str:
    ref = recommendation.paragraph_ref
    return f"Recommendation {ref}" if ref else f"Recommendation #{recommendation.pk}"


def _row_save(request, organisation, recommendation, form: RowForm) -> tuple[selectors.WorkRow, int]:
    """Record the row through assessment_record: the row as it then is, and the HTTP status (200 saved, 409
    someone else's change came first, 422 the input is refused)."""
    user = request.user
    typed = {name: form.data.get(name, "") for name in ("status", "comment", "visibility")}
    typed["version"] = form.data.get("version", "")
    if not form.is_valid():
        row = selectors.work_row(user=user, organisation=organisation, recommendation=recommendation)
        row.values, row.errors = typed, {name: list(errors) for name, errors in form.errors.items()}
        return row, 422
    current = Assessment.objects.filter(
        recommendation=recommendation, organisation=organisation, phase=Assessment.Phase.MID_TERM
    ).first()
    kept_links = current.evidence_urls if current is not None and current.deleted_at is None else []
    try:
        assessment_record(
            user=user,
            organisation=organisation,
            recommendation=recommendation,
            given=form.given(evidence_urls=kept_links),
            version=form.cleaned_data["version"],
        )
    except AssessmentConflict as conflict:
        row = selectors.work_row(user=user, organisation=organisation, recommendation=recommendation)
        row.conflict = conflict.current
        row.conflict_hidden = not permissions.can_see(user, conflict.current)
        row.values = {**typed, "version": conflict.current.version}  # saving again replaces theirs
        return row, 409
    except ValidationError as error:
        row = selectors.work_row(user=user, organisation=organisation, recommendation=recommendation)
        row.values, row.errors = typed, error.message_dict
        return row, 422
    row = selectors.work_row(user=user, organisation=organisation, recommendation=recommendation)
    row.saved_at = timezone.localtime()
    return row, 200
