"""The production deployment files hold together: docker-compose.yml, the Dockerfile, .dockerignore, docker/.

No Docker daemon is needed: the files are parsed, and every command they name is checked against the code (the
management command exists and accepts its options, the Celery app and subcommand exist, gunicorn's application
imports, health-check URLs resolve to a view, copied files exist and reach the build context).
"""

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from importlib import import_module
from pathlib import Path

import gunicorn.config
import pytest
import yaml
from celery import Celery
from celery.app.utils import find_app
from celery.bin.base import CLIContext
from celery.bin.celery import celery as celery_cli
from django.apps import apps
from django.conf import settings
from django.core.management import get_commands, load_command_class
from django.core.management.base import CommandError
from django.urls import resolve

from uprtrax import views

REPO = Path(__file__).resolve().parent.parent
APP_ROOT = "/app"  # WORKDIR of the image
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ("release", "web", "worker", "beat")  # the uprtrax image, each with its own command
LONG_RUNNING = ("web", "worker", "beat", "postgres", "redis")
ONE_SHOT = ("release",)
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE", re.IGNORECASE)
URL_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^/\s@]+@")


# --- helpers ---------------------------------------------------------------------------------------------


def _argv(command) -> list[str]:
    if isinstance(command, list):
        return [str(part) for part in command]
    return shlex.split(command)


def _simple_commands(command) -> list[list[str]]:
    """The programs a Compose command or health check runs: `sh -c "a && b"` and CMD-SHELL are split."""
    argv = _argv(command)
    if argv and argv[0] == "CMD":
        argv = argv[1:]
    elif argv and argv[0] == "CMD-SHELL":
        argv = ["sh", "-c", " ".join(argv[1:])]
    if argv[:2] in (["sh", "-c"], ["/bin/sh", "-c"]):
        script = argv[2].replace("$$", "$")  # Compose's escape for a literal $
        return [shlex.split(part) for part in re.split(r"&&|\|\||;", script) if part.strip()]
    return [argv]


def _check_manage_py(argv: list[str]) -> None:
    name, options = argv[0], argv[1:]
    commands = get_commands()
    assert name in commands, f"manage.py {name}: no such management command"
    parser = load_command_class(commands[name], name).create_parser("manage.py", name)
    try:
        parser.parse_args(options)
    except CommandError as exc:
        pytest.fail(f"manage.py {name} {' '.join(options)}: {exc}")


def _check_celery(argv: list[str]) -> None:
    assert argv[:2] in (["-A", "uprtrax"], ["--app", "uprtrax"]), f"celery {argv}: the app must be -A uprtrax"
    app = find_app("uprtrax")
    assert isinstance(app, Celery)
    assert app.main == "uprtrax"
    subcommand, options = argv[2], argv[3:]
    assert subcommand in celery_cli.commands, f"celery {subcommand}: no such celery command"
    context = CLIContext(app=app, no_color=True, workdir=None, quiet=True)
    try:
        celery_cli.commands[subcommand].make_context(subcommand, list(options), obj=context)
    except Exception as exc:  # click's usage errors
        pytest.fail(f"celery {subcommand} {' '.join(options)}: {exc}")


def _check_gunicorn(argv: list[str]) -> None:
    parser = gunicorn.config.Config().parser()
    parser.exit_on_error = False
    try:
        parsed = parser.parse_args(argv)
    except Exception as exc:
        pytest.fail(f"gunicorn {' '.join(argv)}: {exc}")
    assert parsed.args == ["uprtrax.wsgi:application"]
    module, _, attribute = parsed.args[0].partition(":")
    application = getattr(import_module(module), attribute)
    assert callable(application)
    if parsed.config:
        _gunicorn_config(_repo_path(parsed.config))


def _gunicorn_config(path: Path, **environment: str) -> dict:
    """The settings a gunicorn config file makes (with these variables set), each checked by gunicorn itself."""
    import runpy

    assert path.is_file(), f"gunicorn --config {path}: no such file"
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    try:
        values = {k: v for k, v in runpy.run_path(str(path)).items() if not k.startswith("_") and k != "os"}
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    config = gunicorn.config.Config()
    for name, value in values.items():
        assert name in config.settings, f"{path.name}: {name} is no gunicorn setting"
        config.set(name, value)  # gunicorn's validation
    return {name: getattr(config, name) for name in [*values, "worker_class_str"]}


def _repo_path(path: str) -> Path:
    """Where a path of the image (under WORKDIR /app, or relative to it) lies in the repository."""
    relative = path.removeprefix(APP_ROOT + "/") if path.startswith("/") else path
    assert not relative.startswith("/"), f"{path} is outside the application directory"
    return REPO / relative


def _check_python(argv: list[str]) -> None:
    if argv[0] == "manage.py":
        _check_manage_py(argv[1:])
        return
    script = _repo_path(argv[0])
    assert script.is_file(), f"python {argv[0]}: no such file"
    for argument in argv[1:]:
        if argument.startswith("http://"):
            _check_url(argument)


def _check_url(url: str) -> None:
    path = "/" + url.split("://", 1)[1].partition("/")[2]
    assert resolve(path.split("?")[0]), f"{url}: no view"


_DEFAULT = re.compile(r"\$\{[A-Z_]+:-([^}]*)\}")


def _check_postgres(argv: list[str]) -> None:
    """Every `-c name=value` names a real setting, and its value (the default of a ${VAR:-default}) is one the
    server accepts: checked against the running PostgreSQL, whose pg_settings knows names, units and bounds."""
    from django.db import connection

    assert len(argv) % 2 == 0 and all(flag == "-c" for flag in argv[::2]), argv
    for option in argv[1::2]:
        name, value = option.split("=", 1)
        value = _DEFAULT.sub(lambda m: m.group(1), value)
        with connection.cursor() as cursor:
            cursor.execute("SELECT vartype, unit FROM pg_settings WHERE name = %s", [name])
            row = cursor.fetchone()
            assert row, f"postgres: no setting {name!r}"
            vartype, unit = row
            if unit and unit.endswith("B"):  # memory: the server's own parser reads "2GB"
                cursor.execute("SELECT pg_size_bytes(%s)", [value])
            elif vartype == "real":
                float(value)


def _check_command(argv: list[str], service: str) -> None:
    program = argv[0]
    if program in ("python", "python3"):
        _check_python(argv[1:])
    elif program == "celery":
        _check_celery(argv[1:])
    elif program == "gunicorn":
        _check_gunicorn(argv[1:])
    elif program in ("pg_isready",):
        assert service == "postgres"
    elif program == "postgres":
        assert service == "postgres"
        _check_postgres(argv[1:])
    elif program in ("redis-cli", "redis-server"):
        assert service == "redis"
    else:
        pytest.fail(f"{service}: unknown program {program!r}: teach tests/test_compose.py how to check it")


def _all_commands() -> list[tuple[str, list[str]]]:
    found = []
    for name, service in SERVICES.items():
        for command in (service.get("command"), service.get("healthcheck", {}).get("test")):
            if command:
                found.extend((name, argv) for argv in _simple_commands(command))
    return found


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    instructions, pending = [], ""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def _instructions(keyword: str) -> list[str]:
    return [arguments for instruction, arguments in _dockerfile() if instruction == keyword]


def _copy_sources() -> list[str]:
    """Sources of the COPY instructions that take files from the build context (not --from another stage)."""
    sources = []
    for arguments in _instructions("COPY"):
        parts = shlex.split(arguments)
        flags = [part for part in parts if part.startswith("--")]
        if any(flag.startswith("--from=") for flag in flags):
            continue
        paths = [part for part in parts if not part.startswith("--")]
        sources.extend(paths[:-1])
    return sources


def _dockerignore_patterns() -> list[str]:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _pattern_regex(pattern: str) -> re.Pattern:
    regex, index = "", 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex, index = regex + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            regex, index = regex + ".*", index + 2
        elif pattern[index] == "*":
            regex, index = regex + "[^/]*", index + 1
        elif pattern[index] == "?":
            regex, index = regex + "[^/]", index + 1
        else:
            regex, index = regex + re.escape(pattern[index]), index + 1
    return re.compile(regex + r"\Z")


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matching a directory excludes what it holds."""
    parts = path.strip("/").split("/")
    ignored = False
    for raw in patterns:
        negated = raw.startswith("!")
        regex = _pattern_regex(raw.removeprefix("!").strip("/"))
        if any(regex.match("/".join(parts[:depth])) for depth in range(1, len(parts) + 1)):
            ignored = not negated
    return ignored


def _literal_secrets(node, where: str = "") -> list[str]:
    """Places in a parsed Compose file where a secret is written out instead of coming from the environment."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{where}.{key}" if where else str(key)
            if SECRET_NAME.search(str(key)) and isinstance(value, str | int) and not str(value).startswith("${"):
                found.append(here)
            found.extend(_literal_secrets(value, here))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            here = f"{where}[{index}]"
            if isinstance(value, str) and "=" in value:
                name, _, literal = value.partition("=")
                if SECRET_NAME.search(name) and literal and not literal.startswith("${"):
                    found.append(here)
            found.extend(_literal_secrets(value, here))
    elif isinstance(node, str) and URL_WITH_PASSWORD.search(node):
        found.append(where)
    return found


# --- docker-compose.yml ----------------------------------------------------------------------------------


def test_compose_declares_the_production_services():
    assert set(SERVICES) == {"release", "web", "worker", "beat", "postgres", "redis"}


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_service_has_a_health_check_and_restarts_unless_stopped(name):
    service = SERVICES[name]

    assert service["healthcheck"]["test"], f"{name} has no health check"
    assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL")
    assert service["restart"] == "unless-stopped"


def test_release_runs_once_migrating_then_loading_reference_data():
    release = SERVICES["release"]

    assert release["restart"] == "no"
    assert "healthcheck" not in release
    commands = _simple_commands(release["command"])
    assert commands == [
        ["python", "manage.py", "migrate", "--noinput"],
        ["python", "manage.py", "load_reference_data"],
    ]


@pytest.mark.parametrize("name", ("web", "worker", "beat"))
def test_application_services_wait_for_a_successful_release(name):
    assert SERVICES[name]["depends_on"]["release"] == {"condition": "service_completed_successfully"}
    assert SERVICES[name]["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_release_and_web_wait_for_a_healthy_postgres():
    for name in ("release", "web"):
        assert SERVICES[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_application_services_build_one_image_from_the_dockerfile():
    builds = {name: SERVICES[name]["build"] for name in APP_SERVICES}
    images = {SERVICES[name]["image"] for name in APP_SERVICES}

    for build in builds.values():
        assert (REPO / build["context"] / build.get("dockerfile", "Dockerfile")).resolve() == REPO / "Dockerfile"
    assert len(images) == 1, "web, release, worker and beat must run the same image"


def test_backing_services_use_the_pinned_images():
    assert SERVICES["postgres"]["image"] == "postgres:17"
    assert SERVICES["redis"]["image"] == "redis:7"
    assert "build" not in SERVICES["postgres"]
    assert "build" not in SERVICES["redis"]


def test_backing_service_health_checks_ask_the_server_itself():
    postgres_check = _simple_commands(SERVICES["postgres"]["healthcheck"]["test"])
    redis_check = _simple_commands(SERVICES["redis"]["healthcheck"]["test"])

    assert postgres_check[0][0] == "pg_isready"
    assert redis_check == [["redis-cli", "ping"]]


def test_worker_and_beat_health_checks_ping_their_own_node():
    worker = _simple_commands(SERVICES["worker"]["healthcheck"]["test"])
    beat = _simple_commands(SERVICES["beat"]["healthcheck"]["test"])

    assert worker[0][:5] == ["celery", "-A", "uprtrax", "inspect", "ping"]
    assert "celery@$HOSTNAME" in worker[0]  # the worker's default node name is celery@<hostname>
    assert beat[0][:5] == ["celery", "-A", "uprtrax", "inspect", "ping"]
    assert "celerybeat@$HOSTNAME" in beat[0]
    assert "--enable-remote-control" in _argv(SERVICES["beat"]["command"])  # otherwise beat never answers


def test_web_health_check_fetches_healthz_of_the_local_gunicorn():
    check = _simple_commands(SERVICES["web"]["healthcheck"]["test"])

    assert check == [["python", "/app/docker/healthcheck.py", "http://127.0.0.1:8000/healthz"]]


@pytest.mark.django_db  # postgres's settings are checked against the running server
def test_every_command_compose_runs_exists_and_accepts_its_options():
    commands = _all_commands()
    programs = {argv[0] for _, argv in commands}

    assert {"python", "celery", "gunicorn"} <= programs  # the walk did reach the commands
    for service, argv in commands:
        _check_command(argv, service)


def test_every_named_volume_is_declared_and_postgres_keeps_its_data_in_one():
    declared = set(COMPOSE["volumes"])
    used = {}
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source, _, target = volume.partition(":")
            if not source.startswith((".", "/", "~")):
                used[source] = (name, target.partition(":")[0])

    assert set(used) == declared
    assert used["pgdata"] == ("postgres", "/var/lib/postgresql/data")


def test_beat_keeps_its_schedule_in_a_volume_the_image_lets_it_write():
    command = _argv(SERVICES["beat"]["command"])
    schedule = command[command.index("--schedule") + 1]
    mounts = [volume.split(":")[1] for volume in SERVICES["beat"]["volumes"]]
    run = " ".join(_instructions("RUN"))

    assert any(schedule.startswith(mount.rstrip("/") + "/") for mount in mounts)
    directory = schedule.rsplit("/", 1)[0]
    assert f"mkdir -p {directory}" in run
    assert re.search(rf"chown \S+ {re.escape(directory)}", run)


def test_secrets_come_from_the_env_file_only():
    assert _literal_secrets(COMPOSE) == []
    for name in APP_SERVICES:
        assert SERVICES[name]["env_file"] in (".env", [".env"])
    assert SERVICES["postgres"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "/.env" in (REPO / ".gitignore").read_text().splitlines()
    assert _dockerignored(".env", _dockerignore_patterns())


def test_secret_finder_flags_written_out_secrets():
    leaky = {
        "services": {
            "web": {"environment": {"DJANGO_SECRET_KEY": "abc", "DEBUG": "0", "POSTGRES_PASSWORD": "${PW}"}},
            "db": {"environment": ["POSTGRES_PASSWORD=hunter2", "POSTGRES_USER=uprtrax"]},
            "worker": {"command": "celery --broker redis://user:hunter2@redis:6379/0 worker"},
        }
    }

    assert sorted(_literal_secrets(leaky)) == [
        "services.db.environment[0]",
        "services.web.environment.DJANGO_SECRET_KEY",
        "services.worker.command",
    ]


def test_backing_services_are_not_published_on_the_host():
    assert "ports" not in SERVICES["postgres"]
    assert "ports" not in SERVICES["redis"]
    assert all(port.startswith("127.0.0.1:") for port in SERVICES["web"]["ports"])


@pytest.mark.parametrize("name", list(SERVICES))
def test_every_service_rotates_its_docker_logs(name):
    logging = SERVICES[name]["logging"]

    assert logging["driver"] == "json-file"
    assert logging["options"]["max-size"] and int(logging["options"]["max-file"]) >= 2


@pytest.mark.parametrize("name", APP_SERVICES)
def test_application_containers_hold_no_capability_and_gain_no_privilege(name):
    assert SERVICES[name]["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in SERVICES[name]["security_opt"]


def _seconds(duration: str) -> int:
    match = re.fullmatch(r"(?:(\d+)m)?(?:(\d+)s)?", duration)
    assert match and duration, duration
    return int(match.group(1) or 0) * 60 + int(match.group(2) or 0)


def test_web_is_given_time_to_finish_its_requests_when_stopped():
    """Docker kills a container 10 s after asking it to stop, unless told otherwise: web waits longer than gunicorn
    lets requests finish, postgres long enough to shut down cleanly."""
    config = _gunicorn_config(REPO / "docker" / "gunicorn.conf.py")

    assert _seconds(SERVICES["web"]["stop_grace_period"]) > config["graceful_timeout"]
    assert _seconds(SERVICES["postgres"]["stop_grace_period"]) >= 30


# --- docker/gunicorn.conf.py -----------------------------------------------------------------------------------


def test_gunicorn_defaults_suit_a_two_core_host():
    config = _gunicorn_config(REPO / "docker" / "gunicorn.conf.py")

    assert config["workers"] == 2 and config["threads"] == 4  # gthread: 8 requests at once, 2 copies of the bitmaps
    assert config["worker_class_str"] == "gthread"
    assert (config["timeout"], config["graceful_timeout"]) == (60, 30)
    assert config["max_requests"] == 10_000 and 0 < config["max_requests_jitter"] < config["max_requests"]
    assert config["worker_tmp_dir"] == "/dev/shm"  # noqa: S108 - a tmpfs, gunicorn's advice for containers


def test_gunicorn_takes_its_settings_from_the_environment():
    config = _gunicorn_config(
        REPO / "docker" / "gunicorn.conf.py",
        WEB_CONCURRENCY="5",
        GUNICORN_THREADS="1",
        GUNICORN_TIMEOUT="120",
        GUNICORN_GRACEFUL_TIMEOUT="20",
        GUNICORN_MAX_REQUESTS="0",
        GUNICORN_MAX_REQUESTS_JITTER="0",
    )

    assert (config["workers"], config["threads"], config["timeout"], config["graceful_timeout"]) == (5, 1, 120, 20)
    assert config["worker_class_str"] == "sync"  # one thread: gunicorn's plain worker
    assert config["max_requests"] == 0  # never recycled


@pytest.mark.parametrize(("name", "value"), [("GUNICORN_THREADS", "two"), ("WEB_CONCURRENCY", "0")])
def test_gunicorn_refuses_a_bad_value_naming_the_variable(name, value):
    with pytest.raises(ValueError, match=f"{name}='{value}' must be a whole number of at least 1"):
        _gunicorn_config(REPO / "docker" / "gunicorn.conf.py", **{name: value})


def test_every_variable_the_gunicorn_config_reads_is_in_env_example():
    read = set(re.findall(r'_whole_number\("([A-Z_]+)"', (REPO / "docker" / "gunicorn.conf.py").read_text()))
    documented = (REPO / ".env.example").read_text()

    assert {"WEB_CONCURRENCY", "GUNICORN_THREADS"} <= read
    assert {name for name in read if f"\n{name}=" not in documented} == set()


# --- Dockerfile, .dockerignore, docker/ ------------------------------------------------------------------


def test_dockerfile_builds_on_python_313_slim_and_runs_unprivileged():
    froms = [arguments.split()[0] for arguments in _instructions("FROM")]
    users = _instructions("USER")

    assert froms and all(image == "python:3.13-slim" for image in froms)
    assert users and users[-1] not in ("root", "0")
    assert _instructions("EXPOSE") == ["8000"]


def test_dockerfile_installs_the_lock_file_with_hashes():
    run = " ".join(_instructions("RUN"))

    assert re.search(r"pip install [^&]*--require-hashes[^&]*-r \S*requirements\.lock", run)
    assert "requirements.lock" in " ".join(_copy_sources())


def test_dockerfile_collects_static_files_without_storing_a_secret():
    collect = [run for run in _instructions("RUN") if "collectstatic" in run]
    environment = " ".join(_instructions("ENV"))

    assert len(collect) == 1
    _check_manage_py(shlex.split(collect[0].split("manage.py", 1)[1]))
    assert "DJANGO_SECRET_KEY" not in environment
    assert any(argument.split("=")[0] in collect[0] for argument in _instructions("ARG"))


def test_every_file_the_dockerfile_copies_exists_and_reaches_the_build_context():
    patterns = _dockerignore_patterns()
    sources = _copy_sources()

    assert sources
    for source in sources:
        path = REPO / source
        assert path.exists(), f"COPY {source}: no such file"
        assert not _dockerignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            relative = file.relative_to(REPO).as_posix()
            if "__pycache__" not in relative:
                assert not _dockerignored(relative, patterns), f"{relative}: excluded by .dockerignore"


def test_dockerfile_copies_every_local_app_and_the_template_and_static_directories():
    copied = {source.rstrip("/") for source in _copy_sources()}
    local_apps = {
        Path(config.path).relative_to(REPO).as_posix()
        for config in apps.get_app_configs()
        if Path(config.path).parent == REPO  # the project's own apps, not those installed in .venv
    }
    needed = {"manage.py", "uprtrax"} | local_apps
    needed |= {Path(directory).relative_to(REPO).as_posix() for directory in settings.TEMPLATES[0]["DIRS"]}
    needed |= {Path(directory).relative_to(REPO).as_posix() for directory in settings.STATICFILES_DIRS}

    assert {"reviews", "recommendations", "followup"} <= local_apps
    assert needed - copied == set()


def test_dockerfile_entrypoint_and_command_exist():
    (entrypoint,) = _instructions("ENTRYPOINT")
    (command,) = _instructions("CMD")
    entrypoint_argv, command_argv = json.loads(entrypoint), json.loads(command)

    script = _repo_path(entrypoint_argv[0])
    assert script.is_file()
    assert os.access(script, os.X_OK), f"{script} is not executable"
    assert command_argv[0] == "gunicorn"
    _check_gunicorn(command_argv[1:])
    assert "--workers" not in command_argv and "-w" not in command_argv  # docker/gunicorn.conf.py reads it
    assert command_argv == _argv(SERVICES["web"]["command"])  # `docker run` serves as Compose's web does


def _entrypoint(database_url: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # `python` is the one with Django
        "HOME": os.path.expanduser("~"),
        "PYTHONPATH": str(REPO),
        "DJANGO_SECRET_KEY": "entrypoint-test",
        "DATABASE_URL": database_url,
        "DB_WAIT_TIMEOUT": "1",
    }
    return subprocess.run(  # noqa: S603 - our own script
        ["/bin/sh", str(REPO / "docker" / "entrypoint.sh"), "/bin/sh", "-c", "echo ran $0", "ok"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_entrypoint_runs_its_command_without_waiting_for_sqlite():
    result = _entrypoint("sqlite:////nonexistent/db.sqlite3")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ran ok"


def test_entrypoint_does_not_run_its_command_while_postgres_does_not_answer():
    result = _entrypoint(f"postgres://nobody@127.0.0.1:{_free_port()}/nothing")

    assert result.returncode != 0
    assert "ran" not in result.stdout
    assert "database not reachable" in result.stderr


def test_wait_for_db_gives_up_after_its_timeout_on_an_unreachable_postgres():
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.path.expanduser("~"),
        "DJANGO_SECRET_KEY": "wait-for-db-test",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{_free_port()}/nothing",
        "PYTHONPATH": str(REPO),
    }

    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "docker/wait_for_db.py", "--timeout", "2", "--interval", "0.2"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "database not reachable after 2s" in result.stderr
    assert 2 <= time.monotonic() - started < 30


def test_wait_for_db_returns_at_once_when_the_database_answers():
    database = settings.DATABASES["default"]  # the test environment's PostgreSQL server, its maintenance database
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/postgres"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(REPO)}

    result = subprocess.run(
        [sys.executable, "docker/wait_for_db.py", "--timeout", "10"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr


def test_dockerignore_matching_follows_docker_rules():
    patterns = ["**/__pycache__", "*.egg-info", ".env", ".env.*", "!.env.example", "tests"]

    assert _dockerignored("reviews/__pycache__/models.cpython-313.pyc", patterns)
    assert _dockerignored("__pycache__", patterns)
    assert _dockerignored("uprtrax.egg-info/PKG-INFO", patterns)
    assert _dockerignored(".env.production", patterns)
    assert not _dockerignored(".env.example", patterns)
    assert _dockerignored("tests/test_compose.py", patterns)
    assert not _dockerignored("reviews/models.py", patterns)


# --- /healthz and docker/healthcheck.py ------------------------------------------------------------------


def test_healthz_resolves_to_the_healthz_view():
    assert resolve("/healthz").func is views.healthz


def test_healthz_answers_ok_as_plain_text_without_touching_the_database(client):
    # No django_db mark: any query would raise, so a 200 proves the view needs no database.
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"].startswith("text/plain")
    assert "no-cache" in response["Cache-Control"]


def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


def test_probe_host_presents_an_allowed_host():
    sys.path.insert(0, str(REPO / "docker"))
    try:
        from healthcheck import probe_host
    finally:
        sys.path.remove(str(REPO / "docker"))

    assert probe_host("uprtrax.example.org,www.example.org") == "uprtrax.example.org"
    assert probe_host(" .example.org") == "example.org"
    assert probe_host("*") == "localhost"
    assert probe_host("*, uprtrax.example.org") == "uprtrax.example.org"
    assert probe_host("") == "localhost"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def production_gunicorn(tmp_path):
    """gunicorn started with the web service's own arguments (but the port), in a production configuration."""
    port = _free_port()
    argv = _argv(SERVICES["web"]["command"])
    argv[argv.index("--bind") + 1] = f"127.0.0.1:{port}"
    argv[argv.index("--config") + 1] = str(_repo_path(argv[argv.index("--config") + 1]))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.path.expanduser("~"),
        "DJANGO_SECRET_KEY": "production-like-test-key-" + "x" * 40,
        "ALLOWED_HOSTS": "uprtrax.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "DJANGO_STATIC_MANIFEST": "0",  # collectstatic has not run here; /healthz serves no asset anyway
    }
    server = subprocess.Popen(  # noqa: S603 - our own interpreter, the Compose arguments
        [sys.executable, "-m", *argv], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"gunicorn did not start: {server.communicate()[0].decode()[-2000:]}")
            time.sleep(0.2)
    yield port
    server.terminate()
    server.communicate(timeout=30)


def _probe(url: str, allowed_hosts: str) -> int:
    env = {"PATH": os.environ["PATH"], "ALLOWED_HOSTS": allowed_hosts}
    return subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, str(REPO / "docker" / "healthcheck.py"), url], env=env, timeout=30, check=False
    ).returncode


def test_web_health_check_passes_against_production_gunicorn(production_gunicorn):
    url = f"http://127.0.0.1:{production_gunicorn}/healthz"

    assert _probe(url, "uprtrax.example.org") == 0


def test_web_health_check_fails_when_django_refuses_the_host_or_the_path(production_gunicorn):
    port = production_gunicorn

    assert _probe(f"http://127.0.0.1:{port}/healthz", "elsewhere.example.org") == 1  # 400: host not allowed
    assert _probe(f"http://127.0.0.1:{port}/no-such-page", "uprtrax.example.org") == 1
    assert _probe(f"http://127.0.0.1:{_free_port()}/healthz", "uprtrax.example.org") == 1  # nothing listening


# collectstatic as the image build runs it, and WhiteNoise serving its output: tests/test_static.py.


def test_web_and_worker_share_the_uploads_volume_at_the_images_media_root():
    """Import jobs: web stores the uploaded file, a worker reads it; without one shared volume every job fails."""
    dockerfile = (REPO / "Dockerfile").read_text()
    media_root = re.search(r"DJANGO_MEDIA_ROOT=(\S+)", dockerfile).group(1)
    run = " ".join(_instructions("RUN"))
    assert re.search(rf"mkdir -p [^&]*{re.escape(media_root)}", run)
    assert re.search(rf"chown uprtrax:uprtrax [^&]*{re.escape(media_root)}", run)
    for name in ("web", "worker"):
        assert f"uploads:{media_root}" in SERVICES[name]["volumes"], name
    assert "uploads" in COMPOSE["volumes"]
