"""The rapporteurs' review: each session's rapporteurs validate their section before publication.

A validation holds for the section as it read then (its fingerprint): a change made afterwards
shows the section as "modifiée depuis la validation" until it is validated again. Sessions
without a rapporteur are validated by an organiser.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _

from forum_app import clock
from forum_app.errors import Conflict, Forbidden, NotFound
from forum_app.extensions import db
from forum_app.programme.models import Event
from forum_app.report import domain, services
from forum_app.report.models import ReportSection


@dataclass
class SectionState:
    session_id: int
    code: str
    title: str
    fingerprint: str
    rapporteur_ids: list[int] = field(default_factory=list)
    validated_at: datetime | None = None
    validated_by_id: int | None = None
    changed_since: bool = False  # validated, then changed
    comment: str = ""

    @property
    def validated(self) -> bool:
        return self.validated_at is not None and not self.changed_since


def section_states(event: Event, draft: domain.Document | None = None) -> list[SectionState]:
    """Each section of the draft with where its validation stands, in the report's order."""
    draft = draft or services.draft_document(event)
    report = services.report_for_reading(event)
    rows = {row.session_id: row for row in db.session.scalars(db.select(ReportSection).filter_by(report_id=report.id))}
    rapporteurs = services.rapporteurs_by_session(event)
    states = []
    for section in draft.sections:
        fingerprint = domain.section_fingerprint(section)
        row = rows.get(section.session_id)
        validated = row is not None and row.validated_at is not None
        states.append(
            SectionState(
                session_id=section.session_id,
                code=section.code,
                title=section.title,
                fingerprint=fingerprint,
                rapporteur_ids=rapporteurs.get(section.session_id, []),
                validated_at=row.validated_at if validated else None,
                validated_by_id=row.validated_by_id if validated else None,
                changed_since=validated and row.validated_fingerprint != fingerprint,
                comment=row.review_comment if row is not None else "",
            )
        )
    return states


def may_validate(user, event: Event, state: SectionState) -> bool:
    """The section's rapporteurs, and the organisers."""
    if services.is_organiser(user, event):
        return True
    return bool(getattr(user, "is_authenticated", False)) and user.id in state.rapporteur_ids


def start_review(event: Event, user) -> list[SectionState]:
    """Draft -> in review. Returns the sections, so the caller can tell their rapporteurs."""
    services.require_organiser(user, event)
    report = services.lock_report(event)
    if report.status == domain.REVIEW:
        raise Conflict(_("Le rapport est déjà en relecture."))
    report.status = domain.REVIEW
    report.review_started_at = clock.now()
    report.updated_by_id = getattr(user, "id", None)
    states = section_states(event)
    db.session.commit()
    return states


def back_to_draft(event: Event, user) -> None:
    services.require_organiser(user, event)
    report = services.lock_report(event)
    if report.status != domain.REVIEW:
        raise Conflict(_("Le rapport n'est pas en relecture."))
    report.status = domain.DRAFT
    db.session.commit()


def validate_section(event: Event, session_id: int, user, *, fingerprint: str, comment: str = "") -> SectionState:
    """Validate a section as the user saw it: `fingerprint` is the one shown on their page, so a
    section that changed while they read it is not validated unseen (Conflict)."""
    report = services.lock_report(event)
    states = {state.session_id: state for state in section_states(event)}
    state = states.get(session_id)
    if state is None:
        raise NotFound(_("Cette session n'a pas de section dans le rapport."))
    if not may_validate(user, event, state):
        raise Forbidden(_("Seuls les rapporteurs de cette session et les organisateurs peuvent la valider."))
    if report.status != domain.REVIEW:
        raise Conflict(_("Le rapport n'est pas en relecture."))
    if fingerprint != state.fingerprint:
        raise Conflict(_("La section a changé pendant votre relecture : relisez-la avant de la valider."))
    row = db.session.scalar(db.select(ReportSection).filter_by(report_id=report.id, session_id=session_id))
    if row is None:
        row = ReportSection(report_id=report.id, session_id=session_id)
        db.session.add(row)
    moment = clock.now()
    row.validated_at = moment
    row.validated_by_id = user.id
    row.validated_fingerprint = state.fingerprint
    row.review_comment = comment.strip()[:2000]
    db.session.commit()
    state.validated_at, state.validated_by_id, state.changed_since, state.comment = moment, user.id, False, row.review_comment
    return state
