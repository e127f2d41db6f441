"""The staff's import pages: the runs and a new import, a run (progress, preview, confirm), the mapping editor and
the canonical templates. The work is in imports.jobs; these views parse, call it and render."""

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from recommendations.imports import jobs, selectors, templates_download
from recommendations.imports.forms import ImportStartForm, MappingForm, field_label, mapping_current
from recommendations.imports.problems import ImportFailure
from recommendations.models import ImportRun
from uprtrax.forms import error_summary

RUNS_PER_PAGE = 25
PROBLEMS_PER_PAGE = 50
# What a run is doing, in words (runs.Progress phases).
PHASES = {
    "queued": "Waiting for a worker",
    "reading": "Reading the file",
    "validating": "Checking the rows",
    "planning": "Comparing with the stored data",
    "writing": "Writing",
}
ACTIVE = (ImportRun.Status.PENDING, ImportRun.Status.RUNNING)
LAYOUTS = {"upr_info": "UPR Info export", "canonical": "uprtrax template", "mapping": "mapped columns"}
# A JobError's field -> the new import form's field.
_START_FIELDS = {"file": "file", "kind": "kind", "encoding": "encoding", "sheet": "sheet", "mapping_name": "preset"}


@staff_member_required
def import_list(request):
    presets = selectors.mapping_presets()
    posted = request.method == "POST"
    form = ImportStartForm(request.POST if posted else None, request.FILES if posted else None, presets=presets)
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = jobs.job_start(user=request.user, kind=form.cleaned_data["kind"], upload=upload,
                                 file_name=upload.name, options=form.options(), mapping=None)  # fmt: skip
        except jobs.JobError as error:
            form.add_error(_START_FIELDS.get(error.field), error.message)
        else:
            return redirect("imports:run_detail", run.pk)
    page = Paginator(selectors.import_run_list(), RUNS_PER_PAGE).get_page(request.GET.get("page"))
    for run in page:
        jobs.run_refresh(run)
    context = {"form": form, "summary": error_summary(form), "page": page, "kinds": _kinds_documented()}
    return render(request, "imports/import_list.html", context)


@staff_member_required
def run_detail(request, pk: int):
    run = jobs.run_refresh(get_object_or_404(selectors.import_run_detail(), pk=pk))
    counts = run.counts or {}
    shown = selectors.counts_display(counts, committed=run.status == ImportRun.Status.SUCCEEDED)
    active = run.status in ACTIVE
    progress = jobs.run_progress(run) if active else None
    phase = (progress or {}).get("phase") or "queued"
    elapsed = max(int((timezone.now() - run.started_at).total_seconds()), 0)
    context = {
        "run": run,
        "active": active,
        "progress": progress,
        "phase": PHASES.get(phase, phase.capitalize()),
        "phases": PHASES,
        "elapsed": elapsed,
        "elapsed_text": seconds_text(elapsed),
        "duration": seconds_text(run.duration.total_seconds()) if run.duration is not None else "",
        "layout": LAYOUTS.get(run.layout, run.layout),
        "plan": shown["plan"],
        "content": shown["content"],
        "breakdowns": shown["breakdowns"],
        "errors": _problems_page(request, run.errors or [], "errors_page"),
        "warnings": _problems_page(request, run.warnings or [], "warnings_page"),
        "error_total": counts.get("errors", len(run.errors or [])),
        "warning_total": counts.get("warnings", len(run.warnings or [])),
        "can_confirm": run.status == ImportRun.Status.DRY_RUN and run.dry_run and not run.errors,
        "has_file": bool(run.upload),
        # The importer never recorded a report (a stopped worker, an unexpected error): the file is not at fault,
        # and running it again is the first remedy.
        "rerun_first": run.status == ImportRun.Status.FAILED and not run.sha256,
    }
    return render(request, "imports/run_detail.html", context)


@staff_member_required
@require_POST
def run_confirm(request, pk: int):
    run = get_object_or_404(ImportRun, pk=pk)
    try:
        run = jobs.job_confirm(run=run, user=request.user)
    except jobs.JobError as error:
        messages.error(request, error.message)
    return redirect("imports:run_detail", run.pk)


@staff_member_required
@require_POST
def run_rerun(request, pk: int):
    run = get_object_or_404(ImportRun, pk=pk)
    try:
        run = jobs.job_rerun(run=run, user=request.user, dry_run=True)
    except jobs.JobError as error:
        messages.error(request, error.message)
    return redirect("imports:run_detail", run.pk)


@staff_member_required
def mapping_edit(request, pk: int):
    run = get_object_or_404(selectors.import_run_detail(), pk=pk)
    if run.status in ACTIVE or not run.upload:
        messages.info(request, "This run is still in progress." if run.upload else "This run kept no file to map.")
        return redirect("imports:run_detail", run.pk)
    try:
        kind = jobs.kind_get(run.kind)
        table = selectors.run_table_preview(run)
    except (jobs.JobError, ImportFailure, OSError) as error:
        message = getattr(error, "message", None) or "The stored file cannot be read; upload it again."
        return render(request, "imports/mapping_edit.html", {"run": run, "failure": message}, status=409)
    posted = request.method == "POST"
    form = MappingForm(request.POST if posted else None, kind=kind, header=table.header, sample=table.sample,
                       current=mapping_current(run))  # fmt: skip
    if posted and form.is_valid():
        try:
            with transaction.atomic():
                form.preset_save(user=request.user)
                new = jobs.job_rerun(run=run, user=request.user, mapping=form.mapping(), dry_run=True)
        except jobs.JobError as error:
            form.add_error(None, error.message)
        else:
            return redirect("imports:run_detail", new.pk)
    required = [field_label(name) for name in kind.required]
    context = {"run": run, "kind": kind, "table": table, "form": form, "summary": error_summary(form),
               "required": required}  # fmt: skip
    return render(request, "imports/mapping_edit.html", context)


@staff_member_required
def template_download(request, kind: str, fmt: str):
    import_kind = jobs.IMPORT_KINDS.get(kind)
    if import_kind is None:
        raise Http404(f'No import of "{kind}".')
    columns = import_kind.template_columns
    if fmt == "xlsx":
        response = HttpResponse(templates_download.template_xlsx(columns), templates_download.XLSX_CONTENT_TYPE)
    else:
        response = HttpResponse(templates_download.template_csv(columns), templates_download.CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="uprtrax-{import_kind.name}-template.{fmt}"'
    return response


def _kinds_documented() -> list[dict]:
    """Each kind's template, column by column; a kind whose module cannot be loaded is left out."""
    kinds = []
    for name, kind in jobs.IMPORT_KINDS.items():
        try:
            kinds.append({"name": name, "label": kind.label, "columns": kind.template_columns})
        except ImportError:
            continue
    return kinds


def _problems_page(request, problems: list[dict], param: str) -> dict:
    """One page of a run's errors or warnings, with links to the pages around it (the other list's page kept)."""
    page = Paginator(problems, PROBLEMS_PER_PAGE).get_page(request.GET.get(param))

    def url(number: int) -> str:
        query = request.GET.copy()
        query[param] = str(number)
        return "?" + query.urlencode()

    return {
        "problems": page,
        "prev_url": url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page.next_page_number()) if page.has_next() else "",
    }


def seconds_text(seconds: float) -> str:
    """0.42 -> "0.4 s", 12.3 -> "12 s", 75 -> "1 min 15 s" (import-progress.js writes whole seconds the same way)."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    seconds = round(seconds)
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
