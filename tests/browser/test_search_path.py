"""A person's path through the search in Chromium: search, narrow with facets, open a recommendation, go to its
state, export; and the same search without JavaScript."""

import csv
import io
import re
from pathlib import Path

import pytest

from tests.browser.conftest import DESKTOP, OTHER_TEXT, SEARCHABLE_TEXT, open_tab

pytestmark = pytest.mark.browser


def _total(page) -> int:
    return int(page.locator("#results").get_attribute("data-total"))


def test_search_narrow_open_go_to_state_and_export(desktop, live_site):
    page = desktop.page
    page.goto(live_site.url + "/recommendations/")
    assert _total(page) == 2
    page.evaluate("window.__samePage = true")  # survives in-place updates, not a page load

    page.get_by_label("Search the text of recommendations").fill("ratified protocol")
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"q=ratified(\+|%20)protocol"))
    expect_total(page, 1)
    # Stemming: "ratified" found "Ratify", which is marked in the snippet.
    assert page.locator(".rec__text mark").first.inner_text() == "Ratify"

    page.get_by_label("Search the text of recommendations").fill("")
    page.get_by_role("button", name="Search", exact=True).click()
    expect_total(page, 2)
    # Narrow with a facet: the results update in place and the URL keeps the filter.
    page.locator("#facet-sur").get_by_role("checkbox", name=re.compile("^Kenya")).check()
    page.wait_for_url(re.compile(r"sur=KEN"))
    expect_total(page, 1)
    assert page.evaluate("window.__samePage") is True
    assert page.locator(".rec__text").inner_text() == OTHER_TEXT
    assert page.get_by_role("link", name=re.compile("State under review: Kenya")).is_visible()

    # The URL is the search: loading it again shows the same results.
    page.reload()
    expect_total(page, 1)
    assert page.locator("#facet-sur").get_by_role("checkbox", name=re.compile("^Kenya")).is_checked()

    # Export exactly these results.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
    assert len(rows) == 2 and OTHER_TEXT in rows[1]

    page.get_by_role("link", name=re.compile("Details of recommendation")).click()
    page.wait_for_url(re.compile(r"/recommendations/\d+/$"))
    assert OTHER_TEXT in page.locator("main").inner_text()
    page.locator("main").get_by_role("link", name="Kenya").first.click()
    page.wait_for_url(re.compile(r"/states/KEN/$"))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Kenya")
    desktop.assert_clean()


def test_facets_and_search_work_without_javascript(browser, live_site):
    context, tab = open_tab(browser, live_site, viewport=DESKTOP, java_script_enabled=False)
    page = tab.page
    page.goto(live_site.url + "/recommendations/")
    page.locator("#facet-response").get_by_role("checkbox", name=re.compile("^Noted")).check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"response=noted"))
    assert _total(page) == 1
    assert page.locator(".rec__text").inner_text() == OTHER_TEXT
    page.get_by_label("Search the text of recommendations").fill('"optional protocol"')
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_url(re.compile(r"q=%22optional"))
    assert _total(page) == 0  # still narrowed to noted ones
    page.get_by_role("link", name=re.compile("Response: Noted")).click()
    assert _total(page) == 1
    assert SEARCHABLE_TEXT.split()[0] in page.locator(".rec__text").inner_text()
    context.close()


def test_keyboard_user_narrows_the_search_and_focus_stays_put(desktop, live_site):
    page = desktop.page
    page.goto(live_site.url + "/recommendations/")
    checkbox = page.locator("#facet-response").get_by_role("checkbox", name=re.compile("^Accepted"))
    checkbox.focus()
    page.keyboard.press("Space")
    page.wait_for_url(re.compile(r"response=accepted"))
    expect_total(page, 1)
    # After the update the same checkbox has the focus, so the person can go on from there.
    assert page.evaluate("document.activeElement.id") == checkbox.get_attribute("id")
    desktop.assert_clean()


def expect_total(page, total: int) -> None:
    page.wait_for_function(
        "total => document.querySelector('#results')?.dataset.total === String(total)", arg=total, timeout=5000
    )


def test_on_a_phone_the_results_come_first_and_the_facets_unfold_on_demand(mobile, live_site):
    page = mobile.page
    page.goto(live_site.url + "/recommendations/")
    facets = page.locator("#facet-sur")
    summary = page.locator(".facets__summary")
    assert summary.inner_text() == "Filters"
    assert not facets.is_visible()  # folded: the results start near the top of the screen
    assert page.locator(".rec").first.bounding_box()["y"] < 900
    summary.click()
    assert facets.is_visible()
    # Narrowing reloads the results in place; the panel the person opened stays open and counts the choice.
    facets.get_by_role("checkbox", name=re.compile("^Kenya")).check()
    page.wait_for_url(re.compile(r"sur=KEN"))
    expect_total(page, 1)
    assert page.locator(".facets__summary").inner_text() == "Filters (1 chosen)"
    assert page.locator("#facet-sur").is_visible()
    mobile.assert_clean()


def test_on_a_wide_screen_the_facets_are_always_shown(desktop, live_site):
    page = desktop.page
    page.goto(live_site.url + "/recommendations/")
    assert page.locator("#facet-sur").is_visible()
    assert not page.locator(".facets__summary").is_visible()  # no toggle beside the results
    desktop.assert_clean()
