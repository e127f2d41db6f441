"""While the database cannot be reached (a restart, a failover) a page answers 503 with a short page of its own and
Retry-After, the API its error shape: never a traceback, never the generic 500 (uprtrax.api_errors). The real
restart under a real gunicorn is bench/faults.py's postgres_restart (tests/test_faults.py)."""

import pytest
from django.db import InterfaceError, OperationalError
from django.db.backends.utils import CursorWrapper
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_away(monkeypatch):
    """Every query fails as psycopg does when the server is gone (Django wraps it in its own OperationalError)."""

    def unreachable(self, *args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    monkeypatch.setattr(CursorWrapper, "execute", unreachable)


@pytest.fixture
def browser():
    return Client(raise_request_exception=False)


@pytest.mark.parametrize("url", ["/", "/recommendations/", "/states/FRA/", "/statistics/"])
def test_a_page_says_the_database_is_away_for_a_moment(browser, database_away, url):
    response = browser.get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    text = response.content.decode()
    assert 'data-testid="database-unavailable"' in text and "try again in 30 seconds" in text
    assert "Traceback" not in text and "OperationalError" not in text and "5432" not in text


def test_the_api_answers_in_its_error_shape(browser, database_away):
    response = browser.get("/api/v1/recommendations/")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    error = response.json()["error"]
    assert error["code"] == "not_ready" and error["retry_after"] == 30
    assert error["message"].startswith("The database cannot be reached for a moment (nothing is ever half-saved).")


def test_a_connection_already_closed_is_the_same(browser, monkeypatch):
    def closed(self, *args, **kwargs):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(CursorWrapper, "execute", closed)
    assert browser.get("/recommendations/").status_code == 503


def test_another_error_stays_a_500(browser, monkeypatch):
    def broken(self, *args, **kwargs):
        raise ZeroDivisionError

    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = browser.get("/recommendations/")
    assert response.status_code == 500 and "Retry-After" not in response
