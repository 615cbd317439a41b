"""Registrations of attendees, their delegations and their workshop seats."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum_app.db import UTCDateTime, utcnow
from forum_app.extensions import db
from forum_app.programme.models import Event, Session
from forum_app.registration.domain import (  # noqa: F401 (the models' vocabulary, defined by the rules)
    CATEGORIES,
    REGISTRATION_STATUSES,
    SEAT_CONFIRMED,
    SEAT_WAITLISTED,
)

SEAT_STATUSES = (SEAT_CONFIRMED, SEAT_WAITLISTED)


class Delegation(db.Model):
    __tablename__ = "delegation"
    __table_args__ = (UniqueConstraint("event_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    territory: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    event: Mapped[Event] = relationship()
    registrations: Mapped[list[Registration]] = relationship(back_populates="delegation")


class Registration(db.Model):
    __tablename__ = "registration"
    __table_args__ = (
        UniqueConstraint("event_id", "email_key"),
        Index("ix_registration_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(320))
    # Lower-cased email: one registration per address and event, whatever the case typed.
    email_key: Mapped[str] = mapped_column(String(320))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    category: Mapped[str] = mapped_column(String(32), default="autre")
    territory: Mapped[str] = mapped_column(String(200), default="")
    delegation_id: Mapped[int | None] = mapped_column(ForeignKey("delegation.id", ondelete="SET NULL"), index=True)
    accessibility_needs: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(8), default="fr")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    source: Mapped[str] = mapped_column(String(16), default="form")  # form, import, desk
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_version: Mapped[str] = mapped_column(String(32), default="")
    # The attendee's magic link secret; the only credential an attendee ever has.
    access_token: Mapped[str] = mapped_column(String(64), unique=True)
    # Bumped when a badge is reissued: any badge carrying an older serial is revoked.
    badge_serial: Mapped[int] = mapped_column(default=1)
    badge_printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()
    delegation: Mapped[Delegation | None] = relationship(back_populates="registrations")
    seats: Mapped[list[WorkshopSeat]] = relationship(
        back_populates="registration", cascade="all, delete-orphan", order_by="WorkshopSeat.id"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class WorkshopSeat(db.Model):
    """A registration's place in a workshop: a seat, or a place in its waiting list."""

    __tablename__ = "workshop_seat"
    __table_args__ = (
        UniqueConstraint("registration_id", "session_id"),
        Index("ix_workshop_seat_session_status", "session_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("session.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="confirmed")
    # Arrival order in the waiting list; the smallest waits longest. Kept after promotion.
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="seats")
    session: Mapped[Session] = relationship()
