"""The admin site: every model is there, its pages open, and the big lists stay cheap at scale."""

import datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.db.models import Q
from django.urls import reverse

from followup.models import (
    ApiToken,
    Assessment,
    DataDump,
    Invitation,
    Membership,
    Organisation,
    StatisticsRecompute,
    StatisticsSnapshot,
    User,
)
from recommendations.models import ImportMapping, ImportRun, Issue, Recommendation
from reviews.models import Cycle, IntergovernmentalOrganisation, RegionalGroup, Review, Session, State, StateAlias
from tests.factories import (
    AssessmentFactory,
    MembershipFactory,
    OrganisationFactory,
    RecommendationFactory,
    ReviewFactory,
    UserFactory,
)
from uprtrax.admin_paginator import EXACT_COUNT_BELOW, EstimatedCountPaginator, row_count

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="planner estimates exist on PostgreSQL")


@pytest.fixture
def one_of_each():
    """One object of every model, with a word to search it by."""
    assessment = AssessmentFactory(
        organisation=OrganisationFactory(name="Amnesty Testland", slug="amnesty-testland"),
        comment="The ombudsman was appointed in 2014.",
    )
    membership = MembershipFactory(organisation=assessment.organisation, user=UserFactory(username="zelda"))
    alias = StateAlias.objects.create(state=State.objects.get(iso3="FRA"), name="Frankreichland")
    group = RegionalGroup.objects.get(states__iso3="FRA")
    organisation_of_states = IntergovernmentalOrganisation.objects.create(acronym="UPRTEST", name="Test union")
    mapping = ImportMapping.objects.create(
        name="Ministry spreadsheet", mapping={"columns": {"Pays": "state_under_review"}}
    )
    return {
        RegionalGroup: (group, group.code),
        IntergovernmentalOrganisation: (organisation_of_states, "UPRTEST"),
        State: (State.objects.get(iso3="FRA"), "France"),
        StateAlias: (alias, "Frankreichland"),
        Cycle: (Cycle.objects.get(number=2), "2"),
        Session: (Session.objects.get(number=15), "15"),
        Review: (assessment.recommendation.review, "France"),
        Issue: (Issue.objects.get(name="Torture and other CID treatment"), "Torture"),
        Recommendation: (assessment.recommendation, "Optional Protocol"),
        Organisation: (assessment.organisation, "Amnesty"),
        Membership: (membership, "zelda"),
        Assessment: (assessment, "ombudsman"),
        User: (membership.user, "zelda"),
        ImportMapping: (mapping, "Ministry"),
    }


ADMIN_MODELS = [
    RegionalGroup,
    IntergovernmentalOrganisation,
    State,
    StateAlias,
    Cycle,
    Session,
    Review,
    Issue,
    Recommendation,
    Organisation,
    Membership,
    Assessment,
    User,
    ImportMapping,
]
# Written by the import service only: listed and shown, never added or changed by hand.
READ_ONLY_ADMIN_MODELS = [
    ImportRun,
    Invitation,
    ApiToken,
    StatisticsSnapshot,
    StatisticsRecompute,
    DataDump,
    Assessment.history.model,
]
BIG_TABLES = [Review, Recommendation, Assessment]


def _url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_the_project_apps_is_registered():
    project_models = [
        model
        for label in ("reviews", "recommendations", "followup")
        for model in apps.get_app_config(label).get_models()
    ]
    registered = ADMIN_MODELS + READ_ONLY_ADMIN_MODELS
    assert sorted(m.__name__ for m in project_models) == sorted(m.__name__ for m in registered)
    assert [m.__name__ for m in project_models if not admin.site.is_registered(m)] == []


def test_import_runs_are_listed_and_shown_but_not_added_or_changed(admin_client):
    run = ImportRun.objects.create(file_name="1-5.csv", status=ImportRun.Status.SUCCEEDED, counts={"create": 3})
    assert admin_client.get(_url(ImportRun, "changelist"), {"q": "1-5"}).context["cl"].result_list[0] == run
    assert admin_client.get(_url(ImportRun, "change", run.pk)).status_code == 200
    assert admin_client.get(_url(ImportRun, "add")).status_code == 403
    admin_client.post(_url(ImportRun, "change", run.pk), {"file_name": "changed.csv"})
    run.refresh_from_db()
    assert run.file_name == "1-5.csv"


def test_admin_site_is_titled_uprtrax_administration(admin_client):
    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert "<title>Site administration | uprtrax administration</title>" in response.text
    assert "uprtrax administration</a>" in response.text


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda m: m.__name__)
def test_changelist_opens(admin_client, one_of_each, model):
    response = admin_client.get(_url(model, "changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda m: m.__name__)
def test_add_page_opens(admin_client, model):
    response = admin_client.get(_url(model, "add"))
    assert response.status_code == 200
    assert 'method="post"' in response.text


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda m: m.__name__)
def test_change_page_opens(admin_client, one_of_each, model):
    obj, _ = one_of_each[model]
    response = admin_client.get(_url(model, "change", obj.pk))
    assert response.status_code == 200
    assert response.context["original"] == obj


@pytest.mark.parametrize("model", ADMIN_MODELS, ids=lambda m: m.__name__)
def test_search_finds_the_object(admin_client, one_of_each, model):
    obj, term = one_of_each[model]
    response = admin_client.get(_url(model, "changelist"), {"q": term})
    assert response.status_code == 200
    assert obj in response.context["cl"].result_list
    assert _url(model, "change", obj.pk) in response.text


@pytest.mark.parametrize("model", [Review, Recommendation, Assessment, Cycle, Session], ids=lambda m: m.__name__)
def test_search_for_a_word_in_a_numeric_field_is_no_error(admin_client, one_of_each, model):
    response = admin_client.get(_url(model, "changelist"), {"q": "no-such-thing-anywhere"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_assessment_search_by_recommendation_id(admin_client, one_of_each):
    assessment, _ = one_of_each[Assessment]
    AssessmentFactory(organisation=OrganisationFactory(name="Another watcher", slug="another"))
    term = assessment.recommendation_id
    response = admin_client.get(_url(Assessment, "changelist"), {"q": str(term)})
    # The term is also an assessment id: that one is found too.
    expected = set(Assessment.objects.filter(Q(recommendation_id=term) | Q(pk=term)))
    assert assessment in expected
    assert set(response.context["cl"].result_list) == expected


def test_recommendation_search_by_a_number_finds_that_id_only(admin_client, one_of_each):
    recommendation, _ = one_of_each[Recommendation]
    RecommendationFactory(text=f"Adopt law no. {recommendation.pk} on torture")
    response = admin_client.get(_url(Recommendation, "changelist"), {"q": f" {recommendation.pk} "})
    assert list(response.context["cl"].result_list) == [recommendation]


@pytest.mark.parametrize("model", [Recommendation, Assessment], ids=lambda m: m.__name__)
def test_search_by_a_number_beyond_any_id_finds_nothing(admin_client, one_of_each, model):
    response = admin_client.get(_url(model, "changelist"), {"q": "9" * 30})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_recommendation_list_links_to_its_assessments(admin_client, one_of_each):
    assessment, _ = one_of_each[Assessment]
    AssessmentFactory()
    response = admin_client.get(_url(Recommendation, "changelist"))
    link = f"{_url(Assessment, 'changelist')}?recommendation__id__exact={assessment.recommendation_id}"
    assert link in response.text
    response = admin_client.get(link)
    assert list(response.context["cl"].result_list) == [assessment]


@pytest.mark.parametrize("model", BIG_TABLES, ids=lambda m: m.__name__)
def test_big_table_uses_the_estimating_paginator_without_full_count(admin_client, one_of_each, model):
    response = admin_client.get(_url(model, "changelist"))
    changelist = response.context["cl"]
    assert isinstance(changelist.paginator, EstimatedCountPaginator)
    assert changelist.full_result_count is None


@pytest.mark.parametrize("model", BIG_TABLES, ids=lambda m: m.__name__)
def test_big_table_offers_no_bulk_actions(admin_client, one_of_each, model):
    response = admin_client.get(_url(model, "changelist"))
    assert response.context["action_form"] is None


def _sixty_recommendations_with_assessments():
    reviews = [
        ReviewFactory(state=State.objects.get(iso3=iso3), session=Session.objects.get(number=number))
        for iso3, number in (("FRA", 15), ("BRA", 13), ("KEN", 21))
    ]
    organisations = [OrganisationFactory() for _ in range(3)]
    for n in range(60):
        recommendation = RecommendationFactory(review=reviews[n % 3], paragraph_ref=f"120.{n}")
        AssessmentFactory(recommendation=recommendation, organisation=organisations[n % 3], author=None)


def test_recommendation_changelist_queries_do_not_grow_with_rows(admin_client, django_assert_max_num_queries):
    _sixty_recommendations_with_assessments()
    with django_assert_max_num_queries(10):
        response = admin_client.get(_url(Recommendation, "changelist"))
    assert len(response.context["cl"].result_list) == 60
    assert "Brazil" in response.text  # recommending state, from the prefetch


def test_assessment_changelist_queries_do_not_grow_with_rows(admin_client, django_assert_max_num_queries):
    _sixty_recommendations_with_assessments()
    with django_assert_max_num_queries(8):
        response = admin_client.get(_url(Assessment, "changelist"))
    assert len(response.context["cl"].result_list) == 60


def test_review_changelist_counts_recommendations_per_review(admin_client, django_assert_max_num_queries):
    _sixty_recommendations_with_assessments()
    with django_assert_max_num_queries(9):
        response = admin_client.get(_url(Review, "changelist"))
    counts = {review.state.iso3: review.recommendation_count for review in response.context["cl"].result_list}
    assert counts == {"FRA": 20, "BRA": 20, "KEN": 20}


def test_recommendation_filters_by_issue_without_duplicates(admin_client):
    torture = Issue.objects.get(name="Torture and other CID treatment")
    other = Issue.objects.exclude(pk=torture.pk).first()
    both = RecommendationFactory(issues=[torture, other])
    RecommendationFactory(issues=[other])
    response = admin_client.get(_url(Recommendation, "changelist"), {"issue": torture.pk})
    assert list(response.context["cl"].result_list) == [both]
    response = admin_client.get(_url(Recommendation, "changelist"), {"issue": "not-a-number"})
    assert list(response.context["cl"].result_list) == []


def test_recommendation_changelist_filters_by_cycle_and_response(admin_client):
    cycle_two = RecommendationFactory(review=ReviewFactory(session=Session.objects.get(number=15)))
    RecommendationFactory(review=ReviewFactory(session=Session.objects.get(number=5)))
    RecommendationFactory(review=cycle_two.review, response=Recommendation.Response.NOTED)
    cycle = Cycle.objects.get(number=2)
    response = admin_client.get(
        _url(Recommendation, "changelist"),
        {"review__session__cycle__id__exact": cycle.pk, "response__exact": "accepted"},
    )
    assert list(response.context["cl"].result_list) == [cycle_two]


def test_assessment_list_links_from_organisation_filter_by_it(admin_client, one_of_each):
    assessment, _ = one_of_each[Assessment]
    AssessmentFactory()
    response = admin_client.get(_url(Organisation, "changelist"))
    link = f"{_url(Assessment, 'changelist')}?organisation__id__exact={assessment.organisation_id}"
    assert link in response.text
    response = admin_client.get(link)
    assert list(response.context["cl"].result_list) == [assessment]


def test_assessment_edit_in_admin_makes_a_new_version(admin_client, one_of_each):
    assessment, _ = one_of_each[Assessment]
    data = {
        "recommendation": assessment.recommendation_id,
        "organisation": assessment.organisation_id,
        "author": "",
        "phase": assessment.phase,
        "status": Assessment.Status.FULLY_IMPLEMENTED,
        "comment": "Done.",
        "evidence_urls": "[]",
        "assessed_on": "2016-01-31",
        "visibility": assessment.visibility,
    }
    response = admin_client.post(_url(Assessment, "change", assessment.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assessment.refresh_from_db()
    assert (assessment.status, assessment.version, assessment.assessed_on) == (
        Assessment.Status.FULLY_IMPLEMENTED,
        2,
        datetime.date(2016, 1, 31),
    )


def test_version_and_timestamps_are_read_only(admin_client, one_of_each):
    assessment, _ = one_of_each[Assessment]
    response = admin_client.get(_url(Assessment, "change", assessment.pk))
    form_fields = response.context["adminform"].form.fields
    assert {"version", "created_at", "updated_at"}.isdisjoint(form_fields)
    assert "recommendation" in form_fields


def test_user_admin_edits_and_filters_is_moderator(admin_client):
    user = UserFactory(username="plain")
    moderator = UserFactory(username="mo", is_moderator=True)
    response = admin_client.get(_url(User, "change", user.pk))
    assert "is_moderator" in response.context["adminform"].form.fields
    response = admin_client.get(_url(User, "changelist"), {"is_moderator__exact": "1"})
    assert list(response.context["cl"].result_list) == [moderator]


def test_big_foreign_keys_are_never_rendered_as_selects(admin_client, one_of_each):
    assessment, _ = one_of_each[Assessment]
    Recommendation.objects.bulk_create(
        [Recommendation(review=assessment.recommendation.review, text=f"Text {n}") for n in range(300)]
    )
    page = admin_client.get(_url(Assessment, "change", assessment.pk)).text
    recommendation_page = admin_client.get(_url(Recommendation, "change", assessment.recommendation.pk)).text
    assert page.count("<option") < 30
    assert recommendation_page.count("<option") < 30


@pytest.mark.parametrize("user_kind", ["anonymous", "not_staff"])
def test_admin_redirects_non_staff_to_login(client, user_kind):
    if user_kind == "not_staff":
        client.force_login(UserFactory(username="cso-member"))
    url = _url(Recommendation, "changelist")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('admin:login')}?next={url}"


# --- The estimating paginator -------------------------------------------------------------------------------------


def test_row_count_is_exact_for_a_small_table():
    RecommendationFactory.create_batch(3)
    result = row_count(Recommendation.objects.all())
    assert (result.rows, result.estimated) == (3, False)
    paginator = EstimatedCountPaginator(Recommendation.objects.order_by("pk"), 2)
    assert (paginator.count, paginator.num_pages, paginator.count_is_estimate) == (3, 2, False)


def test_row_count_is_exact_for_a_filtered_small_result():
    RecommendationFactory.create_batch(2)
    RecommendationFactory(response=Recommendation.Response.NOTED)
    assert row_count(Recommendation.objects.filter(response="noted")) == (1, False)
    assert row_count(Recommendation.objects.filter(pk=10**30)) == (0, False)  # beyond bigint: no SQL at all


def test_row_count_falls_back_to_count_for_lists_and_other_databases(monkeypatch):
    assert EstimatedCountPaginator(list(range(7)), 5).count == 7
    RecommendationFactory.create_batch(2)
    monkeypatch.setattr(connection, "vendor", "sqlite")
    assert row_count(Recommendation.objects.all(), exact_below=0) == (2, False)


@on_postgresql
def test_row_count_uses_the_planner_estimate_for_a_large_table(admin_client, monkeypatch):
    review = ReviewFactory()
    rows = 2 * EXACT_COUNT_BELOW
    Recommendation.objects.bulk_create(
        [Recommendation(review=review, text=f"Recommendation {n}") for n in range(rows)], batch_size=5000
    )
    table = Recommendation._meta.db_table
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
        unfiltered = row_count(Recommendation.objects.all())
        filtered = row_count(Recommendation.objects.filter(response="pending", review=review))
        none_noted = row_count(Recommendation.objects.filter(response="noted"))
        page = admin_client.get(_url(Recommendation, "changelist"))
        monkeypatch.setattr(connection, "vendor", "sqlite")
        on_sqlite = row_count(Recommendation.objects.all())
    finally:
        # ANALYZE writes pg_class in place, outside the test's transaction: leave the statistics as they were.
        # Nothing refers to these rows: deleting them without queueing 20,000 deferred foreign key checks (replica
        # role) keeps the teardown quick once earlier tests have bloated the link tables.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(f"DELETE FROM {table} WHERE review_id = %s", [review.pk])  # noqa: S608
            cursor.execute("SET LOCAL session_replication_role = origin")
            cursor.execute(f"ANALYZE {table}")
    assert unfiltered.estimated and abs(unfiltered.rows - rows) < rows * 0.1
    assert filtered.estimated and abs(filtered.rows - rows) < rows * 0.2
    assert none_noted == (0, False)
    assert on_sqlite == (rows, False)
    assert page.context["cl"].paginator.count_is_estimate
    assert page.text.count("about 20,") == 2  # the search bar's result count and the paginator's
