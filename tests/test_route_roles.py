"""Every staff route × every kind of visitor: nobody reaches a screen their role does not allow.

The walk reads the URL map, so a staff route added later is covered without editing this file; a
route with a URL parameter this file cannot fill, or an event-less /admin route with no stated
expectation, fails the suite instead of escaping it.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest
from werkzeug.security import generate_password_hash

from forum_app import create_app
from forum_app.auth.models import EventRole, User
from forum_app.checkin.models import CheckIn
from forum_app.config import TestConfig
from forum_app.extensions import db
from forum_app.notes.models import NoteItem
from forum_app.programme.models import Event, SessionPerson
from forum_app.registration.models import Delegation, Registration

PLACEHOLDER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")  # <slug>, <int:session_id>
PASSWORD = "correct-horse-battery"
DENIED_ROLES = ("anonymous", "no-role", "volunteer", "rapporteur", "organiser-elsewhere")
ALLOWED_ROLES = ("organiser", "site-admin")

# Staff routes outside any event: what each one allows.
PUBLIC_STAFF_ENDPOINTS = {"auth.login"}  # anyone may see the login form
LOGIN_ONLY_ENDPOINTS = {"auth.staff_home", "auth.logout"}  # any signed-in staff member (lists only their own events)


def _staff_rules():
    app = create_app(TestConfig)
    rules = []
    for rule in app.url_map.iter_rules():
        if "/admin" not in rule.rule and rule.endpoint not in ("auth.login", "auth.logout"):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            rules.append(pytest.param(rule.rule, rule.endpoint, tuple(sorted(rule.arguments)), method, id=f"{method} {rule.rule}"))
    return rules


STAFF_RULES = _staff_rules()
EVENT_RULES = [p for p in STAFF_RULES if "slug" in p.values[2]]
EVENTLESS_RULES = [p for p in STAFF_RULES if "slug" not in p.values[2]]


def test_the_walk_covers_the_staff_screens():
    endpoints = {p.values[1] for p in STAFF_RULES}
    assert {"auth.login", "auth.logout", "auth.staff_home", "admin.dashboard", "admin.session_edit"} <= endpoints
    assert len(EVENT_RULES) >= 20


@pytest.mark.parametrize(("path", "endpoint", "arguments", "method"), EVENTLESS_RULES)
def test_eventless_staff_routes_have_a_stated_rule(path, endpoint, arguments, method):
    assert endpoint in PUBLIC_STAFF_ENDPOINTS | LOGIN_ONLY_ENDPOINTS, (
        f"{endpoint} ({path}) is a staff route outside any event: state who may use it in this file"
    )
    assert not arguments, f"{path}: a parameter this test cannot fill"


# Fixtures ----------------------------------------------------------------------------------------


def _user(email: str, role: str | None = None, event: Event | None = None, *, admin: bool = False) -> User:
    user = User(email=email, password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1"), is_admin=admin)
    if role:
        user.roles.append(EventRole(event_id=event.id, role=role))
    db.session.add(user)
    return user


@pytest.fixture
def world(app, demo_event):
    """The demo forum, another event, and one account per kind of visitor."""
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2020, 1, 1), end_date=date(2020, 1, 1))
    db.session.add(other)
    db.session.flush()
    users = {
        "no-role": _user("nobody@example.org"),
        "volunteer": _user("volunteer@example.org", "volunteer", demo_event),
        "rapporteur": _user("rapporteur@example.org", "rapporteur", demo_event),
        "organiser-elsewhere": _user("elsewhere@example.org", "organiser", other),
        "organiser": _user("organiser@example.org", "organiser", demo_event),
        "site-admin": _user("admin@example.org", admin=True),
    }
    _user("rapporteur2@example.org", "rapporteur", demo_event)  # rapporteur screens: variant 1 acts on this one
    for n in (1, 2):  # badges: routes about one registration (variant 0 and 1 take one each)
        db.session.add(
            Registration(
                event_id=demo_event.id, first_name=f"Inscrit{n}", last_name="Test", email=f"inscrit{n}@example.org",
                email_key=f"inscrit{n}@example.org", status="confirmed", access_token=f"route-roles-token-{n}",
            )
        )
    for n in (1, 2):  # registrations screens: routes about one delegation (empty: each variant may delete its own)
        db.session.add(Delegation(event_id=demo_event.id, name=f"Délégation {n}"))
    db.session.flush()
    for registration in db.session.scalars(db.select(Registration).filter_by(event_id=demo_event.id)):  # check-in corrections
        moment = datetime(2019, 6, 6, 7, 0, tzinfo=UTC)
        db.session.add(
            CheckIn(event_id=demo_event.id, registration_id=registration.id, client_id=f"route-roles-{registration.id:04d}",
                    outcome="checked_in", scanned_at=moment, received_at=moment)
        )
    for n, session in enumerate(s for s in demo_event.sessions if s.people):  # notes moderation: one item per session
        moment = datetime(2019, 6, 6, 9, n, tzinfo=UTC)
        db.session.add(
            NoteItem(event_id=demo_event.id, session_id=session.id, client_id=f"route-roles-note-{n:04d}", kind="key_point",
                     text=f"Note {n}", captured_at=moment, created_at=moment, position=1)
        )
    db.session.commit()
    return demo_event, users


def _client_as(app, users, role: str):
    client = app.test_client()
    if role != "anonymous":
        response = client.post("/login", data={"email": users[role].email, "password": PASSWORD})
        assert response.status_code == 302, f"could not log in as {role}"
    return client


def _url_values(event: Event, variant: int = 0) -> dict[str, object]:
    """A value for every URL parameter a staff route may take, from existing objects of the event.

    `variant` 0 and 1 pick different objects, so a delete done by the organiser leaves the site admin's
    target in place.
    """

    def pick(items):
        return items[0] if variant == 0 else items[-1]

    session = pick([s for s in event.sessions if s.people])
    link: SessionPerson = session.people[0]
    registrations = list(db.session.scalars(db.select(Registration).filter_by(event_id=event.id).order_by(Registration.id)))
    delegations = list(db.session.scalars(db.select(Delegation).filter_by(event_id=event.id).order_by(Delegation.id)))
    return {
        "slug": event.slug,
        "session_id": session.id,
        "code": session.code,
        "link_id": link.id,
        "person_id": pick(event.people).id,
        "room_id": pick(event.rooms).id,
        "track_id": pick(event.tracks).id,
        "registration_id": pick(registrations).id,
        "delegation_id": pick(delegations).id,
        "user_id": pick(list(db.session.scalars(  # the rapporteur screens act on one of the event's rapporteurs
            db.select(EventRole.user_id).filter_by(event_id=event.id, role="rapporteur").order_by(EventRole.user_id)
        ))),
        "item_id": db.session.scalar(  # a note item of the session picked for <code>
            db.select(NoteItem.id).filter_by(event_id=event.id, session_id=session.id).order_by(NoteItem.id)
        ),
        "checkin_id": pick(list(db.session.scalars(db.select(CheckIn.id).filter_by(event_id=event.id).order_by(CheckIn.id)))),
        "fmt": "md",  # the report editor's draft previews (report.pdf|docx|md): the quickest to build
    }


def _fill(path: str, arguments: tuple[str, ...], event: Event, variant: int = 0) -> str:
    values = _url_values(event, variant)
    missing = [name for name in arguments if name not in values]
    if missing:
        pytest.fail(f"{path}: no value for {missing}; teach _url_values() how to fill it so the route is checked")
    url = PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), path)
    assert "<" not in url, url
    return url


def _request(client, method: str, url: str):
    return client.open(url, method=method, data={} if method != "GET" else None)


def _version(event: Event) -> int:
    db.session.expire_all()
    return db.session.get(Event, event.id).programme_version


# Event staff routes ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "endpoint", "arguments", "method"), EVENT_RULES)
def test_event_staff_route_is_for_organisers_and_site_admins_only(app, world, path, endpoint, arguments, method):
    event, users = world
    url = _fill(path, arguments, event)
    before = _version(event)

    for role in DENIED_ROLES:
        response = _request(_client_as(app, users, role), method, url)

        if role == "anonymous":
            assert response.status_code == 302, (role, response.status_code)
            assert urlsplit(response.headers["Location"]).path == "/login", (role, response.headers["Location"])
        else:
            assert response.status_code == 403, (role, response.status_code)
    assert _version(event) == before, "a refused request changed the programme"

    for variant, role in enumerate(ALLOWED_ROLES):
        response = _request(_client_as(app, users, role), method, _fill(path, arguments, event, variant))

        assert response.status_code not in (401, 403, 404, 405), (role, response.status_code)
        assert response.status_code < 500, (role, response.status_code)


# The report's review (outside /admin: the event's rapporteurs use it too) -------------------------

REVIEW_ALLOWED = ("rapporteur", "organiser", "site-admin")
REVIEW_DENIED = ("no-role", "volunteer", "organiser-elsewhere")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_report_review_is_for_the_events_rapporteurs_organisers_and_site_admins(app, world, method):
    event, users = world
    url = f"/e/{event.slug}/report/review"

    anonymous = _request(_client_as(app, users, "anonymous"), method, url)
    denied = {role: _request(_client_as(app, users, role), method, url).status_code for role in REVIEW_DENIED}
    allowed = {role: _request(_client_as(app, users, role), method, url).status_code for role in REVIEW_ALLOWED}

    assert anonymous.status_code == 302 and urlsplit(anonymous.headers["Location"]).path == "/login"
    assert set(denied.values()) == {403}, denied
    assert all(status < 500 and status not in (401, 403, 404, 405) for status in allowed.values()), allowed


# Staff routes outside any event ------------------------------------------------------------------


@pytest.mark.parametrize(("path", "endpoint", "arguments", "method"), EVENTLESS_RULES)
def test_eventless_staff_route_answers_each_visitor_as_stated(app, world, path, endpoint, arguments, method):
    event, users = world
    url = _fill(path, arguments, event)

    for role in ("anonymous", *DENIED_ROLES[1:], *ALLOWED_ROLES):
        response = _request(_client_as(app, users, role), method, url)

        assert response.status_code < 500 and response.status_code not in (401, 403), (role, response.status_code)
        if endpoint in LOGIN_ONLY_ENDPOINTS and role == "anonymous" or endpoint == "auth.logout":
            assert response.status_code == 302, (role, response.status_code)
            assert urlsplit(response.headers["Location"]).path == "/login", (role, response.headers["Location"])


# The report editor ---------------------------------------------------------------------------------

REPORT_EDITOR_ENDPOINTS = {
    "report_admin.overview", "report_admin.start_review", "report_admin.back_to_draft", "report_admin.publish",
    "report_admin.withdraw", "report_admin.cover", "report_admin.preview", "report_admin.preview_file",
    "report_admin.section", "report_admin.move_section", "report_admin.item_text", "report_admin.item_visibility",
    "report_admin.item_move",
}
# What a refused visitor might post: every field any of the editor's forms reads, each asking for a change.
HOSTILE_REPORT_FORM = {
    "version": "1", "title": "Piraté", "lead": "Piraté", "organised_by": "Piraté", "introduction_md": "Piraté",
    "conclusion_md": "Piraté", "next_steps_md": "Piraté", "links_md": "Piraté", "show_attendance": "", "empty_sessions": "omit",
    "refused_quotes": "anonymise", "summary_md": "Piraté", "hidden": "1", "text": "Piraté", "direction": "down",
    "action": "save", "confirm": "1", "note": "Piraté", "item_id": "",
}


def test_the_walk_covers_the_report_editor():
    walked = {p.values[1] for p in EVENT_RULES}

    assert REPORT_EDITOR_ENDPOINTS <= walked, REPORT_EDITOR_ENDPOINTS - walked


def _report_state(event: Event) -> tuple:
    from forum_app.report.models import (
        Report,
        ReportItem,
        ReportSection,
        ReportSnapshot,
    )

    db.session.expire_all()
    report = db.session.scalar(db.select(Report).filter_by(event_id=event.id))
    columns = ("title", "lead", "introduction_md", "status", "version", "cover_item_id", "empty_sessions", "refused_quotes")
    return (
        tuple(getattr(report, name) for name in columns) if report else None,
        db.session.execute(db.select(ReportSection.session_id, ReportSection.hidden, ReportSection.title,
                                     ReportSection.summary_md, ReportSection.position).order_by(ReportSection.id)).all(),
        db.session.execute(db.select(ReportItem.note_item_id, ReportItem.hidden, ReportItem.text,
                                     ReportItem.position).order_by(ReportItem.id)).all(),
        db.session.scalar(db.select(db.func.count(ReportSnapshot.id))),
    )


@pytest.mark.parametrize(
    ("path", "endpoint", "arguments", "method"),
    [p for p in EVENT_RULES if p.values[1].startswith("report_admin.") and p.values[3] == "POST"],
)
def test_refused_report_editor_posts_change_nothing(app, world, path, endpoint, arguments, method):
    event, users = world
    url = _fill(path, arguments, event)
    before = _report_state(event)

    for role in DENIED_ROLES:
        response = _client_as(app, users, role).post(url, data=HOSTILE_REPORT_FORM)

        assert response.status_code in (302, 403), (role, response.status_code)
        assert response.headers["Cache-Control"] == "no-store", role

    assert _report_state(event) == before
