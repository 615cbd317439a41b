"""Recording staff actions, and reading them back for the organisers' "Journal des actions".

`record()` adds the entry to the session of the change it describes and never flushes or
commits: the service's own commit saves both, and a refusal or a rollback leaves neither.
Call it right before that commit (after any `begin_write`): a pending INSERT flushed before
`begin_write` would start SQLite's transaction early and skip the writers' queue.

Summaries are written once, in French, when the action happens (like a paper log book, see
`fr`): they read the same whatever later happens to the account or the person. `details` holds the
before/after values of what changed; keys that look like secrets are dropped on the way in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from forum_app import clock
from forum_app.audit.models import AuditEntry
from forum_app.extensions import db
from forum_app.i18n import format_clock

PAGE_SIZE = 50

# The action codes, and how the page names them (filter menu, redacted summaries).
ACTIONS: dict[str, Any] = {
    "checkin.undo": _l("Passage annulé"),
    "registration.desk": _l("Inscription à l'accueil"),
    "registration.edit": _l("Inscription modifiée"),
    "registration.workshops": _l("Ateliers modifiés"),
    "registration.confirm": _l("Inscription confirmée"),
    "registration.reject": _l("Inscription refusée"),
    "registration.cancel": _l("Inscription annulée"),
    "registration.import": _l("Inscriptions importées"),
    "badge.reissue": _l("Badge réédité"),
    "report.publish": _l("Rapport publié"),
    "report.withdraw": _l("Rapport retiré"),
    "quote.consent": _l("Accord de citation enregistré"),
    "staff.invite": _l("Rapporteur·rice invité·e"),
    "staff.resend": _l("Invitation renvoyée"),
    "staff.assign": _l("Session confiée"),
    "staff.unassign": _l("Session retirée"),
    "staff.remove": _l("Rôle retiré"),
    "staff.role": _l("Rôle attribué"),
    "programme.session.create": _l("Session ajoutée"),
    "programme.session.edit": _l("Session modifiée"),
    "programme.session.delete": _l("Session supprimée"),
    "programme.speakers": _l("Intervenant·es d'une session"),
    "programme.room": _l("Salles"),
    "programme.track": _l("Parcours du programme"),
    "programme.person": _l("Personnes du programme"),
    "device.add": _l("Appareil d'accueil ajouté"),
    "device.revoke": _l("Appareil d'accueil révoqué"),
}

_SECRET_MARKERS = ("password", "token", "secret", "hash")


def fr(message: str, /, **params: object) -> str:
    """A summary's text: French, formatted now and stored as is.

    Summaries are data, not interface: like a paper log book they keep the words written at the
    time, in French, whatever the reader's language (a catalogue entry would never be used), so
    they do not go through Babel. The page around them does.
    """
    return message % params if params else message


def local_day(moment: datetime, tz_name: str) -> date:
    return moment.astimezone(ZoneInfo(tz_name)).date()


def moment_text(moment: datetime, tz_name: str, *, with_day: bool = True) -> str:
    """'6 juin 2019 à 9 h 12' (or '9 h 12') in the event's time zone."""
    local = moment.astimezone(ZoneInfo(tz_name))
    if not with_day:
        return format_clock(local, "fr")
    return fr("%(day)s à %(time)s", day=format_date(local, "d MMMM y", locale="fr"), time=format_clock(local, "fr"))


def _plain(value: Any) -> Any:
    """A JSON-ready copy of `value`, without the keys that look like secrets."""
    if isinstance(value, dict):
        return {
            str(k): _plain(v) for k, v in value.items() if not any(marker in str(k).lower() for marker in _SECRET_MARKERS)
        }
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """{field: {"before": old, "after": new}} for the fields whose value differs."""
    return {
        key: {"before": _plain(before.get(key)), "after": _plain(after.get(key))}
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def record(
    event_id: int | None,
    user,
    action: str,
    target_type: str,
    target_id: int | None,
    summary: str,
    details: dict | None = None,
    *,
    registration_id: int | None = None,
) -> AuditEntry:
    """Add one entry to the current transaction (the caller commits it with the change).

    `user`: the acting staff account (None or anonymous: the command line / the system).
    `registration_id`: the attendee the entry is about, so erasing them redacts it.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    acting = user if user is not None and getattr(user, "is_authenticated", False) else None
    entry = AuditEntry(
        event_id=event_id,
        user_id=getattr(acting, "id", None),
        actor_name=(getattr(acting, "name", "") or "")[:200],
        actor_email=(getattr(acting, "email", "") or "")[:320],
        action=action,
        target_type=target_type[:40],
        target_id=target_id,
        registration_id=registration_id,
        summary=" ".join(summary.split())[:500],
        details=_plain(details or {}),
        at=clock.now(),
    )
    db.session.add(entry)
    return entry


def _redacted_summary(action: str) -> str:
    label = ACTIONS.get(action)
    with force_locale("fr"):
        name = str(label) if label is not None else action
    return fr("%(action)s (données personnelles effacées)", action=name)


def redact_registration(registration_id: int) -> int:
    """The attendee's data is erased: the entries about them keep what was done and when, not who.
    Runs in the caller's transaction (no commit). Returns how many entries were redacted."""
    entries = db.session.scalars(
        db.select(AuditEntry).where(AuditEntry.registration_id == registration_id)
    ).all()
    for entry in entries:
        entry.summary = _redacted_summary(entry.action)
        entry.details = {}
    return len(entries)


def erase_personal_data(event_id: int) -> int:
    """For the purge of an event's personal data (no commit): every entry of the event keeps its
    action, date and target, and loses the names (attendees' and staff's) and the details."""
    entries = db.session.scalars(db.select(AuditEntry).where(AuditEntry.event_id == event_id)).all()
    for entry in entries:
        entry.summary = _redacted_summary(entry.action)
        entry.details = {}
        entry.actor_name = ""
        entry.actor_email = ""
        entry.user_id = None
    return len(entries)


# --------------------------------------------------------------------------- reading


@dataclass
class AuditFilters:
    action: str = ""
    person: str = ""  # the acting account's id, as a string ("" = everyone)
    day: date | None = None
    page: int = 1

    def query_args(self, **changes_: object) -> dict[str, str]:
        values = {"action": self.action, "person": self.person, "day": self.day.isoformat() if self.day else "", "page": self.page}
        values.update(changes_)
        return {k: str(v) for k, v in values.items() if v and not (k == "page" and str(v) == "1")}


def parse_filters(args) -> AuditFilters:
    action = (args.get("action") or "")[:40]
    person = (args.get("person") or "")[:12]
    try:
        day = date.fromisoformat((args.get("day") or "")[:10]) if args.get("day") else None
    except ValueError:
        day = None
    try:
        page = max(1, min(int((args.get("page") or "1")[:6]), 100000))
    except ValueError:
        page = 1
    return AuditFilters(
        action=action if action in ACTIONS else "",
        person=person if (person.isascii() and person.isdigit()) else "",
        day=day,
        page=page,
    )


@dataclass
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    people: list[tuple[int, str]] = field(default_factory=list)


def entries_page(event, filters: AuditFilters, *, size: int = PAGE_SIZE) -> AuditPage:
    """The event's entries, newest first, filtered, one page."""
    query = db.select(AuditEntry).where(AuditEntry.event_id == event.id)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.person:
        query = query.where(AuditEntry.user_id == int(filters.person))
    if filters.day is not None:
        tz = ZoneInfo(event.timezone)
        start = datetime.combine(filters.day, datetime.min.time(), tzinfo=tz)
        query = query.where(AuditEntry.at >= start, AuditEntry.at < start + timedelta(days=1))
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(filters.page, pages)
    entries = db.session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).offset((page - 1) * size).limit(size)
    ).all()
    return AuditPage(entries=list(entries), total=total, page=page, pages=pages, people=people(event))


def people(event) -> list[tuple[int, str]]:
    """The accounts that acted at this event (for the filter), by name."""
    rows = db.session.execute(
        db.select(AuditEntry.user_id, AuditEntry.actor_name, AuditEntry.actor_email)
        .where(AuditEntry.event_id == event.id, AuditEntry.user_id.is_not(None))
        .distinct()
    ).all()
    named: dict[int, str] = {}
    for user_id, name, email in rows:
        named.setdefault(user_id, name or email)
    return sorted(named.items(), key=lambda item: item[1].lower())


def entries_count() -> int:
    return db.session.scalar(db.select(db.func.count(AuditEntry.id))) or 0


def action_label(action: str) -> str:
    label = ACTIONS.get(action)
    return str(label) if label is not None else action
