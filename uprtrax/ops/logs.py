"""Structured logs: one line per request, a request id on every line, the same format in web, worker and beat.

The format itself is settings.LOGGING's (UPRTRAX_LOG_FORMAT: JSON lines through python-json-logger, or plain
text). The request id is django-guid's: its middleware takes a UUID from the X-Request-ID header (anything else is
replaced), makes one otherwise, returns it in the response's X-Request-ID and keeps it in a context variable that
the `request_id` log filter reads. Here: the request log itself, the Celery task fields, and the request id
carried into the tasks a request queues, so that the worker's lines of that task carry it too.

django-guid's own Celery integration is not used: it clears the id after every task, which in eager mode (tasks
run in the request, `make run`) would take the id from the rest of the request and its response.
"""

import logging
import time
import uuid
from collections.abc import Iterator
from contextvars import Token

from celery import current_task
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.utils.functional import SimpleLazyObject, empty
from django_guid.context import guid  # only the context variable: this module is imported before the settings

request_logger = logging.getLogger("uprtrax.requests")

TASK_HEADER = "uprtrax_request_id"


class RequestLogMiddleware:
    """One log line per request: method, path (without the query string, which can be long and personal), status,
    duration_ms, user_id. Second in MIDDLEWARE, after django-guid's, so that it times and sees everything else,
    redirects and static files included. A streamed response (the CSV exports) is logged when its last byte is
    sent, so that its duration is the real one; files are logged at once (WhiteNoise and FileResponse hand the file
    to the server, which must keep doing so)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        if response.streaming and not response.is_async and getattr(response, "file_to_stream", None) is None:
            response.streaming_content = _logged_at_end(response.streaming_content, request, response, started)
        else:
            _request_log(request, response, started)
        return response


def _logged_at_end(content: Iterator[bytes], request, response, started: float) -> Iterator[bytes]:
    try:
        yield from content
    finally:  # also when the client goes away and the server closes the iterator
        _request_log(request, response, started, streamed=True)


def _request_log(request, response, started: float, *, streamed: bool = False) -> None:
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    fields = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": duration_ms,
        "user_id": _user_id(request),
    }
    if streamed:
        fields["streamed"] = True
    message = "%s %s %s %.1fms"
    request_logger.info(message, request.method, request.path, response.status_code, duration_ms, extra=fields)


def _user_id(request) -> int | None:
    """The signed-in user's id, if the request looked at its user: reading it now, for the log, would cost a
    session query that /healthz and /readyz must not make. API requests with a token set it (DRF)."""
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


class CeleryTaskFilter(logging.Filter):
    """task_name and task_id on the lines logged while a task runs (Celery's own task format does it for its plain
    text only)."""

    def filter(self, record: logging.LogRecord) -> bool:
        task = current_task
        if task and task.request.id is not None:
            record.task_name = task.name
            record.task_id = task.request.id
        return True


def logging_configure_for_celery(**kwargs) -> None:
    """Receiver of Celery's setup_logging (uprtrax/celery.py): worker and beat log through settings.LOGGING, like
    the web. Being connected, it also stops Celery from replacing the root logger's handlers with its own format.
    LOG_LEVEL sets the level; the command's -l is not used."""
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)


# --- the request id, carried into tasks ------------------------------------------------------------------------

_task_tokens: dict[str, Token] = {}


def _task_publish(headers: dict, **kwargs) -> None:
    request_id = guid.get()
    if request_id:
        headers[TASK_HEADER] = request_id


def _task_prerun(task_id: str, task, **kwargs) -> None:
    """The id of the request (or task) that queued this one; run eagerly, the request's own; else a new one."""
    request_id = task.request.get(TASK_HEADER) or guid.get() or uuid.uuid4().hex  # django-guid's own format
    _task_tokens[task_id] = guid.set(request_id)


def _task_postrun(task_id: str, **kwargs) -> None:
    token = _task_tokens.pop(task_id, None)
    if token is None:
        return
    try:
        guid.reset(token)  # back to what it was: the request's id for an eager task, none in a worker
    except ValueError:  # set in another context (a pool that runs prerun and postrun apart): start clean
        guid.set(None)


def task_request_id_connect() -> None:
    before_task_publish.connect(_task_publish, dispatch_uid="uprtrax-request-id-publish")
    task_prerun.connect(_task_prerun, dispatch_uid="uprtrax-request-id-prerun")
    task_postrun.connect(_task_postrun, dispatch_uid="uprtrax-request-id-postrun")
