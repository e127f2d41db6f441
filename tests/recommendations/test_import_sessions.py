"""Which review an imported row belongs to: by session, date, cycle or document symbol; and the natural-key
backfill of migration 0005."""

import datetime
import importlib
import io

import openpyxl
import pytest
from django.apps import apps
from django.db import connection
from django.test.utils import CaptureQueriesContext

from recommendations.imports.keys import recommendation_natural_key
from recommendations.imports.service import recommendation_import
from recommendations.models import Recommendation
from reviews.models import Review, Session, State
from tests.factories import RecommendationFactory, ReviewFactory, csv_bytes

pytestmark = pytest.mark.django_db

TEXT = "Ratify the Optional Protocol to the Convention against Torture."


def _csv(header: list[str], *rows: list[str]) -> bytes:
    return csv_bytes(header, rows)


def _import(data: bytes, *, dry_run: bool = False, mapping: dict | None = None, file_name: str = "upload.csv"):
    return recommendation_import(source=data, file_name=file_name, mapping=mapping, dry_run=dry_run)


def _one_review(report) -> Review:
    assert report.ok, [str(p) for p in report.errors]
    assert report.committed and report.counts["create"] == 1
    return Recommendation.objects.select_related("review__state", "review__session").get().review


def _error(report) -> str:
    """The one error of a failed import, as the report shows it (row, column, value, message); nothing written."""
    assert not report.ok and not report.committed
    assert Recommendation.objects.count() == 0
    assert len(report.errors) == 1, [str(p) for p in report.errors]
    return str(report.errors[0])


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


# --- session and date ------------------------------------------------------------------------------------------------


def test_session_number_places_the_row_as_before():
    review = _one_review(_import(_csv(["state_under_review", "session", "text"], ["France", "29", TEXT])))

    assert (review.state.iso3, review.session.number) == ("FRA", 29)


@pytest.mark.parametrize(
    "value", ["2015-01-20", "20/01/2015", "20.01.2015", "20 January 2015", "20 Jan 2015", "2015-01-20 00:00:00"]
)
def test_date_within_a_dated_session_gives_that_session(value):
    review = _one_review(_import(_csv(["state_under_review", "date", "text"], ["Ireland", value, TEXT])))

    assert (review.state.iso3, review.session.number) == ("IRL", 21)  # 19-30 January 2015


def test_xlsx_date_cell_gives_the_session_it_falls_in():
    book = openpyxl.Workbook()
    book.active.append(["state_under_review", "date", "text"])
    book.active.append(["Ireland", datetime.datetime(2015, 5, 7), TEXT])
    out = io.BytesIO()
    book.save(out)

    review = _one_review(_import(out.getvalue(), file_name="dated.xlsx"))

    assert review.session.number == 22  # 4-15 May 2015


def test_date_of_a_session_dated_by_a_factory_is_found():
    Session.objects.filter(number=28).update(
        start_date=datetime.date(2017, 11, 6), end_date=datetime.date(2017, 11, 17)
    )

    review = _one_review(_import(_csv(["state_under_review", "date", "text"], ["Japan", "14/11/2017", TEXT])))

    assert review.session.number == 28


def test_date_between_sessions_is_an_error_naming_the_closest_sessions_and_their_dates():
    message = _error(_import(_csv(["state_under_review", "date", "text"], ["Ireland", "2015-03-02", TEXT])))

    assert message.startswith('row 2, column date, value "2015-03-02": No session was held on 2 March 2015')
    assert "the closest are session 21 (19–30 January 2015) and session 22 (4–15 May 2015)" in message


def test_date_in_a_year_whose_session_dates_are_unknown_asks_for_the_session():
    message = _error(_import(_csv(["state_under_review", "date", "text"], ["Japan", "10 November 2017", TEXT])))

    assert message.startswith(
        'row 2, column date, value "10 November 2017": 10 November 2017 may be a day of session 28'
    )
    assert "whose dates are not known: give the session number" in message


def test_date_before_an_undated_sessions_dated_predecessor_names_the_closest_sessions():
    # Session 28 (2017) has no dates, but it came after session 27 (1-12 May 2017): it cannot have been in March.
    message = _error(_import(_csv(["state_under_review", "date", "text"], ["Japan", "2017-03-01", TEXT])))

    assert "the closest are session 26 (31 October–11 November 2016) and session 27 (1–12 May 2017)" in message


@pytest.mark.parametrize("value", ["2015-13-01", "31/02/2015", "next Tuesday", "2015/01/20", "20 Brumaire 2015"])
def test_malformed_date_is_an_error_naming_row_column_value_and_formats(value):
    message = _error(_import(_csv(["state_under_review", "date", "text"], ["France", "2015-01-20", TEXT],
                                  ["France", value, TEXT])))  # fmt: skip

    assert message.startswith(f'row 3, column date, value "{value}": Not a date; write it as yyyy-mm-dd')


@pytest.mark.parametrize("value", ["999", "28.5", "inf", "twenty"])
def test_unknown_or_malformed_session_is_an_error(value):
    message = _error(_import(_csv(["state_under_review", "session", "text"], ["France", value, TEXT])))

    assert message == f'row 2, column session, value "{value}": Unknown session (known sessions are 1–54).'


def test_row_with_every_review_column_empty_is_an_error():
    message = _error(_import(_csv(["state_under_review", "session", "date", "text"], ["France", "", "", TEXT])))

    assert message == "row 2, column session: No session or date given: say which review this row belongs to."


@pytest.mark.parametrize("value", ["inf", "nan", "1e3", "4.5"])
def test_spreadsheet_oddities_in_number_cells_are_errors_not_crashes(value):
    header = ["state_under_review", "session", "action_category", "text"]

    message = _error(_import(_csv(header, ["France", "28", value, TEXT])))

    assert message.startswith(f'row 2, column action_category, value "{value}": Unknown action category')


# --- cycle -----------------------------------------------------------------------------------------------------------


def test_cycle_gives_the_states_existing_review_in_that_cycle():
    existing = ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=29))
    ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=15))  # cycle 2: not this one

    review = _one_review(_import(_csv(["state_under_review", "cycle", "text"], ["France", "3", TEXT])))

    assert review == existing


def test_cycle_without_a_review_of_the_state_asks_for_the_session():
    ReviewFactory(state=_state("DEU"), session=Session.objects.get(number=29))  # another state's review

    message = _error(_import(_csv(["state_under_review", "cycle", "text"], ["France", "3", TEXT])))

    assert message == ('row 2, column cycle, value "3": No review of France in cycle 3 is known: give the session '
                       "number for this row.")  # fmt: skip


@pytest.mark.parametrize("value", ["7", "0", "three"])
def test_unknown_cycle_is_an_error(value):
    message = _error(_import(_csv(["state_under_review", "cycle", "text"], ["France", value, TEXT])))

    assert message == f'row 2, column cycle, value "{value}": Unknown cycle (known cycles are 1–4).'


# --- document symbols ------------------------------------------------------------------------------------------------


def test_national_report_symbol_gives_session_and_agrees_with_the_state_column():
    data = _csv(["state_under_review", "document_symbol", "text"], ["Ireland", "A/HRC/WG.6/25/IRL/1", TEXT])

    review = _one_review(_import(data))

    assert (review.state.iso3, review.session.number) == ("IRL", 25)


def test_symbol_supplies_the_state_when_the_file_has_no_state_column():
    data = _csv(["document_symbol", "text"], ["a/hrc/wg.6/28/jpn/3", TEXT])

    review = _one_review(_import(data))

    assert (review.state.iso3, review.session.number) == ("JPN", 28)


def test_symbol_of_another_state_than_the_state_column_is_an_error_naming_both():
    data = _csv(["state_under_review", "document_symbol", "text"], ["France", "A/HRC/WG.6/28/IRL/1", TEXT])

    message = _error(_import(data))

    assert message == ('row 2, column document_symbol, value "A/HRC/WG.6/28/IRL/1": The symbol is Ireland\'s, but '
                       'state_under_review is "France" (France).')  # fmt: skip


def test_working_group_report_symbol_gives_its_review_case_insensitively():
    existing = ReviewFactory(state=_state("IRL"), session=Session.objects.get(number=25), report_symbol="A/HRC/33/17")
    data = _csv(["state_under_review", "document_symbol", "text"], ["Ireland", "a/hrc/33/17", TEXT],
                ["", "A/HRC/33/17/Add.1", "Establish a national preventive mechanism."])  # fmt: skip

    report = _import(data)

    assert report.ok, [str(p) for p in report.errors]
    assert report.counts["create"] == 2
    assert set(Recommendation.objects.values_list("review", flat=True)) == {existing.pk}


def test_working_group_report_symbol_no_review_has_is_an_error():
    ReviewFactory(state=_state("IRL"), session=Session.objects.get(number=25), report_symbol="A/HRC/33/17")

    message = _error(_import(_csv(["state_under_review", "document_symbol", "text"], ["Ireland", "A/HRC/31/14", TEXT])))

    assert message == ('row 2, column document_symbol, value "A/HRC/31/14": No review has the Working Group report '
                       "A/HRC/31/14: record it there, or give the session.")  # fmt: skip


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("E/CN.4/2006/1", "Unknown document symbol; use the symbol of a national report"),
        ("A/HRC/WG.6/77/IRL/1", "Unknown session 77 in the symbol (known sessions are 1–54)."),
        ("A/HRC/WG.6/25/XYZ/1", 'Unknown state code in the symbol: Unknown state "XYZ".'),
    ],
)
def test_malformed_or_unknown_symbol_is_an_error(value, message):
    report = _import(_csv(["document_symbol", "text"], [value, TEXT]))

    assert _error(report).startswith(f'row 2, column document_symbol, value "{value}": {message}')


def test_empty_symbol_where_it_alone_names_the_state_is_an_error():
    message = _error(_import(_csv(["document_symbol", "session", "text"], ["", "28", TEXT])))

    assert message == ("row 2, column document_symbol: No document symbol, and it is what names the state under "
                       "review here.")  # fmt: skip


# --- several ways at once --------------------------------------------------------------------------------------------


def test_all_four_ways_that_agree_are_accepted():
    header = ["state_under_review", "session", "date", "cycle", "document_symbol", "text"]

    review = _one_review(_import(_csv(header, ["FRA", "29", "22/01/2018", "3", "A/HRC/WG.6/29/FRA/2", TEXT])))

    assert (review.state.iso3, review.session.number) == ("FRA", 29)


def test_date_beside_a_session_with_unknown_dates_is_accepted_when_it_can_be_that_session():
    header = ["state_under_review", "session", "date", "text"]

    review = _one_review(_import(_csv(header, ["Japan", "28", "2017-11-14", TEXT])))

    assert review.session.number == 28


@pytest.mark.parametrize(
    ("header", "row", "expected"),
    [
        (["session", "date"], ["28", "2015-01-20"],
         'column date, value "2015-01-20": Disagrees with session "28": this is session 21, that is 28.'),
        (["session", "document_symbol"], ["28", "A/HRC/WG.6/29/FRA/1"],
         'column document_symbol, value "A/HRC/WG.6/29/FRA/1": Disagrees with session "28": this is session 29, '
         "that is 28."),
        (["session", "cycle"], ["28", "2"],
         'column cycle, value "2": Session 28, which session "28" gives, is in cycle 3, not 2.'),
        (["session", "date"], ["29", "2018-02-20"],
         'column date, value "2018-02-20": 20 February 2018 is not a day of session 29 (15–26 January 2018), '
         'which session "29" gives.'),
        (["session", "date"], ["28", "2017-03-01"],
         'column date, value "2017-03-01": 1 March 2017 cannot be a day of session 28 (2017), which session "28" '
         "gives."),
    ],
)  # fmt: skip
def test_columns_that_disagree_are_an_error_naming_both_values(header, row, expected):
    message = _error(_import(_csv(["state_under_review", *header, "text"], ["France", *row, TEXT])))

    assert message == f"row 2, {expected}"


def test_cycle_and_date_disagreeing_with_an_existing_review_is_an_error():
    ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=15))  # cycle 2, dates not known

    message = _error(
        _import(_csv(["state_under_review", "cycle", "date", "text"], ["France", "2", "2015-01-20", TEXT]))
    )

    assert message == ('row 2, column cycle, value "2": Disagrees with date "2015-01-20": France\'s review in cycle 2 '
                       "is in session 15, not 21.")  # fmt: skip


def test_mapping_may_name_the_review_by_date():
    mapping = {"columns": {"Pays": "state_under_review", "Jour": "date", "Texte": "text"}}

    review = _one_review(_import(_csv(["Pays", "Jour", "Texte"], ["IRL", "07.05.2015", TEXT]), mapping=mapping))

    assert review.session.number == 22


# --- required columns ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "column", "named"),
    [
        (["state_under_review", "text", "response"], "session",
         'Required column "session" (or "date", "cycle" or "document_symbol": what says which review a row belongs '
         "to) is missing. Columns found: state_under_review, text, response."),
        (["date", "text"], "state_under_review",
         'Required column "state_under_review" (or "document_symbol", which names the state) is missing.'),
    ],
)  # fmt: skip
def test_missing_review_or_state_column_is_an_error_naming_the_alternatives(header, column, named):
    report = _import(_csv(header, ["x"] * len(header)))

    assert (report.errors[0].row, report.errors[0].column) == (1, column)
    assert named in report.errors[0].message
    assert Recommendation.objects.count() == 0


# --- lookups are made once per import --------------------------------------------------------------------------------


def _queries_to_preview(rows: int) -> int:
    header = ["state_under_review", "date", "cycle", "document_symbol", "text"]
    data = _csv(header, *[["France", "", "3", "", f"Text {n}"] if n % 3 == 0 else
                          ["", "", "", "A/HRC/33/17", f"Text {n}"] if n % 3 == 1 else
                          ["Japan", "2018-01-20", "", "", f"Text {n}"] for n in range(rows)])  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        report = _import(data, dry_run=True)
    assert report.ok, [str(p) for p in report.errors]
    return len(queries)


def test_lookups_cost_the_same_queries_for_3_rows_as_for_300():
    ReviewFactory(state=_state("FRA"), session=Session.objects.get(number=29))
    ReviewFactory(state=_state("IRL"), session=Session.objects.get(number=25), report_symbol="A/HRC/33/17")

    assert _queries_to_preview(3) == _queries_to_preview(300)


# --- migration 0005: natural keys for recommendations stored before there were any -------------------------------


def _backfill(**kwargs) -> dict[str, int]:
    module = importlib.import_module("recommendations.migrations.0005_backfill_natural_key")
    return module.natural_keys_backfill(apps, None, **kwargs)


def _import_key(recommendation: Recommendation) -> str:
    return recommendation_natural_key(
        kind=recommendation.kind,
        paragraph_ref=recommendation.paragraph_ref,
        text=recommendation.text,
        recommending_state_ids=recommendation.recommending_states.values_list("pk", flat=True),
    )


def test_backfill_gives_blank_rows_the_key_the_importer_computes():
    france_15 = ReviewFactory()
    ireland = ReviewFactory(state=_state("IRL"), session=Session.objects.get(number=25))
    by_text = RecommendationFactory(review=france_15, text="  Abolish the  Death penalty ")
    by_paragraph = RecommendationFactory(review=france_15, paragraph_ref="120.4 ")
    pledge = RecommendationFactory(review=ireland, kind=Recommendation.Kind.VOLUNTARY_PLEDGE, response="",
                                   recommending_states=[_state("IRL")])  # fmt: skip
    no_author = RecommendationFactory(review=ireland, recommending_states=[])
    keyed = RecommendationFactory(review=ireland, natural_key="f" * 64)

    counts = _backfill(batch_size=2)

    assert counts == {"keyed": 4, "skipped": 0}
    for recommendation in (by_text, by_paragraph, pledge, no_author):
        recommendation.refresh_from_db()
        assert recommendation.natural_key == _import_key(recommendation)
    keyed.refresh_from_db()
    assert keyed.natural_key == "f" * 64
    assert _backfill() == {"keyed": 0, "skipped": 0}


def test_backfill_leaves_a_row_blank_whose_key_would_repeat_another_in_its_review():
    france_15, ireland = ReviewFactory(), ReviewFactory(state=_state("IRL"), session=Session.objects.get(number=25))
    first = RecommendationFactory(review=france_15, text="Ratify the CRPD.")
    repeat = RecommendationFactory(review=france_15, text="ratify  the CRPD.")  # same key as first
    elsewhere = RecommendationFactory(review=ireland, text="Ratify the CRPD.")  # same key, other review: fine
    imported = RecommendationFactory(review=ireland, paragraph_ref="99.1")
    imported.natural_key = _import_key(imported)
    imported.save()
    # The paragraph constraint compares raw values, the key a stripped one: "99.1 " is stored, but its key is taken.
    clash = RecommendationFactory(review=ireland, paragraph_ref="99.1 ", text="Another text")

    counts = _backfill(batch_size=1)  # the repeat comes in a later batch than the row it repeats

    assert counts == {"keyed": 2, "skipped": 2}
    for recommendation, key in ((first, _import_key(first)), (repeat, ""), (elsewhere, _import_key(elsewhere)),
                                (clash, "")):  # fmt: skip
        recommendation.refresh_from_db()
        assert recommendation.natural_key == key


def test_backfill_lets_a_reimport_find_recommendations_stored_before_natural_keys():
    RecommendationFactory(text=TEXT)  # France, session 15, from Brazil, accepted, category 5, torture
    header = ["state_under_review", "session", "recommending_states", "text", "response", "action_category", "issues"]
    data = _csv(header, ["France", "15", "Brazil", TEXT, "Accepted", "5", "Torture and other CID treatment"])

    _backfill()
    report = _import(data)

    assert report.ok, [str(p) for p in report.errors]
    assert (report.counts["unchanged"], report.counts["create"], report.counts["update"]) == (1, 0, 0)
    assert Recommendation.objects.count() == 1


def test_backfill_queries_per_batch_not_per_row(django_assert_max_num_queries):
    review = ReviewFactory()
    for n in range(30):
        RecommendationFactory(review=review, text=f"Recommendation {n}")

    with django_assert_max_num_queries(5):
        counts = _backfill()

    assert counts == {"keyed": 30, "skipped": 0}
