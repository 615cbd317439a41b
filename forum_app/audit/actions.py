"""What each audited staff action writes in the journal (summary and details).

The services call one of these right before their commit (after any write lock): a single
line in each service, the wording kept here in one place. None of them flushes or commits.
"""
from __future__ import annotations

from typing import Any

from forum_app import clock
from forum_app.audit.services import changes, fr, local_day, moment_text, record

# The registration fields an organiser can change (never the access token).
REGISTRATION_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "organisation",
    "job_title",
    "category",
    "territory",
    "delegation",
    "accessibility_needs",
)
STATUS_WORDS = {
    "pending": "en attente",
    "confirmed": "confirmée",
    "cancelled": "annulée",
    "rejected": "refusée",
}
ROLE_WORDS = {"organiser": "organisateur·rice", "volunteer": "bénévole d'accueil", "rapporteur": "rapporteur·rice"}


def _person(registration) -> str:
    name = registration.full_name or fr("sans nom")
    return f"{name} ({registration.organisation})" if registration.organisation else name


def _staff(user) -> str:
    return f"{user.name} ({user.email})" if user.name else user.email


def registration_values(registration) -> dict[str, Any]:
    """The fields an organiser's edit may change, as they are now (delegation by name)."""
    values = {name: getattr(registration, name) for name in REGISTRATION_FIELDS if name != "delegation"}
    values["delegation"] = registration.delegation.name if registration.delegation is not None else None
    return values


# --------------------------------------------------------------------------- check-in


def checkin_undone(event, row, rows, user) -> None:
    from forum_app.programme.models import Session

    session = row.session_id and _db().session.get(Session, row.session_id)
    tz = event.timezone
    same_day = local_day(row.scanned_at, tz) == local_day(clock.now(), tz)
    place = [row.station or fr("poste sans nom")]
    if session:
        place.append(fr("atelier %(code)s", code=session.code))
    scanned = moment_text(row.scanned_at, tz, with_day=not same_day)
    person = row.registration.full_name if row.registration is not None else fr("personne inconnue")
    record(
        event.id,
        user,
        "checkin.undo",
        "checkin",
        row.id,
        fr("Passage annulé : %(person)s, %(place)s, %(time)s", person=person, place=", ".join(place), time=scanned),
        {
            "checkin_ids": sorted(item.id for item in rows),
            "station": row.station,
            "session": session.code if session else None,
            "scanned_at": row.scanned_at,
            "changes": {"undone": {"before": False, "after": True}},
        },
        registration_id=row.registration_id,
    )


def _db():
    from forum_app.extensions import db

    return db


# --------------------------------------------------------------------------- registrations


def registration_created_at_desk(registration, user, workshop_codes, waitlisted_codes) -> None:
    after = registration_values(registration)
    after["status"] = registration.status
    after["workshops"] = sorted(workshop_codes)
    record(
        registration.event_id,
        user,
        "registration.desk",
        "registration",
        registration.id,
        fr("Inscription à l'accueil : %(person)s", person=_person(registration)),
        {"changes": changes({}, after), "waitlisted": sorted(waitlisted_codes)},
        registration_id=registration.id,
    )


def registrations_imported(event, registrations, user) -> None:
    """One entry for a whole import (no names in it: the registrations' own pages have them)."""
    delegations = sorted({r.delegation.name for r in registrations if r.delegation is not None})
    record(
        event.id,
        user,
        "registration.import",
        "event",
        event.id,
        fr(
            "Import de %(count)d personne(s)%(where)s",
            count=len(registrations),
            where=(" — " + ", ".join(delegations)) if delegations else "",
        ),
        {"registration_ids": sorted(r.id for r in registrations), "delegations": delegations},
    )


def registration_edited(registration, user, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """An organiser's edit of the person's details. False (nothing recorded) when nothing changes."""
    diff = changes(before, after)
    if not diff:
        return False
    record(
        registration.event_id,
        user,
        "registration.edit",
        "registration",
        registration.id,
        fr(
            "Inscription modifiée : %(person)s (%(fields)s)",
            person=_person(registration),
            fields=", ".join(_field_word(name) for name in diff),
        ),
        {"changes": diff},
        registration_id=registration.id,
    )
    return True


FIELD_WORDS = {
    "email": "adresse e-mail",
    "first_name": "prénom",
    "last_name": "nom",
    "organisation": "organisation",
    "job_title": "fonction",
    "category": "catégorie",
    "territory": "territoire",
    "delegation": "délégation",
    "accessibility_needs": "besoins d'accessibilité",
}


def _field_word(name: str) -> str:
    return FIELD_WORDS.get(name, name)


def workshops_changed(registration, user, before: list[str], after: list[str], waitlisted: list[str]) -> None:
    added = sorted(set(after) - set(before))
    dropped = sorted(set(before) - set(after))
    parts = []
    if added:
        parts.append(fr("ajout %(codes)s", codes=", ".join(added)))
    if dropped:
        parts.append(fr("retrait %(codes)s", codes=", ".join(dropped)))
    record(
        registration.event_id,
        user,
        "registration.workshops",
        "registration",
        registration.id,
        fr("Ateliers modifiés : %(person)s (%(what)s)", person=_person(registration), what=" ; ".join(parts)),
        {"changes": changes({"workshops": sorted(before)}, {"workshops": sorted(after)}), "waitlisted": sorted(waitlisted)},
        registration_id=registration.id,
    )


_STATUS_ACTIONS = {
    "confirmed": ("registration.confirm", "Inscription confirmée : %(person)s"),
    "rejected": ("registration.reject", "Inscription refusée : %(person)s"),
    "cancelled": ("registration.cancel", "Inscription annulée : %(person)s"),
}


def registration_status_changed(registration, user, before: str) -> None:
    action, summary = _STATUS_ACTIONS[registration.status]
    record(
        registration.event_id,
        user,
        action,
        "registration",
        registration.id,
        fr(summary, person=_person(registration)),
        {"changes": changes({"status": before}, {"status": registration.status})},
        registration_id=registration.id,
    )


def badge_reissued(registration, user, before_serial: int) -> None:
    record(
        registration.event_id,
        user,
        "badge.reissue",
        "registration",
        registration.id,
        fr(
            "Badge réédité : %(person)s (badge n° %(new)d ; le n° %(old)d ne permet plus d'entrer)",
            person=_person(registration),
            new=registration.badge_serial,
            old=before_serial,
        ),
        {"changes": changes({"badge_serial": before_serial}, {"badge_serial": registration.badge_serial})},
        registration_id=registration.id,
    )


# --------------------------------------------------------------------------- report


def report_published(event, report, snapshot, user, before_status: str) -> None:
    summary = fr("Rapport publié : version %(number)d", number=snapshot.number)
    if snapshot.note:
        summary += fr(" — « %(note)s »", note=snapshot.note[:200])
    record(
        event.id,
        user,
        "report.publish",
        "report",
        report.id,
        summary,
        {"version": snapshot.number, "note": snapshot.note, "changes": changes({"status": before_status}, {"status": report.status})},
    )


def report_withdrawn(event, report, rows, user, before_status: str) -> None:
    numbers = sorted(row.number for row in rows)
    record(
        event.id,
        user,
        "report.withdraw",
        "report",
        report.id,
        fr("Rapport retiré du site : version(s) %(numbers)s hors ligne", numbers=", ".join(str(n) for n in numbers)),
        {"versions": numbers, "changes": changes({"status": before_status}, {"status": report.status})},
    )


_CONSENT_WORDS = {"approved": "accord donné", "refused": "accord refusé", "amended": "texte modifié"}


def consent_recorded(event, approval, user, before_state: str | None, attribution: str) -> None:
    record(
        event.id,
        user,
        "quote.consent",
        "quote",
        approval.note_item_id,
        fr(
            "Accord de citation enregistré : %(who)s — %(state)s",
            who=attribution or fr("citation sans nom"),
            state=_CONSENT_WORDS.get(approval.state, approval.state),
        ),
        {
            "note_id": approval.note_item_id,
            "comment": approval.comment,
            "changes": changes({"state": before_state}, {"state": approval.state}),
        },
    )


# --------------------------------------------------------------------------- staff


def rapporteur_invited(event, user, by, *, created: bool, before_role: str | None, resent: bool = False) -> None:
    if resent:
        action, summary = "staff.resend", "Invitation renvoyée : %(who)s"
    else:
        action, summary = "staff.invite", "Rapporteur·rice invité·e : %(who)s"
    record(
        event.id,
        by,
        action,
        "user",
        user.id,
        fr(summary, who=_staff(user)),
        {"account_created": created, "changes": changes({"role": before_role}, {"role": "rapporteur"})},
    )


def session_assignment_changed(event, user, session, by, *, assigned: bool) -> None:
    action = "staff.assign" if assigned else "staff.unassign"
    summary = "Session confiée : %(code)s à %(who)s" if assigned else "Session retirée : %(code)s à %(who)s"
    record(
        event.id,
        by,
        action,
        "user",
        user.id,
        fr(summary, code=session.code, who=_staff(user)),
        {"session": session.code, "changes": changes({"sessions": None if assigned else session.code}, {"sessions": session.code if assigned else None})},
    )


def role_removed(event, user, by, role: str) -> None:
    record(
        event.id,
        by,
        "staff.remove",
        "user",
        user.id,
        fr("Rôle retiré : %(who)s n'est plus %(role)s", who=_staff(user), role=ROLE_WORDS.get(role, role)),
        {"changes": changes({"role": role}, {"role": None})},
    )


def role_given(event, user, by, before_role: str | None, before_admin: bool) -> None:
    """A role set through `ensure_user` (the command line): event role and/or site administration."""
    after_role = user.role_at(event.id) if event is not None else None
    diff = changes(
        {"role": before_role, "is_admin": before_admin},
        {"role": after_role if event is not None else before_role, "is_admin": bool(user.is_admin)},
    )
    if not diff:
        return
    parts = []
    if "role" in diff and after_role:
        parts.append(fr("%(role)s de l'événement", role=ROLE_WORDS.get(after_role, after_role)))
    if "is_admin" in diff:
        parts.append("administrateur·rice du site")
    record(
        event.id if event is not None else None,
        by,
        "staff.role",
        "user",
        user.id,
        fr("Rôle attribué : %(who)s — %(what)s", who=_staff(user), what=", ".join(parts)),
        {"changes": diff},
    )


# --------------------------------------------------------------------------- the programme

CATALOGUE_WORDS = {
    "room": {"create": "Salle ajoutée", "edit": "Salle modifiée", "delete": "Salle supprimée"},
    "track": {"create": "Parcours ajouté", "edit": "Parcours modifié", "delete": "Parcours supprimé"},
    "person": {"create": "Personne ajoutée", "edit": "Personne modifiée", "delete": "Personne supprimée"},
}
SPEAKER_ROLE_WORDS = {"speaker": "intervention", "moderator": "animation", "witness": "témoignage", "rapporteur": "rapport"}
_TEXT_KEPT = 300  # abstracts and descriptions: enough of the words to recognise them


def session_values(session, tz_name: str) -> dict[str, Any]:
    """What an organiser can change in a session, as the journal keeps it (times at the venue)."""

    def text(value: str | None) -> str:
        value = value or ""
        return value if len(value) <= _TEXT_KEPT else value[:_TEXT_KEPT] + "…"

    return {
        "code": session.code,
        "title": session.title,
        "subtitle": session.subtitle or "",
        "kind": session.kind,
        "room": session.room.name if session.room is not None else None,
        "track": session.track.name if session.track is not None else None,
        "starts": moment_text(session.starts_at, tz_name) if session.starts_at else None,
        "ends": moment_text(session.ends_at, tz_name) if session.ends_at else None,
        "signup_required": bool(session.signup_required),
        "capacity": session.capacity,
        "abstract": text(session.abstract),
        "description": text(session.description),
    }


def _session_name(values: dict[str, Any]) -> str:
    return f"{values['code']} — {values['title']}"


def session_saved(event, session, user, before: dict[str, Any] | None) -> None:
    """A session added (`before` None) or edited; an edit that changes nothing is not recorded."""
    after = session_values(session, event.timezone)
    diff = changes(before or {}, after)
    if before is not None and not diff:
        return
    record(
        event.id,
        user,
        "programme.session.create" if before is None else "programme.session.edit",
        "session",
        session.id,
        fr("Session ajoutée : %(name)s", name=_session_name(after))
        if before is None
        else fr("Session modifiée : %(name)s", name=_session_name(after)),
        {"changes": diff},
    )


def session_deleted(event, session_id: int, before: dict[str, Any], user) -> None:
    record(
        event.id,
        user,
        "programme.session.delete",
        "session",
        session_id,
        fr("Session supprimée : %(name)s", name=_session_name(before)),
        {"changes": changes(before, {})},
    )


def session_person_changed(event, session, person, role: str, user, *, added: bool) -> None:
    """A speaker (or moderator...) added to or removed from a session."""
    record(
        event.id,
        user,
        "programme.speakers",
        "session",
        session.id,
        fr(
            "%(what)s : %(person)s (%(role)s), session %(code)s",
            what="Intervenant·e ajouté·e" if added else "Intervenant·e retiré·e",
            person=person.name,
            role=SPEAKER_ROLE_WORDS.get(role, role),
            code=session.code,
        ),
        {"person_id": person.id, "role": role, "changes": changes({}, {"name": person.name}) if added
         else changes({"name": person.name}, {})},
    )


def catalogue_changed(event, kind: str, item_id: int, user, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """A room, track or person of the programme added (`before` None), edited or deleted (`after` None)."""
    diff = changes(before or {}, after or {})
    if before is not None and after is not None and not diff:
        return
    change = "create" if before is None else "delete" if after is None else "edit"
    name = (after or before or {}).get("name", "")
    record(
        event.id, user, f"programme.{kind}", kind, item_id,
        fr("%(what)s : %(name)s", what=CATALOGUE_WORDS[kind][change], name=name), {"changes": diff},
    )


# --------------------------------------------------------------------------- door devices


def device_added(event, device, user) -> None:
    record(
        event.id, user, "device.add", "device", device.id,
        fr("Appareil ajouté : %(name)s (%(hint)s…)", name=device.name, hint=device.token_hint),
        {"changes": changes({}, {"name": device.name})},
    )


def device_revoked(event, device, user) -> None:
    record(
        event.id, user, "device.revoke", "device", device.id,
        fr("Appareil révoqué : %(name)s (%(hint)s…)", name=device.name, hint=device.token_hint),
        {"changes": {"revoked": {"before": False, "after": True}}},
    )
