"""The admin's Background jobs page (uprtrax/admin_jobs.py): staff only; imports, recomputes and dumps with their
state, reason, times and who asked; the workers and the broker's queue, "unavailable" (at once) when Redis is down;
the buttons that queue a recompute or a dump, each with its permission."""

import socket
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup.models import DataDump, JobTrigger, StatisticsRecompute
from followup.tasks import dumps_build_task, statistics_recompute_task
from recommendations.models import ImportRun
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/admin/jobs/"


@pytest.fixture
def jobs():
    """One job of each kind in each interesting state."""
    admin = UserFactory(username="ada", first_name="Ada", last_name="Admin", is_staff=True)
    now = timezone.now()
    ImportRun.objects.create(file_name="1-5.csv", status=ImportRun.Status.FAILED, dry_run=False, user=admin,
                             started_at=now - timedelta(minutes=5), finished_at=now - timedelta(minutes=4),
                             error_message="The worker stopped during the import (killed or restarted).")  # fmt: skip
    ImportRun.objects.create(file_name="waiting.csv", status=ImportRun.Status.PENDING, task_id="", user=admin)
    StatisticsRecompute.objects.create(status=StatisticsRecompute.Status.SUCCEEDED, trigger=JobTrigger.NIGHTLY,
                                       started_at=now - timedelta(seconds=12), finished_at=now,
                                       snapshots=30)  # fmt: skip
    StatisticsRecompute.objects.create(status=StatisticsRecompute.Status.FAILED, trigger=JobTrigger.ADMIN, user=admin,
                                       error="The worker stopped during the recompute")  # fmt: skip
    StatisticsRecompute.objects.create(status=StatisticsRecompute.Status.QUEUED, sent_at=None)
    DataDump.objects.create(status=DataDump.Status.RUNNING, trigger=JobTrigger.COMMAND)
    return admin


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_staff_only(client, django_user_model):
    assert client.get(URL).status_code == 302 and "/admin/login/" in client.get(URL)["Location"]
    client.force_login(UserFactory(username="member"))
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_admin_index_links_to_it(admin_client):
    assert f'href="{URL}"' in admin_client.get(reverse("admin:index")).text


def test_every_kind_of_job_with_its_state_reason_times_and_who_asked(admin_client, jobs, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        response = admin_client.get(URL)
    assert response.status_code == 200
    text = response.text
    for expected in (
        "Recommendations: 1-5.csv",
        "The worker stopped during the import (killed or restarted).",
        "By hand (import page or API): Ada Admin",
        "Waiting for the broker, which was unavailable: sent when it answers again.",
        "Nightly (Celery beat)",
        "30 snapshots stored",
        "12.0 s",
        "By hand (admin): Ada Admin",
        "The worker stopped during the recompute",
        "By hand (command line)",
        '<span class="jobs-state jobs-state--running">Running</span>',
        '<span class="jobs-state jobs-state--failed">Failed</span>',
        '<span class="jobs-state jobs-state--queued">Queued</span>',
    ):
        assert expected in text, expected
    kinds = {kind.title: kind.counts for kind in response.context["kinds"]}
    assert kinds == {
        "Imports": {"queued": 1, "running": 0, "failed": 1},
        "Statistics recomputes": {"queued": 1, "running": 0, "failed": 1},
        "Data dumps": {"queued": 0, "running": 1, "failed": 0},
    }


def test_the_live_picture_counts_the_queue(admin_client, settings):
    live = admin_client.get(URL).context["live"]
    assert live.broker_error == "" and isinstance(live.waiting, int) and isinstance(live.taken, int)
    assert live.broker.startswith("redis://") and "@" not in live.broker


def test_with_redis_down_the_page_says_unavailable(admin_client, settings, jobs):
    settings.CELERY_BROKER_URL = settings.REDIS_URL = f"redis://127.0.0.1:{_closed_port()}/0"
    response = admin_client.get(URL)
    assert response.status_code == 200
    live = response.context["live"]
    assert live.broker_error == "Unavailable (ConnectionError)." and live.waiting is None and live.workers is None
    assert response.text.count("unavailable") >= 3
    assert "1-5.csv" in response.text, "the records come from the database alone"


def test_a_staff_member_sees_only_the_kinds_they_may_view(client):
    staff = UserFactory(username="viewer", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_datadump"))
    client.force_login(staff)
    response = client.get(URL)
    assert [kind.title for kind in response.context["kinds"]] == ["Data dumps"]
    assert "Recompute the statistics" not in response.text and "Build the data dump" not in response.text


def test_the_recompute_button_queues_one_for_whoever_pressed_it(
    admin_client, admin_user, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(statistics_recompute_task, "apply_async", lambda **options: sent.append(options))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(URL, {"action": "recompute"}, follow=True)
    run = StatisticsRecompute.objects.get()
    assert (run.trigger, run.user, run.status) == (JobTrigger.ADMIN, admin_user, StatisticsRecompute.Status.QUEUED)
    assert sent == [{"kwargs": {"run_id": run.pk}, "countdown": 0, "task_id": run.task_id}]
    assert f"Statistics recompute #{run.pk}" in response.text
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(URL, {"action": "recompute"}, follow=True)
    assert f"Statistics recompute #{run.pk} was already queued" in response.text
    assert StatisticsRecompute.objects.count() == 1, "the queued one covers a second press"


def test_the_dump_button_queues_the_build_or_says_the_broker_is_down(admin_client, admin_user, monkeypatch):
    sent = []
    monkeypatch.setattr(dumps_build_task, "apply_async", lambda **options: sent.append(options))
    response = admin_client.post(URL, {"action": "dump"}, follow=True)
    assert sent == [{"kwargs": {"trigger": "admin", "user_id": admin_user.pk}}]
    assert "The data dump&#x27;s build was queued" in response.text

    def refuse(**options):
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(dumps_build_task, "apply_async", refuse)
    response = admin_client.post(URL, {"action": "dump"}, follow=True)
    assert "The data dump could not be queued: the broker is unavailable (ConnectionError)" in response.text


def test_the_buttons_need_their_permission_and_the_csrf_token(client, monkeypatch):
    monkeypatch.setattr(statistics_recompute_task, "apply_async", lambda **options: None)
    staff = UserFactory(username="looker", is_staff=True)
    client.force_login(staff)
    assert client.post(URL, {"action": "recompute"}).status_code == 403
    assert client.post(URL, {"action": "dump"}).status_code == 403
    assert not StatisticsRecompute.objects.exists()

    checked = Client(enforce_csrf_checks=True)
    checked.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert checked.post(URL, {"action": "recompute"}).status_code == 403
    assert not StatisticsRecompute.objects.exists()


def test_an_unknown_action_is_named(admin_client):
    response = admin_client.post(URL, {"action": "reboot"}, follow=True)
    assert "Unknown action &quot;reboot&quot;: the actions are recompute and dump." in response.text
