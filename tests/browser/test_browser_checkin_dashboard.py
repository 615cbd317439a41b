"""The organisers' arrivals dashboard and audit trail in a real browser: layout at phone and laptop
widths, accessibility (axe), the live refresh by polling, and an undo through the real form (CSRF on)."""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from forum_app.badges import services as badge_services
from forum_app.checkin import services as checkin_services
from forum_app.extensions import db
from forum_app.programme.services import get_event
from forum_app.registration import services as registration_services
from forum_app.registration.services import RegistrationInput
from tests.browser.conftest import assert_accessible

NOW = "2019-06-06T09:35:00+02:00"  # the server's clock during these tests: the forum's first morning
LAPTOP = {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False, "device_scale_factor": 1}
CATEGORIES = ("collectivite", "elu", "association", "entreprise", "etat")
TERRITORIES = ("Roubaix", "Marseille", "Lille", "", "Clichy-sous-Bois")


def _at(hour: int, minute: int) -> str:
    return datetime(2019, 6, 6, hour - 2, minute, tzinfo=UTC).isoformat()


class DashboardData:
    """Forty people of this test (unique emails), thirty of them scanned between 8 h 30 and 9 h 30."""

    def __init__(self, live_server):
        self.live_server = live_server
        self.uid = secrets.token_hex(3)
        self.scans = iter(range(10**6))
        with live_server.app.app_context():
            event = get_event(live_server.slug)
            nord = registration_services.create_delegation(event, f"Délégation Hauts-de-France {self.uid}", territory="Hauts-de-France")
            sud = registration_services.create_delegation(event, f"Délégation Marseille {self.uid}", territory="Provence")
            a1, a2 = live_server.code_of("Atelier 1 —"), live_server.code_of("Atelier 2 —")
            inputs = [
                RegistrationInput(
                    first_name=f"Prénom{n}", last_name=f"Tableau {self.uid} {n:02d}",
                    email=f"dashboard-{self.uid}-{n}@example.org", organisation=f"Structure {n % 7}",
                    category=CATEGORIES[n % len(CATEGORIES)], territory=TERRITORIES[n % len(TERRITORIES)],
                    delegation_id=(nord.id if n % 3 == 0 else sud.id if n % 3 == 1 else None),
                    workshop_codes=[a1] if n % 4 == 0 else [a2] if n % 4 == 1 else [], consent=True,
                )
                for n in range(40)
            ]
            outcomes = registration_services.register_many(event, inputs, source="import", notify=False)
            self.badges = [badge_services.badge_payload(o.registration) for o in outcomes]
            db.session.remove()

    def scan(self, n_or_badge, scanned_at: str, station: str = "porte 1", session: str | None = None) -> dict:
        badge = self.badges[n_or_badge] if isinstance(n_or_badge, int) else n_or_badge
        with self.live_server.app.app_context():
            event = get_event(self.live_server.slug)
            answer = checkin_services.check_in(
                event, badge=badge, client_id=f"dash-{self.uid}-{next(self.scans):05d}", station=station,
                scanned_at=scanned_at, session_code=session,
            ).answer
            db.session.remove()
        return answer

    def morning(self) -> None:
        # A rush before the opening plenary, two doors.
        offsets = [0, 4, 9, 12, 14, 17, 19, 21, 22, 24, 25, 26, 27, 28, 29, 31, 33, 34, 36, 38, 41, 44, 47, 49, 52, 55, 58, 61, 63, 64]
        start = datetime(2019, 6, 6, 6, 30, tzinfo=UTC)
        for n, offset in enumerate(offsets):
            self.scan(n, (start + timedelta(minutes=offset)).isoformat(), station="porte 1" if n % 2 else "porte 2")
        self.scan(3, _at(9, 15), station="porte 2")  # scanned again at the other door
        self.scan(5, _at(9, 16), station="porte 1")  # and again at the same one
        self.scan("FA:pas-un-badge", _at(9, 2), station="porte 2")
        self.scan(0, _at(9, 30), station="atelier", session=self.live_server.code_of("Atelier 1 —"))


@contextmanager
def fast_polling(live_server, seconds: float = 1):
    previous = live_server.app.config.get("CHECKIN_LIVE_POLL_SECONDS")
    live_server.app.config["CHECKIN_LIVE_POLL_SECONDS"] = seconds
    try:
        yield
    finally:
        if previous is None:
            live_server.app.config.pop("CHECKIN_LIVE_POLL_SECONDS", None)
        else:
            live_server.app.config["CHECKIN_LIVE_POLL_SECONDS"] = previous


@pytest.fixture(scope="module")
def morning(live_server):
    with live_server.frozen_clock(NOW), fast_polling(live_server):
        data = DashboardData(live_server)
        data.morning()
        yield data


def organiser(new_context, live_server, **overrides):
    page = new_context(**overrides).new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(f"pageerror: {error}"))
    page.on("console", lambda message: message.type == "error" and page.errors.append(f"console: {message.text}"))
    page.goto("/login")
    page.locator("input[name=email]").fill(live_server.organiser_email)
    page.locator("input[name=password]").fill(live_server.organiser_password)
    with page.expect_navigation():
        page.locator("form:has(input[name=password]) [type=submit]").first.click()
    return page


def test_dashboard_at_laptop_width_is_readable_and_accessible(morning, new_context, live_server, axe, screenshot):
    page = organiser(new_context, live_server, **LAPTOP)

    page.goto(live_server.event_url("admin/arrivals"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Arrivées")
    chart = page.locator("svg.chart-svg")
    expect(chart).to_have_attribute("role", "img")
    assert "Pic :" in chart.get_attribute("aria-label")
    box = chart.bounding_box()
    assert box["width"] > 1000, box  # the chart fills the laptop's width
    expect(page.locator(".admin-nav a[aria-current=page]")).to_have_text("Arrivées")
    screenshot(page, "checkin-dashboard-laptop")
    assert_accessible(axe, page, "arrivals dashboard (laptop)")
    page.get_by_role("link", name="Journal des passages et corrections").click()
    expect(page.locator("#audit")).to_be_visible()
    screenshot(page, "checkin-audit-laptop")
    assert_accessible(axe, page, "audit trail (laptop)")
    assert page.errors == []


def test_dashboard_at_phone_width_fits_and_is_accessible(morning, new_context, live_server, axe, screenshot):
    page = organiser(new_context, live_server)

    page.goto(live_server.event_url("admin/arrivals"))

    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways at phone width: {widths}"
    figures = page.locator(".big-figure")
    expect(figures).to_have_count(3)
    tops = [figures.nth(i).bounding_box()["y"] for i in range(3)]
    assert max(tops) - min(tops) < 2, "the three big figures sit side by side"
    screenshot(page, "checkin-dashboard-phone")
    assert_accessible(axe, page, "arrivals dashboard (phone)")
    assert page.errors == []


def test_a_new_arrival_shows_up_by_itself_keeping_focus(morning, new_context, live_server):
    page = organiser(new_context, live_server)
    page.goto(live_server.event_url("admin/arrivals"))
    arrived = page.locator("#figure-arrived")
    before = int(arrived.inner_text().replace("\u202f", "").replace("\xa0", ""))
    page.locator("#figure-duplicates").focus()
    page.evaluate("() => window.scrollTo(0, 300)")
    scroll = page.evaluate("() => window.scrollY")

    answer = morning.scan(35, _at(9, 34), station="porte 2")

    assert answer["outcome"] == "checked_in"
    expect(arrived).to_have_text(str(before + 1), timeout=5_000)
    expect(page.locator("[data-live-announce]")).to_have_text("Mis à jour à 9 h 35")
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "figure-duplicates"
    assert page.evaluate("() => window.scrollY") == scroll
    assert page.errors == []


def test_nothing_is_redrawn_while_nothing_changes(morning, new_context, live_server):
    page = organiser(new_context, live_server)
    answers: list[int] = []
    page.on("response", lambda r: "/admin/arrivals/live" in r.url and answers.append(r.status))
    page.goto(live_server.event_url("admin/arrivals"))

    page.wait_for_timeout(2_500)  # two or three polls

    assert answers and set(answers) == {304}, answers


def test_audit_trail_at_phone_width_undoes_an_arrival(morning, new_context, live_server, axe, screenshot):
    page = organiser(new_context, live_server)
    page.goto(live_server.event_url(f"admin/checkins?q={morning.uid}"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Journal des passages")
    assert_accessible(axe, page, "audit trail (phone)")
    screenshot(page, "checkin-audit-phone")
    row = page.locator("#audit tbody tr").filter(has_text=f"Tableau {morning.uid} 29").first
    row.get_by_role("button", name="Annuler l'entrée").click()

    expect(page.locator(".flash-success")).to_contain_text(f"Prénom29 Tableau {morning.uid} 29 annulée")
    expect(page.locator("#audit tbody tr").filter(has_text=f"Tableau {morning.uid} 29").first).to_contain_text("Annulée par")
    assert page.url.endswith(f"admin/checkins?q={morning.uid}")
    assert page.errors == []
