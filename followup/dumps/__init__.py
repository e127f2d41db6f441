"""The public data dump: every public table as gzipped CSV, and all of them in one gzipped JSON Lines file, rebuilt
every night by Celery, so that researchers need not crawl the API.

- tables.py: what each file holds (columns, and rows read from the database);
- build.py: writing a dump from one snapshot of the data, switching to it atomically, keeping the newest few;
- api.py: /api/v1/dumps/, the latest dump's manifest; views.py and urls.py: its files at /dumps/<name>.

The Celery task is followup.tasks.dumps_build_task (nightly, uprtrax/celery.py); `manage.py build_dumps` runs it now.
"""
