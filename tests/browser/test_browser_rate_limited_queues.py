"""The offline queues under the API's rate limit, in a real Chromium: a scan or a note answered
`429 Too Many Requests` with `Retry-After` stays queued on the device, is sent again once that
delay has passed (never sooner), and reaches the server exactly once."""
from __future__ import annotations

import itertools
import json
import time

from playwright.sync_api import expect

import tests.browser.test_browser_checkin_station as station_tests
import tests.browser.test_browser_notes as notes_tests

RETRY_AFTER_S = 3  # longer than the queues' first back-off (2 s): the wait is the server's
RATE_LIMITED = json.dumps({
    "error": 429,
    "code": "rate_limited",
    "message": "Trop de requêtes en peu de temps : patientez quelques secondes avant de réessayer.",
})


class TwoRefusals:
    """Answers the first two POSTs itself (429 + Retry-After), lets the rest through; notes when."""

    def __init__(self):
        self.posts: list[tuple[float, dict]] = []

    def __call__(self, route):
        request = route.request
        if request.method != "POST":
            route.continue_()
            return
        self.posts.append((time.monotonic(), request.post_data_json or {}))
        if len(self.posts) <= 2:
            route.fulfill(status=429, headers={"Retry-After": str(RETRY_AFTER_S), "Content-Type": "application/json"},
                          body=RATE_LIMITED)
        else:
            route.continue_()

    def gaps(self) -> list[float]:
        times = [moment for moment, _ in self.posts]
        return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_station_scan_refused_with_429_waits_retry_after_and_is_recorded_once(new_context, live_server):
    door = station_tests.Door(live_server)
    person = door.person("Lucie", "Patiente", organisation="Ville de Tourcoing")
    refusals = TwoRefusals()
    page = station_tests.open_station(new_context, live_server, door.staff("volunteer"), service_workers="block")
    page.route(f"**/api/v1/e/{live_server.slug}/checkins", refusals)

    station_tests.handheld(page, person["badge"])

    station_tests.answer(page, "checked_in")  # decided on the device meanwhile
    deadline = time.monotonic() + 30
    while door.outcomes(person) != ["checked_in"] and time.monotonic() < deadline:
        page.wait_for_timeout(250)  # not time.sleep: Playwright answers the routed requests while it waits
    assert door.outcomes(person) == ["checked_in"]
    expect(page.locator("[data-net]")).to_have_attribute("data-pending", "0")
    assert len(refusals.posts) == 3
    assert len({body["client_id"] for _, body in refusals.posts}) == 1  # the same scan each time
    assert all(gap >= RETRY_AFTER_S - 0.1 for gap in refusals.gaps()), refusals.gaps()
    assert not page.problems or all("429" in problem for problem in page.problems), page.problems


def test_note_refused_with_429_waits_retry_after_and_is_saved_once(new_context, live_server):
    code, (email,) = notes_tests.make_rapporteurs(live_server, "Club dev éco")
    context = new_context(service_workers="block")  # so that the API calls can be answered on their way
    page = context.new_page()
    notes_tests.log_in(page, email, notes_tests.PASSWORD)
    refusals = TwoRefusals()
    page.route(f"**/api/v1/e/{live_server.slug}/s/{code}/notes", refusals)
    capture = notes_tests.Capture(context, page, code)
    page.goto(live_server.event_url(f"notes/{code}"))
    capture.wait_ready()

    capture.add("Un point noté pendant la limite de débit.")

    expect(capture.item("pendant la limite")).to_have_attribute("data-pending", "false", timeout=notes_tests.SYNC_TIMEOUT_MS)
    capture.expect_pending(0)
    expect(page.locator(".item-error")).to_have_count(0)  # a 429 is not a refusal of the item
    assert [item.text for item in notes_tests.items_of(live_server, email)] == ["Un point noté pendant la limite de débit."]
    assert len(refusals.posts) == 3
    assert all(gap >= RETRY_AFTER_S - 0.1 for gap in refusals.gaps()), refusals.gaps()
    assert not capture.errors
