"""A session page, and the personal agenda kept on the phone ("Mon programme")."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect


def role_group(page, heading: str):
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=True))


def test_session_page_groups_people_by_role(page, live_server, screenshot):
    code = live_server.code_of("Table ronde — Quel avenir")
    page.goto(live_server.event_url(f"s/{code}"))
    screenshot(page, "session-round-table")

    expect(page.get_by_role("heading", level=1)).to_have_text("Table ronde — Quel avenir économique pour les quartiers prioritaires ?")
    speakers = role_group(page, "Intervenant·e·s")
    for name in ("Jamal Khay", "Claire Roussel", "Yannick Morvan"):
        expect(speakers).to_contain_text(name)
    expect(role_group(page, "Modérateur·rice")).to_contain_text("Marion Le Bihan")
    expect(role_group(page, "Grand témoin")).to_contain_text("Nadia Benali")
    expect(speakers).not_to_contain_text("Nadia Benali")
    expect(page.get_by_text("Amphithéâtre", exact=True)).to_be_visible()


def test_starred_sessions_survive_a_reload_and_fill_my_programme(page, live_server, screenshot):
    round_table = live_server.code_of("Table ronde — Quel avenir")
    workshop = live_server.code_of("Atelier 1 —")

    page.goto(live_server.event_url())
    card_star = page.get_by_role("button", name="Mon programme : Table ronde — Quel avenir")
    expect(card_star).to_have_attribute("aria-pressed", "false")
    card_star.click()
    expect(card_star).to_have_attribute("aria-pressed", "true")

    page.goto(live_server.event_url(f"s/{workshop}"))
    star = page.get_by_role("button", name="Mon programme")
    expect(star).to_have_attribute("aria-pressed", "false")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")

    page.reload()
    expect(page.get_by_role("button", name="Mon programme")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Mon programme").click()

    page.wait_for_url("**/mon-programme")
    screenshot(page, "my-programme")
    expect(page.get_by_role("link", name="Atelier 1 — Immobilier d'entreprise en QPV")).to_be_visible()
    expect(page.get_by_role("link", name="Table ronde — Quel avenir")).to_be_visible()
    expect(page.get_by_role("link", name="Ouverture du forum Cités Cap")).to_be_hidden()
    ics_link = page.get_by_role("link", name="Ajouter mes sessions à mon agenda")
    href = ics_link.get_attribute("href")
    assert urlsplit(href).path == f"/e/{live_server.slug}/agenda.ics"
    assert set(",".join(parse_qs(urlsplit(href).query)["s"]).split(",")) == {round_table, workshop}

    calendar = page.request.get(href)
    assert calendar.ok and calendar.headers["content-type"].startswith("text/calendar")
    body = calendar.text().replace("\r\n ", "")
    assert "Atelier 1 — Immobilier d'entreprise en QPV" in body
    assert "Ouverture du forum" not in body


def test_unstarring_removes_the_session_from_my_programme(page, live_server):
    page.goto(live_server.event_url(f"s/{live_server.code_of('Atelier 2 —')}"))
    star = page.get_by_role("button", name="Mon programme")
    star.click()
    star.click()
    expect(star).to_have_attribute("aria-pressed", "false")

    page.goto(live_server.event_url("mon-programme"))

    expect(page.get_by_text("Vous n'avez encore choisi aucune session.")).to_be_visible()
    expect(page.get_by_role("link", name="Atelier 2 — Entreprendre depuis les quartiers")).to_be_hidden()


def test_my_programme_without_javascript_explains_and_links_to_the_programme(new_context, live_server):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(live_server.event_url())
    expect(page.locator("button.star").first).to_be_hidden()  # no dead buttons without JavaScript

    page.goto(live_server.event_url("mon-programme"))

    expect(page.get_by_text("Cette fonction a besoin de JavaScript")).to_be_visible()
    page.get_by_role("link", name="Voir le programme complet").click()
    expect(page.get_by_role("link", name="Ouverture du forum Cités Cap")).to_be_visible()
