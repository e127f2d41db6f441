"""The assessment import: matching recommendations and organisations, checks, preview, commit and the command."""

import csv
import datetime
import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from followup.imports import FIELDS, REQUIRED, TEMPLATE_COLUMNS, assessment_import
from followup.models import Assessment, Organisation
from recommendations.imports.runs import Progress
from recommendations.models import ImportRun, Recommendation
from reviews.models import Review, Session, State
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = ["recommendation_id", "state_under_review", "session", "recommending_states", "text", "organisation",
          "organisation_kind", "status", "phase", "date", "comment", "evidence_url", "visibility"]  # fmt: skip
TORTURE = "Ratify the Optional Protocol to the Convention against Torture."
PRISONS = "Improve conditions in prisons."


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


@pytest.fixture
def review():
    """France's session 15 review: two recommendations, and the same text made twice by different states."""
    review = Review.objects.create(state=_state("FRA"), session=Session.objects.get(number=15))
    RecommendationFactory(review=review, text=TORTURE, recommending_states=[_state("BRA"), _state("CHL")])
    RecommendationFactory(review=review, text=PRISONS, recommending_states=[_state("NOR")])
    RecommendationFactory(review=review, text="Abolish the death penalty.", recommending_states=[_state("ITA")])
    RecommendationFactory(review=review, text="Abolish the death penalty.", recommending_states=[_state("ESP")])
    return review


def _row(**values) -> list[str]:
    defaults = {"state_under_review": "France", "session": "15", "text": TORTURE, "organisation": "Amnesty France",
                "organisation_kind": "CSO", "status": "partially implemented", "date": "2016-05-31"}  # fmt: skip
    values = defaults | values
    return [str(values.get(name, "")) for name in HEADER]


def _csv(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def _xlsx(rows, header=HEADER) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _import(data: bytes, *, dry_run=False, **kwargs):
    return assessment_import(source=data, file_name=kwargs.pop("file_name", "assessments.csv"), dry_run=dry_run,
                             **kwargs)  # fmt: skip


def _failed(report):
    """The report's first error, after checking that nothing but a failed run of kind assessments was written."""
    assert not report.ok and report.run_id is not None
    assert not Assessment.objects.exists()
    assert not Organisation.objects.filter(name="Amnesty France").exists()
    run = ImportRun.objects.get(pk=report.run_id)
    assert (run.kind, run.status) == (ImportRun.Kind.ASSESSMENTS, ImportRun.Status.FAILED)
    assert run.errors and run.error_message
    return report.errors[0]


# --- commit, preview, idempotence, update -------------------------------------------------------------------------


def test_import_commits_by_text_and_by_id_creating_an_unknown_organisation(review):
    prisons = Recommendation.objects.get(text=PRISONS)
    nhri = OrganisationFactory(name="CNCDH", kind=Organisation.Kind.NHRI)
    rows = [
        _row(text="  ratify the optional protocol to the   CONVENTION against torture. ", comment="A bill exists.",
             evidence_url="https://example.org/report.pdf"),
        _row(recommendation_id=prisons.pk, state_under_review="", session="", text="", organisation="cncdh",
             organisation_kind="", status="not implemented", phase="next review", date="01/02/2017",
             visibility="organisation"),
    ]  # fmt: skip

    report = _import(_csv(rows))

    assert report.ok and report.committed, report.errors
    assert report.layout == "canonical"
    created = Organisation.objects.get(name="Amnesty France")
    assert (created.kind, created.slug, created.country) == (Organisation.Kind.CSO, "amnesty-france", None)
    torture = Assessment.objects.get(recommendation__text=TORTURE)
    assert (torture.organisation, torture.status, torture.phase) == (created, "partially_implemented", "mid_term")
    assert torture.assessed_on == datetime.date(2016, 5, 31) and torture.visibility == "public"
    assert (torture.comment, torture.evidence_urls) == ("A bill exists.", ["https://example.org/report.pdf"])
    assert torture.version == 1 and torture.author is None
    by_id = Assessment.objects.get(recommendation=prisons)
    assert (by_id.organisation, by_id.status, by_id.phase) == (nhri, "not_implemented", "next_review")
    assert (by_id.assessed_on, by_id.visibility) == (datetime.date(2017, 2, 1), "organisation")
    assert report.counts["organisations_to_create"] == 1
    created_warning = "New organisation: created with the import, as Civil society organisation."
    assert [(w.row, w.message) for w in report.warnings] == [(2, created_warning)]


def test_dry_run_previews_counts_and_writes_nothing_but_its_run(review):
    OrganisationFactory(name="CNCDH", kind=Organisation.Kind.NHRI)
    brazil = Review.objects.create(state=_state("BRA"), session=Session.objects.get(number=13))
    RecommendationFactory(review=brazil, text="Protect defenders.", recommending_states=[_state("FRA")])
    rows = [
        _row(),
        _row(text=PRISONS, status="fully implemented"),
        _row(text=PRISONS, organisation="CNCDH", organisation_kind="NHRI", status="no information"),
        _row(state_under_review="BRA", session="13", text="Protect defenders.", organisation="UNICEF",
             organisation_kind="UN agency", status="partial"),
    ]  # fmt: skip

    report = _import(_csv(rows), dry_run=True)

    assert report.ok, report.errors
    counts = report.counts
    assert (counts["rows"], counts["create"], counts["update"], counts["unchanged"]) == (4, 4, 0, 0)
    assert (counts["organisations_to_create"], counts["recommendations"], counts["states_under_review"]) == (2, 3, 2)
    assert (counts["partially_implemented"], counts["fully_implemented"], counts["no_information"]) == (2, 1, 1)
    assert counts["not_implemented"] == 0
    assert not Assessment.objects.exists()
    assert list(Organisation.objects.values_list("name", flat=True)) == ["CNCDH"]
    run = ImportRun.objects.get(pk=report.run_id)
    assert (run.kind, run.status, run.dry_run) == ("assessments", ImportRun.Status.DRY_RUN, True)
    assert run.counts["create"] == 4 and run.counts["errors"] == 0 and run.counts["warnings"] == 2


def test_reimporting_the_same_file_changes_nothing(review):
    rows = [_row(), _row(text=PRISONS, status="not implemented", comment="Nothing yet.")]
    first = _import(_csv(rows))
    stamps = dict(Assessment.objects.values_list("id", "updated_at"))

    again = _import(_csv(rows))

    assert first.counts["create"] == 2
    assert (again.counts["create"], again.counts["update"], again.counts["unchanged"]) == (0, 0, 2)
    assert again.counts["organisations_to_create"] == 0 and not again.warnings
    assert dict(Assessment.objects.values_list("id", "updated_at")) == stamps
    assert set(Assessment.objects.values_list("version", flat=True)) == {1}
    assert Organisation.objects.filter(name="Amnesty France").count() == 1


def test_changed_values_update_the_stored_assessment_and_its_version(review):
    organisation = OrganisationFactory(name="Amnesty France", kind=Organisation.Kind.CSO)
    torture = Recommendation.objects.get(text=TORTURE)
    stored = AssessmentFactory(recommendation=torture, organisation=organisation, status="not_implemented",
                               assessed_on=datetime.date(2015, 1, 1), comment="Old.")  # fmt: skip
    untouched = AssessmentFactory(recommendation=torture, organisation=organisation, phase="next_review",
                                  status="not_implemented", assessed_on=datetime.date(2015, 1, 1))  # fmt: skip
    before = untouched.updated_at
    rows = [_row(organisation="AMNESTY FRANCE", status="fully implemented", comment="Ratified in 2016.")]

    preview = _import(_csv(rows), dry_run=True)
    report = _import(_csv(rows))

    assert (preview.counts["create"], preview.counts["update"], preview.counts["unchanged"]) == (0, 1, 0)
    assert report.ok and report.counts["update"] == 1
    stored.refresh_from_db()
    assert (stored.status, stored.comment, stored.version) == ("fully_implemented", "Ratified in 2016.", 2)
    assert stored.assessed_on == datetime.date(2016, 5, 31) and stored.updated_at > before
    untouched.refresh_from_db()
    assert (untouched.status, untouched.version, untouched.updated_at) == ("not_implemented", 1, before)
    assert Assessment.objects.count() == 2 and Organisation.objects.count() == 1


def test_import_is_recorded_with_user_hash_and_written_into_a_given_run(review):
    user = UserFactory()
    run = ImportRun.objects.create(kind=ImportRun.Kind.ASSESSMENTS, status=ImportRun.Status.RUNNING, file_name="x")

    report = _import(_csv([_row()]), user=user, run=run)

    run.refresh_from_db()
    assert report.run_id == run.pk and ImportRun.objects.count() == 1
    assert (run.status, run.kind, run.file_name, run.layout) == ("succeeded", "assessments", "assessments.csv",
                                                                 "canonical")  # fmt: skip
    assert len(run.sha256) == 64 and run.counts["create"] == 1 and run.duration is not None
    assert Assessment.objects.get().author == user


def test_a_state_organisation_is_created_for_the_state_under_review(review):
    rows = [_row(organisation="Government of France", organisation_kind="government"),
            _row(text=PRISONS, organisation="Norway", organisation_kind="state")]  # fmt: skip

    report = _import(_csv(rows))

    assert report.ok, report.errors
    assert Organisation.objects.get(name="Government of France").country.iso3 == "FRA"
    assert Organisation.objects.get(name="Norway").country.iso3 == "NOR"  # its name is a state's


def test_new_organisation_slugs_are_unique(review):
    OrganisationFactory(name="Amnesty-France", slug="amnesty-france")

    report = _import(_csv([_row()]))

    assert report.ok, report.errors
    assert Organisation.objects.get(name="Amnesty France").slug == "amnesty-france-2"


# --- finding the recommendation -----------------------------------------------------------------------------------


def test_recommending_states_pick_one_of_two_recommendations_with_the_same_text(review):
    rows = [_row(text="abolish the death penalty.", recommending_states="Spain"),
            _row(text="Abolish the death penalty.", recommending_states="Italy", organisation="CNCDH",
                 organisation_kind="NHRI")]  # fmt: skip

    report = _import(_csv(rows))

    assert report.ok, report.errors
    spain = Assessment.objects.get(organisation__name="Amnesty France").recommendation
    assert list(spain.recommending_states.values_list("iso3", flat=True)) == ["ESP"]
    italy = Assessment.objects.get(organisation__name="CNCDH").recommendation
    assert list(italy.recommending_states.values_list("iso3", flat=True)) == ["ITA"]


def test_one_of_several_recommending_states_is_enough_to_match(review):
    report = _import(_csv([_row(recommending_states="Chile")]))

    assert report.ok, report.errors
    assert Assessment.objects.get().recommendation.text == TORTURE


def test_ambiguous_text_asks_for_recommending_states_or_id(review):
    error = _failed(_import(_csv([_row(text="Abolish the death penalty.")])))

    assert (error.row, error.column, error.value) == (2, "state_under_review, session, text",
                                                      "Abolish the death penalty.")  # fmt: skip
    assert "2 recommendations of France's session 15 review have this text" in error.message
    assert "Italy / Spain" in error.message or "Spain / Italy" in error.message
    assert "recommending_states" in error.message and "recommendation_id" in error.message


@pytest.mark.parametrize(
    ("values", "column", "value", "message"),
    [
        ({"text": "Ratify everything."}, "state_under_review, session, text", "Ratify everything.",
         "No recommendation of France's session 15 review has this text."),
        ({"recommending_states": "Ghana"}, "state_under_review, session, text", TORTURE,
         "has this text made by Ghana"),
        ({"session": "16"}, "state_under_review, session, text", "France, session 16",
         "No review of France in session 16 is recorded"),
        ({"recommendation_id": "999999", "text": ""}, "recommendation_id", "999999",
         "No recommendation has this id."),
        ({"recommendation_id": "abc"}, "recommendation_id", "abc", "whole number"),
        ({"state_under_review": "Atlantis"}, "state_under_review", "Atlantis", 'Unknown state "Atlantis"'),
        ({"session": "99"}, "session", "99", "Unknown session (known sessions are 1–54)"),
        ({"recommending_states": "Chile;Narnia"}, "recommending_states", "Narnia", 'Unknown state "Narnia"'),
        ({"text": ""}, "text", "", "The text is empty, and so is the recommendation id"),
        ({"organisation": ""}, "organisation", "", "The organisation is empty."),
        ({"organisation_kind": "church"}, "organisation_kind", "church", "Unknown organisation kind; use CSO"),
        ({"organisation_kind": ""}, "organisation", "Amnesty France", "Unknown organisation: to create it"),
        ({"status": "mostly done"}, "status", "mostly done", "Unknown status; use not implemented"),
        ({"phase": "final"}, "phase", "final", "Unknown phase; use mid-term"),
        ({"visibility": "secret"}, "visibility", "secret", "Unknown visibility"),
        ({"date": "May 2016"}, "date", "May 2016", "Not a date; use yyyy-mm-dd"),
        ({"date": "31/02/2016"}, "date", "31/02/2016", "Not a date"),
        ({"date": ""}, "date", "", "The date is empty."),
        ({"evidence_url": "www.example.org"}, "evidence_url", "www.example.org", "is not a web address"),
        ({"evidence_url": "ftp://example.org/x"}, "evidence_url", "ftp://example.org/x", "is not a web address"),
        ({"evidence_url": '=HYPERLINK("https://x.org")'}, "evidence_url", '=HYPERLINK("https://x.org")',
         "is not a web address"),
    ],
)  # fmt: skip
def test_bad_value_is_an_error_naming_row_column_and_value(review, values, column, value, message):
    error = _failed(_import(_csv([_row(text=PRISONS, organisation="CNCDH", organisation_kind="NHRI"), _row(**values)])))

    assert (error.row, error.column, error.value) == (3, column, value)
    assert message in error.message


@pytest.mark.parametrize(
    ("values", "column", "value", "message"),
    [
        ({"date": "2012-03-01"}, "date", "2012-03-01", "is before the review (2013-01-01)"),
        ({"date": "2019-06-01", "phase": "mid-term"}, "phase", "mid-term", "choose the phase “Next review”"),
    ],
)
def test_a_date_that_does_not_fit_the_review_or_the_phase_is_an_error(review, values, column, value, message):
    """The rule of the pages and the API (followup.rules): session 15 has no recorded dates, so its year counts;
    France's next review is not recorded, so the mid-term ends five years later."""
    error = _failed(_import(_csv([_row(**values)])))

    assert (error.row, error.column, error.value) == (2, column, value)
    assert message in error.message


def test_future_date_is_an_error(review):
    tomorrow = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()

    error = _failed(_import(_csv([_row(date=tomorrow)])))

    assert (error.row, error.column, error.value) == (2, "date", tomorrow)
    assert "in the future" in error.message


def test_over_long_comment_is_an_error(review):
    error = _failed(_import(_csv([_row(comment="x" * 10_001)])))

    assert (error.row, error.column) == (2, "comment") and error.value == "x" * 100
    assert "10,001 characters, over the limit of 10,000" in error.message


def test_an_id_from_another_review_than_the_row_says_is_an_error(review):
    prisons = Recommendation.objects.get(text=PRISONS)

    error = _failed(_import(_csv([_row(recommendation_id=prisons.pk, session="16")])))

    assert (error.row, error.value) == (2, str(prisons.pk))
    assert "belongs to France's session 15 review" in error.message


def test_an_id_with_another_text_than_the_row_is_an_error(review):
    prisons = Recommendation.objects.get(text=PRISONS)

    error = _failed(_import(_csv([_row(recommendation_id=prisons.pk)])))

    assert "has another text than this row's" in error.message


def test_organisation_kind_contradicting_the_stored_one_is_an_error(review):
    OrganisationFactory(name="Amnesty France", kind=Organisation.Kind.NHRI)

    report = _import(_csv([_row()]))

    assert not report.ok and not Assessment.objects.exists()
    error = report.errors[0]
    assert (error.row, error.column, error.value) == (2, "organisation_kind", "CSO")
    assert "is of another kind: it is recorded as National human rights institution" in error.message


def test_two_kinds_for_one_new_organisation_is_an_error_naming_the_first_row(review):
    error = _failed(_import(_csv([_row(), _row(text=PRISONS, organisation_kind="NHRI")])))

    assert (error.row, error.column, error.value) == (3, "organisation_kind", "NHRI")
    assert "row 2 says Civil society organisation" in error.message


# --- duplicates -----------------------------------------------------------------------------------------------------


def test_exact_duplicate_is_imported_once_with_a_warning(review):
    report = _import(_csv([_row(), _row(text=f"  {TORTURE.upper()}")]))

    assert report.ok and report.counts["create"] == 1 and Assessment.objects.count() == 1
    assert [(w.row, w.message) for w in report.warnings if "duplicate" in w.message] == [
        (3, "Exact duplicate of row 2: imported once.")
    ]


def test_same_key_with_different_values_is_an_error_naming_both_rows(review):
    error = _failed(_import(_csv([_row(), _row(status="fully implemented"), _row(phase="next review")])))

    assert (error.row, error.column, error.value) == (3, "status", "fully implemented")
    assert "as row 2, with another status" in error.message


# --- file-level problems --------------------------------------------------------------------------------------------


def test_empty_file_is_an_error():
    error = _failed(_import(b""))

    assert error.message == "The file is empty."


def test_header_without_rows_is_an_error():
    error = _failed(_import(_csv([])))

    assert "no data rows" in error.message


def test_missing_required_column_is_an_error_naming_it(review):
    header = [name for name in HEADER if name != "date"]

    error = _failed(_import(_csv([_row()[: len(header)]], header=header)))

    assert (error.row, error.column) == (1, "date")
    assert 'Required column "date" is missing' in error.message


def test_missing_identity_columns_without_an_id_column_is_an_error():
    header = ["text", "organisation", "status", "date"]

    error = _failed(_import(_csv([[TORTURE, "Amnesty France", "partial", "2016-01-01"]], header=header)))

    assert 'Required columns "state_under_review", "session" are missing' in error.message


def test_columns_of_another_kind_of_file_are_an_error():
    error = _failed(_import(_csv([["France", "3", "Text"]], header=["state_under_review", "session", "text"])))

    assert "do not match our assessment template" in error.message and "no mapping" in error.message


# --- values ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "stored"),
    [("Not implemented", "not_implemented"), ("not_implemented", "not_implemented"),
     ("PARTIALLY IMPLEMENTED", "partially_implemented"), ("partial", "partially_implemented"),
     ("Fully implemented", "fully_implemented"), ("implemented", "fully_implemented"),
     ("No information", "no_information"), ("no data", "no_information"), ("Unknown", "no_information")],
)  # fmt: skip
def test_status_words(review, status, stored):
    report = _import(_csv([_row(status=status)]))

    assert report.ok, report.errors
    assert Assessment.objects.get().status == stored


@pytest.mark.parametrize("date", ["2016-05-31", "31/05/2016", "31.05.2016", "2016-05-31 00:00:00", "2016-5-31"])
def test_date_formats(review, date):
    report = _import(_csv([_row(date=date)]))

    assert report.ok, report.errors
    assert Assessment.objects.get().assessed_on == datetime.date(2016, 5, 31)


@pytest.mark.parametrize("make", [_csv, _xlsx])
def test_formula_looking_cells_are_kept_verbatim_as_text(review, make):
    comments = ['=HYPERLINK("https://evil.example/","click")', "+33 ratified", "@SUM(A1)"]
    rows = [_row(text=text, comment=comment) for text, comment in zip([TORTURE, PRISONS, TORTURE], comments,
                                                                       strict=True)]  # fmt: skip
    rows[2] = _row(comment=comments[2], organisation="CNCDH", organisation_kind="NHRI")

    report = _import(make(rows), file_name="f.xlsx" if make is _xlsx else "f.csv")

    assert report.ok, report.errors
    assert sorted(Assessment.objects.values_list("comment", flat=True)) == sorted(comments)


def test_xlsx_with_date_cells_and_numbers(review):
    prisons = Recommendation.objects.get(text=PRISONS)
    rows = [
        ["", "France", 15, "Brazil; Chile", TORTURE, "Amnesty France", "CSO", "partially implemented", "",
         datetime.datetime(2016, 5, 31), "Bill drafted.", "", ""],
        [prisons.pk, "", "", "", "", "Amnesty France", "", "no information", "mid-term", datetime.date(2016, 6, 1),
         "", "", "draft"],
    ]  # fmt: skip

    report = _import(_xlsx(rows), file_name="mia.xlsx")

    assert report.ok, report.errors
    assert report.sheet == "Sheet" and report.counts["create"] == 2
    assert Assessment.objects.get(recommendation__text=TORTURE).assessed_on == datetime.date(2016, 5, 31)
    assessment = Assessment.objects.get(recommendation=prisons)
    assert (assessment.assessed_on, assessment.visibility) == (datetime.date(2016, 6, 1), "draft")


def test_mapping_with_synonyms_and_separators(review):
    header = ["Country", "UPR session", "Recommended by", "Recommendation", "Stakeholder", "Type", "Assessment",
              "Reported on", "Notes", "Ignored"]  # fmt: skip
    rows = [["FRA", "15", "Brazil / Chile", TORTURE, "Amnesty France", "NGO", "Done", "2016-05-31", "Yes.", "x"],
            ["France", "15", "Spain", "Abolish the death penalty.", "Amnesty France", "NGO", "Not done",
             "2016-05-31", "", "y"]]  # fmt: skip
    mapping = {
        "columns": {"Country": "state_under_review", "UPR session": "session", "Recommended by": "recommending_states",
                    "Recommendation": "text", "Stakeholder": "organisation", "Type": "organisation_kind",
                    "Assessment": "status", "Reported on": "date", "Notes": "comment"},
        "synonyms": {"status": {"done": "fully_implemented", "Not Done": "not implemented"}},
        "separators": {"recommending_states": "/"},
    }  # fmt: skip

    report = _import(_csv(rows, header=header), mapping=mapping)

    assert report.ok, report.errors
    assert report.layout == "mapping" and report.mapping["separators"] == {"recommending_states": "/"}
    assert Assessment.objects.get(recommendation__text=TORTURE).status == "fully_implemented"
    death = Assessment.objects.get(recommendation__text="Abolish the death penalty.")
    assert death.status == "not_implemented"
    assert list(death.recommendation.recommending_states.values_list("iso3", flat=True)) == ["ESP"]
    # recorded as the layout: field -> file column
    assert ImportRun.objects.get(pk=report.run_id).mapping["columns"]["organisation"] == "Stakeholder"


def test_mapping_errors_name_the_field_or_the_column():
    data = _csv([["x"]], header=["Stakeholder"])

    unknown = _import(data, mapping={"columns": {"Stakeholder": "ngo"}}, dry_run=True)
    absent = _import(data, mapping={"columns": {"Org": "organisation"}}, dry_run=True)
    missing = _import(data, mapping={"columns": {"Stakeholder": "organisation"}}, dry_run=True)
    synonyms = _import(data, mapping={"columns": {"Stakeholder": "organisation"}, "synonyms": {"status": "x"}})

    assert 'Unknown field "ngo" for column "Stakeholder"' in unknown.errors[0].message
    assert 'The mapping names column "Org" for organisation' in absent.errors[0].message
    assert 'Required columns "status", "date", "state_under_review"' in missing.errors[0].message
    assert "Synonyms map a field" in synonyms.errors[0].message
    assert set(ImportRun.objects.values_list("status", flat=True)) == {ImportRun.Status.FAILED}


def test_template_columns_document_every_field():
    assert [column.name for column in TEMPLATE_COLUMNS] == list(FIELDS)
    assert {column.name for column in TEMPLATE_COLUMNS if column.required} == set(REQUIRED)
    assert all(column.description and column.example for column in TEMPLATE_COLUMNS)


# --- scale: bounded queries, batches, progress ----------------------------------------------------------------------


def _many(review, n: int, start: int = 0) -> list[list[str]]:
    texts = [f"Recommendation number {i}." for i in range(start, start + n)]
    Recommendation.objects.bulk_create([Recommendation(review=review, text=text) for text in texts])
    return [_row(text=text, status="partial" if i % 2 else "not implemented") for i, text in enumerate(texts)]


def test_queries_do_not_grow_with_the_rows(review):
    small, large = _many(review, 3), _many(review, 300, start=3)
    _import(_csv(small), dry_run=True)  # warms the process-wide caches (the state index)
    with CaptureQueriesContext(connection) as few:
        _import(_csv(small), dry_run=True)
    with CaptureQueriesContext(connection) as many:
        report = _import(_csv(large), dry_run=True)

    assert report.ok and report.counts["create"] == 300
    assert len(many) == len(few)


class _Recorder(Progress):
    def __init__(self):
        super().__init__(None)
        self.calls = []

    def __call__(self, phase, rows=None):
        self.calls.append((phase, rows))


def test_large_file_is_written_in_batches_with_progress(review):
    rows = _many(review, 2100)
    progress = _Recorder()

    with CaptureQueriesContext(connection) as queries:
        report = _import(_csv(rows), progress=progress)

    assert report.ok and report.counts["create"] == 2100 and Assessment.objects.count() == 2100
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "followup_assessment"')]
    assert len(inserts) == 3  # batches of 1000
    assert [r for p, r in progress.calls if p == "validating"] == [0, 1000, 2000, 2100]
    assert [r for p, r in progress.calls if p == "writing"] == [0, 1000, 2000, 2100]
    again = _import(_csv([*rows[:1000], _row(text=rows[1000][4], status="fully implemented")]), progress=progress)
    assert (again.counts["unchanged"], again.counts["update"]) == (1000, 1)


# --- the command ----------------------------------------------------------------------------------------------------


def test_command_imports_files_and_prints_json(review, tmp_path, capsys):
    path = tmp_path / "mia.csv"
    path.write_bytes(_csv([_row(), _row(text=PRISONS)]))

    call_command("import_assessments", str(path), "--json")

    printed = json.loads(capsys.readouterr().out)
    assert printed[0]["ok"] and printed[0]["committed"] and printed[0]["kind"] == "assessments"
    assert printed[0]["counts"]["create"] == 2 and Assessment.objects.count() == 2


def test_command_dry_run_with_mapping_file_writes_nothing(review, tmp_path, capsys):
    path = tmp_path / "mia.csv"
    path.write_bytes(_csv([[TORTURE, "France", "15", "Amnesty France", "CSO", "Done", "2016-05-31"]],
                          header=["Rec", "SuR", "Session", "Org", "Kind", "Status", "Date"]))  # fmt: skip
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({
        "columns": {"Rec": "text", "SuR": "state_under_review", "Session": "session", "Org": "organisation",
                    "Kind": "organisation_kind", "Status": "status", "Date": "date"},
        "synonyms": {"status": {"Done": "fully implemented"}},
    }))  # fmt: skip

    call_command("import_assessments", str(path), "--mapping", str(mapping), "--dry-run")

    out = capsys.readouterr().out
    assert "mia.csv (mapping, utf-8): dry run" in out
    assert "create 1" in out and "1 organisations to create" in out and "fully implemented 1" in out
    assert not Assessment.objects.exists() and not Organisation.objects.exists()
    assert ImportRun.objects.get().status == ImportRun.Status.DRY_RUN


def test_command_exits_non_zero_when_a_file_has_errors(review, tmp_path, capsys):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(_csv([_row()]))
    bad.write_bytes(_csv([_row(text=PRISONS, status="finished")]))

    with pytest.raises(CommandError) as raised:
        call_command("import_assessments", str(good), str(bad))

    assert raised.value.returncode == 1 and "bad.csv" in str(raised.value)
    assert 'row 2, column status, value "finished": Unknown status' in capsys.readouterr().out
    assert Assessment.objects.count() == 1  # good.csv was committed, nothing of bad.csv
    assert sorted(ImportRun.objects.values_list("status", flat=True)) == ["failed", "succeeded"]


def test_command_json_reports_errors_and_exits_non_zero(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv([_row(date="yesterday")]))

    with pytest.raises(CommandError):
        call_command("import_assessments", str(bad), "--json")

    printed = json.loads(capsys.readouterr().out)
    assert not printed[0]["ok"] and printed[0]["errors"][0]["column"] == "date"


def test_command_refuses_an_unreadable_mapping(tmp_path):
    path = tmp_path / "mia.csv"
    path.write_bytes(_csv([_row()]))

    with pytest.raises(CommandError, match="Cannot read the mapping"):
        call_command("import_assessments", str(path), "--mapping", str(tmp_path / "none.json"))
