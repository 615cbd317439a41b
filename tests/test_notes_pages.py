"""The rapporteur's capture page `/e/<slug>/notes/<code>`: who may open it, and what it hands its scripts."""
from __future__ import annotations

import json
import re
from html import unescape

import pytest

from forum_app.extensions import db
from forum_app.notes.models import RapporteurAssignment
from forum_app.programme.models import Session


def _session(event, code):
    return db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))


def _capture(client, event, code="A1", **query):
    return client.get(f"/e/{event.slug}/notes/{code}", query_string=query)


def _attributes(response) -> dict[str, str]:
    """The data-* attributes of the #notes element."""
    html = response.get_data(as_text=True)
    tag = re.search(r'<div class="notes" id="notes"[^>]*>', html, flags=re.DOTALL)
    assert tag, "no #notes element on the page"
    return {name: unescape(value) for name, value in re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(0))} | {
        name: unescape(value) for name, value in re.findall(r"data-([a-z-]+)='([^']*)'", tag.group(0))
    }


@pytest.fixture
def rapporteur(demo_event, make_user):
    user = make_user("rapporteur", demo_event)
    db.session.add(RapporteurAssignment(user_id=user.id, session_id=_session(demo_event, "A1").id))
    db.session.commit()
    return user


# --- who may open it ---


def test_capture_page_sends_anonymous_visitors_to_the_login_page_and_back(client, demo_event):
    response = _capture(client, demo_event)

    assert response.status_code == 302
    location = response.headers["Location"]
    assert "/login" in location
    assert f"next=%2Fe%2F{demo_event.slug}%2Fnotes%2FA1" in location


def test_capture_page_opens_for_the_rapporteur_of_the_session(client, demo_event, rapporteur, login):
    login(rapporteur)

    response = _capture(client, demo_event)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Atelier 1" in html and "Ajouter" in html
    assert _attributes(response)["session"] == "A1"


def test_capture_page_is_refused_to_a_rapporteur_of_another_session(client, demo_event, rapporteur, login):
    login(rapporteur)

    response = _capture(client, demo_event, "A2")

    assert response.status_code == 403
    assert "pas rapporteur·e de cette session" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["volunteer", None])
def test_capture_page_is_refused_to_staff_without_notes_rights(client, demo_event, make_user, login, role):
    login(make_user(role, demo_event))

    assert _capture(client, demo_event).status_code == 403


def test_capture_page_opens_for_organisers_and_site_admins_on_any_session(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))
    assert _capture(client, demo_event, "A3").status_code == 200

    client.post("/logout")
    login(make_user(None, admin=True))
    assert _capture(client, demo_event, "A4").status_code == 200


def test_capture_page_of_an_unknown_session_is_not_found(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))

    assert _capture(client, demo_event, "ZZ9").status_code == 404


# --- what the page hands its scripts ---


def test_capture_page_passes_its_configuration_in_data_attributes(client, demo_event, rapporteur, login):
    login(rapporteur)

    attributes = _attributes(_capture(client, demo_event))

    assert attributes["api-base"] == f"/api/v1/e/{demo_event.slug}"
    assert attributes["csrf-token"]
    assert attributes["session-title"].startswith("Atelier 1")
    assert attributes["session-room"] == "Salle Vilaine"
    assert re.search(r"\d{1,2} h \d\d – \d{1,2} h \d\d", attributes["session-when"])
    assert attributes["login-url"] == f"/login?next=/e/{demo_event.slug}/notes/A1"
    kinds = json.loads(attributes["kinds"])
    assert [k["label"] for k in kinds] == [
        "Point clé", "Citation", "Proposition", "Question de la salle", "Chiffre clé", "Photo",
    ]
    people = json.loads(attributes["people"])
    assert people and {"id", "name", "job_title", "organisation", "role_label"} <= set(people[0])
    assert json.loads(attributes["limits"])["text"] == 5000
    texts = json.loads(attributes["texts"])
    assert texts["pending_other"] == "{n} éléments en attente d'envoi"
    assert texts["auth_problem"] == "Session expirée : reconnectez-vous (vos notes sont gardées sur cet appareil)"
    assert texts["keep_mine"] == "Garder ma version" and texts["merge"] == "Fusionner"


def test_capture_page_lists_the_sessions_people_for_quotes(client, demo_event, rapporteur, login):
    login(rapporteur)
    people = json.loads(_attributes(_capture(client, demo_event))["people"])

    html = _capture(client, demo_event).get_data(as_text=True)

    for person in people:
        assert f'id="who-{person["id"]}"' in html
        assert unescape(person["name"]) in unescape(html)
    assert 'id="who-floor"' in html


def test_capture_page_speaks_english_when_asked(client, demo_event, rapporteur, login):
    login(rapporteur)

    response = _capture(client, demo_event, lang="en")

    assert response.status_code == 200
    assert 'lang="en"' in response.get_data(as_text=True)
    assert _attributes(response)["locale"] == "en"


def test_capture_page_has_no_inline_script_or_style(client, demo_event, rapporteur, login):
    login(rapporteur)

    response = _capture(client, demo_event)
    html = response.get_data(as_text=True)

    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.DOTALL)
    assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts)
    assert not re.search(r"<style\b", html)
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert re.search(r'type="module" src="/static/r/[0-9a-f]+/js/notes/capture\.js"', html)


def test_capture_page_is_kept_privately_and_may_show_photos_waiting_on_the_device(client, demo_event, rapporteur, login):
    login(rapporteur)

    response = _capture(client, demo_event)

    assert response.headers["Cache-Control"] == "private, no-cache"
    policy = response.headers["Content-Security-Policy"]
    assert "img-src 'self' data: blob:" in policy
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy


def test_capture_page_photo_field_opens_the_camera(client, demo_event, rapporteur, login):
    login(rapporteur)

    html = _capture(client, demo_event).get_data(as_text=True)

    assert re.search(r'<input type="file" id="note-photo" accept="image/\*" capture="environment"', html)
    assert '<label for="note-photo">' in html and '<label for="note-caption">' in html and '<label for="note-credit">' in html


def test_programme_text_on_the_capture_page_is_escaped(client, demo_event, rapporteur, login):
    session = _session(demo_event, "A1")
    session.title = 'Atelier <script>alert("x")</script>'
    db.session.commit()
    login(rapporteur)

    html = _capture(client, demo_event).get_data(as_text=True)

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
