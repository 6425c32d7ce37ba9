"""
Settings for the coaching platform: one file, driven by environment variables.

Development (``make run``) sets ``DJANGO_DEBUG=1`` and needs nothing else: SQLite
file, console e-mail, Celery tasks run in-process. Production sets at least
``SECRET_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL``, ``REDIS_URL`` and
``EMAIL_URL`` (see README, "Configuration").
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)

# Commands that build the project and never sign anything (the migrations
# check, static files, translations) run without a key, as in the Dockerfile.
KEYLESS_COMMANDS = {"makemigrations", "collectstatic", "makemessages", "compilemessages"}
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    command = sys.argv[1] if sys.argv[0].endswith("manage.py") and len(sys.argv) > 1 else ""
    keyless = command in KEYLESS_COMMANDS
    if not DEBUG and not keyless:
        raise ImproperlyConfigured("SECRET_KEY must be set when DJANGO_DEBUG is off (production).")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Public address of the site, used in e-mails and calendar feeds.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "axes",
    "engagements",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "engagements.middleware.LanguageMiddleware",
    "engagements.middleware.PortalsMiddleware",
    "engagements.middleware.SessionRefreshMiddleware",
    "engagements.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coaching.urls"
WSGI_APPLICATION = "coaching.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            # « 1er décembre »: the date filter, as French readers expect it.
            "builtins": ["engagements.templatetags.french_dates"],
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: the embedded SQLite file by default, PostgreSQL in production and CI.
DATABASES = {
    "default": env.db_url_config(
        env("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions avoid "database is locked" on concurrent writes;
    # WAL lets readers work while a write is in progress.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Parameters bound by the server and prepared statements: a query run
    # again on a connection (the same page, another person) skips planning,
    # most of the cost of a join of five tables. Behind a pooler in transaction
    # mode, set DB_PREPARED_STATEMENTS=0, DB_SERVER_SIDE_CURSORS=0 (the
    # export reads its conventions through a cursor) and DB_CONN_MAX_AGE=0.
    if env.bool("DB_PREPARED_STATEMENTS", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            {"server_side_binding": True, "prepare_threshold": 5}
        )
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = not env.bool(
        "DB_SERVER_SIDE_CURSORS", default=True
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "engagements.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # Throttles password guessing before the real check.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "engagements.auth.axes_username"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
# Behind the production proxies the client address is the one they appended
# to X-Forwarded-For: one reading of it (engagements.auth.client_ip) for the
# sign-in throttling, the signature evidence and the audit log.
PROXY_COUNT = env.int("PROXY_COUNT", default=0 if DEBUG else 1)
AXES_CLIENT_IP_CALLABLE = "engagements.auth.client_ip"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalization: French first, English available.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "engagements" / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
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

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# E-mail, through Django 6.1 mailers. EMAIL_URL follows django-environ's
# syntax: smtp://user:password@host:25, smtp+tls://..., consolemail://.
_email = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
_EMAIL_OPTIONS = {
    "smtp.EmailBackend": {
        "EMAIL_HOST": "host",
        "EMAIL_PORT": "port",
        "EMAIL_HOST_USER": "username",
        "EMAIL_HOST_PASSWORD": "password",
        "EMAIL_USE_TLS": "use_tls",
        "EMAIL_USE_SSL": "use_ssl",
    },
    "filebased.EmailBackend": {"EMAIL_FILE_PATH": "file_path"},
}
_backend_options = next(
    (names for suffix, names in _EMAIL_OPTIONS.items() if _email["EMAIL_BACKEND"].endswith(suffix)),
    {},
)
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {
            option: _email[key]
            for key, option in _backend_options.items()
            if _email.get(key) not in (None, "")
        },
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="noreply@coaching.example")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# Sessions expire after two hours of inactivity.
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=2 * 60 * 60)
# The inactivity timeout without a write per request: the expiry is pushed
# back at most every few minutes (engagements.middleware.SessionRefreshMiddleware).
SESSION_REFRESH_SECONDS = env.int("SESSION_REFRESH_SECONDS", default=5 * 60)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Security. Production (DEBUG off) gets HTTPS-only cookies with the __Host-
# prefix, HSTS and the redirect to HTTPS; the check --deploy passes.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_SECURE = True
    LANGUAGE_COOKIE_NAME = "__Host-django_language"

# Content Security Policy (Django 6 built-in): only our own origin, scripts
# and inline styles only with the per-request nonce.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

# Celery. With no broker configured, tasks run in-process (eager) so that
# `make run` needs nothing else; production and CI use Redis.
# The cache (built calendar feeds, report PDFs rendered in the last day):
# in-process by default; shared by every web worker with CACHE_URL, e.g.
# rediscache://127.0.0.1:6379/1.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=env("REDIS_URL", default=""))
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="coaching")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# Nothing is lost: a task is acknowledged only once it has run, and goes back
# to the queue if the worker dies while running it.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# kombu's Redis transport hands an unacknowledged message back once it is
# older than visibility_timeout, but by default only sweeps every
# 10 x 10 s. With these values a task whose worker was killed is redelivered
# within about 30-35 s. Tasks must therefore finish well within 30 s (the
# time limits below make sure of it) and be idempotent; we never use ETAs.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=30),
    "unacked_restore_interval": 5,
    "unacked_restore_throttle": 1,
}
CELERY_TASK_SOFT_TIME_LIMIT = 20
CELERY_TASK_TIME_LIMIT = 25
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    "purge-expired-session-notes": {
        "task": "engagements.tasks.purge_expired_session_notes",
        "schedule": 60 * 60 * 6,
    },
    "apply-retention": {
        "task": "engagements.tasks.apply_retention",
        "schedule": 60 * 60 * 24,
    },
    "send-session-reminders": {
        "task": "engagements.tasks.send_session_reminders",
        "schedule": 60 * 10,
    },
    "seal-pending-conventions": {
        "task": "engagements.tasks.seal_pending_conventions",
        "schedule": 60 * 10,
    },
    "generate-pending-syntheses": {
        "task": "engagements.tasks.generate_pending_syntheses",
        "schedule": 60 * 10,
    },
    "remind-reports-due": {
        "task": "engagements.tasks.remind_reports_due",
        "schedule": 60 * 60,
    },
    "resume-convention-exports": {
        "task": "engagements.tasks.resume_convention_exports",
        "schedule": 60,
    },
    "expire-convention-exports": {
        "task": "engagements.tasks.expire_convention_exports",
        "schedule": 60 * 60,
    },
}
# Reminders before each session (hours), and after how long a session whose
# attendance is not recorded is pointed out to the coach.
SESSION_REMINDER_HOURS = env.list("SESSION_REMINDER_HOURS", cast=int, default=[48, 2])
ATTENDANCE_DUE_HOURS = env.int("ATTENDANCE_DUE_HOURS", default=24)
# For how many days after recording it the coach may correct a session's
# attendance (never once a report released to the sponsor covers it).
ATTENDANCE_CORRECTION_DAYS = env.int("ATTENDANCE_CORRECTION_DAYS", default=14)

# HR's export of signed conventions: streamed in the request up to this many
# conventions, else built by a worker; the download link lasts this long; a
# build with no progress for this long is taken over by another run.
EXPORT_STREAM_LIMIT = env.int("EXPORT_STREAM_LIMIT", default=50)
EXPORT_LINK_HOURS = env.int("EXPORT_LINK_HOURS", default=72)
EXPORT_STALE_SECONDS = env.int("EXPORT_STALE_SECONDS", default=20)

# Retention (DOMAIN.md, "Records, retention and privacy").
SESSION_NOTES_RETENTION_DAYS = env.int("SESSION_NOTES_RETENTION_DAYS", default=183)
# Other personal data is anonymized this long after the end; the signed
# convention and its evidence are kept, then deleted after the second period.
PERSONAL_DATA_RETENTION_DAYS = env.int("PERSONAL_DATA_RETENTION_DAYS", default=3 * 365)
CONVENTION_RETENTION_DAYS = env.int("CONVENTION_RETENTION_DAYS", default=5 * 365)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "axes": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# One-time links: invitations stay valid a week, password resets a day.
INVITATION_TIMEOUT = env.int("INVITATION_TIMEOUT", default=7 * 24 * 3600)
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=24 * 3600)

# The platform's PAdES seal on signed conventions. Development material is
# made by `python manage.py create_signing_certificate` under var/signing/.
SIGNING_DIR = Path(env("SIGNING_DIR", default=str(BASE_DIR / "var" / "signing")))
SIGNING_KEY_PATH = Path(env("SIGNING_KEY_PATH", default=str(SIGNING_DIR / "seal-key.pem")))
SIGNING_CERT_PATH = Path(env("SIGNING_CERT_PATH", default=str(SIGNING_DIR / "seal-cert.pem")))
SIGNING_CHAIN_PATH = Path(env("SIGNING_CHAIN_PATH", default=str(SIGNING_DIR / "ca-cert.pem")))
SIGNING_KEY_PASSPHRASE = env("SIGNING_KEY_PASSPHRASE", default="")
SIGNING_SEAL_NAME = env("SIGNING_SEAL_NAME", default="Trio - sceau de la plateforme")

# A one-time code confirms the signer's identity before each signature.
SIGNATURE_CODE_MINUTES = env.int("SIGNATURE_CODE_MINUTES", default=10)
