import pytest

from uprtrax.celery import app


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database holds the real reference data: states, groups, cycles, sessions, issues."""
    from reviews.services import reference_data_load

    with django_db_blocker.unblock():
        reference_data_load()


@pytest.fixture
def reference_data_restored(django_db_blocker):
    """Requested before transactional_db, so torn down after its flush, which empties every table: the reference
    data the rest of the run needs (tests/conftest.py loads it once) is loaded again."""
    yield
    from reviews.services import reference_data_load

    with django_db_blocker.unblock():
        reference_data_load()


@pytest.fixture
def committed_db(reference_data_restored, transactional_db):
    """Real commits, visible to another process (a Celery worker: tests/workers.py) or thread."""


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """The default hasher costs seconds per user on a 2-core machine; tests check behaviour, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def eager(settings):
    """Celery runs the task in the request, as in `make run` without a broker. The app reads the Django setting
    live (restored after the test), unless a value was set on the app itself: that one is set aside meanwhile."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.finalize()  # else `changes` is a pending view that finds the key in the settings but cannot delete it
    masked = app.conf.changes.pop("task_always_eager", None)
    assert app.conf.task_always_eager is True
    yield
    if masked is not None:
        app.conf.changes["task_always_eager"] = masked


@pytest.fixture
def cast(db):
    """The cast of the permission tests: two organisations, A and B; in A a member, an editor and an admin, in B a
    member; a site moderator; an admin (superuser); and nobody (anonymous, None)."""
    from types import SimpleNamespace

    from followup.models import Membership
    from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

    org_a = OrganisationFactory(name="Ligue des droits A", slug="ligue-a")
    org_b = OrganisationFactory(name="Observatoire B", slug="observatoire-b")
    people = SimpleNamespace(org_a=org_a, org_b=org_b, anonymous=None)
    for name, organisation, role in (
        ("member_a", org_a, Membership.Role.MEMBER),
        ("editor_a", org_a, Membership.Role.EDITOR),
        ("admin_a", org_a, Membership.Role.ADMIN),
        ("member_b", org_b, Membership.Role.MEMBER),
    ):
        setattr(
            people, name, MembershipFactory(user=UserFactory(username=name), organisation=organisation, role=role).user
        )
    people.moderator = UserFactory(username="moderator", is_moderator=True)
    people.admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    return people
