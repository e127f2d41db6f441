"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Playwright is never asked to download a browser: the tests launch /usr/bin/chromium, and skip when it is missing
(fail instead when UPRTRAX_REQUIRE_BROWSER=1, as in CI).
"""

import os
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in this thread; Django would otherwise refuse database access here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Debian's package; another build can be named with UPRTRAX_CHROMIUM.
CHROMIUM = Path(os.environ.get("UPRTRAX_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 375, "height": 812}

SEARCHABLE_TEXT = "Ratify the Optional Protocol to the Convention against Torture"
OTHER_TEXT = "Fund shelters for women victims of violence"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole run."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"
        if os.environ.get("UPRTRAX_REQUIRE_BROWSER") == "1":
            pytest.fail(f"UPRTRAX_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Restore the reference data once a live-server test's database flush is done.

    live_server makes a test transactional, and pytest-django empties every table after such a test, reference
    data included; the tests that follow in the same run (tests/conftest.py loads it once per run) need it back.
    """
    result = yield
    # Only where the live server really ran (not when the browser was skipped), and not after the last test: the
    # session teardown has then already dropped the test database.
    used = getattr(item, "funcargs", None) or {}
    if nextitem is not None and "live_server" in used and "django_db_blocker" in used:
        from reviews.services import reference_data_load

        with used["django_db_blocker"].unblock():
            reference_data_load()
    return result


@pytest.fixture
def live_site(live_server, django_db_blocker):
    """The live server with reference data and a small cast of recommendations, assessed and not."""
    from django.core.cache import cache

    from followup.models import Assessment
    from recommendations.models import Issue, Recommendation
    from recommendations.selectors import HEADLINE_COUNTS_CACHE_KEY, HEADLINE_COUNTS_CACHE_VERSION
    from reviews.models import Session, State
    from reviews.services import reference_data_load
    from tests.factories import AssessmentFactory, OrganisationFactory, RecommendationFactory, ReviewFactory

    reference_data_load()  # the previous transactional test may have flushed it
    cache.delete(HEADLINE_COUNTS_CACHE_KEY, version=HEADLINE_COUNTS_CACHE_VERSION)

    def state(iso3: str) -> State:
        return State.objects.get(iso3=iso3)

    france = ReviewFactory(state=state("FRA"), session=Session.objects.get(number=15), report_symbol="A/HRC/23/3")
    kenya = ReviewFactory(state=state("KEN"), session=Session.objects.get(number=20), report_symbol="A/HRC/29/10")
    ratify = RecommendationFactory(
        review=france,
        text=SEARCHABLE_TEXT,
        paragraph_ref="120.1",
        response=Recommendation.Response.ACCEPTED,
        response_original="Supported",
        recommending_states=[state("BRA"), state("DEU")],
        issues=[Issue.objects.get(name="Torture and other CID treatment")],
    )
    shelters = RecommendationFactory(
        review=kenya,
        text=OTHER_TEXT,
        paragraph_ref="142.7",
        response=Recommendation.Response.NOTED,
        response_original="Noted",
        action_category=Recommendation.ActionCategory.GENERAL,
        recommending_states=[state("SWE")],
        issues=[Issue.objects.get(name="Women's rights")],
    )
    AssessmentFactory(
        recommendation=ratify,
        organisation=OrganisationFactory(name="Action Against Torture"),
        author=None,
        status=Assessment.Status.PARTIALLY_IMPLEMENTED,
    )
    AssessmentFactory(
        recommendation=shelters,
        organisation=OrganisationFactory(name="Kenya Women's Network"),
        author=None,
        status=Assessment.Status.NOT_IMPLEMENTED,
    )
    return SimpleNamespace(url=live_server.url, ratify=ratify, shelters=shelters)


@dataclass
class Tab:
    """A page plus what it did: console errors (CSP violations among them) and requests to other hosts."""

    page: object
    origin_host: str
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)

    def screenshot(self, name: str, *, full_page: bool = True, max_height: int = 2400) -> Path:
        """Save a PNG under screenshots/ (git-ignored) for a person to look at; long pages are cut at max_height."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        viewport = self.page.viewport_size
        height = min(self.page.evaluate("document.documentElement.scrollHeight"), max_height)
        clip = {"x": 0, "y": 0, "width": viewport["width"], "height": height} if full_page else None
        self.page.screenshot(path=str(path), full_page=full_page, clip=clip)
        return path

    def assert_clean(self) -> None:
        assert self.console_errors == [], self.console_errors
        assert self.foreign_requests == [], self.foreign_requests


def open_tab(browser, live_site, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    tab = Tab(page=page, origin_host=urlsplit(live_site.url).netloc)

    def on_console(message):
        if message.type == "error":
            tab.console_errors.append(message.text)

    def on_request(request):
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob", "about") and parts.netloc != tab.origin_host:
            tab.foreign_requests.append(request.url)

    page.on("console", on_console)
    page.on("pageerror", lambda error: tab.console_errors.append(f"uncaught: {error}"))
    context.on("request", on_request)
    return context, tab


@pytest.fixture
def desktop(browser, live_site):
    context, tab = open_tab(browser, live_site, viewport=DESKTOP)
    yield tab
    context.close()


@pytest.fixture
def mobile(browser, live_site):
    context, tab = open_tab(browser, live_site, viewport=MOBILE, device_scale_factor=2, is_mobile=True, has_touch=True)
    yield tab
    context.close()


@pytest.fixture
def assert_accessible():
    """Call it with a page: fails listing every serious or critical violation axe-core finds there."""
    from tests.browser.axe import assert_no_serious_violations

    return assert_no_serious_violations
