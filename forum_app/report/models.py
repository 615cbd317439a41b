"""The post-event report: the organisers' editorial layer over the rapporteurs' notes.

The notes stay as captured; the report keeps its own choices beside them (what is shown, in what
order, rewritten how), the consent of the people quoted, and each published version frozen as
a snapshot, so a later change to the notes never changes what readers already have.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum_app.db import UTCDateTime, utcnow
from forum_app.extensions import db
from forum_app.notes.models import NoteItem
from forum_app.programme.models import Event, Session
from forum_app.report.domain import (  # noqa: F401 (the models' vocabulary, defined by the rules)
    APPROVAL_STATES,
    EMPTY_SESSION_CHOICES,
    REFUSED_QUOTE_CHOICES,
    REPORT_STATUSES,
)


class Report(db.Model):
    __tablename__ = "report"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), unique=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    lead: Mapped[str] = mapped_column(Text, default="")  # the "chapeau" under the title (plain text)
    organised_by: Mapped[str] = mapped_column(String(300), default="")
    introduction_md: Mapped[str] = mapped_column(Text, default="")
    conclusion_md: Mapped[str] = mapped_column(Text, default="")
    next_steps_md: Mapped[str] = mapped_column(Text, default="")  # "Suites et prochaines étapes"
    links_md: Mapped[str] = mapped_column(Text, default="")  # "Pour aller plus loin"
    show_attendance: Mapped[bool] = mapped_column(default=True)
    show_delegations: Mapped[bool] = mapped_column(default=True)
    empty_sessions: Mapped[str] = mapped_column(String(16), default="list")  # domain.EMPTY_SESSION_CHOICES
    refused_quotes: Mapped[str] = mapped_column(String(16), default="drop")  # domain.REFUSED_QUOTE_CHOICES
    cover_item_id: Mapped[int | None] = mapped_column(ForeignKey("note_item.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="draft")  # of the working copy: draft, review
    # Bumped by every save of the report's own fields: a form posted from an older version is a conflict.
    version: Mapped[int] = mapped_column(default=1)
    review_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship()
    sections: Mapped[list[ReportSection]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportSection.position"
    )


class ReportSection(db.Model):
    """The report's choices for one session: hidden or not, a heading and a summary of its own,
    where it sits, and the rapporteur's validation during review."""

    __tablename__ = "report_section"
    __table_args__ = (UniqueConstraint("report_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), index=True)
    position: Mapped[int | None]  # None: programme order
    hidden: Mapped[bool] = mapped_column(default=False)
    title: Mapped[str] = mapped_column(String(300), default="")  # empty: the session's title
    summary_md: Mapped[str] = mapped_column(Text, default="")
    # Validation by the session's rapporteur: the fingerprint of the section as validated, so a
    # change made afterwards shows as "modifiée depuis la validation".
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    validated_fingerprint: Mapped[str] = mapped_column(String(64), default="")
    review_comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    report: Mapped[Report] = relationship(back_populates="sections")
    session: Mapped[Session] = relationship()


class ReportItem(db.Model):
    """How one note item reads in the report; the note itself is never changed."""

    __tablename__ = "report_item"
    __table_args__ = (UniqueConstraint("report_id", "note_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    note_item_id: Mapped[int] = mapped_column(ForeignKey("note_item.id", ondelete="CASCADE"), index=True)
    hidden: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int | None]  # None: the notes' order
    text: Mapped[str | None] = mapped_column(Text)  # None: the note's text (a photo's caption)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    note: Mapped[NoteItem] = relationship()


class QuoteApproval(db.Model):
    """The consent of a person quoted by name: asked through a private link sent by email, or
    recorded by an organiser. It holds for the text it was given on (`text_sent`): once the
    quote reads differently in the report, it must be asked again."""

    __tablename__ = "quote_approval"
    __table_args__ = (UniqueConstraint("report_id", "note_item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    note_item_id: Mapped[int] = mapped_column(ForeignKey("note_item.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")  # domain.APPROVAL_STATES
    email: Mapped[str] = mapped_column(String(320), default="")
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # SHA-256 of the link's secret
    text_sent: Mapped[str] = mapped_column(Text, default="")
    attribution_sent: Mapped[str] = mapped_column(String(800), default="")
    # What the person answered: the text as approved or amended, their own wording of who they are.
    final_text: Mapped[str] = mapped_column(Text, default="")
    final_job_title: Mapped[str] = mapped_column(String(300), default="")
    final_organisation: Mapped[str] = mapped_column(String(300), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    note: Mapped[NoteItem] = relationship()


class ReportSnapshot(db.Model):
    """A published version: the whole document as plain data, frozen."""

    __tablename__ = "report_snapshot"
    __table_args__ = (UniqueConstraint("report_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]  # 1, 2, ... per report
    document: Mapped[dict] = mapped_column(JSON)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # taken offline by an organiser
    note: Mapped[str] = mapped_column(String(500), default="")
