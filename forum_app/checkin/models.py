"""Every scan at a door is a row: arrivals, duplicates and refusals alike."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from forum_app.db import UTCDateTime, utcnow
from forum_app.extensions import db
from forum_app.registration.models import Registration


class CheckIn(db.Model):
    __tablename__ = "check_in"
    __table_args__ = (
        # A station's retry carries the same client_id: it must find the first answer, never a second row.
        UniqueConstraint("event_id", "client_id"),
        Index("ix_check_in_registration_session", "registration_id", "session_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("event.id", ondelete="CASCADE"), index=True)
    # Null for a scan that names nobody (unreadable or forged badge).
    registration_id: Mapped[int | None] = mapped_column(ForeignKey("registration.id", ondelete="SET NULL"))
    # Null = the venue entrance; otherwise a workshop door.
    session_id: Mapped[int | None] = mapped_column(ForeignKey("session.id", ondelete="SET NULL"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    station: Mapped[str] = mapped_column(String(100), default="")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # A door device that sent the scan with its own token (forum_app/devices), rather than a signed-in person.
    device_id: Mapped[int | None] = mapped_column(ForeignKey("device_token.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(32))
    # How the person was identified: their badge's QR code ("badge") or found by name at the desk ("search").
    method: Mapped[str] = mapped_column(String(16), default="badge", server_default="badge")
    badge_serial: Mapped[int | None]
    # When the station says it scanned (offline queues sync late), and when the server heard of it.
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # The station's clock was too far from the server's to be trusted for ordering arrivals.
    clock_suspect: Mapped[bool] = mapped_column(default=False)
    # The JSON answer given the first time, replayed verbatim for a retried client_id.
    answer: Mapped[str] = mapped_column(Text, default="")
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    registration: Mapped[Registration | None] = relationship()
