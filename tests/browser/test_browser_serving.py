"""Static files under a release digest, in a real browser with the service worker: a page kept on
the device before a release still shows styled offline; a file of another release is never kept."""
from __future__ import annotations

from playwright.sync_api import expect

CONTROLLED = "() => navigator.serviceWorker.controller !== null"
IN_CACHE = "async (url) => Boolean(await caches.match(url, {ignoreVary: true}))"
NOT_IN_CACHE = "async (url) => !(await caches.match(url, {ignoreVary: true}))"
STYLED = "getComputedStyle(document.querySelector('.skip-link')).position"


def test_page_kept_before_a_release_still_shows_styled_offline(new_context, live_server, screenshot):
    context = new_context(service_workers="allow")
    page = context.new_page()
    programme_url = live_server.event_url()
    session_url = live_server.event_url(f"s/{live_server.code_of('Atelier 3 —')}")
    before = live_server.app.extensions["forum_static_digest"]

    page.goto(programme_url)
    page.evaluate("async () => Boolean(await navigator.serviceWorker.ready)")
    page.reload()
    page.wait_for_function(CONTROLLED)
    page.wait_for_function(IN_CACHE, arg=programme_url)
    page.wait_for_function(IN_CACHE, arg=f"/static/r/{before}/css/app.css")
    try:
        live_server.app.extensions["forum_static_digest"] = after = "feedfacecafe"  # a release
        page.goto(session_url)  # the new release's files replace the old ones on the device
        page.wait_for_function(IN_CACHE, arg=f"/static/r/{after}/css/app.css")
        page.wait_for_function(NOT_IN_CACHE, arg=f"/static/r/{before}/css/app.css")

        # Phones evict their HTTP cache: only what the service worker kept is left.
        context.new_cdp_session(page).send("Network.clearBrowserCache")
        context.set_offline(True)
        page.goto(programme_url)  # kept before the release: it asks for /static/r/<before>/...
        screenshot(page, "offline-programme-across-a-release", full_page=False)
        expect(page.get_by_role("status").filter(has_text="Hors connexion")).to_be_visible()
        expect(page.get_by_role("link", name="Atelier 3 — Smart city, numérique et usages")).to_be_visible()
        assert page.evaluate(STYLED) != "static", "the stylesheet did not load offline"
    finally:
        live_server.app.extensions["forum_static_digest"] = before


def test_file_sent_for_another_release_is_not_kept_on_the_device(new_context, live_server):
    context = new_context(service_workers="allow")
    page = context.new_page()
    page.goto(live_server.event_url())
    page.evaluate("async () => Boolean(await navigator.serviceWorker.ready)")
    page.reload()
    page.wait_for_function(CONTROLLED)
    current = page.evaluate("document.querySelector('link[rel=stylesheet]').getAttribute('href')")
    stale = current.replace(live_server.app.extensions["forum_static_digest"], "000000000000")

    answer = page.evaluate("async (url) => { const r = await fetch(url); return [r.status, r.headers.get('Cache-Control')]; }", stale)

    assert answer == [200, "public, max-age=60"]
    page.wait_for_function(IN_CACHE, arg=current)
    assert page.evaluate(IN_CACHE, stale) is False
