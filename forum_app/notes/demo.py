"""The demo forum's notes: about sixty items written by a demo rapporteur across the round
tables, workshops and experience presentations (forum_app/demo_data/citescap-notes.json), so
the live views and the post-event report have material to show.

Items go through `services.add_item`, as the capture page's would, with client ids derived from
the file: loading again finds them and creates nothing (an item the organisers deleted or
edited since stays as they left it).
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from forum_app.auth import services as auth_services
from forum_app.extensions import db
from forum_app.notes import services
from forum_app.notes.models import RapporteurAssignment
from forum_app.programme.models import Event

DEMO_NOTES = Path(__file__).resolve().parent.parent / "demo_data" / "citescap-notes.json"
DEMO_RAPPORTEUR_EMAIL = "rapporteur@citescap.example"
DEMO_RAPPORTEUR_PASSWORD = "citescap-demo-2019"
DEMO_RAPPORTEUR_NAME = "Rapporteur démo"


def client_id(entry: dict) -> str:
    """The same item of the file gets the same id on every load (and on every machine)."""
    key = "|".join((entry["session"], entry["captured_at"], entry["kind"], entry["text"]))
    return "demo-" + hashlib.sha256(key.encode()).hexdigest()[:32]


def read_items(path: Path = DEMO_NOTES) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["items"]


def _attribution(entry: dict, people: list[dict]) -> dict | None:
    """One of the session's people, found by their exact name (so the item links to them), or
    someone from the floor (`floor: true`) as written."""
    raw = entry.get("attribution")
    if not raw:
        return None
    if raw.get("floor"):
        return {key: raw.get(key, "") for key in ("name", "job_title", "organisation")}
    for person in people:
        if person["name"] == raw["name"]:
            return {"person_id": person["id"]}
    raise ValueError(f"{entry['session']}: {raw['name']!r} is not on this session's programme")


def load_demo_notes(event: Event, path: Path = DEMO_NOTES) -> int:
    """The demo rapporteur (assigned to every session with notes) and their items; how many were
    created now (0 when everything was already there)."""
    entries = read_items(path)
    sessions = {code: services.get_session(event, code) for code in dict.fromkeys(e["session"] for e in entries)}
    user = auth_services.ensure_user(
        DEMO_RAPPORTEUR_EMAIL, DEMO_RAPPORTEUR_PASSWORD, name=DEMO_RAPPORTEUR_NAME, event=event, role="rapporteur"
    )
    assigned = set(db.session.scalars(db.select(RapporteurAssignment.session_id).filter_by(user_id=user.id)))
    for session in sessions.values():
        if session.id not in assigned:
            db.session.add(RapporteurAssignment(user_id=user.id, session_id=session.id))
    db.session.commit()

    people = {code: services.session_people(session) for code, session in sessions.items()}
    created = 0
    # In the order they were said: each new item goes to the top of its session's list.
    for entry in sorted(entries, key=lambda e: datetime.fromisoformat(e["captured_at"])):
        body = {
            "client_id": client_id(entry),
            "kind": entry["kind"],
            "text": entry["text"],
            "captured_at": entry["captured_at"],
            "highlighted": bool(entry.get("highlighted")),
        }
        attribution = _attribution(entry, people[entry["session"]])
        if attribution is not None:
            body["attribution"] = attribution
        saved = services.add_item(event, sessions[entry["session"]], user, body)
        created += saved.created
    return created
