"""A recommendation's page: its text and facts, its recommending states and issues, and the timeline of what
stakeholders said about its implementation; bad addresses; a number of queries that does not grow with the data."""

import datetime
import html
import re

import pytest
from django.urls import reverse

from followup.models import Assessment, Organisation
from followup.status import implementation_status_refresh
from recommendations.models import Issue, Recommendation
from reviews.models import Session, State
from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

pytestmark = pytest.mark.django_db
S = Assessment.Status


def _state(iso3: str) -> State:
    return State.objects.get(iso3=iso3)


def _text(response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, whitespace collapsed (none inside brackets or
    before punctuation)."""
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())
    return re.sub(r"\( | (?=[),:.])", lambda match: match.group().strip(), text)


def _url(recommendation) -> str:
    return reverse("recommendations:recommendation_detail", kwargs={"pk": recommendation.pk})


@pytest.fixture
def recommendation():
    review = ReviewFactory(state=_state("KEN"), session=Session.objects.get(number=35), report_symbol="A/HRC/44/9")
    recommendation = RecommendationFactory(
        review=review,
        text="Adopt a law against female genital mutilation & enforce it",
        response=Recommendation.Response.NOTED,
        response_original="Noted",
        action_category=Recommendation.ActionCategory.GENERAL,
        paragraph_ref="142.17",
        recommending_states=[_state("DEU"), _state("BRA")],
        issues=[Issue.objects.get(name="Women's rights"), Issue.objects.get(name="Rights of the Child")],
    )
    cso = OrganisationFactory(name="Kenya Women Watch", kind=Organisation.Kind.CSO)
    nhri = OrganisationFactory(name="Kenya National Commission on Human Rights", kind=Organisation.Kind.NHRI)
    AssessmentFactory(
        recommendation=recommendation, organisation=nhri, status=S.NOT_IMPLEMENTED,
        assessed_on=datetime.date(2022, 5, 2), comment="No bill yet.\nA draft circulates.", evidence_urls=["https://knchr.example.org/report.pdf"],
    )  # fmt: skip
    AssessmentFactory(
        recommendation=recommendation, organisation=cso, status=S.PARTIALLY_IMPLEMENTED,
        assessed_on=datetime.date(2021, 11, 20), comment="<script>alert(1)</script> Funding announced.",
        evidence_urls=["javascript:alert(1)"],
    )  # fmt: skip
    AssessmentFactory(
        recommendation=recommendation, organisation=cso, status=S.FULLY_IMPLEMENTED, phase=Assessment.Phase.NEXT_REVIEW,
        assessed_on=datetime.date(2024, 1, 10), comment="Law adopted in 2023.", evidence_urls=[],
    )  # fmt: skip
    AssessmentFactory(
        recommendation=recommendation, organisation=OrganisationFactory(name="Drafting Org"),
        status=S.FULLY_IMPLEMENTED, comment="Unpublished draft", visibility=Assessment.Visibility.DRAFT,
    )  # fmt: skip
    implementation_status_refresh()
    return recommendation


def test_page_shows_the_text_and_every_fact(client, recommendation):
    response = client.get(_url(recommendation))
    text = _text(response)
    assert response.status_code == 200
    assert "Recommendation to Kenya" in text
    assert "Adopt a law against female genital mutilation & enforce it" in text
    assert "Session 35" in text and "Cycle 3" in text
    assert "Noted as worded in the source: “Noted”" in text
    assert "4 – General action" in text
    assert "Working Group report A/HRC/44/9, paragraph 142.17" in text
    assert "Implementation at mid-term Not implemented" in text  # the lower status of a tie between two


def test_recommending_states_come_with_their_regional_group_and_link_to_their_pages(client, recommendation):
    response = client.get(_url(recommendation))
    body = response.content.decode()
    assert "Brazil (GRULAC), Germany (WEOG)" in _text(response)  # by name
    assert '<abbr title="Western European and other States Group">WEOG</abbr>' in body
    for link in ('href="/states/DEU/"', 'href="/states/KEN/"', 'href="/sessions/35/"', 'href="/cycles/3/"'):
        assert link in body


def test_issues_link_to_the_search_filtered_by_each(client, recommendation):
    body = client.get(_url(recommendation)).content.decode()
    for issue in recommendation.issues.all():
        assert f'href="/recommendations/?issue={issue.slug}"' in body
        assert client.get(f"/recommendations/?issue={issue.slug}").context["page"].total == 1


def test_timeline_lists_public_assessments_by_date_with_phase_stakeholder_and_kind(client, recommendation):
    response = client.get(_url(recommendation))
    text = _text(response)
    when = [text.index(date) for date in ("20 November 2021", "2 May 2022", "10 January 2024")]
    assert when == sorted(when)
    assert "20 November 2021 · Mid-term Kenya Women Watch (Civil society organisation): Partially implemented" in text
    assert "(National human rights institution): Not implemented" in text
    assert "10 January 2024 · Next review Kenya Women Watch" in text
    assert "Unpublished draft" not in text and "Drafting Org" not in text


def test_timeline_escapes_comments_keeps_their_lines_and_links_only_web_evidence(client, recommendation):
    body = client.get(_url(recommendation)).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "No bill yet.<br>A draft circulates." in body
    assert re.search(r'<a href="https://knchr\.example\.org/report\.pdf" rel="nofollow noopener[^"]*">', body)
    assert "javascript:alert" not in body


def test_a_recommendation_without_assessments_says_so(client):
    recommendation = RecommendationFactory()
    text = _text(client.get(_url(recommendation)))
    assert "No public assessment of this recommendation yet." in text
    assert "Implementation at mid-term Not assessed" in text


def test_a_voluntary_pledge_reads_as_a_pledge(client):
    pledge = RecommendationFactory(
        kind=Recommendation.Kind.VOLUNTARY_PLEDGE, response=Recommendation.Response.NOT_APPLICABLE,
        recommending_states=[], text="France pledges to report",
    )  # fmt: skip
    text = _text(client.get(_url(pledge)))
    assert "Pledge by France" in text and "Voluntary pledge" in text


def test_queries_do_not_grow_with_states_issues_or_assessments(client, recommendation, django_assert_max_num_queries):
    with django_assert_max_num_queries(5) as few:
        client.get(_url(recommendation))
    recommendation.recommending_states.set(State.objects.order_by("iso3")[:40])
    recommendation.issues.set(Issue.objects.all()[:6])
    for n in range(30):
        AssessmentFactory(recommendation=recommendation, organisation=OrganisationFactory(name=f"Org {n}"))
    with django_assert_max_num_queries(len(few)):
        response = client.get(_url(recommendation))
    assert _text(response).count("Partially implemented") >= 31


@pytest.mark.parametrize(
    "url",
    [
        "/recommendations/999999999/",
        "/recommendations/0/",
        "/recommendations/-1/",
        "/recommendations/abc/",
        "/recommendations/1e5/",
        "/recommendations/99999999999999999999999999999/",
    ],
)
def test_bad_recommendation_addresses_are_404_never_500(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "Not found" in _text(response)


def test_unknown_recommendation_names_its_number(client):
    assert "No recommendation with number 999999999." in _text(client.get("/recommendations/999999999/"))
