"""The home page and the site's frame in a real browser: search, mobile menu, keyboard, no console errors."""

import re

import pytest

from tests.browser.conftest import DESKTOP, OTHER_TEXT, SEARCHABLE_TEXT, open_tab

pytestmark = pytest.mark.browser

NAV_ITEMS = ["Recommendations", "States", "Sessions", "Statistics", "Organisations", "API"]


def test_home_shows_title_navigation_and_headline_counts(desktop, live_site):
    page = desktop.page
    page.goto(live_site.url + "/")

    assert "uprtrax" in page.title()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Follow every UPR recommendation")
    nav = page.get_by_role("navigation", name="Main")
    assert [link.strip() for link in nav.get_by_role("link").all_inner_texts()] == NAV_ITEMS
    assert page.locator('[data-count="recommendations"]').inner_text() == "2"
    assert page.locator('[data-count="states"]').inner_text() == "2"
    assert page.locator('[data-count="sessions"]').inner_text() == "2"
    assert page.locator('[data-count="assessments"]').inner_text() == "2"
    assert page.locator('[data-count="accepted"]').inner_text() == "50.0%"
    assert page.get_by_role("link", name="Session 20").is_visible()
    # The stylesheet really applied: the header is dark and the skip link is off screen until focused.
    header_background = page.eval_on_selector(".site-header", "el => getComputedStyle(el).backgroundColor")
    assert header_background == "rgb(11, 37, 69)"
    assert page.locator(".skip-link").bounding_box()["y"] < 0
    desktop.screenshot("home-desktop")
    desktop.assert_clean()


def test_search_box_leads_to_matching_recommendations(desktop, live_site):
    page = desktop.page
    page.goto(live_site.url + "/")

    search = page.get_by_role("searchbox", name="Search recommendations")
    search.fill("optional protocol")
    search.press("Enter")
    page.wait_for_url(re.compile(r"/recommendations/\?q=optional\+protocol$"))

    results = page.locator(".rec__text")
    assert results.all_inner_texts() == [SEARCHABLE_TEXT]
    assert OTHER_TEXT not in page.content()
    assert page.get_by_label("Search the text of recommendations").input_value() == "optional protocol"
    assert page.get_by_role("link", name="Recommendations", exact=True).get_attribute("aria-current") == "page"
    desktop.screenshot("recommendations-search-desktop")
    desktop.assert_clean()


def test_mobile_menu_toggle_shows_and_hides_the_navigation(mobile, live_site):
    page = mobile.page
    page.goto(live_site.url + "/")
    toggle = page.get_by_role("button", name="Menu")
    states_link = page.get_by_role("navigation", name="Main").get_by_role("link", name="States")

    assert toggle.is_visible()
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not states_link.is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing overflows sideways
    mobile.screenshot("home-mobile")

    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert states_link.is_visible()
    assert page.get_by_role("searchbox", name="Search recommendations").is_visible()
    mobile.screenshot("home-mobile-menu-open", full_page=False)

    page.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not states_link.is_visible()

    toggle.click()
    states_link.click()
    page.wait_for_url(re.compile(r"/states/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "States"
    mobile.screenshot("states-mobile")
    mobile.assert_clean()


def test_desktop_has_no_menu_button(desktop, live_site):
    desktop.page.goto(live_site.url + "/")
    assert not desktop.page.get_by_role("button", name="Menu").is_visible()
    assert desktop.page.get_by_role("navigation", name="Main").get_by_role("link", name="States").is_visible()


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(desktop, live_site):
    page = desktop.page
    page.goto(live_site.url + "/")

    page.keyboard.press("Tab")
    focused = page.evaluate("({text: document.activeElement.textContent, href: document.activeElement.hash})")
    assert focused == {"text": "Skip to main content", "href": "#main"}
    assert page.locator(".skip-link").bounding_box()["y"] >= 0  # visible once focused
    desktop.screenshot("skip-link-focused", full_page=False)

    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    desktop.assert_clean()


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/recommendations/", "Recommendations"),
        ("/states/", "States"),
        ("/states/FRA/", "France"),
        ("/sessions/", "Sessions"),
        ("/sessions/15/", "Session 15"),
        ("/statistics/", "Statistics"),
        ("/recommendations/?sur=XYZ", "Recommendations"),
        ("/states/XYZ/", "Not found"),
    ],
)
def test_every_page_loads_without_console_errors_or_foreign_requests(desktop, live_site, path, heading):
    response = desktop.page.goto(live_site.url + path)

    assert response.status == (404 if heading == "Not found" else 200)
    assert desktop.page.get_by_role("heading", level=1).inner_text() == heading
    slug = path.strip("/").replace("/", "-").replace("?", "-").replace("=", "-") or "home"
    desktop.screenshot(f"page-{slug}")
    # A 404 answer is itself logged by Chromium as a failed resource load: that one is expected.
    errors = [e for e in desktop.console_errors if not (heading == "Not found" and "404" in e)]
    assert errors == []
    assert desktop.foreign_requests == []


def test_recommendation_detail_page_loads_cleanly(desktop, live_site):
    response = desktop.page.goto(f"{live_site.url}/recommendations/{live_site.ratify.pk}/")

    assert response.status == 200
    assert desktop.page.locator(".rec-quote").inner_text() == SEARCHABLE_TEXT
    assert desktop.page.locator(".timeline").get_by_text("Partially implemented").is_visible()
    desktop.screenshot("recommendation-detail-desktop")
    desktop.assert_clean()


def test_dark_colour_scheme_is_followed(browser, live_site):
    context, tab = open_tab(browser, live_site, viewport=DESKTOP, color_scheme="dark")
    try:
        tab.page.goto(live_site.url + "/statistics/")
        background = tab.page.eval_on_selector("body", "el => getComputedStyle(el).backgroundColor")
        text = tab.page.eval_on_selector("body", "el => getComputedStyle(el).color")
        assert background == "rgb(15, 20, 25)"
        assert text == "rgb(231, 237, 243)"
        tab.screenshot("statistics-dark")
        tab.assert_clean()
    finally:
        context.close()
