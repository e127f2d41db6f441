"""The staff's import pages in the Django test client: permissions, the whole flow (upload, preview, confirm, the
mapping editor) with Celery eager, the canonical templates, and query bounds."""

import csv
import io
import re

import openpyxl
import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from followup import imports as assessment_imports
from recommendations.imports import jobs, layouts, runs
from recommendations.imports.layouts import TemplateColumn
from recommendations.imports.service import recommendation_import
from recommendations.imports.templates_download import cell_neutralise, template_csv, template_xlsx
from recommendations.models import ImportMapping, ImportRun, Recommendation
from tests.factories import UserFactory, csv_bytes

pytestmark = pytest.mark.django_db

UPR_INFO_HEADER = ["To", "To-Rgrp", "To-Org", "Text", "From", "From-Rgrp", "From-Org", "Response", "Action", "Issue",
                   "Session"]  # fmt: skip
UPR_INFO_ROWS = [
    ["France", "WEOG", "EU", "Ratify the Optional Protocol to the Convention against Torture.", "Ghana", "Africa", "",
     "Accepted", "5", "Torture and other CID treatment,International instruments", "15"],
    ["France", "WEOG", "EU", "Fund shelters for women victims of violence.", "Chile", "GRULAC", "", "Noted", "4",
     "Women's rights", "15"],
    ["Kenya", "Africa", "AU", "We pledge to report on time.", "Kenya", "Africa", "", "Voluntary Pledge", "2", "",
     "20"],
]  # fmt: skip
# A spreadsheet of someone else's making: no column is named like ours.
MAPPED_HEADER = ["Country", "UPR session", "Recommended by", "Recommendation", "Position", "Themes", "Notes"]
MAPPED_ROWS = [
    ["Brazil", "27", "France / Chile", "End torture in prisons.", "Supportive",
     "Torture and other CID treatment|Detention", "n/a"],
    ["Brazil", "27", "Norway", "Free the press.", "Not supported", "", ""],
]  # fmt: skip
MAPPED_POST = {
    "column_0": "state_under_review",
    "column_1": "session",
    "column_2": "recommending_states",
    "column_3": "text",
    "column_4": "response",
    "column_5": "issues",
    "column_6": "",
    "synonyms_response": "Supportive = accepted\n",
    "separator_recommending_states": "/",
    "separator_issues": "|",
}


def _csv(rows, header) -> bytes:
    return csv_bytes(header, rows)


def _upload(data: bytes, name: str) -> ContentFile:
    return ContentFile(data, name=name)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def staff():
    return UserFactory(username="importer", is_staff=True)


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.fixture
def run_factory(staff):
    def make(*, status=ImportRun.Status.DRY_RUN, data=None, name="session.csv", **values) -> ImportRun:
        run = ImportRun(**{"kind": "recommendations", **values}, status=status, user=staff, file_name=name)
        if data is not None:
            run.upload.save("stored.csv", ContentFile(data), save=False)
        run.save()
        return run

    return make


def _start(client, capture, data: bytes, name: str, **fields):
    with capture(execute=True):
        response = client.post(reverse("imports:import_list"),
                               {"kind": "recommendations", "file": _upload(data, name), **fields})  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    return response, ImportRun.objects.latest("id")


# --- permissions ---------------------------------------------------------------------------------------------------


def _page_urls(run) -> list[str]:
    return [
        reverse("imports:import_list"),
        reverse("imports:run_detail", args=[run.pk]),
        reverse("imports:mapping_edit", args=[run.pk]),
        reverse("imports:template_csv", args=["recommendations"]),
        reverse("imports:template_xlsx", args=["assessments"]),
    ]


@pytest.mark.parametrize("user_kind", ["anonymous", "member"])
def test_pages_send_anyone_but_staff_to_the_admin_login(client, run_factory, user_kind):
    run = run_factory(data=_csv(UPR_INFO_ROWS, UPR_INFO_HEADER))
    if user_kind == "member":
        client.force_login(UserFactory(username="cso-member"))
    for url in _page_urls(run):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('admin:login')}?next={url}"


def test_pages_open_for_staff(staff_client, run_factory):
    run = run_factory(data=_csv(UPR_INFO_ROWS, UPR_INFO_HEADER))
    for url in _page_urls(run):
        assert staff_client.get(url).status_code == 200, url


@pytest.mark.parametrize("user_kind", ["anonymous", "member"])
def test_posts_without_permission_change_nothing(client, run_factory, eager, django_capture_on_commit_callbacks,
                                                 user_kind):  # fmt: skip
    data = _csv(UPR_INFO_ROWS, UPR_INFO_HEADER)
    preview = run_factory(data=data, counts={"errors": 0, "warnings": 0})
    failed = run_factory(status=ImportRun.Status.FAILED, data=data)
    if user_kind == "member":
        client.force_login(UserFactory(username="cso-member"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        posts = [
            client.post(reverse("imports:import_list"), {"kind": "recommendations", "file": _upload(data, "a.csv")}),
            client.post(reverse("imports:run_confirm", args=[preview.pk])),
            client.post(reverse("imports:run_rerun", args=[failed.pk])),
            client.post(reverse("imports:mapping_edit", args=[failed.pk]), {**MAPPED_POST, "preset_name": "x"}),
        ]
    assert [response.status_code for response in posts] == [302] * 4
    assert all(response["Location"].startswith(reverse("admin:login")) for response in posts)
    assert callbacks == []
    assert ImportRun.objects.count() == 2
    preview.refresh_from_db()
    assert (preview.status, preview.dry_run) == (ImportRun.Status.DRY_RUN, True)
    assert not ImportMapping.objects.exists() and not Recommendation.objects.exists()


def test_import_link_shows_in_the_navigation_for_staff_only(client, staff):
    assert 'href="/imports/"' not in client.get("/").content.decode()
    client.force_login(UserFactory(username="cso-member"))
    assert 'href="/imports/"' not in client.get("/").content.decode()
    client.force_login(staff)
    assert re.search(r'href="/imports/"\s*>Import</a>', client.get("/").content.decode())


# --- the whole flow ------------------------------------------------------------------------------------------------


def test_upload_preview_confirm_imports_a_upr_info_file(staff_client, eager, django_capture_on_commit_callbacks):
    data = _csv(UPR_INFO_ROWS, UPR_INFO_HEADER)

    response, run = _start(staff_client, django_capture_on_commit_callbacks, data, "UPR Info session 15.csv")

    assert response["Location"] == reverse("imports:run_detail", args=[run.pk])
    assert (run.status, run.dry_run, run.layout) == (ImportRun.Status.DRY_RUN, True, "upr_info")
    assert not Recommendation.objects.exists()
    page = staff_client.get(response["Location"]).content.decode()
    assert "Preview ready" in page and "Nothing has been written yet" in page
    assert _count(page, "create") == "3" and _count(page, "recommendations") == "2"
    assert _count(page, "pledges") == "1" and _count(page, "accepted") == "1" and _count(page, "noted") == "1"
    assert _count(page, "reviews_to_create") == "2" and _count(page, "issues") == "3"
    assert "5 – Specific action" in page  # the action categories, labelled
    assert f'action="/imports/{run.pk}/confirm/"' in page and "Confirm import" in page
    assert "Edit mapping" in page and "Start over" in page

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = staff_client.post(reverse("imports:run_confirm", args=[run.pk]))

    assert confirmed["Location"] == reverse("imports:run_detail", args=[run.pk])
    run.refresh_from_db()
    assert (run.status, run.dry_run) == (ImportRun.Status.SUCCEEDED, False)
    assert Recommendation.objects.count() == 3
    page = staff_client.get(confirmed["Location"]).content.decode()
    assert "Imported" in page and "What was imported" in page and _count(page, "create") == "3"
    assert "Confirm import" not in page and "Edit mapping" not in page
    listing = staff_client.get(reverse("imports:import_list")).content.decode()
    assert "UPR Info session 15.csv" in listing and "Imported" in listing and "by importer" in listing


def test_unknown_columns_fail_then_the_mapping_editor_maps_them(staff_client, eager,
                                                               django_capture_on_commit_callbacks):  # fmt: skip
    data = _csv(MAPPED_ROWS, MAPPED_HEADER)
    _, failed = _start(staff_client, django_capture_on_commit_callbacks, data, "ngo sheet.csv")
    assert failed.status == ImportRun.Status.FAILED
    page = staff_client.get(reverse("imports:run_detail", args=[failed.pk])).content.decode()
    assert "match neither UPR Info" in page and "Confirm import" not in page
    assert reverse("imports:mapping_edit", args=[failed.pk]) in page and "Run again" in page
    assert page.index("Edit mapping") < page.index("Run again")  # the file is at fault: mapping it comes first

    editor = staff_client.get(reverse("imports:mapping_edit", args=[failed.pk])).content.decode()
    for column in MAPPED_HEADER:
        assert f">{column}</label>" in editor
    assert "France / Chile" in editor and "Supportive" in editor  # the sample values
    assert editor.count('<option value="" selected>Ignore this column</option>') == len(MAPPED_HEADER)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("imports:mapping_edit", args=[failed.pk]),
                                     {**MAPPED_POST, "preset_name": "NGO sheet"})  # fmt: skip

    preview = ImportRun.objects.latest("id")
    assert response.status_code == 302 and response["Location"] == reverse("imports:run_detail", args=[preview.pk])
    assert (preview.status, preview.layout, preview.counts["errors"]) == (ImportRun.Status.DRY_RUN, "mapping", 0)
    assert preview.counts["accepted"] == 1 and preview.counts["noted"] == 1 and preview.counts["issues"] == 2
    preset = ImportMapping.objects.get(name="NGO sheet")
    assert preset.kind == "recommendations" and preset.created_by.username == "importer"
    assert preset.mapping["columns"]["Recommended by"] == "recommending_states"
    assert "Notes" not in preset.mapping["columns"]
    assert preset.mapping["synonyms"] == {"response": {"Supportive": "accepted"}}
    assert preset.mapping["separators"] == {"recommending_states": "/", "issues": "|"}

    # The new preview's editor starts from its mapping.
    editor = staff_client.get(reverse("imports:mapping_edit", args=[preview.pk])).content.decode()
    assert '<option value="recommending_states" selected>' in editor
    assert "Supportive = accepted" in editor

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("imports:run_confirm", args=[preview.pk]))
    preview.refresh_from_db()
    assert preview.status == ImportRun.Status.SUCCEEDED
    torture = Recommendation.objects.get(text="End torture in prisons.")
    assert (torture.response, torture.response_original) == ("accepted", "Supportive")
    assert sorted(torture.recommending_states.values_list("iso3", flat=True)) == ["CHL", "FRA"]
    assert torture.issues.count() == 2


def test_a_saved_mapping_is_used_for_the_next_file(staff_client, staff, eager, django_capture_on_commit_callbacks):
    mapping = {"columns": {h: f for h, f in zip(MAPPED_HEADER, [MAPPED_POST[f"column_{i}"] for i in range(7)],
                                                  strict=True) if f},
               "synonyms": {"response": {"Supportive": "accepted"}},
               "separators": {"recommending_states": "/", "issues": "|"}}  # fmt: skip
    preset = ImportMapping.objects.create(name="NGO sheet", kind="recommendations", mapping=mapping, created_by=staff)

    _, run = _start(staff_client, django_capture_on_commit_callbacks, _csv(MAPPED_ROWS, MAPPED_HEADER), "next.csv",
                    preset=str(preset.pk))  # fmt: skip

    assert (run.status, run.layout, run.options["mapping_name"]) == (ImportRun.Status.DRY_RUN, "mapping", "NGO sheet")
    page = staff_client.get(reverse("imports:run_detail", args=[run.pk])).content.decode()
    assert "saved mapping <q>NGO sheet</q>" in page


def test_mapping_editor_names_what_is_wrong_and_starts_nothing(staff_client, run_factory,
                                                               django_capture_on_commit_callbacks):  # fmt: skip
    run = run_factory(status=ImportRun.Status.FAILED, data=_csv(MAPPED_ROWS, MAPPED_HEADER))
    post = {**MAPPED_POST, "column_1": "", "column_6": "text",
            "synonyms_response": "Supportive = approved\nno equals sign"}  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = staff_client.post(reverse("imports:mapping_edit", args=[run.pk]), {**post, "preset_name": "x"})

    assert response.status_code == 200 and callbacks == []
    page = response.content.decode()
    assert "The required field &quot;Session&quot; is not chosen for any column." in page
    assert "Text is chosen for 2 columns (&quot;Recommendation&quot; and &quot;Notes&quot;)" in page
    assert "Line 1: &quot;approved&quot; is not a known response" in page
    assert "Line 2 (&quot;no equals sign&quot;)" in page
    assert ImportRun.objects.count() == 1 and not ImportMapping.objects.exists()


def test_mapping_editor_refuses_a_preset_name_of_the_other_kind(staff_client, staff, run_factory):
    ImportMapping.objects.create(name="MIA", kind="assessments", mapping={"columns": {}}, created_by=staff)
    run = run_factory(status=ImportRun.Status.FAILED, data=_csv(MAPPED_ROWS, MAPPED_HEADER))

    response = staff_client.post(reverse("imports:mapping_edit", args=[run.pk]), {**MAPPED_POST, "preset_name": "MIA"})

    assert "A mapping named &quot;MIA&quot; exists for assessments" in response.content.decode()
    assert ImportRun.objects.count() == 1 and ImportMapping.objects.get().kind == "assessments"


def test_mapping_editor_prefills_columns_named_like_fields_and_a_detected_layout(staff_client, run_factory):
    header = ["State under review", "SESSION", "text", "Misc"]
    renamed = run_factory(status=ImportRun.Status.FAILED, data=_csv([["France", "15", "Do it.", "x"]], header))
    page = staff_client.get(reverse("imports:mapping_edit", args=[renamed.pk])).content.decode()
    assert '<option value="state_under_review" selected>' in page and '<option value="session" selected>' in page
    assert '<option value="text" selected>' in page and page.count('<option value="" selected>') == 1

    upr_info = run_factory(data=_csv(UPR_INFO_ROWS, UPR_INFO_HEADER), layout="upr_info",
                           mapping={"columns": {"state_under_review": "To", "issues": "Issue"},
                                    "synonyms": {}, "separators": {"issues": ","}})  # fmt: skip
    page = staff_client.get(reverse("imports:mapping_edit", args=[upr_info.pk])).content.decode()
    assert '<option value="state_under_review" selected>' in page and '<option value="issues" selected>' in page
    assert re.search(r'name="separator_issues" value=","', page)


def test_mapping_editor_reports_an_unreadable_file(staff_client, run_factory):
    run = run_factory(status=ImportRun.Status.FAILED, data=b"\x00\x01\x02 binary \xff\xfe\x00")
    run.options = {"encoding": "utf-8"}
    run.save()

    response = staff_client.get(reverse("imports:mapping_edit", args=[run.pk]))

    assert response.status_code == 409
    assert "The file cannot be read." in response.content.decode()


def test_start_form_refuses_other_files_and_a_preset_of_the_other_kind(staff_client, staff,
                                                                       django_capture_on_commit_callbacks):  # fmt: skip
    preset = ImportMapping.objects.create(name="MIA", kind="assessments", mapping={"columns": {}}, created_by=staff)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        wrong_type = staff_client.post(
            reverse("imports:import_list"), {"kind": "recommendations", "file": _upload(b"%PDF-1.4", "report.pdf")}
        )
        wrong_preset = staff_client.post(reverse("imports:import_list"), {
            "kind": "recommendations", "file": _upload(b"a,b\n1,2\n", "a.csv"), "preset": str(preset.pk)})  # fmt: skip
        empty = staff_client.post(reverse("imports:import_list"),
                                  {"kind": "recommendations", "file": _upload(b"", "empty.csv")})  # fmt: skip

    assert [r.status_code for r in (wrong_type, wrong_preset, empty)] == [200, 200, 200] and callbacks == []
    assert "&quot;report.pdf&quot; is neither CSV nor XLSX" in wrong_type.content.decode()
    assert "The mapping &quot;MIA&quot; is for assessments, not recommendations." in wrong_preset.content.decode()
    assert "The submitted file is empty." in empty.content.decode()
    assert not ImportRun.objects.exists()


def test_start_form_passes_the_encoding_and_sheet(staff_client, eager, django_capture_on_commit_callbacks):
    data = _csv(UPR_INFO_ROWS, UPR_INFO_HEADER).decode().encode("cp1252")
    _, run = _start(staff_client, django_capture_on_commit_callbacks, data, "s.csv", encoding="cp1252", sheet="")
    assert run.options["encoding"] == "cp1252" and run.encoding == "cp1252" and run.status == ImportRun.Status.DRY_RUN


# --- the run page --------------------------------------------------------------------------------------------------


def test_a_pending_run_shows_its_progress_for_script_and_no_script(staff_client, run_factory):
    run = run_factory(status=ImportRun.Status.PENDING, data=b"x")

    page = staff_client.get(reverse("imports:run_detail", args=[run.pk])).content.decode()

    assert "Preview in progress" in page and "Waiting for a worker" in page
    assert f'data-url="/api/v1/imports/{run.pk}/"' in page and "js/import-progress.js" in page
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in page
    assert 'aria-live="polite"' in page and "refresh it now" in page
    assert "Confirm import" not in page and "Edit mapping" not in page


def test_a_running_run_shows_phase_and_rows_from_its_heartbeat(staff_client, run_factory):
    run = run_factory(status=ImportRun.Status.RUNNING, data=b"x")
    with runs.Progress(run.pk) as progress:
        progress("validating", 12000)
        page = staff_client.get(reverse("imports:run_detail", args=[run.pk])).content.decode()
    assert "Checking the rows" in page and "12,000" in page
    assert runs.progress_get(run.pk) is None


def test_errors_and_warnings_are_listed_apart_paginated_with_their_totals(staff_client, run_factory):
    errors = [{"row": n + 2, "column": "To", "value": f"Atlantis {n}", "message": "Unknown state."} for n in range(120)]
    warnings = [{"row": 5, "column": "From", "value": "(Unknown)", "message": "Unknown recommending state."}]
    run = run_factory(status=ImportRun.Status.FAILED, data=b"x", errors=errors, warnings=warnings,
                      counts={"rows": 9000, "errors": 7000, "warnings": 1})  # fmt: skip
    url = reverse("imports:run_detail", args=[run.pk])

    page = staff_client.get(url).content.decode()

    assert "Errors: 7,000" in page and "(120 listed)" in page and "1–50 shown" in page
    assert "Atlantis 0" in page and "Atlantis 49" in page and "Atlantis 50" not in page
    assert 'href="?errors_page=2#errors"' in page and "Warnings: 1" in page and "(Unknown)" in page
    assert "Confirm import" not in page and "Run again" in page
    last = staff_client.get(url, {"errors_page": 3, "warnings_page": 1}).content.decode()
    assert "Atlantis 119" in last and "Atlantis 99" not in last
    assert 'href="?errors_page=2&amp;warnings_page=1#errors"' in last


def test_confirming_a_run_with_errors_is_refused_and_changes_nothing(staff_client, run_factory):
    run = run_factory(status=ImportRun.Status.FAILED, data=b"x", errors=[{"row": 2, "column": "", "value": "",
                                                                         "message": "Bad."}])  # fmt: skip
    response = staff_client.post(reverse("imports:run_confirm", args=[run.pk]), follow=True)
    assert "Only a successful preview can be confirmed" in response.content.decode()
    run.refresh_from_db()
    assert run.status == ImportRun.Status.FAILED and ImportRun.objects.count() == 1


def test_a_stopped_worker_offers_to_run_again_first(staff_client, run_factory):
    problem = {"row": None, "column": "", "value": "", "message": jobs.WORKER_STOPPED}
    run = run_factory(status=ImportRun.Status.FAILED, data=b"x", error_message=jobs.WORKER_STOPPED, errors=[problem],
                      counts={"errors": 1, "warnings": 0})  # fmt: skip

    page = staff_client.get(reverse("imports:run_detail", args=[run.pk])).content.decode()

    assert "The preview failed; nothing was written.</strong>\n    " + jobs.WORKER_STOPPED in page
    assert page.index("Run again") < page.index("Edit mapping")


def test_run_again_starts_a_new_preview_of_the_same_file(staff_client, run_factory, eager,
                                                        django_capture_on_commit_callbacks):  # fmt: skip
    failed = run_factory(status=ImportRun.Status.FAILED, data=_csv(UPR_INFO_ROWS, UPR_INFO_HEADER))
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("imports:run_rerun", args=[failed.pk]))
    rerun = ImportRun.objects.latest("id")
    assert rerun.pk != failed.pk and response["Location"] == reverse("imports:run_detail", args=[rerun.pk])
    assert (rerun.status, rerun.upload.name) == (ImportRun.Status.DRY_RUN, failed.upload.name)


def test_the_page_escapes_what_the_file_brings(staff_client, run_factory):
    problem = {"row": 2, "column": "<b>To</b>", "value": "<img src=x>", "message": "Bad <i>."}
    run = run_factory(status=ImportRun.Status.FAILED, data=b"x", name="<script>alert(1)</script>.csv", errors=[problem])
    page = staff_client.get(reverse("imports:run_detail", args=[run.pk])).content.decode()
    listing = staff_client.get(reverse("imports:import_list")).content.decode()
    for html in (page, listing):
        assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;.csv" in html
    assert "<img src=x>" not in page and "&lt;img src=x&gt;" in page and "&lt;b&gt;To&lt;/b&gt;" in page


def test_the_list_and_run_pages_use_a_bounded_number_of_queries(staff_client, staff, run_factory,
                                                                django_assert_max_num_queries):  # fmt: skip
    errors = [{"row": n, "column": "To", "value": "x", "message": "Bad."} for n in range(500)]
    for n in range(40):
        run_factory(status=ImportRun.Status.FAILED, data=None, name=f"file {n}.csv", errors=errors,
                    counts={"rows": 10, "errors": 500, "warnings": 0})  # fmt: skip
    ImportMapping.objects.bulk_create(
        [ImportMapping(name=f"preset {n}", kind="recommendations", created_by=staff) for n in range(20)]
    )
    run = ImportRun.objects.latest("id")

    with django_assert_max_num_queries(6):
        listing = staff_client.get(reverse("imports:import_list"))
    with django_assert_max_num_queries(4):
        detail = staff_client.get(reverse("imports:run_detail", args=[run.pk]))

    assert listing.status_code == detail.status_code == 200
    assert "Page 1 of 2" in listing.content.decode() and "preset 19" in listing.content.decode()


def _count(page: str, key: str) -> str:
    match = re.search(rf'data-count="{key}">([^<]*)<', page)
    assert match, f"no count {key}"
    return match.group(1)


# --- templates -----------------------------------------------------------------------------------------------------


def test_csv_template_parses_back_and_imports_with_no_errors(staff_client):
    response = staff_client.get(reverse("imports:template_csv", args=["recommendations"]))

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="uprtrax-recommendations-template.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [[c.name for c in layouts.TEMPLATE_COLUMNS], [c.example for c in layouts.TEMPLATE_COLUMNS]]
    report = recommendation_import(source=response.content, file_name="template.csv", dry_run=True)
    assert report.ok, report.errors
    assert (report.layout, report.counts["create"], report.warning_total) == ("canonical", 1, 0)


def test_xlsx_template_has_the_template_and_its_columns_and_imports_with_no_errors(staff_client):
    response = staff_client.get(reverse("imports:template_xlsx", args=["recommendations"]))

    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    book = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["Template", "Columns"]
    template = [list(row) for row in book["Template"].iter_rows(values_only=True)]
    assert template == [[c.name for c in layouts.TEMPLATE_COLUMNS], [c.example for c in layouts.TEMPLATE_COLUMNS]]
    documented = [list(row) for row in book["Columns"].iter_rows(values_only=True)]
    assert documented[0] == ["column", "required", "description", "example"]
    assert documented[1:] == [[c.name, "yes" if c.required else "no", c.description, c.example]
                              for c in layouts.TEMPLATE_COLUMNS]  # fmt: skip
    report = recommendation_import(source=response.content, file_name="template.xlsx", dry_run=True)
    assert report.ok, report.errors
    assert (report.sheet, report.counts["create"]) == ("Template", 1)


def test_assessment_template_is_downloadable_and_documented(staff_client):
    response = staff_client.get(reverse("imports:template_csv", args=["assessments"]))
    header = next(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header == [c.name for c in assessment_imports.TEMPLATE_COLUMNS]
    page = staff_client.get(reverse("imports:import_list")).content.decode()
    for column in (*layouts.TEMPLATE_COLUMNS, *assessment_imports.TEMPLATE_COLUMNS):
        assert f'<span class="code">{column.name}</span>' in page
    assert staff_client.get("/imports/template/nothing.csv").status_code == 404


@pytest.mark.parametrize("value", ["=1+2", "+41 22 917 9220", "-5", "@SUM(A1)", "\tx", "\r=1"])
def test_cell_neutralise_prefixes_what_a_spreadsheet_would_evaluate(value):
    assert cell_neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["France", "", "136.12", 5, None, "a=b"])
def test_cell_neutralise_keeps_everything_else(value):
    assert cell_neutralise(value) == value


def test_templates_never_hold_a_formula():
    columns = [TemplateColumn('=HYPERLINK("http://evil")', True, "-1+1", "@cmd")]
    assert template_csv(columns).decode("utf-8-sig").splitlines()[:2] == ['"\'=HYPERLINK(""http://evil"")"', "'@cmd"]
    book = openpyxl.load_workbook(io.BytesIO(template_xlsx(columns)))
    cells = [cell for sheet in book for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    assert book["Columns"]["C2"].value == "'-1+1" and book["Template"]["A1"].value == '\'=HYPERLINK("http://evil")'


def test_mapping_editor_for_assessments_asks_for_the_recommendation_and_knows_its_statuses(
    staff_client, run_factory, eager, django_capture_on_commit_callbacks
):
    header = ["NGO", "Rec. no.", "Assessment", "When", "Remarks"]
    data = _csv([["Amnesty", "1", "Not done", "2016-05-31", "Nothing yet."]], header)
    run = run_factory(status=ImportRun.Status.FAILED, data=data, kind="assessments")
    url = reverse("imports:mapping_edit", args=[run.pk])
    post = {"column_0": "organisation", "column_1": "", "column_2": "status", "column_3": "date",
            "column_4": "comment", "synonyms_status": "Not done = done",
            "separator_recommending_states": ";"}  # fmt: skip

    editor = staff_client.get(url).content.decode()
    refused = staff_client.post(url, post).content.decode()

    assert "Synonyms for status" in editor and "Synonyms for response" not in editor
    assert "The required field &quot;State under review&quot; is not chosen for any column." in refused
    assert "The required field &quot;Text&quot; is not chosen for any column." in refused
    assert "&quot;done&quot; is not a known status" in refused
    assert ImportRun.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {**post, "column_1": "recommendation_id",
                                           "synonyms_status": "Not done = not implemented"})  # fmt: skip

    preview = ImportRun.objects.latest("id")
    assert response["Location"] == reverse("imports:run_detail", args=[preview.pk])
    assert preview.kind == "assessments" and preview.layout == "mapping"
    assert preview.options["mapping"]["columns"]["Rec. no."] == "recommendation_id"
    assert preview.options["mapping"]["synonyms"] == {"status": {"Not done": "not implemented"}}
    page = staff_client.get(response["Location"]).content.decode()
    assert "Assessments" in page and preview.status in (ImportRun.Status.DRY_RUN, ImportRun.Status.FAILED)
