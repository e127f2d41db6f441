"""`manage.py compute_statistics` and /api/v1/statistics/: the snapshot in one shape, every filter, clear answers to
bad ones."""

import json
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from followup.snapshots import snapshot_read, statistics_recompute
from followup.statistics import BREAKDOWNS, FIGURES
from recommendations.models import ImportRun
from tests.followup.test_statistics_jobs import _data

pytestmark = pytest.mark.django_db

GROUP_KEYS = [*FIGURES, "triggered_action_pct", "fully_implemented_pct", "coverage_pct"]
SHAPE = ["phase", "rule", "cycle", "include_pledges", "computed_at", "duration_seconds", "inputs", "overall", "by"]


def _command(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("compute_statistics", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_computes_stores_and_prints_the_json_shape():
    _data()
    out, _ = _command("--json")
    printed = json.loads(out)
    assert list(printed) == SHAPE
    assert (printed["phase"], printed["rule"], printed["cycle"]) == ("mid_term", "majority", None)
    assert list(printed["overall"]) == GROUP_KEYS
    assert list(printed["by"]) == list(BREAKDOWNS)
    assert printed["by"]["response"]["accepted"]["recommendations"] == 3
    assert list(printed["by"]["cycle"]) == ["2", "3"] and list(printed["by"]["session"]) == ["20", "28"]
    assert set(printed["by"]["sur_state"]) == {"KEN", "BRA"}
    assert printed == snapshot_read(), "what it prints is what it stored"


def test_the_command_takes_phase_rule_and_cycle_and_says_it_in_words():
    _data()
    out, _ = _command("--rule", "highest", "--cycle", "2")
    assert "Implementation statistics, mid_term, rule highest, cycle 2: computed at" in out
    assert "100.0% triggered action (2 of 3 recommendations assessed, coverage 66.7%)." in out
    assert snapshot_read(rule="majority") is None, "only the rule asked for is computed"
    statistics_recompute(rules=("majority",))
    _command("--all")
    assert snapshot_read("next_review", "non_state") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rule", "median"), "argument --rule: invalid choice: 'median' (choose from "),
        (("--phase", "final"), "argument --phase: invalid choice: 'final' (choose from "),
        (("--cycle", "9"), "There is no cycle 9: the cycles are 1, 2, 3, 4."),
    ],
)
def test_the_command_refuses_an_unknown_phase_rule_or_cycle(args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        _command(*args)


def test_the_command_says_when_an_import_is_running():
    ImportRun.objects.create(status=ImportRun.Status.RUNNING, dry_run=False, file_name="session-45.xlsx")
    ImportRun.objects.create(status=ImportRun.Status.RUNNING, dry_run=True, file_name="preview.xlsx")
    _, err = _command()
    assert "An import is running (session-45.xlsx #" in err and "preview.xlsx" not in err
    assert "leave out its data until it finishes" in err


def _api(client, **query):
    return client.get(reverse("api:statistics-list"), query)


def test_the_api_serves_the_snapshot_with_every_filter(client):
    _data()
    statistics_recompute()
    response = _api(client)
    assert response.status_code == 200
    assert response.json() == snapshot_read()
    assert list(response.json()) == SHAPE

    lowest = _api(client, phase="mid_term", rule="lowest", cycle=2).json()
    assert lowest == snapshot_read("mid_term", "lowest", cycle=2)
    assert lowest["overall"]["recommendations"] == 3 and list(lowest["by"]["cycle"]) == ["2"]

    issues = _api(client, breakdown="sur_state").json()
    assert list(issues["by"]) == ["sur_state"] and issues["overall"] == snapshot_read()["overall"]

    nothing = _api(client, cycle=1).json()  # a cycle that exists, without recommendations: zeros
    assert nothing["overall"]["recommendations"] == 0 and nothing["overall"]["triggered_action_pct"] is None


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"rule": "median"}, "rule", "Unknown rule “median”: use one of majority, lowest, highest, latest, non_state."),
        ({"phase": "final"}, "phase", "Unknown phase “final”: use one of mid_term, next_review."),
        ({"breakdown": "gender"}, "breakdown", "Unknown breakdown “gender”: use one of response, action_category,"),
        ({"cycle": "two"}, "cycle", "A cycle is a number such as 3, not “two”."),
        ({"cycle": "9"}, "cycle", "There is no cycle 9: the cycles are 1, 2, 3, 4."),
    ],
)
def test_the_api_answers_a_bad_filter_with_400_naming_it(client, query, field, message):
    response = _api(client, **query)
    assert response.status_code == 400
    assert response.json()["error"]["fields"][field][0].startswith(message)


def test_the_api_says_when_nothing_has_been_computed_yet(client):
    response = _api(client)
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "have not been computed yet" in response.json()["error"]["message"]
