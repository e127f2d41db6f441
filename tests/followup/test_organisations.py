"""Organisations: the directory and public page, the members page (roles, removal, invitations), invitation links
(accept, create an account, expired, revoked, reused) and the services behind them, walked through the whole cast."""

import datetime
import hashlib
import html
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from followup.models import Assessment, Invitation, Membership, User
from followup.services.organisations import (
    InvitationInvalid,
    account_create_from_invitation,
    invitation_accept,
    invitation_create,
    invitation_revoke,
    membership_remove,
    membership_role_change,
    profile_update,
)
from reviews.models import State
from tests.factories import AssessmentFactory, MembershipFactory, OrganisationFactory, UserFactory
from tests.followup.cast import page_text

pytestmark = pytest.mark.django_db

Role = Membership.Role
CAST = ("anonymous", "member_a", "editor_a", "admin_a", "member_b", "moderator", "admin")
MANAGERS_OF_A = {"admin_a", "admin"}
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a quiet harbour at dawn 42"


def _client(client, cast, who):
    user = getattr(cast, who)
    if user is not None:
        client.force_login(user)
    return client


def _main(response) -> str:
    """The page's main content as text (the header and the CSRF tokens left out)."""
    content = response.content.decode()
    main = content[content.index('<main id="main"') : content.index("</main>")]
    main = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", main)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def _invite(cast, email="new.person@example.org", role=Role.MEMBER, organisation=None, inviter=None):
    organisation = organisation or cast.org_a
    return invitation_create(inviter=inviter or cast.admin_a, organisation=organisation, email=email, role=role)


def _denied(response, who) -> None:
    if who == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    else:
        assert response.status_code == 403


# --- Directory and public page -----------------------------------------------------------------------------------


def test_directory_lists_kind_country_and_counts_only_public_assessments(client, cast, django_assert_max_num_queries):
    kenya = State.objects.get(iso3="KEN")
    nhri = OrganisationFactory(name="Kenya National Commission", slug="knchr", kind="nhri", country=kenya)
    AssessmentFactory.create_batch(3, organisation=nhri)
    AssessmentFactory(organisation=nhri, visibility=Assessment.Visibility.DRAFT)
    AssessmentFactory(organisation=nhri, deleted_at=timezone.now())
    AssessmentFactory(organisation=nhri, hidden_at=timezone.now(), hidden_reason="Insults")
    for n in range(20):
        AssessmentFactory(organisation=OrganisationFactory(name=f"Organisation {n:02}", slug=f"org-{n:02}"))
    with django_assert_max_num_queries(3):
        response = client.get(reverse("organisations:list"))
    assert response.status_code == 200
    rows = re.findall(r"<tr>(.*?)</tr>", response.content.decode(), flags=re.S)
    knchr = next(_row for _row in rows if "Kenya National Commission" in _row)
    cells = [
        " ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split())
        for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", knchr, re.S)
    ]
    # (the name's cell repeats kind and country for phones, where their columns are hidden)
    assert cells[0] == "Kenya National Commission National human rights institution · Kenya"
    assert cells[1:] == ["National human rights institution", "Kenya", "3"]
    assert 'href="/organisations/knchr/"' in response.content.decode()


def test_directory_and_page_escape_names(client):
    organisation = OrganisationFactory(name="<script>alert(1)</script> Watch", slug="watch")
    for url in (reverse("organisations:list"), reverse("organisations:detail", args=["watch"])):
        content = client.get(url).content.decode()
        assert "<script>alert(1)" not in content and "&lt;script&gt;alert(1)&lt;/script&gt; Watch" in content
    assert organisation.pk


def test_organisation_page_shows_facts_and_latest_public_assessments(client, cast, django_assert_max_num_queries):
    cast.org_a.website = "https://ligue.example.org"
    cast.org_a.country = State.objects.get(iso3="FRA")
    cast.org_a.save()
    old = AssessmentFactory(organisation=cast.org_a, assessed_on=datetime.date(2014, 1, 1))
    for day in range(1, 12):
        AssessmentFactory(organisation=cast.org_a, assessed_on=datetime.date(2015, 1, day))
    AssessmentFactory(
        organisation=cast.org_a, visibility="organisation", comment="internal", assessed_on=datetime.date(2016, 1, 1)
    )
    with django_assert_max_num_queries(4):
        response = client.get(reverse("organisations:detail", args=["ligue-a"]))
    text = page_text(response)
    assert "Country France" in text and "https://ligue.example.org" in text
    assert "Members 3" in text and "Public assessments 12" in text
    assert text.count("Partially implemented") == 10  # the ten latest only
    assert (
        reverse("recommendations:recommendation_detail", args=[old.recommendation_id]) not in response.content.decode()
    )
    assert "Manage the members" not in text


def test_organisation_page_offers_management_to_its_admins_only(client, cast):
    for who, sees in (("admin_a", True), ("member_a", False), ("admin", True), ("member_b", False)):
        client.force_login(getattr(cast, who))
        text = page_text(client.get(reverse("organisations:detail", args=["ligue-a"])))
        assert ("Manage the members" in text) is sees, who
    client.force_login(cast.member_a)
    assert "You are member here" in page_text(client.get(reverse("organisations:detail", args=["ligue-a"])))


def test_unknown_organisation_is_a_404(client):
    assert client.get(reverse("organisations:detail", args=["nobody"])).status_code == 404


# --- Members page --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_members_page_is_for_the_organisations_admins_and_site_admins(client, cast, who):
    response = _client(client, cast, who).get(reverse("organisations:members", args=["ligue-a"]))
    if who in MANAGERS_OF_A:
        assert response.status_code == 200
        text = page_text(response)
        assert "member_a" in text and "editor_a" in text and "3 members" in text
        assert "The only admin" in text  # admin_a's role cannot be changed: no form for it
    else:
        _denied(response, who)


def test_members_page_queries_are_bounded(client, cast, django_assert_max_num_queries):
    for n in range(15):
        MembershipFactory(organisation=cast.org_a, user=UserFactory(username=f"extra{n}"))
    for n in range(5):
        invitation_create(inviter=cast.admin_a, organisation=cast.org_a, email=f"p{n}@example.org", role="member")
    client.force_login(cast.admin_a)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("organisations:members", args=["ligue-a"]))
    assert "18 members" in page_text(response) and page_text(response).count("Revoke the invitation") == 5


@pytest.mark.parametrize("who", CAST)
def test_invite_from_the_members_page_walks_the_cast(client, cast, who, mailoutbox, django_capture_on_commit_callbacks):
    url = reverse("organisations:invite", args=["ligue-a"])
    with django_capture_on_commit_callbacks(execute=True):
        response = _client(client, cast, who).post(url, {"email": "amina@example.org", "role": "editor"})
    if who in MANAGERS_OF_A:
        assert response.status_code == 302 and response["Location"] == reverse(
            "organisations:members", args=["ligue-a"]
        )
        invitation = Invitation.objects.get()
        assert (invitation.email, invitation.role, invitation.organisation) == (
            "amina@example.org",
            "editor",
            cast.org_a,
        )
        assert len(mailoutbox) == 1 and mailoutbox[0].to == ["amina@example.org"]
    else:
        _denied(response, who)
        assert not Invitation.objects.exists() and mailoutbox == []


def test_invite_with_bad_input_names_the_field_and_value(client, cast, mailoutbox):
    client.force_login(cast.admin_a)
    url = reverse("organisations:invite", args=["ligue-a"])
    response = client.post(url, {"email": "not-an-address", "role": "owner"})
    assert response.status_code == 200
    text = page_text(response)
    assert "The invitation is not sent" in text
    assert "Email address: “not-an-address” is not an email address." in text
    assert "Select a valid choice. owner is not one of the available choices." in text
    assert 'aria-describedby="id_email_helptext id_email_error"' in response.content.decode()
    response = client.post(url, {"email": "Member_A@Example.org", "role": "member"})
    assert "Member_A@example.org is already a member of Ligue des droits A" in page_text(response)
    assert not Invitation.objects.exists() and mailoutbox == []


@pytest.mark.parametrize("who", CAST)
@pytest.mark.parametrize("role", ["editor", "boss"])
def test_role_change_walks_the_cast(client, cast, who, role):
    membership = Membership.objects.get(user=cast.member_a)
    url = reverse("organisations:role_change", args=["ligue-a", membership.pk])
    response = _client(client, cast, who).post(url, {"role": role})
    membership.refresh_from_db()
    if who in MANAGERS_OF_A:
        assert response.status_code == 302 and membership.role == (Role.EDITOR if role == "editor" else Role.MEMBER)
    else:
        _denied(response, who)  # refused before the role is even read
        assert membership.role == Role.MEMBER


def test_role_change_refuses_an_unknown_role_and_another_organisations_membership(client, cast):
    client.force_login(cast.admin_a)
    membership = Membership.objects.get(user=cast.member_a)
    response = client.post(reverse("organisations:role_change", args=["ligue-a", membership.pk]), {"role": "boss"},
                           follow=True)  # fmt: skip
    assert "“boss” is not a role." in page_text(response)
    membership.refresh_from_db()
    assert membership.role == Role.MEMBER
    other = Membership.objects.get(user=cast.member_b)
    url = reverse("organisations:role_change", args=["ligue-a", other.pk])
    assert client.post(url, {"role": "admin"}).status_code == 404
    url = reverse("organisations:role_change", args=["observatoire-b", other.pk])
    assert client.post(url, {"role": "admin"}).status_code == 403
    other.refresh_from_db()
    assert other.role == Role.MEMBER


@pytest.mark.parametrize("who", CAST)
def test_remove_walks_the_cast(client, cast, who):
    target = MembershipFactory(organisation=cast.org_a, user=UserFactory(username="leaving_soon"))
    response = _client(client, cast, who).post(reverse("organisations:remove", args=["ligue-a", target.pk]))
    removed = not Membership.objects.filter(pk=target.pk).exists()
    if who in MANAGERS_OF_A:
        assert response.status_code == 302 and removed
    else:
        _denied(response, who)
        assert not removed


def test_a_member_leaves_from_the_profile(client, cast):
    client.force_login(cast.member_a)
    membership = Membership.objects.get(user=cast.member_a)
    response = client.post(reverse("organisations:remove", args=["ligue-a", membership.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:profile")
    assert "You are no longer a member of Ligue des droits A." in page_text(response)
    assert not Membership.objects.filter(pk=membership.pk).exists()


@pytest.mark.parametrize("who", CAST)
def test_revoke_walks_the_cast(client, cast, who):
    invitation, _token = _invite(cast)
    response = _client(client, cast, who).post(
        reverse("organisations:invitation_revoke", args=["ligue-a", invitation.pk])
    )
    invitation.refresh_from_db()
    if who in MANAGERS_OF_A:
        assert response.status_code == 302 and invitation.revoked_at is not None
    else:
        _denied(response, who)
        assert invitation.revoked_at is None


def test_writes_refuse_get(client, cast):
    client.force_login(cast.admin_a)
    membership = Membership.objects.get(user=cast.member_a)
    for url in (
        reverse("organisations:invite", args=["ligue-a"]),
        reverse("organisations:role_change", args=["ligue-a", membership.pk]),
        reverse("organisations:remove", args=["ligue-a", membership.pk]),
    ):
        assert client.get(url).status_code == 405


# --- The last admin ------------------------------------------------------------------------------------------------


def test_the_last_admin_can_be_neither_demoted_nor_removed_nor_leave(client, cast):
    own = Membership.objects.get(user=cast.admin_a)
    for actor in (cast.admin_a, cast.admin):
        with pytest.raises(ValidationError, match="last admin of Ligue des droits A"):
            membership_role_change(user=actor, membership_id=own.pk, role="editor")
        with pytest.raises(ValidationError, match="last admin"):
            membership_remove(user=actor, membership_id=own.pk)
    client.force_login(cast.admin_a)
    response = client.post(reverse("organisations:remove", args=["ligue-a", own.pk]), follow=True)
    assert "You are the last admin of Ligue des droits A and cannot leave it" in page_text(response)
    response = client.post(reverse("organisations:role_change", args=["ligue-a", own.pk]), {"role": "member"},
                           follow=True)  # fmt: skip
    assert "cannot be demoted" in page_text(response)
    own.refresh_from_db()
    assert own.role == Role.ADMIN


def test_with_a_second_admin_the_first_may_step_down(cast):
    editor = Membership.objects.get(user=cast.editor_a)
    membership_role_change(user=cast.admin_a, membership_id=editor.pk, role="admin")
    own = Membership.objects.get(user=cast.admin_a)
    assert membership_role_change(user=cast.admin_a, membership_id=own.pk, role="member").role == Role.MEMBER
    # admin_a is no longer an admin: managing is over for them
    with pytest.raises(PermissionDenied):
        membership_role_change(user=cast.admin_a, membership_id=editor.pk, role="member")
    with pytest.raises(ValidationError, match="editor_a is the last admin"):
        membership_remove(user=cast.admin, membership_id=editor.pk)


# --- Invitations: services ----------------------------------------------------------------------------------------


def test_invitation_stores_only_the_tokens_hash_and_mails_the_link_after_commit(
    cast, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.INVITATION_DAYS = 3
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invitation, token = invitation_create(
            inviter=cast.admin_a,
            organisation=cast.org_a,
            email=" Amina@Example.ORG ",
            role="editor",
            site_url="https://uprtrax.example.org/",
        )
    assert mailoutbox == [] and len(callbacks) == 1  # nothing is mailed before the commit
    callbacks[0]()
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in invitation.token_hash
    assert len(token) >= 43 and invitation.email == "Amina@example.org"
    assert abs(invitation.expires_at - (timezone.now() + datetime.timedelta(days=3))) < datetime.timedelta(minutes=1)
    mail = mailoutbox[0]
    assert mail.to == ["Amina@example.org"] and mail.subject == "Invitation to join Ligue des droits A on uprtrax"
    assert f"https://uprtrax.example.org/invitations/{token}/" in mail.body
    assert "as organisation editor" in mail.body


def test_inviting_the_same_address_again_replaces_the_pending_invitation(cast):
    first, first_token = _invite(cast, email="amina@example.org")
    second, second_token = _invite(cast, email="AMINA@example.org", role="admin")
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None
    with pytest.raises(InvitationInvalid) as refused:
        invitation_accept(user=cast.member_b, token=first_token)
    assert refused.value.reason == "unknown"
    assert invitation_accept(user=cast.member_b, token=second_token).role == Role.ADMIN


@pytest.mark.parametrize("who", CAST)
def test_invitation_create_service_walks_the_cast(cast, who):
    user = getattr(cast, who)
    if user is None:
        from django.contrib.auth.models import AnonymousUser

        user = AnonymousUser()
    if who in MANAGERS_OF_A:
        invitation_create(inviter=user, organisation=cast.org_a, email="x@example.org", role="member")
        assert Invitation.objects.count() == 1
    else:
        with pytest.raises(PermissionDenied):
            invitation_create(inviter=user, organisation=cast.org_a, email="x@example.org", role="member")
        assert not Invitation.objects.exists()


def test_accepting_keeps_a_higher_role_and_raises_a_lower_one(cast):
    _, token = _invite(cast, email="editor.elsewhere@example.org", role=Role.MEMBER)
    assert invitation_accept(user=cast.editor_a, token=token).role == Role.EDITOR
    _, token = _invite(cast, email="member.elsewhere@example.org", role=Role.ADMIN)
    assert invitation_accept(user=cast.member_a, token=token).role == Role.ADMIN
    assert Membership.objects.filter(organisation=cast.org_a).count() == 3


def test_revoking_an_accepted_invitation_is_refused(cast):
    invitation, token = _invite(cast)
    invitation_accept(user=cast.member_b, token=token)
    with pytest.raises(ValidationError, match="already accepted"):
        invitation_revoke(user=cast.admin_a, invitation_id=invitation.pk)


def test_account_from_invitation_checks_username_name_password_and_address(cast):
    _, token = _invite(cast, email="amina@example.org")
    with pytest.raises(ValidationError) as refused:
        account_create_from_invitation(token=token, username="Member_A", full_name="", password="12345678")
    errors = refused.value.message_dict
    assert errors["username"] == ["The username “Member_A” is taken: choose another."]
    assert errors["full_name"] == ["Give your name, as your colleagues know it."]
    assert "This password is too common." in errors["password"]
    assert not User.objects.filter(email="amina@example.org").exists()
    UserFactory(username="amina_old", email="AMINA@example.org")
    with pytest.raises(ValidationError, match=r"An account already uses amina@example\.org"):
        account_create_from_invitation(token=token, username="amina", full_name="Amina Diallo", password=NEW_PASSWORD)
    assert Invitation.objects.get().accepted_at is None


# --- Invitation link page ------------------------------------------------------------------------------------------


def test_a_logged_in_user_accepts_on_the_link_page(client, cast, django_assert_max_num_queries):
    _, token = _invite(cast, email="someone@example.org", role=Role.EDITOR)
    client.force_login(cast.member_b)
    url = reverse("organisations:invitation", args=[token])
    with django_assert_max_num_queries(6):
        response = client.get(url)
    text = page_text(response)
    assert "Join Ligue des droits A as organisation editor" in text and "someone@example.org" in text
    response = client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("organisations:detail", args=["ligue-a"])
    assert "You joined Ligue des droits A as organisation editor." in page_text(response)
    assert Membership.objects.get(user=cast.member_b, organisation=cast.org_a).role == Role.EDITOR
    invitation = Invitation.objects.get()
    assert invitation.accepted_by == cast.member_b and invitation.accepted_at is not None
    # used: a second visit, or a second accept, is told so, and changes nothing
    response = client.post(url)
    assert response.status_code == 410 and "This invitation was already used" in page_text(response)
    assert Membership.objects.filter(user=cast.member_b).count() == 2


@pytest.mark.parametrize("who", [w for w in CAST if w != "anonymous"])
def test_everyone_logged_in_can_accept_an_invitation_given_to_them(client, cast, who):
    _, token = _invite(cast, organisation=cast.org_b, email="any@example.org", role=Role.EDITOR, inviter=cast.admin)
    client.force_login(getattr(cast, who))
    response = client.post(reverse("organisations:invitation", args=[token]))
    assert response.status_code == 302
    assert Membership.objects.get(user=getattr(cast, who), organisation=cast.org_b).role == Role.EDITOR


def test_an_anonymous_visitor_creates_an_account_and_joins(client, cast, django_assert_max_num_queries):
    _, token = _invite(cast, email="amina@example.org")
    url = reverse("organisations:invitation", args=[token])
    with django_assert_max_num_queries(4):
        response = client.get(url)
    text = page_text(response)
    assert "Log in to accept" in text and "Create your account" in text
    assert f"{reverse('accounts:login')}?next={url}" in response.content.decode()
    data = {"username": "amina", "full_name": "Amina  Diallo", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    response = client.post(url, data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("organisations:detail", args=["ligue-a"])
    user = User.objects.get(username="amina")
    assert (user.email, user.get_full_name()) == ("amina@example.org", "Amina Diallo")
    assert user.check_password(NEW_PASSWORD) and int(client.session["_auth_user_id"]) == user.pk
    assert Membership.objects.get(user=user).role == Role.MEMBER
    assert "Amina Diallo" in response.content.decode().split("</header>")[0]


def test_account_creation_errors_are_tied_to_their_fields(client, cast):
    _, token = _invite(cast, email="amina@example.org")
    url = reverse("organisations:invitation", args=[token])
    data = {"username": "bad name!", "full_name": "Amina", "password": NEW_PASSWORD, "password_again": "other"}
    response = client.post(url, data)
    text = page_text(response)
    assert response.status_code == 200 and "The account is not created" in text
    assert "The two passwords differ: type the same password twice." in text
    data["password_again"] = data["password"] = "amina@example.org"
    response = client.post(url, data)
    content = response.content.decode()
    assert "“bad name!” is not a valid username: use letters, digits and @ . + - _ only." in page_text(response)
    assert 'aria-describedby="id_username_helptext id_username_error"' in content
    assert not User.objects.filter(email="amina@example.org").exists() and "_auth_user_id" not in client.session


def test_expired_invitation_gets_a_clear_page_and_joins_nobody(client, cast):
    invitation, token = _invite(cast)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    url = reverse("organisations:invitation", args=[token])
    response = client.get(url)
    assert response.status_code == 410 and "This invitation has expired" in page_text(response)
    client.force_login(cast.member_b)
    assert client.post(url).status_code == 410
    assert not Membership.objects.filter(user=cast.member_b, organisation=cast.org_a).exists()


def test_revoked_and_unknown_links_get_the_same_page(client, cast):
    invitation, token = _invite(cast)
    invitation_revoke(user=cast.admin_a, invitation_id=invitation.pk)
    revoked = client.get(reverse("organisations:invitation", args=[token]))
    unknown = client.get(reverse("organisations:invitation", args=["x" * 43]))
    assert revoked.status_code == unknown.status_code == 404
    assert _main(revoked) == _main(unknown) and "This invitation link does not work" in _main(unknown)
    data = {"username": "amina", "full_name": "Amina", "password": NEW_PASSWORD, "password_again": NEW_PASSWORD}
    assert client.post(reverse("organisations:invitation", args=[token]), data).status_code == 404
    assert not User.objects.filter(username="amina").exists()


# --- Profile service -----------------------------------------------------------------------------------------------


def test_profile_update_keeps_email_unique_whatever_its_case(cast):
    with pytest.raises(ValidationError) as refused:
        profile_update(user=cast.member_a, full_name="Ana", email="EDITOR_A@example.org")
    assert refused.value.message_dict == {
        "email": ["EDITOR_A@example.org is used by another account: give another address."]
    }
    user = profile_update(user=cast.member_a, full_name="Ana María  de la Cruz", email="ana@Example.ORG")
    user.refresh_from_db()
    assert (user.get_full_name(), user.email) == ("Ana María de la Cruz", "ana@example.org")
