"""An organisation's export (/work/<organisation>/export.csv and .xlsx): the assessments the user may see, in the
assessment import's format, streamed, neutralised, and imported back unchanged."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.conf import settings
from django.db import connection
from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import resolve_url
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from followup import exports
from followup.imports import FIELDS, assessment_import
from followup.models import Assessment, Organisation
from recommendations.models import Recommendation
from reviews.models import Session, State
from tests.factories import AssessmentFactory, RecommendationFactory, ReviewFactory
from tests.followup.cast import logged_in

pytestmark = pytest.mark.django_db

S, V, P = Assessment.Status, Assessment.Visibility, Assessment.Phase
ALLOWED = ("member_a", "editor_a", "admin_a", "admin")
REFUSED = ("member_b", "moderator")
FORMULA = '=HYPERLINK("https://evil.example/","click")'


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


@pytest.fixture
def data(cast):
    """Org A's assessments on France's session 15 review (two recommendations share one text) and a pledge of
    Kenya's session 21: public, organisation-only, next review, member_a's and editor_a's drafts, a deleted one, a
    hidden one; comments with a formula, lines and a control character; one of B's."""
    france = ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=15))
    kenya = ReviewFactory(state=_state("KEN"), session=Session.objects.get(number=21))
    same = "Abolish the death penalty."
    recs = [
        RecommendationFactory(review=france, text="Ratify OP-CAT.", recommending_states=[_state("CHL"), _state("BRA")]),
        RecommendationFactory(review=france, text=same, recommending_states=[_state("ITA")]),
        RecommendationFactory(review=france, text=same, recommending_states=[_state("ESP")]),
        RecommendationFactory(review=france, text="-1 death sentences, said the state", recommending_states=[]),
        RecommendationFactory(review=kenya, kind=Recommendation.Kind.VOLUNTARY_PLEDGE, response="",
                              text="Kenya pledges a national action plan.", recommending_states=[]),
    ]  # fmt: skip
    a, b = cast.org_a, cast.org_b
    made = {
        "public": AssessmentFactory(recommendation=recs[0], organisation=a, author=cast.member_a, comment=FORMULA,
                                    evidence_urls=["https://example.org/a.pdf", "http://example.org/b?x=1&y=2"]),
        "next_review": AssessmentFactory(recommendation=recs[0], organisation=a, author=cast.editor_a,
                                         phase=P.NEXT_REVIEW, status=S.FULLY_IMPLEMENTED, visibility=V.ORGANISATION,
                                         assessed_on=datetime.date(2018, 2, 1),
                                         comment="First line.\nSecond line, with \"quotes\", commas; and é."),
        "organisation": AssessmentFactory(recommendation=recs[1], organisation=a, author=cast.editor_a,
                                          status=S.NOT_IMPLEMENTED, visibility=V.ORGANISATION, comment="+33 words"),
        "draft_member": AssessmentFactory(recommendation=recs[2], organisation=a, author=cast.member_a,
                                          visibility=V.DRAFT, status=S.NO_INFORMATION, comment=""),
        "draft_editor": AssessmentFactory(recommendation=recs[3], organisation=a, author=cast.editor_a,
                                          visibility=V.DRAFT, comment="Editor's secret draft"),
        "hidden": AssessmentFactory(recommendation=recs[3], organisation=a, author=cast.member_a,
                                    phase=P.NEXT_REVIEW, assessed_on=datetime.date(2019, 1, 2), comment="@mention",
                                    hidden_at=timezone.now(), hidden_by=cast.moderator, hidden_reason="Insults"),
        "pledge": AssessmentFactory(recommendation=recs[4], organisation=a, author=cast.member_a,
                                    comment="Tab\tinside"),
        "deleted": AssessmentFactory(recommendation=recs[1], organisation=a, author=cast.member_a,
                                     phase=P.NEXT_REVIEW, deleted_at=timezone.now(), comment="Deleted words"),
        "org_b": AssessmentFactory(recommendation=recs[0], organisation=b, author=cast.member_b,
                                   comment="Observatoire B's words"),
    }  # fmt: skip
    cast.recs, cast.made = recs, made
    return cast


def _csv_response(client, slug="ligue-a"):
    response = client.get(f"/work/{slug}/export.csv")
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'attachment; filename="uprtrax-assessments-{slug}-' in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def _csv_rows(client, slug="ligue-a") -> list[list[str]]:
    body = _csv_response(client, slug).decode()
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:], newline="")))


def _xlsx_response(client, slug="ligue-a"):
    response = client.get(f"/work/{slug}/export.xlsx")
    assert response.status_code == 200
    assert isinstance(response, FileResponse)
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert f'filename="uprtrax-assessments-{slug}-' in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def _xlsx_rows(client, slug="ligue-a") -> list[list]:
    book = openpyxl.load_workbook(io.BytesIO(_xlsx_response(client, slug)), read_only=True)
    assert book.sheetnames == ["Assessments"]
    return [list(row) for row in book["Assessments"].iter_rows(values_only=True)]


def _by_recommendation_and_phase(rows: list[list]) -> dict[tuple[int, str], dict]:
    header = rows[0]
    return {(int(row[0]), row[header.index("phase")]): dict(zip(header, row, strict=True)) for row in rows[1:]}


# --- who may export, and what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
@pytest.mark.parametrize("who", [*ALLOWED, *REFUSED, "anonymous"])
def test_export_is_for_the_organisations_members_and_site_admins(client, data, who, extension):
    path = f"/work/ligue-a/export.{extension}"
    response = logged_in(client, getattr(data, who)).get(path)
    if who == "anonymous":
        assert response.status_code == 302
        assert response["Location"] == f"{resolve_url(settings.LOGIN_URL)}?next={path}"
    elif who in REFUSED:
        assert response.status_code == 403
        assert b"Ratify" not in response.content
    else:
        assert response.status_code == 200


def test_export_of_an_unknown_organisation_is_404(client, cast):
    assert logged_in(client, cast.admin).get("/work/nobody/export.csv").status_code == 404


def _keys(rows: list[list]) -> list[tuple[int, str]]:
    return sorted((int(row[0]), row[FIELDS.index("phase")]) for row in rows[1:])


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("member_a", {"public", "next_review", "organisation", "draft_member", "hidden", "pledge"}),
        ("editor_a", {"public", "next_review", "organisation", "draft_editor", "hidden", "pledge"}),
        ("admin", {"public", "next_review", "organisation", "draft_member", "draft_editor", "hidden", "pledge"}),
    ],
)
def test_export_holds_what_the_user_may_see_not_deleted_not_other_organisations(client, data, who, expected):
    rows = _csv_rows(logged_in(client, getattr(data, who)))
    made = [data.made[name] for name in expected]
    assert _keys(rows) == sorted((a.recommendation_id, exports.PHASE_WORDS[a.phase]) for a in made)
    assert {row[FIELDS.index("organisation")] for row in rows[1:]} == {"Ligue des droits A"}
    body = "\n".join(",".join(row) for row in rows)
    assert "Deleted words" not in body and "Observatoire B" not in body
    assert ("Editor's secret draft" in body) == ("draft_editor" in expected)


def test_member_b_exports_only_its_organisations(client, data):
    rows = _csv_rows(logged_in(client, data.member_b), slug="observatoire-b")
    assert [row[FIELDS.index("comment")] for row in rows[1:]] == ["Observatoire B's words"]


# --- the format -----------------------------------------------------------------------------------------------------


def test_csv_has_the_import_columns_and_values(client, data):
    rows = _csv_rows(logged_in(client, data.member_a))
    assert rows[0] == list(FIELDS) == [
        "recommendation_id", "state_under_review", "session", "recommending_states", "text", "organisation",
        "organisation_kind", "status", "phase", "date", "comment", "evidence_url", "visibility",
    ]  # fmt: skip
    by_key = _by_recommendation_and_phase(rows)
    recs = data.recs
    assert by_key[(recs[0].pk, "mid-term")] == {
        "recommendation_id": str(recs[0].pk),
        "state_under_review": "FRA",
        "session": "15",
        "recommending_states": "BRA; CHL",
        "text": "Ratify OP-CAT.",
        "organisation": "Ligue des droits A",
        "organisation_kind": "CSO",
        "status": "partially implemented",
        "phase": "mid-term",
        "date": "2015-06-01",
        "comment": "'" + FORMULA,
        "evidence_url": "https://example.org/a.pdf http://example.org/b?x=1&y=2",
        "visibility": "public",
    }
    next_review = by_key[(recs[0].pk, "next review")]
    assert (next_review["status"], next_review["visibility"], next_review["date"]) == (
        "fully implemented", "organisation", "2018-02-01")  # fmt: skip
    assert next_review["comment"] == 'First line.\nSecond line, with "quotes", commas; and é.'
    assert by_key[(recs[2].pk, "mid-term")]["visibility"] == "draft"
    assert by_key[(recs[4].pk, "mid-term")]["recommending_states"] == ""
    # rows come review by review (France's session 15, then Kenya's session 21), recommendation by recommendation
    assert [int(row[0]) for row in rows[1:]] == [recs[0].pk, recs[0].pk, recs[1].pk, recs[2].pk, recs[3].pk,
                                                 recs[4].pk]  # fmt: skip


def test_formula_looking_cells_are_neutralised_in_csv_and_xlsx(client, data):
    logged_in(client, data.member_a)
    recs = data.recs
    csv_rows = _by_recommendation_and_phase(_csv_rows(client))
    xlsx_rows = _by_recommendation_and_phase([[str(v) if v is not None else "" for v in row]
                                              for row in _xlsx_rows(client)])  # fmt: skip
    for rows in (csv_rows, xlsx_rows):
        assert rows[(recs[0].pk, "mid-term")]["comment"] == "'" + FORMULA
        assert rows[(recs[1].pk, "mid-term")]["comment"] == "'+33 words"
        assert rows[(recs[3].pk, "next review")]["comment"] == "'@mention"
        assert rows[(recs[3].pk, "next review")]["text"] == "'-1 death sentences, said the state"


def test_xlsx_holds_the_same_rows_with_dates_and_numbers_as_cells(client, data):
    logged_in(client, data.member_a)
    csv_rows = _csv_rows(client)
    xlsx_rows = _xlsx_rows(client)
    assert xlsx_rows[0] == list(FIELDS)
    assert len(xlsx_rows) == len(csv_rows)
    first = dict(zip(FIELDS, xlsx_rows[1], strict=True))
    assert first["recommendation_id"] == data.recs[0].pk and first["session"] == 15
    assert first["date"] == datetime.datetime(2015, 6, 1)
    pledge = next(row for row in xlsx_rows[1:] if row[0] == data.recs[4].pk)
    assert pledge[FIELDS.index("comment")] == "Tab\tinside"


def test_control_characters_a_workbook_cannot_hold_become_line_breaks_or_go(client, data):
    public = data.made["public"]
    Assessment.objects.filter(pk=public.pk).update(comment="Word's line\x0bbreak, page\x0cbreak, bell\x07.")
    logged_in(client, data.member_a)
    xlsx = _by_recommendation_and_phase(_xlsx_rows(client))
    assert xlsx[(public.recommendation_id, "mid-term")]["comment"] == "Word's line\nbreak, page\nbreak, bell."
    csv_rows = _by_recommendation_and_phase(_csv_rows(client))
    comment = csv_rows[(public.recommendation_id, "mid-term")]["comment"]
    assert comment == "Word's line\x0bbreak, page\x0cbreak, bell\x07."


def test_export_of_an_organisation_without_assessments_is_the_header(client, cast):
    logged_in(client, cast.member_b)
    assert _csv_rows(client, "observatoire-b") == [list(FIELDS)]
    assert _xlsx_rows(client, "observatoire-b") == [list(FIELDS)]


# --- round trip -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
@pytest.mark.parametrize("who", ["member_a", "admin"])
def test_the_export_imports_back_unchanged(client, data, who, extension):
    logged_in(client, getattr(data, who))
    body = _csv_response(client) if extension == "csv" else _xlsx_response(client)
    exported = len(_csv_rows(client)) - 1

    report = assessment_import(source=body, file_name=f"export.{extension}", dry_run=True)

    assert report.ok, [(e.row, e.column, e.value, e.message) for e in report.errors]
    assert report.layout == "canonical"
    counts = report.counts
    assert (counts["rows"], counts["unchanged"], counts["create"], counts["update"]) == (exported, exported, 0, 0)
    assert counts["organisations_to_create"] == 0
    assert not report.warnings


def test_an_edited_export_imports_as_updates(client, data):
    rows = _csv_rows(logged_in(client, data.member_a))
    rows[1][FIELDS.index("status")] = "not implemented"
    out = io.StringIO()
    csv.writer(out).writerows(rows)

    report = assessment_import(source=out.getvalue().encode(), file_name="edited.csv", dry_run=False)

    assert report.ok and report.committed, report.errors
    assert (report.counts["update"], report.counts["unchanged"]) == (1, len(rows) - 2)
    public = Assessment.objects.get(pk=data.made["public"].pk)
    assert (public.status, public.comment, public.version) == (S.NOT_IMPLEMENTED, FORMULA, 2)


# --- streaming and queries ------------------------------------------------------------------------------------------


def _queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
        b"".join(response.streaming_content)
    return len(queries)


@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_export_queries_are_bounded_and_do_not_grow_with_the_rows(client, data, extension,
                                                                  django_assert_max_num_queries):  # fmt: skip
    logged_in(client, data.member_a)
    path = f"/work/ligue-a/export.{extension}"
    with django_assert_max_num_queries(8):
        b"".join(client.get(path).streaming_content)
    before = _queries(client, path)

    review = ReviewFactory(state=_state("BRA"), session=Session.objects.get(number=13))
    for n in range(40):
        AssessmentFactory(recommendation=RecommendationFactory(review=review, text=f"More {n}"),
                          organisation=data.org_a, author=data.member_a)  # fmt: skip

    assert _queries(client, path) == before
    assert len(_csv_rows(client)) == 1 + 6 + 40


def test_csv_is_streamed_in_batches(client, data, monkeypatch):
    monkeypatch.setattr(exports, "BATCH", 2)
    rows = _csv_rows(logged_in(client, data.member_a))
    assert len(rows) == 7  # every row, batch after batch, each batch's recommending states read once
    assert _by_recommendation_and_phase(rows)[(data.recs[0].pk, "mid-term")]["recommending_states"] == "BRA; CHL"


def test_kind_words_are_read_back_by_the_import():
    from followup.imports.layout import KIND_SYNONYMS, PHASE_SYNONYMS, STATUS_SYNONYMS

    assert {KIND_SYNONYMS[word.casefold()] for word in exports.KIND_WORDS.values()} == set(Organisation.Kind.values)
    assert {STATUS_SYNONYMS[word] for word in exports.STATUS_WORDS.values()} == set(Assessment.Status.values)
    assert {PHASE_SYNONYMS[word] for word in exports.PHASE_WORDS.values()} == set(Assessment.Phase.values)
