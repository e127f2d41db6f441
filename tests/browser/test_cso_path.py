"""A CSO member's path in Chromium: log in, find a state's recommendations, assess a cluster at once, refine one,
see it on the public recommendation page; and two colleagues editing the same assessment from two browsers."""

import re

import pytest

from tests.browser.conftest import DESKTOP, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def cso(live_site):
    """Ligue kenyane des droits humains with two members, and four recommendations to Kenya on women's rights."""
    from followup.models import Membership
    from recommendations.models import Issue, Recommendation
    from tests.factories import MembershipFactory, OrganisationFactory, RecommendationFactory, UserFactory

    ligue = OrganisationFactory(name="Ligue kenyane des droits humains", slug="ligue-kenyane")
    amina = UserFactory(username="amina", first_name="Amina", last_name="Odhiambo")
    ben = UserFactory(username="ben", first_name="Ben", last_name="Mwangi")
    MembershipFactory(user=amina, organisation=ligue, role=Membership.Role.MEMBER)
    MembershipFactory(user=ben, organisation=ligue, role=Membership.Role.EDITOR)
    women = Issue.objects.get(name="Women's rights")
    cluster = [
        RecommendationFactory(review=live_site.shelters.review, text=text, issues=[women],
                              response=Recommendation.Response.ACCEPTED)
        for text in ("Criminalise marital rape", "Adopt a law against female genital mutilation",
                     "Ensure equal pay for women and men")
    ]  # fmt: skip
    return ligue, [live_site.shelters, *cluster]


def _log_in(tab, live_site, username: str, then: str) -> None:
    page = tab.page
    page.goto(f"{live_site.url}/accounts/login/?next={then}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(re.escape(then)))


def test_a_cso_member_assesses_a_cluster_refines_one_and_the_public_sees_it(
    browser, live_site, cso, desktop, assert_accessible
):
    from followup.models import Assessment

    ligue, cluster = cso
    page = desktop.page
    # Log in, then the state's recommendations, narrowed to one issue with the facet.
    _log_in(desktop, live_site, "amina", "/states/KEN/")
    assert "Amina Odhiambo" in page.locator(".account-nav").inner_text()
    page.get_by_role("link", name="Read them all").click()
    page.wait_for_url(re.compile(r"sur=KEN"))
    page.locator("#results").get_by_text("Criminalise marital rape").wait_for()
    page.get_by_role("checkbox", name=re.compile("^Women's rights")).check()
    page.wait_for_url(re.compile(r"issue=womens-rights"))
    assert page.locator("#results").get_attribute("data-total") == "4"

    # Assess all four at once.
    page.get_by_role("button", name="Assess all 4 matching").click()
    page.get_by_role("heading", name="One assessment for all 4").wait_for()
    assert_accessible(page)
    desktop.screenshot("cso-bulk")
    page.get_by_label("Partially implemented").check()
    page.get_by_label("Comment").fill("A national action plan on gender was adopted in 2023; no budget yet.")
    page.get_by_label("Public").check()
    page.get_by_role("button", name="Save 4 assessments").click()
    page.get_by_text("Created").wait_for()
    assert Assessment.objects.filter(organisation=ligue, status="partially_implemented").count() == 4

    # Refine one on its own page.
    marital_rape = cluster[1]
    page.goto(f"{live_site.url}/recommendations/{marital_rape.pk}/")
    form = page.locator("form.assess__form")
    assert form.get_by_label("Comment").input_value().startswith("A national action plan")
    form.get_by_label("Fully implemented").check()
    form.get_by_label("Comment").fill("The Sexual Offences (Amendment) Act 2024 criminalises marital rape.")
    form.get_by_role("button", name="Save").click()
    page.get_by_role("status").or_(page.locator(".messages")).first.wait_for()
    assert_accessible(page)
    desktop.screenshot("cso-refined")
    desktop.assert_clean()

    # The public page, seen by someone not logged in.
    context, anonymous = open_tab(browser, live_site, viewport=DESKTOP)
    try:
        anonymous.page.goto(f"{live_site.url}/recommendations/{marital_rape.pk}/")
        timeline = anonymous.page.locator(".timeline")
        assert "Ligue kenyane des droits humains" in timeline.inner_text()
        assert "Fully implemented" in timeline.inner_text()
        assert "Sexual Offences (Amendment) Act 2024" in timeline.inner_text()
        assert anonymous.page.locator("form.assess__form").count() == 0
        anonymous.page.goto(f"{live_site.url}/recommendations/{cluster[2].pk}/")
        assert "Partially implemented" in anonymous.page.locator(".timeline").inner_text()
        anonymous.assert_clean()
    finally:
        context.close()


def test_a_conflicting_edit_from_a_second_browser_is_refused_and_shows_the_other_version(browser, live_site, cso):
    from followup.models import Assessment
    from followup.services.assessments import assessment_input, assessment_record

    ligue, cluster = cso
    recommendation = cluster[1]
    amina = ligue.members.get(username="amina")
    given = assessment_input(status="not_implemented", comment="No law yet.", visibility="organisation")
    assessment_record(user=amina, organisation=ligue, recommendation=recommendation, version=None, given=given)
    url = f"/recommendations/{recommendation.pk}/"
    tabs = []
    try:
        for username in ("amina", "ben"):
            context, tab = open_tab(browser, live_site, viewport=DESKTOP)
            tabs.append((context, tab))
            _log_in(tab, live_site, username, url)
        (_, amina_tab), (_, ben_tab) = tabs
        for tab in (amina_tab, ben_tab):
            tab.page.locator("form.assess__form").get_by_label("Comment").wait_for()
        # Ben saves first.
        ben_form = ben_tab.page.locator("form.assess__form")
        ben_form.get_by_label("Comment").fill("A bill is before Parliament (Ben).")
        ben_form.get_by_role("button", name="Save").click()
        ben_tab.page.wait_for_load_state()
        assert Assessment.objects.get(recommendation=recommendation).comment == "A bill is before Parliament (Ben)."
        # Amina, on the page she opened before Ben saved, saves her own words: refused, nothing lost.
        amina_form = amina_tab.page.locator("form.assess__form")
        amina_form.get_by_label("Partially implemented").check()
        amina_form.get_by_label("Comment").fill("Consultations have started (Amina).")
        amina_form.get_by_role("button", name="Save").click()
        conflict = amina_tab.page.locator(".assess__theirs")
        conflict.wait_for()
        amina_tab.screenshot("cso-conflict")
        assert "A bill is before Parliament (Ben)." in conflict.inner_text()
        assert "Ben Mwangi" in conflict.inner_text()
        assert amina_tab.page.locator("form.assess__form").get_by_label("Comment").input_value() == (
            "Consultations have started (Amina)."
        )
        assert Assessment.objects.get(recommendation=recommendation).comment == "A bill is before Parliament (Ben)."
        # Having read Ben's version, she saves hers knowingly.
        amina_tab.page.get_by_role("button", name="Save mine, replacing theirs").click()
        amina_tab.page.wait_for_load_state()
        saved = Assessment.objects.get(recommendation=recommendation)
        assert (saved.comment, saved.version) == ("Consultations have started (Amina).", 3)
        assert [h.comment for h in saved.history.order_by("history_id")] == [
            "No law yet.", "A bill is before Parliament (Ben).", "Consultations have started (Amina).",
        ]  # fmt: skip
        # The refused save answered 409 Conflict (the browser logs that status); nothing else went wrong.
        assert amina_tab.console_errors == [
            "Failed to load resource: the server responded with a status of 409 (Conflict)"
        ]
        amina_tab.console_errors.clear()
        for _, tab in tabs:
            tab.assert_clean()
    finally:
        for context, _ in tabs:
            context.close()
