"""A busy server in a real Chromium (issue 6, "Faults"): while another writer holds the database's
write lock past SQLITE_WRITE_TIMEOUT, the server answers 503 with Retry-After; the door station
and the rapporteur's capture page keep what they could not send on the device ("en attente
d'envoi"), never show it as refused, and send it again once the lock is free: each scan and each
note reaches the database exactly once. A form posted meanwhile gets the French 503 page.

The lock is the real one (tests/locks.py): SQLite, the app's own begin_write from the test's
thread (the live server runs in this process, on the same file); PostgreSQL, row locks
(`SELECT ... FOR UPDATE` on the people's registrations, the session's NoteStream and workshop
rows) that the server's writers wait for up to the `lock_timeout` the app sets from
SQLITE_WRITE_TIMEOUT.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import expect

from forum_app.auth import services as auth_services
from forum_app.badges import services as badge_services
from forum_app.checkin.models import CheckIn
from forum_app.extensions import db
from forum_app.notes.models import NoteItem, NoteStream, RapporteurAssignment
from forum_app.programme.models import Session
from forum_app.programme.services import get_event
from forum_app.registration import services as registration_services
from forum_app.registration.models import Registration
from forum_app.registration.services import RegistrationInput
from tests.browser.conftest import assert_accessible
from tests.locks import write_lock_held

PASSWORD = "serveur-occupe-2019"
BUSY_TIMEOUT = 0.3  # seconds: SQLITE_WRITE_TIMEOUT while the lock is held
SYNC_TIMEOUT_MS = 40_000  # Retry-After (5 s) and the queues' back-off, after the lock is released


def log_in(page, email: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()


def prepare(live_server, uid: str, code: str) -> dict:
    """Three confirmed people with badges, a volunteer, a rapporteur of `code`, the session's
    NoteStream row (PostgreSQL locks rows that exist)."""
    with live_server.app.app_context():
        event = get_event(live_server.slug)
        session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))
        volunteer = f"porte-{uid}@occupe.example"
        rapporteur = f"rapporteur-{uid}@occupe.example"
        auth_services.ensure_user(volunteer, PASSWORD, name="Bénévole", event=event, role="volunteer")
        user = auth_services.ensure_user(rapporteur, PASSWORD, name="Rapporteuse", event=event, role="rapporteur")
        db.session.add(RapporteurAssignment(user_id=user.id, session_id=session.id))
        if db.session.get(NoteStream, session.id) is None:
            db.session.add(NoteStream(session_id=session.id, seq=0))
        db.session.commit()
        outcomes = registration_services.register_many(
            event,
            [RegistrationInput(first_name=f"Personne{n}", last_name=f"Occupée {uid}", email=f"occupe-{uid}-{n}@example.org",
                               organisation="Ville", category="collectivite", consent=True) for n in range(1, 4)],
            source="import",
            notify=False,
        )
        people = [(o.registration.id, badge_services.badge_payload(o.registration)) for o in outcomes]
        db.session.commit()
        found = {"volunteer": volunteer, "rapporteur": rapporteur, "author_id": user.id, "people": people,
                 "session_id": session.id}
        db.session.remove()
    return found


@contextmanager
def busy_server(live_server, data: dict) -> Iterator[None]:
    """The live server waits BUSY_TIMEOUT for the write lock, which another writer holds meanwhile."""
    app = live_server.app
    previous = app.config["SQLITE_WRITE_TIMEOUT"]

    def use_timeout(seconds: float) -> None:
        app.config["SQLITE_WRITE_TIMEOUT"] = seconds
        with app.app_context():
            db.engine.dispose()  # new connections: busy_timeout / lock_timeout from the setting

    rows = [
        db.select(Registration.id).where(Registration.id.in_([rid for rid, _ in data["people"]])).with_for_update(),
        db.select(NoteStream.session_id).where(NoteStream.session_id == data["session_id"]).with_for_update(),
        db.select(Session.id).where(Session.id == data["session_id"]).with_for_update(),
    ]
    use_timeout(BUSY_TIMEOUT)
    try:
        with write_lock_held(app, *rows):
            yield
    finally:
        use_timeout(previous)


def stored(live_server, data: dict) -> tuple[list[CheckIn], list[NoteItem]]:
    with live_server.app.app_context():
        checkins = list(db.session.scalars(
            db.select(CheckIn).where(CheckIn.registration_id.in_([rid for rid, _ in data["people"]]))
        ))
        items = list(db.session.scalars(db.select(NoteItem).filter_by(author_id=data["author_id"])))
        db.session.expunge_all()
        db.session.remove()
    return checkins, items


def test_queues_keep_what_a_busy_server_answered_503_and_send_it_once_when_it_frees(new_context, live_server, screenshot, axe):
    uid = secrets.token_hex(4)
    code = live_server.code_of("Atelier 5")
    data = prepare(live_server, uid, code)
    texts = [f"Point {n} noté pendant l'encombrement {uid}" for n in range(1, 4)]

    door = new_context(service_workers="allow").new_page()
    door_errors: list[str] = []
    door.on("pageerror", lambda error: door_errors.append(str(error)))
    log_in(door, data["volunteer"])
    door.goto(live_server.event_url("checkin"))
    expect(door.locator("#station")).to_have_attribute("data-ready", "true")
    door.locator("[data-station-name]").fill("Porte encombrée")
    expect(door.locator("[data-kit]")).to_contain_text("Liste des inscrit")
    door_net = door.locator("[data-net]")

    notes = new_context(service_workers="allow").new_page()
    notes_errors: list[str] = []
    notes.on("pageerror", lambda error: notes_errors.append(str(error)))
    log_in(notes, data["rapporteur"])
    notes.goto(live_server.event_url(f"notes/{code}"))
    expect(notes.locator("#notes")).to_have_attribute("data-ready", "true")
    notes_net = notes.locator("[data-net]")
    expect(notes_net).to_have_attribute("data-online", "true")

    form = new_context().new_page()
    form.goto(live_server.event_url("register"))
    form.get_by_label("Prénom").fill("Patiente")
    form.locator("#last_name").fill(f"Occupée {uid}")
    form.get_by_label("Adresse e-mail").fill(f"formulaire-{uid}@occupe.example")
    form.get_by_label("Organisation").fill("Ville de Lorient")
    form.get_by_label("Fonction").fill("Chargée de mission")
    form.get_by_label("Vous venez en tant que").select_option(label="Collectivité")
    form.locator(f"#workshop-{code}").check()  # PostgreSQL: the workshop's row is locked
    form.locator("#consent").check()

    with busy_server(live_server, data):
        for n, (_, badge) in enumerate(data["people"], start=1):
            field = door.locator("[data-badge-input]")
            field.fill(badge)
            field.press("Enter")
            answer = door.locator("[data-answer]")
            expect(answer).to_have_attribute("data-outcome", "checked_in")  # decided on the device
            expect(answer).to_have_attribute("data-offline", "true")
            expect(door_net).to_have_attribute("data-pending", str(n))
        for text in texts:
            notes.locator('.kind-button[data-kind="key_point"]').click()
            notes.locator("[data-text]").fill(text)
            notes.get_by_role("button", name="Ajouter", exact=True).click()
            expect(notes.locator("[data-items] > li").filter(has_text=text)).to_have_count(1)
        expect(door_net).to_contain_text("3 passages en attente d'envoi")
        expect(notes_net).to_have_attribute("data-pending", "3", timeout=10_000)
        expect(notes_net).to_contain_text("3 éléments en attente d'envoi")
        expect(notes.locator('[data-items] > li[data-pending="true"]')).to_have_count(3)
        with form.expect_navigation():
            form.get_by_role("button", name="Je m'inscris").click()
        assert form.locator("h1").inner_text() == "Le serveur est très sollicité"
        expect(form.locator("main")).to_contain_text("rien n'a été enregistré")
        door.locator("[data-answer]").click()  # "Touchez l'écran pour passer au badge suivant"
        expect(door.locator("[data-badge-input]")).to_be_visible()
        door_net.scroll_into_view_if_needed()
        screenshot(door, "busy-checkin-queued", full_page=False)
        notes_net.scroll_into_view_if_needed()
        screenshot(notes, "busy-notes-queued", full_page=False)
        screenshot(form, "busy-503-page")
        assert_accessible(axe, form, "the 503 page")
        checkins, items = stored(live_server, data)
        assert (checkins, items) == ([], [])  # nothing got through while busy

    expect(door_net).to_have_attribute("data-pending", "0", timeout=SYNC_TIMEOUT_MS)
    expect(door_net).to_contain_text("tout est envoyé")
    expect(notes_net).to_have_attribute("data-pending", "0", timeout=SYNC_TIMEOUT_MS)
    expect(notes_net).to_contain_text("tout est envoyé")
    expect(notes.locator('[data-items] > li[data-pending="true"]')).to_have_count(0)
    expect(notes.locator("[data-items] .item-error")).to_have_count(0)  # never shown as refused

    checkins, items = stored(live_server, data)
    assert sorted(row.registration_id for row in checkins) == sorted(rid for rid, _ in data["people"])
    assert [row.outcome for row in checkins] == ["checked_in"] * 3
    assert len({row.client_id for row in checkins}) == 3
    assert sorted(item.text for item in items) == sorted(texts)
    assert len({item.client_id for item in items}) == 3
    assert not door_errors and not notes_errors
