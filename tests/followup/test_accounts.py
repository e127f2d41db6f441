"""Accounts: log in and out (throttled by django-axes, one message whatever failed), password reset without user
enumeration, password change, the profile, and the header's account menu."""

import re

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from followup.models import User
from tests.factories import UserFactory
from tests.followup.cast import page_text

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # tests.factories.UserFactory's
NEW_PASSWORD = "a quiet harbour at dawn 42"
LOGIN = reverse("accounts:login")
FAILED = "The username and password do not match an account"


def _main(response) -> str:
    content = response.content.decode()
    main = content[content.index('<main id="main"') : content.index("</main>")]
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", main)


def _header(response) -> str:
    content = response.content.decode()
    return content[content.index("<header") : content.index("</header>")]


def _login(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def amina(db):
    return UserFactory(username="amina", first_name="Amina", last_name="Diallo", email="amina@example.org")


# --- Log in and out ------------------------------------------------------------------------------------------------


def test_login_page_renders_with_bounded_queries(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        response = client.get(LOGIN)
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="csrfmiddlewaretoken"' in content and 'autocomplete="current-password"' in content
    assert 'href="/accounts/password/reset/"' in content


def test_login_redirects_to_the_profile_or_to_next(client, amina):
    response = _login(client, "amina")
    assert response.status_code == 302 and response["Location"] == reverse("accounts:profile")
    assert _logged_in(client)
    client.post(reverse("accounts:logout"))
    response = _login(client, "amina", next="/organisations/")
    assert response["Location"] == "/organisations/"
    client.post(reverse("accounts:logout"))
    assert _login(client, "amina", next="https://evil.example.com/")["Location"] == reverse("accounts:profile")


def test_login_failure_says_the_same_for_an_unknown_username_a_wrong_password_and_an_inactive_account(client, amina):
    UserFactory(username="gone", is_active=False)
    pages = {
        "wrong password": _login(client, "amina", "wrong password"),
        "unknown user": _login(client, "nobody", "wrong password"),
        "inactive": _login(client, "gone"),
    }
    for what, response in pages.items():
        assert response.status_code == 200, what
        assert FAILED in page_text(response), what
        assert not _logged_in(client)
    # The pages differ only by the username typed back into its field.
    wrong, unknown = (
        _main(pages[k]).replace('value="nobody"', 'value="amina"') for k in ("wrong password", "unknown user")
    )
    assert wrong == unknown


def test_login_with_empty_fields_names_them(client):
    text = page_text(_login(client, "", ""))
    assert "Username: This field is required." in text and "Password: This field is required." in text


def test_logout_is_post_only_and_logs_out(client, amina):
    client.force_login(amina)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert _logged_in(client)
    response = client.post(reverse("accounts:logout"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("home") and not _logged_in(client)
    assert "You are logged out." in page_text(response)


# --- Throttling (django-axes) --------------------------------------------------------------------------------------


def test_five_failures_lock_the_username_out_even_with_the_right_password(client, amina, settings):
    for attempt in range(1, settings.AXES_FAILURE_LIMIT):
        assert _login(client, "amina", f"wrong {attempt}").status_code == 200
    locked = _login(client, "amina", "wrong 5")
    assert locked.status_code == 429
    text = page_text(locked)
    assert "Too many failed logins" in text and "After 5 failed attempts for the username amina" in text
    assert "Try again in 15 minutes" in text
    response = _login(client, "amina")
    assert response.status_code == 429 and not _logged_in(client)


def test_a_lockout_leaves_other_usernames_alone(client, amina):
    other = UserFactory(username="other")
    for attempt in range(5):
        _login(client, "amina", f"wrong {attempt}")
    assert _login(client, "amina").status_code == 429
    response = _login(client, "other")
    assert response.status_code == 302 and int(client.session["_auth_user_id"]) == other.pk


def test_a_success_resets_the_failure_count(client, amina):
    for attempt in range(4):
        _login(client, "amina", f"wrong {attempt}")
    assert _login(client, "amina").status_code == 302
    client.post(reverse("accounts:logout"))
    for attempt in range(4):
        assert _login(client, "amina", f"wrong again {attempt}").status_code == 200
    assert _login(client, "amina").status_code == 302


def test_the_lockout_page_escapes_the_username(client):
    for attempt in range(5):
        response = _login(client, "<b>x</b>", f"wrong {attempt}")
    assert response.status_code == 429
    assert "<b>x</b>" not in response.content.decode() and "&lt;b&gt;x&lt;/b&gt;" in response.content.decode()


# --- Password reset ------------------------------------------------------------------------------------------------


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(client, amina, mailoutbox):
    url = reverse("accounts:password_reset")
    known = client.post(url, {"email": "AMINA@example.org"})
    unknown = client.post(url, {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == reverse("accounts:password_reset_done")
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["amina@example.org"]
    done = client.get(known["Location"])
    assert "If an account has this address" in page_text(done)


def test_password_reset_link_sets_a_new_password_and_lifts_a_lockout(client, amina, mailoutbox):
    for attempt in range(5):
        _login(client, "amina", f"wrong {attempt}")
    assert _login(client, "amina").status_code == 429
    client.post(reverse("accounts:password_reset"), {"email": "amina@example.org"})
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mailoutbox[0].body).group(1)
    response = client.get(link)
    assert response.status_code == 302  # Django moves the token out of the address
    form_url = response["Location"]
    response = client.post(form_url, {"new_password1": "short", "new_password2": "short"})
    assert "This password is too short." in page_text(response)
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == reverse("accounts:password_reset_complete")
    assert not AccessAttempt.objects.filter(username="amina").exists()
    assert _login(client, "amina", NEW_PASSWORD).status_code == 302
    # the link worked once
    client.post(reverse("accounts:logout"))
    assert "This link no longer works" in page_text(client.get(link, follow=True))


def test_password_reset_pages_render_with_bounded_queries(client, django_assert_max_num_queries):
    for name in ("password_reset", "password_reset_done", "password_reset_complete"):
        with django_assert_max_num_queries(2):
            assert client.get(reverse(f"accounts:{name}")).status_code == 200


# --- Password change -----------------------------------------------------------------------------------------------


def test_password_change_needs_the_old_password(client, amina):
    url = reverse("accounts:password_change")
    assert client.get(url)["Location"].startswith(LOGIN)
    client.force_login(amina)
    data = {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    assert "Your old password was entered incorrectly" in page_text(client.post(url, data))
    data["old_password"] = PASSWORD
    assert client.post(url, data)["Location"] == reverse("accounts:password_change_done")
    amina.refresh_from_db()
    assert amina.check_password(NEW_PASSWORD) and _logged_in(client)


# --- Profile -------------------------------------------------------------------------------------------------------


def test_profile_lists_organisations_with_roles_and_links(client, cast, django_assert_max_num_queries):
    client.force_login(cast.admin_a)
    with django_assert_max_num_queries(4):
        response = client.get(reverse("accounts:profile"))
    text, content = page_text(response), response.content.decode()
    assert "Ligue des droits A Organisation admin" in text
    assert 'href="/organisations/ligue-a/"' in content and 'href="/organisations/ligue-a/members/"' in content
    client.force_login(cast.member_a)
    content = client.get(reverse("accounts:profile")).content.decode()
    assert 'href="/organisations/ligue-a/members/"' not in content and "Leave" in content


@pytest.mark.parametrize("who", ["anonymous", "member_a", "editor_a", "admin_a", "member_b", "moderator", "admin"])
def test_profile_update_walks_the_cast(client, cast, who):
    user = getattr(cast, who)
    before = dict(User.objects.values_list("username", "email"))
    if user is not None:
        client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"full_name": "New  Name", "email": f"{who}@new.example.org"})
    if user is None:
        assert response["Location"].startswith(LOGIN)
        assert dict(User.objects.values_list("username", "email")) == before
        return
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.get_full_name(), user.email) == ("New Name", f"{who}@new.example.org")
    # nobody else changed
    after = dict(User.objects.values_list("username", "email"))
    assert {k: v for k, v in after.items() if k != user.username} == {
        k: v for k, v in before.items() if k != user.username
    }


def test_profile_refuses_a_taken_email_whatever_its_case_and_a_bad_one(client, cast):
    client.force_login(cast.member_a)
    response = client.post(reverse("accounts:profile"), {"full_name": "Ana", "email": "Editor_A@Example.org"})
    text = page_text(response)
    assert "Your profile is not saved" in text
    assert "Editor_A@example.org is used by another account" in text
    response = client.post(reverse("accounts:profile"), {"full_name": "Ana", "email": "ana@"})
    assert "Email: “ana@” is not an email address." in page_text(response)
    assert 'aria-describedby="id_email_helptext id_email_error"' in response.content.decode()
    cast.member_a.refresh_from_db()
    assert cast.member_a.email == "member_a@example.org"


# --- Header --------------------------------------------------------------------------------------------------------


def test_header_offers_log_in_to_visitors_and_the_account_menu_to_users(client, amina):
    header = _header(client.get(reverse("reviews:state_list")))
    assert "Log in" in header and 'href="/accounts/login/?next=/states/"' in header and "Log out" not in header
    amina.first_name = "<i>Amina</i>"
    amina.save()
    client.force_login(amina)
    header = _header(client.get(reverse("reviews:state_list")))
    assert "&lt;i&gt;Amina&lt;/i&gt; Diallo" in header and "<i>Amina" not in header
    assert 'href="/accounts/profile/"' in header
    logout = re.search(r'<form[^>]*action="/accounts/logout/"[^>]*>(.*?)</form>', header, re.S)
    assert logout and 'method="post"' in logout.group(0) and "csrfmiddlewaretoken" in logout.group(1)
    assert "Log in" not in header
