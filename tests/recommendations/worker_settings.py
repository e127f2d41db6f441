"""Settings of a Celery worker that a test starts in its own process: the project's own, with uploads read from
the test's media directory (UPRTRAX_TEST_MEDIA_ROOT), where the test process stores them."""

import os

from uprtrax.settings import *  # noqa: F403

MEDIA_ROOT = os.environ["UPRTRAX_TEST_MEDIA_ROOT"]
