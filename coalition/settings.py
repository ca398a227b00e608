"""Settings, read from the environment only.

DATABASE_URL and REDIS_URL point at real servers; without them the app starts
an embedded PostgreSQL and Redis (see coalition/embedded.py). DJANGO_DEBUG is
off unless set; with it off, DJANGO_SECRET_KEY must be given.
"""

from __future__ import annotations

import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from coalition import embedded
from utilities.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG: bool = env.bool("DJANGO_DEBUG", default=False)
TESTING: bool = env.bool("COALITION_TESTING", default="pytest" in sys.modules)

SECRET_KEY: str = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-not-for-production"  # noqa: S105
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it (or DJANGO_DEBUG=true for local development)."
        )

ALLOWED_HOSTS: list[str] = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS: list[str] = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "pgtrigger",
    "pghistory",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "places",
    "pledges",
    "meetings",
    "outcomes",
    "idempotency",
    "dashboard",
    "imports",
    "backups",
    "csp",
    "axes",
]

MIDDLEWARE = [
    "utilities.logs.RequestIdMiddleware",
    "utilities.metrics.RequestMetricsMiddleware",
    "utilities.middleware.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "utilities.languages.PreferredLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pghistory.middleware.HistoryMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires
]

ROOT_URLCONF = "coalition.urls"
WSGI_APPLICATION = "coalition.wsgi.application"

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
            ],
        },
    },
]

# --- Database: one engine everywhere, PostgreSQL ---------------------------
LOCAL_DIR = embedded.local_dir()
DATABASE_URL: str = env.str("DATABASE_URL", default="") or embedded.embedded_database_url(LOCAL_DIR)
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if "host=/" in DATABASE_URL:  # a unix socket directory in the query string (the embedded server)
    DATABASES["default"]["HOST"] = DATABASES["default"].get("OPTIONS", {}).pop("host", "")
    DATABASES["default"]["NAME"] = DATABASES["default"]["NAME"] or embedded.DATABASE_NAME
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: Celery broker and results, shared cache --------------------------
REDIS_URL: str = env.str("REDIS_URL", default="") or embedded.embedded_redis_url(LOCAL_DIR)
_KOMBU_REDIS_URL = (
    REDIS_URL.replace("unix://", "redis+socket://", 1) if REDIS_URL.startswith("unix://") else REDIS_URL
)
CELERY_BROKER_URL = _KOMBU_REDIS_URL
CELERY_RESULT_BACKEND = _KOMBU_REDIS_URL
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Short timeouts: with Redis down, sending a task fails in about a second instead of hanging a request.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
# Spreadsheet imports run on a queue of their own, consumed by a worker process of its own (coalition/run.py,
# docker-compose.yml), so that a brief never waits behind one; each import task has a time limit: at the soft one
# the import is marked failed, nothing changed; the hard one (if a query will not yield) replaces the process.
CELERY_TASK_ROUTES = {"imports.tasks.*": {"queue": "imports"}}
IMPORT_TIME_LIMIT: int = env.int("COALITION_IMPORT_TIME_LIMIT", default=10 * 60)  # seconds
IMPORT_HARD_TIME_LIMIT: int = env.int("COALITION_IMPORT_HARD_TIME_LIMIT", default=IMPORT_TIME_LIMIT + 60)
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    # A brief for every planned meeting starting within 48 hours, and a fresh one after pledges change.
    "queue-pre-meeting-briefs": {"task": "meetings.tasks.queue_due_briefs", "schedule": 15 * 60.0},
    # Briefs whose worker died (no heartbeat for 30 s) are queued again, or failed after 3 attempts; queued
    # briefs whose message was lost (Redis restarted, or down when they were asked for) are sent again.
    "reap-stale-briefs": {"task": "meetings.tasks.reap_stale_briefs", "schedule": 10.0},
    # Each invited country's staff reminded before a meeting; the secretariat told when a brief is ready.
    "send-reminders": {"task": "meetings.tasks.send_reminders", "schedule": 10 * 60.0},
    # Answers kept for idempotent retries are forgotten after a day.
    "purge-idempotent-requests": {"task": "idempotency.tasks.purge_idempotent_requests", "schedule": 3600.0},
}

# Backups (backups/services.py): `manage.py backup` / `restore`; with COALITION_BACKUP_DIR set, beat also writes one
# there every COALITION_BACKUP_INTERVAL seconds (default a day) and keeps the newest COALITION_BACKUP_KEEP (7).
# COALITION_PG_BIN: the folder of the pg_dump / pg_restore to use (default: the closest version found).
BACKUP_DIR: str = env.str("COALITION_BACKUP_DIR", default="")
BACKUP_KEEP: int = env.int("COALITION_BACKUP_KEEP", default=7)
BACKUP_INTERVAL: float = env.float("COALITION_BACKUP_INTERVAL", default=24 * 3600.0)
BACKUP_PG_BIN: str = env.str("COALITION_PG_BIN", default="")
if BACKUP_DIR:
    CELERY_BEAT_SCHEDULE["scheduled-backup"] = {"task": "backups.tasks.scheduled_backup", "schedule": BACKUP_INTERVAL}

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    }
}
# An API answer that would take more than this in Redis (large ones are kept compressed) is sent but not kept
# (utilities.kept_answers): Redis keeps many readers' small answers, not a few largest pages.
KEPT_ANSWER_MAX_BYTES: int = env.int("COALITION_KEPT_ANSWER_MAX_BYTES", default=256 * 1024)

# --- Mail ----------------------------------------------------------------------
# EMAIL_URL=smtp://user:password@host:587 (smtp+tls://, smtps:// too) sends through that server; without it
# every message is written as its own .eml file under .local/mail/ (utilities/mail.py).
EMAIL_BACKEND = "utilities.mail.EmlFileBackend"
EMAIL_FILE_PATH = str(LOCAL_DIR / "mail")
if env.str("EMAIL_URL", default=""):
    _mail = env.email_url("EMAIL_URL")
    EMAIL_BACKEND = _mail["EMAIL_BACKEND"]
    EMAIL_HOST, EMAIL_PORT = _mail["EMAIL_HOST"], _mail["EMAIL_PORT"]
    EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _mail["EMAIL_HOST_USER"], _mail["EMAIL_HOST_PASSWORD"]
    EMAIL_USE_TLS, EMAIL_USE_SSL = bool(_mail.get("EMAIL_USE_TLS")), bool(_mail.get("EMAIL_USE_SSL"))
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Coalition pledge tracker <no-reply@coalition.example>")
# Where people reach the product: the links in emails.
COALITION_BASE_URL: str = env.str("COALITION_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Auth --------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "admin:login"

# --- Requests ------------------------------------------------------------------------
# How many reverse proxies of ours stand in front of the app and append to X-Forwarded-For (0: none, so the
# header is ignored and a client cannot pose as another address to the throttles and the lockout).
TRUSTED_PROXIES: int = env.int("DJANGO_TRUSTED_PROXIES", default=0)
# The largest request body accepted (413 above it): API JSON, admin forms, spreadsheet uploads.
API_MAX_BODY_BYTES: int = env.int("DJANGO_MAX_BODY_BYTES", default=5 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# Spreadsheet imports: the largest file (imports.reader says so in words below it), on the paths that take one.
IMPORT_MAX_BYTES = 5 * 1024 * 1024
UPLOAD_PATHS = ("/api/v1/imports/", "/admin/imports/import/upload/")

# --- API ---------------------------------------------------------------------------
# REST API under /api/v1/ (utilities/api.py holds the shared pieces; its parsers and OpenAPI hook are beside it,
# api_parsers.py and api_schema.py). Tokens are knox's:
# stored hashed, expiring after API_TOKEN_TTL_HOURS, revoked by POST /api/v1/auth/logout/.
from datetime import timedelta  # noqa: E402

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "utilities.token_auth.TokenAuthentication",  # first: its "Token" challenge makes DRF answer 401, not 403
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["utilities.api.ApiPermission"],
    "DEFAULT_PAGINATION_CLASS": "utilities.api.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["utilities.api_parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "utilities.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_ANON_RATE", default="60/min"),
        "user": env.str("API_USER_RATE", default="1200/min"),
        "login": env.str("API_LOGIN_RATE", default="10/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Only proxies we run may name the client (X-Forwarded-For); see utilities.middleware.client_ip.
    "NUM_PROXIES": TRUSTED_PROXIES,
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=10)),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": None,
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Coalition pledge tracker API",
    "DESCRIPTION": (
        "Pledges, caveats, requirements, force totals and changes for analysts and the secretariat. "
        "Authenticate with `POST /api/v1/auth/token/` and send `Authorization: Token <key>`. "
        "Writes honour `If-Match` with the `ETag` of the detail; a stale one gets 412 and changes nothing."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "utilities.api_schema.document_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "PledgeStatusEnum": "pledges.models.PledgeStatus",
        "NewPledgeStatusEnum": "pledges.api.serializers.NEW_PLEDGE_STATUS_CHOICES",
        "CaveatKindEnum": "pledges.models.CaveatKind",
        "PledgeChangeKindEnum": "pledges.api.serializers.PLEDGE_CHANGE_KINDS",
        "CaveatChangeKindEnum": "pledges.api.serializers.CAVEAT_CHANGE_KINDS",
        "DeliveryChangeKindEnum": "pledges.api.serializers.DELIVERY_CHANGE_KINDS",
        "ConditionChangeKindEnum": "pledges.api.serializers.CONDITION_CHANGE_KINDS",
        "ConditionStatusEnum": "pledges.models.ConditionStatus",
        "MeetingKindEnum": "meetings.models.MeetingKind",
        "MeetingStatusEnum": "meetings.models.MeetingStatus",
        "InvitationStatusEnum": "meetings.models.InvitationStatus",
        "DelegationLevelEnum": "meetings.models.DelegationLevel",
        "BriefStatusEnum": "meetings.models.BriefStatus",
        "OutcomeKindEnum": "outcomes.models.OutcomeKind",
        "OutcomeStatusEnum": "outcomes.models.OutcomeStatus",
        "OutcomeChangeKindEnum": "outcomes.history.OUTCOME_CHANGE_KINDS",
    },
}

# --- Internationalisation ---------------------------------------------------------
LANGUAGE_CODE = "en-gb"
# English and French, NATO's and the coalition's working languages: a user's own choice (accounts.User
# .preferred_language), else the browser's Accept-Language, else English. Translations in locale/, compiled at
# install (make deps).
LANGUAGES = [("en-gb", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files: every asset served locally ----------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [path for path in [BASE_DIR / "static"] if path.is_dir()]  # project assets, when there are any
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = Path(env.str("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "media/"
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- Security headers (production values; local development relaxes them) ---------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # Cookies only over HTTPS; `make run` (plain HTTP on this machine) turns this off.
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)

# --- Hardening -------------------------------------------------------------------------
# Content Security Policy (django-csp 4): everything from our own origin, no inline script or style (a style
# attribute or a <style> block is refused: our pages style by classes in static/; scripts may still set styles
# through the DOM, as the admin's and Swagger UI's do). So the API docs use drf-spectacular's
# SpectacularSwaggerSplitView (its init script is a URL) and templates/drf_spectacular/swagger_ui.html (its page
# style in static/). tests/hardening/test_no_inline_style.py keeps it so.
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

# django-axes: lock a username out from an address after repeated failed logins (admin and API
# token login alike). Attempts live in the database, so a dead Redis cannot open or close the lock.
# AxesBackend checks the lockout and has ModelBackend's get_user(), so force_login() and sessions, which
# use the first backend, keep working; ModelBackend after it does the authenticating.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("DJANGO_AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("DJANGO_AXES_COOLOFF_HOURS", default=1.0)  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "utilities.middleware.client_ip"
AXES_VERBOSE = False  # no banner on every start of manage.py
# The test client's login() authenticates without a request, which axes refuses; tests that check
# the lockout switch it on with the `settings` fixture.
AXES_ENABLED: bool = env.bool("DJANGO_AXES_ENABLED", default=not TESTING)

# The cache holds only what can be recomputed (throttle counters): with Redis down it misses
# instead of failing the request.
CACHES["default"]["BACKEND"] = "utilities.cache.FailOpenRedisCache"

# Our queries are short aggregates: PostgreSQL's JIT spent ~190 ms compiling a 50 ms query in the
# benchmark (bench/README.md), so it is off for the app's connections.
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
_db_options["options"] = f"{_db_options.get('options', '')} -c jit=off".strip()

SESSION_COOKIE_SAMESITE = "Lax"
SECURE_REFERRER_POLICY = "same-origin"

# LOG_FORMAT=json: one JSON object per line, with the request's id (utilities.logs).
LOG_FORMAT: str = env.str("LOG_FORMAT", default="text")
LOGGING = logging_config(LOG_FORMAT, env.str("DJANGO_LOG_LEVEL", default="INFO"))
if LOG_FORMAT == "json":
    CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # the workers' lines through LOGGING too
# GET /metrics (utilities.metrics): this machine, or a scraper bearing this token.
METRICS_TOKEN: str = env.str("COALITION_METRICS_TOKEN", default="")
