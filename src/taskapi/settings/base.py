"""Every setting, read from the environment. With nothing set: local SQLite, DEBUG off.

Production differs from a local run by environment variables alone (deploy/env.example lists them).
Every value is checked here, while the settings load: a bad one stops start-up with one line that
names the variable and gives a good value (settings/env.py), never a 500 later.
"""

from datetime import timedelta
from pathlib import Path

from taskapi.settings.env import LOG_LEVELS, SECRET_EXAMPLE, Env, refuse

BASE_DIR = Path(__file__).resolve().parents[3]  # the checkout: src/taskapi/settings/base.py

env = Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")


def _refuse_insecure_secret(name: str, key: str) -> None:
    # Same bar as Django's security.W009, but fatal: a guessable key lets anyone forge tokens.
    # The line never repeats the key.
    if not key:
        problem = "is not set: `make run` creates a local one, production needs its own"
    elif key.startswith("django-insecure"):
        problem = "is insecure: it is a Django development key"
    elif len(key) < 50:
        problem = f"is insecure: {len(key)} characters, fewer than 50"
    elif len(set(key)) < 5:
        problem = f"is insecure: {len(set(key))} distinct characters, fewer than 5"
    else:
        return
    refuse(name, None, problem, SECRET_EXAMPLE)


_refuse_insecure_secret("DJANGO_SECRET_KEY", SECRET_KEY)

ALLOWED_HOSTS = env.hosts(
    "ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"], example="api.example.com"
)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_prometheus",
    "taskapi.core",
    "taskapi.accounts",
    "taskapi.access_tokens",
    "taskapi.sync",
    "taskapi.projects",
    "taskapi.labels",
    "taskapi.tasks",
    "django_tasks",
    "django_tasks_db",
    "taskapi.webhooks",
]

MIDDLEWARE = [
    # First and last: the metrics time the whole chain and see the final status.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "taskapi.core.middleware.RequestIdMiddleware",
    # Deprecation/Sunset headers from openapi.yaml; left out of the chain when none apply.
    "taskapi.core.deprecation.DeprecationMiddleware",
    "taskapi.core.middleware.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.common.CommonMiddleware",
    # The API authenticates by header, not cookie, so CSRF cannot apply to it; these two cost
    # nothing and keep any future cookie-backed page safe by default.
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "taskapi.core.middleware.ProblemResponseMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "taskapi.urls"
# The contract: served at /openapi.yaml, and the source of the deprecation headers.
CONTRACT_PATH = BASE_DIR / "openapi.yaml"
ASGI_APPLICATION = "taskapi.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# Threads per process that run requests through Django (asgi.py). Each holds at most one pooled
# database connection, so the PostgreSQL pool's default size matches it.
REQUEST_THREADS = env.int("REQUEST_THREADS", default=10, minimum=1)

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db(
        "DATABASE_URL",
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        example="postgres://taskapi:PASSWORD@db.internal:5432/taskapi",
    )
}
_db = DATABASES["default"]
# PostgreSQL's pool and timeouts, checked whatever the database: a bad value set for later shows
# up on the first local run.
DB_POOL_MAX_SIZE = env.int("DB_POOL_MAX_SIZE", default=REQUEST_THREADS, minimum=1)
DB_POOL_MIN_SIZE = env.int("DB_POOL_MIN_SIZE", default=min(2, DB_POOL_MAX_SIZE), minimum=0)
if DB_POOL_MAX_SIZE < DB_POOL_MIN_SIZE:  # psycopg_pool would refuse it at the first request
    env.conflict(
        "DB_POOL_MAX_SIZE",
        DB_POOL_MAX_SIZE,
        f"is less than DB_POOL_MIN_SIZE ({DB_POOL_MIN_SIZE})",
        max(DB_POOL_MIN_SIZE, REQUEST_THREADS),
    )
# How long a request waits for a connection. While the database is unreachable every request
# waits this long before its 503, so keep it short: readiness must fail fast.
DB_POOL_TIMEOUT = env.float("DB_POOL_TIMEOUT", default=1.5, above=0, unit="seconds")
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", default=3, minimum=1, unit="seconds")
# 0: no cap (PostgreSQL's meaning).
DB_STATEMENT_TIMEOUT_MS = env.int(
    "DB_STATEMENT_TIMEOUT_MS", default=5000, minimum=0, unit="milliseconds"
)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["OPTIONS"] = {
        # IMMEDIATE: a write transaction takes the lock up front, so concurrent writers queue
        # instead of failing with "database is locked" when they upgrade a read lock.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # Under ASGI every request may run on another thread; persistent per-thread connections
    # (CONN_MAX_AGE > 0) leak until PostgreSQL runs out. A process-wide pool does not.
    _db["CONN_MAX_AGE"] = 0
    # Same driver, plus query counts, latency and errors in /metrics (django-prometheus), and
    # timestamps read by psycopg's C loader (core/postgresql/base.py).
    _db["ENGINE"] = "taskapi.core.postgresql"
    # The pool checks a connection before handing it out: after a network cut or a database
    # restart, a dead pooled connection is replaced instead of failing the request.
    _db["CONN_HEALTH_CHECKS"] = True
    _db["OPTIONS"] = {
        "pool": {
            "min_size": DB_POOL_MIN_SIZE,
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": DB_POOL_TIMEOUT,
        },
        "connect_timeout": DB_CONNECT_TIMEOUT,
        "options": f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}",
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# --- Cache: rate limits, idempotency locks and token versions --------------------------------
# Without REDIS_URL the cache lives in this process: fine for one process, wrong for several.
REDIS_URL = env.redis_url("REDIS_URL", example="redis://127.0.0.1:6379/0")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's RedisCache with one pool and client per process (core/cache.py).
            "BACKEND": "taskapi.core.cache.SharedPoolRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "taskapi",
            "TIMEOUT": 300,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Auth -----------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ["email"]},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

JWT_SIGNING_KEY = env.str("JWT_SIGNING_KEY", default=SECRET_KEY)
_refuse_insecure_secret("JWT_SIGNING_KEY", JWT_SIGNING_KEY)
ACCESS_TOKEN_LIFETIME = env.int("ACCESS_TOKEN_LIFETIME", default=300, minimum=1, unit="seconds")
REFRESH_TOKEN_LIFETIME = env.int(
    "REFRESH_TOKEN_LIFETIME", default=1_209_600, minimum=1, unit="seconds"
)

SIMPLE_JWT = {
    "ALGORITHM": "HS256",  # pinned: a token's own "alg" header is never trusted
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=ACCESS_TOKEN_LIFETIME),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=REFRESH_TOKEN_LIFETIME),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "LEEWAY": 0,
}

# A deleted task waits in the trash this long before `purge_expired` erases it.
TRASH_RETENTION_DAYS = env.int("TRASH_RETENTION_DAYS", default=30, minimum=1, unit="days")
# A sync token is accepted this long after it was issued; deletion records are kept a day
# longer. At least the trash retention: a client that syncs within it sees every deletion.
SYNC_TOKEN_MAX_AGE_DAYS = env.int("SYNC_TOKEN_MAX_AGE_DAYS", default=30, minimum=1, unit="days")
if SYNC_TOKEN_MAX_AGE_DAYS < TRASH_RETENTION_DAYS:
    env.conflict(
        "SYNC_TOKEN_MAX_AGE_DAYS",
        SYNC_TOKEN_MAX_AGE_DAYS,
        f"is less than TRASH_RETENTION_DAYS ({TRASH_RETENTION_DAYS}): a client syncing within "
        "the trash retention would miss deletions",
        TRASH_RETENTION_DAYS,
    )
TRASH_RETENTION = timedelta(days=TRASH_RETENTION_DAYS)
SYNC_TOKEN_MAX_AGE = timedelta(days=SYNC_TOKEN_MAX_AGE_DAYS)

# --- Webhooks (taskapi/webhooks) -------------------------------------------------------------
# The queue: django-tasks' database backend, in the application's database, so a delivery is
# enqueued in the same transaction as the change it reports (docs/webhooks.md, "The queue").
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["webhooks"]}}
# http:// and loopback receivers: for tests and local runs only (`check --deploy` warns).
WEBHOOKS_ALLOW_LOOPBACK = env.bool("WEBHOOKS_ALLOW_LOOPBACK", default=False)
WEBHOOKS_CONNECT_TIMEOUT = env.float(
    "WEBHOOKS_CONNECT_TIMEOUT", default=5.0, above=0, maximum=60, unit="seconds"
)
WEBHOOKS_TIMEOUT = env.float("WEBHOOKS_TIMEOUT", default=15.0, above=0, maximum=60, unit="seconds")
if WEBHOOKS_CONNECT_TIMEOUT > WEBHOOKS_TIMEOUT:
    env.conflict(
        "WEBHOOKS_CONNECT_TIMEOUT",
        f"{WEBHOOKS_CONNECT_TIMEOUT:g}",
        f"is more than WEBHOOKS_TIMEOUT ({WEBHOOKS_TIMEOUT:g}), the whole attempt's limit",
        f"{min(5.0, WEBHOOKS_TIMEOUT):g}",
    )
# Signing secrets are sealed at rest with these Fernet keys, newest first (webhooks/sealing.py):
# the first seals, each opens. Unset: one key derived from DJANGO_SECRET_KEY.
WEBHOOKS_SECRET_KEYS = env.fernet_keys("WEBHOOKS_SECRET_KEYS", derived_from=SECRET_KEY)
# The delivery log keeps deliveries delivered or given up this long (a day of retries fits).
WEBHOOKS_RETENTION_DAYS = env.int("WEBHOOKS_RETENTION_DAYS", default=30, minimum=2, unit="days")
WEBHOOKS_HEARTBEAT_FILE = env.path(
    "WEBHOOKS_HEARTBEAT_FILE",
    default="/tmp/taskapi-webhooks.alive",  # noqa: S108  # nosec B108
    example="/run/taskapi-webhooks-1/alive",
)
# How long a claimed attempt is its worker's: after that the recovery sweep makes it again (the
# worker is presumed dead). Longer than an attempt can last, or a live worker's attempt would
# be made twice; the tests shorten it to see a SIGKILLed worker's attempt recovered quickly.
WEBHOOKS_LEASE_SECONDS = env.float("WEBHOOKS_LEASE_SECONDS", default=120.0, unit="seconds")
if not WEBHOOKS_LEASE_SECONDS > WEBHOOKS_TIMEOUT:
    env.conflict(
        "WEBHOOKS_LEASE_SECONDS",
        f"{WEBHOOKS_LEASE_SECONDS:g}",
        f"is not more than WEBHOOKS_TIMEOUT ({WEBHOOKS_TIMEOUT:g}): an attempt would outlive "
        "its lease",
        120,
    )
# How often each worker runs the recovery sweep and touches its heartbeat file (alive.py's
# MAX_AGE, 60 s, must stay well above it).
WEBHOOKS_SWEEP_INTERVAL = env.float(
    "WEBHOOKS_SWEEP_INTERVAL", default=15.0, above=0, maximum=30, unit="seconds"
)

# Parsed at request time by the same parser (core/rates.py): a bad one stops start-up instead.
AUTH_RATE_LIMIT = env.rate("AUTH_RATE_LIMIT", default="10/minute")
# Personal access tokens: each token, and all of a user's tokens together (a login's JWT is
# not counted). Scripts that poll should use the changes feed, not a tighter loop.
ACCESS_TOKEN_RATE_LIMIT = env.rate("ACCESS_TOKEN_RATE_LIMIT", default="600/minute")
ACCESS_TOKEN_USER_RATE_LIMIT = env.rate("ACCESS_TOKEN_USER_RATE_LIMIT", default="1200/minute")
# Addresses (or CIDR networks) of the reverse proxies whose X-Forwarded-For is believed.
# Empty: the header is ignored and the peer address is the client.
TRUSTED_PROXIES = env.networks("TRUSTED_PROXIES", default=[], example="127.0.0.1")

# --- HTTP -----------------------------------------------------------------------------------
MAX_REQUEST_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES
APPEND_SLASH = False  # a redirect would drop a POST body; a missing slash is a 404 problem

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# TLS ends at the proxy, which says so in X-Forwarded-Proto; only the proxy may set it.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_REDIRECT_EXEMPT = [r"^health/"]
SECURE_HSTS_SECONDS = env.int(
    "SECURE_HSTS_SECONDS", default=0, minimum=0, unit="seconds", example=31_536_000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

# --- i18n / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Set where `collectstatic` ran (the container image); unset locally, where the docs' assets are
# served straight from the installed packages, so `make run` needs no collectstatic.
STATIC_ROOT = env.path("STATIC_ROOT", default="", example="/app/staticfiles") or None
WHITENOISE_USE_FINDERS = STATIC_ROOT is None
WHITENOISE_AUTOREFRESH = DEBUG

# --- DRF ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # A login's JWT, or a personal access token held to the scopes the contract lists.
    "DEFAULT_AUTHENTICATION_CLASSES": ["taskapi.access_tokens.authentication.BearerAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "taskapi.access_tokens.scopes.TokenScopes",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["taskapi.access_tokens.throttling.TokenRateThrottle"],
    "DEFAULT_PARSER_CLASSES": ["taskapi.core.parsers.JsonParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "taskapi.core.negotiation.JsonOnlyNegotiation",
    "EXCEPTION_HANDLER": "taskapi.core.errors.problem_exception_handler",
    # No OPTIONS metadata pages: OPTIONS is a 405 like any other method a route lacks.
    "DEFAULT_METADATA_CLASS": None,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "iso-8601",
    "DATE_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "cloud-task-api",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "taskapi.access_tokens.schema.token_refusals",
    ],
    # Two choice sets share the field name `role`: every role (a member's) and the roles an
    # invitation or a role change may give.
    "ENUM_NAME_OVERRIDES": {
        "Role": "taskapi.projects.serializers.ROLES",
        "GrantableRole": "taskapi.projects.serializers.GRANTABLE",
    },
}

# --- Metrics --------------------------------------------------------------------------------
# With several processes, prometheus_client shares their metrics through files in this directory;
# it and core/metrics.py read the variable themselves. Checked here, so a bad one stops start-up.
PROMETHEUS_MULTIPROC_DIR = env.directory("PROMETHEUS_MULTIPROC_DIR", example="/run/taskapi-8001")

# --- Logging: one JSON object per line, with the request id ----------------------------------
LOG_LEVEL = env.choice("LOG_LEVEL", default="INFO", choices=LOG_LEVELS)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "taskapi.core.logging.RequestIdFilter"},
        "client_mistake": {"()": "taskapi.core.logging.ClientMistakeFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            "timestamp": False,
        }
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Our access log replaces these: one line per request, with the request id.
        "django.request": {"level": "ERROR", "propagate": True},
        "django.server": {"level": "WARNING"},
        "uvicorn.access": {"level": "WARNING"},
        # A wrong Host is the client's mistake (core/hosts.py answers it): a line, not an error.
        "django.security.DisallowedHost": {"filters": ["client_mistake"]},
    },
}
