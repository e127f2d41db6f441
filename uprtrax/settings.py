"""uprtrax settings: one module, driven by the environment (see .env.example).

With nothing set, uprtrax runs on SQLite with Celery tasks executed in-process. With DATABASE_URL and
CELERY_BROKER_URL (or REDIS_URL) it runs on PostgreSQL with real workers. A bad value stops the start with a
message naming the variable.
"""

from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from uprtrax.api_description import API_DESCRIPTION
from uprtrax.env import env_bool, env_choice, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off. "
            "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105 - only ever used with DEBUG on

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",  # full-text search (SearchVectorField); harmless on SQLite
    "rest_framework",
    "django_filters",
    "drf_spectacular",  # the OpenAPI schema (/api/schema/), generated from the code
    "drf_spectacular_sidecar",  # Swagger UI's files, served by the app itself (/api/docs/)
    "simple_history",  # every change of an assessment kept: who, when, before and after
    "axes",  # login throttling: failed attempts counted per username and address
    "django_guid",  # the request id: X-Request-ID in and out, on every log line (uprtrax/ops/logs.py)
    "uprtrax.ops",  # /readyz's checks, the worker heartbeat, the request log, manage.py backup
    "reviews",
    "recommendations",
    "followup",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",  # first: every later line of the request carries its id
    "uprtrax.ops.logs.RequestLogMiddleware",  # one log line per request, timing all that follows
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "uprtrax.middleware.NulRefusedMiddleware",  # %00 in an address: 400, never a database error
    "uprtrax.middleware.RequestBodyLimitMiddleware",  # before the CSRF check reads a form: 413 from Content-Length
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "uprtrax.ratelimit.RateLimitMiddleware",  # after the user is known: counts per person, or per address
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",  # last: answers a locked-out login with the lockout page
]

ROOT_URLCONF = "uprtrax.urls"
WSGI_APPLICATION = "uprtrax.wsgi.application"
ASGI_APPLICATION = "uprtrax.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
            ],
        },
    },
]

# Database: SQLite next to the code unless DATABASE_URL names another (postgres://user@host:5432/name).
_database_url = env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    _database = dj_database_url.parse(
        _database_url,
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL={_database_url!r} cannot be used: {exc}") from None
if _database["ENGINE"] not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
    raise ImproperlyConfigured(
        f"DATABASE_URL={_database_url!r}: uprtrax runs on PostgreSQL (postgres://) or SQLite (sqlite://) only."
    )
if _database["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation costs 80–120 ms on our page queries and never pays back at their size.
    _database.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "followup.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out login before any password is checked
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:profile"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24  # a reset link works for a day
INVITATION_DAYS = env_int("UPRTRAX_INVITATION_DAYS", 14, minimum=1)

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one username from one address, that pair is
# locked out for the cool-off time; a success resets the count. Attempts are kept in the database (admin: Axes).
AXES_FAILURE_LIMIT = env_int("UPRTRAX_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("UPRTRAX_LOGIN_COOLOFF_MINUTES", 15, minimum=1) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The address is the one the rate limits see: REMOTE_ADDR, or what UPRTRAX_API_NUM_PROXIES proxies forwarded.
AXES_CLIENT_IP_CALLABLE = "uprtrax.ratelimit.client_address"
AXES_VERBOSE = False

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files are served by the application itself (WhiteNoise): no asset ever comes from another site.
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
_static_manifest = env_bool("DJANGO_STATIC_MANIFEST", not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if _static_manifest
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not _static_manifest
# Uploaded files (import jobs keep their file here between the preview and the commit), never served; and the
# public data dumps (dumps/: the workers write them, the web process serves the newest's files by name only,
# followup/dumps/views.py). Web and workers read each other's files, so in Compose both mount one volume there.
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT") or BASE_DIR / "media")

# Redis serves as cache and Celery broker when configured; without it everything stays in-process.
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or REDIS_URL
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or CELERY_BROKER_URL or None
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 3600, minimum=1)

# Largest file an import accepts, in bytes.
IMPORT_MAX_BYTES = env_int("UPRTRAX_IMPORT_MAX_BYTES", 50 * 1024 * 1024, minimum=1)
# A running import job refreshes its heartbeat in the cache; one silent this long is taken for dead (killed worker).
IMPORT_HEARTBEAT_SECONDS = env_int("UPRTRAX_IMPORT_HEARTBEAT_SECONDS", 30, minimum=1)
# Statistics recomputes and data dumps stamp their record with a heartbeat (in the database) while they run; one
# silent this long is taken for dead (killed worker) by the reaper (followup/jobs.py), which runs every
# UPRTRAX_JOBS_REAP_SECONDS (uprtrax/celery.py). A job queued this long without starting is sent to the broker again
# (its message may have been lost with a Redis restarted without its data).
JOBS_HEARTBEAT_SECONDS = env_int("UPRTRAX_JOBS_HEARTBEAT_SECONDS", 30, minimum=1)
JOBS_REQUEUE_SECONDS = env_int("UPRTRAX_JOBS_REQUEUE_SECONDS", 600, minimum=1)
# The search page's facet counts are kept this long in the cache (0: never). An import or an assessment drops them
# at once, and a Celery task counts the unfiltered page's again.
SEARCH_CACHE_SECONDS = env_int("UPRTRAX_SEARCH_CACHE_SECONDS", 3600, minimum=0)
# Public pages (a state, a recommendation, the search, sessions) are kept whole for visitors not signed in, until
# the data changes or this many seconds pass (0: never kept): uprtrax/pagecache.py.
PAGE_CACHE_SECONDS = env_int("UPRTRAX_PAGE_CACHE_SECONDS", 300, minimum=0)
# Searches without text count their facets from in-memory bitmaps on PostgreSQL (recommendations/bitmaps.py):
# "background" builds them in a thread of each web process after the data changed (the SQL path answers meanwhile),
# "inline" at once in the request, "off" never.
SEARCH_BITMAPS = env_choice("UPRTRAX_SEARCH_BITMAPS", ("background", "inline", "off"), "background")
# The implementation statistics are recomputed this many seconds after the first of a burst of changes (imports,
# assessments), once for the whole burst; and nightly (uprtrax/celery.py).
STATISTICS_RECOMPUTE_DELAY = env_int("UPRTRAX_STATISTICS_RECOMPUTE_DELAY", 60, minimum=0)
# On PostgreSQL a recompute reads the two phases on two connections at once (one snapshot of the data).
STATISTICS_PARALLEL = env_bool("UPRTRAX_STATISTICS_PARALLEL", True)
# The public data dump (followup/dumps) is written under MEDIA_ROOT/dumps/ nightly; the newest this many stay on disk
# (the newest is served at /dumps/).
DUMPS_KEEP = env_int("UPRTRAX_DUMPS_KEEP", 3, minimum=1)
# Every Celery worker records in Redis that it is alive, every WORKER_HEARTBEAT_SECONDS (uprtrax/ops/heartbeat.py);
# /readyz takes a worker silent for WORKER_HEARTBEAT_STALE_SECONDS for dead (killed, hung, or cut off from Redis).
WORKER_HEARTBEAT_SECONDS = env_int("UPRTRAX_WORKER_HEARTBEAT_SECONDS", 15, minimum=1)
WORKER_HEARTBEAT_STALE_SECONDS = env_int("UPRTRAX_WORKER_HEARTBEAT_STALE_SECONDS", 60, minimum=2)
if WORKER_HEARTBEAT_STALE_SECONDS <= WORKER_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured(
        f"UPRTRAX_WORKER_HEARTBEAT_STALE_SECONDS={WORKER_HEARTBEAT_STALE_SECONDS} must be more than "
        f"UPRTRAX_WORKER_HEARTBEAT_SECONDS={WORKER_HEARTBEAT_SECONDS} (a few heartbeats), or every worker looks dead."
    )
# `manage.py backup` writes here unless given a path (uprtrax/ops/backup.py).
BACKUP_DIR = Path(env_str("UPRTRAX_BACKUP_DIR") or BASE_DIR / "backups")
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
for _name, _url in (("REDIS_URL", REDIS_URL), ("CELERY_BROKER_URL", CELERY_BROKER_URL)):
    if _url and not _url.startswith(("redis://", "rediss://", "memory://")):
        raise ImproperlyConfigured(f"{_name}={_url!r} must be a redis:// or rediss:// URL.")

CACHES = {
    "default": (
        # Django's RedisCache, whose connection errors are misses: a Redis outage never fails a page (uprtrax/cache.py).
        {"BACKEND": "uprtrax.cache.ResilientRedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Request bodies (Django's defaults, named here). A body, or a form's fields without its files, holds at most this
# (an API request or a page with more gets 413); files only where a page or endpoint takes one (imports:
# IMPORT_MAX_BYTES), refused from the Content-Length before they are read (uprtrax.middleware's
# RequestBodyLimitMiddleware, uprtrax.api_parsers). The proxy in front caps bodies at about IMPORT_MAX_BYTES too.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000  # a bulk assessment sends at most rules.BULK_MAX ids, in one field
DATA_UPLOAD_MAX_NUMBER_FILES = 100
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # an uploaded file larger than this waits in a temporary file, not in memory

# The API's rate limits (uprtrax/api_throttles.py): per address for anonymous requests, per token (or per signed-in
# user) otherwise; "<number>/<second|minute|hour|day>". Past it: 429 with Retry-After.
API_RATE_ANON = env_rate("UPRTRAX_API_RATE_ANON", "120/minute")
API_RATE_TOKEN = env_rate("UPRTRAX_API_RATE_TOKEN", "600/minute")
# How many proxies in front of uprtrax append to X-Forwarded-For (0: the address is REMOTE_ADDR and the header,
# which a client can forge, is ignored). Behind one reverse proxy that sets it: 1. The pages' limits below and
# django-axes read the address the same way.
API_NUM_PROXIES = env_int("UPRTRAX_API_NUM_PROXIES", 0, minimum=0)

# The rate limits of the expensive pages (uprtrax/ratelimit.py), per signed-in person or else per address, counted in
# the cache: the search page; downloads (the search's exports, the statistics' CSV files, an organisation's export,
# the dump's files); login attempts and password reset requests, whatever the username. Past one: 429 and a page.
RATE_SEARCH = env_rate("UPRTRAX_RATE_SEARCH", "120/minute")
RATE_EXPORT = env_rate("UPRTRAX_RATE_EXPORT", "60/hour")
RATE_LOGIN = env_rate("UPRTRAX_RATE_LOGIN", "30/hour")

REST_FRAMEWORK = {
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    # Personal API tokens (followup/api_auth.py) first, then the browser's session (with CSRF): a bad token is a
    # 401, never an anonymous request; being first, the token scheme names the WWW-Authenticate header, so that a
    # write without credentials is a 401 too (DRF makes it a 403 when the first class names none).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "followup.api_auth.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # JSON errors said with line and column; multipart bodies limited, files included (uprtrax/api_parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "uprtrax.api_parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "uprtrax.api_parsers.MultiPartParser",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["uprtrax.api_throttles.AnonThrottle", "uprtrax.api_throttles.TokenThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": API_RATE_ANON, "token": API_RATE_TOKEN},
    "NUM_PROXIES": API_NUM_PROXIES,
    # Every error in one shape: {"error": {"code", "message", "fields"}} (uprtrax/api_errors.py).
    "EXCEPTION_HANDLER": "uprtrax.api_errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "uprtrax.api_schema.AutoSchema",
}

# The OpenAPI schema (drf-spectacular) at /api/schema/, its interactive docs at /api/docs/.
SPECTACULAR_SETTINGS = {
    "TITLE": "uprtrax API",
    "VERSION": "1",
    "DESCRIPTION": API_DESCRIPTION.format(
        rate_anon=API_RATE_ANON,
        rate_token=API_RATE_TOKEN,
        body_max=f"{DATA_UPLOAD_MAX_MEMORY_SIZE / 1024 / 1024:.1f} MB (imports: their file's limit more)",
    ),
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    # Separate components for what is sent and what is read back (read-only fields are not asked for).
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "persistAuthorization": False, "displayOperationId": False},
    # Choice sets that share a field name ("status", "kind", "phase"), each named once.
    "ENUM_NAME_OVERRIDES": {
        "AssessmentStatusEnum": "followup.models.Assessment.Status",
        "PhaseEnum": "followup.models.Assessment.Phase",
        "OrganisationKindEnum": "followup.models.Organisation.Kind",
        "RecommendationKindEnum": "recommendations.models.Recommendation.Kind",
        "ImportKindEnum": "recommendations.models.ImportRun.Kind",
        "ImportRunStatusEnum": "recommendations.models.ImportRun.Status",
    },
}

# Security. DJANGO_HTTPS says the site is served over HTTPS (directly or behind a proxy that sets
# X-Forwarded-Proto); it is on by default outside DEBUG so that a production start is safe by default.
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000 if HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", False)
# Preloading is a deliberate opt-in (a listing is slow to undo), so its absence is no deploy warning.
# W040: SQLite (the demo's database) has no INCLUDE columns in an index; it keeps the index's key columns.
SILENCED_SYSTEM_CHECKS = ["security.W021", "models.W040"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Django 6's built-in Content Security Policy: every script, style, font and image comes from this site.
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'"],
}

# Mail (Django 6.1's MAILERS). Console by default: password resets and invitations appear in the log.
# EMAIL_URL=smtp://user:password@host:587 (or smtps:// for implicit TLS) sends real mail.
_email_url = env_str("EMAIL_URL")
if not _email_url:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
else:
    _email = urlsplit(_email_url)
    if _email.scheme not in ("smtp", "smtps") or not _email.hostname:
        raise ImproperlyConfigured("EMAIL_URL must look like smtp://user:password@host:587 or smtps://host:465.")
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _email.hostname,
                "port": _email.port or (465 if _email.scheme == "smtps" else 587),
                "username": unquote(_email.username or ""),
                "password": unquote(_email.password or ""),
                "use_ssl": _email.scheme == "smtps",
                "use_tls": _email.scheme == "smtp",
                "timeout": 20,
            },
        }
    }
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "uprtrax <noreply@localhost>")

# Logs go to standard error, one record per line: JSON objects (timestamp, level, logger, message, request_id, and
# the request log's method, path, status, duration_ms, user_id: uprtrax/ops/logs.py) by default in production, plain
# text by default with DEBUG. Web, Celery worker and beat alike (uprtrax/celery.py).
LOG_FORMAT = env_choice("UPRTRAX_LOG_FORMAT", ("json", "plain"), "plain" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"},
        "celery_task": {"()": "uprtrax.ops.logs.CeleryTaskFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["levelname", "name", "message"],
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": True,  # ISO 8601, UTC
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id", "celery_task"]}
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django_guid": {"level": "WARNING"}},  # it says at INFO, for every request, that it made an id
}
# X-Request-ID: a UUID given by the proxy is kept, anything else replaced; returned on every response.
DJANGO_GUID = {"GUID_HEADER_NAME": "X-Request-ID", "VALIDATE_GUID": True, "EXPOSE_HEADER": False}
