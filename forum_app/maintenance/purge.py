"""The purge of an event's personal data, once it is no longer needed (`flask purge-personal-data`).

What goes (per table):
- registration: names, email, organisation (replaced by a numbered stand-in, "Organisation
  anonymisée 3", so the report's count of organisations is unchanged), job title, accessibility
  needs, the magic link's secret (links and badges die) — through `registration.services.anonymise`,
  the same erasure as a person's own request, except that the status and the seats stay;
- delegation: the contact's name and email (the delegation's name and territory stay);
- check_in: the name, organisation and job title copied into the stored answer of each scan
  (outcome, times, door, station, registration number, category stay);
- quote_approval: the address the request went to, the person's comment, the link's secret
  (the consent itself, and the words approved, stay: the report depends on them);
- staff_invitation: the event's invitations (one-time links of staff accounts);
- audit_entry: names and details of the event's journal entries (forum_app/audit);
- the mail outbox (MAIL_BACKEND=outbox): the messages about the event (links to /e/<slug>/ or the
  event's title in the subject). Mail sent by SMTP is out of our reach (said in the summary).

What stays: the programme, the notes and their photos, published report snapshots (their quotes are
of programme speakers, who consented), and every figure: the arrivals dashboard and the report's
attendance count the same before and after.
"""
from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from forum_app import clock, mail
from forum_app.audit import services as audit_log
from forum_app.audit.models import AuditEntry
from forum_app.auth.models import StaffInvitation
from forum_app.checkin.models import CheckIn
from forum_app.db import begin_write
from forum_app.errors import DomainError, NotFound
from forum_app.extensions import db
from forum_app.maintenance import domain
from forum_app.programme.models import Event
from forum_app.registration import domain as registration_domain
from forum_app.registration import services as registration_services
from forum_app.registration.models import Delegation, Registration
from forum_app.report.models import QuoteApproval, Report

DEFAULT_RETENTION_DAYS = 365
TABLES = ("registration", "delegation", "check_in", "quote_approval", "staff_invitation", "audit_entry")


class PurgeRefused(DomainError):
    """Too early, or an override not confirmed: nothing was erased."""


@dataclass
class PurgeResult:
    slug: str
    dry_run: bool
    erased: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    outbox_files: int = 0
    outbox_note: str = ""
    warning: str = ""

    @property
    def total(self) -> int:
        return sum(self.erased.values()) + self.outbox_files


def retention_days() -> int:
    return int(current_app.config.get("PERSONAL_DATA_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def event_by_slug(slug: str) -> Event:
    event = db.session.scalar(db.select(Event).filter_by(slug=slug))
    if event is None:
        raise NotFound(f"No event with the slug {slug!r}.")
    return event


def local_today(event: Event) -> date:
    """Today in the event's time zone (its dates are local dates)."""
    return clock.now().astimezone(ZoneInfo(event.timezone)).date()


def decide(event: Event, *, days: int | None = None, confirmed: bool = False, today: date | None = None) -> domain.PurgeDecision:
    configured = retention_days()
    return domain.purge_decision(
        event.end_date,
        today or local_today(event),
        configured if days is None else days,
        configured_days=configured,
        confirmed=confirmed,
        notice_date=registration_domain.erasure_date(event.end_date),
    )


def purge_event(
    event: Event, *, days: int | None = None, confirmed: bool = False, dry_run: bool = False, today: date | None = None
) -> PurgeResult:
    """Erase the event's personal data (see the module's docstring), or with `dry_run` count what
    would be erased and change nothing. PurgeRefused when the date rule says no (see
    `domain.purge_decision`). One transaction: all of it, or nothing; the outbox files go after
    the commit. Running it again erases nothing more."""
    decision = decide(event, days=days, confirmed=confirmed, today=today)
    if not decision.allowed:
        raise PurgeRefused(decision.reason)
    result = _purge(event, dry_run=dry_run)
    result.warning = decision.warning
    return result


def purge_expired(today: date) -> dict[str, PurgeResult]:
    """The purge of every event past the privacy notice's date (registration.domain.erasure_due),
    for `flask registrations erase-expired` (daily)."""
    results: dict[str, PurgeResult] = {}
    for event in db.session.scalars(db.select(Event).order_by(Event.end_date)).all():
        if registration_domain.erasure_due(event.end_date, today):
            results[event.slug] = _purge(event, dry_run=False)
    return results


def _purge(event: Event, *, dry_run: bool) -> PurgeResult:
    result = PurgeResult(event.slug, dry_run)
    slug, title, event_id = event.slug, event.title, event.id
    begin_write(db.session)
    moment = clock.now()
    erased = result.erased

    # Registrations: the shared erasure, keeping status and seats (the figures).
    people = db.session.scalars(
        db.select(Registration).where(Registration.event_id == event_id, Registration.anonymised_at.is_(None))
        .order_by(Registration.id)
    ).all()
    taken = db.session.scalars(
        db.select(Registration.organisation).where(
            Registration.event_id == event_id, Registration.anonymised_at.is_not(None)
        ).distinct()
    ).all()
    stand_ins = domain.organisation_stand_ins([(r.id, r.organisation or "") for r in people], taken)
    for registration in people:
        registration_services.anonymise(registration, moment, organisation=stand_ins[registration.id], trails=False)
    erased["registration"] = len(people)

    # Delegations: their contact person.
    contacts = db.session.scalars(
        db.select(Delegation).where(
            Delegation.event_id == event_id, sa.or_(Delegation.contact_name != "", Delegation.contact_email != "")
        )
    ).all()
    for delegation in contacts:
        delegation.contact_name = ""
        delegation.contact_email = ""
    erased["delegation"] = len(contacts)

    # Check-ins: the person's name, organisation and job title in each stored answer.
    changed = []
    for checkin_id, answer in db.session.execute(
        sa.select(CheckIn.id, CheckIn.answer).where(CheckIn.event_id == event_id).order_by(CheckIn.id)
    ):
        scrubbed = domain.scrub_checkin_answer(answer)
        if scrubbed is not None:
            changed.append({"row_id": checkin_id, "new_answer": scrubbed})
    if changed:
        table = CheckIn.__table__
        db.session.execute(
            sa.update(table).where(table.c.id == sa.bindparam("row_id")).values(answer=sa.bindparam("new_answer")),
            changed,
        )
    erased["check_in"] = len(changed)

    # Quote consent: the address asked, the comment, the link.
    approvals = db.session.scalars(
        db.select(QuoteApproval)
        .join(Report, Report.id == QuoteApproval.report_id)
        .where(
            Report.event_id == event_id,
            sa.or_(QuoteApproval.email != "", QuoteApproval.comment != "", QuoteApproval.token_hash.is_not(None)),
        )
    ).all()
    for approval in approvals:
        approval.email = ""
        approval.comment = ""
        approval.token_hash = None
    erased["quote_approval"] = len(approvals)

    # Staff invitations of the event (one-time links to choose a password).
    erased["staff_invitation"] = db.session.execute(
        sa.delete(StaffInvitation).where(StaffInvitation.event_id == event_id)
    ).rowcount or 0

    # The staff journal (forum_app/audit): counted as the entries that still named someone.
    def journal() -> dict[int, tuple]:
        rows = db.session.execute(
            sa.select(AuditEntry.id, AuditEntry.summary, AuditEntry.details, AuditEntry.actor_name,
                      AuditEntry.actor_email, AuditEntry.user_id).where(AuditEntry.event_id == event_id)
        )
        return {row[0]: tuple(row[1:]) for row in rows}

    before = journal()
    audit_log.erase_personal_data(event_id)
    db.session.flush()
    after = journal()
    erased["audit_entry"] = sum(1 for entry_id, values in before.items() if after.get(entry_id) != values)

    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()

    files, note = outbox_messages(slug, title)
    result.outbox_files = len(files)
    result.outbox_note = note
    if not dry_run:
        for path in files:
            path.unlink(missing_ok=True)
    return result


def outbox_messages(slug: str, title: str) -> tuple[list[Path], str]:
    """The outbox files about the event, and a note on what the outbox can and cannot tell."""
    backend = current_app.config.get("MAIL_BACKEND", "outbox")
    if backend == "smtp":
        return [], "mail is sent by SMTP: no copy is kept here (copies on mail servers are out of reach)"
    if backend != "outbox":
        return [], f"mail backend {backend!r}: nothing kept on disk"
    directory = mail.outbox_dir()
    if not directory.is_dir():
        return [], f"no outbox folder ({directory})"
    about, others = [], 0
    for path in sorted(directory.glob("*.eml")):
        try:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        except (OSError, ValueError):
            others += 1
            continue
        texts = []
        for part in message.walk():
            if part.get_content_maintype() == "text":
                try:
                    texts.append(part.get_content())
                except (LookupError, ValueError):
                    continue
        if domain.message_about_event(str(message.get("Subject", "")), texts, slug, title):
            about.append(path)
        else:
            others += 1
    note = f"outbox {directory}"
    if others:
        note += f"; {others} other message(s) do not name this event and stay"
    return about, note
