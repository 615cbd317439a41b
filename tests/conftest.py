"""Shared fixtures: an app on a fresh in-memory database, the demo forum, staff accounts."""
from __future__ import annotations

from pathlib import Path

import pytest

from forum_app import create_app
from forum_app.config import TestConfig
from forum_app.extensions import db as _db

DEMO_JSON = Path(__file__).resolve().parent.parent / "forum_app" / "demo_data" / "citescap-programme.json"
INTEROP = Path(__file__).resolve().parent.parent / "tests" / "interop"


def _fresh_globals_per_request(app) -> None:
    """Tests keep an app context pushed so they can use the database directly; Flask then
    reuses it for every test-client request, and `g` (Flask-Login's user, Flask-Babel's
    locale) would leak from one request into the next. A real server never shares them."""

    def clear_request_globals():
        from flask import g

        for name in list(vars(g)):
            delattr(g, name)
        from flask_babel import refresh

        refresh()

    app.before_request_funcs.setdefault(None, []).insert(0, clear_request_globals)


def empty_database() -> None:
    """Drop every row (PostgreSQL: TRUNCATE, much faster than dropping and creating ~20 tables
    around each of the suite's tests) or every table (SQLite in memory)."""
    _db.session.remove()
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in _db.metadata.sorted_tables)
        with _db.engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        _db.drop_all()
    _db.engine.dispose()


@pytest.fixture
def app():
    app = create_app(TestConfig)
    _fresh_globals_per_request(app)
    with app.app_context():
        _db.create_all()
        yield app
        empty_database()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def demo_event(app):
    from forum_app.programme import imports

    return imports.import_schedule_file(DEMO_JSON).event


@pytest.fixture
def make_user(app):
    """make_user("organiser", event) -> a staff account with that role (None = no role)."""
    from forum_app.auth import services as auth_services

    counter = iter(range(1000))

    def _make(role: str | None = None, event=None, *, admin: bool = False, password: str = "correct-horse-battery"):
        n = next(counter)
        return auth_services.ensure_user(
            f"{role or 'nobody'}{n}@example.org", password, name=f"{role} {n}", event=event, role=role, is_admin=admin
        )

    return _make


@pytest.fixture
def login(client):
    def _login(user, password: str = "correct-horse-battery"):
        return client.post("/login", data={"email": user.email, "password": password})

    return _login


def built_app(**settings):
    """An app of its own (TestConfig plus `settings`) on the run's database, emptied afterwards."""
    config = type("Config", (TestConfig,), settings)
    app = create_app(config)
    _fresh_globals_per_request(app)
    return app


@pytest.fixture
def own_app():
    """`own_app(**settings)` -> an app built with those settings, its context pushed."""
    contexts = []

    def _build(**settings):
        app = built_app(**settings)
        context = app.app_context()
        context.push()
        contexts.append(context)
        _db.create_all()
        return app

    yield _build
    for context in reversed(contexts):
        empty_database()
        context.pop()
