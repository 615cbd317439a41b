"""The OpenAPI document of /api/v1 (forum_app/api/openapi.py): valid OpenAPI 3.1, complete (every
route of the app under /api/v1 with its methods), served publicly with an ETag, and true: real
answers of the API, one per documented status, match the documented schemas."""
from __future__ import annotations

import io
import re
import uuid
from datetime import UTC, datetime

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from forum_app.api.openapi import SERVER, build_document
from forum_app.badges import services as badges
from forum_app.extensions import db
from forum_app.notes.models import RapporteurAssignment
from forum_app.programme.models import Session
from forum_app.registration import services as registration
from forum_app.registration.services import RegistrationInput
from tests.conftest import DEMO_JSON

DOCUMENT = build_document()
BASE = "urn:forum-app:openapi"
REGISTRY = Registry().with_resource(BASE, Resource(contents=DOCUMENT, specification=DRAFT202012))
RULE_PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
OPERATION_METHODS = {"get", "put", "post", "patch", "delete"}


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _documented_answer(path: str, method: str, status: int) -> tuple[str, dict]:
    """(JSON pointer, object) of the documented response, its $ref followed."""
    responses = DOCUMENT["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path}: status {status} is not documented ({sorted(responses)})"
    pointer = f"/paths/{_escape(path)}/{method.lower()}/responses/{status}"
    answer = responses[str(status)]
    if "$ref" in answer:
        pointer = answer["$ref"][1:]
        answer = DOCUMENT
        for part in pointer.strip("/").split("/"):
            answer = answer[part.replace("~1", "/").replace("~0", "~")]
    return pointer, answer


def assert_documented(path: str, method: str, response) -> None:
    """The answer's status is documented for this operation, and its body matches the schema."""
    pointer, answer = _documented_answer(path, method, response.status_code)
    if "content" not in answer:
        assert response.data == b"", f"{method} {path} {response.status_code} documents no body"
        return
    assert response.mimetype in answer["content"], (response.mimetype, list(answer["content"]))
    schema = {"$ref": f"{BASE}#{pointer}/content/{_escape(response.mimetype)}/schema"}
    validator = Draft202012Validator(schema, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json)]
    assert not errors, f"{method} {path} {response.status_code}: {errors[:5]}"
    for name, header in answer.get("headers", {}).items():
        if name == "ETag":
            assert response.headers.get("ETag"), f"{method} {path} {response.status_code}: no ETag"


# --------------------------------------------------------------------------- the document


def test_document_is_valid_openapi_3_1():
    OpenAPIV31SpecValidator(DOCUMENT).validate()

    assert DOCUMENT["openapi"].startswith("3.1.")


def test_every_api_rule_of_the_app_is_documented_with_its_methods_and_nothing_else(app):
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(SERVER + "/"):
            continue
        path = RULE_PLACEHOLDER.sub(r"{\1}", rule.rule[len(SERVER):])
        served |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in DOCUMENT["paths"].items() for method in item
                  if method in OPERATION_METHODS}

    assert served - documented == set(), "routes missing from forum_app/api/openapi.py"
    assert documented - served == set(), "documented operations the app does not serve"


def test_every_path_placeholder_has_its_parameter():
    for path, item in DOCUMENT["paths"].items():
        declared = {DOCUMENT["components"]["parameters"][p["$ref"].rsplit("/", 1)[1]]["name"]
                    for p in item.get("parameters", []) if "$ref" in p}

        assert declared == set(re.findall(r"{([^}]+)}", path)), path


def test_every_operation_documents_its_error_answers():
    for path, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            if method not in OPERATION_METHODS or path == "/openapi.json":
                continue
            codes = set(operation["responses"])

            assert {"401", "403", "404", "429", "503"} <= codes, (method, path)
            if method in {"post", "patch"}:
                assert "400" in codes and operation["security"][0] == {"staffSession": [], "csrfHeader": []}, path
            if "requestBody" in operation and "application/json" in operation["requestBody"]["content"]:
                assert {"413", "415", "422"} <= codes, (method, path)


def test_documented_limits_are_the_domain_limits():
    from forum_app.checkin import domain as checkin_domain
    from forum_app.notes import domain as notes_domain

    schemas = DOCUMENT["components"]["schemas"]

    assert schemas["NoteCreate"]["properties"]["text"]["maxLength"] == notes_domain.TEXT_MAX
    assert schemas["PhotoUpload"]["properties"]["caption"]["maxLength"] == notes_domain.CAPTION_MAX
    assert schemas["Attribution"]["properties"]["name"]["type"] == ["string", "null"]
    assert schemas["Attribution"]["properties"]["name"]["maxLength"] == notes_domain.NAME_MAX
    assert schemas["CheckinRequest"]["properties"]["station"]["maxLength"] == checkin_domain.STATION_MAX
    assert schemas["CheckinRequest"]["properties"]["badge"]["maxLength"] == checkin_domain.BADGE_MAX
    assert schemas["ClientId"]["maxLength"] == checkin_domain.CLIENT_ID_MAX == notes_domain.CLIENT_ID_MAX


# --------------------------------------------------------------------------- serving it


def test_openapi_json_is_public_json_cacheable_with_an_etag(client):
    response = client.get("/api/v1/openapi.json")
    again = client.get("/api/v1/openapi.json", headers={"If-None-Match": response.headers["ETag"]})
    zipped = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    zipped_again = client.get("/api/v1/openapi.json",
                              headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]})

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json == DOCUMENT
    assert "public" in response.headers["Cache-Control"] and "max-age" in response.headers["Cache-Control"]
    assert again.status_code == 304 and again.data == b""
    assert zipped.headers["Content-Encoding"] == "gzip" and zipped_again.status_code == 304
    assert_documented("/openapi.json", "GET", response)


# --------------------------------------------------------------------------- real answers


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _scan(badge, **extra) -> dict:
    return {"badge": badge, "client_id": uuid.uuid4().hex, "station": "porte 1", "scanned_at": _now(), **extra}


def _note(**extra) -> dict:
    return {"client_id": uuid.uuid4().hex, "kind": "key_point", "text": "Le foncier manque.", "captured_at": _now(),
            **extra}


@pytest.fixture
def staff(app, demo_event, make_user):
    """Signed-in clients: organiser, volunteer, rapporteur of A1; and an anonymous one."""
    clients = {"anonymous": app.test_client()}
    users = {}
    for role in ("organiser", "volunteer", "rapporteur"):
        users[role] = make_user(role, demo_event)
        clients[role] = app.test_client()
        assert clients[role].post("/login", data={"email": users[role].email,
                                                  "password": "correct-horse-battery"}).status_code == 302
    a1 = db.session.scalar(db.select(Session).filter_by(event_id=demo_event.id, code="A1"))
    db.session.add(RapporteurAssignment(user_id=users["rapporteur"].id, session_id=a1.id))
    db.session.commit()
    return clients


def test_check_in_answers_match_the_document(staff, demo_event):
    organiser, volunteer = staff["organiser"], staff["volunteer"]
    person = registration.register(demo_event, RegistrationInput(
        first_name="Nadia", last_name="Benali", email="nb@example.org", consent=True, workshop_codes=["A1"])).registration
    badge = badges.badge_payload(person)
    url = f"/api/v1/e/{demo_event.slug}/checkins"
    path = "/e/{slug}/checkins"
    first = volunteer.post(url, json=_scan(badge))
    kit = volunteer.get(f"/api/v1/e/{demo_event.slug}/checkin-kit")
    refused = volunteer.post(url, json=_scan("FA:FAUX"))
    answers = {
        "201 scan": first,
        "200 replay": volunteer.post(url, json={**_scan(badge), "client_id": _client_id_of(first)}),
        "201 by name": organiser.post(url, json={**_scan(None), "registration_id": person.id}),
        "400 unreadable": volunteer.post(url, data='{"badge": ', content_type="application/json"),
        "401": staff["anonymous"].post(url, json=_scan(badge)),
        "403 force": volunteer.post(url, json=_scan(badge, session="A2", force=True)),
        "404 event": volunteer.post("/api/v1/e/nulle-part/checkins", json=_scan(badge)),
        "413": volunteer.post(url, data='{"badge": "' + "A" * 20000 + '"}', content_type="application/json"),
        "415": volunteer.post(url, data="badge=x", content_type="application/x-www-form-urlencoded"),
        "422": volunteer.post(url, json=_scan(badge, station="p" * 101)),
    }

    for label, response in answers.items():
        assert response.status_code == int(label[:3]), (label, response.status_code, response.json)
        assert_documented(path, "POST", response)
    assert_documented("/e/{slug}/checkin-kit", "GET", kit)
    assert_documented("/e/{slug}/checkin-kit", "GET",
                      volunteer.get(f"/api/v1/e/{demo_event.slug}/checkin-kit", headers={"If-None-Match": kit.headers["ETag"]}))
    undo = f"/api/v1/e/{demo_event.slug}/checkins/{{}}/undo"
    undo_path = "/e/{slug}/checkins/{checkin_id}/undo"
    assert_documented(undo_path, "POST", organiser.post(undo.format(first.json["checkin_id"])))
    assert_documented(undo_path, "POST", organiser.post(undo.format(refused.json["checkin_id"])))  # 409
    assert_documented(undo_path, "POST", volunteer.post(undo.format(first.json["checkin_id"])))  # 403
    assert_documented(undo_path, "POST", organiser.post(undo.format(999999)))  # 404
    stats = organiser.get(f"/api/v1/e/{demo_event.slug}/stats")
    assert_documented("/e/{slug}/stats", "GET", stats)
    assert_documented("/e/{slug}/stats", "GET", organiser.get(f"/api/v1/e/{demo_event.slug}/stats",
                                                              headers={"If-None-Match": stats.headers["ETag"]}))
    assert_documented("/e/{slug}/stats", "GET", organiser.get(f"/api/v1/e/{demo_event.slug}/stats?day=demain"))


def _client_id_of(answer) -> str:
    """The client_id a check-in answer was recorded under (the answer does not repeat it)."""
    from forum_app.checkin.models import CheckIn

    return db.session.get(CheckIn, answer.json["checkin_id"]).client_id


def test_notes_answers_match_the_document(staff, demo_event, tmp_path):
    from flask import current_app

    current_app.config["NOTES_UPLOAD_DIR"] = str(tmp_path)
    organiser, rapporteur = staff["organiser"], staff["rapporteur"]
    base = f"/api/v1/e/{demo_event.slug}"
    feed = rapporteur.get(f"{base}/s/A1/notes")
    speaker = feed.json["session"]["people"][0]["id"]
    quote = rapporteur.post(f"{base}/s/A1/notes", json=_note(kind="quote", text="Des baux courts.",
                                                             attribution={"person_id": speaker}))
    other = rapporteur.post(f"{base}/s/A1/notes", json=_note(text="Des baux courts, vraiment."))
    edited = rapporteur.patch(f"{base}/notes/{quote.json['id']}", json={"version": 1, "text": "Des baux courts !"})
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 120, 200)).save(jpeg, "JPEG")
    photo = rapporteur.post(f"{base}/s/A1/photos", content_type="multipart/form-data", data={
        "client_id": uuid.uuid4().hex, "captured_at": _now(), "caption": "La salle", "credit": "Fuzz",
        "highlighted": "1", "file": (io.BytesIO(jpeg.getvalue()), "salle.jpg", "image/jpeg")})
    answers = [
        ("/e/{slug}/s/{code}/notes", "GET", feed),
        ("/e/{slug}/s/{code}/notes", "GET", rapporteur.get(f"{base}/s/A1/notes",
                                                           headers={"If-None-Match": feed.headers["ETag"]})),
        ("/e/{slug}/s/{code}/notes", "GET", rapporteur.get(f"{base}/s/A2/notes")),  # 403 not_assigned
        ("/e/{slug}/s/{code}/notes", "GET", rapporteur.get(f"{base}/s/A1/notes?since=x")),  # 422
        ("/e/{slug}/s/{code}/notes", "POST", quote),
        ("/e/{slug}/s/{code}/notes", "POST", rapporteur.post(f"{base}/s/ZZ9/notes", json=_note())),  # 404
        ("/e/{slug}/s/{code}/notes", "POST", rapporteur.post(f"{base}/s/A1/notes", json=_note(text="x" * 5001))),
        ("/e/{slug}/notes/{item_id}", "PATCH", edited),
        ("/e/{slug}/notes/{item_id}", "PATCH", rapporteur.patch(f"{base}/notes/{quote.json['id']}",
                                                                json={"version": 1, "text": "Autre chose"})),  # 409
        ("/e/{slug}/s/{code}/notes/order", "POST", rapporteur.post(f"{base}/s/A1/notes/order",
                                                                    json={"ids": [other.json["id"]]})),
        ("/e/{slug}/notes/{item_id}/merge", "POST", organiser.post(f"{base}/notes/{other.json['id']}/merge",
                                                                   json={"into": quote.json["id"]})),
        ("/e/{slug}/notes/{item_id}/merge", "POST", rapporteur.post(f"{base}/notes/{other.json['id']}/merge",
                                                                    json={"into": quote.json["id"]})),  # 403
        ("/e/{slug}/s/{code}/photos", "POST", photo),
        ("/e/{slug}/s/{code}/photos", "POST", rapporteur.post(f"{base}/s/A1/photos", json={})),  # 415
    ]

    assert (quote.status_code, edited.status_code, photo.status_code) == (201, 200, 201)
    assert answers[8][2].status_code == 409 and answers[8][2].json["current"]["id"] == quote.json["id"]
    assert photo.json["photo"]["url"]
    for path, method, response in answers:
        assert_documented(path, method, response)


def test_csrf_refusal_matches_the_document(app, staff, demo_event):
    app.config["WTF_CSRF_ENABLED"] = True

    response = staff["volunteer"].post(f"/api/v1/e/{demo_event.slug}/checkins", json=_scan("FA:X"))

    assert response.status_code == 400 and response.json["code"] == "csrf"
    assert_documented("/e/{slug}/checkins", "POST", response)


def test_rate_limited_answer_matches_the_document(own_app):
    app = own_app(RATELIMIT_ENABLED=True, API_RATE_LIMIT="2 per minute")
    from forum_app.programme import imports

    slug = imports.import_schedule_file(DEMO_JSON).event.slug
    client = app.test_client()
    answers = [client.get(f"/api/v1/e/{slug}/checkin-kit") for _ in range(3)]

    assert [a.status_code for a in answers] == [401, 401, 429]
    assert answers[-1].headers["Retry-After"]
    assert_documented("/e/{slug}/checkin-kit", "GET", answers[-1])


def test_only_the_scan_and_the_kit_accept_a_device_token():
    with_device = {
        (method, path)
        for path, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method in OPERATION_METHODS and {"deviceToken": []} in operation.get("security", [])
    }

    assert with_device == {("post", "/e/{slug}/checkins"), ("get", "/e/{slug}/checkin-kit")}
    assert DOCUMENT["components"]["securitySchemes"]["deviceToken"] == {
        **DOCUMENT["components"]["securitySchemes"]["deviceToken"], "type": "http", "scheme": "bearer"
    }
