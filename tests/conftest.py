import pytest

from uprtrax.celery import app


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


@pytest.fixture
def eager(settings):
    """Celery runs the task in the request, as in `make run` without a broker. The app reads the Django setting
    live (restored after the test), unless a value was set on the app itself: that one is set aside meanwhile."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    masked = app.conf.changes.pop("task_always_eager", None)
    assert app.conf.task_always_eager is True
    yield
    if masked is not None:
        app.conf.changes["task_always_eager"] = masked
