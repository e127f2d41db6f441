"""The statistics page in Chromium: the charts are drawn (Chart.js served by the app, nothing from another site, no
CSP violation), the filters work, axe finds no serious violation, and it fits a 375 px phone; without JavaScript
the tables still say everything."""

import pytest

from tests.browser.conftest import DESKTOP, MOBILE, open_tab

pytestmark = pytest.mark.browser

CHARTS = 6  # response, action category, issue, both regional groups, session (one cycle: a table, no chart)

# Every drawn chart: its Chart.js instance, its size, and whether its pixels hold anything (a blank canvas is all 0).
DRAWN = """() => Array.from(document.querySelectorAll('[data-stats-chart]')).map((figure) => {
    const canvas = figure.querySelector('canvas');
    const chart = window.Chart && window.Chart.getChart(canvas);
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { painted += 1; } }
    return {
        drawn: figure.classList.contains('is-drawn'),
        chart: Boolean(chart),
        bars: chart ? chart.data.labels.length : 0,
        width: canvas.getBoundingClientRect().width,
        height: canvas.getBoundingClientRect().height,
        painted: painted,
        label: canvas.getAttribute('aria-label'),
        role: canvas.getAttribute('role'),
    };
})"""


@pytest.fixture
def computed(live_site):
    """The live site's statistics, computed (its snapshot committed, as the live server reads it)."""
    from followup.snapshots import statistics_recompute

    statistics_recompute()
    return live_site


def test_charts_are_drawn_from_the_tables_with_local_assets_only(desktop, computed, assert_accessible):
    page = desktop.page
    response = page.goto(computed.url + "/statistics/")
    assert response.status == 200

    charts = page.evaluate(DRAWN)
    assert len(charts) == CHARTS
    for chart in charts:
        assert chart["drawn"] and chart["chart"], chart
        assert chart["width"] > 300 and chart["height"] > 60, chart
        assert chart["painted"] > 1000, chart  # bars, axes and written values
        assert chart["role"] == "img" and chart["label"].startswith("Bar chart of the share"), chart
    response_chart = charts[0]
    assert response_chart["bars"] == 2
    assert response_chart["label"].endswith("by response: Accepted 100.0%, Noted 0.0%.")
    assert page.locator("#response-table").is_visible()  # the table stays beside its chart
    desktop.screenshot("statistics-desktop", max_height=4000)
    assert_accessible(page)
    desktop.assert_clean()  # no console error (a CSP violation is one), nothing from another site


def test_changing_the_filters_shows_other_figures(desktop, computed):
    page = desktop.page
    page.goto(computed.url + "/statistics/")
    page.get_by_label("Cycle", exact=True).select_option("2")
    page.get_by_label("Consolidation rule").select_option("latest")
    with page.expect_navigation():
        page.get_by_role("button", name="Show the figures").click()

    assert page.url.endswith("/statistics/?cycle=2&phase=mid_term&rule=latest")
    assert (
        page.locator("[data-headline]")
        .inner_text()
        .startswith("In cycle 2, by mid-term, 50.0% of the assessed recommendations triggered action")
    )
    assert page.get_by_label("Cycle", exact=True).input_value() == "2"
    assert all(chart["chart"] for chart in page.evaluate(DRAWN))

    page.get_by_label("Phase", exact=True).select_option("next_review")
    with page.expect_navigation():
        page.get_by_role("button", name="Show the figures").click()
    assert "no recommendation had been assessed" in page.locator("[data-headline]").inner_text()
    # Nothing assessed: each chart draws its bars' place and says "not assessed" instead of a figure.
    assert all(chart["chart"] for chart in page.evaluate(DRAWN))
    desktop.assert_clean()


def test_methodology_link_carries_the_rule_in_force(desktop, computed):
    page = desktop.page
    page.goto(computed.url + "/statistics/?rule=non_state")
    page.get_by_role("link", name="How these figures are computed").click()
    page.wait_for_url("**/statistics/methodology/**")

    assert page.locator("[data-rule-in-force]").get_attribute("data-rule-in-force") == "non_state"
    desktop.screenshot("statistics-methodology")
    desktop.assert_clean()


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "phone"])
@pytest.mark.parametrize(
    "path",
    ["/statistics/", "/statistics/?cycle=3", "/statistics/?rule=zzz", "/statistics/methodology/", "/states/FRA/"],
)
def test_statistics_pages_are_accessible_and_fit_the_screen(browser, computed, assert_accessible, path, viewport):
    context, tab = open_tab(browser, computed, viewport=viewport)
    try:
        response = tab.page.goto(computed.url + path)
        assert response.status == (400 if "zzz" in path else 200)
        assert tab.page.get_by_role("heading", level=1).count() == 1
        assert_accessible(tab.page)
        assert tab.page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        # A 400 answer is itself logged by Chromium as a failed resource load: that one is expected.
        assert [e for e in tab.console_errors if "400" not in e] == []
        assert tab.foreign_requests == []
    finally:
        context.close()


def test_charts_fit_a_phone(mobile, computed):
    page = mobile.page
    page.goto(computed.url + "/statistics/")

    charts = page.evaluate(DRAWN)
    assert len(charts) == CHARTS
    for chart in charts:
        assert chart["chart"] and chart["painted"] > 500, chart
        assert chart["width"] <= MOBILE["width"], chart
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    mobile.screenshot("statistics-phone", max_height=5000)
    mobile.assert_clean()


def test_without_javascript_the_tables_say_everything(browser, computed):
    context, tab = open_tab(browser, computed, viewport=DESKTOP, java_script_enabled=False)
    try:
        tab.page.goto(computed.url + "/statistics/")
        assert tab.page.locator("[data-stats-chart]").first.is_hidden()  # nothing drawn, no empty box
        assert tab.page.locator("#response-table").is_visible()
        assert tab.page.locator("#sur_state-table").is_visible()
        assert tab.page.locator("#response-accepted .bar").first.is_visible()  # the table's own bars
        tab.screenshot("statistics-no-js", max_height=2400)
    finally:
        context.close()
