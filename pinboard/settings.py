"""Pinboard settings: one module, configured by environment variables.

Defaults are safe for development on one machine (DEBUG on, console email, the local PostgreSQL
at 127.0.0.1:5432). Production sets at least DEBUG=false, SECRET_KEY and ALLOWED_HOSTS; the README
lists every variable.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    normalized = value.strip().lower()
    if normalized in {"1", "true", "yes", "on"}:
        return True
    if normalized in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

_DEVELOPMENT_SECRET_KEY = "django-insecure-development-only-never-use-in-production"
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = _DEVELOPMENT_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "imagekit",
    "allauth",
    "allauth.account",
    "accounts",
    "pinboard",
    "messaging",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "pinboard.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # A view's RateLimited (accounts/ratelimit.py) becomes the 429 answer.
    "accounts.ratelimit.RateLimitMiddleware",
]

ROOT_URLCONF = "pinboard.urls"
WSGI_APPLICATION = "pinboard.wsgi.application"
ASGI_APPLICATION = "pinboard.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "messaging.context_processors.unread",
            ],
        },
    },
]

# --- Database: PostgreSQL only ----------

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pinboard"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Pinboard runs on PostgreSQL only: DATABASE_URL must be postgres://")
# Fail fast when PostgreSQL can't be reached: the request answers 503 (pinboard/views/errors.py)
# within seconds instead of hanging a page thread. No connection pool: pages always run under a
# WSGI handler (gunicorn, or threads inside the ASGI server, pinboard/asgi.py), where each thread
# keeps its own persistent connection; the event stream reads through its own async pool.
DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env_int(
    "DATABASE_CONNECT_TIMEOUT", 3
)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache: shared between processes so rate limits really count ----------

if REDIS_URL := os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "pinboard_cache",
        }
    }

# --- Accounts ----------

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Pinboard] "
ACCOUNT_FORMS = {"login": "accounts.forms.LoginForm"}
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
# Paths of our own pages that a username must never shadow in /users/<username>/ links.
ACCOUNT_USERNAME_BLACKLIST = ["admin", "accounts", "settings", "messages", "search", "new", "me"]
# allauth's rate limits are on by default and count in CACHES["default"] (shared by all processes).

# Limits on our own writes, per person: action -> (how many, per how many seconds).
# Counted by the views before any write (accounts/ratelimit.py: one upsert on PostgreSQL, or
# Redis when REDIS_URL is set); over the limit answers 429.
RATE_LIMITS = {
    "message": (env_int("RATE_LIMIT_MESSAGES_PER_MINUTE", 30), 60),
    "conversation": (env_int("RATE_LIMIT_CONVERSATIONS_PER_HOUR", 20), 3600),
    "pin": (env_int("RATE_LIMIT_PINS_PER_HOUR", 60), 3600),
    "comment": (env_int("RATE_LIMIT_COMMENTS_PER_MINUTE", 10), 60),
    "report": (env_int("RATE_LIMIT_REPORTS_PER_HOUR", 20), 3600),
    # Password guesses on the delete-account form, and data exports (each reads all one has).
    "account_delete": (env_int("RATE_LIMIT_ACCOUNT_DELETE_ATTEMPTS_PER_15_MINUTES", 5), 900),
    "export": (env_int("RATE_LIMIT_EXPORTS_PER_HOUR", 5), 3600),
}

# People in one conversation, the sender included.
MESSAGING_MAX_PARTICIPANTS = env_int("MESSAGING_MAX_PARTICIPANTS", 10)

# A tab whose event stream has not taken a chunk for this long is dropped (it catches up from its
# Last-Event-ID when it comes back): a stalled reader holds no more than one chunk in memory.
LIVE_SEND_TIMEOUT_SECONDS = env_int("LIVE_SEND_TIMEOUT_SECONDS", 30)

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "pinboard-demo")

# --- Background work ----------

# Notifications' fan-out, emails, push and data downloads run as django.tasks on a worker
# (`manage.py db_worker`, started by `make run`), their jobs kept in PostgreSQL so a restart
# loses none. TASKS_IMMEDIATE=1 runs each task inside the request that enqueues it instead (the
# tests; a site without a worker).
TASKS_IMMEDIATE = env_bool("TASKS_IMMEDIATE", False)
TASKS = {
    "default": (
        {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}
        if TASKS_IMMEDIATE
        else {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    )
}

# --- Web Push ----------

# VAPID (RFC 8292) identifies this site to browsers' push services. Both keys are base64url
# without padding, the raw form `manage.py vapid_keys` prints (and web-push's generate-vapid-keys
# too): the 32-byte private scalar and the 65-byte uncompressed public point. Without both, push
# is off: no "Turn on notifications" button, nothing sent.
VAPID_PUBLIC_KEY = os.environ.get("VAPID_PUBLIC_KEY", "").strip()
VAPID_PRIVATE_KEY = os.environ.get("VAPID_PRIVATE_KEY", "").strip()
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT", "mailto:admin@localhost")
# A push endpoint is a URL our server POSTs to: https only, never a loopback or private address,
# except plain http on 127.0.0.1/localhost in development (and the tests' local push service).
PUSH_ALLOW_LOCAL_ENDPOINTS = env_bool("PUSH_ALLOW_LOCAL_ENDPOINTS", DEBUG)

# --- Email ----------

_EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {"default": {"BACKEND": _EMAIL_BACKEND}}
if _EMAIL_BACKEND.endswith("smtp.EmailBackend"):
    MAILERS["default"]["OPTIONS"] = {
        "host": os.environ.get("EMAIL_HOST", "localhost"),
        "port": env_int("EMAIL_PORT", 25),
        "username": os.environ.get("EMAIL_HOST_USER", ""),
        "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
        "use_tls": env_bool("EMAIL_USE_TLS", False),
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Pinboard <noreply@localhost>")
# Where links in emails point (emails are sent by the worker, which has no request to ask).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# An unread message is emailed about once it has waited this long (and is still unread, and its
# reader has not had the site open since): messaging/emails.py.
MESSAGE_EMAIL_DELAY_SECONDS = env_int("MESSAGE_EMAIL_DELAY_SECONDS", 120)
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Static and media files ----------

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
# Development serves media from Django; production lets the reverse proxy serve MEDIA_ROOT.
SERVE_MEDIA = env_bool("SERVE_MEDIA", DEBUG)
# "Download my data" zips (messaging/export/files.py): outside MEDIA_ROOT on purpose, so the web
# server never serves them; only their owner downloads them, through a view that checks.
EXPORT_ROOT = Path(os.environ.get("EXPORT_ROOT", BASE_DIR / "private" / "exports"))
# Development and tests serve static files straight from the app folders (no collectstatic).
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Renditions (236/472/736 px WebP) are made once when an image is saved; pages never check that
# they exist (that would cost a storage or cache lookup per card).
IMAGEKIT_DEFAULT_CACHEFILE_STRATEGY = "imagekit.cachefiles.strategies.Optimistic"
IMAGEKIT_SPEC_CACHEFILE_NAMER = "imagekit.cachefiles.namers.source_name_as_path"

# Uploads: refuse before decoding (see accounts/images.py).
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 20 * 1024 * 1024)
MAX_IMAGE_PIXELS = env_int("MAX_IMAGE_PIXELS", 40_000_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Security ----------

# HTTPS defaults on in production; set HTTPS=false only behind a proxy you trust for plain HTTP.
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if HTTPS else None
SECURE_SSL_REDIRECT = HTTPS and env_bool("SECURE_SSL_REDIRECT", True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Permissions-Policy (camera, microphone, geolocation, payment… off): pinboard/middleware.py.
# A refused CSRF token (a page opened before signing in or out elsewhere) is marked so htmx
# requests can say "your session changed" rather than a generic 403.
CSRF_FAILURE_VIEW = "pinboard.middleware.csrf_failure"

# Strict CSP: no inline script or style without the per-request nonce, no eval (htmx runs with
# allowEval off, see templates/base.html).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    # Style *attributes* carry per-image data (placeholder colour, aspect ratio); they cannot run
    # code, so they are allowed while <style> elements still need the nonce.
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "connect-src": [CSP.SELF],
    # The installable app: its service worker (/sw.js) and manifest come from this origin.
    "worker-src": [CSP.SELF],
    "manifest-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# --- Internationalisation ----------

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Logging ----------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
