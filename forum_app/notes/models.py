"""Rapporteurs' notes: what is said in a session, captured live, kept with every revision."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum_app.db import UTCDateTime, utcnow
from forum_app.extensions import db
from forum_app.programme.models import Session


class RapporteurAssignment(db.Model):
    """A rapporteur account may write the notes of this session (organisers may write any)."""

    __tablename__ = "rapporteur_assignment"
    __table_args__ = (UniqueConstraint("user_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[Session] = relationship()


class NoteStream(db.Model):
    """One counter per session, bumped (under the write lock) by every change to its notes: each
    changed item takes the new value as its `change_seq`, so `GET ...notes?since=N` returns exactly
    what changed after N, in commit order, and N is the list's ETag."""

    __tablename__ = "note_stream"

    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(default=0)


class NoteItem(db.Model):
    __tablename__ = "note_item"
    __table_args__ = (
        # Made on the device: a retried POST finds the item it already created.
        UniqueConstraint("event_id", "client_id"),
        Index("ix_note_item_session_seq", "session_id", "change_seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    client_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # notes.domain.KINDS
    text: Mapped[str] = mapped_column(Text, default="")  # a photo's caption for kind "photo"
    # Who is quoted: one of the session's people (their name, job title and organisation copied
    # at the time, so the quote reads the same if the programme changes) or someone from the floor.
    attribution_person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    attribution_name: Mapped[str] = mapped_column(String(200), default="")
    attribution_job_title: Mapped[str] = mapped_column(String(300), default="")
    attribution_organisation: Mapped[str] = mapped_column(String(300), default="")
    # Photos: the stored file (resized, metadata stripped) under the instance's uploads folder.
    photo_file: Mapped[str | None] = mapped_column(String(100))
    photo_width: Mapped[int | None]
    photo_height: Mapped[int | None]
    photo_credit: Mapped[str] = mapped_column(String(200), default="")
    captured_at: Mapped[datetime] = mapped_column(UTCDateTime)  # on the device
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    version: Mapped[int] = mapped_column(default=1)  # bumped by edits of kind, text or attribution
    change_seq: Mapped[int] = mapped_column(default=0)  # NoteStream.seq of the last change
    position: Mapped[int] = mapped_column(default=0)  # larger = higher in the list (newest first)
    highlighted: Mapped[bool] = mapped_column(default=False)  # "à retenir pour le rapport" (rapporteur)
    in_report: Mapped[bool] = mapped_column(default=True)  # an organiser's moderation
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # soft: restorable
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("note_item.id", ondelete="SET NULL"))

    session: Mapped[Session] = relationship()
    revisions: Mapped[list[NoteRevision]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="NoteRevision.id"
    )


class NoteRevision(db.Model):
    """Every change to an item, as it stood after the change: nothing typed is ever overwritten."""

    __tablename__ = "note_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("note_item.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))  # created, edited, deleted, restored, moderated, merged
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    attribution_name: Mapped[str] = mapped_column(String(200), default="")
    attribution_job_title: Mapped[str] = mapped_column(String(300), default="")
    attribution_organisation: Mapped[str] = mapped_column(String(300), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    item: Mapped[NoteItem] = relationship(back_populates="revisions")
