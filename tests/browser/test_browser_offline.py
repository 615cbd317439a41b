"""Venue Wi-Fi fails: pages already seen keep working through the service worker."""
from __future__ import annotations

from playwright.sync_api import expect

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
IN_CACHE = "async (url) => Boolean(await caches.match(url, {ignoreVary: true}))"


def wait_until_kept_on_device(page, url: str) -> None:
    page.wait_for_function(IN_CACHE, arg=url, timeout=5_000)


def test_seen_pages_still_show_offline(new_context, live_server, screenshot):
    context = new_context(service_workers="allow")
    page = context.new_page()
    programme_url = live_server.event_url()
    session_url = live_server.event_url(f"s/{live_server.code_of('Atelier 3 —')}")

    page.goto(programme_url)
    assert page.evaluate("async () => Boolean(await navigator.serviceWorker.ready)")
    page.reload()  # now served through the worker, which keeps a copy
    page.wait_for_function(CONTROLLED)
    page.goto(session_url)
    page.wait_for_function(CONTROLLED)
    wait_until_kept_on_device(page, programme_url)
    wait_until_kept_on_device(page, session_url)

    context.set_offline(True)
    page.reload()
    screenshot(page, "offline-session", full_page=False)
    expect(page.get_by_role("heading", level=1)).to_have_text("Atelier 3 — Smart city, numérique et usages")
    expect(page.get_by_text("Léa Tanguy")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Hors connexion")).to_be_visible()

    page.goto(programme_url)
    screenshot(page, "offline-programme", full_page=False)
    expect(page.get_by_role("link", name="Ouverture du forum Cités Cap")).to_be_visible()
    expect(page.get_by_role("link", name="Atelier 3 — Smart city, numérique et usages")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Hors connexion")).to_be_visible()
    styled = page.evaluate("getComputedStyle(document.querySelector('.skip-link')).position")
    assert styled != "static", "the stylesheet did not load offline"


def test_unseen_page_offline_falls_back_to_the_saved_programme(new_context, live_server):
    context = new_context(service_workers="allow")
    page = context.new_page()
    page.goto(live_server.event_url())
    page.evaluate("async () => Boolean(await navigator.serviceWorker.ready)")
    page.reload()
    page.wait_for_function(CONTROLLED)

    context.set_offline(True)
    page.goto(live_server.event_url(f"s/{live_server.code_of('Atelier 6 —')}"))

    expect(page.get_by_role("status").filter(has_text="Hors connexion")).to_be_visible()
    expect(page.get_by_role("link", name="Atelier 6 — Mobiliser les habitants")).to_be_visible()
