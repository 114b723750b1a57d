"""Casework settings: one file, configured from the environment (12-factor).

Every setting a deployment may change is read through a typed helper below; a value
that is required in production and missing stops start-up with a message saying which.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import dj_database_url
import dj_email_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(
            f"Set the environment variable {name} (see README: Configuration)."
        )
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
TESTING = "pytest" in sys.modules or env_bool("CASEWORK_TESTING", False)

# Commands that only read or write the schema never sign anything, so they need no secret.
SCHEMA_ONLY_COMMAND = sys.argv[1:2] in (["makemigrations"], ["showmigrations"], ["sqlmigrate"])

if DEBUG or TESTING:
    SECRET_KEY = env_str("SECRET_KEY", "insecure-development-key-change-me-" + "x" * 20)
elif SCHEMA_ONLY_COMMAND and not os.environ.get("SECRET_KEY"):
    SECRET_KEY = "schema-only-command-" + "x" * 40
else:
    if not os.environ.get("SECRET_KEY"):
        raise ImproperlyConfigured(
            "Set the environment variable SECRET_KEY (see README: Configuration). "
            "On a development machine, set DEBUG=1 instead (make run does)."
        )
    SECRET_KEY = os.environ["SECRET_KEY"]
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "SECRET_KEY must be at least 50 random characters in production."
        )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG or TESTING else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tasks",
    "django_tasks_db",
    "casework.core",
    "casework.billing",
    "casework.clients",
    "casework.notes",
    "casework.assessments",
    "casework.plans",
    "casework.schedule",
    "casework.worklist",
    "casework.coordination",
    "casework.processes",
    "casework.automation",
    "casework.reports",
    "casework.web",
    "casework.api",
]

MIDDLEWARE = [
    "casework.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "casework.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "casework.core.middleware.IdleTimeoutMiddleware",
    "casework.core.middleware.AgencyTimeZoneMiddleware",
    "casework.core.middleware.TwoFactorRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy of every response (casework.core.csp): our own files only, no inline
# script or style. The document viewer's frame is same-origin ('self'); the files it shows carry
# their own `sandbox` policy. No data: images (the two-factor QR code is inline SVG markup).
# Nothing is framed by others, nothing posts elsewhere.
CASEWORK_CONTENT_SECURITY_POLICY: dict[str, list[str]] = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

if TESTING:
    # django-zeal fails any test whose request loads related rows one by one (N+1 queries).
    INSTALLED_APPS.append("zeal")
    MIDDLEWARE.insert(0, "zeal.middleware.zeal_middleware")
    ZEAL_RAISE = True
    # Django itself reloads a session it has just flushed (e.g. after "sign out everywhere").
    ZEAL_ALLOWLIST = [{"model": "sessions.Session"}]

# The address people open Casework at, for links in emails sent without a request (reminders).
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000" if DEBUG or TESTING else "")

# Background work (early-warning rules, series extension, reminders) runs in `manage.py
# db_worker`; tests run each task at once, inside the request that enqueued it.
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if TESTING
        else "django_tasks_db.DatabaseBackend"
    }
}

# Messages often name a client; keep them server-side, not in a (signed, readable) cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "casework.urls"
WSGI_APPLICATION = "casework.wsgi.application"

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
                "casework.web.context_processors.shell",
            ],
        },
    },
]

DEFAULT_SQLITE = f"sqlite:///{PROJECT_DIR / 'casework.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", DEFAULT_SQLITE),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        # A kept connection that the server dropped (a restart, a fail-over) is checked and
        # replaced when a request first uses it, instead of failing that request with a 500
        # (docs/RELIABILITY.md, the PostgreSQL restart scenario).
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions take the write lock up front, so two requests writing at once
    # wait for each other instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0


def cache_from_url(url: str) -> dict[str, object]:
    """locmem:// (one process), redis://host:6379/0 (pip install casework[redis]) or db://table."""
    scheme, _, rest = url.partition("://")
    if scheme == "locmem":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if scheme in {"redis", "rediss"}:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "db":
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": rest or "casework_cache",
        }
    raise ImproperlyConfigured(
        f"CACHE_URL must start with locmem://, redis:// or db://, not {url!r}."
    )


# API throttling counts live in the cache: with several worker processes, share one (Redis or db).
CACHES = {"default": cache_from_url(env_str("CACHE_URL", "locmem://"))}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "core.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "casework.core.backends.StaffBackend",
]
PRODUCTION_PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Argon2 costs ~0.4 s a hash by design; the test suite makes hundreds of users, so it uses a
# fast hasher (a test checks that production settings hash with argon2).
PASSWORD_HASHERS = (
    ["django.contrib.auth.hashers.MD5PasswordHasher", *PRODUCTION_PASSWORD_HASHERS]
    if TESTING
    else PRODUCTION_PASSWORD_HASHERS
)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24 * 3)

# django-axes: lock an account (per user name) after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "casework.core.views_auth.lockout_username"
AXES_LOCKOUT_CALLABLE = "casework.core.views_auth.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Locking by IP too would lock out a whole office behind one NAT address after a few typos;
# accounts lock by user name, and two-factor sign-in guards against password spraying.
# HSTS preload (security.W021) commits the agency's whole domain to HTTPS in browsers for
# months; it stays an explicit choice (SECURE_HSTS_PRELOAD=true), not a default.
SILENCED_SYSTEM_CHECKS = ["axes.W006", "security.W021"]

OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Casework")

SESSION_ENGINE = (
    "casework.core.sessions"  # the database store, telling an outage from a lost session
)
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not (DEBUG or TESTING))
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not (DEBUG or TESTING))
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG or TESTING else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/Los_Angeles")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(PROJECT_DIR / "staticfiles")))
# In development and tests WhiteNoise serves straight from the apps' static folders.
WHITENOISE_AUTOREFRESH = DEBUG or TESTING
WHITENOISE_USE_FINDERS = DEBUG or TESTING
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

_email = dj_email_url.parse(
    env_str("EMAIL_URL", "console://" if DEBUG or TESTING else "smtp://localhost:25")
)
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
EMAIL_HOST = _email["EMAIL_HOST"]
EMAIL_PORT = _email["EMAIL_PORT"]
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"]
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"]
EMAIL_USE_TLS = _email["EMAIL_USE_TLS"]
EMAIL_USE_SSL = _email["EMAIL_USE_SSL"]
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Casework <casework@localhost>")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "casework.api.authentication.ApiTokenAuthentication",
        "casework.api.authentication.VerifiedSessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_RATES": {"user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Casework API",
    "DESCRIPTION": "Clients, staff, programs, service notes, charges, claim batches, instruments, assessments and service plans of one agency, plus read-only FHIR R4 (Questionnaire, QuestionnaireResponse, CarePlan, Goal) under /api/fhir/r4/. Every call is scoped to what the caller may see.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# Logs never carry PHI: only ids, request ids and status codes are logged by our code.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # SpiffWorkflow logs every step change with the process's answers attached: no PHI in logs.
    "loggers": {"axes": {"level": "WARNING"}, "spiff": {"level": "WARNING"}},
}

CASEWORK_DEFAULT_IDLE_MINUTES = env_int("CASEWORK_DEFAULT_IDLE_MINUTES", 15)
CASEWORK_MAX_UPLOAD_BYTES = env_int("CASEWORK_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
# Uploaded client documents and generated referral packets: outside the web root, served only
# through access-checked, audited views.
CASEWORK_DOCUMENTS_ROOT = Path(
    env_str("CASEWORK_DOCUMENTS_ROOT", str(PROJECT_DIR / "private" / "documents"))
)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Client appointment reminders (casework.automation.messaging): the backend that sends each
# channel, as a dotted path. The console in development and tests; in production email goes
# through the EMAIL_URL mail server, and texts fail with a clear message until an SMS provider
# is set (casework.automation.messaging.TwilioSmsBackend with the TWILIO_* settings).
_console_messages = "casework.automation.messaging.ConsoleBackend"
CASEWORK_SMS_BACKEND = env_str(
    "CASEWORK_SMS_BACKEND",
    _console_messages if DEBUG or TESTING else "casework.automation.messaging.UnconfiguredBackend",
)
CASEWORK_EMAIL_REMINDER_BACKEND = env_str(
    "CASEWORK_EMAIL_REMINDER_BACKEND",
    _console_messages if DEBUG or TESTING else "casework.automation.messaging.EmailBackend",
)
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
TWILIO_BASE_URL = env_str("TWILIO_BASE_URL", "https://api.twilio.com")
if CASEWORK_SMS_BACKEND.endswith(".TwilioSmsBackend") and not (
    TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN and TWILIO_FROM_NUMBER
):
    raise ImproperlyConfigured(
        "CASEWORK_SMS_BACKEND is Twilio: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
        "TWILIO_FROM_NUMBER (see README: Automation rules and reminders)."
    )
