"""What the fault scenarios (bench/faults.py) run on: processes of our own on loopback, started and stopped here.

- Environment: a PostgreSQL 15 cluster of our own (initdb in a temporary folder; as root, its commands run as the
  user postgres), with a template database migrated and filled once (reference data, `generate_dataset`, the
  statistics, a staff user, a member of an organisation with a write token), copied for each scenario.
- Stack: one scenario's redis-server (no persistence: a restart starts it empty), gunicorn, Celery worker (solo pool)
  and Celery beat, with production settings (DEBUG off) on that copy, short heartbeats and fast reaping.
- Session, http_get: a signed-in client and plain requests (the standard library's urllib); Browsing: clients
  reading pages in threads, every answer kept with its time.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.cookiejar import CookieJar
from pathlib import Path
from urllib import error as urlerror
from urllib import parse as urlparse
from urllib import request as urlrequest

import psycopg

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def _pg_bin() -> Path:
    """UPRTRAX_PG_BIN, else the newest PostgreSQL of Debian's packages (/usr/lib/postgresql/<version>/bin)."""
    if os.environ.get("UPRTRAX_PG_BIN"):
        return Path(os.environ["UPRTRAX_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parts[-3]))
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
REDIS_SERVER = os.environ.get("UPRTRAX_REDIS_SERVER", "/usr/bin/redis-server")
TEMPLATE_DB = "faults_template"
IMPORTS, RECOMPUTES = "recommendations_importrun", "followup_statisticsrecompute"  # the jobs' tables
UNAVAILABLE_MARKER = b'data-testid="database-unavailable"'
HEARTBEAT_SECONDS = 4  # the jobs' heartbeats (imports' and the others'), so that a dead worker's job is seen soon
REAP_SECONDS = 2  # beat runs the reapers this often


def services_missing() -> str:
    """Why the scenarios cannot run here ("" when they can): PostgreSQL's and Redis's programs, and as root a user
    postgres to run PostgreSQL as."""
    if not (PG_BIN / "initdb").exists():
        return f"{PG_BIN / 'initdb'} is missing (PostgreSQL's server package; or set UPRTRAX_PG_BIN)"
    if not Path(REDIS_SERVER).exists():
        return f"{REDIS_SERVER} is missing (redis-server; or set UPRTRAX_REDIS_SERVER)"
    if os.geteuid() == 0 and (shutil.which("runuser") is None or not _user_exists("postgres")):
        return "running as root needs runuser and a user postgres to run PostgreSQL as"
    return ""


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@dataclass(frozen=True)
class Sizes:
    recommendations: int = 20_000
    assessments: int = 60_000
    import_rows: int = 6_000  # of the generated file, when the real one is missing (or --generated-import)
    real_import: bool = True  # the real UPR Info file when it exists
    clients: int = 4
    phase_seconds: float = 5.0  # browsing before and after a fault
    outage_seconds: float = 10.0  # Redis stopped this long
    job_timeout: float = 90.0  # the longest wait for a job's state


SMALL = Sizes(
    recommendations=2_000,
    assessments=6_000,
    import_rows=1_500,
    real_import=False,
    clients=2,
    phase_seconds=2.0,
    outage_seconds=4.0,
    job_timeout=90.0,
)


class ScenarioError(Exception):
    """A scenario could not go on (a wait that timed out, a request refused): its last check, failed."""


# --- Processes and services ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable, *, timeout: float, what: str, interval: float = 0.2):
    """predicate()'s first true value, polled until `timeout` seconds; ScenarioError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise ScenarioError(f"{what}: not within {timeout:g} s")
        time.sleep(interval)


class Process:
    """A child process in its own session (its group is signalled whole), its output in a log file."""

    def __init__(self, name: str, args: list[str], *, env: dict, log: Path, cwd: Path = REPO):
        self.name, self.log_path = name, log
        self._log = log.open("ab")
        self.popen = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, number: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, number)

    def kill(self) -> None:
        """SIGKILL to the whole group: no shutdown, no acknowledgement, as the OOM killer or a lost host does."""
        self.signal(signal.SIGKILL)
        self.popen.wait(timeout=30)
        self._log.close()

    def stop(self, timeout: float = 15) -> None:
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._log.close()

    def output(self, tail: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-tail:] if self.log_path.exists() else ""

    def children(self) -> list[int]:
        """The pids of its children (gunicorn's workers), from /proc."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == self.popen.pid:
                    found.append(int(entry.name))
        return sorted(found)


def _as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: as root, its commands run as the user postgres."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


class Postgres:
    """A PostgreSQL cluster of our own in `root`/pg, on a free loopback port, trusting local connections."""

    def __init__(self, root: Path):
        self.root = root
        self.data, self.sockets, self.log = root / "pg" / "data", root / "pg" / "sockets", root / "pg" / "server.log"
        self.port = free_port()

    def start(self) -> None:
        (self.root / "pg").mkdir()
        self.sockets.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.root / "pg", "postgres", "postgres")
            shutil.chown(self.sockets, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
        )
        self._ctl("start")

    def _ctl(self, action: str, *extra: str) -> float:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        started = time.monotonic()
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.log),
                    "-w",
                    "-t",
                    "60",
                    *extra,
                    action,
                ]
            ),
            check=True,
            capture_output=True,
        )
        return time.monotonic() - started

    def restart(self) -> float:
        """pg_ctl restart -m fast (every connection cut), waiting until it accepts connections; its seconds."""
        return self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        if self.data.exists():
            subprocess.run(
                _as_postgres(
                    [
                        str(PG_BIN / "pg_ctl"),
                        "-D",
                        str(self.data),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ]
                ),
                capture_output=True,
            )

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = "postgres", **options) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            dbname=database,
            autocommit=True,
            connect_timeout=5,
            **options,
        )


class Redis:
    """redis-server of our own on a free loopback port, without persistence: a restart starts it empty."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        self.process: Process | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        self.process = Process(
            f"redis-{self.starts}",
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            env=dict(os.environ),
            log=self.root / "redis.log",
        )
        wait_until(self.answers, timeout=20, what="redis-server to answer")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


# --- The environment: the cluster and its template database ---------------------------------------------------------


@dataclass
class Credentials:
    admin: str
    password: str
    token: str
    organisation: str


_SETUP = """
import json, secrets
from followup.models import Membership, Organisation, User
from followup.services.tokens import token_create
password = secrets.token_urlsafe(18)
User.objects.create_superuser("faults-admin", "faults-admin@example.org", password)
organisation = Organisation.objects.order_by("pk").first()
member = User.objects.create_user("faults-member", "faults-member@example.org", secrets.token_urlsafe(18))
Membership.objects.create(user=member, organisation=organisation, role=Membership.Role.EDITOR)
token, key = token_create(user=member, name="fault scenarios", scope="write_assessments")
print("FAULTS-SETUP " + json.dumps({"admin": "faults-admin", "password": password, "token": key,
                                    "organisation": organisation.slug}))
"""


class Environment:
    """The PostgreSQL cluster and template database every scenario copies; made once, stopped at the end."""

    def __init__(self, sizes: Sizes = Sizes(), *, root: Path | None = None, keep: bool = False):
        self.sizes, self.keep = sizes, keep
        self.root = root or Path(tempfile.mkdtemp(prefix="uprtrax-faults-"))
        self.root.chmod(0o755)  # PostgreSQL's user reaches its folder below
        self.postgres = Postgres(self.root)
        self.credentials: Credentials | None = None
        self.setup_seconds = 0.0
        self._databases = 0

    def __enter__(self) -> "Environment":
        started = time.monotonic()
        self.postgres.start()
        with self.postgres.connect() as conn:
            conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        env = self.env(database=TEMPLATE_DB, redis_url="")
        manage(env, "migrate", "-v0")
        manage(env, "load_reference_data", "-v0")
        manage(
            env,
            "generate_dataset",
            "--recommendations",
            str(self.sizes.recommendations),
            "--assessments",
            str(self.sizes.assessments),
            "--seed",
            "8",
        )
        manage(env, "compute_statistics", "--all")  # the snapshots every scenario starts with
        printed = manage(env, "shell", "-c", _SETUP)
        found = re.search(r"FAULTS-SETUP (\{.*\})", printed)
        if not found:
            raise ScenarioError(f"the setup printed no credentials: {printed[-500:]}")
        self.credentials = Credentials(**json.loads(found.group(1)))
        self.setup_seconds = time.monotonic() - started
        return self

    def __exit__(self, *exc) -> None:
        self.postgres.stop()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def database_copy(self) -> str:
        """A fresh copy of the template for one scenario."""
        self._databases += 1
        name = f"faults_{self._databases}"
        with self.postgres.connect() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
        return name

    def env(self, *, database: str, redis_url: str, media: Path | None = None) -> dict[str, str]:
        """The environment of every process of a scenario: production settings (DEBUG off) on our services, the API's
        and pages' rate limits out of the way (the clients are all 127.0.0.1), short heartbeats and reaping."""
        keep = {
            name: value
            for name, value in os.environ.items()
            if name in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV")
        }
        return {
            **keep,
            "PYTHONPATH": str(REPO),
            "DJANGO_SETTINGS_MODULE": "uprtrax.settings",
            "DJANGO_SECRET_KEY": "fault-scenarios-only-not-a-secret",
            "DJANGO_DEBUG": "0",
            "DJANGO_HTTPS": "0",
            "DJANGO_STATIC_MANIFEST": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": self.postgres.url(database),
            "REDIS_URL": redis_url,
            "DJANGO_MEDIA_ROOT": str(media or self.root / "media"),
            "LOG_LEVEL": "INFO",
            "UPRTRAX_API_RATE_ANON": "100000/second",
            "UPRTRAX_API_RATE_TOKEN": "100000/second",
            "UPRTRAX_RATE_SEARCH": "100000/second",
            "UPRTRAX_RATE_EXPORT": "100000/second",
            "UPRTRAX_RATE_LOGIN": "100000/second",
            "UPRTRAX_STATISTICS_RECOMPUTE_DELAY": "1",
            "UPRTRAX_IMPORT_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "UPRTRAX_JOBS_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "UPRTRAX_JOBS_REAP_SECONDS": str(REAP_SECONDS),
            "UPRTRAX_WORKER_HEARTBEAT_SECONDS": "1",
            "UPRTRAX_WORKER_HEARTBEAT_STALE_SECONDS": "5",
        }


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode:
        raise ScenarioError(f"manage.py {args[0]} failed ({done.returncode}): {(done.stderr or done.stdout)[-1500:]}")
    return done.stdout


class Stack:
    """One scenario's Redis, gunicorn, Celery worker and beat, on a fresh copy of the template database."""

    def __init__(self, environment: Environment, name: str):
        self.environment = environment
        self.folder = environment.root / name
        self.folder.mkdir()
        self.database = environment.database_copy()
        self.redis = Redis(self.folder)
        self.redis.start()
        self.env = environment.env(database=self.database, redis_url=self.redis.url(0), media=self.folder / "media")
        self.web_port = free_port()
        self.base = f"http://127.0.0.1:{self.web_port}"
        self.web: Process | None = None
        self.worker: Process | None = None
        self.beat: Process | None = None
        self.workers_started = 0

    def start(self, *, beat: bool = True) -> "Stack":
        self.web = Process(
            "web",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "uprtrax.wsgi",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            env=self.env,
            log=self.folder / "web.log",
        )
        self.worker_start()
        if beat:
            self.beat = Process(
                "beat",
                [
                    PYTHON,
                    "-m",
                    "celery",
                    "-A",
                    "uprtrax",
                    "beat",
                    "-s",
                    str(self.folder / "beat-schedule"),
                    "-l",
                    "info",
                ],
                env=self.env,
                log=self.folder / "beat.log",
            )
        wait_until(
            lambda: http_get(self.base + "/healthz", timeout=2).status == 200,
            timeout=60,
            what="gunicorn to answer /healthz",
        )
        self.worker_ready()
        return self

    def worker_start(self) -> Process:
        self.workers_started += 1
        log = self.folder / f"worker-{self.workers_started}.log"
        self.worker = Process(
            "worker",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "uprtrax",
                "worker",
                "--pool=solo",
                "-n",
                f"faults{self.workers_started}-{uuid.uuid4().hex[:6]}@%h",
                "--without-mingle",
                "--without-gossip",
                "-l",
                "info",
            ],
            env=self.env,
            log=log,
        )
        return self.worker

    def worker_ready(self, timeout: float = 60) -> None:
        worker = self.worker
        wait_until(
            lambda: "ready." in worker.output(100_000) or not worker.alive(),
            timeout=timeout,
            what="the Celery worker to be ready",
        )
        if not worker.alive():
            raise ScenarioError(f"the Celery worker exited: {worker.output()}")

    def stop(self) -> None:
        """The scenario is over: nothing of it needs a graceful end (and a warm shutdown costs seconds each)."""
        for process in (self.web, self.worker, self.beat):
            if process is not None and process.alive():
                process.kill()
        self.redis.stop()

    def connect(self) -> psycopg.Connection:
        return self.environment.postgres.connect(self.database)

    def scalar(self, sql: str, params=None):
        with self.connect() as conn:
            return conn.execute(sql, params).fetchone()[0]

    def counts(self) -> dict[str, int]:
        """What the data holds (what no fault may change)."""
        tables = {
            "recommendations": "recommendations_recommendation",
            "recommendation issues": "recommendations_recommendation_issues",
            "recommending states": "recommendations_recommendation_recommending_states",
            "reviews": "reviews_review",
            "assessments": "followup_assessment",
            "snapshots": "followup_statisticssnapshot",
        }
        with self.connect() as conn:
            return {name: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for name, table in tables.items()}

    def job_state(self, table: str, pk: int) -> str | None:
        """The status of job `pk` in `table` (IMPORTS, RECOMPUTES)."""
        with self.connect() as conn:
            row = conn.execute(f"SELECT status FROM {table} WHERE id = %s", [pk]).fetchone()
        return row[0] if row else None

    def job_end(self, table: str, pk: int, what: str) -> str:
        """The status job `pk` ends with (succeeded, dry_run or failed), waited for up to the job timeout."""
        return wait_until(
            lambda: (state := self.job_state(table, pk)) in ("succeeded", "dry_run", "failed") and state,
            timeout=self.environment.sizes.job_timeout,
            what=f"{what} to end",
        )

    def session(self) -> "Session":
        credentials = self.environment.credentials
        session = Session(self.base)
        session.login(credentials.admin, credentials.password)
        return session


# --- HTTP ------------------------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int  # 0: no answer (connection refused or reset, timeout)
    body: bytes
    seconds: float
    error: str = ""

    def json(self) -> dict:
        try:
            return json.loads(self.body or b"{}")
        except ValueError:
            return {}


def http_send(opener, req, timeout: float) -> Answer:
    started = time.monotonic()
    try:
        with opener(req, timeout=timeout) as response:
            return Answer(response.status, response.read(), time.monotonic() - started)
    except urlerror.HTTPError as error:
        return Answer(error.code, error.read(), time.monotonic() - started)
    except (urlerror.URLError, OSError) as error:
        return Answer(0, b"", time.monotonic() - started, f"{type(error).__name__}: {error}")


def http_get(url: str, *, timeout: float = 30, headers: dict | None = None) -> Answer:
    return http_send(urlrequest.urlopen, urlrequest.Request(url, headers=headers or {}), timeout)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (file_name, content) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{file_name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Session:
    """A signed-in browser: cookies, and the CSRF token sent back with every write."""

    def __init__(self, base: str):
        self.base = base
        self.jar = CookieJar()
        self.opener = urlrequest.build_opener(urlrequest.HTTPCookieProcessor(self.jar)).open

    def request(
        self, method: str, path: str, *, body: bytes | None = None, content_type: str = "", timeout: float = 60
    ) -> Answer:
        headers = {"X-CSRFToken": self.cookie("csrftoken"), "Referer": self.base + path}
        if content_type:
            headers["Content-Type"] = content_type
        req = urlrequest.Request(self.base + path, data=body, method=method, headers=headers)
        return http_send(self.opener, req, timeout)

    def cookie(self, name: str) -> str:
        return next((cookie.value for cookie in self.jar if cookie.name == name), "")

    def login(self, username: str, password: str) -> None:
        form = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        if form.status != 200 or not token:
            raise ScenarioError(f"the login page answered {form.status} {form.error}")
        body = urlparse.urlencode(
            {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1).decode()}
        ).encode()
        self.request("POST", "/accounts/login/", body=body, content_type="application/x-www-form-urlencoded")
        if not self.cookie("sessionid"):
            raise ScenarioError("the staff user could not log in")

    def form(self, path: str, fields: dict[str, str]) -> Answer:
        body = urlparse.urlencode({**fields, "csrfmiddlewaretoken": self.cookie("csrftoken")}).encode()
        return self.request("POST", path, body=body, content_type="application/x-www-form-urlencoded")

    def import_start(self, file_name: str, content: bytes) -> Answer:
        body, content_type = multipart({"kind": "recommendations"}, {"file": (file_name, content)})
        return self.request("POST", "/api/v1/imports/", body=body, content_type=content_type)


# --- Browsing --------------------------------------------------------------------------------------------------------


@dataclass
class Hit:
    at: float  # when it was sent
    url: str
    status: int
    seconds: float
    clean_503: bool  # the database-unavailable page or the API's not_ready error, with Retry-After
    traceback: bool


class Browsing:
    """`clients` threads requesting the URLs in turn, as fast as answers come, until stopped; every answer kept."""

    def __init__(self, base: str, urls: list[str], clients: int):
        self.base, self.urls, self.clients = base, urls, clients
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(clients)]

    def __enter__(self) -> "Browsing":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _run(self, offset: int) -> None:
        n = offset
        while not self._stop.is_set():
            url = self.urls[n % len(self.urls)]
            n += 1
            at = time.monotonic()
            answer = http_get(self.base + url, timeout=30)
            clean = answer.status == 503 and (UNAVAILABLE_MARKER in answer.body or b'"not_ready"' in answer.body)
            hit = Hit(at, url, answer.status, answer.seconds, clean, b"Traceback" in answer.body)
            with self._lock:
                self.hits.append(hit)

    def phases(self, start: float, fault: float, back: float, end: float) -> tuple[list[Hit], list[Hit], list[Hit]]:
        """The requests answered before the fault began; those that met it (sent before it ended, answered after it
        began); those sent after it ended (until `end`)."""
        before, during, after = [], [], []
        with self._lock:
            for hit in self.hits:
                if hit.at < start or hit.at >= end:
                    continue
                if hit.at + hit.seconds < fault:
                    before.append(hit)
                elif hit.at < back:
                    during.append(hit)
                else:
                    after.append(hit)
        return before, during, after


def phase_figures(name: str, hits: list[Hit]) -> str:
    statuses = Counter(hit.status for hit in hits)
    times = sorted(hit.seconds * 1000 for hit in hits)
    if not times:
        return f"{name}: no request"
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    shown = ", ".join(f"{status or 'no answer'}: {count}" for status, count in sorted(statuses.items()))
    return f"{name}: {len(hits)} requests ({shown}), median {statistics.median(times):.0f} ms, p95 {p95:.0f} ms"


def failures(hits: list[Hit]) -> list[Hit]:
    return [hit for hit in hits if hit.status != 200]


def failed_urls(hits: list[Hit]) -> str:
    return ", ".join(f"{hit.status or 'no answer'} {hit.url}" for hit in hits[:5])
