"""The Content-Security-Policy holds in Chromium: a representative page of every kind (public pages, the search with
its facets, the charts, a member's assessment form and work view, the admin, the API docs), loaded and used, sees no
violation, neither as a `securitypolicyviolation` event nor as a "Refused to..." console message. The policy itself
(no 'unsafe-inline', no 'unsafe-eval') is checked header by header in tests/test_hardening.py. And the rate limits'
429 page, as a person meets it: it explains, and axe finds nothing serious in it."""

import re

import pytest

from tests.browser.conftest import DESKTOP, open_tab

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"  # the factories' password

# Runs in every document before its own scripts: each violation is handed to the test as it happens.
REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', (event) => {
    window.reportCspViolation([event.violatedDirective, event.blockedURI, event.sourceFile + ':' + event.lineNumber,
                               event.sample].join(' | '));
});
"""


class CspWatch:
    """A tab whose every CSP violation (events and console messages) is kept, page by page."""

    def __init__(self, browser, live_site):
        self.context, self.tab = open_tab(browser, live_site, viewport=DESKTOP)
        self.violations: list[str] = []
        self.url = live_site.url
        self.context.expose_function("reportCspViolation", lambda text: self.violations.append(text))
        self.context.add_init_script(REPORT_VIOLATIONS)
        self.tab.page.on("console", self._console)
        # The admin's pages name no icon, so Chromium asks for /favicon.ico (a 404): not the policy's doing.
        self.tab.page.route("**/favicon.ico", lambda route: route.fulfill(status=204))

    def _console(self, message):
        if "Content Security Policy" in message.text or message.text.startswith("Refused to"):
            self.violations.append(f"console: {message.text}")

    @property
    def page(self):
        return self.tab.page

    def visit(self, path: str, *, status: int = 200, ready: str | None = None) -> None:
        response = self.page.goto(self.url + path)
        assert response.status == status, path
        if ready:
            self.page.wait_for_selector(ready, timeout=15_000)
        self.page.wait_for_load_state("networkidle")

    def log_in(self, username: str) -> None:
        self.visit("/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("main").get_by_role("button", name="Log in").click()
        self.page.wait_for_url(re.compile(r"/accounts/profile/$"))

    def assert_no_violation(self, where: str) -> None:
        assert self.violations == [], f"{where}: {self.violations}"


@pytest.fixture
def watch(browser, live_site):
    watch = CspWatch(browser, live_site)
    yield watch
    watch.context.close()


@pytest.fixture
def member(live_site):
    """A member of the organisation that assessed the Kenyan recommendation (so its work view has a row)."""
    from followup.models import Membership, Organisation
    from tests.factories import MembershipFactory, UserFactory

    organisation = Organisation.objects.get(name="Kenya Women's Network")
    user = UserFactory(username="wanjiru")
    MembershipFactory(user=user, organisation=organisation, role=Membership.Role.EDITOR)
    return organisation


def test_public_pages_keep_the_policy_while_loaded_and_used(watch, live_site):
    from followup.snapshots import statistics_recompute

    statistics_recompute()  # the statistics page then draws its charts
    pages = [
        ("/", None),
        ("/recommendations/?q=torture", ".facets"),
        (f"/recommendations/{live_site.ratify.pk}/", None),
        ("/states/FRA/", None),
        ("/sessions/15/", None),
        ("/statistics/", "[data-stats-chart].is-drawn"),
        ("/statistics/methodology/", None),
        ("/accounts/login/", None),
        ("/admin/login/", None),
        ("/api/docs/", ".opblock"),
    ]
    for path, ready in pages:
        watch.visit(path, ready=ready)
        watch.assert_no_violation(path)

    # The search used as a person does: a facet ticked, htmx swaps the results and facets in.
    watch.visit("/recommendations/")
    watch.page.locator("#facet-sur").get_by_role("checkbox", name=re.compile("^Kenya")).check()
    watch.page.wait_for_url(re.compile(r"sur=KEN"))
    watch.page.wait_for_load_state("networkidle")
    watch.assert_no_violation("the search, a facet ticked")
    assert watch.tab.foreign_requests == []


def test_a_members_pages_keep_the_policy(watch, live_site, member):
    watch.log_in("wanjiru")
    review = live_site.shelters.review
    pages = [
        f"/recommendations/{live_site.shelters.pk}/",  # with the assessment form
        f"/work/{member.slug}/",
        f"/work/{member.slug}/reviews/{review.pk}/",
        "/accounts/tokens/",
        f"/assess/bulk/?id={live_site.shelters.pk}",
    ]
    for path in pages:
        watch.visit(path)
        watch.assert_no_violation(path)

    # The work view saves a row as its status changes (htmx, static/js/work.js).
    watch.visit(f"/work/{member.slug}/reviews/{review.pk}/")
    status = watch.page.locator("select[name=status]").first
    options = status.locator("option").evaluate_all("options => options.map(option => option.value)")
    with watch.page.expect_response(lambda response: response.url.endswith("/save/")) as saved:
        status.select_option(next(value for value in options if value and value != status.input_value()))
    assert saved.value.status == 200
    watch.page.wait_for_load_state("networkidle")
    watch.assert_no_violation("the work view, a row saved")


def test_the_admins_pages_keep_the_policy(watch, live_site):
    from tests.factories import UserFactory

    UserFactory(username="root", is_staff=True, is_superuser=True)
    watch.visit("/admin/login/")
    watch.page.get_by_label("Username").fill("root")
    watch.page.get_by_label("Password").fill(PASSWORD)
    watch.page.get_by_role("button", name="Log in").click()
    watch.page.wait_for_url(re.compile(r"/admin/$"))
    for path in (
        "/admin/",
        "/admin/recommendations/recommendation/",
        f"/admin/recommendations/recommendation/{live_site.ratify.pk}/change/",
        "/admin/followup/assessment/",
        "/imports/",
    ):
        watch.visit(path)
        watch.assert_no_violation(path)


def test_the_watch_does_see_a_violation(watch):
    """The failing side: an inline script put into a page is refused, and the watch reports it."""
    watch.visit("/")
    watch.page.evaluate(
        """() => {
            const script = document.createElement('script');
            script.textContent = 'window.inlineRan = true;';
            document.body.append(script);
        }"""
    )
    watch.page.wait_for_timeout(200)

    assert watch.page.evaluate("window.inlineRan === undefined")
    assert any("script-src" in violation for violation in watch.violations), watch.violations


def test_the_429_page_explains_and_is_accessible(browser, live_site, settings, assert_accessible):
    from django.core.cache import cache

    settings.RATE_SEARCH = "2/day"
    cache.clear()  # no count left from another test
    context, tab = open_tab(browser, live_site, viewport=DESKTOP)
    page = tab.page
    for _ in range(2):
        assert page.goto(live_site.url + "/recommendations/").status == 200

    response = page.goto(live_site.url + "/recommendations/?q=water")

    assert response.status == 429
    assert int(response.headers["retry-after"]) >= 1
    assert page.get_by_role("heading", level=1).inner_text() == "Too many requests"
    assert "more than 2 searches in a day" in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    tab.screenshot("rate-limited")
    context.close()
    cache.clear()
