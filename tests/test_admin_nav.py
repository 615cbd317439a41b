"""The organiser header's section menu as the server renders it: every link in the HTML (so it all works
without JavaScript), plus a hidden "Menu · <section>" button that static/js/admin-nav.js uses on phones."""
from __future__ import annotations

import lxml.html
import pytest

SECTIONS = [
    "Programme", "Salles", "Parcours", "Personnes", "Inscriptions", "Délégations", "Badges", "Arrivées", "Appareils",
    "Rapporteurs", "Notes", "Rapport", "Journal des actions", "Poste d'accueil", "Voir le site public",
    "Mes événements",
]


@pytest.fixture
def as_organiser(app, demo_event, make_user, login):
    login(make_user("organiser", demo_event))
    return demo_event


def _header(client, path: str):
    response = client.get(path)
    assert response.status_code == 200
    return lxml.html.fromstring(response.get_data(as_text=True))


def _text(element) -> str:
    return " ".join(element.text_content().split())


def test_dashboard_menu_button_is_hidden_and_controls_the_section_list(client, as_organiser):
    doc = _header(client, f"/e/{as_organiser.slug}/admin/")

    [button] = doc.xpath("//nav[@class='admin-nav']/button")
    [section_list] = doc.xpath(f"//*[@id='{button.get('aria-controls')}']")
    assert button.get("type") == "button"
    assert button.get("aria-expanded") == "false"
    assert button.get("hidden") is not None
    assert section_list.tag == "ul" and section_list.getparent().get("class") == "admin-nav"
    assert section_list.get("hidden") is None  # without JavaScript the whole list stays visible


def test_dashboard_menu_button_names_the_current_section(client, as_organiser):
    doc = _header(client, f"/e/{as_organiser.slug}/admin/")

    [button] = doc.xpath("//nav[@class='admin-nav']/button")
    assert _text(button) == "Menu · Programme"
    assert button.xpath(".//*[@class='admin-nav-chevron']")[0].get("aria-hidden") == "true"


def test_arrivals_menu_button_names_the_arrivals(client, as_organiser):
    doc = _header(client, f"/e/{as_organiser.slug}/admin/arrivals")

    [button] = doc.xpath("//nav[@class='admin-nav']/button")
    current = doc.xpath("//nav[@class='admin-nav']//a[@aria-current='page']")
    assert _text(button) == "Menu · Arrivées"
    assert [_text(a) for a in current] == ["Arrivées"]


def test_dashboard_still_lists_every_section_link(client, as_organiser):
    doc = _header(client, f"/e/{as_organiser.slug}/admin/")

    links = doc.xpath("//ul[@id='admin-nav-list']/li/a")
    current = doc.xpath("//ul[@id='admin-nav-list']//a[@aria-current='page']")
    assert [_text(a) for a in links] == SECTIONS
    assert all(a.get("href") for a in links)
    assert [_text(a) for a in current] == ["Programme"]


def test_dashboard_loads_the_menu_module_script(client, as_organiser):
    doc = _header(client, f"/e/{as_organiser.slug}/admin/")

    scripts = [s for s in doc.xpath("//head/script") if "js/admin-nav.js" in (s.get("src") or "")]
    assert len(scripts) == 1
    assert scripts[0].get("type") == "module"
    assert not (scripts[0].text or "").strip()  # no inline code (strict CSP)
