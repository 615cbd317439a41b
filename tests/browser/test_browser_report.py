"""The published report in a real browser: /e/<slug>/report on a phone (390 px), on a laptop
(1280 px) and as printed; axe on each; and the PDF readers download, its cover, contents and a
workshop page rendered to images. Screenshots: report-public-phone.png, report-public-laptop.png,
report-public-print.png, report-pdf-cover.png, report-pdf-contents.png, report-pdf-workshop.png.

The data is added through the real services under a test-specific name: the demo notes (loaded
only if missing), a photo, a delegation of twelve people of whom nine came, the consent of the
people quoted in three sessions, the report's own words (only if nobody wrote any), then review
and publication. Other browser tests share the server: nothing of theirs is changed."""
from __future__ import annotations

import io
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import pypdfium2 as pdfium
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from forum_app.auth import services as auth_services
from forum_app.badges import services as badge_services
from forum_app.checkin import services as checkin_services
from forum_app.extensions import db
from forum_app.notes import domain as notes_domain
from forum_app.notes import photos
from forum_app.notes import services as notes_services
from forum_app.notes.demo import load_demo_notes
from forum_app.notes.models import NoteItem
from forum_app.programme.models import Session
from forum_app.programme.services import get_event
from forum_app.registration import services as registration_services
from forum_app.registration.services import RegistrationInput
from forum_app.report import approvals, domain, editing, review, services
from forum_app.report.models import QuoteApproval
from tests.browser.conftest import SCREENSHOTS, PageProblems, assert_accessible

LAPTOP = {"viewport": {"width": 1280, "height": 900}, "is_mobile": False, "has_touch": False, "device_scale_factor": 1}
CONSENTED = ("Table ronde — Quel", "Atelier 1 —", "Atelier 2 —", "Atelier 3 —")
PHOTO_SESSION = "Atelier 3 —"  # the other report tests write in Ateliers 4, 5 and 6
CATEGORIES = ("collectivite", "association", "entreprise", "etat")
TERRITORIES = ("Hauts-de-France", "Bretagne", "Pays de la Loire")
SETTINGS = {
    "title": "Cités Cap 2019 : retour sur le forum",
    "lead": "Le 6 juin 2019 à Rennes, la deuxième édition de Cités Cap a réuni élus, techniciens, entrepreneurs "
            "et associations autour d'une question : quel avenir économique pour les quartiers prioritaires ?",
    "organised_by": "RésOVilles, centre de ressources politique de la ville Bretagne – Pays de la Loire",
    "introduction_md": "Le fil conducteur du forum était **l'avenir économique des quartiers prioritaires** : "
                       "l'immobilier d'entreprise, l'entrepreneuriat, le numérique, l'innovation sociale.",
    "conclusion_md": "Une méthode plus qu'un outil : c'est ce que les participants ont retenu de la journée.",
    "next_steps_md": "Le Club dev éco des centres de ressources se réunit le lendemain pour poursuivre les travaux.",
    "links_md": "- [Site du forum Cités Cap](https://citescap.example/)\n- [Le réseau des centres de ressources](https://crpv.example/)",
}


def _illustration() -> io.BytesIO:
    """A 1600 x 1000 drawing (a room with rows of seats), stored as a rapporteur's photo would be."""
    image = Image.new("RGB", (1600, 1000), (236, 240, 248))
    draw = ImageDraw.Draw(image)
    draw.rectangle([0, 620, 1600, 1000], fill=(30, 58, 138))
    draw.rectangle([520, 120, 1080, 420], fill=(255, 255, 255), outline=(30, 58, 138), width=10)
    for row in range(4):
        for seat in range(14):
            x, y = 90 + seat * 105, 660 + row * 80
            draw.ellipse([x, y, x + 56, y + 56], fill=(194, 65, 12) if (row + seat) % 5 else (253, 230, 138))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    out.seek(0)
    return out


def _publish(live_server, uid: str) -> str:
    """Everything the report shows, through the services; returns the photo's caption."""
    caption = f"L'atelier numérique en pleine discussion ({uid})"
    with live_server.app.app_context():
        event = get_event(live_server.slug)
        organiser = auth_services.find_user(live_server.organiser_email)
        load_demo_notes(event)  # creates nothing when the demo notes are there

        session = db.session.scalar(
            db.select(Session).filter_by(event_id=event.id, code=live_server.code_of(PHOTO_SESSION))
        )
        stored = photos.store(event.id, _illustration())
        photo_id = notes_services.add_item(
            event, session, organiser,
            {"client_id": uuid.uuid4().hex, "kind": notes_domain.PHOTO, "text": caption,
             "captured_at": datetime(2019, 6, 6, 12, 10, tzinfo=UTC).isoformat()},
            photo={**stored, "credit": "Camille Martin"},
        ).item["id"]

        delegation = registration_services.create_delegation(event, f"Délégation Hauts-de-France {uid}",
                                                             territory="Hauts-de-France")
        people = [
            RegistrationInput(
                first_name=f"Prénom{n}", last_name=f"Rapport {uid} {n:02d}", email=f"report-browser-{uid}-{n}@example.org",
                organisation=("CU Dunkerque", "IREV", "COPAS", "ADULM", "Entreprendre Ensemble")[n % 5],
                category=CATEGORIES[n % len(CATEGORIES)], territory=TERRITORIES[n % len(TERRITORIES)],
                delegation_id=delegation.id if n < 7 else None, consent=True,
            )
            for n in range(12)
        ]
        outcomes = registration_services.register_many(event, people, source="import", notify=False)
        morning = datetime(2019, 6, 6, 6, 45, tzinfo=UTC)
        for n, outcome in enumerate(outcomes[:9]):
            checkin_services.check_in(
                event, badge=badge_services.badge_payload(outcome.registration), client_id=f"report-{uid}-{n}",
                station="accueil", scanned_at=(morning + timedelta(minutes=n)).isoformat(),
            )

        report = services.get_report(event)
        db.session.commit()
        if not report.lead:
            editing.save_settings(event, organiser, SETTINGS, version=report.version)
        if services.get_report(event).cover_item_id is None:
            editing.set_cover(event, photo_id, organiser)

        codes = [live_server.code_of(title) for title in CONSENTED]
        asked = set(db.session.scalars(db.select(QuoteApproval.note_item_id)))
        quotes = db.session.scalars(
            db.select(NoteItem).join(Session, Session.id == NoteItem.session_id).where(
                NoteItem.event_id == event.id, NoteItem.kind == notes_domain.QUOTE, NoteItem.attribution_name != "",
                NoteItem.deleted_at.is_(None), Session.code.in_(codes),
            )
        ).all()
        for note_id in [q.id for q in quotes if q.id not in asked]:
            approvals.record_consent(event, note_id, organiser, domain.APPROVED, "Accord donné par téléphone.")

        if not services.snapshots(event) and services.get_report(event).status != domain.REVIEW:
            review.start_review(event, organiser)
        services.publish(event, organiser, note=f"Publication du test du rapport public ({uid})")
        db.session.remove()
    return caption


def _open(new_context, live_server, **overrides):
    page = new_context(**overrides).new_page()
    page.set_default_timeout(20_000)  # a full-page screenshot of a long report takes a while
    page.problems = PageProblems(page)
    response = page.goto(live_server.event_url("report"))
    assert response.status == 200
    return page


def test_published_report_reads_well_on_a_phone_a_laptop_and_on_paper(axe, new_context, live_server, screenshot):
    uid = secrets.token_hex(3)
    caption = _publish(live_server, uid)

    # On a phone: cover, contents, the parts; nothing breaks the CSP (no console error).
    phone = _open(new_context, live_server)
    expect(phone.get_by_role("heading", level=1)).to_have_text(SETTINGS["title"])
    expect(phone.locator(".report-kicker")).to_have_text("Retour sur l'événement")
    expect(phone.locator(".report-draft-banner")).to_have_count(0)
    expect(phone.locator(".report-toc")).to_contain_text("Les temps forts")
    expect(phone.get_by_role("heading", level=2, name="Le forum en chiffres")).to_be_visible()
    expect(phone.locator(".report-delegation", has_text=f"Délégation Hauts-de-France {uid}")).to_contain_text("IREV")
    photo = phone.locator(".report-photo", has_text=caption)
    expect(photo.locator("img")).to_have_attribute("alt", caption)
    expect(photo.locator("figcaption")).to_contain_text("Crédit : Camille Martin")
    expect(phone.locator(".report-quote").first.locator("footer")).not_to_be_empty()
    pdf_link = phone.locator(".report-downloads a", has_text="PDF")
    expect(pdf_link).to_have_attribute("href", f"/e/{live_server.slug}/report.pdf")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the report is {width} px wide on a 390 px phone"
    photo.scroll_into_view_if_needed()
    phone.wait_for_load_state("networkidle")
    assert phone.problems.messages == []
    assert_accessible(axe, phone, "public report, phone")
    screenshot(phone, "report-public-phone")

    # The contents link to the sections.
    phone.locator(".report-toc a", has_text="Atelier 3 —").click()
    expect(phone).to_have_url(re.compile(r"#s-"))

    # On a laptop: the contents beside the reading column.
    laptop = _open(new_context, live_server, **LAPTOP)
    toc, body = laptop.locator(".report-toc").bounding_box(), laptop.locator(".report-body").bounding_box()
    assert toc["x"] + toc["width"] <= body["x"], "the contents should sit beside the text on a laptop"
    assert body["width"] <= 800, f"reading column {body['width']} px: too wide to read comfortably"
    assert_accessible(axe, laptop, "public report, laptop")
    screenshot(laptop, "report-public-laptop")

    # On paper: no site navigation, no download buttons, one column.
    laptop.emulate_media(media="print")
    expect(laptop.locator(".site-header")).to_be_hidden()
    expect(laptop.locator(".report-downloads")).to_be_hidden()
    expect(laptop.locator(".report-toc")).to_be_hidden()
    expect(laptop.locator(".report-quote").first).to_be_visible()
    screenshot(laptop, "report-public-print")

    # The PDF readers download: cover, contents and a workshop page, as images to look at.
    response = laptop.request.get(live_server.event_url("report.pdf"))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    _save_pdf_pages(response.body(), caption)


def _text(page) -> str:
    textpage = page.get_textpage()
    text = " ".join(textpage.get_text_range().split())
    textpage.close()
    return text


def _save_pdf_pages(data: bytes, caption: str) -> None:
    document = pdfium.PdfDocument(data)
    try:
        texts = [_text(document[i]) for i in range(len(document))]
        assert SETTINGS["title"] in texts[0] and "Version" in texts[0]
        assert texts[1].startswith("Sommaire")
        # Atelier 3 (it has the photo) starts on the page the contents give.
        match = re.search(r"Atelier 3 — [^.]*?[\s.]*?(\d+) ", texts[1])
        assert match, texts[1]
        workshop = int(match.group(1)) - 1
        assert "Atelier 3 —" in texts[workshop]
        assert any(caption in text for text in texts[workshop:workshop + 3])  # its photo follows
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for name, index in (("cover", 0), ("contents", 1), ("workshop", workshop)):
            document[index].render(scale=1.5).to_pil().save(SCREENSHOTS / f"report-pdf-{name}.png")
    finally:
        document.close()
