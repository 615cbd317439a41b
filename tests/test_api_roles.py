"""Every /api/ route × every kind of visitor: the JSON answer each one gets, and that a refused
call changes nothing. The walk fails on a route it does not know how to call."""
from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image
from werkzeug.security import generate_password_hash

from forum_app import create_app
from forum_app.auth.models import EventRole, User
from forum_app.badges import services as badges
from forum_app.checkin.models import CheckIn
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.notes.models import NoteItem, NoteRevision, RapporteurAssignment
from forum_app.programme.models import Event, Session
from forum_app.registration import services as registration
from forum_app.registration.services import RegistrationInput

PASSWORD = "correct-horse-battery"
PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
VISITORS = ("anonymous", "no-role", "volunteer", "rapporteur", "rapporteur-elsewhere", "organiser",
            "organiser-elsewhere", "site-admin")

DOOR = {"volunteer", "organiser", "site-admin"}
ORGANISERS = {"organiser", "site-admin"}
NOTE_WRITERS = {"rapporteur", "organiser", "site-admin"}  # "rapporteur" is assigned to A1, the session walked
ALLOWED = {
    "api.checkins": DOOR,
    "api.checkin_kit": DOOR,
    "api.undo": ORGANISERS,
    "api.stats": ORGANISERS,
    "api.add_note": NOTE_WRITERS,
    "api.edit_note": NOTE_WRITERS,
    "api.list_notes": NOTE_WRITERS,
    "api.reorder_notes": NOTE_WRITERS,
    "api.merge_note": ORGANISERS,
    "api.add_photo": NOTE_WRITERS,
}
MULTIPART = {"api.add_photo"}  # sent as a browser sends a file: multipart/form-data


def _tiny_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def _uploads(app, tmp_path):
    app.config["NOTES_UPLOAD_DIR"] = str(tmp_path / "uploads")


def _api_rules():
    app = create_app(TestConfig)
    rules = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            rules.append(pytest.param(rule.rule, rule.endpoint, method, id=f"{method} {rule.rule}"))
    return rules


API_RULES = _api_rules()


def test_the_walk_knows_every_api_route():
    assert {p.values[1] for p in API_RULES} == set(ALLOWED)


def _user(email, role=None, event=None, *, admin=False):
    user = User(email=email, password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1"), is_admin=admin)
    if role:
        user.roles.append(EventRole(event_id=event.id, role=role))
    db.session.add(user)
    return user


@pytest.fixture
def world(app, demo_event):
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2020, 1, 1), end_date=date(2020, 1, 1))
    db.session.add(other)
    db.session.flush()
    users = {
        "no-role": _user("nobody@example.org"),
        "volunteer": _user("volunteer@example.org", "volunteer", demo_event),
        "rapporteur": _user("rapporteur@example.org", "rapporteur", demo_event),
        "rapporteur-elsewhere": _user("rapporteur-a2@example.org", "rapporteur", demo_event),
        "organiser": _user("organiser@example.org", "organiser", demo_event),
        "organiser-elsewhere": _user("elsewhere@example.org", "organiser", other),
        "site-admin": _user("admin@example.org", admin=True),
    }
    db.session.flush()
    sessions = {s.code: s for s in db.session.scalars(db.select(Session).filter_by(event_id=demo_event.id))}
    db.session.add(RapporteurAssignment(user_id=users["rapporteur"].id, session_id=sessions["A1"].id))
    db.session.add(RapporteurAssignment(user_id=users["rapporteur-elsewhere"].id, session_id=sessions["A2"].id))
    db.session.commit()
    return demo_event, users, sessions["A1"]


def _seed_note(event, session, text):
    item = NoteItem(event_id=event.id, session_id=session.id, client_id=uuid.uuid4().hex, kind="key_point",
                    text=text, captured_at=datetime.now(UTC))
    db.session.add(item)
    db.session.commit()
    return item


def _footprint():
    """What any call could change: scans (and their undoing), note items and their revisions,
    stored photos."""
    db.session.expire_all()
    uploads = Path(current_app.config["NOTES_UPLOAD_DIR"])
    return (
        db.session.scalar(db.select(db.func.count(CheckIn.id))),
        db.session.scalar(db.select(db.func.count(CheckIn.undone_at))),
        db.session.scalar(db.select(db.func.count(NoteItem.id))),
        db.session.scalar(db.select(db.func.count(NoteRevision.id))),
        db.session.scalar(db.select(db.func.count(NoteItem.deleted_at))),
        sum(1 for p in uploads.rglob("*") if p.is_file()) if uploads.exists() else 0,
    )


def _request(endpoint, event, session, badge_text, n):
    """(values for the URL placeholders, JSON body) to call `endpoint` the way a client would."""
    scan = CheckIn(event_id=event.id, client_id=f"seed-{n:04d}-{uuid.uuid4().hex[:6]}", outcome="checked_in",
                   scanned_at=datetime.now(UTC))
    db.session.add(scan)
    db.session.commit()
    item = _seed_note(event, session, f"note {n}")
    duplicate = _seed_note(event, session, f"doublon {n}")
    values = {"slug": event.slug, "checkin_id": scan.id, "code": session.code, "item_id": duplicate.id}
    bodies = {
        "api.checkins": {"badge": badge_text, "client_id": f"walk-{n:04d}", "station": "porte 1",
                         "scanned_at": datetime.now(UTC).isoformat()},
        "api.add_note": {"client_id": uuid.uuid4().hex, "kind": "key_point", "text": "Un point",
                         "captured_at": datetime.now(UTC).isoformat()},
        "api.edit_note": {"version": 1, "text": "corrigé"},
        "api.reorder_notes": {"ids": [item.id, duplicate.id]},
        "api.merge_note": {"into": item.id},
        "api.undo": {},
        "api.add_photo": {"client_id": uuid.uuid4().hex, "captured_at": datetime.now(UTC).isoformat(),
                          "caption": "La salle", "credit": "", "highlighted": "0",
                          "file": (io.BytesIO(_tiny_jpeg()), "photo.jpg", "image/jpeg")},
    }
    return values, bodies.get(endpoint)


@pytest.mark.parametrize(("path", "endpoint", "method"), API_RULES)
def test_api_route_answers_each_visitor_by_role_in_json(app, world, path, endpoint, method):
    event, users, session = world
    badge_text = badges.badge_payload(
        registration.register(event, RegistrationInput(first_name="A", last_name="B", email="ab@example.org",
                                                       consent=True)).registration
    )

    for n, visitor in enumerate(VISITORS):
        client = app.test_client()
        if visitor != "anonymous":
            assert client.post("/login", data={"email": users[visitor].email, "password": PASSWORD}).status_code == 302
        values, body = _request(endpoint, event, session, badge_text, n)
        missing = [name for name in PLACEHOLDER.findall(path) if name not in values]
        assert not missing, f"{path}: teach this walk how to fill {missing}"
        url = PLACEHOLDER.sub(lambda m, values=values: str(values[m.group(1)]), path)
        before = _footprint()

        payload = {"data": body, "content_type": "multipart/form-data"} if endpoint in MULTIPART else {"json": body}
        response = client.open(url, method=method, **payload)

        assert response.is_json or response.status_code == 304, (visitor, response.status_code)
        if visitor == "anonymous":
            assert response.status_code == 401, (visitor, response.status_code)
        elif visitor not in ALLOWED[endpoint]:
            assert response.status_code == 403, (visitor, response.status_code, response.json)
            assert _footprint() == before, f"a refused call by {visitor} changed something"
        else:
            assert response.status_code in (200, 201), (visitor, response.status_code, response.json)
