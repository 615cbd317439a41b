"""Quote consent and the rapporteurs' review in a real browser (CSRF on): the organiser sends the
request from the quotes page, the person quoted answers on their phone without an account, a
rapporteur validates their section. axe on every page; screenshots report-quote-phone.png,
report-quotes-admin.png, report-review-phone.png."""
from __future__ import annotations

import re
import secrets
import uuid
from datetime import UTC, datetime

from playwright.sync_api import expect

from forum_app import mail
from forum_app.auth import services as auth_services
from forum_app.extensions import db
from forum_app.notes import services as notes_services
from forum_app.notes.models import RapporteurAssignment
from forum_app.programme.models import Event, Session
from forum_app.report import domain, review, services
from tests.browser.conftest import assert_accessible

LAPTOP = {"viewport": {"width": 1280, "height": 900}, "is_mobile": False, "has_touch": False, "device_scale_factor": 1}
RAPPORTEUR_PASSWORD = "rapporteur-browser-pass"


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
    assert "/login" not in page.url, f"login as {email} failed"


def _add_quote(live_server, code: str, text: str, name: str, job: str, organisation: str) -> int:
    with live_server.app.app_context():
        event = db.session.scalar(db.select(Event).filter_by(slug=live_server.slug))
        session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))
        author = auth_services.find_user(live_server.organiser_email)
        body = {
            "client_id": uuid.uuid4().hex, "kind": "quote", "text": text,
            "captured_at": datetime(2019, 6, 6, 9, 40, tzinfo=UTC).isoformat(), "highlighted": True,
            "attribution": {"name": name, "job_title": job, "organisation": organisation} if name else None,
        }
        note_id = notes_services.add_item(event, session, author, body).item["id"]
        db.session.remove()
        return note_id


def _emailed_link(live_server, email: str) -> str:
    with live_server.app.app_context():
        sent = [m for m in mail.memory_outbox(live_server.app) if email in str(m["To"])]
    assert sent, f"no message to {email}"
    body = sent[-1].get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https?://\S+/report/quote/[A-Za-z0-9_-]{43}", body).group(0)


def test_organiser_asks_and_the_person_quoted_amends_on_their_phone(axe, new_context, live_server, screenshot):
    uid = secrets.token_hex(3)
    code = live_server.code_of("Atelier 4 —")
    name, email = f"Nadia Benali {uid}", f"quote-browser-{uid}@example.org"
    words = "Les fonds européens doivent arriver jusque dans les quartiers, sans dossier de cent pages."
    note_id = _add_quote(live_server, code, words, name, "Chargée de mission Europe", "Région Bretagne")
    waiting = _add_quote(live_server, code, "On ne monte pas un ITI sans les habitants.", f"Marc Lebrun {uid}",
                         "Directeur", "Agence d'urbanisme")
    unnamed = _add_quote(live_server, code, "Et les petites communes, qui les accompagne ?", "", "", "")

    # The organiser, on a laptop, sends the request from the quotes page.
    admin = new_context(**LAPTOP).new_page()
    log_in(admin, live_server.organiser_email, live_server.organiser_password)
    admin.goto(live_server.event_url("admin/report/quotes"))
    expect(admin.get_by_role("heading", level=1)).to_have_text("Citations du rapport")
    row = admin.locator(f"#quote-{note_id}")
    expect(row).to_contain_text("Accord à demander")
    row.get_by_label(f"Adresse e-mail de {name}").fill(email)
    row.get_by_role("button", name=re.compile("Envoyer la demande d'accord")).click()
    expect(admin.locator(".flash-success")).to_contain_text(f"Demande d'accord envoyée à {email}")
    expect(admin.locator(f"#quote-{note_id}")).to_contain_text("Accord demandé, en attente")
    link = _emailed_link(live_server, email)

    # The person quoted opens the link on their phone: no account.
    phone = new_context().new_page()
    response = phone.goto(link)
    assert response.status == 200
    assert response.headers["referrer-policy"] == "no-referrer" and "no-store" in response.headers["cache-control"]
    expect(phone.get_by_role("heading", level=1)).to_have_text("Votre citation dans le compte rendu")
    expect(phone.locator(".quote-figure blockquote")).to_contain_text(words)
    expect(phone.locator(".quote-figure figcaption")).to_contain_text(f"{name}, Chargée de mission Europe, Région Bretagne")
    assert_accessible(axe, phone, "quote page")
    screenshot(phone, "report-quote-phone")

    # "Je propose une autre formulation", without JavaScript needed (a details element).
    phone.get_by_text("Je propose une autre formulation", exact=True).click()
    phone.get_by_label("Votre formulation").fill("Les fonds européens doivent arriver dans les quartiers, simplement.")
    phone.get_by_label("Votre fonction").fill("Responsable des fonds européens")
    assert_accessible(axe, phone, "quote page, amend form open")
    screenshot(phone, "report-quote-phone-amend")
    phone.get_by_role("button", name="Envoyer ma formulation").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Merci, votre réponse est enregistrée")
    assert phone.url.endswith("/report/quote/merci") and link.rsplit("/", 1)[1] not in phone.url
    expect(phone.locator(".quote-figure figcaption")).to_contain_text(
        f"{name}, Responsable des fonds européens, Région Bretagne"
    )
    assert_accessible(axe, phone, "quote answered")
    screenshot(phone, "report-quote-answered-phone")

    # Back on the quotes page, the organiser sees the answer.
    admin.reload()  # the page is at ...#quote-<id> since the request was sent
    row = admin.locator(f"#quote-{note_id}")
    expect(row).to_contain_text("Approuvée avec modifications")
    expect(row).to_contain_text("simplement.")
    expect(admin.locator(f"#quote-{waiting}")).to_contain_text("Accord à demander")
    expect(admin.locator(f"#quote-{unnamed}")).to_contain_text("Participant·e")
    assert_accessible(axe, admin, "quotes page")
    screenshot(admin, "report-quotes-admin")

    # A tampered link: the French page, no detail.
    bad = phone.goto(link[:-3] + "xyz")
    assert bad.status == 404
    expect(phone.get_by_role("heading", level=1)).to_have_text("Ce lien n'est pas valable")
    assert_accessible(axe, phone, "invalid link")
    screenshot(phone, "report-quote-invalid-phone")


def test_rapporteur_reads_and_validates_their_section_on_a_phone(axe, new_context, live_server, screenshot):
    uid = secrets.token_hex(3)
    code = live_server.code_of("Atelier 6 —")
    email = f"review-browser-{uid}@example.org"
    with live_server.app.app_context():
        event = db.session.scalar(db.select(Event).filter_by(slug=live_server.slug))
        rapporteur = auth_services.ensure_user(email, RAPPORTEUR_PASSWORD, name=f"Rémi Rapporteur {uid}",
                                               event=event, role="rapporteur")
        session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))
        db.session.add(RapporteurAssignment(user_id=rapporteur.id, session_id=session.id))
        db.session.commit()
        for kind, text in (("key_point", "Les acteurs d'hyper-proximité connaissent chaque cage d'escalier."),
                           ("proposal", "Financer les associations de quartier sur trois ans, pas sur un an."),
                           ("figure", "12 associations présentes dans l'atelier.")):
            notes_services.add_item(event, session, rapporteur, {
                "client_id": uuid.uuid4().hex, "kind": kind, "text": text,
                "captured_at": datetime(2019, 6, 6, 12, 40, tzinfo=UTC).isoformat(),
            })
        if services.get_report(event).status != domain.REVIEW:
            review.start_review(event, auth_services.find_user(live_server.organiser_email))
        db.session.remove()

    phone = new_context().new_page()
    log_in(phone, email, RAPPORTEUR_PASSWORD)
    phone.goto("/admin/")
    phone.get_by_role("link", name="Relire le rapport").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Relecture du rapport")
    section = phone.locator(f"#review-{code}")
    expect(section).to_contain_text("Financer les associations de quartier sur trois ans")
    expect(section).to_contain_text("À valider")
    assert_accessible(axe, phone, "review page")
    screenshot(phone, "report-review-phone")

    section.get_by_label("Commentaire pour l'équipe d'organisation (facultatif)").fill("Relu depuis mon téléphone.")
    section.get_by_role("button", name=re.compile("Valider cette section")).click()
    expect(phone.locator(".flash-success")).to_contain_text("validée")
    expect(phone.locator(f"#review-{code}")).to_contain_text("Validée")
    assert_accessible(axe, phone, "review page, section validated")
    screenshot(phone, "report-review-validated-phone")
