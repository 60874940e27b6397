"""Django settings. Every knob comes from an ``OMNIMALL_`` environment variable.

Defaults are safe for ``make demo`` (SQLite under ``var/``, debug on, a demo secret);
``omnimall serve`` refuses to start on those defaults (see ``omnimall.cli``).
"""

from __future__ import annotations

import os
from email.utils import formataddr, parseaddr
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("OMNIMALL_VAR_DIR", Path.cwd() / "var")).resolve()

DEMO_SECRET_KEY = "omnimall-demo-secret-key-do-not-use-in-production"  # noqa: S105


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_days(name: str, default: str) -> tuple[int, int] | None:
    """ "2-4" → (2, 4), "3" → (3, 3), "" → None; anything else stops the start-up."""
    raw = os.environ.get(name, default).strip()
    if not raw:
        return None
    fewest, dash, most = raw.partition("-")
    try:
        days = (int(fewest), int(most if dash else fewest))
    except ValueError:
        raise ImproperlyConfigured(f"{name}: days as '2-4', '3' or empty, not {raw!r}") from None
    if not 1 <= days[0] <= days[1]:
        raise ImproperlyConfigured(f"{name}: at least 1 day, the fewest first, not {raw!r}")
    return days


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("OMNIMALL_SECRET_KEY", DEMO_SECRET_KEY)
# Earlier secret keys, comma-separated: sessions, reset links and partners' stored secrets
# made under them stay readable while OMNIMALL_SECRET_KEY is rotated.
SECRET_KEY_FALLBACKS = [
    key for key in os.environ.get("OMNIMALL_SECRET_KEY_FALLBACKS", "").split(",") if key
]
DEBUG = _env_bool("OMNIMALL_DEBUG", True)
ALLOWED_HOSTS = _env_list("OMNIMALL_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,[::1]")
CSRF_TRUSTED_ORIGINS = _env_list("OMNIMALL_CSRF_TRUSTED_ORIGINS", "")
# How many reverse proxies (nginx, a load balancer) stand in front of the app, each adding
# the address it was called from to X-Forwarded-For. 0: the headers are ignored (anyone
# could write them); see omnimall.core.proxies.
PROXY_COUNT = int(os.environ.get("OMNIMALL_PROXY_COUNT", "0"))
if PROXY_COUNT < 0:
    raise ValueError("OMNIMALL_PROXY_COUNT must be 0 or more")
SERVER_TIMING = _env_bool("OMNIMALL_SERVER_TIMING", True)
# Name of the sales channel whose price list the storefront and Store API show.
STOREFRONT_CHANNEL = os.environ.get("OMNIMALL_STOREFRONT_CHANNEL", "online")
# The brand's name on pages, emails, text messages and slips (core.shop); the Chinese
# name, if the brand has one, for Chinese readers.
SHOP_NAME = os.environ.get("OMNIMALL_SHOP_NAME", "").strip() or "omnimall"
SHOP_NAME_ZH = os.environ.get("OMNIMALL_SHOP_NAME_ZH", "").strip()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_htmx",
    "corsheaders",
    "treebeard",
    "import_export",
    "omnimall.core",
    "omnimall.channels",
    "omnimall.catalog",
    "omnimall.inventory",
    "omnimall.checkout",
    "omnimall.orders",
    "omnimall.payments",
    "omnimall.members",
    "omnimall.pos",
    "omnimall.search",
    "omnimall.storefront",
]

MIDDLEWARE = [
    "omnimall.core.middleware.ServerTimingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "omnimall.core.middleware.ApiJsonErrorsMiddleware",
]

# --- apps on other origins (a web app or an H5 page calling the Store API) ---------------
# Origins allowed to call /api/v1/ from a browser, e.g. "https://m.example.com". Calls carry
# a bearer token, never cookies, so credentials stay off. Unset: no CORS headers at all,
# and the middleware is not even installed.
CORS_ALLOWED_ORIGINS = _env_list("OMNIMALL_CORS_ORIGINS", "")
CORS_URLS_REGEX = r"^/api/v1/.*$"
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_HEADERS = ("accept", "accept-language", "authorization", "content-type",
                      "idempotency-key", "x-api-key")  # fmt: skip
CORS_EXPOSE_HEADERS = ("Idempotent-Replayed", "WWW-Authenticate")
CORS_PREFLIGHT_MAX_AGE = 24 * 60 * 60
if CORS_ALLOWED_ORIGINS:  # before anything that may answer (CommonMiddleware's redirects)
    MIDDLEWARE.insert(MIDDLEWARE.index("django.middleware.common.CommonMiddleware"),
                      "corsheaders.middleware.CorsMiddleware")  # fmt: skip

ROOT_URLCONF = "omnimall.urls"
WSGI_APPLICATION = "omnimall.wsgi.application"

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
                "django.template.context_processors.i18n",
            ],
            # ``{% shop_name %}`` is used by nearly every page and email, rendered with
            # a request or without one (emails, the 500 page): a builtin, not a context
            # processor.
            "builtins": ["omnimall.core.templatetags.shop_identity"],
        },
    },
]

# --- database -------------------------------------------------------------
# SQLite (WAL) under var/ by default; PostgreSQL via OMNIMALL_DATABASE_URL.
_DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'omnimall.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("OMNIMALL_DATABASE_URL") or _DEFAULT_SQLITE,
        conn_max_age=int(os.environ.get("OMNIMALL_DB_CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers run beside the one writer; IMMEDIATE makes a write
        # transaction take the write lock up front instead of failing on upgrade.
        # A 16 MB page cache per connection and no mmap: the OS page cache already keeps
        # the hot pages, and each worker's memory stays bounded (benchmarks/storefront.py).
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=10000; PRAGMA cache_size=-16000;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend with a health check that looks at the socket before it spends a
    # round trip on SELECT 1 (omnimall/core/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "omnimall.core.postgresql"
    # No JIT: our queries are short OLTP reads and writes, and on a table with many dead
    # or unanalysed rows the planner's cost estimate can pass jit_above_cost, so each run of
    # a millisecond query first spends ~1 s compiling (seen on the stock-ledger check).
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    # Prepared statements: a statement a connection has run 5 times is prepared, and later
    # runs skip parsing and planning. Planning was most of PostgreSQL's work on the
    # checkout path (an 8-table cart read: 1.2 ms planned each time, 0.1 ms prepared;
    # benchmarks/checkout_steps.py). Needs server-side binding. Switch off with
    # OMNIMALL_DB_PREPARED_STATEMENTS=0 behind a pooler in transaction mode (PgBouncer
    # < 1.21), which cannot keep a connection's prepared statements.
    if _env_bool("OMNIMALL_DB_PREPARED_STATEMENTS", True):
        DATABASES["default"]["OPTIONS"].update(server_side_binding=True, prepare_threshold=5)
    # Long reads (exports, imports, index rebuilds) stream through .iterator(), which uses
    # a server-side cursor: a pooler in transaction mode cannot keep one between
    # statements, so there set OMNIMALL_DB_SERVER_SIDE_CURSORS=0 (whole results are then
    # fetched in chunks by the client instead).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = not _env_bool(
        "OMNIMALL_DB_SERVER_SIDE_CURSORS", True
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache ----------------------------------------------------------------
REDIS_URL = os.environ.get("OMNIMALL_REDIS_URL", "")
CACHES: dict[str, dict[str, Any]]
if REDIS_URL:
    CACHES = {
        # Django's backend, with one redis-py client per pool instead of one per call.
        # Redis unreachable is a cache miss there, and short timeouts keep a Redis that
        # does not answer from holding every request.
        "default": {
            "BACKEND": "omnimall.core.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            # Bounded: a worker never holds more than a few thousand pages and listings.
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }

# --- background work --------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("OMNIMALL_BROKER_URL", REDIS_URL)
# No broker configured: tasks run inline, so the demo needs no worker.
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Celery's Django fix-up closes the database connection around every task unless told to
# reuse it: a new PostgreSQL connection (a backend process) per task cost more than the
# work of a small task. Connections are still checked before each task (celery.py).
CELERY_DB_REUSE_MAX = 1000
# Task modules autodiscovery (``<app>.tasks``) does not reach.
CELERY_IMPORTS = ["omnimall.members.partners.tasks"]
# Periodic work, run by `celery beat` (`omnimall worker -B` on a single machine).
CELERY_BEAT_SCHEDULE = {
    # Lapsed checkout holds stop counting at once anyway; this returns them to the ledger.
    "release-expired-reservations": {
        "task": "inventory.release_expired_reservations",
        "schedule": 60.0,
    },
    # Retried writes come back within minutes or hours; keys are kept for 30 days.
    "purge-idempotency-keys": {
        "task": "core.purge_idempotency_keys",
        "schedule": 24 * 60 * 60.0,
    },
    # App sign-ins unused for SHOPPER_TOKEN_DAYS no longer count; their rows go (nightly).
    "purge-shopper-tokens": {"task": "core.purge_shopper_tokens", "schedule": 24 * 60 * 60.0},
    # Carts nobody will come back to (abandoned, empty, long checked out): deleted nightly.
    "purge-stale-carts": {"task": "checkout.purge_stale_carts", "schedule": 24 * 60 * 60.0},
    # Webhooks, emails and gateway notifications due for (re)delivery.
    "deliver-outbox": {"task": "core.deliver_outbox", "schedule": 10.0},
    # Unpaid orders past their hold: ask the gateway first, then cancel and release.
    "expire-unpaid-orders": {"task": "orders.expire_unpaid_orders", "schedule": 60.0},
    # Unpaid orders PAYMENT_REMINDER_MINUTES before their hold ends: one email to pay.
    "remind-unpaid-orders": {"task": "orders.remind_unpaid_orders", "schedule": 60.0},
    # A shopper reminded PICKUP_REMINDER_DAYS before the cancellation below still has days to
    # come; hourly, so the reminder leaves within the hour the order becomes due.
    "remind-uncollected-pickups": {
        "task": "orders.remind_uncollected_pickups",
        "schedule": 60 * 60.0,
    },
    # Pick-ups not collected by their collect_by: cancelled, refunded, released.
    "cancel-uncollected-pickups": {
        "task": "orders.cancel_uncollected_pickups",
        "schedule": 60 * 60.0,
    },
    # Shipped orders nobody reported delivered within DELIVERY_CONFIRM_DAYS: delivered.
    "confirm-overdue-deliveries": {
        "task": "orders.confirm_overdue_deliveries",
        "schedule": 60 * 60.0,
    },
    # Delivered or picked-up orders past RETURN_WINDOW_DAYS with no open return: completed.
    "complete-orders": {"task": "orders.complete_orders", "schedule": 60 * 60.0},
    # Points lots past their expiry date: expired, one ledger entry per lot (nightly).
    "expire-points": {"task": "members.expire_points", "schedule": 24 * 60 * 60.0},
    # Till points holds nobody committed within POINTS_HOLD_MINUTES: back to the member.
    "release-expired-points-holds": {"task": "members.release_expired_holds", "schedule": 60.0},
    # Purchases leave the rolling 12-month window every day: tiers recalculated (nightly).
    "recalculate-tiers": {"task": "members.recalculate_tiers", "schedule": 24 * 60 * 60.0},
    # Partner nonces older than the signature window can no longer be replayed.
    "purge-partner-nonces": {"task": "members.purge_partner_nonces", "schedule": 60 * 60.0},
    # Outbound partner transfers dead-lettered or unconfirmed for PARTNER_CONFIRM_HOURS: released.
    "fail-stale-partner-transfers": {
        "task": "members.fail_stale_partner_transfers",
        "schedule": 10 * 60.0,
    },
}

# --- auth -----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/account/login/"
LOGIN_REDIRECT_URL = "/account/"
PASSWORD_RESET_TIMEOUT = 24 * 60 * 60
# An app's sign-in (Store API bearer token) lapses this many days after its last use.
SHOPPER_TOKEN_DAYS = int(os.environ.get("OMNIMALL_SHOPPER_TOKEN_DAYS", "30"))

# --- orders and payments ----------------------------------------------------------
# The shop's public base URL (e.g. https://shop.example.com), used for the payment
# gateway's notify and return URLs and links in emails. Empty: taken from the request.
SITE_URL = os.environ.get("OMNIMALL_SITE_URL", "").rstrip("/")
# Deliver outbox messages right after the transaction that wrote them commits (inline
# when no Celery broker is set, as in the demo); the periodic task retries what failed.
OUTBOX_DELIVER_ON_COMMIT = _env_bool("OMNIMALL_OUTBOX_DELIVER_ON_COMMIT", True)
OUTBOX_HTTP_TIMEOUT = float(os.environ.get("OMNIMALL_OUTBOX_HTTP_TIMEOUT", "5"))
CHECKOUT_HOLD_MINUTES = int(os.environ.get("OMNIMALL_CHECKOUT_HOLD_MINUTES", "15"))
# This many minutes before an unpaid order's hold ends, its shopper is emailed once to pay
# (orders.services.payment_reminders); 0: never.
PAYMENT_REMINDER_MINUTES = int(os.environ.get("OMNIMALL_PAYMENT_REMINDER_MINUTES", "5"))
# The moments an order texts the shopper's mobile (orders.services.texts_to_shoppers):
# "ready_for_pickup" (with the pick-up code), "pickup_collector" (the code to whoever the
# shopper sends to collect it), "pickup_reminder" (before an uncollected pick-up is
# cancelled), "pickup_store_refused" (choose another store), "shipped" and
# "payment_reminder" (off by default: the email is the reminder); empty: no text messages.
ORDER_TEXT_MESSAGES = _env_list(
    "OMNIMALL_ORDER_TEXT_MESSAGES",
    "ready_for_pickup,pickup_collector,pickup_reminder,pickup_store_refused,shipped",
)
# Stock an unpaid order holds is stock nobody else can buy (bots hoard a flash sale that
# way). A shopper (their account, and the contact phone) may have this many orders
# awaiting payment at once; 0: no limit.
CHECKOUT_MAX_UNPAID = int(os.environ.get("OMNIMALL_CHECKOUT_MAX_UNPAID", "3"))
# Checkouts one client address may start per 10 minutes (an office or campus shares one
# address: keep it generous); 0: no limit.
CHECKOUT_RATE_PER_ADDRESS = int(os.environ.get("OMNIMALL_CHECKOUT_RATE_PER_ADDRESS", "60"))
CHECKOUT_RATE_WINDOW_SECONDS = 10 * 60
# Carts left alone this many days are deleted by the nightly purge (checkout.services.purge):
# a guest's, and a signed-in shopper's saved bag.
CART_GUEST_DAYS = int(os.environ.get("OMNIMALL_CART_GUEST_DAYS", "30"))
CART_ACCOUNT_DAYS = int(os.environ.get("OMNIMALL_CART_ACCOUNT_DAYS", "90"))
PICKUP_UNCOLLECTED_DAYS = int(os.environ.get("OMNIMALL_PICKUP_UNCOLLECTED_DAYS", "7"))
# One reminder email this many days before an uncollected pick-up is cancelled (its
# collect_by: ready_at + PICKUP_UNCOLLECTED_DAYS, or later when kept longer). 0 turns
# reminders off, and so does a value not below PICKUP_UNCOLLECTED_DAYS: the reminder would
# go out with the "ready" email, which already says the deadline.
PICKUP_REMINDER_DAYS = int(os.environ.get("OMNIMALL_PICKUP_REMINDER_DAYS", "2"))
# A shopper who cannot come in time may keep a pick-up this many days longer, once, from the
# order page or the Store API (延长取货); 0: only the store can (orders.services.collect_by).
PICKUP_EXTENSION_DAYS = int(os.environ.get("OMNIMALL_PICKUP_EXTENSION_DAYS", "3"))
RETURN_WINDOW_DAYS = int(os.environ.get("OMNIMALL_RETURN_WINDOW_DAYS", "14"))
# A shipped order nobody reported delivered (carrier, WMS, staff or the shopper's "confirm
# receipt") is confirmed delivered this many days after shipping, so its return window
# starts and it completes (orders.services.receipt); 0: never.
DELIVERY_CONFIRM_DAYS = int(os.environ.get("OMNIMALL_DELIVERY_CONFIRM_DAYS", "10"))
# A shopper may cancel a paid order themselves, for a full refund, until a warehouse or store
# takes it on (orders.domain.SHOPPER_CANCELLABLE_PAID); off: only while unpaid.
SHOPPER_CANCEL_PAID = _env_bool("OMNIMALL_SHOPPER_CANCEL_PAID", True)
# Delivery is free from this subtotal; below it a flat fee (CNY).
FREE_SHIPPING_FROM = os.environ.get("OMNIMALL_FREE_SHIPPING_FROM", "99.00")
SHIPPING_FEE = os.environ.get("OMNIMALL_SHIPPING_FEE", "10.00")
# The usual delivery time at that rate, shown at checkout: "2-4" days once shipped, "3" or
# "" (not shown). Shipping zones set their own in the back office.
SHIPPING_DAYS = _env_days("OMNIMALL_SHIPPING_DAYS", "2-4")
# The built-in sandbox gateway plays the bank. Its RSA key pair is created on first use.
SANDBOX_APP_ID = os.environ.get("OMNIMALL_SANDBOX_APP_ID", "2026112700000001")
SANDBOX_SELLER_ID = os.environ.get("OMNIMALL_SANDBOX_SELLER_ID", "2088000000000001")
SANDBOX_KEY_FILE = Path(
    os.environ.get("OMNIMALL_SANDBOX_KEY_FILE", VAR_DIR / "sandbox-gateway-key.pem")
)

# --- members and points -------------------------------------------------------------
# Points are worth POINTS_PER_CNY_VALUE points to 1 CNY when spent (100 = 1 CNY).
POINTS_PER_CNY_VALUE = int(os.environ.get("OMNIMALL_POINTS_PER_CNY_VALUE", "100"))
# At most this share of an online order may be paid with points.
POINTS_MAX_SHARE = os.environ.get("OMNIMALL_POINTS_MAX_SHARE", "0.50")
# Points expire this many months after they became available (soonest spent first).
POINTS_EXPIRY_MONTHS = int(os.environ.get("OMNIMALL_POINTS_EXPIRY_MONTHS", "24"))
# A till's points hold not committed within this many minutes lapses.
POINTS_HOLD_MINUTES = int(os.environ.get("OMNIMALL_POINTS_HOLD_MINUTES", "30"))
# Phone numbers without a country code are read in this region (E.164 stored).
MEMBER_DEFAULT_REGION = os.environ.get("OMNIMALL_MEMBER_DEFAULT_REGION", "CN")
# Partner calls: signed timestamps older (or newer) than this are refused.
PARTNER_SIGNATURE_WINDOW_SECONDS = int(
    os.environ.get("OMNIMALL_PARTNER_SIGNATURE_WINDOW_SECONDS", "300")
)

# An outbound partner transfer unconfirmed this long is failed and its points released
# (longer than the outbox's ~15 h of retries, so a slow partner still gets every try).
PARTNER_CONFIRM_HOURS = int(os.environ.get("OMNIMALL_PARTNER_CONFIRM_HOURS", "48"))
# The sandbox points partner (a bank's points mall played by the shop, /sandbox/partner/):
# on in the demo; `omnimall serve` refuses to start with it on (anyone may play it).
SANDBOX_PARTNER_ENABLED = _env_bool("OMNIMALL_SANDBOX_PARTNER", DEBUG)
# One-time codes to mobiles: "file" (VAR_DIR/sms, the demo), "console", "locmem" (tests),
# or the dotted path of a gateway class.
SMS_BACKEND = os.environ.get("OMNIMALL_SMS_BACKEND", "file")
SMS_FILE_PATH = Path(os.environ.get("OMNIMALL_SMS_FILE_PATH", VAR_DIR / "sms"))

# --- i18n -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
DEFAULT_CURRENCY = "CNY"

# --- static and media -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("OMNIMALL_MEDIA_ROOT", VAR_DIR / "media"))
SERVE_MEDIA = _env_bool("OMNIMALL_SERVE_MEDIA", True)
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
WHITENOISE_USE_FINDERS = DEBUG
# A template naming a file that collectstatic has not seen yet gets the unhashed URL, not a 500.
WHITENOISE_MANIFEST_STRICT = False

# --- mail -----------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "OMNIMALL_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
# An address without a display name is sent under the shop's name.
_from_name, _from_address = parseaddr(os.environ.get("OMNIMALL_FROM_EMAIL", "shop@omnimall.local"))
DEFAULT_FROM_EMAIL = formataddr((_from_name or SHOP_NAME, _from_address))

# --- security -------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SESSION_COOKIE_SECURE = _env_bool("OMNIMALL_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = _env_bool("OMNIMALL_SECURE_COOKIES", True)

# --- import-export -----------------------------------------------------------
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("OMNIMALL_LOG_LEVEL", "WARNING")},
    "loggers": {"jieba": {"level": "WARNING"}},
}
