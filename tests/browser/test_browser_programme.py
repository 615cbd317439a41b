"""The public programme on a 390 px phone, with and without JavaScript."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

PHONE_WIDTH = 390


@pytest.fixture(params=["js", "no-js"])
def any_page(request, new_context):
    """The same checks run with JavaScript on and off: the programme must not need it."""
    context = new_context(java_script_enabled=request.param == "js")
    page = context.new_page()
    page.mode = request.param
    return page


def horizontal_overflow(page) -> int:
    return page.evaluate("document.scrollingElement.scrollWidth")


def card(page, title_start: str):
    return page.locator("article", has=page.get_by_role("link", name=title_start))


def test_programme_fits_a_phone_without_horizontal_scroll(any_page, live_server, screenshot):
    page = any_page
    page.goto(live_server.event_url())
    screenshot(page, f"programme-phone-{page.mode}")

    assert horizontal_overflow(page) <= PHONE_WIDTH
    page.get_by_text("Filtrer par parcours, format ou salle").click()  # the open filter panel fits too
    assert horizontal_overflow(page) <= PHONE_WIDTH
    page.goto(live_server.event_url(f"s/{live_server.code_of('Table ronde — Quel avenir')}"))
    assert horizontal_overflow(page) <= PHONE_WIDTH


def test_programme_day_tabs_switch_days(any_page, live_server):
    page = any_page
    page.goto(live_server.event_url())
    expect(page.get_by_role("link", name="Ouverture du forum Cités Cap")).to_be_visible()

    page.get_by_role("navigation", name="Jours du programme").get_by_role("link", name="ven. 7 juin").click()

    expect(page.get_by_role("link", name="Club dev éco des centres de ressources")).to_be_visible()
    expect(page.get_by_role("link", name="Ouverture du forum Cités Cap")).to_have_count(0)
    expect(page.locator(".day-tabs [aria-current=page]")).to_have_text("ven. 7 juin")


def test_programme_stacks_sessions_of_one_slot(any_page, live_server, screenshot):
    page = any_page
    page.goto(live_server.event_url())
    workshops = [card(page, f"Atelier {n} —") for n in (1, 2, 3, 4)]  # the four at 11 h 30
    workshops[0].scroll_into_view_if_needed()
    screenshot(page, f"programme-slot-{page.mode}", full_page=False)

    boxes = [w.bounding_box() for w in workshops]
    for above, below in zip(boxes, boxes[1:]):
        assert below["y"] >= above["y"] + above["height"] - 1, "parallel sessions overlap or sit side by side"
        assert abs(below["x"] - above["x"]) <= 2
    assert all(box["width"] >= PHONE_WIDTH * 0.8 for box in boxes), "cards should use the phone's width"


def test_programme_filter_by_kind_shows_only_workshops(any_page, live_server, screenshot):
    page = any_page
    page.goto(live_server.event_url())

    page.get_by_text("Filtrer par parcours, format ou salle").click()
    page.get_by_label("Format").select_option(label="Atelier")
    page.get_by_role("button", name="Appliquer les filtres").click()

    page.wait_for_url("**kind=workshop**")
    screenshot(page, f"programme-filtered-{page.mode}", full_page=False)
    expect(page.get_by_role("link", name="Atelier 1 — Immobilier d'entreprise en QPV")).to_be_visible()
    expect(page.get_by_role("link", name="Atelier 6 —")).to_be_visible()
    expect(page.get_by_role("link", name="Ouverture du forum Cités Cap")).to_have_count(0)
    expect(page.get_by_role("link", name="Table ronde — Quel avenir")).to_have_count(0)
    expect(page.get_by_role("status")).to_contain_text("6 sessions correspondent")
    assert horizontal_overflow(page) <= PHONE_WIDTH


def test_programme_search_finds_a_person(any_page, live_server):
    page = any_page
    page.goto(live_server.event_url())

    page.get_by_role("searchbox").fill("Fatou Sow")
    page.get_by_role("button", name="Chercher").click()

    page.wait_for_url("**q=Fatou**")
    expect(page.get_by_role("link", name="Atelier 5 — Innovation sociale")).to_be_visible()
    expect(page.get_by_role("link", name="Ouverture du forum Cités Cap")).to_have_count(0)


def test_programme_runs_without_script_errors(page, live_server):
    page.goto(live_server.event_url())
    page.wait_for_load_state("networkidle")
    page.goto(live_server.event_url(f"s/{live_server.code_of('Atelier 1 —')}"))
    page.goto(live_server.event_url("mon-programme"))
    page.wait_for_load_state("networkidle")

    assert page.problems.messages == [], "script errors or CSP violations:\n" + "\n".join(page.problems.messages)


def test_programme_on_the_day_shows_what_is_on_now_and_next(page, live_server, screenshot):
    with live_server.frozen_clock("2019-06-06T11:45:00+02:00"):
        page.goto(live_server.event_url())
        screenshot(page, "programme-now-next", full_page=False)

    now = page.locator("section", has=page.get_by_role("heading", name="Maintenant"))
    for n in (1, 2, 3, 4):
        expect(now.get_by_role("link", name=f"Atelier {n} —")).to_be_visible()
    expect(now).to_contain_text("Ensuite")
    expect(now.get_by_role("link", name="Déjeuner et village des initiatives")).to_be_visible()
    expect(page.locator(".day-tabs [aria-current=page]")).to_contain_text("aujourd'hui")
    assert horizontal_overflow(page) <= PHONE_WIDTH
