"""My organisation's work: where a member starts (/work/), an organisation's dashboard and its export.

Members of the organisation (any role) and site admins; anybody else gets 403, anonymous visitors the login page.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from followup import exports, permissions, selectors
from followup.models import Organisation

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
def home(request):
    """Straight to the dashboard of the user's organisation; a choice when several; how to join when none."""
    memberships = selectors.memberships_of(user=request.user)
    if len(memberships) == 1:
        return redirect("dashboard:dashboard", slug=memberships[0].organisation.slug)
    return render(request, "dashboard/home.html", {"memberships": memberships})


def _organisation(request, slug: str) -> Organisation:
    organisation = get_object_or_404(Organisation.objects.select_related("country"), slug=slug)
    if not permissions.can_assess(request.user, organisation):
        raise PermissionDenied(f"Only members of {organisation.name} see its work.")
    return organisation


@login_required
def dashboard(request, slug: str):
    organisation = _organisation(request, slug)
    context = selectors.organisation_dashboard(user=request.user, organisation=organisation)
    return render(request, "dashboard/dashboard.html", context)


@login_required
def export_csv(request, slug: str):
    organisation = _organisation(request, slug)
    queryset = selectors.organisation_export(user=request.user, organisation=organisation)
    rows = exports.export_rows(queryset, organisation=organisation)
    response = StreamingHttpResponse(exports.csv_stream(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{exports.export_filename(organisation, "csv")}"'
    return response


@login_required
def export_xlsx(request, slug: str):
    organisation = _organisation(request, slug)
    queryset = selectors.organisation_export(user=request.user, organisation=organisation)
    total = queryset.count()
    if total > exports.XLSX_MAX_ROWS:
        message = f"{total:,} assessments do not fit in one worksheet ({exports.XLSX_MAX_ROWS:,} at most): export CSV."
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
    rows = exports.export_rows(queryset, organisation=organisation)
    name = exports.export_filename(organisation, "xlsx")
    return FileResponse(exports.xlsx_file(rows), as_attachment=True, filename=name, content_type=XLSX)
