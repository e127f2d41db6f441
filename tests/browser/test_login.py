"""Logging in and out in a real browser: the login form, the name in the header, the log out button (a POST form),
on a desktop and on a phone (where the account menu sits in the folded navigation)."""

import re

import pytest

from tests.browser.conftest import MOBILE, open_tab

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"


@pytest.fixture
def amina(live_site):
    from followup.models import Membership
    from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

    user = UserFactory(username="amina", first_name="Amina", last_name="Diallo", email="amina@example.org")
    organisation = OrganisationFactory(name="Ligue des droits", slug="ligue")
    MembershipFactory(user=user, organisation=organisation, role=Membership.Role.ADMIN)
    return user


def _log_in(page, url, password=PASSWORD):
    page.get_by_label("Username").fill("amina")
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()


def test_log_in_see_the_name_in_the_header_then_log_out(desktop, live_site, amina, assert_accessible):
    page = desktop.page
    page.goto(live_site.url + "/organisations/")
    account = page.get_by_role("navigation", name="Account")
    account.get_by_role("link", name="Log in").click()
    page.wait_for_url(re.compile(r"/accounts/login/\?next=/organisations/$"))
    assert_accessible(page)

    # A wrong password first: one message, tied to nothing that tells whether the username exists.
    _log_in(page, live_site.url, password="not the password")
    page.wait_for_load_state()
    assert page.get_by_role("alert").inner_text().startswith("You are not logged in")
    assert_accessible(page)

    _log_in(page, live_site.url)
    page.wait_for_url(live_site.url + "/organisations/")  # back where the visitor was
    account = page.get_by_role("navigation", name="Account")
    assert "Amina Diallo" in account.inner_text()
    assert account.get_by_role("link", name="Profile").is_visible()
    assert account.get_by_role("link", name="Log in").count() == 0

    account.get_by_role("link", name="Profile").click()
    page.wait_for_url(live_site.url + "/accounts/profile/")
    assert page.get_by_role("link", name="Ligue des droits", exact=True).is_visible()
    assert_accessible(page)

    account = page.get_by_role("navigation", name="Account")
    account.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_site.url + "/")
    assert "You are logged out." in page.get_by_role("status").inner_text()
    account = page.get_by_role("navigation", name="Account")
    assert account.get_by_role("link", name="Log in").is_visible()
    assert "Amina Diallo" not in account.inner_text()
    desktop.assert_clean()


def test_on_a_phone_the_account_menu_is_in_the_folded_navigation(browser, live_site, amina):
    context, tab = open_tab(browser, live_site, viewport=MOBILE, is_mobile=True, has_touch=True)
    page = tab.page
    page.goto(live_site.url + "/accounts/login/")
    _log_in(page, live_site.url)
    page.wait_for_url(live_site.url + "/accounts/profile/")
    log_out = page.get_by_role("navigation", name="Account").get_by_role("button", name="Log out")
    assert not log_out.is_visible()  # folded with the navigation
    page.get_by_role("button", name="Menu").click()
    assert log_out.is_visible()
    assert page.get_by_role("navigation", name="Account").get_by_text("Amina Diallo").is_visible()
    # Nothing sticks out sideways on a 375 px screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
    log_out.click()
    page.wait_for_url(live_site.url + "/")
    tab.assert_clean()
    context.close()


def test_account_and_organisation_pages_pass_axe(desktop, live_site, amina, assert_accessible):
    from followup.models import Organisation
    from followup.services.organisations import invitation_create

    organisation = Organisation.objects.get(slug="ligue")
    _, token = invitation_create(inviter=amina, organisation=organisation, email="new@example.org", role="editor")
    page = desktop.page
    anonymous = ["/organisations/", "/organisations/ligue/", "/accounts/password/reset/", f"/invitations/{token}/",
                 "/invitations/unknown/"]  # fmt: skip
    for path in anonymous:
        page.goto(live_site.url + path)
        assert_accessible(page)
    # The unknown link answers 404, which the browser reports in its console: that one is expected.
    assert desktop.console_errors == ["Failed to load resource: the server responded with a status of 404 (Not Found)"]
    desktop.console_errors.clear()
    # the account form with its errors
    page.goto(live_site.url + f"/invitations/{token}/")
    page.get_by_role("button", name="Create the account and join").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").is_visible()
    assert_accessible(page)

    page.goto(live_site.url + "/accounts/login/")
    _log_in(page, live_site.url)
    page.wait_for_url(live_site.url + "/accounts/profile/")
    for path in ("/organisations/ligue/members/", "/accounts/password/change/", f"/invitations/{token}/"):
        page.goto(live_site.url + path)
        assert_accessible(page)
    # the invitation form with its errors
    page.goto(live_site.url + "/organisations/ligue/members/")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_load_state()
    assert "“not an address” is not an email address." in page.get_by_role("alert").inner_text()
    assert_accessible(page)
    desktop.assert_clean()
