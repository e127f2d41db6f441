"""axe-core (shipped inside axe-playwright-python, nothing loaded from another site) on every public page, at a
desktop and a phone width: no serious or critical violation. Plus a look at each page's width on a phone and in
print."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import DESKTOP, MOBILE, open_tab

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/recommendations/",
    "/recommendations/?q=optional+protocol&response=accepted",
    "/recommendations/?sur=XYZ",  # the page with a form error
    "/recommendations/{ratify}/",
    "/states/",
    "/states/FRA/",
    "/states/SWE/",
    "/sessions/",
    "/sessions/15/",
    "/sessions/20/prepare/",
    "/cycles/1/",
    "/statistics/",
]
SERIOUS = {"serious", "critical"}


def _violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", PAGES)
def test_page_has_no_serious_accessibility_violation_and_fits_the_screen(browser, live_site, path, viewport):
    context, tab = open_tab(browser, live_site, viewport=viewport)
    page = tab.page
    response = page.goto(live_site.url + path.format(ratify=live_site.ratify.pk))
    assert response.status == 200
    assert _violations(page) == []
    # Nothing overflows sideways (wide tables scroll inside their own box).
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    tab.assert_clean()
    context.close()


@pytest.mark.parametrize("path", ["/recommendations/?q=optional+protocol", "/states/FRA/"])
def test_print_shows_the_content_without_navigation_or_filters(browser, live_site, path):
    context, tab = open_tab(browser, live_site, viewport=DESKTOP)
    page = tab.page
    page.goto(live_site.url + path)
    page.emulate_media(media="print")
    assert not page.locator(".site-nav").is_visible()
    assert not page.locator(".site-footer").is_visible()
    assert page.locator("h1").is_visible()
    if "recommendations" in path:
        assert not page.locator(".facets").is_visible()
        assert page.locator(".rec__text").first.is_visible()
    context.close()
