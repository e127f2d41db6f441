"""The admin's Background jobs page in a real browser: reached from the admin's index, readable (axe), and its
button queues a recompute. Screenshots in UPRTRAX_SHOTS (default /tmp/shots) for a person to look at."""

import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from followup.models import DataDump, JobTrigger, StatisticsRecompute
from followup.tasks import statistics_recompute_task
from recommendations.models import ImportRun
from tests.browser.conftest import MOBILE
from tests.factories import UserFactory

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
SHOTS = Path(os.environ.get("UPRTRAX_SHOTS", "/tmp/shots"))  # noqa: S108 - a directory for people, not secrets


@pytest.fixture
def admin_page(desktop, live_site, monkeypatch):
    """Logged in as a superuser through the admin's login form; a few jobs recorded; tasks are not sent."""
    monkeypatch.setattr(statistics_recompute_task, "apply_async", lambda **options: None)
    admin = UserFactory(username="operator", first_name="Olu", last_name="Operator", is_staff=True,
                        is_superuser=True)  # fmt: skip
    now = timezone.now()
    ImportRun.objects.create(file_name="1-5.csv", status=ImportRun.Status.SUCCEEDED, dry_run=False, user=admin,
                             started_at=now - timedelta(minutes=3), finished_at=now - timedelta(minutes=2),
                             counts={"create": 6094, "update": 0, "unchanged": 0})  # fmt: skip
    ImportRun.objects.create(file_name="17-20.csv", status=ImportRun.Status.FAILED, dry_run=False, user=admin,
                             started_at=now - timedelta(minutes=9), finished_at=now - timedelta(minutes=8),
                             error_message="The worker stopped during the import (killed or restarted); nothing was "
                             "written. Run it again.")  # fmt: skip
    StatisticsRecompute.objects.create(status=StatisticsRecompute.Status.SUCCEEDED, trigger=JobTrigger.CHANGE,
                                       started_at=now - timedelta(seconds=40), finished_at=now - timedelta(seconds=28),
                                       snapshots=30)  # fmt: skip
    DataDump.objects.create(status=DataDump.Status.FAILED, trigger=JobTrigger.NIGHTLY, finished_at=now,
                            started_at=now - timedelta(seconds=20),
                            error="The worker stopped during the build (killed or restarted); the previous dump "
                            "stays served.")  # fmt: skip
    page = desktop.page
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # the admin names no icon
    page.goto(live_site.url + "/admin/")
    page.get_by_label("Username").fill("operator")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin/$"))
    return page


def test_the_jobs_page_from_the_admin_index(admin_page, desktop, assert_accessible):
    page = admin_page
    page.get_by_role("link", name="Background jobs").click()
    page.wait_for_url(re.compile(r"/admin/jobs/$"))
    assert page.get_by_role("heading", level=1).inner_text() == "Background jobs"
    imports = page.get_by_role("region", name="Imports")
    assert "The worker stopped during the import" in imports.inner_text()
    assert "By hand (import page or API): Olu Operator" in imports.inner_text()
    assert "Data changed" in page.get_by_role("region", name="Statistics recomputes").inner_text()
    assert "Tasks waiting in the queue" in page.get_by_role("region", name="Now", exact=True).inner_text()
    assert_accessible(page)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "admin-jobs.png"), full_page=True)

    page.get_by_role("button", name="Recompute the statistics").click()
    page.wait_for_url(re.compile(r"/admin/jobs/$"))
    run = StatisticsRecompute.objects.get(status=StatisticsRecompute.Status.QUEUED)
    assert run.trigger == JobTrigger.ADMIN and run.user.username == "operator"
    assert f"Statistics recompute #{run.pk}" in page.locator(".messagelist").inner_text()
    desktop.assert_clean()


def test_the_jobs_page_on_a_phone(browser, live_site, admin_page, assert_accessible):
    page = admin_page
    page.set_viewport_size(MOBILE)
    page.goto(live_site.url + "/admin/jobs/")
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"], "the tables scroll, not the page"
    assert_accessible(page)
    page.screenshot(path=str(SHOTS / "admin-jobs-phone.png"), full_page=True)
