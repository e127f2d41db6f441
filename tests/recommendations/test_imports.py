"""The recommendation import pipeline: reading, layouts, validation, preview, commit and the command."""

import io
import json
import zipfile

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from recommendations.imports.reading import text_decode
from recommendations.imports.service import recommendation_import
from recommendations.models import ImportRun, Recommendation
from reviews.models import Review
from tests.factories import csv_bytes

pytestmark = pytest.mark.django_db

CANONICAL = ["state_under_review", "session", "recommending_states", "paragraph_ref", "text", "response",
             "action_category", "issues"]  # fmt: skip
ROWS = [
    ["France", "3", "Brazil;Chile", "", "Ratify the Optional Protocol.", "accepted", "5", "International instruments"],
    ["France", "3", "Norway", "", "Abolish  the death penalty ", "noted", "4", "Death penalty;Women's rights"],
]


def _csv(rows, header=CANONICAL, *, encoding="utf-8", newline="\n") -> bytes:
    return csv_bytes(header, rows, encoding=encoding, newline=newline)


def _import(data: bytes, *, dry_run=False, **kwargs):
    return recommendation_import(
        source=data, file_name=kwargs.pop("file_name", "upload.csv"), dry_run=dry_run, **kwargs
    )


def _xlsx(rows, header=CANONICAL, *, title="Sheet") -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _only_error(report):
    assert not report.ok and report.run_id is not None
    assert Recommendation.objects.count() == 0
    assert ImportRun.objects.get(pk=report.run_id).status == ImportRun.Status.FAILED
    return report.errors[0]


# --- commit, idempotence, preview ----------------------------------------------------------------------------------


def test_import_commits_canonical_csv_with_states_issues_and_review():
    report = _import(_csv(ROWS))

    assert report.ok and report.committed
    assert report.layout == "canonical"
    assert report.counts["create"] == 2 and report.counts["reviews_to_create"] == 1
    ratify = Recommendation.objects.get(text="Ratify the Optional Protocol.")
    assert ratify.review.state.short_name == "France" and ratify.review.session.number == 3
    assert sorted(s.short_name for s in ratify.recommending_states.all()) == ["Brazil", "Chile"]
    assert ratify.response == "accepted" and ratify.action_category == 5 and len(ratify.natural_key) == 64
    abolish = Recommendation.objects.get(response="noted")
    assert abolish.text == "Abolish  the death penalty"
    assert sorted(abolish.issues.values_list("name", flat=True)) == ["Death penalty", "Women's rights"]


def test_reimporting_the_same_file_changes_nothing():
    first = _import(_csv(ROWS))
    stamps = dict(Recommendation.objects.values_list("id", "updated_at"))

    again = _import(_csv(ROWS))

    assert first.counts["create"] == 2
    assert (again.counts["create"], again.counts["update"], again.counts["unchanged"]) == (0, 0, 2)
    assert dict(Recommendation.objects.values_list("id", "updated_at")) == stamps
    assert Review.objects.filter(state__short_name="France", session__number=3).count() == 1


def test_natural_key_ignores_case_and_whitespace_of_the_text():
    _import(_csv(ROWS))
    changed = [[*ROWS[0][:4], "RATIFY   the optional protocol. ", "noted", "5", ""]]

    report = _import(_csv(changed), dry_run=True)

    assert (report.counts["create"], report.counts["update"]) == (0, 1)


def test_dry_run_previews_create_update_unchanged_and_writes_nothing():
    _import(_csv(ROWS[:1]))
    rows = [[*ROWS[0][:5], "noted", "5", "International instruments"], ROWS[1],
            ["Brazil", "4", "France", "", "Protect defenders.", "", "", ""]]  # fmt: skip

    report = _import(_csv(rows), dry_run=True)

    counts = report.counts
    assert (counts["create"], counts["update"], counts["unchanged"]) == (2, 1, 0)
    assert (counts["states_under_review"], counts["sessions"], counts["reviews_to_create"]) == (2, 2, 1)
    assert (counts["accepted"], counts["noted"], counts["pending"]) == (0, 2, 1)
    assert Recommendation.objects.get().response == "accepted"
    assert ImportRun.objects.get(pk=report.run_id).status == ImportRun.Status.DRY_RUN


def test_update_replaces_response_and_issues():
    _import(_csv(ROWS))
    rows = [[*ROWS[0][:5], "noted", "3", "Torture and other CID treatment"]]

    report = _import(_csv(rows))

    assert report.counts["update"] == 1
    ratify = Recommendation.objects.get(text="Ratify the Optional Protocol.")
    assert (ratify.response, ratify.action_category) == ("noted", 3)
    assert list(ratify.issues.values_list("name", flat=True)) == ["Torture and other CID treatment"]


def test_import_is_recorded_with_file_hash_counts_and_warnings(django_user_model):
    user = django_user_model.objects.create_user(username="importer", password="x")
    data = _csv([*ROWS, ROWS[0]])

    report = recommendation_import(source=io.BytesIO(data), file_name="s3.csv", dry_run=False, user=user)

    run = ImportRun.objects.get(pk=report.run_id)
    assert (run.user, run.file_name, run.size, run.status) == (user, "s3.csv", len(data), ImportRun.Status.SUCCEEDED)
    assert len(run.sha256) == 64 and run.counts["create"] == 2 and run.duration is not None
    assert run.warnings[0]["row"] == 4 and "Exact duplicate of row 2" in run.warnings[0]["message"]


# --- duplicates ------------------------------------------------------------------------------------------------------


def test_exact_duplicate_row_is_imported_once_with_a_warning():
    report = _import(_csv([*ROWS, ROWS[1]]))

    assert report.ok and Recommendation.objects.count() == 2
    assert [(w.row, w.message) for w in report.warnings] == [(4, "Exact duplicate of row 3: imported once.")]


def test_same_recommendation_with_different_responses_is_an_error():
    report = _import(_csv([*ROWS, [*ROWS[1][:5], "accepted", "4", ""]]))

    error = _only_error(report)
    assert (error.row, error.column, error.value) == (4, "response", "accepted")
    assert "row 3" in error.message and "different response" in error.message


# --- bad values: row, column, value, nothing written -------------------------------------------------------------


def test_import_reports_unknown_state_with_row_and_suggestion():
    rows = [ROWS[0], ["Frence", "3", "Brazil", "", "Some text.", "accepted", "", ""]]

    error = _only_error(_import(_csv(rows)))

    assert (error.row, error.column, error.value) == (3, "state_under_review", "Frence")
    assert "Did you mean" in error.message and "France" in error.message


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("session", "999", "Unknown session"),
        ("recommending_states", "Atlantis", "Unknown state"),
        ("response", "maybe", "Unknown response"),
        ("action_category", "7", "Unknown action category"),
        ("action_category", "two", "Unknown action category"),
        ("issues", "Space travel", "Unknown issue"),
        ("text", "", "The text is empty"),
        ("text", "x" * 10_001, "over the limit of 10,000"),
    ],
)
def test_bad_value_is_an_error_naming_row_column_and_value(column, value, message):
    row = dict(zip(CANONICAL, ROWS[1], strict=True)) | {column: value}

    error = _only_error(_import(_csv([ROWS[0], list(row.values())])))

    assert (error.row, error.column, error.value) == (3, column, value)
    assert message in error.message
    assert message in str(error) and "row 3" in str(error)


def test_empty_file_is_an_error():
    assert "empty" in _only_error(_import(b"")).message
    assert "empty" in _only_error(_import(b" \r\n")).message


def test_header_without_rows_is_an_error():
    assert "no data rows" in _only_error(_import(_csv([]))).message


def test_binary_file_is_an_error():
    assert "binary" in _only_error(_import(b"\x00\x01\x02garbage\x00\xff" * 10, file_name="x.csv")).message


def test_truncated_file_with_open_quote_is_an_error():
    data = _csv(ROWS) + b'France,3,Brazil,,"Unfinished text'

    error = _only_error(_import(data))

    assert error.row == 4 and "truncated" in error.message


def test_undecodable_bytes_in_the_chosen_encoding_are_an_error():
    data = _csv([["Brazil", "3", "France", "", "Réformer la police.", "accepted", "", ""]], encoding="cp1252")

    error = _only_error(_import(data, encoding="utf-8"))

    assert "not valid utf-8" in error.message and "0xE9" in error.message


def test_missing_required_column_is_an_error_naming_it():
    header = [c for c in CANONICAL if c != "session"]
    rows = [[v for c, v in zip(CANONICAL, row, strict=True) if c != "session"] for row in ROWS]

    error = _only_error(_import(_csv(rows, header)))

    assert (error.row, error.column) == (1, "session") and "missing" in error.message


def test_file_over_the_size_limit_is_an_error(settings):
    settings.IMPORT_MAX_BYTES = 100
    data = _csv(ROWS)
    assert len(data) > 100

    error = _only_error(recommendation_import(source=io.BytesIO(data), file_name="big.csv", dry_run=False))

    assert "size limit of 100 bytes" in error.message


def test_corrupt_xlsx_is_an_error():
    data = _xlsx(ROWS)

    error = _only_error(_import(data[: len(data) // 2], file_name="cut.xlsx"))

    assert "corrupt" in error.message


def test_zip_bomb_is_refused_before_openpyxl_reads_it():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (30 * 1024 * 1024))

    error = _only_error(_import(out.getvalue(), file_name="bomb.xlsx"))

    assert "zip bomb" in error.message


# --- encodings, line endings, XLSX ------------------------------------------------------------------------------------

CIV = [["Côte d'Ivoire", "3", "Guinea", "", "Garantir l’accès à l’éducation.", "Accepted", "3", ""]]


@pytest.mark.parametrize(
    ("encoding", "newline", "detected"),
    [
        ("utf-8", "\n", "utf-8"),
        ("utf-8-sig", "\r\n", "utf-8-sig"),
        ("utf-16", "\r\n", "utf-16"),
        ("utf-16-le", "\n", "utf-16-le"),
        ("cp1252", "\r\n", "cp1252"),
        ("mac_roman", "\r", "mac_roman"),
    ],
)
def test_csv_in_common_encodings_and_line_endings_is_detected(encoding, newline, detected):
    report = _import(_csv(CIV, encoding=encoding, newline=newline))

    assert report.ok, report.errors
    assert report.encoding == detected
    assert Recommendation.objects.get().text == "Garantir l’accès à l’éducation."


def test_encoding_override_wins_over_detection():
    data = _csv(CIV, encoding="mac_roman")

    report = _import(data, encoding="latin-1", dry_run=True)
    right = _import(data, encoding="mac_roman", dry_run=True)

    assert report.encoding == "latin-1" and not report.ok  # "Côte" read as Latin-1 is no known state
    assert report.errors[0].column == "state_under_review"
    assert right.ok and right.encoding == "mac_roman"


def test_mac_roman_and_windows_1252_heuristic():
    assert text_decode("Guaraní and Perú".encode("mac_roman"))[1] == "mac_roman"
    assert text_decode("The State’s café".encode("cp1252"))[1] == "cp1252"


def test_xlsx_first_sheet_and_named_sheet_are_read():
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("Data")
    sheet.append(CANONICAL)
    sheet.append(ROWS[0])
    sheet.append(["France", 3, "Norway", "", "Numbers as numbers.", "noted", 4, ""])
    out = io.BytesIO()
    book.save(out)

    first = _import(out.getvalue(), file_name="book.xlsx", dry_run=True)
    named = _import(out.getvalue(), file_name="book.xlsx", sheet="Data")
    missing = _import(out.getvalue(), file_name="book.xlsx", sheet="Nope", dry_run=True)

    assert not first.ok and "neither" in first.errors[0].message
    assert named.ok and named.sheet == "Data" and named.counts["create"] == 2
    assert Recommendation.objects.get(text="Numbers as numbers.").action_category == 4
    assert 'No sheet "Nope"' in missing.errors[0].message


@pytest.mark.parametrize("make", [_csv, _xlsx])
def test_formula_looking_cells_are_kept_verbatim(make):
    texts = ['=HYPERLINK("http://x")', "+33 ratify", "-1 abolish", "@SUM(A1)"]
    rows = [["France", "3", "Brazil", "", text, "accepted", "", ""] for text in texts]

    report = _import(make(rows), file_name="f.xlsx" if make is _xlsx else "f.csv")

    assert report.ok, report.errors
    assert sorted(Recommendation.objects.values_list("text", flat=True)) == sorted(texts)


# --- layouts: UPR Info, mapping -----------------------------------------------------------------------------------

UPR_INFO = [
    "To",
    "To-Rgrp",
    "To-Org",
    "Text",
    "From",
    "From-Rgrp",
    "From-Org",
    "Response",
    "Action",
    "Issue",
    "Session",
]


def test_upr_info_export_is_recognised_with_pledges_and_unknown_author():
    rows = [
        ["DPR Korea", "Asia", "", "Ratify CAT. ", "Bosnia & Herzegovina", "EEG", "", "Noted", "5",
         "International instruments,Torture and other CID treatment", "6"],
        ["Laos", "Asia", "", "Protect children.", "&#40;Unknown&#41;", "&#40;Unknown&#41;", "", "Accepted", "4",
         "Rights of the Child", "6"],
        ["Laos", "Asia", "", "We pledge to report.", "Laos", "Asia", "", "Voluntary Pledge", "2", "", "6"],
    ]  # fmt: skip

    report = _import(_csv(rows, UPR_INFO, encoding="mac_roman", newline="\r"))

    assert report.ok, report.errors
    assert report.layout == "upr_info" and (report.counts["recommendations"], report.counts["pledges"]) == (2, 1)
    ratify = Recommendation.objects.get(text="Ratify CAT.")
    assert ratify.review.state.iso3 == "PRK" and ratify.recommending_states.get().iso3 == "BIH"
    assert ratify.issues.count() == 2
    unknown = Recommendation.objects.get(text="Protect children.")
    assert unknown.recommending_states.count() == 0
    assert [(w.row, w.column, w.value) for w in report.warnings] == [(3, "From", "(Unknown)")]
    pledge = Recommendation.objects.get(kind=Recommendation.Kind.VOLUNTARY_PLEDGE)
    assert pledge.response == "" and pledge.recommending_states.get().iso3 == "LAO"


def test_mapping_with_synonyms_and_separators():
    header = ["Country", "Cycle session", "Recommended by", "Recommendation", "Position", "Themes", "Para"]
    rows = [
        ["Brazil", "27", "France / Chile", "End torture.", "Supported", "Torture and other CID treatment|Death penalty",
         "136.1"],
        ["Brazil", "27", "Norway", "Free the press.", "Not supported", "", "136.2"],
    ]  # fmt: skip
    mapping = {
        "columns": {"Country": "state_under_review", "Cycle session": "session", "Recommended by":
                    "recommending_states", "Recommendation": "text", "Position": "response", "Themes": "issues",
                    "Para": "paragraph_ref"},
        "synonyms": {"response": {"supported": "accepted", "Not Supported": "noted"}},
        "separators": {"recommending_states": "/", "issues": "|"},
    }  # fmt: skip

    report = _import(_csv(rows, header), mapping=mapping)

    assert report.ok, report.errors
    assert report.layout == "mapping"
    torture = Recommendation.objects.get(paragraph_ref="136.1")
    assert (torture.response, torture.response_original) == ("accepted", "Supported")
    assert sorted(torture.recommending_states.values_list("iso3", flat=True)) == ["CHL", "FRA"]
    assert torture.issues.count() == 2
    assert Recommendation.objects.get(paragraph_ref="136.2").response == "noted"


def test_mapping_naming_an_unknown_field_or_absent_column_is_an_error():
    bad_field = _import(_csv(ROWS), mapping={"columns": {"text": "wording"}})
    absent = _import(_csv(ROWS), mapping={"columns": {"Nope": "text", "session": "session",
                                                      "state_under_review": "state_under_review"}})  # fmt: skip

    assert 'Unknown field "wording"' in bad_field.errors[0].message
    assert absent.errors[0].column == "Nope" and Recommendation.objects.count() == 0


def test_paragraph_reference_is_the_natural_key_where_present():
    rows = [["France", "3", "Brazil", "90.1", "First wording.", "accepted", "", ""]]
    _import(_csv(rows))

    report = _import(_csv([[*rows[0][:4], "Reworded entirely.", "accepted", "", ""]]))

    assert (report.counts["create"], report.counts["update"]) == (0, 1)
    assert Recommendation.objects.get().text == "Reworded entirely."


# --- the command ---------------------------------------------------------------------------------------------------


def test_command_imports_files_and_prints_json(tmp_path, capsys):
    path = tmp_path / "s3.csv"
    path.write_bytes(_csv(ROWS))

    call_command("import_recommendations", str(path), "--json")

    printed = json.loads(capsys.readouterr().out)
    assert printed[0]["counts"]["create"] == 2 and printed[0]["committed"] is True
    assert Recommendation.objects.count() == 2


def test_command_dry_run_with_mapping_file_writes_nothing(tmp_path, capsys):
    path = tmp_path / "s3.csv"
    path.write_bytes(_csv([["France", "3", "Good."]], ["Pays", "Session", "Texte"]))
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"columns": {"Pays": "state_under_review", "Session": "session", "Texte": "text"}}))

    call_command("import_recommendations", str(path), "--mapping", str(mapping), "--dry-run")

    assert "create 1" in capsys.readouterr().out
    assert Recommendation.objects.count() == 0


def test_command_exits_non_zero_when_a_file_has_errors(tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(_csv(ROWS))
    bad.write_bytes(_csv([["Atlantis", "3", "", "", "Text.", "accepted", "", ""]]))

    with pytest.raises(CommandError) as raised:
        call_command("import_recommendations", str(good), str(bad))

    assert raised.value.returncode == 1 and "bad.csv" in str(raised.value)
    assert 'row 2, column state_under_review, value "Atlantis"' in capsys.readouterr().out
    assert Recommendation.objects.count() == 2  # the good file is committed, the bad one not at all


# --- the generator writes the same natural key ---------------------------------------------------------------------


def test_generated_recommendations_carry_the_import_natural_key_and_reimport_unchanged():
    from recommendations.dataset import dataset_generate
    from recommendations.imports.keys import recommendation_natural_key

    dataset_generate(recommendations=400, assessments=0, seed=2)
    generated = Recommendation.objects.select_related("review__state", "review__session").prefetch_related(
        "recommending_states", "issues"
    )
    assert generated.exists() and not generated.filter(natural_key="").exists()
    for rec in generated:
        expected = recommendation_natural_key(
            kind=rec.kind,
            paragraph_ref=rec.paragraph_ref,
            text=rec.text,
            recommending_state_ids=[s.pk for s in rec.recommending_states.all()],
        )
        assert rec.natural_key == expected
    rows = [
        [rec.review.state.iso3, str(rec.review.session.number), ";".join(s.iso3 for s in rec.recommending_states.all()),
         rec.paragraph_ref, rec.text, rec.response_original if rec.kind == "recommendation" else "voluntary pledge",
         str(rec.action_category or ""), ";".join(i.name for i in rec.issues.all())]
        for rec in generated.filter(kind="recommendation", response_original__in=["Accepted", "Noted"])[:50]
    ]  # fmt: skip

    report = _import(_csv(rows), dry_run=True)

    assert report.ok, report.errors[:3]
    assert (report.counts["create"], report.counts["unchanged"]) == (0, len(rows))
