"""Configuration: defaults, then environment overrides, then a test override."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _digits(value: str) -> bool:
    """ASCII digits only: "²".isdigit() is true, but int("²") fails."""
    return value.isascii() and value.isdigit()


class Config:
    SECRET_KEY: str | None = None  # set from the environment or instance/secret_key
    SQLALCHEMY_DATABASE_URI: str | None = None  # default: sqlite file in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    WTF_CSRF_TIME_LIMIT = None  # a form left open all morning at the desk must still submit
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Europe/Paris"
    LANGUAGES = ("fr", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # None: Secure when PUBLIC_BASE_URL starts with https:// (resolved by forum_app/security.py).
    SESSION_COOKIE_SECURE: bool | None = None
    REMEMBER_COOKIE_SECURE: bool | None = None  # None: as SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Behind a reverse proxy (nginx, Caddy): trust its X-Forwarded-For/-Proto/-Host (one hop),
    # so request.is_secure, HSTS and the rate limits' client address are right.
    TRUST_PROXY = False
    # The JSON API, per signed-in staff member (per address when anonymous): Flask-Limiter syntax.
    API_RATE_LIMIT = "600 per minute"
    # Password login locks after this many failures within the window, for LOGIN_LOCKOUT_MINUTES.
    LOGIN_LOCKOUT_ATTEMPTS = 10
    LOGIN_LOCKOUT_WINDOW_MINUTES = 15
    LOGIN_LOCKOUT_MINUTES = 15
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    PASSWORD_HASH_METHOD = "scrypt"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    DEMO_DATA = Path(__file__).parent / "demo_data" / "citescap-programme.json"
    DEMO_DELEGATION = Path(__file__).parent / "demo_data" / "delegation-hauts-de-france.csv"
    # Who attendees write to about their personal data (shown in the privacy notice).
    PRIVACY_CONTACT: str = ""
    # `flask purge-personal-data`: days after an event's last day before its personal data may be
    # erased (the privacy notice promises 12 months). PG_BIN_DIR: where pg_dump/pg_restore are
    # (default: PATH, then /usr/lib/postgresql/*/bin).
    PERSONAL_DATA_RETENTION_DAYS = 365
    PG_BIN_DIR: str | None = None
    # Freeze "now" for demos and tests ("2019-06-06T11:45:00+02:00"); empty = real clock.
    FORUM_NOW: str | None = None
    # One line per request on the "forum_app.requests" logger (forum_app/web.py): INFO shows them all,
    # WARNING only the 5xx, DEBUG adds the health checks that succeed.
    REQUEST_LOG_LEVEL = "INFO"
    HEALTHZ_CACHE_SECONDS = 5  # /healthz answers from a check at most this old (per worker)
    # Seconds a request waits for the database's write lock (SQLite: the writers' queue, then its
    # busy timeout; PostgreSQL: lock_timeout) before answering 503 with Retry-After (forum_app/db.py).
    SQLITE_WRITE_TIMEOUT = 10.0

    @classmethod
    def from_env(cls) -> dict:
        env = {}
        if os.environ.get("DATABASE_URL"):
            url = os.environ["DATABASE_URL"]
            # Heroku-style URLs name the old driver; psycopg 3 is the one installed.
            if url.startswith("postgres://"):
                url = "postgresql+psycopg://" + url[len("postgres://"):]
            elif url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            env["SQLALCHEMY_DATABASE_URI"] = url
        if os.environ.get("SECRET_KEY"):
            env["SECRET_KEY"] = os.environ["SECRET_KEY"]
        secure_cookies = os.environ.get("SESSION_COOKIE_SECURE", "").strip().lower()
        if secure_cookies in {"1", "true", "yes", "on", "0", "false", "no", "off"}:  # else: from PUBLIC_BASE_URL
            env["SESSION_COOKIE_SECURE"] = env["REMEMBER_COOKIE_SECURE"] = secure_cookies in {"1", "true", "yes", "on"}
        if os.environ.get("TRUST_PROXY"):
            env["TRUST_PROXY"] = os.environ["TRUST_PROXY"].strip().lower() in {"1", "true", "yes", "on"}
        if os.environ.get("API_RATE_LIMIT"):
            env["API_RATE_LIMIT"] = os.environ["API_RATE_LIMIT"]
        for name in ("LOGIN_LOCKOUT_ATTEMPTS", "LOGIN_LOCKOUT_WINDOW_MINUTES", "LOGIN_LOCKOUT_MINUTES"):
            if _digits(os.environ.get(name, "").strip()):
                env[name] = int(os.environ[name])
        if os.environ.get("PRIVACY_CONTACT"):
            env["PRIVACY_CONTACT"] = os.environ["PRIVACY_CONTACT"]
        if _digits(os.environ.get("PERSONAL_DATA_RETENTION_DAYS", "").strip()):
            env["PERSONAL_DATA_RETENTION_DAYS"] = int(os.environ["PERSONAL_DATA_RETENTION_DAYS"])
        if os.environ.get("PG_BIN_DIR"):
            env["PG_BIN_DIR"] = os.environ["PG_BIN_DIR"]
        if os.environ.get("FORUM_NOW"):
            env["FORUM_NOW"] = os.environ["FORUM_NOW"]
        # Where rapporteurs' photos are stored (a persistent, backed-up folder in production).
        if os.environ.get("NOTES_UPLOAD_DIR"):
            env["NOTES_UPLOAD_DIR"] = os.environ["NOTES_UPLOAD_DIR"]
        # Published reports' PDF and Word files, made once per version (safe to delete).
        if os.environ.get("REPORT_CACHE_DIR"):
            env["REPORT_CACHE_DIR"] = os.environ["REPORT_CACHE_DIR"]
        if _digits(os.environ.get("REPORT_QUOTE_LINK_DAYS", "")):
            env["REPORT_QUOTE_LINK_DAYS"] = int(os.environ["REPORT_QUOTE_LINK_DAYS"])
        if os.environ.get("RATELIMIT_STORAGE_URI"):
            env["RATELIMIT_STORAGE_URI"] = os.environ["RATELIMIT_STORAGE_URI"]
        # Mail (forum_app/mail.py): outbox files by default, SMTP when MAIL_BACKEND=smtp.
        for name in ("MAIL_BACKEND", "MAIL_OUTBOX_DIR", "MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD",
                     "MAIL_DEFAULT_SENDER"):
            if os.environ.get(name):
                env[name] = os.environ[name]
        for name in ("MAIL_PORT", "MAIL_TIMEOUT"):
            if _digits(os.environ.get(name, "").strip()):
                env[name] = int(os.environ[name])
        for name in ("MAIL_USE_TLS", "MAIL_USE_SSL"):
            if os.environ.get(name):
                env[name] = os.environ[name].strip().lower() in {"1", "true", "yes", "on"}
        # Absolute links in emails sent outside a request (e.g. "https://forum.example.org").
        if os.environ.get("PUBLIC_BASE_URL"):
            env["PUBLIC_BASE_URL"] = os.environ["PUBLIC_BASE_URL"]
        if os.environ.get("SQLITE_WRITE_TIMEOUT"):
            env["SQLITE_WRITE_TIMEOUT"] = float(os.environ["SQLITE_WRITE_TIMEOUT"])
        if os.environ.get("REQUEST_LOG_LEVEL"):
            env["REQUEST_LOG_LEVEL"] = os.environ["REQUEST_LOG_LEVEL"].strip().upper()
        return env


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    # In memory; CI runs the whole suite a second time on PostgreSQL by setting TEST_DATABASE_URL.
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL") or "sqlite://"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    MAIL_BACKEND = "memory"  # app.extensions["mail_outbox"]; never files or a server in tests
    # Real scrypt costs ~0.1 s a user; the tests create hundreds of accounts.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
    # Photos uploaded by tests (the browser tests' live server too) never land in instance/.
    NOTES_UPLOAD_DIR = os.path.join(tempfile.gettempdir(), "forum-test-uploads")
    REPORT_CACHE_DIR = os.path.join(tempfile.gettempdir(), "forum-test-report-cache")
