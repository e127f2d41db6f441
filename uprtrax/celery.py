"""The Celery application. Tasks live in each app's tasks.py; the beat schedule is kept here, in one place."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import setup_logging

from uprtrax.env import env_int
from uprtrax.ops.heartbeat import HeartbeatStep
from uprtrax.ops.logs import logging_configure_for_celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uprtrax.settings")

# How often the reapers run (seconds): read here, from the environment, since the schedule is built at import.
JOBS_REAP_SECONDS = float(env_int("UPRTRAX_JOBS_REAP_SECONDS", 60, minimum=1))

app = Celery("uprtrax")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["worker"].add(HeartbeatStep)  # each worker says in Redis that it is alive: /readyz reads it
setup_logging.connect(logging_configure_for_celery)  # worker and beat log as the web does (settings.LOGGING)
app.autodiscover_tasks()
app.autodiscover_tasks(["uprtrax"])  # uprtrax is not an installed app: name it so that its tasks.py is found
app.autodiscover_tasks(["recommendations.imports"])  # the import jobs' tasks live in the imports package

# Periodic jobs (Celery beat). Each entry says why it runs.
app.conf.beat_schedule = {
    # A killed or restarted worker leaves its import "running": once its heartbeat has expired, mark it failed
    # with the reason, so that the page and the API say so and offer to run it again.
    # A reaping not run by the next one is dropped (expires): a worker busy for an hour does not find 60 waiting.
    "import-runs-reap": {
        "task": "recommendations.imports.tasks.import_runs_reap",
        "schedule": JOBS_REAP_SECONDS,
        "options": {"expires": JOBS_REAP_SECONDS},
    },
    # The same for statistics recomputes and data dumps (their heartbeat is in the database); and the jobs queued
    # while the broker was down (or lost with it) are sent again (followup.jobs.jobs_reap).
    "jobs-reap": {
        "task": "followup.tasks.jobs_reap_task",
        "schedule": JOBS_REAP_SECONDS,
        "options": {"expires": JOBS_REAP_SECONDS},
    },
    # Changes recompute the statistics a minute later (followup.snapshots); this nightly run also catches what
    # changed outside the application (the admin's SQL, a restored backup) and fills the snapshots of a new install.
    "statistics-recompute-nightly": {
        "task": "followup.tasks.statistics_recompute_task",
        "schedule": crontab(hour=2, minute=30),
    },
    # The public data dump (followup/dumps): rebuilt nightly, after the statistics' recompute above so that its
    # statistics file holds that night's figures, when few people use the site (it reads every table for minutes).
    "dumps-build-nightly": {"task": "followup.tasks.dumps_build_task", "schedule": crontab(hour=3, minute=15)},
}
