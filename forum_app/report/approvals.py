"""The consent of the people quoted by name: asked through a private link, or recorded by an organiser.

- `request_approval` (organisers): a fresh link secret each time (only its SHA-256 is stored, the
  previous link dies), the quote's words as the report shows them now, an email to the person.
- `find_by_secret` / `quote_view`: what the person's page shows (the link works until it expires,
  so they may change their answer).
- `answer`: approve, amend (their words, job title, organisation) or refuse; the organisers are told.
  When the quote changed in the report since the link was sent, the page shows the new words and
  the answer holds for them.
- `record_consent` (organisers): consent given by phone or in person.
- `states`: every quote of the draft with where its consent stands, for the organisers' page.

Messages go out after the commit (report/notifications.py). Services never read the request.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from forum_app import clock
from forum_app.audit import actions as audit
from forum_app.errors import Conflict, InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.notes import domain as notes_domain
from forum_app.notes.models import NoteItem
from forum_app.programme.models import Event
from forum_app.registration.domain import normalise_email
from forum_app.registration.models import Registration
from forum_app.report import domain, services
from forum_app.report.models import QuoteApproval, Report

APPROVE, AMEND, REFUSE = "approve", "amend", "refuse"
ACTIONS = (APPROVE, AMEND, REFUSE)
RECORDABLE = (domain.APPROVED, domain.REFUSED)  # what an organiser may record
COMMENT_MAX = 2000
DEFAULT_LINK_DAYS = 30
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")


# --------------------------------------------------------------------------- small rules


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def link_validity() -> timedelta:
    return timedelta(days=int(current_app.config.get("REPORT_QUOTE_LINK_DAYS") or DEFAULT_LINK_DAYS))


def fold_name(text: str) -> str:
    """"Élise  Martin-Durand" and "elise martin durand" compare equal (case, accents, punctuation)."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join("".join(ch if ch.isalnum() else " " for ch in plain).split())


def words_fingerprint(text: str, attribution: str) -> str:
    """What the person's page showed: an answer posted after the words changed is a conflict."""
    return hashlib.sha256(f"{text}\x00{attribution}".encode()).hexdigest()[:32]


def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


# --------------------------------------------------------------------------- the quote in the draft


@dataclass
class QuoteInDraft:
    section: domain.Section
    item: domain.Item


def _in_draft(document: domain.Document, note_id: int) -> QuoteInDraft | None:
    for section in document.sections:
        for item in section.items:
            if item.id == note_id and item.kind == notes_domain.QUOTE:
                return QuoteInDraft(section, item)
    return None


def _attribution(note: NoteItem) -> notes_domain.Attribution:
    return notes_domain.Attribution(
        note.attribution_name or "", note.attribution_job_title or "", note.attribution_organisation or "",
        note.attribution_person_id,
    )


def _facts(approval: QuoteApproval) -> domain.ApprovalFacts:
    return domain.ApprovalFacts(
        approval.state, approval.text_sent, approval.final_text, approval.final_job_title, approval.final_organisation
    )


def _named_quote(event: Event, note_id) -> NoteItem:
    """A quote of this event attributed by name (NotFound for another event's note)."""
    note = db.session.get(NoteItem, note_id) if isinstance(note_id, int) else None
    if note is None or note.event_id != event.id or note.deleted_at is not None:
        raise NotFound(_("Cette citation n'existe pas."))
    if note.kind != notes_domain.QUOTE:
        raise InvalidInput(_("Seules les citations demandent l'accord de la personne citée."), field="note_id")
    if not (note.attribution_name or "").strip():
        raise InvalidInput(
            _("Cette citation n'est attribuée à personne : elle paraît sans nom, aucun accord n'est nécessaire."),
            field="note_id",
        )
    return note


def _current(event: Event, note_id: int, report: Report | None = None) -> QuoteInDraft:
    found = _in_draft(services.build_document(event, report), note_id)
    if found is None:
        raise InvalidInput(
            _("Cette citation ne figure pas dans le projet de rapport (masquée ou exclue) : il n'y a rien à faire approuver."),
            field="note_id",
        )
    return found


def _approval_row(report: Report, note_id: int) -> QuoteApproval | None:
    return db.session.scalar(db.select(QuoteApproval).filter_by(report_id=report.id, note_item_id=note_id))


def _clean_comment(comment: str | None) -> str:
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(
            _(
                "Votre commentaire compte %(length)d caractères, %(max)d au maximum : raccourcissez-le.",
                length=len(comment),
                max=COMMENT_MAX,
            ),
            field="comment",
        )
    return comment


# --------------------------------------------------------------------------- asking


def request_approval(event: Event, note_id: int, user, email: str) -> tuple[QuoteApproval, str]:
    """Send the person quoted a private link to approve, amend or refuse the quote as the report
    shows it now. A new link each time: the previous one stops working. Returns (row, secret)."""
    services.require_organiser(user, event)
    address, problem = normalise_email(email)
    if problem is not None:
        raise InvalidInput(_("Adresse e-mail invalide (exemple : prenom.nom@exemple.fr)."), field="email")
    note = _named_quote(event, note_id)
    report = services.lock_report(event)
    found = _current(event, note.id, report)
    approval = _approval_row(report, note.id)
    if approval is None:
        approval = QuoteApproval(report_id=report.id, note_item_id=note.id)
        db.session.add(approval)
    moment = clock.now()
    secret = secrets.token_urlsafe(32)
    approval.state = domain.APPROVAL_SENT
    approval.email = address
    approval.token_hash = secret_hash(secret)
    approval.text_sent = found.item.text
    approval.attribution_sent = found.item.attribution
    approval.final_text = approval.final_job_title = approval.final_organisation = approval.comment = ""
    approval.sent_at = moment
    approval.expires_at = moment + link_validity()
    approval.answered_at = None
    approval.recorded_by_id = None
    approval.updated_at = moment
    services.touch(report, user)
    db.session.commit()
    from forum_app.report import notifications

    notifications.quote_approval_requested(approval, secret, asked_by=user)
    return approval, secret


# --------------------------------------------------------------------------- the person's link


def _by_secret(secret) -> QuoteApproval | None:
    if not isinstance(secret, str) or not _SECRET_SHAPE.fullmatch(secret):
        return None
    wanted = secret_hash(secret)
    approval = db.session.scalar(db.select(QuoteApproval).filter_by(token_hash=wanted))
    # The lookup is by a hash of the secret (its prefix is out of an attacker's control); the
    # final comparison is constant-time all the same.
    if approval is None or not hmac.compare_digest(approval.token_hash or "", wanted):
        return None
    if approval.expires_at is None or approval.expires_at <= clock.now():
        return None
    return approval


def find_by_secret(slug: str, secret) -> QuoteApproval | None:
    """The consent request this link opens at this event, while it is valid (else None, whatever
    the reason: unknown, replaced by a newer link, expired, another event's)."""
    approval = _by_secret(secret)
    if approval is None:
        return None
    event = event_of(approval)
    if event is None or event.slug != slug:
        return None
    return approval


def event_of(approval: QuoteApproval) -> Event | None:
    return db.session.scalar(
        db.select(Event).join(Report, Report.event_id == Event.id).where(Report.id == approval.report_id)
    )


@dataclass
class QuoteView:
    """What the person's page shows."""

    approval: QuoteApproval
    event: Event
    note: NoteItem
    section: domain.Section | None  # None: the quote is no longer in the report
    item: domain.Item | None
    state: str  # domain.approval_state for the words the report shows now

    @property
    def in_report(self) -> bool:
        return self.item is not None

    @property
    def words(self) -> str:
        return self.item.text if self.item is not None else self.approval.text_sent

    @property
    def attribution(self) -> str:
        return self.item.attribution if self.item is not None else self.approval.attribution_sent

    @property
    def name(self) -> str:
        return self.note.attribution_name or ""

    @property
    def job_title(self) -> str:
        return self.note.attribution_job_title or ""

    @property
    def organisation(self) -> str:
        return self.note.attribution_organisation or ""

    @property
    def changed(self) -> bool:
        """The quote reads differently since the link was sent or answered."""
        return self.state == domain.STALE or (
            self.state == domain.REFUSED and self.words not in {self.approval.text_sent, self.approval.final_text}
        )

    @property
    def answered(self) -> bool:
        return self.approval.answered_at is not None and self.approval.state in (
            domain.APPROVED, domain.AMENDED, domain.REFUSED
        )

    @property
    def fingerprint(self) -> str:
        return words_fingerprint(self.words, self.attribution)

    @property
    def published(self) -> tuple[str, str] | None:
        """(words, attribution) as a publication would print them now, or None when left out."""
        report = db.session.get(Report, self.approval.report_id)
        return domain.quote_as_published(
            self.words, _attribution(self.note), _facts(self.approval), report.refused_quotes if report else "drop"
        )


def quote_view(approval: QuoteApproval, event: Event | None = None) -> QuoteView:
    event = event or event_of(approval)
    note = db.session.get(NoteItem, approval.note_item_id)
    found = _in_draft(services.draft_document(event), approval.note_item_id)
    state = domain.approval_state(_attribution(note), _facts(approval), found.item.text if found else approval.text_sent)
    return QuoteView(
        approval=approval,
        event=event,
        note=note,
        section=found.section if found else None,
        item=found.item if found else None,
        state=state,
    )


def answer(
    secret: str,
    action: str,
    *,
    slug: str | None = None,
    text: str | None = None,
    job_title: str | None = None,
    organisation: str | None = None,
    comment: str | None = None,
    shown: str | None = None,
) -> QuoteApproval:
    """The person's answer through their link. `shown` is the fingerprint of the words their page
    showed: if the quote changed in the meantime, nothing is recorded (Conflict) and the page shows
    the new words. The answer holds for the words the report shows now."""
    approval = find_by_secret(slug, secret) if slug is not None else _by_secret(secret)
    if approval is None:
        raise NotFound(_("Ce lien n'est pas valable ou a expiré."))
    if action not in ACTIONS:
        raise InvalidInput(_("Choisissez une réponse : j'approuve, je propose une autre formulation ou je refuse."), field="action")
    comment = _clean_comment(comment)
    new_text = new_job = new_org = ""
    if action == AMEND:
        new_text = (text or "").strip()
        if not new_text:
            raise InvalidInput(_("Écrivez la formulation que vous proposez."), field="text")
        if len(new_text) > notes_domain.TEXT_MAX:
            raise InvalidInput(
                _(
                    "Votre formulation compte %(length)d caractères, %(max)d au maximum : raccourcissez-la.",
                    length=len(new_text),
                    max=notes_domain.TEXT_MAX,
                ),
                field="text",
            )
        new_job, new_org = _one_line(job_title), _one_line(organisation)
        for value, limit, field_name, message in (
            (new_job, notes_domain.JOB_TITLE_MAX, "job_title", _("Votre fonction compte %(length)d caractères, %(max)d au maximum.")),
            (new_org, notes_domain.ORGANISATION_MAX, "organisation", _("Votre organisation compte %(length)d caractères, %(max)d au maximum.")),
        ):
            if len(value) > limit:
                raise InvalidInput(message % {"length": len(value), "max": limit}, field=field_name)

    event = event_of(approval)
    report = services.lock_report(event)
    db.session.expire(approval)
    approval = _by_secret(secret)  # read again inside the write transaction
    if approval is None or approval.report_id != report.id:
        db.session.rollback()
        raise NotFound(_("Ce lien n'est pas valable ou a expiré."))
    found = _in_draft(services.build_document(event, report), approval.note_item_id)
    if found is None:
        db.session.rollback()
        raise Conflict(_("Cette citation ne figure plus dans le projet de rapport : elle ne sera pas publiée, vous n'avez rien à faire."))
    words, line = found.item.text, found.item.attribution
    if shown is not None and shown != words_fingerprint(words, line):
        db.session.rollback()
        raise Conflict(
            _("La citation a été modifiée pendant que vous répondiez : relisez la nouvelle formulation ci-dessous, puis répondez à nouveau.")
        )
    note = db.session.get(NoteItem, approval.note_item_id)
    moment = clock.now()
    approval.text_sent = words  # the answer holds for the words the person was shown
    approval.attribution_sent = line
    approval.comment = comment
    approval.final_job_title = approval.final_organisation = ""
    if action == APPROVE:
        approval.state, approval.final_text = domain.APPROVED, words
    elif action == REFUSE:
        approval.state, approval.final_text = domain.REFUSED, ""
    else:
        same_words = new_text == words
        same_job = new_job in ("", note.attribution_job_title or "")
        same_org = new_org in ("", note.attribution_organisation or "")
        if same_words and same_job and same_org:
            approval.state, approval.final_text = domain.APPROVED, words
        else:
            approval.state, approval.final_text = domain.AMENDED, new_text
            approval.final_job_title, approval.final_organisation = new_job, new_org
    approval.answered_at = moment
    approval.recorded_by_id = None
    approval.updated_at = moment
    services.touch(report, None)
    db.session.commit()
    from forum_app.report import notifications

    notifications.quote_answered(approval)
    return approval


# --------------------------------------------------------------------------- organisers


def record_consent(event: Event, note_id: int, user, state: str, comment: str = "") -> QuoteApproval:
    """Consent given by phone or in person, recorded by an organiser for the words shown now."""
    services.require_organiser(user, event)
    if state not in RECORDABLE:
        raise InvalidInput(_("Indiquez si la personne a donné son accord ou l'a refusé."), field="state")
    comment = _clean_comment(comment)
    note = _named_quote(event, note_id)
    report = services.lock_report(event)
    found = _current(event, note.id, report)
    approval = _approval_row(report, note.id)
    before = approval.state if approval is not None else None
    if approval is None:
        approval = QuoteApproval(report_id=report.id, note_item_id=note.id)
        db.session.add(approval)
    moment = clock.now()
    approval.state = state
    approval.text_sent = found.item.text
    approval.attribution_sent = found.item.attribution
    approval.final_text = found.item.text if state == domain.APPROVED else ""
    approval.final_job_title = approval.final_organisation = ""
    approval.comment = comment
    approval.answered_at = moment
    approval.recorded_by_id = user.id
    approval.updated_at = moment
    services.touch(report, user)
    audit.consent_recorded(event, approval, user, before, found.item.attribution)
    db.session.commit()
    return approval


@dataclass
class QuoteRow:
    """One quote of the draft, for the organisers' page."""

    note_id: int
    session_code: str
    session_title: str
    anchor: str
    text: str
    attribution: str
    name: str
    state: str  # domain.approval_state
    approval: QuoteApproval | None
    suggested_email: str = ""

    @property
    def named(self) -> bool:
        return self.state != domain.NOT_NEEDED

    @property
    def email(self) -> str:
        """The address to prefill: the one already used, else the suggestion."""
        return (self.approval.email if self.approval is not None else "") or self.suggested_email

    @property
    def link_alive(self) -> bool:
        a = self.approval
        return a is not None and bool(a.token_hash) and a.expires_at is not None and a.expires_at > clock.now()


def _registered_emails(event: Event) -> dict[str, list[str]]:
    """folded full name -> the emails of confirmed registrations with that name."""
    rows = db.session.execute(
        db.select(Registration.first_name, Registration.last_name, Registration.email).where(
            Registration.event_id == event.id,
            Registration.status == "confirmed",
            Registration.anonymised_at.is_(None),
        )
    )
    found: dict[str, list[str]] = {}
    for first, last, email in rows:
        key = fold_name(f"{first} {last}")
        if key and email and email not in found.setdefault(key, []):
            found[key].append(email)
    return found


def states(event: Event) -> list[QuoteRow]:
    """Every quote of the draft in the report's order, those attributed by name first."""
    document = services.draft_document(event)
    report = services.report_for_reading(event)
    approvals = {row.note_item_id: row for row in db.session.scalars(db.select(QuoteApproval).filter_by(report_id=report.id))}
    quotes = [(section, item) for section in document.sections for item in section.items if item.kind == notes_domain.QUOTE]
    names = dict(
        db.session.execute(
            db.select(NoteItem.id, NoteItem.attribution_name).where(NoteItem.id.in_([item.id for _, item in quotes]))
        ).all()
    ) if quotes else {}
    emails = _registered_emails(event) if quotes else {}
    rows = []
    for section, item in quotes:
        name = names.get(item.id) or ""
        candidates = emails.get(fold_name(name), []) if name else []
        rows.append(
            QuoteRow(
                note_id=item.id,
                session_code=section.code,
                session_title=section.title,
                anchor=section.anchor,
                text=item.text,
                attribution=item.attribution,
                name=name,
                state=item.approval,
                approval=approvals.get(item.id),
                suggested_email=candidates[0] if len(candidates) == 1 else "",
            )
        )
    rows.sort(key=lambda row: not row.named)  # stable: the report's order within each group
    return rows


def counts(rows: list[QuoteRow]) -> dict[str, int]:
    """How many named quotes stand in each state, and how many a publication would print."""
    found: dict[str, int] = {}
    for row in rows:
        if row.named:
            found[row.state] = found.get(row.state, 0) + 1
    found["named"] = sum(1 for row in rows if row.named)
    found["publishable"] = sum(found.get(state, 0) for state in (domain.APPROVED, domain.AMENDED))
    found["waiting"] = sum(found.get(state, 0) for state in (domain.NOT_ASKED, domain.APPROVAL_SENT, domain.STALE))
    return found
