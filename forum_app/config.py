"""Configuration: defaults, then environment overrides, then a test override."""
from __future__ import annotations

import os
from pathlib import Path


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
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    PASSWORD_HASH_METHOD = "scrypt"
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    DEMO_DATA = Path(__file__).parent / "demo_data" / "citescap-programme.json"
    # Freeze "now" for demos and tests ("2019-06-06T11:45:00+02:00"); empty = real clock.
    FORUM_NOW: str | None = None

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
        if os.environ.get("SESSION_COOKIE_SECURE", "").lower() in {"1", "true", "yes"}:
            env["SESSION_COOKIE_SECURE"] = True
            env["REMEMBER_COOKIE_SECURE"] = True
        if os.environ.get("FORUM_NOW"):
            env["FORUM_NOW"] = os.environ["FORUM_NOW"]
        if os.environ.get("RATELIMIT_STORAGE_URI"):
            env["RATELIMIT_STORAGE_URI"] = os.environ["RATELIMIT_STORAGE_URI"]
        return env


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = False
    RATELIMIT_ENABLED = False
    # Real scrypt costs ~0.1 s a user; the tests create hundreds of accounts.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1"
