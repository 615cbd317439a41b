"""The organisers' report editor in a real browser (CSRF on, phone first): the overview with its
Markdown preview and save, one section's items rewritten, hidden and moved, and the laptop view.
axe on every page; screenshots report-editor-overview-phone.png, report-editor-section-phone.png,
report-editor-laptop.png."""
from __future__ import annotations

import io
import re
import secrets
import uuid
from datetime import UTC, datetime

from PIL import Image
from playwright.sync_api import expect

from forum_app.auth import services as auth_services
from forum_app.extensions import db
from forum_app.notes import photos
from forum_app.notes import services as notes_services
from forum_app.notes.models import NoteItem
from forum_app.programme.models import Event, Session
from forum_app.report import editing, services
from tests.browser.conftest import PageProblems, assert_accessible, log_in

LAPTOP = {"viewport": {"width": 1280, "height": 900}, "is_mobile": False, "has_touch": False, "device_scale_factor": 1}
SECTION = "Atelier 5 —"  # the other browser tests write their notes elsewhere


def _add_notes(live_server, code: str, uid: str) -> dict[str, int]:
    """A few items of every kind in one session, through the real notes service."""
    with live_server.app.app_context():
        event = db.session.scalar(db.select(Event).filter_by(slug=live_server.slug))
        session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))
        author = auth_services.find_user(live_server.organiser_email)
        moment = datetime(2019, 6, 6, 12, 30, tzinfo=UTC).isoformat()

        def add(kind, text, **extra):
            body = {"client_id": uuid.uuid4().hex, "kind": kind, "text": text, "captured_at": moment, **extra}
            return notes_services.add_item(event, session, author, body).item["id"]

        out = io.BytesIO()
        Image.new("RGB", (480, 320), (30, 90, 160)).save(out, "JPEG")
        out.seek(0)
        stored = photos.store(event.id, out)
        ids = {
            "first": add("key_point", f"Les coopératives d'activité accompagnent les créateurs des quartiers ({uid})."),
            "second": add("key_point", f"Le modèle SCIC associe habitants, collectivité et entreprises ({uid}).", highlighted=True),
            "third": add("key_point", f"Un point à masquer dans le rapport ({uid})."),
            "quote": add("quote", f"« La coopération n'est pas un supplément d'âme, c'est un modèle économique. » ({uid})",
                         attribution={"name": f"Inès Moreau {uid}", "job_title": "Directrice", "organisation": "CAE Ille"}),
            "photo": notes_services.add_item(
                event, session, author,
                {"client_id": uuid.uuid4().hex, "kind": "photo", "text": f"L'atelier en pleine discussion ({uid})",
                 "captured_at": moment},
                photo={**stored, "credit": "Camille Martin"},
            ).item["id"],
        }
        db.session.remove()
        return ids


def _note_text(live_server, note_id: int) -> str:
    with live_server.app.app_context():
        text = db.session.get(NoteItem, note_id).text
        db.session.remove()
        return text


def _counts(text: str) -> tuple[int, int]:
    """(items shown, items hidden) from a section's line in the overview."""
    shown = re.search(r"(\d+) éléments? affichés?", text)
    hidden = re.search(r"(\d+) masqués?", text)
    return int(shown.group(1)) if shown else 0, int(hidden.group(1)) if hidden else 0


def _organiser(new_context, live_server, **overrides):
    page = new_context(**overrides).new_page()
    page.problems = PageProblems(page)
    log_in(page, live_server.organiser_email, live_server.organiser_password)
    return page


def test_organiser_edits_the_report_on_a_phone(axe, new_context, live_server, screenshot):
    uid = secrets.token_hex(3)
    code = live_server.code_of(SECTION)
    ids = _add_notes(live_server, code, uid)
    page = _organiser(new_context, live_server)

    # The overview: status, workflow, sections in the report's order.
    response = page.goto(live_server.event_url("admin/report"))
    assert response.status == 200 and response.headers["cache-control"] == "no-store"
    expect(page.get_by_role("heading", level=1)).to_contain_text("Rapport")
    expect(page.locator(".admin-nav a[aria-current=page]")).to_have_text("Rapport")
    row = page.locator(f"#section-{code}")
    expect(row).to_contain_text("éléments affichés")
    shown, hidden = _counts(row.inner_text())
    assert shown >= 5  # ours, and whatever the other browser tests wrote there
    assert_accessible(axe, page, "report overview")
    screenshot(page, "report-editor-overview-phone")

    # The introduction, previewed on the server (nothing saved), then saved.
    intro = page.get_by_label("Introduction", exact=True)
    intro.fill(f"Le fil conducteur : **l'économie des quartiers** ({uid}).\n\n- l'immobilier\n- l'entrepreneuriat\n\n<script>alert(1)</script>")
    page.get_by_role("button", name="Prévisualiser").click()
    preview = page.locator("#apercu-introduction_md")
    expect(preview.locator("strong")).to_have_text("l'économie des quartiers")
    expect(preview.locator("li")).to_have_count(2)
    expect(preview).to_contain_text("<script>alert(1)</script>")  # shown as text, never run
    expect(page.locator(".flash-info")).to_contain_text("rien n'est encore enregistré")
    expect(page.get_by_label("Introduction", exact=True)).to_have_value(re.compile(re.escape(uid)))
    assert_accessible(axe, page, "report overview with a preview")
    preview.scroll_into_view_if_needed()
    screenshot(page, "report-editor-preview-phone", full_page=False)
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text("Rapport enregistré")
    expect(page.get_by_label("Introduction", exact=True)).to_have_value(re.compile(re.escape(uid)))

    # One section: rewrite an item for the report (the note stays as captured), hide one, move one.
    page.locator(f"#section-{code} a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(code)
    card = page.locator(f"#item-{ids['first']}")
    card.get_by_label("Texte dans le rapport").fill(f"Les coopératives d'activité accompagnent les créateurs ({uid}).")
    card.get_by_role("button", name=re.compile("^Enregistrer")).click()
    expect(page).to_have_url(re.compile(f"#item-{ids['first']}$"))
    expect(page.locator(f"#item-{ids['first']}")).to_contain_text("réécrit pour le rapport")
    assert _note_text(live_server, ids["first"]).startswith("Les coopératives d'activité accompagnent les créateurs des quartiers")

    page.locator(f"#item-{ids['third']}").get_by_role("button", name=re.compile("^Masquer dans le rapport")).click()
    expect(page.locator(f"#item-{ids['third']}")).to_contain_text("masqué dans le rapport")
    page.locator(f"#item-{ids['second']}").get_by_role("button", name=re.compile("^↑ Monter")).click()
    order = page.locator(".editor-block").first.locator(".editor-item").evaluate_all("items => items.map(i => i.id)")
    assert order.index(f"item-{ids['second']}") < order.index(f"item-{ids['first']}")
    expect(page.locator(f"#item-{ids['quote']}")).to_contain_text("Accord à demander")
    expect(page.locator(f"#item-{ids['photo']} img")).to_be_visible()
    page.locator(f"#item-{ids['photo']}").get_by_role("button", name=re.compile("^Photo de couverture")).click()
    expect(page.locator(f"#item-{ids['photo']}")).to_contain_text("photo de couverture")
    page.locator(f"#item-{ids['first']}").scroll_into_view_if_needed()
    assert_accessible(axe, page, "report section")
    screenshot(page, "report-editor-section-phone")

    # The section's summary, previewed then saved.
    page.get_by_label("Synthèse de la section").fill(f"Trois idées *fortes* ({uid}).")
    page.get_by_role("button", name="Prévisualiser").click()
    expect(page.locator("#apercu-summary_md em")).to_have_text("fortes")
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text(f"Section {code} enregistrée")

    # Back on the overview: the counts follow.
    page.goto(live_server.event_url("admin/report"))
    expect(page.locator(f"#section-{code}")).to_contain_text("masqué")
    assert _counts(page.locator(f"#section-{code}").inner_text()) == (shown - 1, hidden + 1)
    expect(page.locator("#couverture img")).to_be_visible()
    assert not page.problems.messages, page.problems.messages


def test_organiser_sees_the_report_editor_on_a_laptop(axe, new_context, live_server, screenshot):
    uid = secrets.token_hex(3)
    _add_notes(live_server, live_server.code_of(SECTION), uid)
    page = _organiser(new_context, live_server, **LAPTOP)

    page.goto(live_server.event_url("admin/report"))

    expect(page.locator(".editor-sections > li").first).to_be_visible()
    assert_accessible(axe, page, "report overview, laptop")
    screenshot(page, "report-editor-laptop")

    # Someone else saves while this organiser writes: nothing typed is lost, both versions show.
    with live_server.app.app_context():
        event = db.session.scalar(db.select(Event).filter_by(slug=live_server.slug))
        colleague = auth_services.find_user(live_server.organiser_email)
        report = services.get_report(event)
        editing.save_settings(event, colleague, {"next_steps_md": f"La version de ma collègue ({uid})."}, version=report.version)
        db.session.remove()
    mine = f"Rendez-vous l'an prochain à Nantes ({uid})."
    page.get_by_label("Suites et prochaines étapes").fill(mine)
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    conflict = page.locator("#conflit")
    expect(conflict).to_contain_text("Quelqu'un a modifié le rapport pendant que vous écriviez")
    expect(conflict).to_contain_text(f"La version de ma collègue ({uid}).")
    expect(page.get_by_label("Suites et prochaines étapes")).to_have_value(mine)
    assert_accessible(axe, page, "report settings conflict")
    conflict.scroll_into_view_if_needed()
    screenshot(page, "report-editor-conflict-laptop", full_page=False)
    page.get_by_role("button", name="Enregistrer ma version").click()
    expect(page.locator(".flash-success")).to_contain_text("Rapport enregistré")
    expect(page.get_by_label("Suites et prochaines étapes")).to_have_value(mine)

    # The draft preview opens as the public page would show it.
    page.get_by_role("link", name="Page web").click()
    expect(page.locator("body")).to_contain_text(uid)
    problems = [m for m in page.problems.messages if "status of 409" not in m]  # the conflict page's own status
    assert not problems, problems
