"""axe-core on the pages attendees and organisers use: no serious or critical violation."""
from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible


@pytest.mark.parametrize(
    "path",
    ["?kind=workshop&q=quartiers", "?day=2019-06-07&lang=en", "mon-programme", "s/{Atelier 1 —}", "s/{Table ronde — Quel}"],
    ids=["filtered", "second-day-en", "my-programme", "workshop", "round-table"],
)
def test_public_pages_have_no_serious_accessibility_violation(axe, page, live_server, path):
    if path.startswith("s/{"):
        path = "s/" + live_server.code_of(path[3:-1])
    page.goto(live_server.event_url(path))
    page.wait_for_load_state("networkidle")  # stars and "Mon programme" drawn by agenda.js

    assert_accessible(axe, page, path)


def test_programme_with_filters_open_and_a_starred_session_is_accessible(axe, page, live_server):
    page.goto(live_server.event_url())
    page.get_by_role("button", name="Mon programme : Ouverture du forum").click()
    page.get_by_text("Filtrer par parcours, format ou salle").click()

    assert_accessible(axe, page, "programme, filters open")


def test_login_page_has_no_serious_accessibility_violation(axe, page, live_server):
    page.goto(f"{live_server.url}/login")

    assert_accessible(axe, page, "login")


def test_login_error_is_accessible(axe, page, live_server):
    page.goto(f"{live_server.url}/login")
    page.locator("input[name=email]").fill(live_server.organiser_email)
    page.locator("input[name=password]").fill("not-the-password")
    page.locator("form:has(input[name=password]) [type=submit]").first.click()
    page.wait_for_load_state()

    assert_accessible(axe, page, "login with an error")


def test_admin_dashboard_has_no_serious_accessibility_violation(axe, organiser_page, live_server):
    page = organiser_page
    page.goto(live_server.event_url("admin/"))

    assert page.url.endswith("/admin/"), f"the organiser did not reach the dashboard: {page.url}"
    assert_accessible(axe, page, "admin dashboard")
