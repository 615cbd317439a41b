"""The door check-in station without network (issue 4, "Offline"): two real stations in Chromium
lose the network, scan overlapping badges, are reloaded, come back online, and the server ends up
with every scan recorded once and one arrival per person (the earliest scan)."""
from __future__ import annotations

import secrets
from datetime import datetime

import pytest
from playwright.sync_api import expect

from forum_app.auth import services as auth_services
from forum_app.badges import services as badge_services
from forum_app.checkin import services as checkin_services
from forum_app.checkin.models import CheckIn
from forum_app.extensions import db
from forum_app.programme.services import get_event
from forum_app.registration import services as registration_services
from forum_app.registration.services import RegistrationInput
from forum_app.web import asset_url

PASSWORD = "porte-hors-ligne-2019"
KEPT_ON_DEVICE = """async (paths) => {
  for (const path of paths) if (!(await caches.match(path, {ignoreVary: true}))) return false;
  return true;
}"""


def log_in(page, email: str, password: str) -> None:
    page.goto("/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()


def page_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


class Door:
    """One station: its browser context, page and name."""

    def __init__(self, context, page, name: str):
        self.context, self.page, self.name = context, page, name

    @property
    def net(self):
        return self.page.locator("[data-net]")

    def scan(self, badge: str) -> None:
        field = self.page.locator("[data-badge-input]")
        field.fill(badge)
        field.press("Enter")

    def expect_pending(self, count: int, timeout: int = 5_000) -> None:
        expect(self.net).to_have_attribute("data-pending", str(count), timeout=timeout)

    def expect_answer(self, outcome: str, *, offline: bool, name: str | None = None) -> None:
        answer = self.page.locator("[data-answer]")
        if name is not None:
            expect(answer.locator("[data-name]")).to_have_text(name)
        expect(answer).to_have_attribute("data-outcome", outcome)
        if offline:
            expect(answer).to_have_attribute("data-offline", "true")


def register_people(live_server, people: list[tuple[str, str, str]], uid: str):
    """Confirmed registrations (first name, last name, organisation) -> [(id, badge text)]."""
    with live_server.app.app_context():
        event = get_event(live_server.slug)
        inputs = [
            RegistrationInput(
                first_name=first,
                last_name=last,
                email=f"offline-door-{uid}-{number}@example.org",
                organisation=organisation,
                category="association",
                consent=True,
            )
            for number, (first, last, organisation) in enumerate(people, start=1)
        ]
        outcomes = registration_services.register_many(event, inputs, source="import", notify=False)
        assert all(o.registration.status == "confirmed" for o in outcomes)
        made = [(o.registration.id, badge_services.badge_payload(o.registration)) for o in outcomes]
        db.session.remove()
    return made


def make_volunteers(live_server, uid: str, count: int) -> list[str]:
    emails = [f"porte{n}-{uid}@benevoles.example" for n in range(1, count + 1)]
    with live_server.app.app_context():
        event = get_event(live_server.slug)
        for email in emails:
            auth_services.ensure_user(email, PASSWORD, name="Bénévole", event=event, role="volunteer")
        db.session.remove()
    return emails


@pytest.fixture
def door_people(live_server):
    """Ten confirmed registrations (unique to this test) with their badge texts, and two volunteers."""
    uid = secrets.token_hex(4)
    people = register_people(
        live_server, [(f"Personne{n}", f"Horsligne {uid}", "Association des portes") for n in range(1, 11)], uid
    )
    names = {n: f"Personne{n} Horsligne {uid}" for n in range(1, 11)}
    return people, make_volunteers(live_server, uid, 2), names


def open_station(new_context, live_server, email: str, name: str) -> Door:
    context = new_context(service_workers="allow")
    page = context.new_page()
    page.errors = page_errors(page)
    log_in(page, email, PASSWORD)
    page.goto(live_server.event_url("checkin"))
    expect(page.locator("#station")).to_have_attribute("data-ready", "true")
    page.locator("[data-station-name]").fill(name)
    door = Door(context, page, name)
    expect(page.locator("[data-kit]")).to_contain_text("Liste des inscrit")  # the kit is on the device
    expect(door.net).to_have_attribute("data-online", "true")
    # The page and the modules it imports are kept by the service worker (asked by the engine).
    with live_server.app.test_request_context():  # the modules of this release: /static/r/<digest>/...
        modules = [asset_url(name) for name in ("js/checkin/badge.js", "js/checkin/store.js", "js/net/retry.js", "vendor/noble-ed25519.js")]
    paths = [f"/e/{live_server.slug}/checkin", *modules]
    page.wait_for_function(KEPT_ON_DEVICE, arg=paths, timeout=10_000)
    return door


def rows_of(live_server, registration_ids) -> list[CheckIn]:
    with live_server.app.app_context():
        rows = list(
            db.session.scalars(
                db.select(CheckIn).where(CheckIn.registration_id.in_(registration_ids)).order_by(CheckIn.id)
            )
        )
        db.session.expunge_all()
        db.session.remove()
    return rows


def test_two_offline_stations_sync_to_one_arrival_per_person(new_context, live_server, door_people, screenshot):
    people, volunteers, names = door_people
    ids = [rid for rid, _ in people]
    badge = {n: text for n, (_, text) in enumerate(people, start=1)}
    one = open_station(new_context, live_server, volunteers[0], "Porte 1")
    two = open_station(new_context, live_server, volunteers[1], "Porte 2")
    queued = {one: 0, two: 0}

    def scan(door: Door, number: int, outcome: str) -> None:
        door.scan(badge[number])
        queued[door] += 1
        door.expect_pending(queued[door])  # stored on the device before the answer shows
        door.expect_answer(outcome, offline=True, name=names[number])

    one.context.set_offline(True)
    two.context.set_offline(True)
    expect(one.net).to_have_attribute("data-online", "false")

    # Overlapping scans, in this order of time: persons 4 and 5 reach door 1 first, 6 and 7 door 2.
    for number in (1, 2, 3, 4, 5):
        scan(one, number, "checked_in")
    scan(one, 5, "already_checked_in")  # twice on the same device: this device knows
    expect(one.page.locator("[data-answer] [data-title]")).to_contain_text("Porte 1")
    for number in (6, 7):
        scan(two, number, "checked_in")
    for number in (6, 7):
        scan(one, number, "checked_in")  # door 1 cannot know door 2 saw them
    for number in (4, 5, 8, 9, 10):
        scan(two, number, "checked_in")
    assert queued == {one: 8, two: 7}

    # A reload without network: the page comes from the device, the queue from IndexedDB.
    for door, pending in ((one, 8), (two, 7)):
        door.page.reload()
        expect(door.page.locator("#station")).to_have_attribute("data-ready", "true")
        door.expect_pending(pending)
        expect(door.net).to_have_attribute("data-online", "false")
        expect(door.net).to_contain_text(f"Hors connexion · {pending} passages en attente d'envoi")
        expect(door.page.locator("[data-station-name]")).to_have_value(door.name)
        # Served by the service worker from the device (it marks pages it serves that way).
        expect(door.page.locator("[data-offline-notice][data-cached]")).to_have_count(1)
    one.page.locator("[data-net]").scroll_into_view_if_needed()
    screenshot(one.page, "checkin-offline-queue", full_page=False)
    # Still deciding on the device after the reload: person 6 arrived here before the reload.
    scan(one, 6, "already_checked_in")
    screenshot(one.page, "checkin-offline-answer", full_page=False)

    # Back online, door 2 first: its later scans reach the server before door 1's earlier ones.
    two.context.set_offline(False)
    two.expect_pending(0, timeout=15_000)
    expect(two.net).to_have_attribute("data-online", "true")
    one.context.set_offline(False)
    one.expect_pending(0, timeout=15_000)
    expect(one.net).to_contain_text("En ligne · tout est envoyé")

    rows = rows_of(live_server, ids)
    assert len(rows) == 9 + 7  # every scan, once
    assert len({row.client_id for row in rows}) == len(rows)
    assert sorted(row.station for row in rows) == ["Porte 1"] * 9 + ["Porte 2"] * 7
    assert not any(row.clock_suspect for row in rows)
    by_person = {rid: [row for row in rows if row.registration_id == rid] for rid in ids}
    for rid, scans in by_person.items():
        outcomes = sorted((row.outcome for row in scans), reverse=True)
        assert outcomes == ["checked_in"] + ["already_checked_in"] * (len(scans) - 1), (rid, outcomes)

    with live_server.app.app_context():
        arrivals = checkin_services.arrivals(get_event(live_server.slug))
        db.session.remove()
    mine = {rid: arrivals[rid] for rid in ids if rid in arrivals}
    assert len(mine) == 10  # one counted arrival per person
    expected_door = {1: "Porte 1", 2: "Porte 1", 3: "Porte 1", 4: "Porte 1", 5: "Porte 1",
                     6: "Porte 2", 7: "Porte 2", 8: "Porte 2", 9: "Porte 2", 10: "Porte 2"}
    for number, rid in enumerate(ids, start=1):
        earliest = min(by_person[rid], key=lambda row: row.scanned_at)
        assert mine[rid].station == expected_door[number], number
        assert mine[rid].scanned_at == earliest.scanned_at, number
        assert isinstance(mine[rid].scanned_at, datetime)

    # After the sync, the search by name still shows who arrived (now from the refreshed kit).
    two.page.locator("[data-search]").fill(names[6])
    expect(two.page.locator("[data-results] li")).to_have_count(1)
    expect(two.page.locator("[data-results] [data-arrived]")).to_be_visible()
    for door in (one, two):
        assert not door.page.errors


def rows_for(live_server, registration_id: int) -> list[CheckIn]:
    return rows_of(live_server, [registration_id])


def test_answer_lost_on_the_way_is_sent_again_and_recorded_once(new_context, live_server):
    """The server records the scan but its answer never comes back (the Wi-Fi drops): the station
    decides on the device after its timeout, queues the scan, and the retry with the same client
    id gets the recorded answer instead of a second row."""
    uid = secrets.token_hex(4)
    [(rid, badge)] = register_people(live_server, [("Perdue", f"Réponse {uid}", "Wi-Fi du lieu")], uid)
    [email] = make_volunteers(live_server, uid, 1)
    door = open_station(new_context, live_server, email, "Porte perdue")
    held = []

    def reach_server_then_hang(route):
        route.fetch()  # the server records the scan...
        held.append(route)  # ...and the answer never reaches the station

    door.page.route("**/api/v1/e/*/checkins", reach_server_then_hang, times=1)
    door.scan(badge)

    door.expect_answer("checked_in", offline=True)
    assert len(held) == 1
    door.expect_pending(0, timeout=15_000)  # the retry got the recorded answer
    rows = rows_for(live_server, rid)
    assert [(row.outcome, row.station) for row in rows] == [("checked_in", "Porte perdue")]

    door.scan(badge)  # online again: the server's own answer
    door.expect_answer("already_checked_in", offline=False)
    expect(door.page.locator("[data-answer]")).not_to_have_attribute("data-offline", "true")
    assert len(rows_for(live_server, rid)) == 2


def test_signed_out_station_keeps_its_queue_until_logged_in_again(new_context, live_server):
    uid = secrets.token_hex(4)
    [(rid, badge)] = register_people(live_server, [("Session", f"Expirée {uid}", "Mairie")], uid)
    [email] = make_volunteers(live_server, uid, 1)
    door = open_station(new_context, live_server, email, "Porte 3")
    door.context.clear_cookies()  # the session ended (expired, or logged out elsewhere)

    door.scan(badge)

    door.expect_answer("checked_in", offline=True)  # decided here, kept for later
    door.expect_pending(1)
    expect(door.net).to_contain_text("Session expirée")
    expect(door.page.locator("[data-net-login]")).to_be_visible()
    assert rows_for(live_server, rid) == []

    other_tab = door.context.new_page()
    log_in(other_tab, email, PASSWORD)
    door.expect_pending(0, timeout=20_000)  # the station took the new session's token and sent it
    expect(door.page.locator("[data-net-login]")).to_be_hidden()
    assert [row.outcome for row in rows_for(live_server, rid)] == ["checked_in"]


def test_offline_search_by_name_ignores_accents_and_checks_in_with_one_tap(new_context, live_server):
    uid = secrets.token_hex(4)
    [(rid, _)] = register_people(live_server, [("Éloïse", f"Lefèvre-Dœuvre {uid}", "Maison de l'Économie")], uid)
    [email] = make_volunteers(live_server, uid, 1)
    door = open_station(new_context, live_server, email, "Accueil")
    door.context.set_offline(True)
    search = door.page.locator("[data-search]")
    results = door.page.locator("[data-results] li")

    search.fill(f"ECONOMIE doeuvre {uid}")
    expect(results).to_have_count(1)
    search.fill(f"eloise lefevre {uid}")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text(f"Éloïse Lefèvre-Dœuvre {uid}")
    results.first.get_by_role("button").click()

    door.expect_answer("checked_in", offline=True)
    door.expect_pending(1)
    search.fill(f"eloise {uid}")
    expect(results.first.locator("[data-arrived]")).to_be_visible()  # this device knows she arrived
    door.context.set_offline(False)
    door.expect_pending(0, timeout=15_000)
    assert [(row.outcome, row.station) for row in rows_for(live_server, rid)] == [("checked_in", "Accueil")]


def test_engine_returns_bad_input_answers_without_queueing_them(new_context, live_server):
    """400/422 answers are the server's last word: shown as they are, never queued nor resent."""
    uid = secrets.token_hex(4)
    [(rid, badge)] = register_people(live_server, [("Mauvaise", f"Porte {uid}", "Test")], uid)
    [email] = make_volunteers(live_server, uid, 1)
    door = open_station(new_context, live_server, email, "Porte 4")

    answer = door.page.evaluate(
        """async ({badge}) => {
          const root = document.getElementById('station');
          const engine = await import(root.dataset.engineUrl);
          const station = await engine.createStation({
            slug: root.dataset.slug, apiBase: root.dataset.apiBase, csrfToken: root.dataset.csrfToken,
            stationName: 'Porte 4', session: 'NO-SUCH-DOOR', role: 'volunteer', userId: null,
          });
          const answer = await station.scan(badge);
          const status = station.status();
          station.close();
          return {answer, pending: status.pending};
        }""",
        {"badge": badge},
    )

    assert answer["answer"]["error"] == 422 and answer["answer"]["field"] == "session"
    assert answer["answer"]["offline"] is False and "outcome" not in answer["answer"]
    assert answer["pending"] == 0
    door.expect_pending(0)
    assert rows_for(live_server, rid) == []


def test_two_tabs_of_one_station_share_one_queue(new_context, live_server):
    """Two tabs on one phone: one queue in IndexedDB, both show its length, each scan sent once."""
    uid = secrets.token_hex(4)
    people = register_people(live_server, [(f"Onglet{n}", f"Partagé {uid}", "Test") for n in (1, 2, 3)], uid)
    [email] = make_volunteers(live_server, uid, 1)
    first = open_station(new_context, live_server, email, "Porte onglets")
    second_page = first.context.new_page()
    second_page.goto(live_server.event_url("checkin"))
    expect(second_page.locator("#station")).to_have_attribute("data-ready", "true")
    second = Door(first.context, second_page, "Porte onglets")
    first.context.set_offline(True)

    first.scan(people[0][1])
    first.expect_pending(1)
    second.expect_pending(1)  # told by the other tab
    second.scan(people[1][1])
    second.scan(people[0][1])  # arrived through the other tab: this tab knows it too
    second.expect_answer("already_checked_in", offline=True)
    first.expect_pending(3)
    second.expect_pending(3)

    first.context.set_offline(False)
    first.expect_pending(0, timeout=15_000)
    second.expect_pending(0, timeout=15_000)
    rows = rows_of(live_server, [rid for rid, _ in people])
    assert sorted(row.outcome for row in rows) == ["already_checked_in", "checked_in", "checked_in"]
    assert len({row.client_id for row in rows}) == 3
