"""The report's use cases: read the forum's facts, assemble the document, publish and withdraw.

Editing (report/editing.py), quote consent (report/approvals.py) and the rapporteurs' review
(report/review.py) build on what is here: `get_report`, `touch`, `draft_document`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func
from sqlalchemy.orm import selectinload

from forum_app import clock
from forum_app.audit import actions as audit
from forum_app.db import begin_write
from forum_app.errors import Conflict, Forbidden, InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.notes import domain as notes_domain
from forum_app.notes import photos
from forum_app.notes.models import NoteItem, RapporteurAssignment
from forum_app.programme.labels import kind_label, role_label
from forum_app.programme.models import Event, Session, SessionPerson
from forum_app.registration.labels import CATEGORY_LABELS
from forum_app.registration.models import Delegation, Registration
from forum_app.report import domain
from forum_app.report.models import (
    QuoteApproval,
    Report,
    ReportItem,
    ReportSection,
    ReportSnapshot,
)

# People shown under a section's heading, in this order (rapporteurs are credited elsewhere).
_ROLE_ORDER = {"moderator": 0, "speaker": 1, "witness": 2}


def is_organiser(user, event: Event) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_organiser_at(event.id)


def require_organiser(user, event: Event) -> None:
    if not is_organiser(user, event):
        raise Forbidden(_("Seuls les organisateurs de l'événement peuvent modifier le rapport."))


# --- The report row ----------------------------------------------------------------------------


def find_report(event: Event) -> Report | None:
    return db.session.scalar(db.select(Report).filter_by(event_id=event.id))


def get_report(event: Event) -> Report:
    """The event's report, created empty (in the session, not committed) the first time."""
    report = find_report(event)
    if report is None:
        report = Report(event_id=event.id, status=domain.DRAFT, version=1, updated_at=clock.now(), created_at=clock.now())
        db.session.add(report)
        db.session.flush()
    return report


def report_for_reading(event: Event) -> Report:
    """The event's report, or an unsaved one with the defaults when nobody has edited it yet:
    pages that only read never write a row (nor take SQLite's write lock)."""
    report = find_report(event)
    if report is not None:
        return report
    return Report(
        event_id=event.id, title="", lead="", organised_by="", introduction_md="", conclusion_md="",
        next_steps_md="", links_md="", show_attendance=True, show_delegations=True,
        empty_sessions=domain.EMPTY_LIST, refused_quotes=domain.REFUSED_DROP, cover_item_id=None,
        status=domain.DRAFT, version=1,
    )


def lock_report(event: Event) -> Report:
    """The report, with this transaction as its one writer (SQLite: the write lock; PostgreSQL:
    the row locked), created if needed."""
    begin_write(db.session)
    report = db.session.scalar(db.select(Report).filter_by(event_id=event.id).with_for_update())
    return report or get_report(event)


def touch(report: Report, user) -> None:
    """Record an editorial change. A change after publication makes the working copy a draft
    again: the published snapshot stays online until the next publication."""
    report.updated_at = clock.now()
    report.updated_by_id = getattr(user, "id", None)
    if report.status == domain.PUBLISHED:
        report.status = domain.DRAFT


def settings_of(report: Report) -> domain.Settings:
    return domain.Settings(
        title=report.title,
        lead=report.lead,
        organised_by=report.organised_by,
        introduction_md=report.introduction_md,
        conclusion_md=report.conclusion_md,
        next_steps_md=report.next_steps_md,
        links_md=report.links_md,
        show_attendance=report.show_attendance,
        show_delegations=report.show_delegations,
        empty_sessions=report.empty_sessions,
        refused_quotes=report.refused_quotes,
        cover_item_id=report.cover_item_id,
    )


# --- The forum's facts, as plain values --------------------------------------------------------


def event_facts(event: Event) -> domain.EventFacts:
    return domain.EventFacts(
        slug=event.slug,
        title=event.title,
        start_date=event.start_date.isoformat(),
        end_date=event.end_date.isoformat(),
        venue=event.venue,
        description=event.description,
        language=event.default_locale or "fr",
    )


def _local_iso(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return ""
    return moment.astimezone(tz).replace(tzinfo=None).isoformat(timespec="minutes")


def session_facts(event: Event) -> list[domain.SessionFacts]:
    """Every session in programme order, with its people (2 statements)."""
    tz = ZoneInfo(event.timezone)
    sessions = db.session.scalars(
        db.select(Session)
        .options(
            selectinload(Session.people).selectinload(SessionPerson.person),
            selectinload(Session.room),
        )
        .where(Session.event_id == event.id)
        .order_by(Session.starts_at, Session.code)
    )
    facts = []
    for session in sessions:
        people = sorted(
            (sp for sp in session.people if sp.role in _ROLE_ORDER),
            key=lambda sp: (_ROLE_ORDER[sp.role], sp.position),
        )
        facts.append(
            domain.SessionFacts(
                id=session.id,
                code=session.code,
                title=session.title,
                kind=session.kind,
                kind_label=str(kind_label(session.kind)),
                subtitle=session.subtitle,
                day=_local_iso(session.starts_at, tz)[:10],
                starts=_local_iso(session.starts_at, tz),
                ends=_local_iso(session.ends_at, tz),
                room=session.room.name if session.room else "",
                people=tuple(
                    domain.PersonLine(sp.person.name, sp.person.job_title, sp.person.organisation, str(role_label(sp.role)))
                    for sp in people
                ),
            )
        )
    return facts


def note_facts(event: Event) -> list[domain.NoteFacts]:
    """Every note of the event that is not deleted (1 statement, columns only)."""
    rows = db.session.execute(
        db.select(
            NoteItem.id,
            NoteItem.session_id,
            NoteItem.kind,
            NoteItem.text,
            NoteItem.attribution_name,
            NoteItem.attribution_job_title,
            NoteItem.attribution_organisation,
            NoteItem.attribution_person_id,
            NoteItem.highlighted,
            NoteItem.in_report,
            NoteItem.merged_into_id,
            NoteItem.position,
            NoteItem.photo_file,
            NoteItem.photo_width,
            NoteItem.photo_height,
            NoteItem.photo_credit,
        ).where(NoteItem.event_id == event.id, NoteItem.deleted_at.is_(None))
    )
    facts = []
    for (item_id, session_id, kind, text, name, job, org, person_id, highlighted, in_report, merged, position,
         photo_file, width, height, credit) in rows:
        photo = None
        if kind == notes_domain.PHOTO and photo_file:
            photo = domain.Photo(photo_file, width or 0, height or 0, text or "", credit or "")
        facts.append(
            domain.NoteFacts(
                id=item_id,
                session_id=session_id,
                kind=kind,
                text=text or "",
                attribution=notes_domain.Attribution(name or "", job or "", org or "", person_id),
                highlighted=bool(highlighted),
                in_report=bool(in_report),
                merged=merged is not None,
                position=position or 0,
                photo=photo,
            )
        )
    return facts


def section_choices(report: Report) -> dict[int, domain.SectionChoice]:
    rows = db.session.scalars(db.select(ReportSection).filter_by(report_id=report.id))
    return {
        row.session_id: domain.SectionChoice(row.hidden, row.position, row.title, row.summary_md) for row in rows
    }


def item_choices(report: Report) -> dict[int, domain.ItemChoice]:
    rows = db.session.execute(
        db.select(ReportItem.note_item_id, ReportItem.hidden, ReportItem.position, ReportItem.text).where(
            ReportItem.report_id == report.id
        )
    )
    return {note_id: domain.ItemChoice(bool(hidden), position, text) for note_id, hidden, position, text in rows}


def approval_facts(report: Report) -> dict[int, domain.ApprovalFacts]:
    rows = db.session.scalars(db.select(QuoteApproval).filter_by(report_id=report.id))
    return {
        row.note_item_id: domain.ApprovalFacts(
            row.state, row.text_sent, row.final_text, row.final_job_title, row.final_organisation
        )
        for row in rows
    }


def attendance(event: Event) -> domain.Attendance:
    """Confirmed registrations and who of them came through the entrance (3 statements)."""
    from forum_app.checkin import services as checkin_services

    present = checkin_services.arrivals(event)
    rows = db.session.execute(
        db.select(
            Registration.id, Registration.category, Registration.territory, Registration.delegation_id,
            Registration.organisation,
        ).where(Registration.event_id == event.id, Registration.status == "confirmed")
    )
    attendees = [
        domain.AttendeeFacts(
            category=str(CATEGORY_LABELS.get(category, category)),
            territory=territory or "",
            delegation_id=delegation_id,
            organisation=organisation or "",
            present=registration_id in present,
        )
        for registration_id, category, territory, delegation_id, organisation in rows
    ]
    delegations = [
        domain.DelegationFacts(d.id, d.name, d.territory)
        for d in db.session.scalars(db.select(Delegation).filter_by(event_id=event.id))
    ]
    return domain.count_attendance(attendees, delegations)


# --- Documents ---------------------------------------------------------------------------------


def build_document(event: Event, report: Report | None = None, *, publishing: bool = False) -> domain.Document:
    """The report as it stands now (a draft), or as it would be published. Labels (session kinds,
    roles, categories) are in the event's language."""
    report = report or report_for_reading(event)
    language = event.default_locale or "fr"
    with force_locale(language):
        document = domain.assemble(
            event_facts(event),
            settings_of(report),
            session_facts(event),
            note_facts(event),
            section_choices=section_choices(report),
            item_choices=item_choices(report),
            approvals=approval_facts(report),
            attendance=attendance(event) if report.show_attendance else None,
            publishing=publishing,
        )
    document.generated_at = clock.now().isoformat(timespec="seconds")
    return document


def draft_document(event: Event) -> domain.Document:
    return build_document(event, publishing=False)


def latest_snapshot(event: Event) -> ReportSnapshot | None:
    """The snapshot readers see: the newest publication not withdrawn."""
    report = find_report(event)
    if report is None:
        return None
    return db.session.scalar(
        db.select(ReportSnapshot)
        .where(ReportSnapshot.report_id == report.id, ReportSnapshot.withdrawn_at.is_(None))
        .order_by(ReportSnapshot.number.desc())
        .limit(1)
    )


def published_document(event: Event) -> domain.Document | None:
    snapshot = latest_snapshot(event)
    return domain.from_dict(snapshot.document) if snapshot else None


def snapshots(event: Event) -> list[ReportSnapshot]:
    report = find_report(event)
    if report is None:
        return []
    return list(
        db.session.scalars(
            db.select(ReportSnapshot).filter_by(report_id=report.id).order_by(ReportSnapshot.number.desc())
        )
    )


@dataclass
class PublicationCheck:
    """What an organiser should know before publishing."""

    sections: int
    unvalidated: list[str]  # section titles not validated (or changed since)
    quotes_left_out: int  # named quotes without consent: not published
    quotes_anonymised: int
    first_publication: bool


def publication_check(event: Event) -> PublicationCheck:
    from forum_app.report import review

    report = report_for_reading(event)
    draft = build_document(event, report)
    published = build_document(event, report, publishing=True)
    draft_quotes = {i.id: i for s in draft.sections for i in s.items if i.kind == notes_domain.QUOTE}
    published_quotes = {i.id: i for s in published.sections for i in s.items if i.kind == notes_domain.QUOTE}
    anonymised = sum(
        1
        for item_id, item in published_quotes.items()
        if item.attribution == domain.ANONYMOUS and draft_quotes[item_id].attribution != domain.ANONYMOUS
    )
    states = review.section_states(event, draft)
    return PublicationCheck(
        sections=len(draft.sections),
        unvalidated=[state.title for state in states if not state.validated],
        quotes_left_out=len(draft_quotes) - len(published_quotes),
        quotes_anonymised=anonymised,
        first_publication=latest_snapshot(event) is None and not snapshots(event),
    )


def publish(event: Event, user, *, note: str = "") -> ReportSnapshot:
    """Freeze the report as readers will see it. The first publication follows a review; a
    republication (a correction) may be made from the draft."""
    require_organiser(user, event)
    if len(note.strip()) > 500:
        raise InvalidInput(_("La note de version ne doit pas dépasser %(limit)s caractères.", limit=500), field="note")
    report = lock_report(event)
    number = db.session.scalar(
        db.select(func.coalesce(func.max(ReportSnapshot.number), 0)).where(ReportSnapshot.report_id == report.id)
    )
    if number == 0 and report.status != domain.REVIEW:
        raise Conflict(_("Envoyez d'abord le rapport en relecture : les rapporteurs valident leur section avant la première publication."))
    document = build_document(event, report, publishing=True)
    moment = clock.now()
    document.number = number + 1
    document.published_at = moment.isoformat(timespec="seconds")
    document.generated_at = document.published_at
    snapshot = ReportSnapshot(
        report_id=report.id,
        number=number + 1,
        document=domain.to_dict(document),
        published_at=moment,
        published_by_id=getattr(user, "id", None),
        note=note.strip(),
    )
    db.session.add(snapshot)
    before = report.status
    report.status = domain.PUBLISHED
    report.updated_at = moment
    report.updated_by_id = getattr(user, "id", None)
    audit.report_published(event, report, snapshot, user, before)
    db.session.commit()
    return snapshot


def withdraw(event: Event, user) -> None:
    """Take the report offline (every published version): the public pages answer 404 again."""
    require_organiser(user, event)
    report = lock_report(event)
    moment = clock.now()
    rows = db.session.scalars(
        db.select(ReportSnapshot).where(ReportSnapshot.report_id == report.id, ReportSnapshot.withdrawn_at.is_(None))
    ).all()
    if not rows:
        raise Conflict(_("Le rapport n'est pas en ligne."))
    for row in rows:
        row.withdrawn_at = moment
    before = report.status
    report.status = domain.DRAFT
    report.updated_at = moment
    audit.report_withdrawn(event, report, rows, user, before)
    db.session.commit()


# --- Photos ------------------------------------------------------------------------------------


def photo_path(event: Event, document: domain.Document, name: str) -> Path:
    """The file of a photo the document shows (NotFound for any other name)."""
    if not photos.valid_name(name) or name not in {photo.file for photo in document.photos}:
        raise NotFound(_("Cette photo ne fait pas partie du rapport."))
    path = photos.path_of(event.id, name)
    if path is None or not path.is_file():
        raise NotFound(_("Cette photo ne fait pas partie du rapport."))
    return path


def photo_resolver(event: Event):
    """name -> Path of the stored photo, or None when the file is missing (outputs then leave the
    photo out rather than fail)."""

    def resolve(name: str) -> Path | None:
        path = photos.path_of(event.id, name) if photos.valid_name(name) else None
        return path if path is not None and path.is_file() else None

    return resolve


def rapporteurs_by_session(event: Event) -> dict[int, list[int]]:
    rows = db.session.execute(
        db.select(RapporteurAssignment.session_id, RapporteurAssignment.user_id)
        .join(Session, Session.id == RapporteurAssignment.session_id)
        .where(Session.event_id == event.id)
    )
    found: dict[int, list[int]] = {}
    for session_id, user_id in rows:
        found.setdefault(session_id, []).append(user_id)
    return found


def event_by_slug(slug: str) -> Event:
    event = db.session.scalar(db.select(Event).filter_by(slug=slug))
    if event is None:
        raise NotFound(_("Événement introuvable."))
    return event
