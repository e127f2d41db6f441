"""Settings are read from the environment: safe defaults, loud failures on bad values, a clean deploy check.

Each settings case runs in a fresh interpreter with a controlled environment (PATH and HOME, plus the variables
under test), because settings are read once, at import, and pytest's own environment sets several of them.
"""

import ast
import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from uprtrax.env import env_bool, env_choice, env_int, env_list, env_str

REPO = Path(__file__).resolve().parent.parent

DUMP_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
from uprtrax.celery import app
db = settings.DATABASES["default"]
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": db["ENGINE"], "NAME": str(db["NAME"]), "HOST": db.get("HOST", ""), "PORT": db.get("PORT", ""),
    "CONN_MAX_AGE": db["CONN_MAX_AGE"], "CONN_HEALTH_CHECKS": db["CONN_HEALTH_CHECKS"],
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "CELERY_TASK_ALWAYS_EAGER": settings.CELERY_TASK_ALWAYS_EAGER,
    "celery_always_eager": app.conf.task_always_eager,
    "celery_broker_url": app.conf.broker_url,
    "celery_result_backend": app.conf.result_backend,
    "CACHE_BACKEND": settings.CACHES["default"]["BACKEND"],
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
    "MAILERS": settings.MAILERS,
}))
"""


def _run(args: list[str], **variables: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "HOME": os.path.expanduser("~"), **variables}
    return subprocess.run(  # noqa: S603 - our own interpreter, fixed arguments
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _settings(**variables: str) -> dict:
    result = _run(["-c", DUMP_SETTINGS], DJANGO_SETTINGS_MODULE="uprtrax.settings", **variables)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _settings_error(**variables: str) -> str:
    """The last line of the traceback of a settings import that must fail."""
    result = _run(["-c", "import django; django.setup()"], DJANGO_SETTINGS_MODULE="uprtrax.settings", **variables)
    assert result.returncode != 0, f"settings loaded although they should not: {variables}"
    return result.stderr.strip().splitlines()[-1]


def _production_env() -> dict[str, str]:
    return {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "uprtrax.example.org",
        "DATABASE_URL": "postgres://uprtrax:db-password@postgres:5432/uprtrax",
        "REDIS_URL": "redis://redis:6379/0",
        "EMAIL_URL": "smtp://uprtrax:mail-password@mail.example.org:587",
    }


def _dotenv_example() -> dict[str, str]:
    values = {}
    for line in (REPO / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f".env.example: {line!r} is not NAME=value"
            values[name.strip()] = value.strip()
    return values


# --- settings.py, through a fresh interpreter -----------------------------------------------------------


def test_debug_alone_runs_on_sqlite_with_eager_celery_and_local_cache():
    settings = _settings(DJANGO_DEBUG="1")

    assert settings["DEBUG"] is True
    assert settings["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["NAME"] == str(REPO / "db.sqlite3")
    assert settings["CELERY_TASK_ALWAYS_EAGER"] is True
    assert settings["celery_always_eager"] is True
    assert settings["celery_broker_url"] in ("", None)
    assert settings["CACHE_BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert set(settings["ALLOWED_HOSTS"]) == {"localhost", "127.0.0.1", "[::1]"}
    assert settings["SECURE_SSL_REDIRECT"] is False


def test_postgres_database_url_selects_postgresql_with_its_parts():
    settings = _settings(
        DJANGO_DEBUG="1",
        DATABASE_URL="postgres://uprtrax:pw@db.example.org:5433/uprtrax_prod",
        DATABASE_CONN_MAX_AGE="30",
    )

    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert (settings["HOST"], settings["PORT"], settings["NAME"]) == ("db.example.org", 5433, "uprtrax_prod")
    assert settings["CONN_MAX_AGE"] == 30
    assert settings["CONN_HEALTH_CHECKS"] is True


def test_redis_url_makes_redis_the_broker_result_backend_and_cache():
    settings = _settings(DJANGO_DEBUG="1", REDIS_URL="redis://redis.internal:6379/3")

    assert settings["CELERY_TASK_ALWAYS_EAGER"] is False
    assert settings["celery_always_eager"] is False
    assert settings["celery_broker_url"] == "redis://redis.internal:6379/3"
    assert settings["celery_result_backend"] == "redis://redis.internal:6379/3"
    assert settings["CACHE_BACKEND"] == "uprtrax.cache.ResilientRedisCache"  # Django's, its errors misses


def test_debug_off_by_default_turns_https_protections_on():
    settings = _settings(DJANGO_SECRET_KEY="x" * 60)

    assert settings["DEBUG"] is False
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["ALLOWED_HOSTS"] == []


def test_missing_secret_key_without_debug_stops_the_start_naming_the_variable():
    error = _settings_error()

    assert error.startswith("django.core.exceptions.ImproperlyConfigured:")
    assert "DJANGO_SECRET_KEY" in error


@pytest.mark.parametrize(
    ("variables", "expected"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        ({"DATABASE_URL": "mysql://user:pw@localhost/uprtrax"}, "runs on PostgreSQL (postgres://) or SQLite"),
        ({"DATABASE_URL": "nonsense://x"}, "DATABASE_URL='nonsense://x' cannot be used"),
        ({"CELERY_BROKER_URL": "amqp://guest@localhost//"}, "CELERY_BROKER_URL='amqp://guest@localhost//' must be"),
        ({"REDIS_URL": "http://redis:6379"}, "REDIS_URL='http://redis:6379' must be a redis://"),
        ({"DATABASE_CONN_MAX_AGE": "abc"}, "DATABASE_CONN_MAX_AGE='abc' is not a whole number"),
        ({"DATABASE_CONN_MAX_AGE": "-5"}, "DATABASE_CONN_MAX_AGE='-5' must be at least 0"),
        ({"DJANGO_HSTS_SECONDS": "1.5"}, "DJANGO_HSTS_SECONDS='1.5' is not a whole number"),
    ],
)
def test_bad_value_stops_the_start_with_a_message_naming_the_variable(variables, expected):
    error = _settings_error(DJANGO_SECRET_KEY="x" * 60, **variables)

    assert error.startswith("django.core.exceptions.ImproperlyConfigured:")
    assert expected in error


def test_deploy_check_passes_with_a_production_environment():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_fails_when_production_runs_without_https():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **_production_env(), DJANGO_HTTPS="0")

    assert result.returncode != 0
    assert "security.W008" in result.stderr  # SECURE_SSL_REDIRECT
    assert "security.W004" in result.stderr  # HSTS
    assert "security.W012" in result.stderr  # SESSION_COOKIE_SECURE
    assert "security.W016" in result.stderr  # CSRF_COOKIE_SECURE


def test_deploy_check_fails_with_a_short_secret_key():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **{**_production_env(), "DJANGO_SECRET_KEY": "short"},
    )

    assert result.returncode != 0
    assert "security.W009" in result.stderr


# --- .env.example ----------------------------------------------------------------------------------------


def _variables_read_by_settings() -> set[str]:
    tree = ast.parse((REPO / "uprtrax" / "settings.py").read_text())
    names = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id.startswith("env_")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(node.args[0].value)
    return names


def test_env_example_documents_every_variable_settings_read():
    read = _variables_read_by_settings()
    documented = set(_dotenv_example())

    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= read  # the scan does find env_*() calls
    assert read - documented == set()


def _documented_in_configuration_page() -> set[str]:
    """The variables of docs/configuration.md's tables: the backquoted names of each row's first cell."""
    names = set()
    for line in (REPO / "docs" / "configuration.md").read_text().splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def _variables_read_by_the_code() -> set[str]:
    """What every module of the project reads with uprtrax.env's readers (settings.py, and e.g. uprtrax/celery.py)."""
    reader = re.compile(r'\benv_(?:str|bool|int|list|choice|rate)\(\s*"([A-Z][A-Z0-9_]+)"')
    names = set()
    for package in ("uprtrax", "reviews", "recommendations", "followup"):
        for path in (REPO / package).rglob("*.py"):
            names.update(reader.findall(path.read_text()))
    return names


def test_the_configuration_page_documents_every_variable_the_code_and_the_env_example_read():
    documented = _documented_in_configuration_page()
    gunicorn = set(re.findall(r'_whole_number\("([A-Z_]+)"', (REPO / "docker" / "gunicorn.conf.py").read_text()))
    compose = set(re.findall(r"\$\{([A-Z_]+)", (REPO / "docker-compose.yml").read_text()))

    assert {"DJANGO_SECRET_KEY", "UPRTRAX_RATE_SEARCH", "GUNICORN_THREADS", "POSTGRES_PASSWORD"} <= documented
    assert _variables_read_by_settings() <= _variables_read_by_the_code()  # the wider scan finds what the AST does
    assert _variables_read_by_the_code() - documented == set()
    assert gunicorn - documented == set()
    assert compose - documented == set()
    assert set(_dotenv_example()) - documented == set()
    assert "docs/configuration.md" in (REPO / "README.md").read_text()


def test_env_example_comments_every_variable():
    lines = (REPO / ".env.example").read_text().splitlines()
    for number, line in enumerate(lines):
        if line.strip() and not line.startswith("#"):
            assert number > 0 and lines[number - 1].startswith("#"), f"no comment above {line!r}"


def test_env_example_holds_placeholders_not_secrets():
    values = _dotenv_example()

    for name in ("DJANGO_SECRET_KEY", "POSTGRES_PASSWORD"):
        assert "change-me" in values[name]
    assert values["POSTGRES_PASSWORD"] in values["DATABASE_URL"]  # the example pair matches
    assert values["DATABASE_URL"].startswith(f"postgres://{values['POSTGRES_USER']}:")
    assert values["DATABASE_URL"].endswith(f"@postgres:5432/{values['POSTGRES_DB']}")


def test_env_example_values_pass_the_deploy_check_once_the_secret_is_real():
    values = {**_dotenv_example(), "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}

    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **values)

    assert result.returncode == 0, result.stdout + result.stderr


# --- uprtrax/env.py, directly ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["1", "true", "True", " yes ", "ON"])
def test_env_bool_reads_true_spellings(monkeypatch, raw):
    monkeypatch.setenv("UPRTRAX_TEST_FLAG", raw)
    assert env_bool("UPRTRAX_TEST_FLAG", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "off", ""])
def test_env_bool_reads_false_spellings(monkeypatch, raw):
    monkeypatch.setenv("UPRTRAX_TEST_FLAG", raw)
    assert env_bool("UPRTRAX_TEST_FLAG", True) is False


def test_env_bool_falls_back_to_default_when_unset(monkeypatch):
    monkeypatch.delenv("UPRTRAX_TEST_FLAG", raising=False)
    assert env_bool("UPRTRAX_TEST_FLAG", True) is True
    assert env_bool("UPRTRAX_TEST_FLAG", False) is False


def test_env_bool_rejects_other_words_naming_the_variable(monkeypatch):
    monkeypatch.setenv("UPRTRAX_TEST_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match=r"UPRTRAX_TEST_FLAG='maybe' is not a boolean"):
        env_bool("UPRTRAX_TEST_FLAG")


def test_env_int_parses_and_defaults(monkeypatch):
    monkeypatch.setenv("UPRTRAX_TEST_INT", " 42 ")
    assert env_int("UPRTRAX_TEST_INT", 7) == 42
    monkeypatch.setenv("UPRTRAX_TEST_INT", "  ")
    assert env_int("UPRTRAX_TEST_INT", 7) == 7
    monkeypatch.delenv("UPRTRAX_TEST_INT")
    assert env_int("UPRTRAX_TEST_INT", 7) == 7


def test_env_int_rejects_non_numbers_and_values_below_minimum(monkeypatch):
    monkeypatch.setenv("UPRTRAX_TEST_INT", "ten")
    with pytest.raises(ImproperlyConfigured, match=r"UPRTRAX_TEST_INT='ten' is not a whole number"):
        env_int("UPRTRAX_TEST_INT", 1)
    monkeypatch.setenv("UPRTRAX_TEST_INT", "0")
    with pytest.raises(ImproperlyConfigured, match=r"UPRTRAX_TEST_INT='0' must be at least 1"):
        env_int("UPRTRAX_TEST_INT", 5, minimum=1)
    assert env_int("UPRTRAX_TEST_INT", 5, minimum=0) == 0


def test_env_list_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("UPRTRAX_TEST_LIST", " a.example.org, ,b.example.org,")
    assert env_list("UPRTRAX_TEST_LIST") == ["a.example.org", "b.example.org"]
    monkeypatch.setenv("UPRTRAX_TEST_LIST", "")
    assert env_list("UPRTRAX_TEST_LIST", ["default"]) == []


def test_env_list_default_is_a_copy(monkeypatch):
    monkeypatch.delenv("UPRTRAX_TEST_LIST", raising=False)
    default = ["localhost"]
    value = env_list("UPRTRAX_TEST_LIST", default)
    value.append("other")

    assert default == ["localhost"]
    assert env_list("UPRTRAX_TEST_LIST") == []


def test_env_str_strips_and_defaults(monkeypatch):
    monkeypatch.setenv("UPRTRAX_TEST_STR", "  value \n")
    assert env_str("UPRTRAX_TEST_STR") == "value"
    monkeypatch.delenv("UPRTRAX_TEST_STR")
    assert env_str("UPRTRAX_TEST_STR", "fallback") == "fallback"


def test_env_choice_accepts_listed_values_only(monkeypatch):
    monkeypatch.setenv("UPRTRAX_TEST_CHOICE", "majority")
    assert env_choice("UPRTRAX_TEST_CHOICE", ("majority", "lowest"), "lowest") == "majority"
    monkeypatch.delenv("UPRTRAX_TEST_CHOICE")
    assert env_choice("UPRTRAX_TEST_CHOICE", ("majority", "lowest"), "lowest") == "lowest"
    monkeypatch.setenv("UPRTRAX_TEST_CHOICE", "average")
    with pytest.raises(ImproperlyConfigured, match=r"UPRTRAX_TEST_CHOICE='average' is not one of majority, lowest"):
        env_choice("UPRTRAX_TEST_CHOICE", ("majority", "lowest"), "lowest")


def test_email_url_configures_smtp_mailer_and_empty_means_console():
    smtp = _settings(DJANGO_DEBUG="1", EMAIL_URL="smtp://ann:s%40cret@mail.example.org:2525")["MAILERS"]["default"]
    options = smtp["OPTIONS"]
    assert smtp["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (options["host"], options["port"], options["username"], options["password"]) == (
        "mail.example.org",
        2525,
        "ann",
        "s@cret",
    )
    assert options["use_tls"] and not options["use_ssl"]
    console = _settings(DJANGO_DEBUG="1")["MAILERS"]["default"]
    assert console["BACKEND"] == "django.core.mail.backends.console.EmailBackend"


def test_bad_email_url_fails_naming_the_variable():
    assert "EMAIL_URL" in _settings_error(DJANGO_DEBUG="1", EMAIL_URL="mailto:someone@example.org")


def _manage_without_key(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG")}
    env["DATABASE_URL"] = "sqlite:///:memory:"
    return subprocess.run(  # noqa: S603 (this interpreter, the project's manage.py)
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def test_makemigrations_check_runs_without_a_secret_key_and_nothing_else_does():
    checked = _manage_without_key("makemigrations", "--check", "--dry-run")
    assert checked.returncode == 0, checked.stderr
    assert "No changes detected" in checked.stdout
    refused = _manage_without_key("check")
    assert refused.returncode != 0 and "DJANGO_SECRET_KEY is required" in refused.stderr
