""""Server busy" is not "offline", in a real Chromium: when the API answers 503 (database busy) or
429 (rate limited) with Retry-After, the door station and the rapporteur's capture page say
"Serveur occupé · nouvel essai dans N s" (orange, a countdown) instead of "Hors connexion", keep
what was taken meanwhile on the device, send it once when the server answers again, and then say
"En ligne". A real network failure still says "Hors connexion".

Screenshots: tests/screenshots/station-busy-phone.png, notes-busy-phone.png (390×844).
"""
from __future__ import annotations

import json
import re

from playwright.sync_api import expect

import tests.browser.test_browser_checkin_station as station_tests
import tests.browser.test_browser_notes as notes_tests
from tests.browser.conftest import assert_accessible

RETRY_AFTER_S = 3
SYNC_TIMEOUT_MS = 30_000  # Retry-After and the queues' back-off (2 s, 4 s, 8 s...) once the server is free
BUSY_LINE = re.compile(r"Serveur occupé · nouvel essai (dans \d+\s+s|en cours) · ")
BUSY_503 = json.dumps({
    "error": 503,
    "code": "busy",
    "message": "Le serveur est très sollicité en ce moment : rien n'a été enregistré, réessayez dans quelques secondes.",
})
RATE_LIMITED_429 = json.dumps({
    "error": 429,
    "code": "rate_limited",
    "message": "Trop de requêtes en peu de temps : patientez quelques secondes avant de réessayer.",
})


class Server:
    """Stands in front of some API URLs: "busy" answers them itself (503 or 429 + Retry-After),
    "down" fails them like a lost network, "free" lets them through. Notes what was POSTed."""

    def __init__(self, status: int, body: str, *, posts_only: bool = False):
        self.status, self.body, self.posts_only = status, body, posts_only
        self.mode = "busy"
        self.posts: list[dict] = []
        self.refused = 0

    def __call__(self, route):
        request = route.request
        if request.method == "POST":
            self.posts.append(request.post_data_json or {})
        if self.mode == "down":
            route.abort("internetdisconnected")
        elif self.mode == "busy" and (request.method == "POST" or not self.posts_only):
            self.refused += 1
            route.fulfill(status=self.status, body=self.body,
                          headers={"Retry-After": str(RETRY_AFTER_S), "Content-Type": "application/json"})
        else:
            route.continue_()


def wait_until(page, condition, timeout_s: float = 20) -> None:
    """Wait in the page (not time.sleep: Playwright answers the routed requests while it waits)."""
    for _ in range(int(timeout_s * 4)):
        if condition():
            return
        page.wait_for_timeout(250)
    assert condition()


def expect_countdown_ticks(net) -> None:
    """The seconds go down while the server makes us wait (one timer, each second)."""
    expect(net).to_contain_text(re.compile(r"nouvel essai dans \d+\s+s"), timeout=10_000)
    shown = net.text_content()
    expect(net).not_to_have_text(shown, timeout=2_500)


def test_station_answered_503_says_server_busy_then_sends_the_scan_once_and_is_online(new_context, live_server, screenshot, axe):
    door = station_tests.Door(live_server)
    person = door.person("Bastien", "Encombré", organisation="Métropole de Lille")
    page = station_tests.open_station(new_context, live_server, door.staff("volunteer"), service_workers="block")
    server = Server(503, BUSY_503)
    page.route(f"**/api/v1/e/{live_server.slug}/checkin-kit", server)
    page.route(f"**/api/v1/e/{live_server.slug}/checkins", server)
    net = page.locator("[data-net]")

    page.reload()  # the kit's request gets the 503
    expect(page.locator("#station")).to_have_attribute("data-ready", "true")
    expect(net).to_have_attribute("data-busy", "true")
    station_tests.handheld(page, person["badge"])

    station_tests.answer(page, "checked_in")  # decided on the device meanwhile
    expect(net).to_contain_text(BUSY_LINE)
    expect(net).to_contain_text("1 passage en attente d'envoi")
    expect(net).not_to_contain_text("Hors connexion")
    expect(net).to_have_class(re.compile(r"\bnet-busy\b"))
    expect_countdown_ticks(net)
    page.locator("[data-answer]").click()  # "Touchez l'écran pour passer au badge suivant"
    expect(page.locator("[data-answer]")).to_have_count(0)
    expect(net).to_have_attribute("data-busy", "true")
    screenshot(page, "station-busy-phone", full_page=False)
    assert_accessible(axe, page, "the station, server busy")
    wait_until(page, lambda: server.posts)  # the queued scan is sent again after Retry-After: 503 again
    expect(net).to_contain_text(BUSY_LINE)
    expect(net).not_to_contain_text("Hors connexion")
    assert door.outcomes(person) == []

    server.mode = "free"
    expect(net).to_have_attribute("data-pending", "0", timeout=SYNC_TIMEOUT_MS)
    expect(net).to_contain_text("En ligne · tout est envoyé")
    expect(net).to_have_attribute("data-busy", "false")
    expect(net).to_have_class(re.compile(r"\bnet-online\b"))
    assert door.outcomes(person) == ["checked_in"]
    assert server.refused >= 2  # the kit and the scan were both answered 503
    assert len(server.posts) >= 2  # the scan: refused, then recorded
    assert len({body["client_id"] for body in server.posts}) == 1  # the same scan each time
    assert all("503" in problem for problem in page.problems), page.problems


def test_station_network_failure_still_says_offline(new_context, live_server):
    door = station_tests.Door(live_server)
    person = door.person("Noémie", "Débranchée", organisation="Ville de Roubaix")
    page = station_tests.open_station(new_context, live_server, door.staff("volunteer"), service_workers="block")
    server = Server(503, BUSY_503)
    server.mode = "down"
    page.route(f"**/api/v1/e/{live_server.slug}/checkin-kit", server)
    page.route(f"**/api/v1/e/{live_server.slug}/checkins", server)
    net = page.locator("[data-net]")

    station_tests.handheld(page, person["badge"])

    station_tests.answer(page, "checked_in")
    expect(net).to_contain_text("Hors connexion · 1 passage en attente d'envoi")
    expect(net).to_have_attribute("data-busy", "false")
    expect(net).to_have_class(re.compile(r"\bnet-offline\b"))
    server.mode = "free"
    expect(net).to_have_attribute("data-pending", "0", timeout=SYNC_TIMEOUT_MS)
    expect(net).to_contain_text("En ligne · tout est envoyé")
    assert door.outcomes(person) == ["checked_in"]


def test_notes_answered_429_say_server_busy_offline_when_the_network_fails_then_saved_once(new_context, live_server, screenshot):
    code, (email,) = notes_tests.make_rapporteurs(live_server, "Club dev éco")
    context = new_context(service_workers="block")  # so that the API calls can be answered on their way
    page = context.new_page()
    notes_tests.log_in(page, email, notes_tests.PASSWORD)
    server = Server(429, RATE_LIMITED_429, posts_only=True)  # the feed still answers: only sending is limited
    page.route(re.compile(rf".*/api/v1/e/{re.escape(live_server.slug)}/s/{re.escape(code)}/notes(\?.*)?$"), server)
    capture = notes_tests.Capture(context, page, code)
    page.goto(live_server.event_url(f"notes/{code}"))
    capture.wait_ready()
    text = "Un point noté pendant que le serveur demande d'attendre."

    capture.add(text)

    net = capture.net
    expect(net).to_have_attribute("data-busy", "true")
    expect(net).to_contain_text(BUSY_LINE)
    expect(net).to_contain_text("1 élément en attente d'envoi")
    expect(net).not_to_contain_text("Hors connexion")
    expect(net).to_have_class(re.compile(r"\bnet-busy\b"))
    expect_countdown_ticks(net)
    expect(page.locator(".item-error")).to_have_count(0)  # a 429 is not a refusal of the item
    net.scroll_into_view_if_needed()
    screenshot(page, "notes-busy-phone", full_page=False)
    assert notes_tests.items_of(live_server, email) == []

    server.mode = "down"  # the network itself fails now: that is "offline"
    expect(net).to_contain_text("Hors connexion · 1 élément en attente d'envoi", timeout=SYNC_TIMEOUT_MS)
    expect(net).to_have_attribute("data-busy", "false")

    server.mode = "free"
    capture.expect_pending(0, timeout=SYNC_TIMEOUT_MS)
    expect(net).to_contain_text("En ligne · tout est envoyé")
    expect(net).to_have_attribute("data-busy", "false")
    expect(capture.item("pendant que le serveur")).to_have_attribute("data-pending", "false")
    assert [item.text for item in notes_tests.items_of(live_server, email)] == [text]
    assert len({body["client_id"] for body in server.posts}) == 1  # the same note each time
    assert not capture.errors
