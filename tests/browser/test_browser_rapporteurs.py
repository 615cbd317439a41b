"""Rapporteur accounts in a real browser (CSRF on): the organiser invites someone and assigns sessions
through the real forms, the invited person opens the link, chooses a password and lands on "Mes sessions".
Accessibility (axe) on every page of the journey; phone screenshots rapporteurs-admin.png, rapporteur-home.png."""
from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from forum_app import mail
from tests.browser.conftest import assert_accessible


def test_organiser_invites_and_assigns_then_the_rapporteur_sets_a_password_and_sees_their_sessions(
    axe, organiser_page, new_context, live_server, screenshot
):
    page = organiser_page
    uid = secrets.token_hex(3)
    name, email = f"Rose Rapporteuse {uid}", f"rapp-browser-{uid}@example.org"
    a1, a5 = live_server.code_of("Atelier 1 —"), live_server.code_of("Atelier 5 —")

    # The organiser invites through the real form (the nav entry leads there).
    page.goto(live_server.event_url("admin/"))
    page.get_by_role("button", name=re.compile("^Menu")).click()  # on a phone the sections fold behind it
    page.get_by_role("navigation", name="Gestion du programme").get_by_role("link", name="Rapporteurs").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapporteurs")
    assert_accessible(axe, page, "rapporteurs list, empty or not")
    page.get_by_label("Nom").fill(name)
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_role("button", name="Envoyer l'invitation").click()

    # The confirmation page shows the link once, with a copy button.
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitation envoyée")
    link = page.get_by_label("Lien d'invitation").input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/invitation/[A-Za-z0-9_-]{{43}}", link), link
    with live_server.app.app_context():
        sent = [m for m in mail.memory_outbox(live_server.app) if email in str(m["To"])]
    assert len(sent) == 1 and link in sent[0].get_body(preferencelist=("plain",)).get_content()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Copier le lien").click()
    expect(page.get_by_role("status").filter(has_text="Lien copié.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    assert_accessible(axe, page, "invitation sent")
    screenshot(page, "rapporteurs-invited")

    # Back on the list: two sessions assigned through the real select (one form per rapporteur).
    page.get_by_role("link", name=f"Confier des sessions à {name}").click()
    card = page.locator(".rapporteur", has=page.get_by_role("heading", name=name))
    expect(card).to_contain_text("Invitation envoyée le")
    for code in (a5, a1):
        select = card.get_by_label(f"Session à confier à {name}")
        select.select_option(select.locator("option", has_text=re.compile(rf"^{code} — ")).get_attribute("value"))
        card.get_by_role("button", name="Confier").click()
        expect(page.locator(".flash-success")).to_have_text(f"{name} rapporte désormais la session {code}.")
    expect(card.locator(".rapporteur-sessions li")).to_have_count(2)
    expect(card.locator(".rapporteur-sessions li").first).to_contain_text(f"{a1} Atelier 1")
    assert_accessible(axe, page, "rapporteurs list with sessions")
    card.scroll_into_view_if_needed()
    screenshot(page, "rapporteurs-admin")

    # The invited person opens the link on their phone.
    phone = new_context().new_page()
    response = phone.goto(link)
    assert response.status == 200 and response.headers["referrer-policy"] == "no-referrer"
    expect(phone.get_by_role("heading", level=1)).to_have_text("Choisir votre mot de passe")
    assert_accessible(axe, phone, "invitation page")
    phone.get_by_label("Mot de passe", exact=True).fill("court")
    phone.get_by_label("Le même mot de passe, une seconde fois").fill("court")
    phone.get_by_role("button", name="Enregistrer et me connecter").click()
    expect(phone.locator(".error-summary")).to_contain_text("Le mot de passe doit compter entre 10 et 1000 caractères.")
    assert_accessible(axe, phone, "invitation page with an error")
    screenshot(phone, "rapporteur-invitation")
    phone.get_by_label("Mot de passe", exact=True).fill("une phrase de passe")
    phone.get_by_label("Le même mot de passe, une seconde fois").fill("une phrase de passe")
    phone.get_by_role("button", name="Enregistrer et me connecter").click()

    # "Mes sessions": both sessions in programme order, each with a big link to its capture page.
    expect(phone.get_by_role("heading", name="Mes sessions")).to_be_visible()
    expect(phone.locator(".flash-success")).to_contain_text("Votre mot de passe est enregistré.")
    sessions = phone.locator(".my-session")
    expect(sessions).to_have_count(2)
    expect(sessions.first).to_contain_text(f"{a1} Atelier 1")
    expect(sessions.first).to_contain_text("Jeudi 6 juin · 11 h 30")
    capture = sessions.first.get_by_role("link", name=re.compile("^Prendre des notes"))
    assert capture.get_attribute("href") == f"/e/{live_server.slug}/notes/{a1}"
    box = capture.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 260, box  # a big target on a phone (390 px screen)
    assert_accessible(axe, phone, "rapporteur home")
    screenshot(phone, "rapporteur-home")

    # The link is used up.
    again = new_context().new_page()
    assert again.goto(link).status == 404
    expect(again.get_by_role("alert")).to_have_text(
        "Ce lien n'est plus valable : demandez-en un nouveau à l'équipe d'organisation."
    )
    assert_accessible(axe, again, "used invitation link")

    # The organiser removes the role through the confirmation page (which also leaves the shared
    # server's sessions as other tests expect them).
    page.goto(live_server.event_url("admin/rapporteurs"))
    card.get_by_role("link", name=re.compile("^Retirer le rôle de rapporteur·e")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Retirer le rôle de rapporteur·e")
    expect(page.locator(".confirm-card")).to_contain_text(f"Ses 2 sessions lui seront retirées : {a1}, {a5}.")
    assert_accessible(axe, page, "remove the rapporteur role")
    page.get_by_role("button", name="Oui, retirer le rôle").click()
    expect(page.locator(".flash-success")).to_have_text(f"{name} n'est plus rapporteur·e de cet événement.")
    expect(page.locator(".rapporteur", has=page.get_by_role("heading", name=name))).to_have_count(0)
