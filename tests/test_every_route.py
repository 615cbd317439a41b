"""Every route × every kind of visitor: the answer each one gets, and that a refused write changes nothing.

The walk reads the URL map: every rule, every method but HEAD and OPTIONS. ROUTES below states, for
each endpoint, who may use it; a route added without a line there fails
`test_the_table_names_every_route_and_method` (so nobody forgets to decide). Visitors:

- anonymous; attendee (no account: the magic link of a confirmed registration, which the client has
  opened); a staff account with no role; the event's volunteer; a rapporteur assigned to session A1;
  an organiser of another event; the event's organiser; a site admin.

Answers by kind of route:

- public: 200 (or a redirect, 304) for everyone; a write gets no refusal and no 500.
- staff screens: anonymous and attendee are sent to /login (302); a signed-in account without the
  role gets 403; an allowed one gets neither 401/403/404/405 nor a 5xx. Anything under /admin is
  `Cache-Control: no-store` whoever asks.
- API: JSON always; 401 without a staff session, 403 for a role not allowed, 200/201 when allowed.
- attendee links (<token>): the attendee with their own token is served; a token of an attendee of
  another event, at this event, is 404 for every visitor (the attendee included).
- other private links (<secret>, <token> of a staff invitation): whoever holds the link is served
  (it is the credential); a made-up one is 404.
- routes about one session's notes (<code>, photos, note ids): the rapporteur is served for their
  session (A1) and refused (403) for another (A2); routes that do not depend on the assignment answer
  A2 as they answer A1.

Every refused non-GET request is checked against a fingerprint of the whole database (each table's
rows) and of the stored photos: nothing may change; a refused GET, against every table's row count
and the programme's version. Allowed writes act on objects made for that one
request (a fresh registration, room, rapporteur, scan, note...), so a deletion by one visitor never
takes another request's target away; GET routes run first, on shared objects.

One app and one data set for the module (in memory on SQLite, or TEST_DATABASE_URL), one client per
visitor. This walk replaces tests/test_route_roles.py (/admin routes) and tests/test_api_roles.py
(/api routes): every assertion they made is made here too, for every route.
"""
from __future__ import annotations

import io
import itertools
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import current_app
from PIL import Image
from werkzeug.security import generate_password_hash

from forum_app import create_app
from forum_app.auth.models import EventRole, User
from forum_app.badges import services as badges
from forum_app.checkin.models import CheckIn
from forum_app.config import TestConfig
from forum_app.devices import services as device_services
from forum_app.extensions import db
from forum_app.notes import rapporteurs as rapporteur_services
from forum_app.notes import services as notes_services
from forum_app.notes.models import NoteItem, RapporteurAssignment
from forum_app.programme import imports
from forum_app.programme.models import Event, Person, Room, Session, SessionPerson, Track
from forum_app.registration import services as registration_services
from forum_app.registration.models import Delegation, Registration
from forum_app.report import approvals, review
from forum_app.report import services as report_services
from tests.conftest import DEMO_JSON, _fresh_globals_per_request, empty_database

PASSWORD = "correct-horse-battery"
PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")  # <slug>, <int:session_id>, <any(pdf, docx, md):fmt>

VISITORS = ("anonymous", "attendee", "no-role", "volunteer", "rapporteur", "organiser-elsewhere", "organiser", "site-admin")
WITHOUT_ACCOUNT = frozenset({"anonymous", "attendee"})
EVERYONE = frozenset(VISITORS)
SIGNED_IN = EVERYONE - WITHOUT_ACCOUNT
ORGANISERS = frozenset({"organiser", "site-admin"})
DOOR = ORGANISERS | {"volunteer"}
NOTE_WRITERS = ORGANISERS | {"rapporteur"}  # the rapporteur for their own session only (see `assigned`)


@dataclass(frozen=True)
class Access:
    """Who may use a route, and how the others are turned away.

    kind: "public", "staff" (HTML: /login or 403), "api" (JSON: 401 or 403), "attendee" (the magic
    link), "link" (a private link: whoever holds it), "logout", "thanks" (a page only the browser
    that just answered sees: 404 for everyone else).
    assigned: the rapporteur is allowed for their own session's objects only.
    """

    kind: str
    allowed: frozenset = EVERYONE
    methods: tuple[str, ...] = ("GET",)
    assigned: bool = False


def public(*methods: str) -> Access:
    return Access("public", EVERYONE, methods or ("GET",))


def staff(allowed: frozenset, *methods: str, assigned: bool = False) -> Access:
    return Access("staff", allowed, methods or ("GET",), assigned)


def api(allowed: frozenset, *methods: str, assigned: bool = False) -> Access:
    return Access("api", allowed, methods or ("GET",), assigned)


ORGANISER_SCREEN = staff(ORGANISERS)
ORGANISER_FORM = staff(ORGANISERS, "GET", "POST")
ORGANISER_ACTION = staff(ORGANISERS, "POST")

# Every endpoint of the application: who may use it. A new route needs a line here.
ROUTES: dict[str, Access] = {
    # The public site
    "programme.home": public(),
    "programme.event_programme": public(),
    "programme.session_page": public(),
    "programme.session_ics": public(),
    "programme.programme_ics": public(),
    "programme.agenda_ics": public(),
    "programme.my_programme": public(),
    "programme.schedule_json": public(),
    "programme.schedule_xml": public(),
    "programme.favicon": public(),
    "programme.service_worker": public(),
    "static": public(),
    "static_release": public(),
    "healthz": public(),
    "badges.badge_keys": public(),
    "registration.register": public("GET", "POST"),
    "registration.registered": public(),
    "registration.privacy": public(),
    "registration.erased": public(),
    "report.report_page": public(),  # published in this data set (404 before: see the test below)
    "report.report_file": public(),
    "report.photo": public(),
    "report_quotes.answered": Access("thanks"),  # after answering a quote link, in that browser only
    "api.openapi": public(),
    "auth.login": public("GET", "POST"),
    # The attendee's own space (the magic link)
    "registration.me": Access("attendee"),
    "registration.edit_details": Access("attendee", methods=("GET", "POST")),
    "registration.change_workshops": Access("attendee", methods=("GET", "POST")),
    "registration.cancel": Access("attendee", methods=("GET", "POST")),
    "registration.erase": Access("attendee", methods=("GET", "POST")),
    "registration.download_data": Access("attendee"),
    "badges.attendee_badge_pdf": Access("attendee"),
    # Private links sent by email
    "report_quotes.quote": Access("link", methods=("GET", "POST")),  # the person quoted
    "auth.invitation": Access("link", methods=("GET", "POST")),  # a new rapporteur
    # Staff, outside any event
    "auth.staff_home": staff(SIGNED_IN),
    "auth.logout": Access("logout", methods=("POST",)),
    # Door, notes, review
    "checkin.station": staff(DOOR),
    "notes.capture": staff(NOTE_WRITERS, assigned=True),
    "notes_photos.photo": staff(NOTE_WRITERS, assigned=True),
    "report_quotes.review": staff(NOTE_WRITERS, "GET", "POST"),  # every rapporteur of the event
    # The JSON API
    "api.checkins": api(DOOR, "POST"),
    "api.checkin_kit": api(DOOR),
    "api.undo": api(ORGANISERS, "POST"),
    "api.stats": api(ORGANISERS),
    "api.add_note": api(NOTE_WRITERS, "POST", assigned=True),
    "api.list_notes": api(NOTE_WRITERS, assigned=True),
    "api.edit_note": api(NOTE_WRITERS, "PATCH", assigned=True),
    "api.reorder_notes": api(NOTE_WRITERS, "POST", assigned=True),
    "api.add_photo": api(NOTE_WRITERS, "POST", assigned=True),
    "api.merge_note": api(ORGANISERS, "POST"),
    # The organisers' screens (site admins pass everywhere)
    "admin.dashboard": ORGANISER_SCREEN,
    "admin.session_new": ORGANISER_FORM,
    "admin.session_edit": ORGANISER_FORM,
    "admin.session_delete": ORGANISER_FORM,
    "admin.session_person_add": ORGANISER_ACTION,
    "admin.session_person_remove": ORGANISER_ACTION,
    "admin.rooms": ORGANISER_SCREEN,
    "admin.room_new": ORGANISER_FORM,
    "admin.room_edit": ORGANISER_FORM,
    "admin.room_delete": ORGANISER_FORM,
    "admin.tracks": ORGANISER_SCREEN,
    "admin.track_new": ORGANISER_FORM,
    "admin.track_edit": ORGANISER_FORM,
    "admin.track_delete": ORGANISER_FORM,
    "admin.people": ORGANISER_SCREEN,
    "admin.person_new": ORGANISER_FORM,
    "admin.person_edit": ORGANISER_FORM,
    "admin.person_delete": ORGANISER_FORM,
    "admin_registrations.registrations": ORGANISER_SCREEN,
    "admin_registrations.export_csv": ORGANISER_SCREEN,
    "admin_registrations.export_xlsx": ORGANISER_SCREEN,
    "admin_registrations.registration_new": ORGANISER_FORM,
    "admin_registrations.registration_detail": ORGANISER_SCREEN,
    "admin_registrations.registration_edit": ORGANISER_FORM,
    "admin_registrations.registration_confirm": ORGANISER_ACTION,
    "admin_registrations.registration_reject": ORGANISER_ACTION,
    "admin_registrations.registration_resend": ORGANISER_ACTION,
    "admin_registrations.registration_cancel": ORGANISER_FORM,
    "admin_registrations.delegations": ORGANISER_SCREEN,
    "admin_registrations.delegation_new": ORGANISER_FORM,
    "admin_registrations.delegation_edit": ORGANISER_FORM,
    "admin_registrations.delegation_delete": ORGANISER_FORM,
    "admin_registrations.delegation_import": ORGANISER_FORM,
    "admin_registrations.attendance_pdf": ORGANISER_SCREEN,
    "admin_rapporteurs.rapporteurs": ORGANISER_SCREEN,
    "admin_rapporteurs.invite": ORGANISER_ACTION,
    "admin_rapporteurs.resend": ORGANISER_ACTION,
    "admin_rapporteurs.assign": ORGANISER_ACTION,
    "admin_rapporteurs.unassign": ORGANISER_ACTION,
    "admin_rapporteurs.remove": ORGANISER_FORM,
    "badges.admin_badges": ORGANISER_SCREEN,
    "badges.sheets_pdf": ORGANISER_SCREEN,
    "badges.mark_printed": ORGANISER_ACTION,
    "badges.registration_badge_pdf": ORGANISER_SCREEN,
    "badges.reissue": ORGANISER_ACTION,
    "checkin_admin.arrivals": ORGANISER_SCREEN,
    "checkin_admin.arrivals_live": ORGANISER_SCREEN,
    "checkin_admin.checkins": ORGANISER_SCREEN,
    "checkin_admin.undo": ORGANISER_ACTION,
    "notes_admin.overview": ORGANISER_SCREEN,
    "notes_admin.overview_live": ORGANISER_SCREEN,
    "notes_admin.session_notes": ORGANISER_SCREEN,
    "notes_admin.fix_attribution": ORGANISER_ACTION,
    "notes_admin.merge": ORGANISER_ACTION,
    "notes_admin.set_in_report": ORGANISER_ACTION,
    "notes_admin.restore": ORGANISER_ACTION,
    "report_admin.overview": ORGANISER_FORM,
    "report_admin.cover": ORGANISER_ACTION,
    "report_admin.back_to_draft": ORGANISER_ACTION,
    "report_admin.start_review": ORGANISER_ACTION,
    "report_admin.publish": ORGANISER_FORM,
    "report_admin.withdraw": ORGANISER_FORM,
    "report_admin.preview": ORGANISER_SCREEN,
    "report_admin.preview_file": ORGANISER_SCREEN,
    "report_admin.section": ORGANISER_FORM,
    "report_admin.move_section": ORGANISER_ACTION,
    "report_admin.item_text": ORGANISER_ACTION,
    "report_admin.item_visibility": ORGANISER_ACTION,
    "report_admin.item_move": ORGANISER_ACTION,
    "report_quotes.admin_quotes": ORGANISER_FORM,
    "audit.journal": ORGANISER_SCREEN,
    "devices.devices": ORGANISER_SCREEN,
    "devices.add": ORGANISER_ACTION,
    "devices.revoke": ORGANISER_ACTION,
}

# What a refused visitor posts to an HTML route: every field the organisers' forms read, each asking
# for a change (the report editor's fields, the registration, room, session and invitation forms).
HOSTILE_FORM = {
    "version": "1", "title": "Piraté", "lead": "Piraté", "organised_by": "Piraté", "introduction_md": "Piraté",
    "conclusion_md": "Piraté", "next_steps_md": "Piraté", "links_md": "Piraté", "show_attendance": "",
    "empty_sessions": "omit", "refused_quotes": "anonymise", "summary_md": "Piraté", "hidden": "1", "text": "Piraté",
    "direction": "down", "action": "save", "confirm": "1", "note": "Piraté", "item_id": "", "name": "Piraté",
    "first_name": "Pirate", "last_name": "Pirate", "email": "pirate@example.org", "category": "autre",
    "capacity": "1", "code": "ZZ9", "kind": "workshop", "state": "approved", "password": "pirate-pirate-1",
    "confirm_password": "pirate-pirate-1",
}  # fmt: skip
API_ROUTES_NEEDING_A_BODY = {"api.checkins", "api.add_note", "api.edit_note", "api.reorder_notes", "api.merge_note",
                             "api.undo", "api.add_photo"}  # fmt: skip
MULTIPART = {"api.add_photo"}  # sent as a browser sends a file
FRESH_CLIENT = {"auth.logout", "auth.login", "auth.invitation"}  # could sign the visitor's client in or out


def _rules():
    app = create_app(TestConfig)
    rules = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            rules.append((rule.rule, rule.endpoint, method))
    # GET first: the writes come after every read, on objects of their own.
    return sorted(rules, key=lambda r: (r[2] != "GET", r[0], r[2]))


RULES = _rules()


def test_the_table_names_every_route_and_method():
    walked = {}
    for _path, endpoint, method in RULES:
        walked.setdefault(endpoint, set()).add(method)

    unknown = sorted(set(walked) - set(ROUTES))
    gone = sorted(set(ROUTES) - set(walked))
    assert not unknown, f"new routes: say who may use them in ROUTES (tests/test_every_route.py): {unknown}"
    assert not gone, f"routes listed in ROUTES that no longer exist: {gone}"
    wrong_methods = {e: sorted(m) for e, m in walked.items() if m != set(ROUTES[e].methods)}
    assert not wrong_methods, f"methods differ from ROUTES: {wrong_methods}"


def test_every_admin_path_is_for_organisers():
    """A route under /e/<slug>/admin is an organiser screen: nothing there is open to another role."""
    admin_routes = {endpoint for path, endpoint, _ in RULES if path.startswith("/e/<slug>/admin")}

    assert {e for e in admin_routes if ROUTES[e].allowed != ORGANISERS} == set()


# --- The data set ----------------------------------------------------------------------------------------


def _user(email: str, role: str | None = None, event: Event | None = None, *, admin: bool = False, name: str = "") -> User:
    user = User(email=email, name=name, password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1"), is_admin=admin)
    if role:
        user.roles.append(EventRole(event_id=event.id, role=role))
    db.session.add(user)
    return user


def _tiny_jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


@dataclass
class World:
    app: object
    event: Event
    other: Event
    users: dict[str, User]
    shared: dict[str, object]  # URL values of the objects the GET routes read
    other_values: dict[str, object]  # the same names, for the session the rapporteur is NOT assigned to
    clients: dict[str, object] = field(default_factory=dict)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def session(self, code: str) -> Session:
        return db.session.scalar(db.select(Session).filter_by(event_id=self.event.id, code=code))


def _registration(event: Event, n: str, *, workshops=()) -> Registration:
    data = registration_services.RegistrationInput(
        f"Prénom{n}", f"Nom{n}", f"personne-{n}@example.org", organisation="Ville de Roubaix", consent=True,
        workshop_codes=list(workshops),
    )
    # register_many: the same checks and seats as register(), without the welcome mail and its badge PDF
    return registration_services.register_many(event, [data], source="desk", notify=False)[0].registration


def _note(world: World, code: str, text: str, **values) -> NoteItem:
    session = world.session(code)
    moment = datetime(2019, 6, 6, 9, 30, tzinfo=UTC)
    item = NoteItem(event_id=world.event.id, session_id=session.id, client_id=uuid.uuid4().hex, kind="key_point",
                    text=text, captured_at=moment, created_at=moment, position=next(world.counter), **values)  # fmt: skip
    db.session.add(item)
    db.session.commit()
    return item


def _quote_secret(world: World, code: str = "A1") -> str:
    """A named quote and the private link sent to the person quoted (its secret)."""
    organiser = world.users["organiser"]
    n = next(world.counter)
    body = {"client_id": uuid.uuid4().hex, "kind": "quote", "text": f"Citation {n}",
            "captured_at": "2019-06-06T09:40:00+00:00",
            "attribution": {"name": f"Personne {n}", "job_title": "Maire", "organisation": "Ville"}}  # fmt: skip
    note_id = notes_services.add_item(world.event, world.session(code), organiser, body).item["id"]
    _approval, secret = approvals.request_approval(world.event, note_id, organiser, f"cite-{n}@example.org")
    return secret


def _invitation_token(world: World) -> str:
    n = next(world.counter)
    invitation = rapporteur_services.invite(world.event, f"invite-{n}@example.org", f"Invité {n}")
    return urlsplit(invitation.url).path.rsplit("/", 1)[1]


def _photo(client, event: Event, code: str) -> str:
    response = client.post(
        f"/api/v1/e/{event.slug}/s/{code}/photos",
        data={"client_id": uuid.uuid4().hex, "captured_at": "2019-06-06T09:45:00+00:00", "caption": f"Salle {code}",
              "credit": "", "highlighted": "1", "file": (io.BytesIO(_tiny_jpeg()), "photo.jpg", "image/jpeg")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert response.status_code == 201, response.get_data(as_text=True)
    return db.session.get(NoteItem, response.json["id"]).photo_file


def _client(world: World, visitor: str):
    client = world.app.test_client()
    if visitor == "attendee":
        assert client.get(f"/e/{world.event.slug}/me/{world.shared['token']}").status_code == 200
    elif visitor != "anonymous":
        response = client.post("/login", data={"email": world.users[visitor].email, "password": PASSWORD})
        assert response.status_code == 302, f"could not sign in as {visitor}"
    return client


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("every-route")
    app = create_app(TestConfig)
    app.config.update(NOTES_UPLOAD_DIR=str(folder / "uploads"), REPORT_CACHE_DIR=str(folder / "report-cache"))
    _fresh_globals_per_request(app)
    with app.app_context():
        db.create_all()
        _stamp_head(app)  # /healthz answers 200 for a database at the migrations' head
        try:
            yield _build_world(app)
        finally:
            with db.engine.begin() as connection:
                connection.exec_driver_sql("DROP TABLE alembic_version")
            empty_database()


def _stamp_head(app) -> None:
    from forum_app.health import migration_heads

    heads, _known = migration_heads(app.extensions["migrate"].directory)
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        for head in heads:
            connection.exec_driver_sql(f"INSERT INTO alembic_version (version_num) VALUES ('{head}')")


def _build_world(app) -> World:
    event = imports.import_schedule_file(DEMO_JSON).event
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2020, 1, 1), end_date=date(2020, 1, 1))
    db.session.add(other)
    db.session.flush()
    users = {
        "no-role": _user("nobody@example.org"),
        "volunteer": _user("volunteer@example.org", "volunteer", event),
        "rapporteur": _user("rapporteur@example.org", "rapporteur", event, name="Rapporteuse A1"),
        "organiser-elsewhere": _user("elsewhere@example.org", "organiser", other),
        "organiser": _user("organiser@example.org", "organiser", event, name="Organisatrice"),
        "site-admin": _user("admin@example.org", admin=True),
    }
    target_rapporteur = _user("rapporteur-a2@example.org", "rapporteur", event, name="Rapporteur A2")
    db.session.flush()
    sessions = {s.code: s for s in event.sessions}
    db.session.add(RapporteurAssignment(user_id=users["rapporteur"].id, session_id=sessions["A1"].id))
    db.session.add(RapporteurAssignment(user_id=target_rapporteur.id, session_id=sessions["A2"].id))
    delegation = Delegation(event_id=event.id, name="Délégation partagée")
    db.session.add(delegation)
    db.session.commit()
    world = World(app=app, event=event, other=other, users=users, shared={}, other_values={})

    attendee = _registration(event, "attendee", workshops=["A1"])
    stranger = _registration(other, "elsewhere")  # an attendee of another event: their link is no good here
    desk = _registration(event, "desk", workshops=["A2"])
    notes = {code: [_note(world, code, f"Point clé {code}"), _note(world, code, f"Autre point {code}")] for code in ("A1", "A2")}
    shared_scan = CheckIn(event_id=event.id, registration_id=desk.id, client_id="every-route-shared-scan",
                          outcome="checked_in", scanned_at=datetime(2019, 6, 6, 7, 0, tzinfo=UTC))  # fmt: skip
    db.session.add(shared_scan)
    db.session.commit()

    badges.badge_payload(desk)  # the event's badge key exists before the walk: building a scan's body writes nothing
    organiser_client = _client(world, "organiser")
    photos = {code: _photo(organiser_client, event, code) for code in ("A1", "A2")}
    secret = _quote_secret(world)
    review.start_review(event, users["organiser"])
    report_services.publish(event, users["organiser"], note="Version du parcours des routes")
    published_photos = [photo.file for photo in report_services.published_document(event).photos]
    assert set(photos.values()) <= set(published_photos), "the walk needs its photos in the published report"

    session = sessions["A1"]
    link = session.people[0] if session.people else next(s for s in event.sessions if s.people).people[0]
    static_digest = app.extensions["forum_static_digest"]
    world.shared = {
        "slug": event.slug,
        "code": "A1",
        "session_id": link.session_id,
        "link_id": link.id,
        "person_id": event.people[0].id,
        "room_id": event.rooms[0].id,
        "track_id": event.tracks[0].id,
        "registration_id": desk.id,
        "delegation_id": delegation.id,
        "user_id": target_rapporteur.id,
        "checkin_id": shared_scan.id,
        "device_id": device_services.add_device(event, "Porte du parcours", users["organiser"]).device.id,
        "item_id": notes["A1"][0].id,
        "into": notes["A1"][1].id,
        "fmt": "md",  # the report in Markdown: the quickest of the three formats to build
        "name": photos["A1"],
        "token": attendee.access_token,
        "secret": secret,
        "filename": "css/app.css",
        "digest": static_digest,
    }
    world.other_values = {
        "code": "A2",
        "name": photos["A2"],
        "item_id": notes["A2"][0].id,
        "into": notes["A2"][1].id,
        "token": stranger.access_token,
    }
    world.clients = {"organiser": organiser_client}
    for visitor in VISITORS:
        world.clients.setdefault(visitor, _client(world, visitor))
    return world


# --- Fresh objects for a write ----------------------------------------------------------------------------


def _fresh_values(world: World, endpoint: str, names: list[str], code: str) -> dict[str, object]:
    """New objects for one write, so what it changes or deletes belongs to it alone."""
    event = world.event
    n = next(world.counter)
    values: dict[str, object] = {"slug": event.slug, "code": code, "fmt": "md"}
    if "registration_id" in names:
        values["registration_id"] = _registration(event, f"w{n}").id
    if "token" in names:
        values["token"] = _registration(event, f"t{n}", workshops=["A1"]).access_token
    if "delegation_id" in names:
        delegation = Delegation(event_id=event.id, name=f"Délégation {n}")
        db.session.add(delegation)
        db.session.commit()
        values["delegation_id"] = delegation.id
    if "room_id" in names:
        room = Room(event_id=event.id, name=f"Salle {n}")
        db.session.add(room)
        db.session.commit()
        values["room_id"] = room.id
    if "track_id" in names:
        track = Track(event_id=event.id, name=f"Parcours {n}", slug=f"parcours-{n}")
        db.session.add(track)
        db.session.commit()
        values["track_id"] = track.id
    if "person_id" in names or "session_id" in names or "link_id" in names:
        person = Person(event_id=event.id, name=f"Intervenant {n}")
        start = datetime(2019, 6, 7, 14, 0, tzinfo=UTC)
        session = Session(event_id=event.id, code=f"W{n}", title=f"Session {n}", kind="workshop", starts_at=start,
                          ends_at=start + timedelta(hours=1))  # fmt: skip
        db.session.add_all([person, session])
        db.session.flush()
        link = SessionPerson(session_id=session.id, person_id=person.id, role="speaker")
        db.session.add(link)
        db.session.commit()
        values.update(person_id=person.id, session_id=session.id, link_id=link.id)
    if "user_id" in names:
        user = _user(f"rapporteur-{n}@example.org", "rapporteur", event, name=f"Rapporteur {n}")
        db.session.commit()
        values["user_id"] = user.id
    if "checkin_id" in names:
        scan = CheckIn(event_id=event.id, client_id=f"every-route-{n:06d}", outcome="checked_in",
                       scanned_at=datetime(2019, 6, 6, 7, 30, tzinfo=UTC))  # fmt: skip
        db.session.add(scan)
        db.session.commit()
        values["checkin_id"] = scan.id
    if "device_id" in names:
        values["device_id"] = device_services.add_device(event, f"Appareil {n}", world.users["organiser"]).device.id
    if "item_id" in names or endpoint == "api.reorder_notes":
        values["item_id"] = _note(world, code, f"Note {n}").id
        values["into"] = _note(world, code, f"Doublon {n}").id
    if "secret" in names:
        values["secret"] = _quote_secret(world, code)
    if endpoint == "auth.invitation":
        values["token"] = _invitation_token(world)
    return values


def _api_body(world: World, endpoint: str, values: dict) -> dict | None:
    """The body a client sends to `endpoint` (the ids it names are `values`')."""
    now = datetime.now(UTC).isoformat()
    n = next(world.counter)
    bodies = {
        "api.checkins": lambda: {"badge": badges.badge_payload(db.session.get(Registration, values["registration_id"])),
                                 "client_id": f"walk-{n:06d}", "station": "porte 1", "scanned_at": now},
        "api.add_note": lambda: {"client_id": uuid.uuid4().hex, "kind": "key_point", "text": "Un point",
                                 "captured_at": now},
        "api.edit_note": lambda: {"version": 1, "text": "corrigé"},
        "api.reorder_notes": lambda: {"ids": [values["item_id"], values["into"]]},
        "api.merge_note": lambda: {"into": values["into"]},
        "api.undo": dict,
        "api.add_photo": lambda: {"client_id": uuid.uuid4().hex, "captured_at": now, "caption": "La salle",
                                  "credit": "", "highlighted": "0",
                                  "file": (io.BytesIO(_tiny_jpeg()), "photo.jpg", "image/jpeg")},
    }  # fmt: skip
    return bodies[endpoint]() if endpoint in bodies else None


# --- Fingerprint -----------------------------------------------------------------------------------------


def _fingerprint() -> dict[str, int]:
    """Every table's rows and the stored photos: what any request could change. (Raw rows, hashed
    in this process: the comparison is before/after, within one run.)"""
    db.session.flush()
    connection = db.session.connection()
    digests = {}
    for table in db.metadata.sorted_tables:
        order = ", ".join(f'"{column.name}"' for column in table.primary_key.columns)
        rows = connection.exec_driver_sql(f'SELECT * FROM "{table.name}" ORDER BY {order}').fetchall()
        digests[table.name] = hash(repr(rows))
    uploads = Path(current_app.config["NOTES_UPLOAD_DIR"])
    digests["photo files"] = sum(1 for p in uploads.rglob("*") if p.is_file()) if uploads.exists() else 0
    return digests


def _row_counts() -> tuple:
    """Cheaper, for refused reads: every table's row count and the programme's version, in one query."""
    counts = [db.select(db.func.count()).select_from(table).scalar_subquery() for table in db.metadata.sorted_tables]
    versions = db.select(db.func.sum(Event.programme_version)).scalar_subquery()
    return tuple(db.session.execute(db.select(*counts, versions)).one())


def _changed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))


# --- The walk --------------------------------------------------------------------------------------------


def _expected(access: Access, visitor: str, *, own: bool) -> str:
    """'allowed', 'login', 'forbidden', 'unauthorized' or 'not-found' for this visitor."""
    if access.kind == "public":
        return "allowed"
    if access.kind == "thanks":
        return "not-found"
    if access.kind == "link":
        return "allowed" if own else "not-found"
    if access.kind == "logout":
        return "login"
    if access.kind == "attendee":
        return "allowed" if visitor == "attendee" and own else "not-found"
    if visitor in WITHOUT_ACCOUNT:
        return "unauthorized" if access.kind == "api" else "login"
    if visitor not in access.allowed or (visitor == "rapporteur" and access.assigned and not own):
        return "forbidden"
    return "allowed"


def _cases(access: Access, visitor: str, names: list[str]) -> list[bool]:
    """Which values the visitor is walked with: True = the usual ones (their own session, their own link),
    False = another session's objects / a link that is not theirs."""
    if access.kind == "attendee":
        return [True, False] if visitor == "attendee" else [False]
    if access.kind == "link":
        return [True, False] if visitor == "anonymous" else [True]
    if visitor == "rapporteur" and {"code", "name", "item_id"} & set(names):
        return [True, False]  # their session (A1), then another one (A2)
    return [True]


def _url(path: str, values: dict) -> str:
    missing = [name for name in PLACEHOLDER.findall(path) if name not in values]
    assert not missing, f"{path}: teach the walk how to fill {missing}"
    url = PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), path)
    assert "<" not in url, url
    return url


def _values(world: World, access: Access, endpoint: str, method: str, names: list[str], own: bool, refused: bool) -> dict:
    """The URL values (and ids a body names): shared objects to read or to be refused on, fresh ones to
    change. A refused write aims at the shared objects: the fingerprint shows it changed nothing."""
    code = "A1" if own else "A2"
    if method == "GET" or refused:
        values = dict(world.shared)
        if not own:
            values.update(world.other_values)
        if endpoint == "auth.invitation":
            if "invitation" not in world.shared:
                world.shared["invitation"] = _invitation_token(world)
            values["token"] = world.shared["invitation"]
    else:
        values = _fresh_values(world, endpoint, names, code)
        if not own and access.kind == "attendee":
            values["token"] = world.other_values["token"]
    if endpoint == "api.checkins":
        values.setdefault("registration_id", world.shared["registration_id"])
    if access.kind == "link" and not own:
        values["secret"] = values["token"] = "x" * 43  # a link nobody was sent
    return values


def _send(client, endpoint: str, method: str, url: str, body, refused: bool):
    if endpoint.startswith("api.") and method != "GET":
        if endpoint in MULTIPART:
            return client.open(url, method=method, data=body, content_type="multipart/form-data")
        return client.open(url, method=method, json=body)
    if method == "GET":
        return client.get(url)
    return client.open(url, method=method, data=dict(HOSTILE_FORM) if refused else {})


def _check(response, expected: str, access: Access, method: str, url: str, who: str) -> None:
    status = response.status_code
    if access.kind == "api":
        assert response.is_json or status == 304, (who, status, "not JSON")
    if "/admin" in url:
        assert response.headers.get("Cache-Control") == "no-store", (who, status, response.headers.get("Cache-Control"))
    if expected == "login":
        assert status == 302, (who, status)
        assert urlsplit(response.headers["Location"]).path == "/login", (who, response.headers["Location"])
    elif expected == "forbidden":
        assert status == 403, (who, status)
    elif expected == "unauthorized":
        assert status == 401, (who, status)
    elif expected == "not-found":
        assert status == 404, (who, status)
    elif access.kind == "api":
        assert status in (200, 201), (who, status, response.get_json(silent=True))
    elif access.kind == "public" and method == "GET":
        assert status in (200, 301, 302, 303, 304, 307, 308), (who, status)
    else:
        assert status not in (401, 403, 404, 405) and status < 500, (who, status)


@pytest.mark.parametrize(("path", "endpoint", "method"), RULES, ids=[f"{m} {p}" for p, _, m in RULES])
def test_route_answers_each_visitor_as_the_table_says(world, path, endpoint, method):
    access = ROUTES.get(endpoint)
    assert access is not None, f"{endpoint} ({path}) has no line in ROUTES"
    names = PLACEHOLDER.findall(path)

    unchanged_since = None  # the fingerprint after the last refused write, while nothing else ran since
    for visitor in VISITORS:
        for own in _cases(access, visitor, names):
            expected = _expected(access, visitor, own=own)
            refused = expected != "allowed"
            values = _values(world, access, endpoint, method, names, own, refused)
            url = _url(path, values)
            body = _api_body(world, endpoint, values) if endpoint.startswith("api.") else None
            who = f"{visitor} ({'own' if own else 'other'}) {method} {url}"
            client = world.clients[visitor]
            if endpoint in FRESH_CLIENT:  # signing in (or out) is not what this request is judged on
                client, unchanged_since = _client(world, visitor), None
            fingerprinted = refused and method != "GET"
            before = (unchanged_since or _fingerprint()) if fingerprinted else None
            counts_before = _row_counts() if refused and method == "GET" else None

            response = _send(client, endpoint, method, url, body, refused)

            _check(response, expected, access, method, url, who)
            unchanged_since = None
            if counts_before is not None:
                assert _row_counts() == counts_before, f"{who}: a refused read changed the database"
            if fingerprinted:
                after = _fingerprint()
                changed = _changed(before, after)
                assert not changed, f"{who}: refused, yet it changed {changed}"
                unchanged_since = after


# --- Beyond the walk --------------------------------------------------------------------------------------


def test_report_pages_are_404_for_everyone_until_published(world):
    """The other event has no report: its public report pages do not exist yet, whoever asks."""
    slug = world.other.slug
    for visitor in VISITORS:
        client = world.clients[visitor]
        for url in (f"/e/{slug}/report", f"/e/{slug}/report.md", f"/e/{slug}/report/photos/{world.shared['name']}"):
            assert client.get(url).status_code == 404, (visitor, url)
