"""Settings for vifsite: one module, driven by the environment (see .env.example)."""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from vifsite.env import env_bool, env_float, env_int, env_list, env_path, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DATA_DIR = env_path("VIFSITE_DATA_DIR", Path("var"), base=BASE_DIR)
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key() -> str:
    configured = env_str("VIFSITE_SECRET_KEY", "")
    if configured:
        return configured
    # One key per data directory, created on first start, so sessions survive restarts
    # without a secret ever being committed.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("VIFSITE_DEBUG", False)
ALLOWED_HOSTS = env_list("VIFSITE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("VIFSITE_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "django_q",
    "channels",
    "vifsite.vif",
    "seismic",
    "review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "vifsite.urls"
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
WSGI_APPLICATION = "vifsite.wsgi.application"
ASGI_APPLICATION = "vifsite.asgi.application"

# --- Database -------------------------------------------------------------------------------
SQLITE_BUSY_TIMEOUT_S = env_int("VIFSITE_SQLITE_BUSY_TIMEOUT_S", 20, minimum=1)
_db_url = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")
try:
    _db = dj_database_url.parse(_db_url, conn_max_age=0)
except Exception as exc:  # dj_database_url raises plain exceptions on unknown schemes
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL this site can use: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on the busy timeout instead of failing mid-transaction with "database is locked".
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": SQLITE_BUSY_TIMEOUT_S,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "seismic:survey-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# plotly.js comes from the pinned plotly package (no CDN): served as static/vendor/plotly/plotly.min.js.
import plotly as _plotly  # noqa: E402

STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/plotly", Path(_plotly.__file__).parent / "package_data")]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns on every start without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
# Uploads of SEG-Y files go to disk, never to memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "vifsite.vif.auth.AgentKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["vifsite.vif.auth.PrincipalRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"principal": env_rate("VIFSITE_API_RATE", "600/min")},
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "vifsite.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
API_KEY_CUSTOM_HEADER = None  # Authorization: Api-Key <key>
SPECTACULAR_SETTINGS = {
    "ENUM_NAME_OVERRIDES": {"SectionTypeEnum": ["inline", "crossline", "timeslice"]},
    "TITLE": "vifsite API",
    "DESCRIPTION": (
        "Seismic data tools for LLM agents. Every number is computed from the data and carries "
        "provenance; see each operation's description for what it can and cannot establish."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SERVE_AUTHENTICATION": [
        "vifsite.vif.auth.AgentKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}

# --- Background work (django-q2, ORM broker) ---------------------------------------------------
# retry > timeout and a bounded number of attempts: a task is never run twice concurrently and
# never retried forever (django-q2's defaults do both).
Q_CLUSTER = {
    "name": "vifsite",
    "orm": "default",
    "workers": env_int("VIFSITE_Q_WORKERS", 2, minimum=1),
    "timeout": 3600,
    "retry": 3700,
    "max_attempts": 1,
    "ack_failures": True,
    "catch_up": False,
    "sync": env_bool("VIFSITE_Q_SYNC", False),
}

# --- Channels ---------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- Seismic ----------------------------------------------------------------------------------
VIFSITE_SURVEY_DIR = DATA_DIR / "surveys"
VIFSITE_UPLOAD_DIR = DATA_DIR / "uploads"
# Local folders a .vds may be registered from (the data directory always counts).
VIFSITE_VDS_ROOTS = [str(DATA_DIR)] + env_list("VIFSITE_VDS_ROOTS", [])
VIFSITE_PNG_CLIP_PERCENTILE = env_float("VIFSITE_PNG_CLIP_PERCENTILE", 99.0, minimum=50.0)

# --- Verifiable Intelligence Framework ----------------------------------------------------------
# The ledger's signing key and checkpoints live here, outside the database.
VIFSITE_LEDGER_DIR = env_path("VIFSITE_LEDGER_DIR", DATA_DIR / "ledger", base=BASE_DIR)
VIFSITE_BAND_A = env_float("VIFSITE_BAND_A", 0.95, minimum=0.0)
VIFSITE_BAND_B = env_float("VIFSITE_BAND_B", 0.80, minimum=0.0)
if not 0.0 <= VIFSITE_BAND_B <= VIFSITE_BAND_A <= 1.0:
    raise ImproperlyConfigured("Confidence bands need 0 ≤ VIFSITE_BAND_B ≤ VIFSITE_BAND_A ≤ 1")
# Share of gated operations drawn at random as calibration samples (unbiased labels for ECE and κ).
VIFSITE_CALIBRATION_SAMPLE_RATE = env_float("VIFSITE_CALIBRATION_SAMPLE_RATE", 0.05, minimum=0.0)
VIFSITE_CALIBRATION_BINS = env_int("VIFSITE_CALIBRATION_BINS", 10, minimum=1)
VIFSITE_CALIBRATION_MIN_SAMPLES = env_int("VIFSITE_CALIBRATION_MIN_SAMPLES", 30, minimum=1)
# Bernoulli CUSUM decision interval on the error rate of accepted, audited items.
VIFSITE_CUSUM_H = env_float("VIFSITE_CUSUM_H", 4.0, minimum=0.1)
VIFSITE_WITNESS_BATCH_MAX = env_int("VIFSITE_WITNESS_BATCH_MAX", 500, minimum=1)
# Learn-then-Test κ suggestions are applied by an admin; optionally automatically within bounds.
VIFSITE_KAPPA_AUTO_APPLY = env_bool("VIFSITE_KAPPA_AUTO_APPLY", False)
VIFSITE_KAPPA_AUTO_MIN = env_float("VIFSITE_KAPPA_AUTO_MIN", 0.80, minimum=0.0)
VIFSITE_KAPPA_AUTO_MAX = env_float("VIFSITE_KAPPA_AUTO_MAX", 0.99, minimum=0.0)

# --- E-mail (console by default: set VIFSITE_EMAIL_BACKEND and the EMAIL_* values for SMTP) ---------
EMAIL_BACKEND = env_str("VIFSITE_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("VIFSITE_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("VIFSITE_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("VIFSITE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("VIFSITE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("VIFSITE_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env_str("VIFSITE_EMAIL_FROM", "vifsite@localhost")

# --- Review -------------------------------------------------------------------------------------
def _webhook_secret() -> str:
    configured = env_str("VIFSITE_WEBHOOK_SECRET", "")
    if configured:
        return configured
    secret_file = DATA_DIR / "webhook_secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(32))
        secret_file.chmod(0o600)
    return secret_file.read_text().strip()


# Signs agent callbacks and reviewer webhooks (HMAC-SHA256); give it to whoever verifies them.
VIFSITE_WEBHOOK_SECRET = _webhook_secret()
# Extra URLs told about every new critical item (signed like callbacks).
VIFSITE_REVIEW_WEBHOOKS = env_list("VIFSITE_REVIEW_WEBHOOKS", [])
VIFSITE_CALLBACK_MAX_ATTEMPTS = env_int("VIFSITE_CALLBACK_MAX_ATTEMPTS", 6, minimum=1)
VIFSITE_SITE_URL = env_str("VIFSITE_SITE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("VIFSITE_LOG_LEVEL", "INFO")},
}

if DEBUG is False:
    SESSION_COOKIE_HTTPONLY = True
    CSRF_COOKIE_HTTPONLY = False
    X_FRAME_OPTIONS = "DENY"
