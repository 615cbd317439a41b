"""Write contention (issue 6, "Faults"): a request that cannot get the database's write lock waits
SQLITE_WRITE_TIMEOUT, then answers 503 with Retry-After — JSON `{"code": "busy"}` on the API, the
French error page on a form — never a 500, with nothing written; once the lock is free the same
request goes through.

The lock is held the way a slow writer of the same data would hold it, from another connection:
on SQLite through `begin_write` (the writers' file lock, then BEGIN IMMEDIATE), on PostgreSQL with
`SELECT ... FOR UPDATE` on the rows the request must lock (the app sets `lock_timeout` from the
same setting). A lock taken outside the app's queue (a raw SQLite BEGIN IMMEDIATE, a PostgreSQL
table lock) gives the same 503 through SQLite's busy timeout and PostgreSQL's lock_timeout.
"""
from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from forum_app import create_app, mail
from forum_app.auth import services as auth_services
from forum_app.badges import services as badges
from forum_app.checkin.models import CheckIn
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.notes.models import (
    NoteItem,
    NoteRevision,
    NoteStream,
    RapporteurAssignment,
)
from forum_app.programme import imports
from forum_app.programme.models import Session
from forum_app.registration import services as registration
from forum_app.registration.models import Registration
from forum_app.registration.services import RegistrationInput
from tests.databases import ON_POSTGRESQL, drop_database, file_database_url
from tests.locks import write_lock_held

DEMO_JSON = Path(__file__).resolve().parent.parent / "forum_app" / "demo_data" / "citescap-programme.json"
TIMEOUT = 0.3  # seconds: SQLITE_WRITE_TIMEOUT for these tests
PASSWORD = "file-d-attente-2019"
VOLUNTEER = "porte@contention.example"
RAPPORTEUR = "rapporteur@contention.example"
BUSY_TEXT = "Le serveur est très sollicité"


@dataclass
class Busy:
    app: object
    url: str
    slug: str
    badge: str
    registration_id: int
    workshop_id: int  # A1
    stream_session_id: int  # A1's NoteStream


@pytest.fixture(scope="module")
def busy(tmp_path_factory) -> Iterator[Busy]:
    """One database for the module (each test uses its own client ids and addresses)."""
    url = file_database_url(tmp_path_factory.mktemp("contention"), suffix="contention")
    config = type("ContentionConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": url, "SQLITE_WRITE_TIMEOUT": TIMEOUT})
    app = create_app(config)
    with app.app_context():
        db.create_all()
        event = imports.import_schedule_file(DEMO_JSON).event
        workshop = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code="A1"))
        auth_services.ensure_user(VOLUNTEER, PASSWORD, name="Porte", event=event, role="volunteer")
        rapporteur = auth_services.ensure_user(RAPPORTEUR, PASSWORD, name="Rapporteuse", event=event, role="rapporteur")
        db.session.add(RapporteurAssignment(user_id=rapporteur.id, session_id=workshop.id))
        db.session.add(NoteStream(session_id=workshop.id, seq=0))  # the row a note's writer locks
        db.session.commit()
        person = registration.register(
            event,
            RegistrationInput(first_name="Inès", last_name="Attente", email="ines@contention.example", consent=True),
            source="desk",
        ).registration
        found = Busy(app, url, event.slug, badges.badge_payload(person), person.id, workshop.id, workshop.id)
        db.session.commit()
        db.session.remove()
    yield found
    with app.app_context():
        mail.flush(timeout=30)
        db.session.remove()
        db.engine.dispose()
    if ON_POSTGRESQL:
        drop_database(url)


def logged_in(busy: Busy, email: str):
    client = busy.app.test_client()
    assert client.post("/login", data={"email": email, "password": PASSWORD}).status_code == 302
    return client


def registration_row(busy: Busy):
    return db.select(Registration.id).where(Registration.id == busy.registration_id).with_for_update()


def note_stream_row(busy: Busy):
    return db.select(NoteStream.session_id).where(NoteStream.session_id == busy.stream_session_id).with_for_update()


def workshop_row(busy: Busy):
    return db.select(Session.id).where(Session.id == busy.workshop_id).with_for_update()


def count(busy: Busy, model, **filters) -> int:
    with busy.app.app_context():
        found = db.session.scalar(db.select(db.func.count()).select_from(model).filter_by(**filters))
        db.session.remove()
    return found


def scan(busy: Busy, client_id: str) -> dict:
    return {"badge": busy.badge, "client_id": client_id, "station": "Porte 1", "scanned_at": datetime.now(UTC).isoformat()}


def note(client_id: str) -> dict:
    return {"client_id": client_id, "kind": "key_point", "text": "Le foncier manque en QPV.",
            "captured_at": datetime.now(UTC).isoformat()}


def assert_busy_json(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert response.json["code"] == "busy"
    assert BUSY_TEXT in response.json["message"]
    assert int(response.headers["Retry-After"]) >= 1
    assert response.headers["Cache-Control"] == "no-store"


def test_checkin_while_the_write_lock_is_held_answers_503_with_retry_after_then_goes_through(busy):
    client = logged_in(busy, VOLUNTEER)
    body = scan(busy, "busy-checkin-1")
    url = f"/api/v1/e/{busy.slug}/checkins"

    with write_lock_held(busy.app, registration_row(busy)):
        started = time.monotonic()
        response = client.post(url, json=body)
        waited = time.monotonic() - started

    assert_busy_json(response)
    assert waited >= TIMEOUT * 0.9  # it waited for the lock first
    assert count(busy, CheckIn, client_id="busy-checkin-1") == 0  # nothing written by the 503 attempt
    again = client.post(url, json=body)  # the station's retry, same client_id
    assert again.status_code == 201
    assert again.json["outcome"] == "checked_in"
    assert count(busy, CheckIn, client_id="busy-checkin-1") == 1


def test_note_post_while_the_write_lock_is_held_answers_503_then_goes_through(busy):
    client = logged_in(busy, RAPPORTEUR)
    body = note(uuid.uuid4().hex)
    url = f"/api/v1/e/{busy.slug}/s/A1/notes"

    with write_lock_held(busy.app, note_stream_row(busy)):
        response = client.post(url, json=body)

    assert_busy_json(response)
    assert count(busy, NoteItem, client_id=body["client_id"]) == 0
    again = client.post(url, json=body)
    assert again.status_code == 201
    assert again.json["text"] == "Le foncier manque en QPV."
    assert count(busy, NoteItem, client_id=body["client_id"]) == 1
    assert count(busy, NoteRevision, item_id=again.json["id"]) == 1  # with its revision


def test_registration_form_while_the_write_lock_is_held_shows_the_french_busy_page(busy):
    client = busy.app.test_client()
    form = {"first_name": "Paul", "last_name": "Patient", "email": "paul@contention.example", "organisation": "Ville",
            "job_title": "Chargé de mission", "category": "collectivite", "territory": "", "delegation": "",
            "accessibility_needs": "", "consent": "y", "website": "", "workshops": ["A1"]}

    with write_lock_held(busy.app, workshop_row(busy)):
        response = client.post(f"/e/{busy.slug}/register", data=form)

    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    page = response.get_data(as_text=True)
    assert '<html lang="fr"' in page
    assert "Le serveur est très sollicité</h1>" in page
    assert "rien n&#39;a été enregistré" in page or "rien n'a été enregistré" in page
    assert count(busy, Registration, email_key="paul@contention.example") == 0
    again = client.post(f"/e/{busy.slug}/register", data=form)
    assert again.status_code == 303
    assert count(busy, Registration, email_key="paul@contention.example") == 1


@pytest.fixture
def patient(busy) -> Iterator[Busy]:
    """The same app with a 10 s timeout for one test."""
    busy.app.config["SQLITE_WRITE_TIMEOUT"] = 10
    with busy.app.app_context():
        db.engine.dispose()  # PostgreSQL: new connections get the longer lock_timeout
    yield busy
    busy.app.config["SQLITE_WRITE_TIMEOUT"] = TIMEOUT
    with busy.app.app_context():
        db.engine.dispose()


def test_writer_waits_for_a_lock_released_within_the_timeout_and_goes_through(patient):
    busy = patient
    client = logged_in(busy, VOLUNTEER)
    answers = []

    with write_lock_held(busy.app, registration_row(busy)):
        sender = threading.Thread(
            target=lambda: answers.append(client.post(f"/api/v1/e/{busy.slug}/checkins", json=scan(busy, "busy-wait-1")))
        )
        sender.start()
        sender.join(1.0)
        assert sender.is_alive()  # still waiting for the lock after a second
    sender.join(10)

    assert [a.status_code for a in answers] == [201]
    assert count(busy, CheckIn, client_id="busy-wait-1") == 1


@contextmanager
def locked_outside_the_app(busy: Busy) -> Iterator[None]:
    """A lock the app's writers' queue knows nothing of: a raw SQLite write transaction, or a
    PostgreSQL table lock that blocks inserts (a maintenance script, say)."""
    if ON_POSTGRESQL:
        engine = create_engine(busy.url)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("LOCK TABLE check_in IN EXCLUSIVE MODE")
                yield
                connection.rollback()
        finally:
            engine.dispose()
    else:
        connection = sqlite3.connect(make_url(busy.url).database, isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield
            connection.execute("ROLLBACK")
        finally:
            connection.close()


def test_database_locked_outside_the_app_answers_503_not_500(busy):
    client = logged_in(busy, VOLUNTEER)
    body = scan(busy, "busy-outside-1")

    with locked_outside_the_app(busy):
        response = client.post(f"/api/v1/e/{busy.slug}/checkins", json=body)

    assert_busy_json(response)  # "database is locked" / lock_timeout, mapped to the same answer
    assert count(busy, CheckIn, client_id="busy-outside-1") == 0
    again = client.post(f"/api/v1/e/{busy.slug}/checkins", json=body)
    assert again.status_code == 201
    assert count(busy, CheckIn, client_id="busy-outside-1") == 1
