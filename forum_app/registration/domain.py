"""Pure registration rules on plain values: no Flask, no database. Tested without an app.

- field rules: names and texts kept exactly as typed (only trimmed), length limits, required
  fields, email syntax, the category vocabulary, consent for self-registration;
- workshop choice: codes must be sign-up sessions of the event, and two chosen workshops may
  not overlap in time (touching is fine);
- seats: a seat when the workshop has room, else the waiting list; the waiting list is served
  by arrival (earliest `requested_at`, then id);
- the registration window and the approval mode.

Messages are French sentences meant for the person who typed the data (or the organiser who
imported it): `str(problem)` reads "Prénom : ce champ est obligatoire.". Each problem keeps its
French template (marked with `N_` so `make messages` extracts it) and its parameters apart, so the
page that shows it can translate the template first: `problem.render(gettext)` (see
services.problem_message). No Flask here: the translation function is the caller's.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email

CATEGORIES = (
    "collectivite",
    "elu",
    "etat",
    "association",
    "entreprise",
    "centre_ressources",
    "habitant",
    "autre",
)
REGISTRATION_STATUSES = ("pending", "confirmed", "cancelled", "rejected")
# A registration in one of these holds its workshop seats; cancelled and rejected ones keep
# their seat rows (history, counts after erasure) but hold no place.
ACTIVE_STATUSES = ("pending", "confirmed")
SEAT_CONFIRMED = "confirmed"
SEAT_WAITLISTED = "waitlisted"

# Column sizes of registration/models.py (email: the RFC 5321 path limit email-validator applies).
LIMITS: Mapping[str, int] = {
    "first_name": 100,
    "last_name": 100,
    "email": 254,
    "organisation": 200,
    "job_title": 200,
    "territory": 200,
    "accessibility_needs": 2000,
}
MAX_WORKSHOPS = 20


def N_(message: str) -> str:
    """Marks a French message template for extraction (`-k N_` in the Makefile); returns it as is."""
    return message


def _same(template: str) -> str:
    return template


@dataclass(frozen=True)
class Message:
    """A French template and its parameters (which may be Messages too), rendered on demand."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    def render(self, translate: Callable[[str], str] = _same) -> str:
        return render(self.template, self.params, translate)

    def __str__(self) -> str:
        return self.render()


def render(template: str, params: Mapping[str, object], translate: Callable[[str], str] = _same) -> str:
    """`translate(template) % params`, nested Messages rendered with the same `translate`."""
    text = translate(template)
    if not params:
        return text
    return text % {key: value.render(translate) if isinstance(value, Message) else value for key, value in params.items()}


FIELD_LABELS: Mapping[str, str] = {
    "first_name": "Prénom",
    "last_name": "Nom",
    "email": "Adresse e-mail",
    "organisation": "Organisation",
    "job_title": "Fonction",
    "category": "Catégorie",
    "territory": "Territoire",
    "delegation": "Délégation",
    "accessibility_needs": "Besoins d'accessibilité",
    "workshops": "Ateliers",
    "consent": "Consentement",
    "registration": "Inscription",
}

REQUIRED_FIELDS = ("first_name", "last_name", "email")
MULTILINE_FIELDS = ("accessibility_needs",)

# The words organisers write in spreadsheets for each category (compared without accents,
# case or inclusive-writing dots): "collectivité", "Élu·e", "centre de ressources"...
_CATEGORY_WORDS: Mapping[str, str] = {
    "collectivite": "collectivite",
    "collectivites": "collectivite",
    "collectivite territoriale": "collectivite",
    "elu": "elu",
    "elue": "elu",
    "elus": "elu",
    "elu e": "elu",
    "etat": "etat",
    "services de l etat": "etat",
    "association": "association",
    "entreprise": "entreprise",
    "centre de ressources": "centre_ressources",
    "centre ressources": "centre_ressources",
    "centre_ressources": "centre_ressources",
    "habitant": "habitant",
    "habitante": "habitant",
    "habitant e": "habitant",
    "habitants": "habitant",
    "autre": "autre",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: which field, and what (a French template and its parameters).

    `message` is the French sentence; `render(translate)` the same in another language."""

    field: str
    template: str
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    @property
    def message(self) -> str:
        return render(self.template, self.params)

    def render(self, translate: Callable[[str], str] = _same) -> str:
        return render(self.template, self.params, translate)

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.field, self.field)

    def __str__(self) -> str:
        return f"{self.label} : {self.message}"


# --------------------------------------------------------------------------- texts


def _has_control_characters(text: str, *, multiline: bool) -> bool:
    allowed = {"\n", "\r", "\t"} if multiline else set()
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in text)


def clean_text(value: str | None, field_name: str, *, required: bool = False) -> tuple[str, Problem | None]:
    """The text trimmed and otherwise kept exactly (accents, apostrophes, hyphens, any script)."""
    text = (value or "").strip()
    limit = LIMITS.get(field_name)
    if not text:
        return "", Problem(field_name, N_("ce champ est obligatoire.")) if required else None
    if limit is not None and len(text) > limit:
        return text, _too_long(field_name, len(text), limit)
    if _has_control_characters(text, multiline=field_name in MULTILINE_FIELDS):
        if field_name in MULTILINE_FIELDS:
            return text, Problem(field_name, N_("caractère non autorisé (caractère de contrôle)."))
        return text, Problem(field_name, N_("caractère non autorisé (retour à la ligne ou caractère de contrôle)."))
    return text, None


def _too_long(field_name: str, length: int, limit: int) -> Problem:
    return Problem(field_name, N_("trop long (%(length)d caractères, %(limit)d au maximum)."), {"length": length, "limit": limit})


def email_key(email: str) -> str:
    """The form an address is compared in: one registration per address, whatever the case."""
    return email.strip().casefold()


def normalise_email(value: str | None) -> tuple[str, Problem | None]:
    """The address as email-validator normalises it (domain lower-cased), or a problem.

    Syntax only: the mail server is never asked whether the address exists.
    """
    text = (value or "").strip()
    if not text:
        return "", Problem("email", N_("ce champ est obligatoire."))
    if len(text) > LIMITS["email"]:
        return text, _too_long("email", len(text), LIMITS["email"])
    if _has_control_characters(text, multiline=False) or any(ch.isspace() for ch in text):
        return text, Problem("email", N_("une adresse e-mail ne contient pas d'espace."))
    if "@" not in text:
        return text, Problem("email", N_("il manque le « @ » (exemple : prenom.nom@exemple.fr)."))
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return text, Problem("email", N_("adresse invalide (exemple : prenom.nom@exemple.fr)."))
    return result.normalized, None


def _fold_words(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    ascii_text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = "".join(ch if ch.isalnum() else " " for ch in ascii_text)
    return " ".join(words.split())


def parse_category(value: str | None) -> str | None:
    """A category key from a key or a French word ("collectivité", "Élu·e", "centre de ressources")."""
    text = (value or "").strip()
    if not text:
        return None
    if text in CATEGORIES:
        return text
    return _CATEGORY_WORDS.get(_fold_words(text))


# --------------------------------------------------------------------------- a person


@dataclass
class PersonInput:
    """What a person gives about themself. Plain values as typed."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    organisation: str = ""
    job_title: str = ""
    category: str = "autre"
    territory: str = ""
    accessibility_needs: str = ""


@dataclass
class CleanPerson:
    first_name: str
    last_name: str
    email: str
    email_key: str
    organisation: str
    job_title: str
    category: str
    territory: str
    accessibility_needs: str


def check_person(
    data: PersonInput,
    *,
    consent: bool = False,
    require_consent: bool = False,
    check_email: bool = True,
) -> tuple[CleanPerson | None, list[Problem]]:
    """Every problem with the person's fields (all of them, not just the first), or the clean values."""
    problems: list[Problem] = []
    values: dict[str, str] = {}
    for name in ("first_name", "last_name", "organisation", "job_title", "territory", "accessibility_needs"):
        text, problem = clean_text(getattr(data, name), name, required=name in REQUIRED_FIELDS)
        values[name] = text
        if problem:
            problems.append(problem)
    if check_email:
        email, problem = normalise_email(data.email)
        if problem:
            problems.append(problem)
    else:
        email = (data.email or "").strip()
    category = parse_category(data.category)
    if category is None:
        if (data.category or "").strip():
            problems.append(Problem("category", N_("choix inconnu.")))
        else:
            problems.append(Problem("category", N_("ce champ est obligatoire.")))
    if require_consent and not consent:
        problems.append(
            Problem("consent", N_("votre accord pour le traitement de vos données est nécessaire pour vous inscrire."))
        )
    if problems:
        return None, problems
    return CleanPerson(email=email, email_key=email_key(email), category=category or "autre", **values), []


# --------------------------------------------------------------------------- workshops


@dataclass(frozen=True)
class Slot:
    """A session as far as workshop choice is concerned."""

    code: str
    title: str
    starts_at: datetime
    ends_at: datetime
    signup_required: bool = True
    session_id: int | None = field(default=None, compare=False)  # where it came from (services)

    @property
    def name(self) -> str:
        return str(self.label)

    @property
    def label(self) -> Message | str:
        """'A1 (« Titre »)' as a Message (the quotes differ in English), or the bare code."""
        return Message(N_("%(code)s (« %(title)s »)"), {"code": self.code, "title": self.title}) if self.title else self.code


def normalise_codes(codes: Iterable[str] | None) -> list[str]:
    """Codes upper-cased and trimmed, empties dropped, duplicates removed, order kept."""
    seen: list[str] = []
    for code in codes or ():
        text = (code or "").strip().upper()
        if text and text not in seen:
            seen.append(text)
    return seen


def overlaps(a: Slot, b: Slot) -> bool:
    """Two time intervals share some time; touching ends (10 h–11 h and 11 h–12 h) do not."""
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def check_workshop_choice(codes: Iterable[str] | None, slots: Iterable[Slot]) -> tuple[list[Slot], list[Problem]]:
    """The chosen sign-up sessions in time order, or the problems (unknown codes, overlaps)."""
    wanted = normalise_codes(codes)
    by_code = {slot.code.upper(): slot for slot in slots}
    problems: list[Problem] = []
    if len(wanted) > MAX_WORKSHOPS:
        return [], [
            Problem(
                "workshops",
                N_("trop d'ateliers choisis (%(count)d, %(limit)d au maximum)."),
                {"count": len(wanted), "limit": MAX_WORKSHOPS},
            )
        ]
    chosen: list[Slot] = []
    for code in wanted:
        slot = by_code.get(code)
        if slot is None:
            problems.append(Problem("workshops", N_("« %(code)s » n'est pas un atelier de cet événement."), {"code": code}))
        elif not slot.signup_required:
            problems.append(Problem("workshops", N_("%(workshop)s ne demande pas d'inscription."), {"workshop": slot.label}))
        else:
            chosen.append(slot)
    chosen.sort(key=lambda s: (s.starts_at, s.code))
    for i, first in enumerate(chosen):
        for second in chosen[i + 1:]:
            if overlaps(first, second):
                problems.append(
                    Problem(
                        "workshops",
                        N_("%(first)s et %(second)s ont lieu en même temps : choisissez-en un seul."),
                        {"first": first.label, "second": second.label},
                    )
                )
    return (chosen if not problems else []), problems


# --------------------------------------------------------------------------- seats


def allocate_seat(capacity: int | None, confirmed: int) -> str:
    """A seat while the workshop has room (None = no limit), else a place on the waiting list."""
    if capacity is None or confirmed < capacity:
        return SEAT_CONFIRMED
    return SEAT_WAITLISTED


def seats_free(capacity: int | None, confirmed: int, waiting: int) -> int:
    """How many waiting people can be given a seat now."""
    if capacity is None:
        return waiting
    return max(0, min(capacity - confirmed, waiting))


@dataclass(frozen=True)
class WaitingSeat:
    id: int
    requested_at: datetime


def promotion_order(waiting: Iterable[WaitingSeat]) -> list[WaitingSeat]:
    """The waiting list in serving order: earliest request first, then the smallest id."""
    return sorted(waiting, key=lambda seat: (seat.requested_at, seat.id))


def waitlist_positions(waiting: Iterable[WaitingSeat]) -> dict[int, int]:
    """seat id -> 1-based position in the waiting list."""
    return {seat.id: position for position, seat in enumerate(promotion_order(waiting), start=1)}


def to_promote(capacity: int | None, confirmed: int, waiting: Sequence[WaitingSeat]) -> list[WaitingSeat]:
    """The waiting seats that get a place now, in order."""
    return promotion_order(waiting)[: seats_free(capacity, confirmed, len(waiting))]


# --------------------------------------------------------------------------- window, approval, status


WINDOW_OPEN = "open"
WINDOW_NOT_YET = "not_yet"
WINDOW_CLOSED = "closed"


def window_state(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> str:
    """Whether self-registration is open at `now` (opens inclusive, closes exclusive; None = no limit)."""
    if opens_at is not None and now < opens_at:
        return WINDOW_NOT_YET
    if closes_at is not None and now >= closes_at:
        return WINDOW_CLOSED
    return WINDOW_OPEN


def window_problem(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> Problem | None:
    state = window_state(opens_at, closes_at, now)
    if state == WINDOW_NOT_YET:
        return Problem("registration", N_("les inscriptions ne sont pas encore ouvertes."))
    if state == WINDOW_CLOSED:
        return Problem("registration", N_("les inscriptions sont closes."))
    return None


def initial_status(approval_required: bool, *, by_organiser: bool = False) -> str:
    """`pending` while an organiser must approve self-registrations; organisers' own entries
    (a delegation import, the desk) are confirmed at once."""
    if approval_required and not by_organiser:
        return "pending"
    return "confirmed"


def is_active(status: str) -> bool:
    return status in ACTIVE_STATUSES


@dataclass
class ChoiceChange:
    """What replacing a person's workshops does: codes kept (with their place), dropped, added."""

    kept: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)


def diff_choices(current: Iterable[str], wanted: Iterable[str]) -> ChoiceChange:
    current_list = normalise_codes(current)
    wanted_list = normalise_codes(wanted)
    return ChoiceChange(
        kept=[c for c in current_list if c in wanted_list],
        dropped=[c for c in current_list if c not in wanted_list],
        added=[c for c in wanted_list if c not in current_list],
    )


# --- Retention: personal data is erased this long after the event (the privacy notice says so) ---

RETENTION_MONTHS = 12


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has fewer (31 Jan + 1 -> 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has at least 28 days")


def erasure_date(event_end: date, months: int = RETENTION_MONTHS) -> date:
    return add_months(event_end, months)


def erasure_due(event_end: date, today: date, months: int = RETENTION_MONTHS) -> bool:
    return today > erasure_date(event_end, months)
