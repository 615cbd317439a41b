"""Shared fixtures: an app on a fresh in-memory database, the demo forum, staff accounts."""
from __future__ import annotations

from pathlib import Path

import pytest

from forum_app import create_app
from forum_app.config import TestConfig
from forum_app.extensions import db as _db

DEMO_JSON = Path(__file__).resolve().parent.parent / "forum_app" / "demo_data" / "citescap-programme.json"
INTEROP = Path(__file__).resolve().parent.parent / "tests" / "interop"


@pytest.fixture
def app():
    app = create_app(TestConfig)
    with app.app_context():
        _db.create_all()
        yield app
        _db.session.remove()
        _db.drop_all()


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
