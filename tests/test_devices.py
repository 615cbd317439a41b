"""Door devices (forum_app/devices): a bearer token per device, made and revoked by organisers,
that lets a scanner's own app record scans and load the kit of one event, and nothing else."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from forum_app.audit.models import AuditEntry
from forum_app.badges import services as badges
from forum_app.checkin.models import CheckIn
from forum_app.devices import domain, services
from forum_app.devices.models import DeviceToken
from forum_app.errors import InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.programme.models import Event
from tests.conftest import DEMO_JSON
from tests.people import register_person

_ids = iter(range(10**6))


def _scan_body(person, **extra) -> dict:
    return {"badge": badges.badge_payload(person), "client_id": f"device-{next(_ids):06d}", "station": "douchette 2",
            "scanned_at": datetime.now(UTC).isoformat(), **extra}


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def organiser(demo_event, make_user):
    return make_user("organiser", demo_event)


@pytest.fixture
def device(demo_event, organiser):
    return services.add_device(demo_event, "Porte 2 – douchette", organiser)


@pytest.fixture
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True  # as in production: a device's POST must pass without a CSRF token


# --- the rules (no app) ---


def test_secret_is_long_random_and_recognisable():
    first, second = domain.new_secret(), domain.new_secret()

    assert first != second
    assert first.startswith("fad_") and len(first) == 47
    assert domain.well_formed(first) and domain.hint(first) == first[:8]
    assert domain.digest(first) == domain.digest(first) != domain.digest(second)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None), ("", None), ("Basic dXNlcjpwYXNz", None),  # not a bearer request: the session decides
        ("Bearer", ""), ("Bearer abc", ""), ("Bearer fad_" + "x" * 42, ""), ("Bearer fad_" + "é" * 43, ""),
        ("Bearer fad_" + "a" * 43 + " extra", ""),
    ],
)
def test_bearer_header_is_read_strictly(header, expected):
    assert domain.bearer_secret(header) == expected


def test_bearer_header_gives_a_well_formed_secret_whatever_the_scheme_case():
    secret = domain.new_secret()

    assert domain.bearer_secret(f"bearer  {secret} ") == secret


@pytest.mark.parametrize(("name", "expected"), [
    ("  Porte   2  ", "Porte 2"), ("", None), ("   ", None), ("x" * 101, None), ("Porte\x002", None), (None, None),
    ("x" * 100, "x" * 100),
])
def test_device_name_is_tidied_or_refused(name, expected):
    assert domain.clean_name(name) == expected


# --- adding, revoking ---


def test_added_device_keeps_only_a_digest_of_its_secret(demo_event, organiser):
    added = services.add_device(demo_event, "Borne du hall", organiser)

    row = db.session.execute(sa.select(DeviceToken.__table__)).one()._mapping
    assert added.secret not in " ".join(str(value) for value in row.values())
    assert row["token_hash"] == domain.digest(added.secret) and row["token_hint"] == added.secret[:8]
    assert services.device_for_secret(added.secret).id == added.device.id
    [entry] = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "device.add"))
    assert entry.summary == f"Appareil ajouté : Borne du hall ({added.secret[:8]}…)"
    assert added.secret not in str(entry.details)


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_device_without_a_usable_name_is_refused_and_nothing_is_made(demo_event, organiser, name):
    with pytest.raises(InvalidInput) as refused:
        services.add_device(demo_event, name, organiser)

    assert refused.value.field == "name"
    assert db.session.scalar(sa.select(sa.func.count(DeviceToken.id))) == 0


def test_revoked_device_is_no_longer_recognised_and_revoking_again_changes_nothing(demo_event, organiser, device):
    services.revoke_device(demo_event, device.device.id, organiser)
    first = device.device.revoked_at
    services.revoke_device(demo_event, device.device.id, organiser)

    assert services.device_for_secret(device.secret) is None
    assert device.device.revoked_at == first
    assert db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "device.revoke")) == 1


def test_device_of_another_event_cannot_be_revoked_from_this_one(demo_event, organiser, device):
    other = Event(slug="autre", title="Autre forum", timezone="Europe/Paris",
                  start_date=demo_event.start_date, end_date=demo_event.end_date)
    db.session.add(other)
    db.session.commit()

    with pytest.raises(NotFound):
        services.revoke_device(other, device.device.id, organiser)
    assert services.device_for_secret(device.secret) is not None


def test_last_use_is_written_at_most_once_a_minute(app, device):
    app.config["FORUM_NOW"] = "2019-06-06T09:00:00+02:00"
    services.note_use(device.device)
    first = device.device.last_used_at
    app.config["FORUM_NOW"] = "2019-06-06T09:00:30+02:00"
    services.note_use(device.device)
    unchanged = device.device.last_used_at
    app.config["FORUM_NOW"] = "2019-06-06T09:01:05+02:00"
    services.note_use(device.device)

    assert unchanged == first
    assert device.device.last_used_at - first == timedelta(seconds=65)


# --- the API with a token ---


def test_device_records_a_scan_without_a_session_or_a_csrf_token(client, demo_event, device, csrf_on):
    person = register_person(demo_event, 1)

    response = client.post(f"/api/v1/e/{demo_event.slug}/checkins", json=_scan_body(person), headers=_bearer(device.secret))

    assert response.status_code == 201 and response.json["outcome"] == "checked_in"
    row = db.session.scalar(sa.select(CheckIn))
    assert (row.device_id, row.user_id, row.station) == (device.device.id, None, "douchette 2")
    db.session.refresh(device.device)
    assert device.device.last_used_at is not None


def test_device_replaying_a_scan_gets_the_first_answer(client, demo_event, device):
    body = _scan_body(register_person(demo_event, 1))
    url = f"/api/v1/e/{demo_event.slug}/checkins"

    first = client.post(url, json=body, headers=_bearer(device.secret))
    again = client.post(url, json=body, headers=_bearer(device.secret))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 1


def test_device_loads_the_kit_with_its_etag(client, demo_event, device):
    register_person(demo_event, 1)
    url = f"/api/v1/e/{demo_event.slug}/checkin-kit"

    first = client.get(url, headers=_bearer(device.secret))
    again = client.get(url, headers={**_bearer(device.secret), "If-None-Match": first.headers["ETag"]})

    assert first.status_code == 200 and first.json["roster"][0]["name"] == "Prénom1 Nom1"
    assert again.status_code == 304


def test_device_cannot_let_someone_in_without_a_seat(client, demo_event, device):
    person = register_person(demo_event, 1)

    response = client.post(
        f"/api/v1/e/{demo_event.slug}/checkins", json=_scan_body(person, session="A1", force=True),
        headers=_bearer(device.secret),
    )

    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 0


@pytest.mark.parametrize("secret", ["fad_" + "A" * 43, "abc", "", "fad_" + "A" * 43 + "=="])
def test_unknown_or_malformed_token_is_401_and_records_nothing(client, demo_event, device, csrf_on, secret):
    person = register_person(demo_event, 1)

    response = client.post(f"/api/v1/e/{demo_event.slug}/checkins", json=_scan_body(person), headers=_bearer(secret))

    assert response.status_code == 401 and response.json["code"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 0


def test_revoked_token_stops_at_once(client, demo_event, organiser, device):
    url = f"/api/v1/e/{demo_event.slug}/checkin-kit"
    before = client.get(url, headers=_bearer(device.secret))

    services.revoke_device(demo_event, device.device.id, organiser)
    after = client.get(url, headers=_bearer(device.secret))

    assert (before.status_code, after.status_code) == (200, 401)


def test_token_of_another_event_is_refused(client, demo_event, organiser):
    other = Event(slug="autre", title="Autre forum", timezone="Europe/Paris",
                  start_date=demo_event.start_date, end_date=demo_event.end_date)
    db.session.add(other)
    db.session.commit()
    elsewhere = services.add_device(other, "Porte ailleurs", organiser)

    response = client.get(f"/api/v1/e/{demo_event.slug}/checkin-kit", headers=_bearer(elsewhere.secret))

    assert response.status_code == 403 and response.json["code"] == "wrong_event"


def test_token_in_the_address_is_never_accepted(client, demo_event, device):
    response = client.get(f"/api/v1/e/{demo_event.slug}/checkin-kit?access_token={device.secret}")

    assert response.status_code == 401 and response.json.get("code") != "invalid_token"  # anonymous, not a device


def _api_rules(app):
    values = {"slug": "citescap2019", "code": "A1", "item_id": 1, "checkin_id": 1}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi":
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: str(values[m.group(1)]), rule.rule)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                yield rule.endpoint, method, path


def test_device_may_only_scan_and_load_the_kit(app, client, demo_event, device, csrf_on):
    answers = {}
    for endpoint, method, path in _api_rules(app):
        response = client.open(path, method=method, json={}, headers=_bearer(device.secret))
        answers[endpoint] = (response.status_code, (response.get_json(silent=True) or {}).get("code"))

    allowed = {e: a for e, a in answers.items() if a[1] != "device_not_allowed"}
    assert set(allowed) == {"api.checkins", "api.checkin_kit"}, answers
    assert all(status == 403 for e, (status, _) in answers.items() if e not in allowed)
    assert answers["api.checkin_kit"][0] == 200 and answers["api.checkins"][0] == 422  # empty body: fields named


def test_bearer_request_ignores_the_organisers_session_cookie(client, login, demo_event, organiser, device):
    login(organiser)

    stats = client.get(f"/api/v1/e/{demo_event.slug}/stats", headers=_bearer(device.secret))
    forged = client.get(f"/api/v1/e/{demo_event.slug}/stats", headers=_bearer("fad_" + "B" * 43))
    plain = client.get(f"/api/v1/e/{demo_event.slug}/stats")

    assert (stats.status_code, forged.status_code, plain.status_code) == (403, 401, 200)


def test_session_requests_still_need_their_csrf_token(client, login, demo_event, make_user, csrf_on):
    volunteer = make_user("volunteer", demo_event)
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'value="([^"]+)"[^>]*name="csrf_token"|name="csrf_token"[^>]*value="([^"]+)"', page)
    client.post("/login", data={"email": volunteer.email, "password": "correct-horse-battery",
                                "csrf_token": token.group(1) or token.group(2)})
    person = register_person(demo_event, 1)

    api = client.post(f"/api/v1/e/{demo_event.slug}/checkins", json=_scan_body(person), headers={"Authorization": "Basic eDp5"})
    form = client.post("/logout")

    assert api.status_code == 400 and api.json["code"] == "csrf"
    assert form.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(CheckIn.id))) == 0


def test_each_device_has_its_own_rate_limit(own_app):
    app = own_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
    from forum_app.auth.services import ensure_user
    from forum_app.programme import imports

    event = imports.import_schedule_file(DEMO_JSON).event
    organiser = ensure_user("orga-limit@example.org", "correct-horse-battery", event=event, role="organiser")
    first, second = (services.add_device(event, name, organiser).secret for name in ("Porte 1", "Porte 2"))
    client = app.test_client()
    url = f"/api/v1/e/{event.slug}/checkin-kit"

    answers = [client.get(url, headers=_bearer(first)).status_code for _ in range(4)]
    other = client.get(url, headers=_bearer(second))

    assert answers == [200, 200, 200, 429]
    assert other.status_code == 200


# --- the organisers' page ---


def test_organiser_adds_a_device_and_sees_its_token_once(client, login, demo_event, organiser):
    login(organiser)

    created = client.post(f"/e/{demo_event.slug}/admin/devices", data={"name": "Porte 2 – douchette"})
    listing = client.get(f"/e/{demo_event.slug}/admin/devices")

    secret = re.search(r'value="(fad_[A-Za-z0-9_-]{43})"', created.get_data(as_text=True)).group(1)
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    assert "Il n'est affiché qu'ici, une seule fois" in created.get_data(as_text=True)
    page = listing.get_data(as_text=True)
    assert "Porte 2 – douchette" in page and secret[:8] in page and secret not in page
    assert services.device_for_secret(secret) is not None


def test_organiser_form_without_a_name_says_so_and_makes_nothing(client, login, demo_event, organiser):
    login(organiser)

    response = client.post(f"/e/{demo_event.slug}/admin/devices", data={"name": "   "})

    assert response.status_code == 422
    assert "Ce champ est obligatoire." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(DeviceToken.id))) == 0


def test_organiser_revokes_a_device_from_the_list(client, login, demo_event, organiser, device):
    login(organiser)

    response = client.post(f"/e/{demo_event.slug}/admin/devices/{device.device.id}/revoke", follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "« Porte 2 – douchette » est révoqué" in page and "Révoqué le" in page
    assert client.get(f"/api/v1/e/{demo_event.slug}/checkin-kit", headers=_bearer(device.secret)).status_code == 401
