"""The organisers' "Journal des actions" in a phone-sized browser: entries readable, filters, accessible."""
from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

from forum_app.auth.services import find_user
from forum_app.badges import services as badges
from forum_app.extensions import db
from forum_app.programme.services import get_event
from forum_app.registration import services as registration

BLOCKING = {"serious", "critical"}


def _staff_actions(live_server) -> None:
    """An organiser reissues a badge and cancels a registration, through the real services."""
    with live_server.app.app_context():
        event = get_event(live_server.slug)
        organiser = find_user(live_server.organiser_email)
        data = registration.RegistrationInput(
            "Journal", "Audité", "journal.audite@audit-browser.example", organisation="Ville de Roubaix", consent=True
        )
        person = registration.register(event, data, source="desk").registration
        badges.reissue(person, actor=organiser)
        registration.cancel(person, actor=organiser)
        db.session.remove()


def test_journal_lists_staff_actions_on_a_phone_and_filters_them(organiser_page, live_server, screenshot):
    _staff_actions(live_server)
    page = organiser_page

    page.goto(live_server.event_url("admin/audit"))

    assert page.get_by_role("heading", level=1).inner_text() == "Journal des actions"
    assert page.get_by_text("Inscription annulée : Journal Audité (Ville de Roubaix)").is_visible()
    assert page.get_by_text("Badge réédité : Journal Audité (Ville de Roubaix)").is_visible()
    page.get_by_text("1 valeur modifiée").first.click()  # the details of the newest entry open
    screenshot(page, "audit-journal-phone")
    results = Axe().run(page)
    blocking = [v for v in results.response["violations"] if v["impact"] in BLOCKING]
    assert not blocking, results.generate_report()

    page.get_by_label("Action").select_option(label="Badge réédité")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_load_state()

    assert "action=badge.reissue" in page.url
    assert page.get_by_text("Badge réédité : Journal Audité (Ville de Roubaix)").is_visible()
    assert page.get_by_text("Inscription annulée : Journal Audité").count() == 0
    screenshot(page, "audit-journal-filtered")
