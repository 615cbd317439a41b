"""The organiser header in a real browser: on a phone the section list folds behind a "Menu · <section>"
button (static/js/admin-nav.js) so the page starts near the top of the screen; on a laptop nothing changes;
without JavaScript every link stays visible."""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, log_in

LAPTOP = {"viewport": {"width": 1280, "height": 800}, "is_mobile": False, "has_touch": False, "device_scale_factor": 1}
TAP_PX = 44


def watch_errors(page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    page.on("console", lambda message: message.type == "error" and errors.append(f"console: {message.text}"))
    return errors


def open_arrivals(page, live_server):
    page.goto(live_server.event_url("admin/arrivals"))
    menu = page.locator(".admin-nav-toggle")
    return menu, page.locator("#admin-nav-list")


def header_height(page) -> float:
    return page.locator("header.site-header").bounding_box()["height"]


def test_phone_header_is_compact_with_the_sections_folded(organiser_page, live_server, axe, screenshot):
    page = organiser_page
    errors = watch_errors(page)

    menu, sections = open_arrivals(page, live_server)

    expect(menu).to_be_visible()
    expect(menu).to_have_text("Menu · Arrivées")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(sections).to_be_hidden()
    expect(page.get_by_role("link", name="Salles")).to_be_hidden()
    assert header_height(page) <= 160, f"header is {header_height(page)} px tall on a phone"
    logout = page.get_by_role("button", name="Se déconnecter")
    menu_box, logout_box = menu.bounding_box(), logout.bounding_box()
    assert abs(menu_box["y"] - logout_box["y"]) < 2, "the menu and log-out buttons sit side by side"
    assert abs(menu_box["height"] - logout_box["height"]) < 2, "...and are as tall as each other"
    assert min(menu_box["height"], logout_box["height"]) >= TAP_PX
    title = page.locator(".admin-event a")
    assert title.bounding_box()["height"] < 50, "the event name stays on one line"
    expect(page.get_by_role("heading", level=1)).to_be_in_viewport()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    screenshot(page, "admin-nav-phone-closed", full_page=False)
    assert_accessible(axe, page, "organiser header, menu closed (phone)")
    assert errors == []


def test_phone_tapping_the_menu_shows_every_section(organiser_page, live_server, axe, screenshot):
    page = organiser_page
    errors = watch_errors(page)
    menu, sections = open_arrivals(page, live_server)

    menu.tap()

    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sections).to_be_visible()
    links = sections.get_by_role("link")
    expect(links).to_have_count(16)
    for i in range(links.count()):
        expect(links.nth(i)).to_be_visible()
        assert links.nth(i).bounding_box()["height"] >= TAP_PX, links.nth(i).inner_text()
    expect(sections.locator("a[aria-current=page]")).to_have_text("Arrivées")
    screenshot(page, "admin-nav-phone-open", full_page=False)
    assert_accessible(axe, page, "organiser header, menu open (phone)")

    menu.tap()

    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(sections).to_be_hidden()
    assert errors == []


def test_phone_escape_closes_the_menu_and_focuses_its_button(organiser_page, live_server):
    page = organiser_page
    menu, sections = open_arrivals(page, live_server)
    menu.tap()
    sections.get_by_role("link", name="Salles").focus()

    page.keyboard.press("Escape")

    expect(sections).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(menu).to_be_focused()


def test_phone_keyboard_reaches_and_opens_the_menu(organiser_page, live_server):
    page = organiser_page
    menu, sections = open_arrivals(page, live_server)
    page.locator("body").focus()

    for _ in range(5):
        page.keyboard.press("Tab")
        if menu.evaluate("button => button === document.activeElement"):
            break
    expect(menu).to_be_focused()
    page.keyboard.press("Enter")

    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(sections).to_be_visible()
    page.keyboard.press("Tab")
    expect(sections.get_by_role("link", name="Programme")).to_be_focused()


def test_laptop_shows_every_section_and_no_menu_button(new_context, live_server, axe, screenshot):
    page = new_context(**LAPTOP).new_page()
    errors = watch_errors(page)
    log_in(page, live_server.organiser_email, live_server.organiser_password)

    menu, sections = open_arrivals(page, live_server)

    expect(sections).to_be_visible()
    expect(menu).to_be_hidden()
    expect(sections.get_by_role("link", name="Journal des actions")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    screenshot(page, "admin-nav-laptop", full_page=False)
    assert_accessible(axe, page, "organiser header (laptop)")
    assert errors == []


def test_turning_the_tablet_folds_and_unfolds_the_sections(new_context, live_server):
    page = new_context(viewport={"width": 1024, "height": 768}).new_page()
    log_in(page, live_server.organiser_email, live_server.organiser_password)
    menu, sections = open_arrivals(page, live_server)
    expect(sections).to_be_visible()
    expect(menu).to_be_hidden()

    page.set_viewport_size({"width": 600, "height": 900})

    expect(menu).to_be_visible()
    expect(sections).to_be_hidden()

    page.set_viewport_size({"width": 1024, "height": 768})

    expect(sections).to_be_visible()
    expect(menu).to_be_hidden()


def test_phone_without_javascript_keeps_every_section_visible(new_context, live_server):
    page = new_context(java_script_enabled=False).new_page()
    log_in(page, live_server.organiser_email, live_server.organiser_password)

    menu, sections = open_arrivals(page, live_server)

    expect(menu).to_be_hidden()
    expect(sections.get_by_role("link")).to_have_count(16)
    expect(sections.get_by_role("link", name="Journal des actions")).to_be_visible()
