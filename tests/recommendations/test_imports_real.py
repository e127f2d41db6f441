"""The import of UPR Info's real exports reproduces the figures of ../shared/data/real/SOURCES.md.

Skipped when the files are absent; fails instead when the environment variable CI is set.
"""

import os
from pathlib import Path

import pytest
from django.db.models import Count

from recommendations.imports.service import recommendation_import
from recommendations.models import Recommendation

REAL = Path(
    os.environ.get("UPRTRAX_REAL_DATA") or Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
)
FILES = ("1-5.csv", "6-9.csv", "10-13.csv", "14-17.csv", "17-20.csv")


@pytest.fixture(scope="module")
def real_files():
    missing = [name for name in (*FILES, "voluntary.csv") if not (REAL / name).is_file()]
    if missing:
        reason = f"real UPR data absent from {REAL} ({', '.join(missing)}); set UPRTRAX_REAL_DATA"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return REAL


def _import(path: Path, *, dry_run: bool):
    return recommendation_import(source=path.read_bytes(), file_name=path.name, dry_run=dry_run)


@pytest.mark.django_db
def test_real_upr_info_files_reproduce_the_reference_figures(real_files):
    reports = [_import(real_files / name, dry_run=False) for name in FILES]

    assert all(r.ok and r.encoding == "mac_roman" and r.layout == "upr_info" for r in reports)
    assert sum(r.counts["rows"] for r in reports) == 41_066
    recommendations = Recommendation.objects.filter(kind=Recommendation.Kind.RECOMMENDATION)
    # 41,066 rows less 4 merged: the 2 exact duplicates of SOURCES.md (Lesotho/Chad s8, Tonga/UK s15), and two pairs
    # that are the same recommendation under the natural key: Montenegro/Moldova s15 (text differs only in case or
    # spacing) and Australia/Thailand s10 (issues differ; imported once with both rows' issues). All are warnings.
    assert recommendations.count() == 41_062
    duplicates = [w for r in reports for w in r.warnings if "uplicate" in w.message]
    assert len(duplicates) == 4
    by_response = dict(recommendations.values_list("response").annotate(n=Count("id")))
    assert by_response == {"accepted": 30_472 - 3, "noted": 10_594 - 1}
    by_action = dict(recommendations.values_list("action_category").annotate(n=Count("id")))
    assert by_action == {1: 603, 2: 6_981 - 1, 3: 3_449, 4: 16_261, 5: 13_772 - 3}
    assert recommendations.values("review__state").distinct().count() == 193
    made = Recommendation.recommending_states.through.objects.filter(recommendation__in=recommendations)
    # SOURCES.md's 169 distinct From values count "&#40;Unknown&#41;" as one: 168 states and the unknown author.
    assert made.values("state").distinct().count() == 169 - 1
    assert Recommendation.issues.through.objects.values("issue").distinct().count() == 54
    unknown = [w for r in reports for w in r.warnings if w.value == "(Unknown)"]
    assert len(unknown) == 9 and recommendations.filter(recommending_states=None).count() == 9
    misfiled = [w for r in reports for w in r.warnings if w.value == "South Sudan"]
    assert len(misfiled) == 33

    again = [_import(real_files / name, dry_run=True) for name in FILES]

    assert sum(r.counts["unchanged"] for r in again) == 41_062
    assert sum(r.counts["create"] + r.counts["update"] for r in again) == 0


@pytest.mark.django_db
def test_real_voluntary_pledges_are_imported_as_pledges(real_files):
    report = _import(real_files / "voluntary.csv", dry_run=False)

    assert report.ok and report.counts["rows"] == 947
    pledges = Recommendation.objects.filter(kind=Recommendation.Kind.VOLUNTARY_PLEDGE)
    # 947 rows, 2 of them exact duplicates (warnings, imported once).
    assert pledges.count() == 945 and len([w for w in report.warnings if "uplicate" in w.message]) == 2
    assert not pledges.exclude(response="").exists()
