"""Settings for vifsite: one module, driven by the environment (see .env.example)."""

from __future__ import annotations

import json
import os
import re
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from vifsite.env import env_bool, env_float, env_int, env_list, env_path, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DATA_DIR = env_path("VIFSITE_DATA_DIR", Path("var"), base=BASE_DIR)
DATA_DIR.mkdir(parents=True, exist_ok=True)


PLACEHOLDER_SECRETS = ("change-me", "changeme", "django-insecure", "placeholder", "your-secret", "secret-key")


def _file_secret(path: Path, nbytes: int) -> str:
    """A secret kept in the data directory, created on first start: written whole to a temporary file and
    linked into place, so processes starting together all read the same complete secret."""
    if not path.exists():
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        temporary.write_text(secrets.token_urlsafe(nbytes))
        temporary.chmod(0o600)
        try:
            os.link(temporary, path)  # fails if another process got there first: theirs is kept
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


def _checked_secret(key: str, origin: str) -> str:
    """Refuse a secret an attacker could guess: short, repetitive or a documented placeholder."""
    if len(key) < 50 or len(set(key)) < 5 or any(word in key.lower() for word in PLACEHOLDER_SECRETS):
        raise ImproperlyConfigured(
            f"{origin} is not a usable secret key: it must be at least 50 random characters and no placeholder. "
            "Generate one with: python -c \"import secrets; print(secrets.token_urlsafe(50))\", "
            "or leave VIFSITE_SECRET_KEY unset to have one generated into the data directory.")
    return key


def _secret_key() -> str:
    configured = env_str("VIFSITE_SECRET_KEY", "")
    if configured:
        return _checked_secret(configured, "VIFSITE_SECRET_KEY")
    # One key per data directory, created on first start, so sessions survive restarts
    # without a secret ever being committed.
    key_file = DATA_DIR / "secret_key"
    return _checked_secret(_file_secret(key_file, 50), str(key_file))


SECRET_KEY = _secret_key()
DEBUG = env_bool("VIFSITE_DEBUG", False)
ALLOWED_HOSTS = env_list("VIFSITE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("VIFSITE_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "vifsite.admin_apps.AdminConfig",  # the admin modules load with the URLs or the checks, not at start-up
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "django_q",
    "channels",
    "axes",
    "vifsite.vif",
    "seismic",
    "review",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # servestatic's: static files served without taking the chain off the event loop (every entry here is
    # async-capable, tests/test_static.py checks, so Django never adapts the chain to sync per request), and
    # under WSGI without an event-loop thread for every request that is not a static file
    "vifsite.staticfiles.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into the lockout page
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
                "review.context_processors.roles",
            ],
        },
    },
]
WSGI_APPLICATION = "vifsite.wsgi.application"
ASGI_APPLICATION = "vifsite.asgi.application"

# --- Database -------------------------------------------------------------------------------
# HTTP requests one web process runs inside Django at once (vifsite.limits.ConcurrencyLimit); 0: no limit.
VIFSITE_WEB_CONCURRENCY = env_int("VIFSITE_WEB_CONCURRENCY", 4, minimum=0)
# Threads a web process runs requests' synchronous code in (vifsite.handler), made as needed and kept, each
# with its database connection: the requests inside Django at once, and those the limit does not count
# (uploads).
VIFSITE_WEB_THREADS = env_int("VIFSITE_WEB_THREADS", (VIFSITE_WEB_CONCURRENCY or 24) + 8, minimum=1)

SQLITE_BUSY_TIMEOUT_S = env_int("VIFSITE_SQLITE_BUSY_TIMEOUT_S", 20, minimum=1)
_db_url = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}")
try:
    _db = dj_database_url.parse(_db_url, conn_max_age=0)
except Exception as exc:  # dj_database_url raises plain exceptions on unknown schemes
    raise ImproperlyConfigured(f"DATABASE_URL is not a database URL this site can use: {exc}") from None
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend, its writers of one process queued in turn (vifsite/db).
    _db["ENGINE"] = "vifsite.db.sqlite3"
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue on the busy timeout instead of failing mid-transaction with "database is locked".
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": SQLITE_BUSY_TIMEOUT_S,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # A thread keeps its connection from one request to the next (the web process's request threads, see
    # vifsite.handler): opening one and reading the schema again cost about 2 ms a request.
    _db["CONN_MAX_AGE"] = env_int("VIFSITE_SQLITE_CONN_MAX_AGE_S", 600, minimum=0)
elif _db["ENGINE"] == "django.db.backends.postgresql":
    # A pool of connections per process (psycopg_pool), not a new server process per request: opening a
    # PostgreSQL connection costs a fork on the server and the session set-up, more than most requests.
    _db.setdefault("OPTIONS", {})["pool"] = {
        "min_size": env_int("VIFSITE_DB_POOL_MIN", 1, minimum=0),
        "max_size": env_int("VIFSITE_DB_POOL_MAX", 20, minimum=1),
        "timeout": env_int("VIFSITE_DB_POOL_TIMEOUT_S", 30, minimum=1),
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"  # reviewers to the queue, others to the surveys (vifsite.views.home)
LOGOUT_REDIRECT_URL = "login"

# --- Login attempts (django-axes) ---------------------------------------------------------------
# Failures count per username and address together: guessing from one address locks that account
# there only, so nobody can lock a colleague out from elsewhere. `manage.py axes_reset` unlocks.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
VIFSITE_LOGIN_FAILURE_LIMIT = env_int("VIFSITE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
VIFSITE_LOGIN_COOLOFF_MINUTES = env_int("VIFSITE_LOGIN_COOLOFF_MINUTES", 15, minimum=1)
AXES_FAILURE_LIMIT = VIFSITE_LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(minutes=VIFSITE_LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True  # a right password clears that account's failures from that address
AXES_LOCKOUT_CALLABLE = "vifsite.lockout.locked_out"
AXES_VERBOSE = False  # no banner on every start (it would mix into the output of commands such as create_agent_key)
# The client address: REMOTE_ADDR, unless that is a proxy of ours. With N trusted proxies in front, each
# appending the address it saw to X-Forwarded-For, the client is the Nth entry from the right; whatever a
# client writes further left is ignored. ipware counts the proxies inside the header (all but the nearest,
# which is REMOTE_ADDR), hence N - 1; not strict, so entries a client prepends do not void the header.
VIFSITE_TRUSTED_PROXY_COUNT = env_int("VIFSITE_TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if VIFSITE_TRUSTED_PROXY_COUNT \
    else ["REMOTE_ADDR"]
AXES_IPWARE_PROXY_COUNT = VIFSITE_TRUSTED_PROXY_COUNT - 1 if VIFSITE_TRUSTED_PROXY_COUNT else None
IPWARE_STRICT = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# plotly.js comes from the pinned plotly package (no CDN): served as static/vendor/plotly/plotly.min.js.
import plotly as _plotly  # noqa: E402

STATICFILES_DIRS = [BASE_DIR / "static", ("vendor/plotly", Path(_plotly.__file__).parent / "package_data")]
# The section plot needs only plotly.js's cartesian traces: its partial bundle (a third of the size) comes pinned
# from package-lock.json (`make venv` runs npm ci); without it the plot falls back to the full bundle above.
_PLOTLY_CARTESIAN = BASE_DIR / "node_modules" / "plotly.js-cartesian-dist-min"
if (_PLOTLY_CARTESIAN / "plotly-cartesian.min.js").is_file():
    STATICFILES_DIRS.append(("vendor/plotly-cartesian", _PLOTLY_CARTESIAN))
    VIFSITE_SECTION_PLOTLY_JS = "vendor/plotly-cartesian/plotly-cartesian.min.js"
else:
    VIFSITE_SECTION_PLOTLY_JS = "vendor/plotly/plotly.min.js"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)  # servestatic warns on every start without it
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed names (collectstatic writes the manifest) are served by servestatic with a year's max-age.
    "staticfiles": {"BACKEND": "vifsite.storage.StaticStorage"},
}
MEDIA_ROOT = DATA_DIR / "media"
# Uploads of SEG-Y files go to disk, never to memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = None
# Request bodies are capped before they are read (vifsite/limits.py): every request at the first,
# SEG-Y uploads by a staff user or a key allowed to manage surveys at the second.
VIFSITE_MAX_REQUEST_BYTES = env_int("VIFSITE_MAX_REQUEST_BYTES", 16 * 1024 * 1024, minimum=1024)
VIFSITE_MAX_UPLOAD_BYTES = env_int("VIFSITE_MAX_UPLOAD_BYTES", 20 * 1024 ** 3, minimum=1024)

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
    # JSON nested deeper than 64 levels is a 400 (vifsite/parsers.py), not a RecursionError.
    "DEFAULT_PARSER_CLASSES": ["vifsite.parsers.JSONParser", "rest_framework.parsers.FormParser",
                               "rest_framework.parsers.MultiPartParser"],
    "EXCEPTION_HANDLER": "vifsite.api.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttling identifies callers by address only through the proxies the site trusts (X-Forwarded-For otherwise
    # ignored).
    "NUM_PROXIES": VIFSITE_TRUSTED_PROXY_COUNT,
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
    # Every operation documents the errors it can answer (400, 401, 403, 404, 409, 413, 429, 503) as JSON.
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "vifsite.api.error_responses"],
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
# The cache holds what every web process must agree on (API rate limits, cached statistics): in Redis
# when there is one, else in the process (the default single-process mode).
if REDIS_URL:
    # Django's Redis backend with one connection pool per process (vifsite/cache.py).
    CACHES = {"default": {"BACKEND": "vifsite.cache.RedisCache", "LOCATION": REDIS_URL,
                          "KEY_PREFIX": env_str("VIFSITE_CACHE_PREFIX", "vifsite")}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The review queue's rendered rows are kept between changes to the queue (review/queue.py). Only in a cache
# every process shares: the workers that expire and move items must retire what the web processes kept.
VIFSITE_QUEUE_CACHE = env_bool("VIFSITE_QUEUE_CACHE", bool(REDIS_URL))

# --- Seismic ----------------------------------------------------------------------------------
VIFSITE_SURVEY_DIR = DATA_DIR / "surveys"
VIFSITE_UPLOAD_DIR = DATA_DIR / "uploads"
# A running import renews its lease every quarter of this; a job silent for longer (its worker killed, or hung)
# is taken back by the sweep (each minute, and whenever a worker starts) and retried once.
VIFSITE_IMPORT_LEASE_S = env_int("VIFSITE_IMPORT_LEASE_S", 60, minimum=2)
# Local folders a .vds may be registered from (the data directory always counts).
VIFSITE_VDS_ROOTS = [str(DATA_DIR)] + env_list("VIFSITE_VDS_ROOTS", [])
# Hosts ("host" or "host:port") volume URLs may name although they resolve to private addresses: the site's
# own object stores (a MinIO at 10.0.0.5). Any other http(s) host must resolve to public addresses.
VIFSITE_STORAGE_HOSTS = env_list("VIFSITE_STORAGE_HOSTS", [])
# The operator's object stores: a JSON object from a volume URL prefix (scheme and bucket or container, and
# optionally a folder: "s3://seismic", "gs://bucket/volumes", "azure://container", "azureSAS://host/container")
# to the OpenVDS connection string for volumes under it, e.g.
#   {"s3://seismic": "Region=eu-north-1;EndpointOverride=http://10.0.0.5:9000;AccessKeyId=…;SecretKey=…"}
# A registered URL under a prefix is opened with its connection string: the agent sends the URL only, never a
# connection string, and the string is never shown (not in answers, witnesses or logs; the name ends in SECRETS
# so Django's error reports mask it). Its endpoint is the operator's choice, so it may be a private address
# (netguard.check_volume_url); any other volume URL is checked as before.
_VDS_STORE_PREFIX = re.compile(r"^(s3|gs|azure|azureSAS)://[A-Za-z0-9][A-Za-z0-9._-]*(/[^?#\s]*)?$")


def _vds_connection_secrets(name: str) -> dict[str, str]:
    """The prefix → connection string map of ``name``; refuses (naming the prefix, never the secret) what
    OpenVDS could not use."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not JSON: give an object of URL prefix to connection string") from None
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{name} must be a JSON object of URL prefix to connection string")
    stores: dict[str, str] = {}
    for prefix, connection in value.items():
        prefix = prefix.rstrip("/")
        if not _VDS_STORE_PREFIX.match(prefix):
            raise ImproperlyConfigured(f"{name}: {prefix!r} is not an s3://, gs://, azure:// or azureSAS:// URL "
                                       "prefix (scheme://bucket or scheme://bucket/folder)")
        if not isinstance(connection, str) or not connection.strip():
            raise ImproperlyConfigured(f"{name}: the connection string of {prefix!r} must be a non-empty string")
        stores[prefix] = connection.strip()
    return stores


VIFSITE_VDS_CONNECTION_SECRETS = _vds_connection_secrets("VIFSITE_VDS_CONNECTION_SECRETS")
# Bucket URL prefixes ("s3://open-data", "gs://bucket/folder") whose volumes may be registered although no
# connection string is configured for them: OpenVDS opens them with its defaults, that is with whatever
# credentials the cloud SDK finds in the site's environment (AWS_ACCESS_KEY_ID, an instance role...). A bucket
# URL under neither this nor a store above is refused, so a key allowed to manage surveys cannot make the site
# read a bucket with the site's own credentials.
_OPEN_BUCKET_PREFIX = re.compile(r"^(s3|gs|azure|dms)://[A-Za-z0-9][A-Za-z0-9._-]*(/[^?#\s]*)?$")


def _vds_open_buckets(name: str) -> list[str]:
    prefixes = [prefix.rstrip("/") for prefix in env_list(name, [])]
    for prefix in prefixes:
        if not _OPEN_BUCKET_PREFIX.match(prefix):
            raise ImproperlyConfigured(f"{name}: {prefix!r} is not an s3://, gs://, azure:// or dms:// URL prefix "
                                       "(scheme://bucket or scheme://bucket/folder)")
    return prefixes


VIFSITE_VDS_OPEN_BUCKETS = _vds_open_buckets("VIFSITE_VDS_OPEN_BUCKETS")
VIFSITE_PNG_CLIP_PERCENTILE = env_float("VIFSITE_PNG_CLIP_PERCENTILE", 99.0, minimum=50.0)

# --- Verifiable Intelligence Framework ----------------------------------------------------------
# A section read's witness is committed with the read; its place in the hash chain is given by the web
# process's integrator thread just after the answer (vifsite/vif/ledger.py), not inside the request.
VIFSITE_LEDGER_INTEGRATE_IN_BACKGROUND = env_bool("VIFSITE_LEDGER_INTEGRATE_IN_BACKGROUND", True)
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
    return _file_secret(DATA_DIR / "webhook_secret", 32)


# Signs agent callbacks and reviewer webhooks (HMAC-SHA256); give it to whoever verifies them.
VIFSITE_WEBHOOK_SECRET = _webhook_secret()
# Extra URLs told about every new critical item (signed like callbacks).
VIFSITE_REVIEW_WEBHOOKS = env_list("VIFSITE_REVIEW_WEBHOOKS", [])
# Hosts ("host" or "host:port") agent callbacks may reach over plain http and at private addresses (an
# operator's internal receiver). Any other callback must be https to a public host.
VIFSITE_CALLBACK_HTTP_HOSTS = env_list("VIFSITE_CALLBACK_HTTP_HOSTS", [])
VIFSITE_CALLBACK_MAX_ATTEMPTS = env_int("VIFSITE_CALLBACK_MAX_ATTEMPTS", 6, minimum=1)
# Opening a review item reserves it for its reviewer this long (renewed on each visit, released on leaving).
VIFSITE_REVIEW_RESERVATION_MINUTES = env_int("VIFSITE_REVIEW_RESERVATION_MINUTES", 15, minimum=1)
VIFSITE_SITE_URL = env_str("VIFSITE_SITE_URL", "http://127.0.0.1:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("VIFSITE_LOG_LEVEL", "INFO")},
}

# --- Security ---------------------------------------------------------------------------------
# With DEBUG off the site expects HTTPS: redirect to https, HSTS, cookies sent over TLS only. The
# local demo (`make run`, http on 127.0.0.1) sets VIFSITE_HTTPS=false; each part can be set alone.
VIFSITE_HTTPS = env_bool("VIFSITE_HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("VIFSITE_SECURE_SSL_REDIRECT", VIFSITE_HTTPS)
SECURE_HSTS_SECONDS = env_int("VIFSITE_HSTS_SECONDS", 31_536_000 if VIFSITE_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("VIFSITE_HSTS_INCLUDE_SUBDOMAINS", VIFSITE_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("VIFSITE_HSTS_PRELOAD", VIFSITE_HTTPS)
SESSION_COOKIE_SECURE = env_bool("VIFSITE_SESSION_COOKIE_SECURE", VIFSITE_HTTPS)
CSRF_COOKIE_SECURE = env_bool("VIFSITE_CSRF_COOKIE_SECURE", VIFSITE_HTTPS)
# Behind a proxy that terminates TLS: the header it sets and its value, e.g. "X-Forwarded-Proto: https".
_proxy_ssl = env_str("VIFSITE_SECURE_PROXY_SSL_HEADER", "")
if _proxy_ssl:
    _name, _, _value = _proxy_ssl.partition(":")
    if not _name.strip() or not _value.strip():
        raise ImproperlyConfigured("VIFSITE_SECURE_PROXY_SSL_HEADER must look like 'X-Forwarded-Proto: https'")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _name.strip().upper().replace("-", "_"), _value.strip())
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
