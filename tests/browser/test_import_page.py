"""The staff's import page in a real browser: log in, upload, preview, confirm; map an unknown layout; follow a
running job live. Celery runs eagerly (no broker), as in `make run`."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from recommendations.models import ImportMapping, ImportRun, Recommendation
from tests.browser.conftest import DESKTOP, MOBILE
from tests.factories import UserFactory, csv_bytes

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
# The task asks for the screenshots here, for a person to look at.
SHOTS = Path(os.environ.get("UPRTRAX_SHOTS", "/tmp/shots"))  # noqa: S108 - a directory for people, not secrets


def _csv(header, rows) -> bytes:
    return csv_bytes(header, rows)


CANONICAL = _csv(
    ["state_under_review", "session", "recommending_states", "text", "response", "action_category", "issues"],
    [
        ["Ghana", "14", "France", "Ratify the Convention on the Rights of Persons with Disabilities.", "accepted",
         "5", "Disabilities"],
        ["Ghana", "14", "Chile; Brazil", "Consider abolishing the death penalty.", "noted", "3", "Death penalty"],
        ["Ghana", "14", "Norway", "Repeal the law on =cmd| injection.", "pending", "", ""],
    ],
)  # fmt: skip
FOREIGN = _csv(
    ["Country", "Session no.", "By", "Recommendation", "Position"],
    [
        ["Peru", "28", "Spain", "Strengthen the national preventive mechanism.", "Supportive"],
        ["Peru", "28", "Canada / Mexico", "Protect human rights defenders.", "Not supported"],
    ],
)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff_page(desktop, live_site, media, eager):
    """The desktop tab, logged in as staff through the admin's login form."""
    UserFactory(username="importer", is_staff=True)  # the factory's password is PASSWORD
    page = desktop.page
    # The admin's login page names no icon, so Chromium asks for /favicon.ico (a 404): not this page's doing.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))
    page.goto(live_site.url + "/imports/")
    assert "/admin/login/" in page.url  # staff only: the admin's login
    page.get_by_label("Username").fill("importer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/imports/$"))
    return page


def _shot(page, name: str, *, full_page: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def _upload(page, name: str, data: bytes) -> None:
    page.get_by_label("File", exact=True).set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    page.get_by_role("button", name="Upload and preview").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))


def test_staff_uploads_previews_and_confirms(staff_page, desktop, live_site):
    page = staff_page
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Import").get_attribute("aria-current") == "page"
    assert page.get_by_role("link", name="CSV template for recommendations").is_visible()
    page.get_by_role("radio", name="Recommendations").check()

    _upload(page, "ghana session 14.csv", CANONICAL)

    assert page.get_by_role("heading", level=1).inner_text() == "ghana session 14.csv"
    assert page.locator(".badge").first.inner_text().lower() == "preview ready"
    assert page.locator('[data-count="create"]').inner_text() == "3"
    assert page.locator('[data-count="accepted"]').inner_text() == "1"
    assert Recommendation.objects.filter(text__startswith="Repeal").count() == 0
    _shot(page, "import-preview")

    page.get_by_role("button", name="Confirm import").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))
    assert page.locator(".badge").first.inner_text().lower() == "imported"
    assert page.get_by_role("heading", name="What was imported").is_visible()
    assert Recommendation.objects.filter(review__state__iso3="GHA").count() == 3
    _shot(page, "import-succeeded")

    page.get_by_role("link", name="Start over").click()
    row = page.get_by_role("row").filter(has_text="ghana session 14.csv")
    assert "imported" in row.inner_text().lower()
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    _shot(page, "import-list", full_page=False)
    desktop.assert_clean()


def test_staff_maps_an_unknown_layout_and_previews(staff_page, desktop):
    page = staff_page

    _upload(page, "peru.csv", FOREIGN)

    assert page.locator(".badge").first.inner_text().lower() == "failed"
    assert "1 error below" in page.get_by_role("alert").inner_text()
    assert "match neither UPR Info" in page.get_by_role("table", name="Errors: 1").inner_text()
    _shot(page, "import-failed")
    page.get_by_role("link", name="Edit mapping").click()
    page.wait_for_url(re.compile(r"/mapping/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Map the columns of peru.csv"
    for column, field in [
        ("Country", "state_under_review"),
        ("Session no.", "session"),
        ("By", "recommending_states"),
        ("Recommendation", "text"),
        ("Position", "response"),
    ]:
        assert page.get_by_label(column, exact=True).input_value() == ""  # ignored until chosen
        page.get_by_label(column, exact=True).select_option(field)  # fmt: skip
    page.get_by_label("Synonyms for response").fill("Supportive = accepted\nNot supported = noted")
    page.get_by_label("Separator between recommending states").fill("/")
    _shot(page, "import-mapping-editor")
    page.set_viewport_size(MOBILE)
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]  # the table scrolls, not the page
    _shot(page, "import-mapping-editor-mobile")
    page.set_viewport_size(DESKTOP)

    # A field chosen twice is refused, naming both columns; the choices made are kept.
    page.get_by_label("By", exact=True).select_option("text")
    page.get_by_role("button", name="Preview with this mapping").click()
    summary = page.get_by_role("alert")
    assert 'Text is chosen for 2 columns ("By" and "Recommendation")' in summary.inner_text()
    assert page.get_by_label("Country", exact=True).input_value() == "state_under_review"
    _shot(page, "import-mapping-errors")

    page.get_by_label("By", exact=True).select_option("recommending_states")
    page.get_by_label("Save this mapping as").fill("Peru NGO sheet")
    page.get_by_role("button", name="Preview with this mapping").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))

    assert page.locator(".badge").first.inner_text().lower() == "preview ready"
    assert page.locator('[data-count="accepted"]').inner_text() == "1"
    assert page.locator('[data-count="noted"]').inner_text() == "1"
    assert page.locator('[data-count="recommending_states"]').inner_text() == "3"
    assert page.get_by_role("button", name="Confirm import").is_visible()
    assert ImportMapping.objects.get(name="Peru NGO sheet").kind == "recommendations"
    _shot(page, "import-mapped-preview")
    desktop.assert_clean()


def test_running_job_is_followed_live_then_shows_its_preview(staff_page, desktop):
    """import-progress.js polls the API: the page shows the phase and rows, then the report once it is done."""
    from django.core.cache import cache

    from recommendations.imports.runs import _progress_key

    page = staff_page
    run = ImportRun.objects.create(kind="recommendations", status=ImportRun.Status.RUNNING, file_name="big.csv")
    cache.set(_progress_key(run.pk), {"phase": "validating", "rows": 41000, "at": ""}, 60)

    page.goto(f"{page.url}{run.pk}/")

    progress = page.locator("[data-import-progress]")
    assert page.get_by_role("heading", name="Preview in progress").is_visible()
    assert progress.locator("[data-progress-phase]").get_attribute("aria-live") == "polite"
    assert "follows the import as it goes" in progress.inner_text()  # the script took over from the meta refresh
    cache.set(_progress_key(run.pk), {"phase": "planning", "rows": 52000, "at": ""}, 60)
    expect(progress.locator("[data-progress-rows]")).to_have_text("52,000", timeout=10_000)
    assert progress.locator("[data-progress-phase]").inner_text() == "Comparing with the stored data"
    _shot(page, "import-progress")

    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportRun.Status.DRY_RUN, counts={"rows": 52000, "create": 52000, "errors": 0, "warnings": 0}
    )
    expect(page.locator('[data-count="create"]')).to_have_text("52,000", timeout=10_000)
    desktop.assert_clean()
