"""The organisers' notes overview and a session's moderation in a real browser (CSRF on): a note
added through the service while the page is open shows up by itself, focus and scroll kept;
layout at phone and laptop widths (screenshots notes-admin-overview-phone.png,
notes-admin-overview-laptop.png, notes-admin-session-phone.png); axe on every page; an item
excluded through the real form."""
from __future__ import annotations

import secrets
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from forum_app.auth import services as auth_services
from forum_app.auth.models import User
from forum_app.extensions import db
from forum_app.notes import rapporteurs
from forum_app.notes import services as notes
from forum_app.programme.services import get_event
from tests.browser.conftest import assert_accessible

LAPTOP = {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False, "device_scale_factor": 1}


@contextmanager
def fast_polling(live_server, seconds: float = 1):
    previous = live_server.app.config.get("NOTES_LIVE_POLL_SECONDS")
    live_server.app.config["NOTES_LIVE_POLL_SECONDS"] = seconds
    try:
        yield
    finally:
        if previous is None:
            live_server.app.config.pop("NOTES_LIVE_POLL_SECONDS", None)
        else:
            live_server.app.config["NOTES_LIVE_POLL_SECONDS"] = previous


class RoomNotes:
    """A rapporteur of this test in two workshops, and what they write (through the real services)."""

    def __init__(self, live_server):
        self.live_server = live_server
        self.uid = secrets.token_hex(3)
        self.a1, self.a2 = live_server.code_of("Atelier 1 —"), live_server.code_of("Atelier 2 —")
        with live_server.app.app_context():
            event = get_event(live_server.slug)
            user = auth_services.ensure_user(
                f"notes-admin-{self.uid}@example.org", "browser-test-password", name=f"Romane Rapporte {self.uid}",
                event=event, role="rapporteur",
            )
            self.user_id = user.id
            for code in (self.a1, self.a2):
                rapporteurs.assign(event, user.id, notes.get_session(event, code).id)
            db.session.remove()

    def add(self, code: str, text: str, kind: str = "key_point", **extra) -> dict:
        with self.live_server.app.app_context():
            event = get_event(self.live_server.slug)
            body = {"client_id": uuid.uuid4().hex, "kind": kind, "text": text,
                    "captured_at": datetime.now(UTC).isoformat(), **extra}
            item = notes.add_item(event, notes.get_session(event, code), db.session.get(User, self.user_id), body).item
            db.session.remove()
        return item

    def morning(self) -> list[dict]:
        u = self.uid
        people = self._people(self.a1)
        return [
            self.add(self.a1, f"Les baux précaires freinent l'installation des commerces ({u}).", highlighted=True),
            self.add(self.a1, f"« Il faut des baux courts et des loyers progressifs. » ({u})", "quote",
                     attribution={"person_id": people[0]["id"]}),
            self.add(self.a1, f"Créer un guichet unique du foncier d'activité à l'échelle de l'agglomération ({u}).", "proposal"),
            self.add(self.a1, f"30 % des rez-de-chaussée commerciaux vacants dans le quartier ({u}).", "figure"),
            self.add(self.a2, f"Comment les jeunes entrepreneurs accèdent-ils au crédit bancaire ? ({u})", "question"),
            self.add(self.a2, f"Les réseaux d'accompagnement manquent de visibilité dans les quartiers ({u}).",
                     attribution={"name": "Une habitante", "organisation": "Conseil citoyen"}),
        ]

    def remove_two(self) -> None:
        """A2: a duplicate question merged by the organiser and a key point deleted by the rapporteur."""
        duplicate = self.add(self.a2, f"Quel accès au crédit pour les jeunes entrepreneurs ? ({self.uid})", "question")
        slip = self.add(self.a2, f"Note saisie par erreur ({self.uid}).")
        with self.live_server.app.app_context():
            event = get_event(self.live_server.slug)
            organiser = db.session.scalar(db.select(User).filter_by(email=self.live_server.organiser_email))
            notes.merge(event, duplicate["id"], self.items[4]["id"], organiser)
            notes.edit_item(event, slip["id"], db.session.get(User, self.user_id), {"version": 1, "deleted": True})
            db.session.remove()

    def _people(self, code):
        with self.live_server.app.app_context():
            people = notes.session_people(notes.get_session(get_event(self.live_server.slug), code))
            db.session.remove()
        return people


@pytest.fixture(scope="module")
def room_notes(live_server):
    data = RoomNotes(live_server)
    data.items = data.morning()
    data.remove_two()
    return data


def organiser(new_context, live_server, **overrides):
    page = new_context(**overrides).new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(f"pageerror: {error}"))
    page.on("console", lambda message: message.type == "error" and page.errors.append(f"console: {message.text}"))
    page.goto("/login")
    page.locator("input[name=email]").fill(live_server.organiser_email)
    page.locator("input[name=password]").fill(live_server.organiser_password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
    return page


def test_a_note_added_while_the_overview_is_open_shows_up_by_itself(room_notes, new_context, live_server):
    with fast_polling(live_server):
        page = organiser(new_context, live_server, **LAPTOP)
        page.goto(live_server.event_url("admin/notes"))
        row = page.locator(f"#session-{room_notes.a2}")
        before = int(row.locator(".total").inner_text())
        link = row.get_by_role("link").first
        link.focus()

        room_notes.add(room_notes.a2, f"Nouvelle question de la salle sur la mobilité ({room_notes.uid}).", "question")

        newest = page.locator("#latest-items > li").first
        expect(newest).to_contain_text(f"Nouvelle question de la salle sur la mobilité ({room_notes.uid})", timeout=3_000)
        expect(newest).to_have_class("latest-item is-new")
        expect(row.locator(".total")).to_have_text(str(before + 1))
        expect(page.locator("[data-live-announce]")).to_contain_text("nouvel élément")
        assert page.evaluate("() => document.activeElement && document.activeElement.closest('tr').id") == f"session-{room_notes.a2}"
        assert page.errors == []


def test_overview_polls_without_redrawing_while_nothing_changes(room_notes, new_context, live_server):
    with fast_polling(live_server):
        page = organiser(new_context, live_server, **LAPTOP)
        answers: list[int] = []
        page.on("response", lambda r: "/admin/notes/live" in r.url and answers.append(r.status))
        page.goto(live_server.event_url("admin/notes"))

        page.wait_for_timeout(2_500)

    assert answers and set(answers) <= {304, 200} and answers.count(200) <= 1, answers  # a minute may turn once
    assert page.errors == []


def test_overview_at_laptop_width_is_readable_and_accessible(room_notes, new_context, live_server, axe, screenshot):
    page = organiser(new_context, live_server, **LAPTOP)

    page.goto(live_server.event_url("admin/notes"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Notes des rapporteurs")
    expect(page.locator(".admin-nav a[aria-current=page]")).to_have_text("Notes")
    sessions, latest = page.locator(".notes-by-session").bounding_box(), page.locator(".notes-latest").bounding_box()
    assert latest["x"] > sessions["x"] + sessions["width"] - 1, (sessions, latest)  # side by side on a laptop
    row = page.locator(f"#session-{room_notes.a1}")
    expect(row).to_contain_text(f"Romane Rapporte {room_notes.uid}")  # other tests share the server: maybe not alone
    expect(row.locator(".kind-count")).to_contain_text(["Point clé", "Citation", "Proposition", "Chiffre clé"])
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    screenshot(page, "notes-admin-overview-laptop", full_page=False)
    assert_accessible(axe, page, "notes overview (laptop)")
    assert page.errors == []


def test_overview_at_phone_width_fits_and_is_accessible(room_notes, new_context, live_server, axe, screenshot):
    page = organiser(new_context, live_server)

    page.goto(live_server.event_url("admin/notes"))

    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways at phone width: {widths}"
    expect(page.locator(f"#session-{room_notes.a1}")).to_be_visible()
    screenshot(page, "notes-admin-overview-phone")
    assert_accessible(axe, page, "notes overview (phone)")
    assert page.errors == []


def test_session_page_at_phone_width_excludes_an_item_through_the_real_form(room_notes, new_context, live_server, axe, screenshot):
    page = organiser(new_context, live_server)
    page.goto(live_server.event_url("admin/notes"))
    page.locator(f"#session-{room_notes.a1} th a").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Atelier 1")
    figure = room_notes.items[3]
    card = page.locator(f"#item-{figure['id']}")

    card.get_by_role("button", name="Exclure du rapport").click()

    expect(page.locator(".flash-success")).to_contain_text(f"Élément n° {figure['id']} exclu du rapport")
    expect(card.locator(".note-head")).to_contain_text("exclu du rapport")
    expect(card.get_by_role("button", name="Inclure dans le rapport")).to_be_visible()
    quote = page.locator(f"#item-{room_notes.items[1]['id']}")
    quote.get_by_text("Corriger l'attribution").click()
    expect(quote.get_by_label("Une personne de la session")).to_be_visible()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways at phone width: {widths}"
    assert_accessible(axe, page, "notes of one session (phone)")
    page.evaluate("() => window.scrollTo(0, 0)")
    screenshot(page, "notes-admin-session-phone")
    assert page.errors == []


def test_session_page_at_laptop_width_shows_removed_items_apart_and_is_accessible(room_notes, new_context, live_server, axe, screenshot):
    page = organiser(new_context, live_server, **LAPTOP)

    page.goto(live_server.event_url(f"admin/notes/{room_notes.a2}"))

    removed = page.locator("section:has(#removed-title) li.note-card")
    expect(removed).to_have_count(2)
    expect(removed.first.get_by_role("button", name="Restaurer")).to_be_visible()
    expect(page.locator("section:has(#removed-title)")).to_contain_text(f"fusionné dans n° {room_notes.items[4]['id']}")
    kept = page.locator(f"#item-{room_notes.items[4]['id']}")
    expect(kept.locator("> .note-text")).to_contain_text("Quel accès au crédit pour les jeunes entrepreneurs ?")
    kept.get_by_text("Historique").click()
    expect(kept.locator(".revisions li")).to_have_count(2)
    kept.get_by_role("link", name="Fusionner avec…").click()
    expect(kept.get_by_label("Garder l'élément")).to_be_visible()
    screenshot(page, "notes-admin-session-laptop")
    assert_accessible(axe, page, "notes of one session (laptop), merge choice open")
    assert page.errors == []
