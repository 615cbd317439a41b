"""An attendee registers from their phone, opens the link from the email, and shows their badge
at the door with no network. Screenshots: tests/screenshots/registration-*.png."""
from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from forum_app import mail
from tests.browser.conftest import assert_accessible

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
IN_CACHE = "async (url) => Boolean(await caches.match(url, {ignoreVary: true}))"


def unique_email(name: str) -> str:
    return f"{name}.{uuid.uuid4().hex[:8]}@browser.example"


def private_link(live_server, email: str) -> str:
    """The /e/<slug>/me/<token> link of the last email sent to `email` (the app's memory outbox)."""
    messages = [m for m in mail.memory_outbox(live_server.app) if email in str(m["To"])]
    assert messages, f"no email was sent to {email}"
    body = messages[-1].get_body(preferencelist=("plain", "html")).get_content()
    match = re.search(r"https?://[^\s\"<>]+/e/[^/\s]+/me/[A-Za-z0-9_-]+", body)
    assert match, f"no private link in the email:\n{body}"
    return match.group(0)


def fill_registration(page, live_server, email: str, *, first_name: str = "Maëlle", last_name: str = "Le Goff") -> None:
    page.get_by_label("Prénom").fill(first_name)
    page.locator("#last_name").fill(last_name)  # get_by_label("Nom") would also match "Prénom"
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Organisation").fill("Ville de Saint-Brieuc")
    page.get_by_label("Fonction").fill("Chargée de mission politique de la ville")
    page.get_by_label("Vous venez en tant que").select_option(label="Collectivité")
    page.get_by_label("Territoire").fill("Côtes-d'Armor")
    page.locator(f"#workshop-{live_server.code_of('Atelier 3 —')}").check()
    page.locator("#consent").check()


def test_register_on_a_phone_then_show_the_badge_offline(new_context, live_server, screenshot):
    context = new_context(service_workers="allow")
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    email = unique_email("maelle")

    page.goto(live_server.event_url("register"))
    expect(page.get_by_role("heading", level=1)).to_have_text("S'inscrire au forum")
    screenshot(page, "registration-form")
    fill_registration(page, live_server, email)
    with page.expect_navigation():
        page.get_by_role("button", name="Je m'inscris").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre boîte mail")
    expect(page.get_by_text(email)).to_be_visible()
    assert "/me/" not in page.content()
    screenshot(page, "registration-confirmation")

    link = private_link(live_server, email)
    response = page.goto(link)
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["referrer-policy"] == "no-referrer"
    expect(page.get_by_text("Maëlle Le Goff").first).to_be_visible()
    expect(page.locator(".badge-qr svg")).to_be_visible()
    page.evaluate("async () => Boolean(await navigator.serviceWorker.ready)")
    page.reload()  # now through the service worker, which keeps a copy on the phone
    page.wait_for_function(CONTROLLED)
    page.wait_for_function(IN_CACHE, arg=link, timeout=5_000)
    screenshot(page, "registration-me")

    box = page.locator(".badge-qr svg").bounding_box()
    assert box and box["width"] >= 240, f"the QR code is too small to scan at the door: {box}"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways at 390 px ({width} px)"

    context.set_offline(True)
    page.reload()

    expect(page.locator(".badge-qr svg")).to_be_visible()
    expect(page.get_by_text("Maëlle Le Goff").first).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Hors connexion")).to_be_visible()
    screenshot(page, "registration-me-offline", full_page=False)
    context.set_offline(False)
    assert not [p for p in problems if "net::ERR_INTERNET_DISCONNECTED" not in p], problems


def test_erasing_one_s_data_also_drops_the_copy_kept_on_the_phone(new_context, live_server):
    context = new_context(service_workers="allow")
    page = context.new_page()
    email = unique_email("efface")
    page.goto(live_server.event_url("register"))
    fill_registration(page, live_server, email, first_name="Gwenola")
    with page.expect_navigation():
        page.get_by_role("button", name="Je m'inscris").click()
    link = private_link(live_server, email)
    page.goto(link)
    page.evaluate("async () => Boolean(await navigator.serviceWorker.ready)")
    page.reload()
    page.wait_for_function(CONTROLLED)
    page.wait_for_function(IN_CACHE, arg=link, timeout=5_000)

    page.get_by_role("link", name="Effacer mes données").click()
    expect(page.get_by_text("Attention : c'est définitif.")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Effacer définitivement mes données").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vos données ont été effacées")
    page.wait_for_function("async (url) => !(await caches.match(url, {ignoreVary: true}))", arg=link, timeout=5_000)
    context.set_offline(True)
    page.goto(link)
    expect(page.get_by_text("Gwenola")).to_have_count(0)
    context.set_offline(False)


def test_registration_errors_keep_what_was_typed_and_are_announced(page, live_server, screenshot):
    page.goto(live_server.event_url("register"))
    page.get_by_label("Prénom").fill("Ольга")
    page.get_by_label("Adresse e-mail").fill("pas-une-adresse")
    page.locator(f"#workshop-{live_server.code_of('Atelier 1 —')}").check()
    page.locator(f"#workshop-{live_server.code_of('Atelier 2 —')}").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Je m'inscris").click()

    expect(page.get_by_role("alert")).to_contain_text("Votre saisie n'est pas encore complète")
    expect(page.locator("#last_name-error")).to_have_text(re.compile("Ce champ est obligatoire"))
    expect(page.locator("#email-error")).to_be_visible()
    expect(page.locator("#consent-error")).to_be_visible()
    expect(page.get_by_label("Prénom")).to_have_value("Ольга")
    expect(page.get_by_label("Adresse e-mail")).to_have_value("pas-une-adresse")
    expect(page.locator(f"#workshop-{live_server.code_of('Atelier 2 —')}")).to_be_checked()
    screenshot(page, "registration-errors")


def test_a_double_click_on_submit_registers_once(page, live_server):
    email = unique_email("double")
    page.goto(live_server.event_url("register"))
    fill_registration(page, live_server, email, first_name="Double")
    before = len(mail.memory_outbox(live_server.app))

    with page.expect_navigation():
        page.get_by_role("button", name="Je m'inscris").dblclick()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez votre boîte mail")
    sent = [m for m in mail.memory_outbox(live_server.app)[before:] if email in str(m["To"])]
    assert len(sent) == 1, "the second click was sent too"


def test_change_workshops_on_a_phone(page, live_server, screenshot):
    email = unique_email("ateliers")
    page.goto(live_server.event_url("register"))
    fill_registration(page, live_server, email, first_name="Yannick")
    with page.expect_navigation():
        page.get_by_role("button", name="Je m'inscris").click()
    page.goto(private_link(live_server, email))

    page.get_by_role("link", name="Changer d'ateliers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Changer d'ateliers")
    page.locator(f"#workshop-{live_server.code_of('Atelier 6 —')}").check()
    screenshot(page, "registration-workshops")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer mes ateliers").click()

    expect(page.get_by_text("Vos ateliers ont été enregistrés.")).to_be_visible()
    expect(page.locator(".my-workshops")).to_contain_text("Atelier 6 — Mobiliser les habitants")


def test_register_and_personal_pages_have_no_serious_accessibility_violation(axe, page, live_server, screenshot):
    email = unique_email("axe")
    page.goto(live_server.event_url("register"))
    assert_accessible(axe, page, "register")

    with page.expect_navigation():
        page.get_by_role("button", name="Je m'inscris").click()
    assert_accessible(axe, page, "register with errors")

    fill_registration(page, live_server, email, first_name="Axelle")
    with page.expect_navigation():
        page.get_by_role("button", name="Je m'inscris").click()
    assert_accessible(axe, page, "confirmation")

    link = private_link(live_server, email)
    for path in ("", "/modifier", "/ateliers", "/annuler", "/effacer"):
        page.goto(link + path)
        assert_accessible(axe, page, f"me{path}")
        if path in ("/modifier", "/annuler", "/effacer"):
            screenshot(page, f"registration-me-{path[1:]}")
    page.goto(live_server.event_url("confidentialite"))
    assert_accessible(axe, page, "privacy notice")
    screenshot(page, "registration-privacy")
