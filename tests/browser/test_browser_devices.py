"""Door devices in a real browser (CSRF on): the organiser reaches "Appareils" through the phone menu,
adds a device, copies its token from the page that shows it once, the token works against the API from
outside the browser session, and revoking it from the list stops it. axe on both pages; phone
screenshots devices-added-phone.png and devices-list-phone.png."""
from __future__ import annotations

import json
import re
import secrets
import urllib.error
import urllib.request

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible


def _kit(live_server, token: str) -> tuple[int, dict]:
    """GET the kit as a scanner's own app does: no cookie, no CSRF token, just the bearer header."""
    request = urllib.request.Request(
        f"{live_server.url}/api/v1/e/{live_server.slug}/checkin-kit", headers={"Authorization": f"Bearer {token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)


def test_organiser_adds_a_device_uses_its_token_and_revokes_it(axe, organiser_page, live_server, screenshot):
    page = organiser_page
    name = f"Porte {secrets.token_hex(2)} – douchette"
    page.goto(live_server.event_url("admin/"))
    page.get_by_role("button", name=re.compile("^Menu")).click()
    page.get_by_role("navigation", name="Gestion du programme").get_by_role("link", name="Appareils").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Appareils d'accueil")
    assert_accessible(axe, page, "devices list")

    page.get_by_label("Nom de l'appareil").fill(name)
    page.get_by_role("button", name="Créer le jeton").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Jeton créé pour « {name} »")
    token = page.get_by_label("Jeton de l'appareil").input_value()
    assert re.fullmatch(r"fad_[A-Za-z0-9_-]{43}", token)
    expect(page.get_by_role("button", name="Copier le jeton")).to_be_visible()
    assert_accessible(axe, page, "device token shown once")
    screenshot(page, "devices-added-phone")

    status, kit = _kit(live_server, token)
    assert status == 200 and "roster" in kit

    page.get_by_role("link", name="Retour aux appareils").click()
    card = page.locator(".card", has_text=name)
    expect(card).to_contain_text(token[:8])
    expect(card).to_contain_text("dernière utilisation le")
    assert token not in page.content()
    screenshot(page, "devices-list-phone")
    card.get_by_role("button", name=re.compile("^Révoquer")).click()

    expect(page.get_by_text(f"« {name} » est révoqué")).to_be_visible()
    expect(page.locator(".card", has_text=name)).to_contain_text("Révoqué le")
    status, refused = _kit(live_server, token)
    assert status == 401 and refused["code"] == "invalid_token"
