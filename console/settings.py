"""Settings, read from the environment (see docs/configuration.md).

Every knob an operator turns is an environment variable, so that one image serves a laptop with SQLite and a
fleet of app servers on PostgreSQL. Secure defaults apply whenever DEBUG is off.
"""

import contextlib
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no, on/off), not {value!r}")


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a key generated once and kept in var/ (never in the repo)."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "console",
    # The embedding contract (docs/embedding.md): these four, and the two URL includes of console/urls.py.
    "rest_framework",
    "django_filters",
    "realms",
    "scim",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"
ASGI_APPLICATION = "console.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# Database: SQLite under var/ by default, PostgreSQL (psycopg 3) with DATABASE_URL=postgres://…
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip() or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Persistent too (CONN_MAX_AGE): a connection opened per request ran the PRAGMAs below on every request and,
    # closing the last connection to the file, checkpointed the WAL each time (1 to 3 ms a request,
    # docs/performance-history.md). Between requests a connection holds no transaction, so no snapshot is kept open.
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE write transactions and WAL keep concurrent writers from failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    if not os.environ.get("DATABASE_URL"):
        VAR_DIR.mkdir(parents=True, exist_ok=True)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Prepared statements: PostgreSQL plans a statement once per connection instead of on every call (the token
    # query took 0.32 ms planned each time, 0.10 ms prepared). psycopg prepares a statement after it has run
    # PREPARE_THRESHOLD times on a connection; "off" for PgBouncer in transaction mode before 1.21.
    _threshold = os.environ.get("PREPARE_THRESHOLD", "5").strip().lower()
    if _threshold not in {"off", "none", ""}:
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=int(_threshold)
        )


def _caches() -> dict:
    """The cache, which holds the per-token SCIM rate-limit counts.

    Per-process memory by default (each worker counts on its own). With several workers or app servers the counts
    must live in a cache they share: `CACHE_URL=redis://host:6379/0` (Django's Redis backend, the `redis`
    package of the `console` extra), or `CACHE=database` (run `manage.py createcachetable` once).
    """
    url = os.environ.get("CACHE_URL", "").strip()
    kind = os.environ.get("CACHE", "").strip().lower() or ("redis" if url else "memory")
    if url:
        if kind != "redis":
            raise ImproperlyConfigured(f"CACHE_URL is a Redis cache: unset CACHE={kind}, or CACHE_URL")
        if not url.startswith(("redis://", "rediss://", "unix://")):
            raise ImproperlyConfigured(f"CACHE_URL must be a redis://, rediss:// or unix:// URL, not {url!r}")
        timeout = float(os.environ.get("CACHE_SOCKET_TIMEOUT", "1"))
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "realms"),
                # A Redis that stops answering costs each request at most this long, never a stuck worker.
                "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
            }
        }
    if kind == "memory":
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "realms"}}
    if kind == "database":
        return {"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "realms_cache"}}
    raise ImproperlyConfigured(f"CACHE must be memory or database (or set CACHE_URL=redis://…), not {kind!r}")


CACHES = _caches()

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "console.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
# One timestamp format in the console pages and the Django admin alike (console/formats/en/formats.py).
FORMAT_MODULE_PATH = ["console.formats"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
with contextlib.suppress(OSError):  # whitenoise warns about a missing STATIC_ROOT before the first collectstatic
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# Security: on unless DEBUG. HTTPS=0 turns the HTTPS-only settings off for a plain-HTTP deployment.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if HTTPS else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# HSTS preloading binds the whole domain and its subdomains for months: an operator opts in with
# SECURE_HSTS_PRELOAD=1, so its absence is a decision, not an oversight.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(8 * 3600)))
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

DEFAULT_EXCEPTION_REPORTER_FILTER = "console.reporting.SecretSafeExceptionReporterFilter"

# The apps' own settings: one namespaced dict each, read lazily (docs/embedding.md lists every key).
REALMS: dict = {
    # Absolute links built outside a request (management commands, SAML entity ids). Without a trailing slash.
    "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "").strip().rstrip("/"),
}
SCIM: dict = {}
# The per-token SCIM rate limit ("<n>/<second|minute|hour|day>", or "off"); the app's default when unset.
_rate_limit = os.environ.get("SCIM_RATE_LIMIT", "").strip()
if _rate_limit:
    SCIM["RATE_LIMIT"] = None if _rate_limit.lower() in {"off", "none"} else _rate_limit

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"no_client_tracebacks": {"()": "console.reporting.NoTracebackForClientErrors"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # On the logger that logs them, so that no handler prints the traceback of a 403 (Django's DEBUG console
        # handler on "django" included).
        "django.request": {"filters": ["no_client_tracebacks"]},
    },
}
