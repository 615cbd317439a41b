"""The check-in JSON API: answers, status codes, bad requests, and who may call each route."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from werkzeug.security import generate_password_hash

from forum_app import create_app
from forum_app.auth.models import EventRole, User
from forum_app.badges import services as badges
from forum_app.checkin.models import CheckIn
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.programme.models import Event
from forum_app.registration import services as registration
from forum_app.registration.services import RegistrationInput

PASSWORD = "correct-horse-battery"
PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _person(event, n=1, **changes):
    values = {"first_name": f"Prénom{n}", "last_name": f"Nom{n}", "email": f"p{n}@example.org", "consent": True}
    values.update(changes)
    return registration.register(event, RegistrationInput(**values)).registration


def _body(badge, client_id="station1-000001", **extra):
    return {"badge": badge, "client_id": client_id, "station": "porte 1",
            "scanned_at": datetime.now(UTC).isoformat(), **extra}


@pytest.fixture
def volunteer_client(app, client, demo_event, make_user, login):
    login(make_user("volunteer", demo_event))
    return client


def _url(event, tail="checkins"):
    return f"/api/v1/e/{event.slug}/{tail}"


# --- answers ---


def test_first_scan_is_201_and_its_replay_200_with_the_same_body(volunteer_client, demo_event):
    text = badges.badge_payload(_person(demo_event))

    first = volunteer_client.post(_url(demo_event), json=_body(text))
    again = volunteer_client.post(_url(demo_event), json=_body(text))

    assert first.status_code == 201
    assert first.json["outcome"] == "checked_in"
    assert first.json["attendee"]["name"] == "Prénom1 Nom1"
    assert again.status_code == 200
    assert again.json == first.json
    assert first.headers["Cache-Control"] == "no-store"


def test_person_found_by_name_checks_in_through_the_api(volunteer_client, demo_event):
    person = _person(demo_event)

    response = volunteer_client.post(_url(demo_event), json={**_body(None), "registration_id": person.id})

    assert response.status_code == 201
    assert (response.json["outcome"], response.json["method"]) == ("checked_in", "search")
    assert response.json["attendee"]["name"] == "Prénom1 Nom1"


def test_second_client_id_is_already_checked_in(volunteer_client, demo_event):
    text = badges.badge_payload(_person(demo_event))
    volunteer_client.post(_url(demo_event), json=_body(text))

    response = volunteer_client.post(_url(demo_event), json=_body(text, client_id="station2-000001"))

    assert response.status_code == 201
    assert response.json["outcome"] == "already_checked_in"
    assert response.json["first_station"] == "porte 1"


def test_garbage_badge_is_a_recorded_invalid_scan_not_an_error(volunteer_client, demo_event):
    response = volunteer_client.post(_url(demo_event), json=_body("'; DROP TABLE check_in; --"))

    assert response.status_code == 201
    assert response.json["outcome"] == "invalid" and response.json["attendee"] is None
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 1


def test_workshop_door_via_the_api(volunteer_client, demo_event):
    text = badges.badge_payload(_person(demo_event, workshop_codes=["A2"]))

    response = volunteer_client.post(_url(demo_event), json=_body(text, session="A1"))
    unknown = volunteer_client.post(_url(demo_event), json=_body(text, client_id="station1-000002", session="ZZ"))

    assert response.json["outcome"] == "not_signed_up"
    assert unknown.status_code == 422 and unknown.json["field"] == "session"


def test_volunteer_cannot_force_but_organiser_can(client, demo_event, make_user, login):
    text = badges.badge_payload(_person(demo_event))
    login(make_user("volunteer", demo_event))

    refused = client.post(_url(demo_event), json=_body(text, session="A1", force=True))
    client.post("/logout")
    login(make_user("organiser", demo_event))
    forced = client.post(_url(demo_event), json=_body(text, session="A1", force=True))
    bad = client.post(_url(demo_event), json=_body(text, client_id="station1-000009", force="yes"))

    assert refused.status_code == 403 and refused.json["message"]
    assert forced.status_code == 201 and forced.json["forced"] is True
    assert bad.status_code == 422 and bad.json["field"] == "force"


# --- bad requests ---


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"client_id": "x"}, "client_id"),
        ({"client_id": None}, "client_id"),
        ({"station": "p" * 101}, "station"),
        ({"badge": "B" * 600}, "badge"),
        ({"badge": 42}, "badge"),
        ({"scanned_at": "2019-06-06 09:12"}, "scanned_at"),
        ({"scanned_at": "2019-06-06T09:12:00"}, "scanned_at"),
    ],
)
def test_bad_field_is_422_naming_it(volunteer_client, demo_event, changes, field):
    body = _body("FA:XYZ")
    body.update(changes)

    response = volunteer_client.post(_url(demo_event), json=body)

    assert response.status_code == 422
    assert response.json["field"] == field and response.json["message"]
    assert db.session.scalar(db.select(db.func.count(CheckIn.id))) == 0


def test_missing_fields_are_422(volunteer_client, demo_event):
    response = volunteer_client.post(_url(demo_event), json={})

    assert response.status_code == 422 and response.json["field"] == "client_id"


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ('{"badge": "FA:', "application/json", 400),  # truncated
        ("[1, 2, 3]", "application/json", 400),
        ('"texte"', "application/json", 400),
        ("\xff\xfe", "application/json", 400),
        ("badge=FA:XYZ", "application/x-www-form-urlencoded", 415),
        ("FA:XYZ", "text/plain", 415),
        ('{"badge": "' + "A" * 20000 + '"}', "application/json", 413),
    ],
)
def test_malformed_wrong_type_or_oversized_bodies_get_a_json_error(volunteer_client, demo_event, data, content_type, status):
    response = volunteer_client.post(_url(demo_event), data=data, content_type=content_type)

    assert response.status_code == status
    assert response.is_json and response.json["message"]


def test_unknown_event_is_a_json_404(volunteer_client):
    response = volunteer_client.post("/api/v1/e/nulle-part/checkins", json=_body("x"))

    assert response.status_code == 404 and response.is_json


def test_wrong_method_is_a_json_405(volunteer_client, demo_event):
    response = volunteer_client.get(_url(demo_event))

    assert response.status_code == 405 and response.is_json and "POST" in response.headers["Allow"]


# --- the kit ---


def test_kit_has_an_etag_and_answers_304_until_something_changes(volunteer_client, demo_event):
    text = badges.badge_payload(_person(demo_event))

    first = volunteer_client.get(_url(demo_event, "checkin-kit"))
    etag = first.headers["ETag"]
    unchanged = volunteer_client.get(_url(demo_event, "checkin-kit"), headers={"If-None-Match": etag})
    volunteer_client.post(_url(demo_event), json=_body(text))
    changed = volunteer_client.get(_url(demo_event, "checkin-kit"), headers={"If-None-Match": etag})

    assert first.status_code == 200 and first.json["roster"][0]["name"] == "Prénom1 Nom1"
    assert first.json["public_keys"][0]["public_key"]
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert changed.status_code == 200 and changed.json["roster"][0]["checked_in_at"]


# --- undo ---


def test_organiser_undoes_a_check_in_and_the_next_scan_checks_in_again(client, demo_event, make_user, login):
    organiser = make_user("organiser", demo_event)
    login(organiser)
    text = badges.badge_payload(_person(demo_event))
    first = client.post(_url(demo_event), json=_body(text)).json

    undone = client.post(_url(demo_event, f"checkins/{first['checkin_id']}/undo"))
    again = client.post(_url(demo_event), json=_body(text, client_id="station1-000002"))

    assert undone.status_code == 200 and undone.json["undone_by"] == organiser.id
    assert again.json["outcome"] == "checked_in"


def test_undo_of_a_refused_scan_is_409_and_unknown_is_404(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))
    refused = client.post(_url(demo_event), json=_body("garbage")).json

    assert client.post(_url(demo_event, f"checkins/{refused['checkin_id']}/undo")).status_code == 409
    assert client.post(_url(demo_event, "checkins/999999/undo")).status_code == 404


# --- CSRF ---


def test_csrf_header_is_required_when_csrf_is_on(demo_event, make_user):
    from flask import current_app  # the app fixture's, with its database

    current_app.config["WTF_CSRF_ENABLED"] = True
    user = make_user("volunteer", demo_event)
    client = current_app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert token, "the login form carries a CSRF token"
    token = token.group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    text = badges.badge_payload(_person(demo_event))

    without = client.post(_url(demo_event), json=_body(text))
    with_header = client.post(_url(demo_event), json=_body(text), headers={"X-CSRFToken": token})

    assert without.status_code == 400 and without.is_json and without.json["code"] == "csrf"
    assert with_header.status_code == 201


# --- arrival figures ---


@pytest.fixture
def organiser_client(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))
    return client


def test_stats_give_the_dashboard_figures_without_personal_data(organiser_client, demo_event):
    arrived = _person(demo_event, 1, category="elu", workshop_codes=["A1"])
    _person(demo_event, 2, category="association")
    organiser_client.post(_url(demo_event), json=_body(badges.badge_payload(arrived)))
    organiser_client.post(_url(demo_event), json=_body(badges.badge_payload(arrived), client_id="station2-000009"))
    organiser_client.post(_url(demo_event), json=_body("FA:NOT-A-BADGE", client_id="station2-000010"))

    response = organiser_client.get(_url(demo_event, "stats"))

    data = response.json
    assert response.status_code == 200
    assert (data["registered"], data["arrived"], data["expected"]) == (2, 1, 1)
    assert (data["duplicates"], data["refused"]) == (1, {"invalid": 1})
    assert {row["key"]: (row["registered"], row["arrived"]) for row in data["by_category"]} == {
        "elu": (1, 1), "association": (1, 0)}
    assert {row["key"]: row["label"] for row in data["by_category"]}["elu"] == "Élu·e"
    assert sum(bucket["count"] for bucket in data["arrivals_per_10_minutes"]) == 1
    assert {s["code"]: s["confirmed"] for s in data["sessions"]}["A1"] == 1
    assert "Prénom1" not in response.get_data(as_text=True)


def test_stats_answer_304_until_a_scan_changes_them(organiser_client, demo_event):
    person = _person(demo_event)
    first = organiser_client.get(_url(demo_event, "stats"))

    unchanged = organiser_client.get(_url(demo_event, "stats"), headers={"If-None-Match": first.headers["ETag"]})
    organiser_client.post(_url(demo_event), json=_body(badges.badge_payload(person)))
    changed = organiser_client.get(_url(demo_event, "stats"), headers={"If-None-Match": first.headers["ETag"]})

    assert unchanged.status_code == 304
    assert changed.status_code == 200 and changed.json["arrived"] == 1


def test_stats_for_a_malformed_day_is_422(organiser_client, demo_event):
    response = organiser_client.get(_url(demo_event, "stats") + "?day=demain")

    assert response.status_code == 422 and response.json["field"] == "day"
