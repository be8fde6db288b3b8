"""Settings of the exam-office portal: one module, driven by the environment.

Defaults are the zero-setup ones of `make run` (SQLite, filesystem broker, emails to files under var/).
With DJANGO_DEBUG=0 the portal is in production mode and refuses to start without its secrets.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from import_export.formats import base_formats

from core.xlsx import StreamingXLSX

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))
# Runtime files of the zero-setup defaults (database, broker queue, emails, uploads) live here, untracked.
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
PRODUCTION = not DEBUG

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-this-in-production-0123456789"  # noqa: S105
elif PRODUCTION and (len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be a random string of at least 50 characters.")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must list the portal's host names when DJANGO_DEBUG=0.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# The site's page in the user's language; Django's own has an inline style (refused by the CSP) and is English.
CSRF_FAILURE_VIEW = "public.views.csrf_failure"

# The public address of the portal, used in links inside emails.
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "import_export",
    # Large imports and exports as Celery jobs (django-import-export-extensions; docs/spreadsheet-jobs.md).
    "portal.apps.SpreadsheetJobsConfig",
    "django_ratelimit",
    # Staff login: lockout (django-axes) and two-factor login (django-otp); see the staff login block below.
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # Personal data: audit log (before portal, whose admin replaces auditlog's) and CSP; see the block below.
    "auditlog",
    "csp",
    "core",
    "portal",
    "offices",
    "applications",
    "notifications",
    "tickets",
    "public",
    "appointments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Personal data (see the block below): Content-Security-Policy, and no-store on every admin response.
    "csp.middleware.CSPMiddleware",
    "core.privacy.NoStoreForStaffMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.DefaultLanguageMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The actor and client address of audit entries (django-auditlog, address from core.clientip).
    "core.audit.AuditlogMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "offices.sessions.StaffSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL names another (PostgreSQL in production and CI).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share one file in `make run`: WAL lets readers run beside the writer, and
    # immediate transactions take the write lock up front instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "offices.User"
# axes first: it refuses locked-out logins before the password is checked (it authenticates nobody itself).
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "offices.backends.RoleBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Languages: the public site and the admin speak Chinese unless the user picks English.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
# One date format in both languages (2024-07-02 18:00): portal/formats/.
FORMAT_MODULE_PATH = ["portal.formats"]
# Official deadlines are Beijing time (never Asia/Urumqi).
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "core.storage.PrivateStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Uploaded files live outside any URL the web server serves; they are read through permission-checked views.
MEDIA_ROOT = Path(os.environ.get("PORTAL_MEDIA_ROOT", VAR_DIR / "uploads"))
# A host that never resolves: no handler (development or test server) serves MEDIA_ROOT under it.
MEDIA_URL = "http://uploads.invalid/"
PORTAL_UPLOAD_MAX_BYTES = env_int("PORTAL_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)

# Cache: Redis when configured; otherwise files under var/cache, which the web server, the worker (progress of
# spreadsheet jobs) and management commands of `make run` share.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": VAR_DIR / "cache"}
    }

# Email: files under var/mail by default; SMTP when EMAIL_HOST is set.
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "新疆会计考试报名服务 <noreply@localhost>")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
else:
    EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

# Celery: Redis in production and CI; kombu's filesystem transport for `make run` (no service needed).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://localhost/")
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Every folder the transport writes goes under var/broker/: left unset, `control_folder` (its table of
    # exchange bindings) is created as control/ in whatever folder the worker was started from.
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "processed").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_IGNORE_RESULT = True
# Tasks keep no results, but a spreadsheet job reports its progress as its task's state (rows done of rows in
# all), which the job's page reads: the broker's Redis, or files under var/ beside the filesystem broker.
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "")
if not CELERY_RESULT_BACKEND:
    if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        CELERY_RESULT_BACKEND = CELERY_BROKER_URL
    else:
        (VAR_DIR / "celery-results").mkdir(exist_ok=True)
        CELERY_RESULT_BACKEND = (VAR_DIR / "celery-results").as_uri()
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE = {
    # Every deadline job is an idempotent sweep: running it each minute catches up after downtime.
    "run-sweeps": {"task": "portal.tasks.run_sweeps", "schedule": 60.0},
    # Not a sweep: a digest belongs to the start of a working day (CELERY_TIMEZONE is Beijing time). Running it
    # again the same day sends nothing more; by hand: `celery -A portal call portal.tasks.send_staff_digests`.
    "staff-digest": {"task": "portal.tasks.send_staff_digests", "schedule": crontab(hour=8, minute=30)},
}
# Every deadline sweep, in the order that `run_sweeps` and beat's task call them, each as `function(now) -> summary`.
# The one list of them (portal/sweeps.py, the tests and the README read it): a new sweep joins here.
PORTAL_SWEEPS = [
    "portal.sweeps.delete_stale_pending_uploads",
    "notifications.sweeps.requeue_stalled_emails",
    # Closing first: an application closed at registration close is no longer escalated.
    "applications.sweeps.close_incomplete_applications",
    "applications.sweeps.lapse_unpaid_applications",
    "applications.sweeps.send_lapse_emails",
    "applications.sweeps.send_payment_reminders",
    "applications.sweeps.tell_undecided_at_payment_close",
    "applications.sweeps.warn_applications_due_soon",
    "applications.sweeps.escalate_overdue_applications",
    "applications.sweeps.drop_empty_counters",  # the dashboard's counters that count nothing any more
    # Expiry first: a request expired at its in-person deadline is no longer escalated.
    "tickets.sweeps.expire_unverified_tickets",
    "tickets.sweeps.warn_tickets_due_soon",
    "tickets.sweeps.escalate_overdue_tickets",
    # Visits at the counter: the reminder the day before, then no-shows after the slot and its grace.
    "appointments.sweeps.send_visit_reminders",
    "appointments.sweeps.mark_no_shows",
    "portal.sweeps.delete_old_spreadsheet_jobs",  # PORTAL_SPREADSHEET_JOB_DAYS
    "portal.retention.delete_expired_uploads",  # PORTAL_UPLOAD_RETENTION_DAYS
]
# Warnings to an office before its open work is due (offices/escalation.py due_soon_condition): from the start of
# the due time's last working day (this many working days earlier), and again this many hours before a due time
# capped at payment close.
PORTAL_DUE_WARNING_WORKDAYS = env_int("PORTAL_DUE_WARNING_WORKDAYS", 0)
PORTAL_DUE_WARNING_HOURS_BEFORE_CAP = env_int("PORTAL_DUE_WARNING_HOURS_BEFORE_CAP", 3)
# A booked visit not checked in this long after its slot ended is marked as not attended.
PORTAL_VISIT_NO_SHOW_GRACE_MINUTES = env_int("PORTAL_VISIT_NO_SHOW_GRACE_MINUTES", 30)
# An outbox row left in `sending` this long is taken up again (the worker that claimed it died).
OUTBOX_STALE_AFTER_SECONDS = env_int("OUTBOX_STALE_AFTER_SECONDS", 300)
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 5)

# Reverse proxies in front of the portal that append to X-Forwarded-For (0: the portal faces clients).
PORTAL_PROXY_COUNT = env_int("PORTAL_PROXY_COUNT", 0)

# Public forms are rate limited per IP and per document number (Redis cache in production).
RATELIMIT_ENABLE = env_bool("PORTAL_RATELIMIT_ENABLE", True)
RATELIMIT_IP_META_KEY = "core.clientip.client_ip"
PORTAL_RATE_SUBMIT = os.environ.get("PORTAL_RATE_SUBMIT", "20/h")
PORTAL_RATE_LOOKUP = os.environ.get("PORTAL_RATE_LOOKUP", "30/h")
PORTAL_RATE_LOOKUP_PER_DOCUMENT = os.environ.get("PORTAL_RATE_LOOKUP_PER_DOCUMENT", "10/h")
SILENCED_SYSTEM_CHECKS = []
if not REDIS_URL and not PRODUCTION:
    # Process memory is not shared between web processes: good enough for `make run`, never for production,
    # where the check stops the portal until REDIS_URL names a shared cache.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003", "django_ratelimit.W001"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The covering indexes' INCLUDE columns (PostgreSQL) are dropped on SQLite, which only slows the dashboard there:
    # not worth a warning on every command of `make run`.
    SILENCED_SYSTEM_CHECKS += ["models.W040"]

# Spreadsheets: import and export need their own permissions (offices.import_office, ...).
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_FORMATS = [StreamingXLSX, base_formats.CSV]
# Files and changelists with more rows than this are imported or exported by the worker, as jobs of
# django-import-export-extensions (core/admin_spreadsheets.py), with progress in the admin and a download when
# ready; jobs and their files are deleted after some days (portal.sweeps.delete_old_spreadsheet_jobs).
PORTAL_BACKGROUND_SPREADSHEET_ROWS = env_int("PORTAL_BACKGROUND_SPREADSHEET_ROWS", 1000)
PORTAL_SPREADSHEET_JOB_DAYS = env_int("PORTAL_SPREADSHEET_JOB_DAYS", 7)
# The library refuses larger files (a sheet with a million empty rows); its default, 100,000, is below a
# regional payment list's worst case.
IMPORT_EXPORT_MAX_DATASET_ROWS = env_int("PORTAL_SPREADSHEET_MAX_ROWS", 500_000)
# Rows between two progress reports of a job (one write to the result backend each).
STATUS_UPDATE_ROW_COUNT = 200

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("PORTAL_STAFF_SESSION_SECONDS", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    if env_bool("DJANGO_BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Staff login: lockout, two-factor login, sessions (issue 5, items 2-4; README "Security") ----------------
# Lockout (django-axes): PORTAL_LOGIN_FAILURES failed logins for one username from one address lock that pair;
# PORTAL_LOGIN_FAILURES_PER_IP from one address (a whole office shares one) lock the address for everyone.
# Both last PORTAL_LOCKOUT_MINUTES after the last failure. The address is core.clientip.client_ip, so
# PORTAL_PROXY_COUNT decides how much of X-Forwarded-For is trusted. Unlock: `manage.py axes_reset_username`.
PORTAL_LOGIN_FAILURES = env_int("PORTAL_LOGIN_FAILURES", 5)
PORTAL_LOGIN_FAILURES_PER_IP = env_int("PORTAL_LOGIN_FAILURES_PER_IP", 50)
PORTAL_LOCKOUT_MINUTES = env_int("PORTAL_LOCKOUT_MINUTES", 30)
AXES_FAILURE_LIMIT = PORTAL_LOGIN_FAILURES
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "portal.lockout.PortalLockoutHandler"  # adds the per-address threshold
AXES_COOLOFF_TIME = "portal.lockout.cool_off"  # PORTAL_LOCKOUT_MINUTES
AXES_CLIENT_IP_CALLABLE = "core.clientip.client_ip"
AXES_LOCKOUT_CALLABLE = "portal.lockout.lockout_response"  # page saying how long to wait
AXES_RESET_ON_SUCCESS = True
# Attempts while locked out are refused without extending the lock, so the page's wait time holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "otp_token"]
AXES_VERBOSE = False
AXES_ENABLE_ADMIN = False  # attempts hold addresses and usernames: see them with the axes_list_attempts command
# Two-factor login (django-otp, TOTP): required on every admin URL when on; enrol with `manage.py staff_otp`.
PORTAL_REQUIRE_2FA = env_bool("PORTAL_REQUIRE_2FA", PRODUCTION)
OTP_TOTP_ISSUER = "Xinjiang exam offices"
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's secret or QR code
# Sessions: staff are logged out after this long without a request (and SESSION_COOKIE_AGE after login).
PORTAL_STAFF_IDLE_MINUTES = env_int("PORTAL_STAFF_IDLE_MINUTES", 30)
# --- end of staff login -----------------------------------------------------------------------------------

# --- Personal data: CSP, audit log, upload retention (issue 5, items 5-8 and 11; README "Security") ----------
# Content-Security-Policy (django-csp): scripts and styles come from our own static files only, never inline,
# on the public site and in the admin. PORTAL_CSP_REPORT_URI (optional) receives the browsers' reports.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
    }
}
if os.environ.get("PORTAL_CSP_REPORT_URI"):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [os.environ["PORTAL_CSP_REPORT_URI"]]
# Audit log (django-auditlog, models registered in portal/audit.py): document numbers masked by the portal's
# function (auditlog's default masks the wrong half); the client address is core.clientip.client_ip.
AUDITLOG_MASK_CALLABLE = "core.audit.mask_document_number"
# Uploaded files are deleted this many days after their session's last exam day (portal/retention.py, a sweep of
# PORTAL_SWEEPS).
PORTAL_UPLOAD_RETENTION_DAYS = env_int("PORTAL_UPLOAD_RETENTION_DAYS", 365)
# --- end of personal data -----------------------------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Document numbers in log lines and tracebacks are masked (core.privacy.MaskDocumentNumbers).
    "filters": {"mask_document_numbers": {"()": "core.privacy.MaskDocumentNumbers"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["mask_document_numbers"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("PORTAL_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's own handlers (request errors, runserver's request lines) give way to the masked one above.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

PORTAL_SITE_NAME = _("Xinjiang Accounting Exam Registration Services")
# Demo accounts exist only on development machines; `manage.py demo` refuses to run in production.
PORTAL_DEMO_ALLOWED = not PRODUCTION
