"""Inputs the API fuzz (tests/test_api_fuzz.py) answered with a 500 (one with a 304), each named after its input and
now refused cleanly. Most failed on PostgreSQL only (run with TEST_DATABASE_URL too): it refuses
the NUL character in text and integers beyond its INTEGER columns, where SQLite stores or compares
them (past 2**63 SQLite overflows too)."""
from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from PIL import Image

from forum_app.extensions import db
from forum_app.notes.models import NoteItem
from forum_app.registration import services as registration
from forum_app.registration.services import RegistrationInput


@pytest.fixture
def organiser(client, demo_event, make_user, login):
    login(make_user("organiser", demo_event))
    return client


def _url(event, tail: str) -> str:
    return f"/api/v1/e/{event.slug}/{tail}"


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _scan(**changes) -> dict:
    return {"badge": "FA:NOT-A-BADGE", "client_id": uuid.uuid4().hex, "station": "porte 1", "scanned_at": _now(),
            **changes}


def _note(**changes) -> dict:
    return {"client_id": uuid.uuid4().hex, "kind": "quote", "text": "Il faut des baux courts.", "captured_at": _now(),
            **changes}


def _items(event, organiser, n: int = 2) -> list[int]:
    return [organiser.post(_url(event, "s/A1/notes"), json=_note(text=f"point {i}")).json["id"] for i in range(n)]


def test_multipart_part_without_a_name_is_a_400_not_a_500_with_csrf_on(app, demo_event):
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    body = b"--XX\r\nContent-Disposition: form-data\r\n\r\nvalue\r\n--XX--\r\n"

    login = client.post("/login", data=body, content_type="multipart/form-data; boundary=XX")
    api = client.post(_url(demo_event, "checkins"), data=body, content_type="multipart/form-data; boundary=XX")

    assert login.status_code == 400  # no CSRF token: the form is refused, not the server broken
    assert api.status_code == 400 and api.json["code"] == "csrf"


@pytest.mark.parametrize("checkin_id", ["2147483648", "99999999999999999999"])
def test_checkin_id_beyond_the_database_integers_is_a_404_not_a_500(organiser, demo_event, checkin_id):
    undo = organiser.post(_url(demo_event, f"checkins/{checkin_id}/undo"))
    edit = organiser.patch(_url(demo_event, f"notes/{checkin_id}"), json={"version": 1})
    admin_page = organiser.get(f"/e/{demo_event.slug}/admin/registrations/{checkin_id}")

    assert (undo.status_code, edit.status_code, admin_page.status_code) == (404, 404, 404)
    assert undo.is_json and edit.is_json


@pytest.mark.parametrize("path", ["/api/v1/e/%00/checkin-kit", "/api/v1/e/{slug}/s/A%001/notes", "/e/%00/"])
def test_slug_or_session_code_with_nul_percent_00_is_a_404_not_a_500(organiser, demo_event, path):
    response = organiser.get(path.format(slug=demo_event.slug))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("tail", "body", "field"),
    [
        ("checkins", _scan(station="porte\x00 1"), "station"),
        ("checkins", _scan(session="A\x001"), "session"),
        ("s/A1/notes", _note(text="a\x00b"), "text"),
        ("s/A1/notes", _note(attribution={"name": "Nadia\x00"}), "attribution"),
    ],
    ids=["station", "session", "text", "attribution-name"],
)
def test_json_field_holding_nul_is_a_422_naming_it_not_a_500(organiser, demo_event, tail, body, field):
    response = organiser.post(_url(demo_event, tail), json=body)

    assert response.status_code == 422
    assert response.json["field"] == field and "U+0000" in response.json["message"]
    assert db.session.scalar(db.select(db.func.count(NoteItem.id))) == 0


def test_photo_caption_holding_nul_is_a_422_naming_it_not_a_500(organiser, demo_event, tmp_path):
    from flask import current_app

    current_app.config["NOTES_UPLOAD_DIR"] = str(tmp_path)
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(jpeg, "JPEG")
    form = {"client_id": uuid.uuid4().hex, "captured_at": _now(), "caption": "La salle\x00",
            "file": (io.BytesIO(jpeg.getvalue()), "photo.jpg", "image/jpeg")}

    response = organiser.post(_url(demo_event, "s/A1/photos"), data=form, content_type="multipart/form-data")

    assert response.status_code == 422 and response.json["field"] == "caption"
    assert not any(tmp_path.rglob("*.jpg"))


def test_merge_into_2147483648_is_a_422_not_a_500(organiser, demo_event):
    duplicate, _kept = _items(demo_event, organiser)

    response = organiser.post(_url(demo_event, f"notes/{duplicate}/merge"), json={"into": 2147483648})

    assert response.status_code == 422 and response.json["field"] == "into"


def test_quote_attributed_to_person_id_2147483648_is_a_422_not_a_500(organiser, demo_event):
    response = organiser.post(_url(demo_event, "s/A1/notes"), json=_note(attribution={"person_id": 2147483648}))

    assert response.status_code == 422 and response.json["field"] == "attribution"


def test_checkin_by_registration_id_3000000000_is_an_invalid_scan_not_a_500(organiser, demo_event):
    registration.register(demo_event, RegistrationInput(first_name="A", last_name="B", email="ab@example.org",
                                                        consent=True))

    response = organiser.post(_url(demo_event, "checkins"), json=_scan(badge=None, registration_id=3_000_000_000))

    assert response.status_code == 201
    assert (response.json["outcome"], response.json["attendee"]) == ("invalid", None)


def test_json_body_of_arrays_nested_3000_deep_is_a_400_not_a_500(organiser, demo_event):
    body = '{"badge": ' + "[" * 3000 + "]" * 3000 + "}"

    response = organiser.post(_url(demo_event, "checkins"), data=body, content_type="application/json")

    assert response.status_code == 400 and response.json["code"] == "bad_request"


@pytest.mark.parametrize("since", ["6469693229", "²", "٣"])
def test_notes_since_beyond_the_counter_or_not_ascii_digits_is_a_422_not_a_500(organiser, demo_event, since):
    response = organiser.get(_url(demo_event, "s/A1/notes"), query_string={"since": since})

    assert response.status_code == 422 and response.json["field"] == "since"


def test_stats_day_0_with_if_none_match_star_is_a_422_not_a_304(organiser, demo_event):
    response = organiser.get(_url(demo_event, "stats?day=0"), headers={"If-None-Match": "*"})

    assert response.status_code == 422 and response.json["field"] == "day"
