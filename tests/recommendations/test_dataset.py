"""The demo and benchmark data set generator (recommendations.dataset) and demo_setup, on PostgreSQL."""

import io
import json
import os
import sqlite3
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count, F
from django.test import override_settings

from followup.models import Assessment, Membership, Organisation
from recommendations.dataset import DatasetError, dataset_generate
from recommendations.dataset import service as dataset_service
from recommendations.demo import DemoSetupRefused, demo_setup
from recommendations.models import Recommendation
from reviews.models import Review

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]


class _Rollback(Exception):
    pass


def _canonical_dump() -> dict:
    """Everything the generator wrote, ids replaced by natural keys, in a stable order."""
    reviews = {
        r["id"]: (r["session__number"], r["state__iso3"])
        for r in Review.objects.values("id", "session__number", "state__iso3")
    }
    recommendations = list(
        Recommendation.objects.order_by("review__session__number", "review__state__iso3", "id").values()
    )
    rank: dict[int, tuple] = {}
    per_review: Counter = Counter()
    for rec in recommendations:
        per_review[rec["review_id"]] += 1
        rank[rec["id"]] = (*reviews[rec["review_id"]], per_review[rec["review_id"]])
    states = defaultdict(list)
    for rec_id, iso3 in Recommendation.recommending_states.through.objects.values_list(
        "recommendation_id", "state__iso3"
    ):
        states[rec_id].append(iso3)
    issues = defaultdict(list)
    for rec_id, name in Recommendation.issues.through.objects.values_list("recommendation_id", "issue__name"):
        issues[rec_id].append(name)
    return {
        "reviews": sorted(
            Review.objects.values_list("session__number", "state__iso3", "report_symbol", "adoption_date")
        ),
        "recommendations": [
            (
                rank[rec["id"]],
                rec["kind"],
                rec["paragraph_ref"],
                rec["text"],
                rec["response"],
                rec["response_original"],
                rec["action_category"],
                rec["created_at"],
                sorted(states[rec["id"]]),
                sorted(issues[rec["id"]]),
            )
            for rec in recommendations
        ],
        "organisations": sorted(Organisation.objects.values_list("name", "slug", "kind", "country__iso3", "website")),
        "users": sorted(get_user_model().objects.values_list("username", "email", "password", "date_joined")),
        "memberships": sorted(Membership.objects.values_list("user__username", "organisation__name", "role")),
        "assessments": sorted(
            (
                rank[a["recommendation_id"]],
                a["organisation__name"],
                a["phase"],
                a["status"],
                a["comment"],
                tuple(a["evidence_urls"]),
                a["assessed_on"],
                a["visibility"],
                a["author__username"],
                a["created_at"],
            )
            for a in Assessment.objects.values(
                "recommendation_id",
                "organisation__name",
                "phase",
                "status",
                "comment",
                "evidence_urls",
                "assessed_on",
                "visibility",
                "author__username",
                "created_at",
            )
        ),
    }


def _generate_and_dump(**kwargs) -> dict:
    """Generate on the test database as it is, dump, and roll the generation back."""
    dump = None
    try:
        with transaction.atomic():
            dataset_generate(**kwargs)
            dump = _canonical_dump()
            raise _Rollback
    except _Rollback:
        pass
    return dump


def _table_counts() -> dict[str, int]:
    return {
        "reviews": Review.objects.count(),
        "recommendations": Recommendation.objects.count(),
        "issue_links": Recommendation.issues.through.objects.count(),
        "state_links": Recommendation.recommending_states.through.objects.count(),
        "organisations": Organisation.objects.count(),
        "users": get_user_model().objects.count(),
        "assessments": Assessment.objects.count(),
    }


def _consolidated_mid_term() -> dict[int, str]:
    """Mid-term status per assessed recommendation: the most frequent, ties to the lower (no_information aside)."""
    ladder = [s.value for s in Assessment.Status if s != Assessment.Status.NO_INFORMATION]
    votes: dict[int, Counter] = defaultdict(Counter)
    rows = (
        Assessment.objects.filter(phase=Assessment.Phase.MID_TERM)
        .exclude(status=Assessment.Status.NO_INFORMATION)
        .values_list("recommendation_id", "status")
        .annotate(n=Count("id"))
    )
    for rec_id, status, n in rows:
        votes[rec_id][status] = n
    return {
        rec_id: max(counter, key=lambda status: (counter[status], -ladder.index(status)))
        for rec_id, counter in votes.items()
    }


def test_same_seed_generates_identical_data():
    first = _generate_and_dump(recommendations=300, assessments=600, seed=7)
    second = _generate_and_dump(recommendations=300, assessments=600, seed=7)

    assert len(first["recommendations"]) == 300
    assert len(first["assessments"]) == 600
    assert first["organisations"] and first["users"] and first["memberships"]
    assert first == second


def test_different_seed_generates_different_data():
    first = _generate_and_dump(recommendations=300, assessments=600, seed=7)
    other = _generate_and_dump(recommendations=300, assessments=600, seed=8)

    assert len(other["recommendations"]) == 300
    assert first["reviews"] != other["reviews"]
    assert [rec[3] for rec in first["recommendations"]] != [rec[3] for rec in other["recommendations"]]
    assert first["assessments"] != other["assessments"]


def test_proportions_follow_the_real_data():
    result = dataset_generate(recommendations=5000, assessments=10000, seed=11)

    recs = Recommendation.objects.filter(kind=Recommendation.Kind.RECOMMENDATION)
    n = recs.count()
    pledges = Recommendation.objects.filter(kind=Recommendation.Kind.VOLUNTARY_PLEDGE).count()
    assert n + pledges == 5000 == result["recommendations"] + result["voluntary_pledges"]
    assert 0.01 < pledges / 5000 < 0.035
    accepted = recs.filter(response=Recommendation.Response.ACCEPTED).count()
    assert accepted / n == pytest.approx(0.742, abs=0.025)
    assert recs.filter(response=Recommendation.Response.NOTED).count() == n - accepted
    by_category = dict(recs.values_list("action_category").annotate(n=Count("id")))
    accepted_by_category = dict(
        recs.filter(response=Recommendation.Response.ACCEPTED).values_list("action_category").annotate(n=Count("id"))
    )
    for category, real_count, real_accepted in zip(
        range(1, 6), (603, 6981, 3449, 16261, 13772), (0.9602, 0.9556, 0.5738, 0.8424, 0.5479), strict=True
    ):
        assert by_category[category] / n == pytest.approx(real_count / 41066, abs=0.02)
        tolerance = 0.12 if category == 1 else 0.05  # category 1 has only ~70 rows here
        assert accepted_by_category[category] / by_category[category] == pytest.approx(real_accepted, abs=tolerance)

    issue_counts = Counter(
        Recommendation.objects.annotate(n=Count("issues")).values_list("n", flat=True)
    )  # issues per recommendation -> how many recommendations
    assert set(issue_counts) <= {1, 2, 3, 4, 5, 6}
    assert issue_counts[1] / 5000 == pytest.approx(0.489, abs=0.04)
    assert sum(k * c for k, c in issue_counts.items()) / 5000 == pytest.approx(1.78, abs=0.08)
    state_counts = Counter(recs.annotate(n=Count("recommending_states")).values_list("n", flat=True))
    assert set(state_counts) <= {1, 2, 3, 4}
    assert state_counts[1] / n > 0.8 and state_counts[2] > 0

    consolidated = _consolidated_mid_term()
    response_of = dict(Recommendation.objects.filter(id__in=consolidated).values_list("id", "response"))
    triggered = {"partially_implemented", "fully_implemented"}

    def share(responses, statuses):
        ids = [i for i in consolidated if response_of[i] in responses]
        return sum(consolidated[i] in statuses for i in ids) / len(ids)

    assert len(consolidated) > 1500
    assert share({"accepted", "noted"}, triggered) == pytest.approx(0.48, abs=0.05)
    assert share({"accepted"}, triggered) == pytest.approx(0.55, abs=0.05)
    assert share({"noted"}, triggered) == pytest.approx(0.19, abs=0.06)
    assert share({"accepted", "noted"}, {"fully_implemented"}) == pytest.approx(0.10, abs=0.04)
    phases = dict(Assessment.objects.values_list("phase").annotate(n=Count("id")))
    assert phases["mid_term"] > 3 * phases["next_review"] > 0
    statuses = dict(Assessment.objects.values_list("status").annotate(n=Count("id")))
    assert 0 < statuses["no_information"] < 0.12 * 10000
    visibility = dict(Assessment.objects.values_list("visibility").annotate(n=Count("id")))
    assert visibility["public"] > 0.75 * 10000


def test_generated_rows_respect_the_domain_rules():
    dataset_generate(recommendations=3000, assessments=6000, seed=5)

    reviews = list(Review.objects.values("id", "state_id", "session__number", "session__cycle_id", "report_symbol"))
    assert len({(r["state_id"], r["session__cycle_id"]) for r in reviews}) == len(reviews)  # once per cycle
    assert max(Counter(r["session__number"] for r in reviews).values()) <= 17  # ~14 per session (16 in cycle 1)
    assert len({r["report_symbol"].upper() for r in reviews}) == len(reviews)
    assert all(r["report_symbol"].startswith("A/HRC/") for r in reviews)
    duplicates = (
        Recommendation.objects.exclude(paragraph_ref="")
        .values("review_id", "paragraph_ref")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
    recommendations = Recommendation.objects.filter(kind=Recommendation.Kind.RECOMMENDATION)
    assert recommendations.filter(paragraph_ref="").count() == 0
    assert not recommendations.filter(recommending_states=F("review__state")).exists()
    for rec in recommendations.filter(action_category=2)[:50]:
        assert rec.text.startswith(("Continue", "Pursue")), rec.text
    for rec in recommendations.filter(action_category=3)[:50]:
        assert rec.text.startswith(("Consider", "Study", "Review", "Explore")), rec.text
    assert not (
        Assessment.objects.values("recommendation_id", "organisation_id", "phase")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .exists()
    )
    # National organisations (a ministry, an NHRI) assess only their own state's recommendations.
    assert not (
        Assessment.objects.filter(organisation__country__isnull=False)
        .exclude(organisation__country=F("recommendation__review__state"))
        .exists()
    )
    early = Assessment.objects.filter(assessed_on__lte=F("recommendation__review__adoption_date"))
    assert not early.exists()


def test_generated_rows_carry_the_browse_columns_the_triggers_would_compute():
    """The generator writes session, search vector, id arrays and mid-term status itself (the triggers stand aside
    for its load): each must equal what the triggers and followup.status compute for the same rows."""
    from followup.status import implementation_status_refresh

    dataset_generate(recommendations=2000, assessments=6000, seed=7)
    checks = {
        "session": """SELECT COUNT(*) FROM recommendations_recommendation c JOIN reviews_review r ON r.id = c.review_id
            JOIN reviews_session s ON s.id = r.session_id WHERE c.session_number IS DISTINCT FROM s.number""",
        "vector": """SELECT COUNT(*) FROM recommendations_recommendation
            WHERE search_vector IS DISTINCT FROM to_tsvector('english', text)""",
        "states": """SELECT COUNT(*) FROM recommendations_recommendation c WHERE recommending_state_ids IS DISTINCT FROM
            (SELECT array_agg(state_id ORDER BY state_id) FROM recommendations_recommendation_recommending_states l
             WHERE l.recommendation_id = c.id)""",
        "issues": """SELECT COUNT(*) FROM recommendations_recommendation c WHERE issue_ids IS DISTINCT FROM
            (SELECT array_agg(issue_id ORDER BY issue_id) FROM recommendations_recommendation_issues l
             WHERE l.recommendation_id = c.id)""",
    }
    with connection.cursor() as cursor:
        for name, sql in checks.items():
            cursor.execute(sql)
            assert cursor.fetchone()[0] == 0, name
        cursor.execute(
            "SELECT COUNT(*) FROM recommendations_recommendation "
            "WHERE kind = 'voluntary_pledge' AND search_vector IS NOT NULL"
        )
        assert cursor.fetchone()[0] > 0  # pledges too (their text names their state)
        cursor.execute("SELECT current_setting('uprtrax.bulk_load', true)")
        assert cursor.fetchone()[0] in (None, "", "off")  # the triggers are back for the rest of the transaction
    assert Recommendation.objects.exclude(implementation_status="").count() > 500
    assert implementation_status_refresh() == 0  # the status rule's own computation changes nothing
    # And the triggers work again for ordinary writes in the same transaction.
    one = Recommendation.objects.filter(kind=Recommendation.Kind.RECOMMENDATION).first()
    Recommendation.objects.filter(pk=one.pk).update(text="Abolish the death penalty")
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM recommendations_recommendation WHERE id = %s", [one.pk])
        assert "'penalti'" in cursor.fetchone()[0]


def test_voluntary_pledges_have_no_response_and_are_the_state_s_own():
    dataset_generate(recommendations=3000, assessments=0, seed=3)

    pledges = Recommendation.objects.filter(kind=Recommendation.Kind.VOLUNTARY_PLEDGE).select_related("review__state")
    assert pledges.exists()
    for pledge in pledges.prefetch_related("recommending_states"):
        assert pledge.response == ""
        assert pledge.response_original == "Voluntary Pledge"
        assert pledge.paragraph_ref == ""
        assert [s.pk for s in pledge.recommending_states.all()] == [pledge.review.state_id]
        assert pledge.text.startswith(pledge.review.state.short_name)


def test_a_review_never_holds_the_same_pledge_twice():
    # The demo's size and seed once drew one pledge text twice in a review: both rows shared a natural key.
    dataset_generate(recommendations=20000, assessments=0, seed=2026)
    pledges = Recommendation.objects.filter(kind=Recommendation.Kind.VOLUNTARY_PLEDGE)
    assert pledges.count() > 300
    repeated = pledges.values("review", "text").annotate(n=Count("id")).filter(n__gt=1)
    assert not repeated.exists()


def test_an_error_midway_leaves_nothing_behind(monkeypatch):
    before = _table_counts()

    def failing_assessments(**kwargs):
        yield from []
        raise RuntimeError("disk full")

    monkeypatch.setattr(dataset_service, "assessment_rows", failing_assessments)
    with pytest.raises(RuntimeError, match="disk full"):
        dataset_generate(recommendations=500, assessments=100, seed=1)

    assert _table_counts() == before
    with connection.cursor() as cursor:  # foreign-key triggers are back on for the rest of the transaction
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"


def test_assessments_beyond_what_organisations_can_make_are_refused_before_writing():
    before = _table_counts()

    with pytest.raises(DatasetError, match="do not fit"):
        dataset_generate(recommendations=100, assessments=100_000, seed=1, organisations=3)

    assert _table_counts() == before


def test_a_second_run_adds_reviews_in_free_slots_of_the_calendar():
    first = dataset_generate(recommendations=2000, assessments=1000, seed=1)
    again = dataset_generate(recommendations=2000, assessments=1000, seed=1)
    other = dataset_generate(recommendations=2000, assessments=1000, seed=2)

    assert Recommendation.objects.count() == 6000
    assert Assessment.objects.count() == 3000
    assert Review.objects.count() == first["reviews"] + again["reviews"] + other["reviews"]
    pairs = list(Review.objects.values_list("state_id", "session__cycle_id"))
    assert len(set(pairs)) == len(pairs)  # still one review per state and cycle
    per_session = Counter(Review.objects.values_list("session__number", flat=True))
    assert max(per_session.values()) <= 17  # sessions do not overfill
    assert again["organisations_created"] < again["organisations"]  # organisations of the same name are reused


def test_generate_dataset_command_prints_a_summary():
    out = io.StringIO()

    call_command("generate_dataset", "--recommendations", "400", "--assessments", "500", "--seed", "4", stdout=out)

    assert Recommendation.objects.count() == 400
    assert Assessment.objects.count() == 500
    assert "500 assessments" in out.getvalue()
    assert "Seconds:" in out.getvalue()


def test_generate_dataset_command_reports_bad_arguments():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("generate_dataset", "--recommendations", "0", stdout=io.StringIO())


@override_settings(DEBUG=False)
def test_demo_setup_refuses_without_debug(tmp_path):
    login = tmp_path / ".demo-login"

    with pytest.raises(DemoSetupRefused, match="DEBUG"):
        demo_setup(login_file=login, recommendations=200, assessments=200)
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_setup", "--login-file", str(login), stdout=io.StringIO())

    assert not login.exists()
    assert not get_user_model().objects.filter(username="admin").exists()
    assert not Recommendation.objects.exists()


@override_settings(DEBUG=True)
def test_demo_setup_is_idempotent(tmp_path):
    login = tmp_path / ".demo-login"

    first = demo_setup(login_file=login, recommendations=300, assessments=300)
    counts = _table_counts()
    second = demo_setup(login_file=login, recommendations=300, assessments=300)

    assert first.dataset is not None and first.dataset["assessments"] == 300
    assert second.dataset is None
    assert _table_counts() == counts
    assert first.admin == "created" and second.admin == "unchanged"
    assert first.password == second.password == login.read_text().strip()
    assert login.stat().st_mode & 0o077 == 0
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password(first.password)


@override_settings(DEBUG=True)
def test_demo_setup_restores_the_admin_password_kept_in_the_login_file(tmp_path):
    login = tmp_path / ".demo-login"
    login.write_text("kept-password-123\n")
    get_user_model().objects.create_user("admin", password="changed", is_staff=False)

    result = demo_setup(login_file=login, recommendations=100, assessments=0)

    admin = get_user_model().objects.get(username="admin")
    assert result.admin == "updated"
    assert admin.check_password("kept-password-123") and admin.is_superuser and admin.is_staff


@override_settings(DEBUG=True)
def test_demo_setup_command_prints_the_login_on_every_run(tmp_path):
    login = tmp_path / ".demo-login"
    outputs = []
    for _ in range(2):
        out = io.StringIO()
        call_command(
            "demo_setup", "--login-file", str(login), "--recommendations", "100", "--assessments", "50", stdout=out
        )
        outputs.append(out.getvalue())

    password = login.read_text().strip()
    line = f"Demo admin login: admin / {password}  (http://127.0.0.1:8000/admin/)"
    assert line in outputs[0] and line in outputs[1]
    assert "Generated on postgresql" in outputs[0]
    assert "nothing generated" in outputs[1]


def test_demo_setup_on_sqlite_generates_through_batched_inserts(tmp_path):
    """`make run`'s path: SQLite, in a fresh interpreter (settings are read at import), twice."""
    database, login = tmp_path / "demo.sqlite3", tmp_path / ".demo-login"
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DATABASE_URL": f"sqlite:///{database}"}
    env |= {"DJANGO_DEBUG": "1", "PYTHONDONTWRITEBYTECODE": "1"}

    def manage(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
            [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput", "-v0")
    setup = ("demo_setup", "--login-file", str(login), "--recommendations", "300", "--assessments", "400")
    first, second = manage(*setup), manage(*setup)

    password = login.read_text().strip()
    assert f"Demo admin login: admin / {password}  (http://127.0.0.1:8000/admin/)" in first
    assert "Generated on sqlite" in first and "nothing generated" in second
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM recommendations_recommendation").fetchone() == (300,)
        assert db.execute("SELECT COUNT(*) FROM followup_assessment").fetchone() == (400,)
        assert db.execute("SELECT COUNT(*) FROM followup_user WHERE is_superuser").fetchone() == (1,)
        (created,) = db.execute("SELECT MIN(created_at) FROM recommendations_recommendation").fetchone()
    assert created.endswith(" 12:00:00")  # from the data, not the clock

    # The statistics on SQLite: the demo's own commit computed them in-process (no broker), and the command
    # runs the portable SQL.
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT COUNT(*) FROM followup_statisticssnapshot WHERE cycle = 0").fetchone() == (10,)
        (recommendations,) = db.execute(
            "SELECT COUNT(*) FROM recommendations_recommendation WHERE kind = 'recommendation'"
        ).fetchone()
    printed = json.loads(manage("compute_statistics", "--json", "--rule", "latest"))
    assert printed["rule"] == "latest" and printed["overall"]["recommendations"] == recommendations
    assert 0 < printed["overall"]["assessed"] <= recommendations
    assert sum(g["recommendations"] for g in printed["by"]["cycle"].values()) == recommendations
