"""The Celery application. Tasks live in each app's tasks.py; the beat schedule is kept here, in one place."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uprtrax.settings")

app = Celery("uprtrax")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.autodiscover_tasks(["uprtrax"])  # uprtrax is not an installed app: name it so that its tasks.py is found

# Periodic jobs (Celery beat). Each entry says why it runs.
app.conf.beat_schedule = {}
