import pytest


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database holds the real reference data: states, groups, cycles, sessions, issues."""
    from reviews.services import reference_data_load

    with django_db_blocker.unblock():
        reference_data_load()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """The default hasher costs seconds per user on a 2-core machine; tests check behaviour, not hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
