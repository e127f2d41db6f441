"""The streaming pipeline: files read from disk as rows are consumed, staged in SQL, problems capped with totals,
the near-duplicate merge, encoding detection over the whole file, and the same pipeline on SQLite."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from recommendations.imports import runs
from recommendations.imports.service import recommendation_import
from recommendations.models import ImportRun, Recommendation
from tests.factories import csv_bytes

pytestmark = pytest.mark.django_db

HEADER = ["state_under_review", "session", "recommending_states", "text", "response", "action_category", "issues"]
REPO = Path(__file__).resolve().parents[2]


def _csv(rows, *, encoding="utf-8") -> bytes:
    return csv_bytes(HEADER, rows, encoding=encoding)


def _rows(n, *, session="3"):
    return [["France", session, "Ghana", f"Recommendation number {i}.", "accepted", "5", "Detention"] for i in range(n)]


def test_a_path_and_an_open_file_stream_like_bytes(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(_csv(_rows(12_000)))
    report = recommendation_import(source=path, file_name=path.name, dry_run=False)
    assert report.ok and report.counts["create"] == 12_000
    assert report.size == path.stat().st_size
    with path.open("rb") as handle:
        again = recommendation_import(source=handle, file_name=path.name, dry_run=True)
    assert again.counts["unchanged"] == 12_000 and again.counts["create"] == 0
    assert Recommendation.objects.count() == 12_000


def test_ids_follow_the_file_order_and_links_land_on_the_right_rows():
    data = _csv([
        ["France", "3", "Ghana", "First.", "accepted", "5", "Detention"],
        ["France", "3", "Chile;Brazil", "Second.", "noted", "", "Women's rights;Death penalty"],
    ])  # fmt: skip
    assert recommendation_import(source=data, file_name="a.csv", dry_run=False).ok
    first, second = Recommendation.objects.order_by("id")
    assert (first.text, second.text) == ("First.", "Second.")
    assert sorted(s.iso3 for s in second.recommending_states.all()) == ["BRA", "CHL"]
    assert sorted(i.name for i in second.issues.all()) == ["Death penalty", "Women's rights"]
    assert second.action_category is None and first.action_category == 5


def test_near_duplicates_are_imported_once_with_the_issues_of_both():
    data = _csv([
        ["France", "3", "Ghana", "Abolish the death penalty.", "accepted", "5", "Death penalty"],
        ["France", "3", "Ghana", "abolish  the DEATH penalty.", "accepted", "5", "Women's rights"],
    ])  # fmt: skip
    report = recommendation_import(source=data, file_name="d.csv", dry_run=False)
    assert report.ok and report.counts["create"] == 1
    assert "Duplicate of row 2" in report.warnings[0].message and report.warnings[0].row == 3
    rec = Recommendation.objects.get()
    assert rec.text == "Abolish the death penalty."
    assert sorted(i.name for i in rec.issues.all()) == ["Death penalty", "Women's rights"]


def test_problems_are_listed_up_to_the_cap_and_counted_beyond(monkeypatch):
    monkeypatch.setattr(runs, "PROBLEMS_LISTED", 10)
    rows = [["Atlantis", "3", "Ghana", f"Text {i}.", "accepted", "", ""] for i in range(25)]
    report = recommendation_import(source=_csv(rows), file_name="bad.csv", dry_run=True)
    assert len(report.errors) == 10 and report.error_total == 25
    assert [p.row for p in report.errors] == list(range(2, 12))
    run = ImportRun.objects.get(pk=report.run_id)
    assert run.counts["errors"] == 25 and len(run.errors) == 10
    assert Recommendation.objects.count() == 0


def test_an_error_after_thousands_of_good_rows_writes_nothing():
    rows = [*_rows(6_000), ["France", "3", "Ghana", "Late bad row.", "maybe", "", ""]]
    report = recommendation_import(source=_csv(rows), file_name="late.csv", dry_run=False)
    assert not report.ok and report.errors[0].row == 6_002 and report.errors[0].value == "maybe"
    assert Recommendation.objects.count() == 0
    assert ImportRun.objects.get(pk=report.run_id).status == ImportRun.Status.FAILED


def test_a_non_utf8_byte_far_into_the_file_is_found_by_detection():
    # 2 MB of ASCII, then one Mac Roman "é" (0x8E): a sniff of the start alone would say UTF-8 and fail later.
    rows = _rows(20_000)
    rows.append(["France", "3", "Ghana", "Garantir l'accès des réfugiés.", "accepted", "", ""])
    data = _csv(rows, encoding="mac_roman")
    assert len(data) > 1024 * 1024
    report = recommendation_import(source=data, file_name="late-accent.csv", dry_run=True)
    assert report.ok and report.encoding == "mac_roman", report.errors[:1]


def test_a_bad_byte_far_into_the_file_in_the_chosen_encoding_names_its_line():
    data = _csv(_rows(3_000)) + b'France,3,Ghana,"Caf\xe9 text.",accepted,,\n'
    report = recommendation_import(source=data, file_name="bad-utf8.csv", encoding="utf-8", dry_run=True)
    assert not report.ok
    assert report.errors[0].row == 3_002 and "not valid utf-8" in report.errors[0].message


def test_the_pipeline_runs_on_sqlite_too(tmp_path):
    """`make run` and the demo use SQLite: the staging SQL must work there (a fresh process, its own database)."""
    data = tmp_path / "s.csv"
    data.write_bytes(_csv(_rows(50)))
    script = f"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from reviews.services import reference_data_load
reference_data_load()
from recommendations.imports.service import recommendation_import
from recommendations.models import Recommendation
first = recommendation_import(source={str(data)!r}, file_name="s.csv", dry_run=False)
again = recommendation_import(source={str(data)!r}, file_name="s.csv", dry_run=True)
print(first.ok, first.counts["create"], again.counts["unchanged"], Recommendation.objects.count(),
      Recommendation.issues.through.objects.count())
"""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env.update(DJANGO_DEBUG="1", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
               DJANGO_SETTINGS_MODULE="uprtrax.settings")  # fmt: skip
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "50", "50", "50", "50"]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"columns": {"text": "text"}, "synonyms": ["Supported"]}, "Synonyms map a field"),
        ({"columns": {"text": "text"}, "synonyms": {"response": "accepted"}}, "Synonyms map a field"),
        ({"columns": {"text": "text"}, "separators": ";"}, "Separators map a field"),
    ],
)
def test_a_malformed_mapping_is_an_error_not_a_crash(mapping, message):
    report = recommendation_import(source=_csv(_rows(1)), file_name="m.csv", mapping=mapping, dry_run=True)
    assert not report.ok and message in report.errors[0].message
