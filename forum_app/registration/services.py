"""Registration use cases. Each function commits once and never reads the request.

CONTRACT (written first so the public pages, the organiser screens and the badges can be built
in parallel): signatures and docstrings below are what the other features call. Bodies that
still raise NotImplementedError are being written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from forum_app.programme.models import Event, Session
from forum_app.registration.models import Delegation, Registration, WorkshopSeat


@dataclass
class RegistrationInput:
    """What a person (or an organiser, or a CSV row) gives to register. Plain values only."""

    first_name: str
    last_name: str
    email: str
    organisation: str = ""
    job_title: str = ""
    category: str = "autre"
    territory: str = ""
    delegation_id: int | None = None
    accessibility_needs: str = ""
    workshop_codes: list[str] = field(default_factory=list)
    consent: bool = False
    language: str = "fr"


@dataclass
class RegistrationOutcome:
    registration: Registration
    created: bool  # False: the email was already registered; nothing was changed, the link was re-sent
    waitlisted_codes: list[str] = field(default_factory=list)


@dataclass
class WorkshopAvailability:
    session: Session
    capacity: int | None
    confirmed: int
    waitlisted: int

    @property
    def seats_left(self) -> int | None:
        return None if self.capacity is None else max(self.capacity - self.confirmed, 0)


def signup_sessions(event: Event) -> list[Session]:
    """Sessions that need a sign-up, in time order."""
    raise NotImplementedError


def availability(event: Event) -> list[WorkshopAvailability]:
    """Seats taken and waiting per sign-up session (one query)."""
    raise NotImplementedError


def register(event: Event, data: RegistrationInput, *, source: str = "form", now: datetime | None = None) -> RegistrationOutcome:
    """Register one person; seats or waiting-list places for their workshops; emails them.

    Raises InvalidInput (with per-field problems) for bad data, overlapping workshops, registration
    closed. A known email (case-insensitive) creates nothing and re-sends the private link.
    """
    raise NotImplementedError


def find_by_token(event: Event, token: str) -> Registration:
    """The registration behind a private link; NotFound (saying nothing) otherwise."""
    raise NotImplementedError


def get_registration(event: Event, registration_id: int) -> Registration:
    raise NotImplementedError


def update_details(registration: Registration, data: RegistrationInput) -> Registration:
    """Edit names, organisation, job title, category, territory, delegation, needs (not the workshops)."""
    raise NotImplementedError


def change_workshops(registration: Registration, codes: list[str]) -> list[WorkshopSeat]:
    """Replace the person's workshop choices; freed seats go to the first person waiting."""
    raise NotImplementedError


def seat_position(seat: WorkshopSeat) -> int | None:
    """1-based position in the waiting list, None for a confirmed seat."""
    raise NotImplementedError


def confirm(registration: Registration) -> Registration:
    raise NotImplementedError


def reject(registration: Registration) -> Registration:
    raise NotImplementedError


def cancel(registration: Registration) -> Registration:
    """Cancel; frees the seats (promoting waiting people) and revokes the badge."""
    raise NotImplementedError


def resend_link(registration: Registration) -> None:
    raise NotImplementedError


def erase(registration: Registration) -> None:
    """Anonymise the person (GDPR erasure); the counts (category, territory, seats) stay."""
    raise NotImplementedError


def export_personal_data(registration: Registration) -> dict:
    """Everything held about the person, as JSON-ready data."""
    raise NotImplementedError


def get_delegation(event: Event, delegation_id: int) -> Delegation:
    raise NotImplementedError


def delegations(event: Event) -> list[Delegation]:
    raise NotImplementedError
