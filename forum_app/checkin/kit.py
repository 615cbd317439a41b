"""The check-in kit: what an offline door station downloads to verify badges and find people.

A station refreshes it every minute (its ETag is `version`) and every arrival changes it, so
its cost is paid all morning, 1,000 people at a time. Most of it, the roster (names, statuses,
workshops), hardly changes on the day; the arrivals change with every scan. Each worker keeps
the roster's entries already serialised, under a fingerprint of the rows they are made from
(every registration's id and `updated_at`, every seat's id, person, session and status, every
session's id and `updated_at`), and rebuilds them when the fingerprint differs. A refresh then
reads the fingerprint (one statement that the database aggregates), the arrivals, the keys
and the sessions, and joins strings.

The fingerprint lists row values, not a maximum or a count: a transaction that committed late
with an older `updated_at` still changes it. It is read before the rows it guards, so a
cached roster is never older than its fingerprint (at worst newer, and rebuilt next time).
`version` is a digest of the content (not of the fingerprint): two workers holding the same
roster give the same ETag.
"""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, has_request_context
from flask_babel import get_locale

from forum_app import clock
from forum_app.badges import services as badges
from forum_app.checkin.services import ACTIVE_STATUSES, arrivals, category_label
from forum_app.extensions import db
from forum_app.programme.models import Event, Session
from forum_app.registration.models import Registration, WorkshopSeat


@dataclass(frozen=True)
class Roster:
    """The roster as a station gets it, without the arrivals: one JSON object per person, open
    at the end (the arrival fields follow), in the stations' order (last name, first name)."""

    fingerprint: str
    entries: tuple[tuple[int, str], ...]  # (registration id, '{"id": ..., "workshops": [...]')
    cancelled: tuple[int, ...]
    digest: str


@dataclass(frozen=True)
class Kit:
    version: str
    generated_at: str
    head: dict  # everything but the roster
    roster: Roster
    arrived: dict[int, tuple[str, str]]  # registration id -> (arrival time ISO, station)

    def json(self) -> str:
        head = json.dumps(
            {**self.head, "cancelled": list(self.roster.cancelled), "version": self.version,
             "generated_at": self.generated_at},
            ensure_ascii=False,
        )
        people = ", ".join(entry + _arrival_fields(self.arrived.get(rid)) for rid, entry in self.roster.entries)
        return f'{head[:-1]}, "roster": [{people}]}}'

    def as_dict(self) -> dict:
        return json.loads(self.json())


def _arrival_fields(arrival: tuple[str, str] | None) -> str:
    if arrival is None:
        return ', "checked_in_at": null, "checked_in_station": null}'
    return f', "checked_in_at": {json.dumps(arrival[0])}, "checked_in_station": {json.dumps(arrival[1], ensure_ascii=False)}}}'


def _text_of(*parts) -> sa.ColumnElement[str]:
    expression = sa.cast(parts[0], sa.String)
    for part in parts[1:]:
        expression = expression + "|" + sa.cast(part, sa.String)
    return expression


def _aggregate(expression, *where, join=None) -> sa.ScalarSelect:
    select = sa.select(sa.func.aggregate_strings(expression, "\n"))
    if join is not None:
        select = select.join_from(*join)
    return select.where(*where).scalar_subquery()


_EVENT_ID = sa.bindparam("event_id")
_FINGERPRINT = sa.select(
    _aggregate(_text_of(Registration.id, Registration.updated_at), Registration.event_id == _EVENT_ID),
    _aggregate(
        _text_of(WorkshopSeat.id, WorkshopSeat.registration_id, WorkshopSeat.session_id, WorkshopSeat.status),
        Session.event_id == _EVENT_ID,
        join=(WorkshopSeat, Session, WorkshopSeat.session_id == Session.id),
    ),
    _aggregate(_text_of(Session.id, Session.updated_at), Session.event_id == _EVENT_ID),
)


def roster_fingerprint(event: Event) -> str:
    """A digest of every row the roster is made from (the order rows come in does not matter)."""
    digest = hashlib.sha1()
    for column in db.session.execute(_FINGERPRINT, {"event_id": event.id}).one():
        digest.update("\n".join(sorted((column or "").split("\n"))).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def build_roster(event: Event, fingerprint: str) -> Roster:
    """The roster from the database (plain rows: 1,000 ORM objects with their seats cost twice as much)."""
    registrations = db.session.execute(
        sa.select(
            Registration.id, Registration.first_name, Registration.last_name, Registration.organisation,
            Registration.job_title, Registration.category, Registration.status, Registration.badge_serial,
            Registration.anonymised_at,
        )
        .where(Registration.event_id == event.id)
        .order_by(db.func.lower(Registration.last_name), db.func.lower(Registration.first_name), Registration.id)
    ).all()
    seats: dict[int, list[tuple]] = {}
    for registration_id, code, status, starts_at in db.session.execute(
        sa.select(WorkshopSeat.registration_id, Session.code, WorkshopSeat.status, Session.starts_at)
        .join(Session, Session.id == WorkshopSeat.session_id)
        .where(Session.event_id == event.id)
    ):
        seats.setdefault(registration_id, []).append((starts_at, code, status))
    entries = []
    cancelled = []
    for person in registrations:
        if person.status in ("cancelled", "rejected") or person.anonymised_at is not None:
            cancelled.append(person.id)
            if person.anonymised_at is not None:
                continue
        workshops = (
            [{"code": code, "seat": status} for _, code, status in sorted(seats.get(person.id, []))]
            if person.status in ACTIVE_STATUSES
            else []
        )
        entry = json.dumps(
            {
                "id": person.id,
                "name": f"{person.first_name} {person.last_name}".strip(),
                "first_name": person.first_name,
                "last_name": person.last_name,
                "organisation": person.organisation,
                "job_title": person.job_title,
                "category": person.category,
                "category_label": category_label(person.category),
                "status": person.status,
                "serial": person.badge_serial,
                "workshops": workshops,
            },
            ensure_ascii=False,
        )
        entries.append((person.id, entry[:-1]))
    digest = hashlib.sha1()
    for _, entry in entries:
        digest.update(entry.encode())
    digest.update(repr(cancelled).encode())
    return Roster(fingerprint, tuple(entries), tuple(cancelled), digest.hexdigest())


def _cached_roster(event: Event) -> Roster:
    language = str(get_locale()) if has_request_context() else ""  # the category labels' language
    cache: dict = current_app.extensions.setdefault("forum_app.checkin_kit", {})
    fingerprint = roster_fingerprint(event)  # before the rows: see the module's docstring
    roster = cache.get((event.id, language))
    if roster is None or roster.fingerprint != fingerprint:
        roster = cache[(event.id, language)] = build_roster(event, fingerprint)
    return roster


def checkin_kit(event: Event) -> Kit:
    """The kit: the keys to verify badges, the revoked and cancelled badges, the roster to search
    by name and show who already arrived.

    `revoked`: registration id and current serial, any badge of that person with a smaller serial
    is revoked. `cancelled`: registration ids (cancelled, rejected, erased) whose badges are
    refused. `version` changes whenever anything else in the kit does (the ETag).
    """
    roster = _cached_roster(event)
    keys = badges.public_keys_document(event)
    head = {
        "event": {"id": event.id, "slug": event.slug, "title": event.title, "timezone": event.timezone},
        "badge_format": keys["format"],
        "algorithm": keys["algorithm"],
        "public_keys": [
            {"key_id": k["key_id"], "public_key": k["public_key"], "active": k["active"]} for k in keys["keys"]
        ],
        "revoked": [
            {"registration_id": rid, "serial": serial} for rid, serial in sorted(badges.revoked_serials(event).items())
        ],
        "sessions": [
            {"code": s.code, "title": s.title, "kind": s.kind, "signup_required": s.signup_required,
             "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat()}
            for s in event.sessions
        ],
    }
    arrived = {
        rid: (arrival.at.isoformat(), arrival.station) for rid, arrival in arrivals(event).items() if arrival
    }
    version = hashlib.sha1()
    version.update(roster.digest.encode())
    version.update(json.dumps(head, sort_keys=True, ensure_ascii=False).encode())
    version.update(json.dumps(sorted(arrived.items()), ensure_ascii=False).encode())
    return Kit(version.hexdigest()[:20], clock.now().isoformat(), head, roster, arrived)


def public_key_bytes(kit: dict) -> dict[int, bytes]:
    """The kit's keys as the badge verifier takes them (key id -> raw bytes): what a station does."""
    return {k["key_id"]: base64.b64decode(k["public_key"]) for k in kit["public_keys"]}

