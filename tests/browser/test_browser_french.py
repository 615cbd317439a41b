"""French first: labels, dates and times the French way; English on request."""
from __future__ import annotations

import re

from playwright.sync_api import expect


def test_programme_speaks_french(page, live_server):
    page.goto(live_server.event_url())

    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page).to_have_title(re.compile("jeudi 6 juin"))
    expect(page.locator(".day-tabs [aria-current=page]")).to_have_text("jeu. 6 juin")
    expect(page.get_by_role("heading", name="11 h 30", exact=False).first).to_be_visible()
    expect(page.locator("article").get_by_text("Atelier", exact=True).first).to_be_visible()
    expect(page.locator("article").get_by_text("Table ronde", exact=True).first).to_be_visible()
    workshop = page.locator("article", has=page.get_by_role("link", name="Atelier 1 —"))
    expect(workshop).to_contain_text("11 h 30 – 13 h 00 · Salle Vilaine")


def test_session_page_shows_the_day_and_times_in_french(page, live_server):
    page.goto(live_server.event_url(f"s/{live_server.code_of('Atelier 1 —')}"))

    expect(page.get_by_role("link", name="Programme du jeudi 6 juin")).to_be_visible()
    facts = page.locator("dl")
    expect(facts).to_contain_text("jeudi 6 juin")
    expect(facts).to_contain_text("11 h 30 – 13 h 00")
    expect(facts).to_contain_text("1 h 30")


def test_lang_en_switches_the_page_language_and_is_remembered(page, live_server):
    page.goto(live_server.event_url("?lang=en"))

    expect(page.locator("html")).to_have_attribute("lang", "en")
    workshop = page.locator("article", has=page.get_by_role("link", name="Atelier 1 —"))
    expect(workshop).to_contain_text("11:30")

    page.goto(live_server.event_url(f"s/{live_server.code_of('Atelier 1 —')}"))
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("link", name="FR").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("dl")).to_contain_text("11 h 30")
