"""The door check-in station page `/e/<slug>/checkin`: who may open it, and what it hands its scripts."""
from __future__ import annotations

import json
import re
from datetime import date
from html import unescape

import pytest

from forum_app.programme.models import Event


def _station(client, event, **query):
    return client.get(f"/e/{event.slug}/checkin", query_string=query)


def _attributes(response) -> dict[str, str]:
    """The data-* attributes of the #station element."""
    html = response.get_data(as_text=True)
    tag = re.search(r'<div class="station" id="station"[^>]*>', html, flags=re.DOTALL)
    assert tag, "no #station element on the page"
    return {name: unescape(value) for name, value in re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(0))} | {
        name: unescape(value) for name, value in re.findall(r"data-([a-z-]+)='([^']*)'", tag.group(0))
    }


@pytest.fixture
def other_event(app):
    from forum_app.extensions import db

    event = Event(slug="autre-forum", title="Autre forum", start_date=date(2019, 9, 1), end_date=date(2019, 9, 1))
    db.session.add(event)
    db.session.commit()
    return event


# --- who may open it ---


def test_station_sends_anonymous_visitors_to_the_login_page(client, demo_event):
    response = _station(client, demo_event)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["volunteer", "organiser"])
def test_station_opens_for_the_event_door_team(client, demo_event, make_user, login, role):
    login(make_user(role, demo_event))

    response = _station(client, demo_event)

    assert response.status_code == 200
    assert "Poste d'accueil" in response.get_data(as_text=True)
    assert _attributes(response)["role"] == role


def test_station_opens_for_a_site_admin_as_an_organiser(client, demo_event, make_user, login):
    login(make_user(None, admin=True))

    response = _station(client, demo_event)

    assert response.status_code == 200
    assert _attributes(response)["role"] == "organiser"


def test_station_is_refused_to_a_rapporteur(client, demo_event, make_user, login):
    login(make_user("rapporteur", demo_event))

    assert _station(client, demo_event).status_code == 403


def test_station_is_refused_to_the_volunteer_of_another_event(client, demo_event, other_event, make_user, login):
    login(make_user("volunteer", other_event))

    assert _station(client, demo_event).status_code == 403


def test_station_of_an_unknown_event_is_not_found(client, demo_event, make_user, login):
    login(make_user("volunteer", demo_event))

    assert client.get("/e/pas-un-forum/checkin").status_code == 404


# --- what the page hands its scripts ---


def test_station_gives_its_scripts_the_api_csrf_token_and_timezone(app, client, demo_event, make_user, login):
    user = make_user("volunteer", demo_event)
    login(user)

    data = _attributes(_station(client, demo_event))

    assert data["slug"] == demo_event.slug
    assert data["api-base"] == f"/api/v1/e/{demo_event.slug}"
    assert data["csrf-token"]
    assert data["user-id"] == str(user.id)
    assert data["timezone"] == "Europe/Paris"
    assert re.fullmatch(r"/static/r/[0-9a-f]+/js/checkin/engine\.js", data["engine-url"])
    assert re.fullmatch(r"/static/r/[0-9a-f]+/vendor/barcode-detector/ponyfill\.js", data["polyfill-url"])
    assert re.fullmatch(r"/static/r/[0-9a-f]+/vendor/barcode-detector/zxing_reader\.wasm", data["wasm-url"])
    assert data["reissue-url"].endswith(f"/registrations/{data['id-placeholder']}/badge/reissue")
    assert data["badge-pdf-url"].endswith(f"/registrations/{data['id-placeholder']}/badge.pdf")


def test_station_texts_are_french_and_english_on_request(client, demo_event, make_user, login):
    login(make_user("volunteer", demo_event))

    french = json.loads(_attributes(_station(client, demo_event))["texts"])
    english_page = _station(client, demo_event, lang="en")

    assert french["revoked"] == "Ancien badge : un nouveau badge a été émis"
    assert french["already"] == "Déjà enregistré·e à {time} ({station})"
    assert french["pending_one"] == "{n} passage en attente d'envoi"
    assert french["pending_other"] == "{n} passages en attente d'envoi"
    assert english_page.status_code == 200
    assert '<html lang="en">' in english_page.get_data(as_text=True)


def test_station_door_picker_offers_the_entrance_and_the_workshops(client, demo_event, make_user, login):
    login(make_user("volunteer", demo_event))
    workshop = next(s for s in demo_event.sessions if s.kind == "workshop")
    lunch = next((s for s in demo_event.sessions if s.kind in ("lunch", "break")), None)

    html = _station(client, demo_event).get_data(as_text=True)
    picker = re.search(r'<select id="station-door".*?</select>', html, flags=re.DOTALL).group(0)

    assert '<option value="">Entrée principale</option>' in picker
    assert f'<option value="{workshop.code}">{workshop.code} · ' in unescape(picker)
    if lunch is not None:
        assert f'value="{lunch.code}"' not in picker


def test_station_page_says_it_needs_javascript(client, demo_event, make_user, login):
    login(make_user("volunteer", demo_event))

    html = _station(client, demo_event).get_data(as_text=True)

    assert re.search(r"<noscript>.*a besoin de JavaScript.*</noscript>", html, flags=re.DOTALL)
    assert 'id="station" hidden' in html  # the controls appear only once the script runs


def test_station_lets_only_its_own_page_compile_the_barcode_webassembly(client, demo_event, make_user, login):
    login(make_user("volunteer", demo_event))

    station = _station(client, demo_event)
    programme = client.get(f"/e/{demo_event.slug}/")

    assert "'wasm-unsafe-eval'" in station.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in station.headers["Content-Security-Policy"].replace("'wasm-unsafe-eval'", "")
    assert "'wasm-unsafe-eval'" not in programme.headers["Content-Security-Policy"]
    assert station.headers["Cache-Control"] == "private, no-cache"


def test_station_loads_its_module_and_no_inline_script(client, demo_event, make_user, login):
    login(make_user("volunteer", demo_event))

    html = _station(client, demo_event).get_data(as_text=True)

    assert re.search(r'<script type="module" src="/static/r/[0-9a-f]+/js/checkin/station\.js"></script>', html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline scripts are blocked by the CSP"
    assert " style=" not in html
