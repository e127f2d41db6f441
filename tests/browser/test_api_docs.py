"""The API's interactive docs (/api/docs/, Swagger UI) in a real browser: they draw every operation from the schema,
under the site's Content-Security-Policy (no violation in the console), with nothing fetched from another site."""

import pytest

pytestmark = pytest.mark.browser


def test_the_api_docs_draw_the_operations_under_the_sites_csp(desktop, live_site):
    page = desktop.page
    missing = []
    page.context.on("response", lambda response: missing.append(response.url) if response.status >= 400 else None)
    page.goto(live_site.url + "/api/docs/")

    page.wait_for_selector(".opblock", timeout=15_000)
    assert page.locator(".info .title").inner_text().startswith("uprtrax API")
    summaries = page.locator(".opblock-summary-description").all_inner_texts()
    assert "Record an assessment" in summaries and "Implementation statistics" in summaries
    page.get_by_text("Rate limits", exact=True).first.wait_for()
    assert page.get_by_role("button", name="Authorize").is_visible()  # the token scheme, to try the writes
    desktop.screenshot("api-docs")
    assert missing == []
    desktop.assert_clean()


def test_the_api_docs_try_a_request(desktop, live_site):
    page = desktop.page
    page.goto(live_site.url + "/api/docs/")
    operation = page.locator("#operations-cycles-cycles_list")
    operation.wait_for(timeout=15_000)
    if "is-open" not in (operation.get_attribute("class") or ""):
        operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    body = operation.locator(".live-responses-table .response-col_description pre").first
    body.wait_for(timeout=15_000)
    assert '"number": 1' in body.inner_text()
    desktop.assert_clean()
