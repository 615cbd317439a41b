"""Fuzzing the JSON API from its own OpenAPI document (schemathesis, in process: WSGI, no server).

Every operation of /api/v1/openapi.json gets generated requests, valid ones (positive) and invalid
ones (negative), sent to the Flask app with CSRF ON, signed in as an organiser of the demo forum.
Most of the time the path points at real data (the demo event, its session codes, real scans and
note items), the session cookie and the X-CSRFToken header are the real ones, and some body fields
name real badges, people and items; otherwise whatever schemathesis made is sent (an unknown event,
a forged cookie: 401, a wrong CSRF token: 400). Checks: never a 5xx, and status codes, content
types, headers and bodies as documented; invalid data is refused.

Bounded: FUZZ_EXAMPLES examples per operation and mode (default 75: about 30 s in all), derandomized
(the same cases on every run, so a failure reproduces). FUZZ_RANDOM=1 explores new cases and
FUZZ_EXAMPLES=500 explores longer, for a session of bug hunting.
"""
from __future__ import annotations

import io
import itertools
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from forum_app import create_app
from forum_app.auth import services as auth_services
from forum_app.badges import services as badges
from forum_app.checkin import services as checkin
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.notes.demo import load_demo_notes
from forum_app.notes.domain import valid_client_id
from forum_app.notes.models import NoteItem
from forum_app.programme import imports
from forum_app.programme.models import Person, Session
from forum_app.registration import services as registration
from forum_app.registration.services import RegistrationInput
from tests.conftest import DEMO_JSON, empty_database

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "75"))
DERANDOMIZE = os.environ.get("FUZZ_RANDOM", "") != "1"
PASSWORD = "correct-horse-battery"
# Flask-Login's "strong" session protection ties the session to the browser (address and
# User-Agent): sign in and fuzz as the same one.
AGENT = {"User-Agent": "forum-app-fuzz"}
ADDRESS = {"REMOTE_ADDR": "127.0.0.1"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


# Invalid data must get one of these (413: a body over the route's limit, e.g. 6,000 ids to order).
CONFIG = schemathesis.Config.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": [400, 401, 403, 404, 409, 413, 415, 422, 429]}}}
)


class FuzzConfig(TestConfig):
    WTF_CSRF_ENABLED = True  # as in production: the CSRF check is fuzzed too


@dataclass
class World:
    app: Flask
    schema: schemathesis.BaseSchema
    slug: str
    cookie: str
    token: str
    codes: list[str]
    checkin_ids: list[int] = field(default_factory=list)
    item_ids: list[int] = field(default_factory=list)
    registration_ids: list[int] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)
    badges: list[str] = field(default_factory=list)
    photo: bytes = b""

    def refresh(self) -> None:
        """The ids as they stand now (earlier operations added items and scans)."""
        from forum_app.checkin.models import CheckIn

        with self.app.app_context():
            self.checkin_ids = list(db.session.scalars(db.select(CheckIn.id).order_by(CheckIn.id)))
            self.item_ids = list(db.session.scalars(db.select(NoteItem.id).order_by(NoteItem.id)))


def _tiny_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (12, 8), (30, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def _sign_in(app: Flask, email: str, slug: str) -> tuple[str, str]:
    """(session cookie, CSRF token) as a browser gets them: the login form, then the station page."""
    client = app.test_client()
    client.environ_base.update(HTTP_USER_AGENT=AGENT["User-Agent"])
    login_page = client.get("/login").get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    signed_in = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": form_token})
    assert signed_in.status_code == 302, signed_in.status_code
    station = client.get(f"/e/{slug}/checkin").get_data(as_text=True)
    token = re.search(r'data-csrf-token="([^"]+)"', station).group(1)
    return client.get_cookie("session").value, token


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    app = create_app(FuzzConfig)
    app.config["NOTES_UPLOAD_DIR"] = str(tmp_path_factory.mktemp("fuzz-uploads"))
    with app.app_context():
        db.create_all()
        event = imports.import_schedule_file(DEMO_JSON).event
        load_demo_notes(event)
        organiser = auth_services.ensure_user("fuzz-organiser@example.org", PASSWORD, name="Fuzz", event=event,
                                              role="organiser")
        people = [
            registration.register(event, RegistrationInput(
                first_name=f"Prénom{n}", last_name=f"Nom{n}", email=f"fuzz{n}@example.org", consent=True,
                workshop_codes=["A1"] if n == 1 else [],
            )).registration
            for n in range(1, 4)
        ]
        texts = [badges.badge_payload(person) for person in people]
        now = datetime.now(UTC)
        for n, text in enumerate([*texts, texts[0], "FA:NOT-A-BADGE"]):  # arrivals, a duplicate, a refusal
            checkin.check_in(event, badge=text, client_id=f"fuzz-seed-{n:04d}", station="porte 1",
                             scanned_at=(now - timedelta(minutes=n)).isoformat(), user=organiser)
        slug = event.slug
        codes = list(db.session.scalars(db.select(Session.code).filter_by(event_id=event.id).order_by(Session.code)))
        person_ids = list(db.session.scalars(db.select(Person.id).filter_by(event_id=event.id)))
        registration_ids = [person.id for person in people]
    cookie, token = _sign_in(app, "fuzz-organiser@example.org", slug)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, config=CONFIG)
    fuzz_world = World(app=app, schema=schema, slug=slug, cookie=cookie, token=token, codes=codes,
                       registration_ids=registration_ids, person_ids=person_ids, badges=texts, photo=_tiny_jpeg())
    yield fuzz_world
    with app.app_context():
        empty_database()


def _operations():
    """(path, method, generation mode) of every documented operation; no negative mode for an
    operation that takes nothing (the document itself): there is nothing to make invalid."""
    from forum_app.api.openapi import build_document

    params = []
    for path, item in build_document()["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            takes_input = "parameters" in item or "parameters" in operation or "requestBody" in operation
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if takes_input else (GenerationMode.POSITIVE,):
                params.append(pytest.param(path, method.upper(), mode, id=f"{method.upper()} {path} {mode.value}"))
    return params


def _often(data, label: str, tenths: int = 8) -> bool:
    """True `tenths` times out of ten (hypothesis decides: shrinkable, reproducible)."""
    return data.draw(st.integers(0, 9), label=label) < tenths


FRESH = itertools.count()

# Where a negative case keeps its invalid data, when it made several parts invalid: the deepest one.
TARGETS = ("body", "query", "path", "header", "cookie")


def _negated(case) -> set[str]:
    """The parts schemathesis made invalid in a negative case."""
    if case.meta is None:
        return set()
    return {location.value for location, info in case.meta.components.items() if info.mode.is_negative}


def _target(case) -> str | None:
    """The one part of a negative case left invalid ("body", "query", "path", "header" or "cookie");
    every other part is made real, so the server meets exactly that invalid part behind a valid
    session and CSRF token (otherwise a refused CSRF token would hide most invalid bodies), and the
    negative_data_rejection check stays true: that part is invalid, it must be refused."""
    negated = _negated(case)
    return next((location for location in TARGETS if location in negated), None)


def _checks(case, keep: str | None) -> list:
    """All the checks; negative_data_rejection only when the part left invalid is the body or the only
    invalid one (schemathesis still counts a repaired part as invalid, and excuses unknown query
    parameters, which the server ignores, only when nothing else was made invalid), and not for a
    repeated query parameter."""
    repaired = _negated(case) - {keep}
    # A repeated query parameter (?since=1&since=x): the server reads the first value, as Flask does.
    repeated = keep == "query" and any(isinstance(v, list) and len(v) > 1 for v in (case.query or {}).values())
    if (repaired and keep != "body") or repeated:
        return [check for check in CHECKS if check is not negative_data_rejection]
    return CHECKS


def _aim(case, data, world: World) -> str | None:
    """Point the generated request at real data most of the time; leave it as generated otherwise.
    Returns the part of a negative case left invalid."""
    keep = _target(case)
    sure = keep is not None  # a negative case: every part but `keep` is made real, always
    params = case.path_parameters if case.path_parameters is not None else {}
    if keep != "path":
        if "slug" in params and (sure or _often(data, "real event", 9)):
            params["slug"] = world.slug
        if "code" in params and (sure or _often(data, "real session")):
            params["code"] = data.draw(st.sampled_from(world.codes), label="code")
        for name, pool in (("checkin_id", world.checkin_ids), ("item_id", world.item_ids)):
            if name in params and pool and (sure or _often(data, f"real {name}")):
                params[name] = data.draw(st.sampled_from(pool), label=name)

    if keep != "cookie" and (sure or _often(data, "signed in", 9)):
        case.cookies = {**(case.cookies or {}), "session": world.cookie}
    if case.method in {"POST", "PATCH", "PUT", "DELETE"} and keep != "header" and (sure or _often(data, "real CSRF", 9)):
        case.headers = {**(case.headers or {}), "X-CSRFToken": world.token}

    body = case.body
    if keep == "body" and isinstance(body, dict) and valid_client_id(body.get("client_id")):
        # A client_id used before gets the first answer back (200) whatever the body says now: the
        # idempotency of writes. A fresh one, so that the invalid body is what the server judges.
        body["client_id"] = f"fuzz-{next(FRESH):012d}"
    if isinstance(body, dict) and keep != "body":
        references = {
            "badge": world.badges, "registration_id": world.registration_ids, "session": world.codes,
            "into": world.item_ids,
        }
        for key, pool in references.items():
            if key in body and pool and _often(data, f"real {key}", 5):
                body[key] = data.draw(st.sampled_from(pool), label=key)
        if isinstance(body.get("ids"), list) and world.item_ids and _often(data, "real ids", 5):
            body["ids"] = data.draw(st.lists(st.sampled_from(world.item_ids), unique=True, max_size=8), label="ids")
        if isinstance(body.get("attribution"), dict) and world.person_ids and _often(data, "real person", 5):
            body["attribution"]["person_id"] = data.draw(st.sampled_from(world.person_ids), label="person_id")
        if "file" in body and _often(data, "real photo", 5):
            body["file"] = world.photo
    return keep


@pytest.mark.parametrize(("path", "method", "mode"), _operations())
def test_api_operation_never_fails_and_answers_as_documented(world, path, method, mode):
    world.refresh()
    operation = world.schema[path][method]

    @settings(max_examples=EXAMPLES, derandomize=DERANDOMIZE, database=None, deadline=timedelta(seconds=10),
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
              print_blob=True)
    @given(case=operation.as_strategy(mode), data=st.data())
    def fuzz(case, data):
        keep = _aim(case, data, world)
        # The WSGI transport does not unzip: ask for plain bytes (gzip is web.py's, tested there).
        response = case.call(headers={**AGENT, "Accept-Encoding": "identity"}, environ_base=ADDRESS)
        case.validate_response(response, checks=_checks(case, keep))

    fuzz()
