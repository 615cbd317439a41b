"""The demo notes `flask demo load` adds: about sixty items, attributed quotes, loaded once."""
from __future__ import annotations

import re
from datetime import datetime

from forum_app.auth.models import User
from forum_app.extensions import db
from forum_app.notes import demo, services
from forum_app.notes.models import NoteItem, NoteRevision, RapporteurAssignment
from forum_app.programme.models import SessionPerson

MARKUP = re.compile(r"[<>]|\*\*|__|^#|\]\(|`", re.MULTILINE)


def _items(event):
    return list(db.session.scalars(db.select(NoteItem).filter_by(event_id=event.id)))


def test_demo_notes_load_about_sixty_items_over_several_sessions(demo_event):
    created = demo.load_demo_notes(demo_event)

    items = _items(demo_event)
    assert created == len(items)
    assert 55 <= len(items) <= 65
    assert len({item.session_id for item in items}) >= 6
    assert {item.kind for item in items} == {"key_point", "quote", "proposal", "question", "figure"}
    assert len(items) // 4 <= sum(item.highlighted for item in items) <= len(items) // 2


def test_demo_notes_are_not_taken_in_breaks_and_fall_within_their_session(demo_event):
    demo.load_demo_notes(demo_event)

    for item in _items(demo_event):
        assert item.session.kind in ("plenary", "round-table", "workshop", "experience")
        assert item.session.starts_at <= item.captured_at <= item.session.ends_at, item.text


def test_every_demo_quote_is_attributed(demo_event):
    demo.load_demo_notes(demo_event)

    quotes = [item for item in _items(demo_event) if item.kind == "quote"]
    assert quotes
    assert all(item.attribution_name for item in quotes)
    from_floor = [item for item in quotes if item.attribution_person_id is None]
    assert 1 <= len(from_floor) <= 3
    assert all(item.attribution_job_title for item in from_floor)


def test_demo_attributions_name_people_of_their_own_session(demo_event):
    demo.load_demo_notes(demo_event)

    linked = [item for item in _items(demo_event) if item.attribution_person_id is not None]
    assert len(linked) >= 15
    for item in linked:
        in_session = db.session.scalar(
            db.select(SessionPerson.id).filter_by(session_id=item.session_id, person_id=item.attribution_person_id)
        )
        assert in_session is not None, item.text
        assert item.attribution_organisation  # copied from the programme


def test_loading_the_demo_notes_twice_adds_nothing(demo_event):
    first = demo.load_demo_notes(demo_event)
    before = {(item.client_id, item.text) for item in _items(demo_event)}

    second = demo.load_demo_notes(demo_event)

    assert first > 0 and second == 0
    assert {(item.client_id, item.text) for item in _items(demo_event)} == before
    assert db.session.scalar(db.select(db.func.count(NoteRevision.id))) == len(before)


def test_demo_note_texts_are_plain_french_text_without_markup(demo_event):
    demo.load_demo_notes(demo_event)

    for item in _items(demo_event):
        assert not MARKUP.search(item.text), item.text
        assert item.text == item.text.strip() and len(item.text) >= 30
    assert any(re.search(r"\d+ %", item.text) for item in _items(demo_event))


def test_demo_rapporteur_can_log_in_and_writes_the_sessions_with_notes(demo_event, client):
    demo.load_demo_notes(demo_event)

    user = db.session.scalar(db.select(User).filter_by(email=demo.DEMO_RAPPORTEUR_EMAIL))
    sessions_with_notes = {item.session_id for item in _items(demo_event)}
    assigned = set(db.session.scalars(db.select(RapporteurAssignment.session_id).filter_by(user_id=user.id)))
    assert user.role_at(demo_event.id) == "rapporteur"
    assert assigned == sessions_with_notes
    assert all(item.author_id == user.id for item in _items(demo_event))

    response = client.post("/login", data={"email": demo.DEMO_RAPPORTEUR_EMAIL, "password": demo.DEMO_RAPPORTEUR_PASSWORD})
    assert response.status_code == 302
    feed = client.get(f"/api/v1/e/{demo_event.slug}/s/A1/notes")
    assert feed.status_code == 200
    captured = [datetime.fromisoformat(item["captured_at"]) for item in feed.json["items"]]
    assert captured == sorted(captured, reverse=True)  # newest first, as they were said


def test_demo_notes_file_names_only_people_of_the_programme(demo_event):
    for entry in demo.read_items():
        session = services.get_session(demo_event, entry["session"])
        attribution = entry.get("attribution")
        if attribution and not attribution.get("floor"):
            names = {person["name"] for person in services.session_people(session)}
            assert attribution["name"] in names, (entry["session"], attribution["name"])


def test_flask_demo_load_prints_the_notes_and_the_rapporteur(app):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["demo", "load"])
    again = runner.invoke(args=["demo", "load"])

    assert first.exit_code == 0, first.output
    assert f"Demo notes loaded: {len(demo.read_items())} new items" in first.output
    assert demo.DEMO_RAPPORTEUR_EMAIL in first.output
    assert "Demo notes loaded: 0 new items" in again.output
