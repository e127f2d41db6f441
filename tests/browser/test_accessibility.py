"""axe-core (shipped inside axe-playwright-python, nothing loaded from another site) on every public page, at a
desktop and a phone width: no serious or critical violation, and nothing wider than the screen. Plus print."""

import pytest

from tests.browser.axe import describe_violations
from tests.browser.conftest import DESKTOP, MOBILE, open_tab

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/recommendations/",
    "/recommendations/?q=torture",
    "/recommendations/?q=optional+protocol&response=accepted",
    "/recommendations/?sur_region=WEOG&status=partially_implemented&sort=date",
    "/recommendations/?sur=XYZ&page=abc",  # the page with a form error
    "/recommendations/?q=zzzzqqqq",  # no result
    "/recommendations/{ratify}/",
    "/states/",
    "/states/FRA/",  # a state under review
    "/states/SWE/",  # a recommending state only
    "/sessions/",
    "/sessions/15/",
    "/sessions/20/prepare/",
    "/cycles/",
    "/cycles/1/",
    "/statistics/",
]


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_serious_accessibility_violation_and_fits_the_screen(
    browser, live_site, assert_accessible, path, viewport
):
    context, tab = open_tab(browser, live_site, viewport=viewport)
    page = tab.page
    response = page.goto(live_site.url + path.format(ratify=live_site.ratify.pk))
    assert response.status == 200
    assert page.get_by_role("main").count() == 1
    assert page.get_by_role("heading", level=1).count() == 1
    assert_accessible(page)
    # Nothing overflows sideways (wide tables scroll inside their own box).
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    tab.assert_clean()
    context.close()


def test_next_session_page_is_accessible(desktop, live_site, assert_accessible):
    """/sessions/next/ redirects to the coming session's preparation, or says there is none (404, still a page)."""
    response = desktop.page.goto(live_site.url + "/sessions/next/")
    assert response.status in (200, 404)
    assert_accessible(desktop.page)


def test_not_found_page_is_accessible(desktop, live_site, assert_accessible):
    response = desktop.page.goto(live_site.url + "/states/XYZ/")
    assert response.status == 404
    assert_accessible(desktop.page)


def test_axe_report_names_rule_impact_targets_and_help(desktop, live_site):
    """The failure message a person reads when a page regresses: checked on a page broken on purpose."""
    from tests.browser.axe import axe_violations

    page = desktop.page
    page.goto(live_site.url + "/")
    page.evaluate(
        """() => {
            const img = document.createElement('img');
            img.id = 'broken-on-purpose';
            img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
            document.querySelector('main').append(img);
        }"""
    )
    violations = axe_violations(page)
    assert [violation["id"] for violation in violations] == ["image-alt"]
    report = describe_violations(violations)
    assert "image-alt (critical)" in report
    assert "#broken-on-purpose" in report
    assert "alternative text" in report


@pytest.mark.parametrize(
    "path", ["/recommendations/?q=optional+protocol", "/recommendations/{ratify}/", "/states/FRA/", "/sessions/15/"]
)
def test_print_shows_the_content_without_navigation_or_filters(browser, live_site, path):
    context, tab = open_tab(browser, live_site, viewport=DESKTOP)
    page = tab.page
    page.goto(live_site.url + path.format(ratify=live_site.ratify.pk))
    page.emulate_media(media="print")
    for hidden in [".site-nav", ".site-search", ".nav-toggle", ".skip-link", ".site-footer", ".facets", ".pagination"]:
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.locator("main").inner_text().strip()
    # Black text on white paper whatever the screen's colour scheme.
    colours = page.evaluate("[getComputedStyle(document.body).color, getComputedStyle(document.body).backgroundColor]")
    assert colours == ["rgb(0, 0, 0)", "rgb(255, 255, 255)"]
    if path.startswith("/recommendations/?"):
        assert not page.locator("form").filter(has=page.get_by_role("searchbox")).first.is_visible()
        assert page.locator(".rec__text").first.is_visible()
    context.close()


def test_print_keeps_a_recommendation_on_one_page(desktop, live_site):
    page = desktop.page
    page.goto(live_site.url + "/recommendations/")
    page.emulate_media(media="print")
    assert page.locator(".rec").first.evaluate("element => getComputedStyle(element).breakInside") == "avoid"


def test_print_is_black_on_white_even_when_the_screen_is_dark(browser, live_site):
    context, tab = open_tab(browser, live_site, viewport=DESKTOP, color_scheme="dark")
    page = tab.page
    page.goto(live_site.url + "/states/FRA/")
    screen_background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    page.emulate_media(media="print", color_scheme="dark")
    colours = page.evaluate(
        """() => {
            const style = element => getComputedStyle(element);
            return {
                text: style(document.body).color,
                background: style(document.body).backgroundColor,
                heading: style(document.querySelector('h1')).color,
                muted: style(document.documentElement).getPropertyValue('--color-muted').trim(),
            };
        }"""
    )
    assert screen_background != "rgb(255, 255, 255)"  # the page really was dark on screen
    assert colours == {
        "text": "rgb(0, 0, 0)",
        "background": "rgb(255, 255, 255)",
        "heading": "rgb(0, 0, 0)",
        "muted": "#4f5965",
    }
    context.close()


def test_print_shows_where_links_to_other_sites_lead(desktop, live_site):
    """The evidence of an assessment is a link to another site: on paper its address is printed after it."""
    from followup.models import Assessment

    Assessment.objects.filter(recommendation=live_site.ratify).update(evidence_urls=["https://example.org/report"])
    page = desktop.page
    page.goto(live_site.url + f"/recommendations/{live_site.ratify.pk}/")
    page.emulate_media(media="print")
    evidence = page.locator("main a[href='https://example.org/report']")
    assert evidence.evaluate("a => getComputedStyle(a, '::after').content") == '" <https://example.org/report>"'
    # A link inside the site says nothing useful on paper: no address after it.
    state = page.locator("main a[href^='/states/']").first
    assert state.evaluate("a => getComputedStyle(a, '::after').content") in ("none", "normal")


@pytest.mark.parametrize("path", ["/", "/states/"])
def test_lists_fit_a_phone_without_scrolling_sideways(mobile, live_site, path):
    """The home page's latest sessions and the states list drop a column a phone can spare and shorten their
    headings (screen readers still hear the whole words), so that their tables need no sideways scrolling."""
    page = mobile.page
    page.goto(live_site.url + path)
    widths = page.evaluate("[...document.querySelectorAll('.table-wrap')].map(e => e.scrollWidth - e.clientWidth)")
    assert widths and all(extra <= 1 for extra in widths), widths
    heading = page.locator("thead th.num").first
    assert heading.locator(".wide-hidden").is_visible()  # the short form shows
    long_form = heading.locator(".narrow-hidden")
    assert long_form.bounding_box()["width"] <= 1  # clipped, still in the page for screen readers
    assert len(long_form.text_content().split()) >= 2
    mobile.assert_clean()
