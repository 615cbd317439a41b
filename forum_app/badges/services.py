"""Badge use cases: event keys, badge payloads and their verification, reissue, QR codes, PDFs.

PDFs are WeasyPrint renderings of templates/badges/*.html with static/css/badge.css; that HTML
never reaches a browser. Measured on this 2-core machine (bench/badges.py, bench/RESULTS.md):
1,000 badges into one A4-sheets PDF within the 20 s / 1 GB budget, so ReportLab is not needed
(and Pango, under WeasyPrint, shapes Arabic and mixes scripts, which ReportLab does not).
"""
from __future__ import annotations

import base64
import io
import re
import subprocess
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import qrcode
import qrcode.constants
import sqlalchemy as sa
from babel.dates import format_date
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from qrcode.util import MODE_ALPHA_NUM, QRData
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from forum_app.audit import actions as audit
from forum_app.badges import domain
from forum_app.badges.models import BadgeKey
from forum_app.clock import now as clock_now
from forum_app.db import MAX_ID
from forum_app.errors import InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.programme.models import Event
from forum_app.registration.labels import CATEGORY_LABELS
from forum_app.registration.models import Delegation, Registration, WorkshopSeat

PRINTABLE_STATUSES = ("confirmed",)  # "all", "unprinted" and "delegation" selections
SELECTABLE_STATUSES = ("confirmed", "pending")  # an explicit list of ids may add pending people


# --- Keys ---


def event_key(event: Event) -> BadgeKey:
    """The event's active signing key, made (and committed) the first time it is needed.

    Committed at once: a badge must never carry a signature whose key could still be rolled back.
    Two processes making the first key at the same moment: one insert fails on the unique
    (event, key id) constraint and that process uses the other's key.
    """
    key = _active_key(event.id)
    if key is not None:
        return key
    seed = domain.new_seed()
    last = db.session.scalar(db.select(db.func.max(BadgeKey.key_id)).filter_by(event_id=event.id)) or 0
    key = BadgeKey(
        event_id=event.id, key_id=last + 1, private_key=seed, public_key=domain.public_key_for(seed), active=True
    )
    db.session.add(key)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        key = _active_key(event.id)
        if key is None:  # pragma: no cover - the other insert was for an inactive key
            raise
    return key


def _active_key(event_id: int) -> BadgeKey | None:
    return db.session.scalar(
        db.select(BadgeKey).filter_by(event_id=event_id, active=True).order_by(BadgeKey.key_id.desc()).limit(1)
    )


def public_keys(event: Event | int) -> dict[int, bytes]:
    """Every public key of the event (old ones too: badges printed with them still verify),
    key id -> raw 32 bytes. Makes the event's first key when it has none, so a station that
    downloads the keys before any badge exists still gets the key the badges will carry."""
    event_id = event if isinstance(event, int) else event.id
    rows = db.session.execute(db.select(BadgeKey.key_id, BadgeKey.public_key).filter_by(event_id=event_id)).all()
    if not rows and isinstance(event, Event):
        key = event_key(event)
        return {key.key_id: bytes(key.public_key)}
    return {key_id: bytes(public) for key_id, public in rows}


def public_keys_document(event: Event) -> dict:
    """The JSON that stations download to verify badges offline (public information)."""
    keys = db.session.scalars(db.select(BadgeKey).filter_by(event_id=event.id).order_by(BadgeKey.key_id))
    keys = list(keys) or [event_key(event)]
    return {
        "event": {"id": event.id, "slug": event.slug},
        "algorithm": "Ed25519",
        "format": {
            "prefix": domain.PREFIX,
            "version": domain.VERSION,
            "encoding": "base32 (RFC 4648, upper case, no padding)",
            "payload": "big-endian: version u8, event_id u16, key_id u8, registration_id u32, serial u16",
            "signature": "Ed25519 over the 10 payload bytes, 64 bytes, after the payload",
            "length": domain.TEXT_LENGTH,
        },
        "keys": [
            {
                "key_id": key.key_id,
                "active": key.active,
                "public_key": base64.b64encode(bytes(key.public_key)).decode("ascii"),
                "public_key_hex": bytes(key.public_key).hex(),
                "created_at": key.created_at.isoformat() if key.created_at else None,
            }
            for key in keys
        ],
    }


# --- Payloads and verification ---


class _Signer:
    """Signs the badges of one event with its active key, loading the key once."""

    def __init__(self, event: Event):
        key = event_key(event)
        self.event_id = event.id
        self.key_id = key.key_id
        self._private = Ed25519PrivateKey.from_private_bytes(bytes(key.private_key))

    def payload(self, registration: Registration) -> str:
        claims = domain.BadgeClaims(
            event_id=self.event_id, key_id=self.key_id, registration_id=registration.id, serial=registration.badge_serial
        )
        return domain.sign_badge(self._private, claims)


def badge_payload(registration: Registration) -> str:
    """The text of the person's QR code (their current badge serial, the event's active key)."""
    return _Signer(registration.event).payload(registration)


# The station shows the person's workshops: load their seats and sessions with them, in one query.
_AT_THE_DOOR = (joinedload(Registration.seats).joinedload(WorkshopSeat.session),)
_REGISTRATION_AT_THE_DOOR = (
    sa.select(Registration).options(*_AT_THE_DOOR).where(Registration.id == sa.bindparam("id"))
)  # built once: every scan asks it


def _registration_at_the_door(registration_id: int) -> Registration | None:
    if not 0 < registration_id <= MAX_ID:  # no row has it (and PostgreSQL refuses to compare it)
        return None
    return db.session.execute(_REGISTRATION_AT_THE_DOOR, {"id": registration_id}).unique().scalar_one_or_none()


def verify(event: Event, text: str) -> tuple[str, Registration | None]:
    """What a scanned badge means at `event`'s door: (outcome, registration or None).

    Outcomes: valid, invalid (not a badge, altered, forged, unknown key or person), revoked (an
    older serial: the badge was reissued), cancelled (cancelled or rejected registration),
    wrong_event (a genuine badge of another event of this site), not_confirmed (pending).
    The registration comes back for every outcome but invalid and wrong_event (and cancelled
    when the person's data was erased). Never makes a key, never commits: safe inside the
    check-in transaction.
    """
    try:
        claims = domain.peek_badge(text)
        if claims.event_id != event.id:
            domain.read_badge(text, public_keys(claims.event_id))  # genuine badge of another event?
            return domain.WRONG_EVENT, None
        claims = domain.read_badge(text, _door_keys(event, claims.key_id))  # never makes a key (no commit mid-scan)
    except domain.BadgeError:
        return domain.INVALID, None
    registration = _registration_at_the_door(claims.registration_id)
    if registration is None or registration.event_id != event.id:
        return domain.INVALID, None
    if registration.anonymised_at is not None:  # erased at the person's request: nothing left to show
        return domain.CANCELLED, None
    outcome = domain.badge_status(claims, registration.badge_serial, registration.status, event.id)
    return outcome, (None if outcome == domain.INVALID else registration)


def registration_at_door(event: Event, registration_id: int) -> tuple[str, Registration | None]:
    """What a person found by name at the desk (no badge shown) means at the door: the outcome
    their current badge would get from `verify`, and the registration (None when unknown, of
    another event, or erased)."""
    registration = _registration_at_the_door(registration_id)
    if registration is None or registration.event_id != event.id:
        return domain.INVALID, None
    if registration.anonymised_at is not None:
        return domain.CANCELLED, None
    outcome = domain.holder_status(registration.status)
    return outcome, (None if outcome == domain.INVALID else registration)


def _door_keys(event: Event, key_id: int) -> dict[int, bytes]:
    """The event's public keys, kept by each worker: a key is never changed once made (a new key
    gets a new id), so the database is asked again only for a key id not seen yet. Keyed by the
    event's creation time too, so an event id reused after a deletion never meets old keys."""
    cache = current_app.extensions.setdefault("forum_badge_keys", {})
    slot = (event.id, event.created_at)
    keys = cache.get(slot)
    if keys is None or key_id not in keys:
        keys = public_keys(event.id)
        cache[slot] = keys
    return keys


def revoked_serials(event: Event) -> dict[int, int]:
    """Registration id -> current serial, for every reissued badge of the event: a station that
    holds this list treats any badge of that person with a smaller serial as revoked."""
    rows = db.session.execute(
        db.select(Registration.id, Registration.badge_serial).where(
            Registration.event_id == event.id, Registration.badge_serial > 1
        )
    ).all()
    return {registration_id: serial for registration_id, serial in rows}


def reissue(registration: Registration, *, actor=None) -> Registration:
    """A new badge for the person: the serial goes up (every older badge now reads "revoked")
    and the badge counts as not yet printed. `actor`: the organiser (recorded in the staff journal)."""
    if registration.badge_serial >= domain.LIMITS["serial"]:
        raise InvalidInput(_l("Ce badge a été réédité trop de fois."))
    before = registration.badge_serial
    registration.badge_serial += 1
    registration.badge_printed_at = None
    if actor is not None:
        audit.badge_reissued(registration, actor, before)
    db.session.commit()
    return registration


def mark_printed(registrations: Iterable[Registration]) -> int:
    """Record that these badges were printed (now); returns how many."""
    moment = clock_now()
    count = 0
    for registration in registrations:
        registration.badge_printed_at = moment
        count += 1
    db.session.commit()
    return count


# --- Finding registrations ---


def registration_for_token(event: Event, token: str) -> Registration:
    """The registration behind a private link (the registration services' contract): NotFound,
    saying nothing about who exists, otherwise."""
    from forum_app.registration import services as registration_services

    return registration_services.find_by_token(event, token)


def attendee_registration(event: Event, token: str) -> Registration:
    """The person whose private link this is, if their badge is still worth printing.

    A wrong token: NotFound that says nothing. A cancelled, rejected or erased registration: a
    NotFound that says the badge is no longer valid (only the holder of the link learns it). A
    pending registration gets its badge: it reads "not confirmed" at the door until confirmed.
    """
    registration = registration_for_token(event, token)
    if registration.status in ("cancelled", "rejected") or registration.anonymised_at is not None:
        raise NotFound(_l("Cette inscription est annulée : son badge n'est plus valable."))
    return registration


def registration_by_id(event: Event, registration_id: int) -> Registration:
    """A registration of this event (NotFound for another event's)."""
    from forum_app.registration import services as registration_services

    return registration_services.get_registration(event, registration_id)


def parse_selection(raw: str | None) -> domain.Selection:
    try:
        return domain.parse_selection(raw)
    except ValueError:
        raise InvalidInput(
            _l("Sélection de badges inconnue : choisissez tout le monde, une délégation, les badges non imprimés ou une liste de numéros.")
        ) from None


def select_for_printing(event: Event, selection: domain.Selection) -> list[Registration]:
    """The registrations whose badges a selection prints, by last name then first name.
    Cancelled, rejected and anonymised people never get a badge; "all", "unprinted" and a
    delegation take confirmed people; a list of ids may also take pending ones."""
    query = db.select(Registration).where(Registration.event_id == event.id, Registration.anonymised_at.is_(None))
    if selection.kind == "ids":
        query = query.where(Registration.id.in_(selection.ids), Registration.status.in_(SELECTABLE_STATUSES))
    else:
        query = query.where(Registration.status.in_(PRINTABLE_STATUSES))
    if selection.kind == "unprinted":
        query = query.where(Registration.badge_printed_at.is_(None))
    elif selection.kind == "delegation":
        query = query.where(Registration.delegation_id == selection.delegation_id)
    query = query.order_by(db.func.lower(Registration.last_name), db.func.lower(Registration.first_name), Registration.id)
    return list(db.session.scalars(query))


def delegation_counts(event: Event) -> list[tuple[Delegation, int, int]]:
    """Each delegation of the event with its confirmed people and their badges still to print."""
    rows = db.session.execute(
        db.select(
            Delegation,
            db.func.count(Registration.id),
            db.func.count(Registration.id).filter(Registration.badge_printed_at.is_(None)),
        )
        .outerjoin(
            Registration,
            (Registration.delegation_id == Delegation.id)
            & Registration.status.in_(PRINTABLE_STATUSES)
            & Registration.anonymised_at.is_(None),
        )
        .where(Delegation.event_id == event.id)
        .group_by(Delegation.id)
        .order_by(Delegation.name)
    ).all()
    return [(delegation, total, unprinted) for delegation, total, unprinted in rows]


def print_counts(event: Event) -> dict[str, int]:
    """Confirmed people, badges printed, badges still to print."""
    rows = db.session.execute(
        db.select(Registration.badge_printed_at.is_(None), db.func.count())
        .where(
            Registration.event_id == event.id,
            Registration.status.in_(PRINTABLE_STATUSES),
            Registration.anonymised_at.is_(None),
        )
        .group_by(Registration.badge_printed_at.is_(None))
    ).all()
    unprinted = sum(count for missing, count in rows if missing)
    total = sum(count for _missing, count in rows)
    return {"confirmed": total, "printed": total - unprinted, "unprinted": unprinted}


# --- QR codes ---


def qr_matrix(text: str) -> list[list[bool]]:
    """The QR code of a badge text (alphanumeric mode, error correction M, no quiet zone).

    A badge text (122 characters) is exactly what version 5 holds at level M, so the version is
    given rather than searched. The mask is fixed (pattern 0) rather than chosen by penalty score:
    scoring the eight masks costs ~5 ms a code in pure Python, which 1,000 badges feel; every
    decoder reads any mask.
    """
    return _qr_code(text, border=0).get_matrix()


QR_V5_M_ALPHANUMERIC = 122  # characters a version 5 code holds in alphanumeric mode at level M


def _qr_code(text: str, *, border: int) -> qrcode.QRCode:
    if not domain.is_qr_alphanumeric(text):
        raise ValueError("badge texts use the QR alphanumeric set only")
    version = 5 if len(text) <= QR_V5_M_ALPHANUMERIC else None
    code = qrcode.QRCode(
        version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, border=border, box_size=1, mask_pattern=0
    )
    code.add_data(QRData(text, mode=MODE_ALPHA_NUM), optimize=0)
    code.make(fit=version is None)
    return code


def qr_path(matrix: Sequence[Sequence[bool]], border: int = 4) -> tuple[str, int]:
    """(SVG path data, size in modules with the quiet zone): one rectangle per run of dark
    modules in a row."""
    parts = []
    for y, row in enumerate(matrix):
        x, width = 0, len(row)
        while x < width:
            if row[x]:
                start = x
                while x < width and row[x]:
                    x += 1
                parts.append(f"M{start + border} {y + border}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return "".join(parts), len(matrix) + 2 * border


def qr_svg(text: str, *, label: str | None = None, css_class: str = "qr-code") -> Markup:
    """An inline SVG QR code for pages, sized by CSS through `css_class`: no style attribute (the
    CSP forbids inline styles), a white quiet zone of 4 modules, crisp edges. With a `label` it is
    an image with that accessible name; without, it is hidden from assistive technologies (for a
    wrapper that names it)."""
    data, size = qr_path(qr_matrix(text))
    if label is None:
        naming = Markup('aria-hidden="true" focusable="false"')
    else:
        naming = Markup('role="img" aria-label="{}"').format(label)
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="{cls}" viewBox="0 0 {n} {n}" {naming} '
        'shape-rendering="crispEdges"><rect width="{n}" height="{n}" fill="#fff"/><path fill="#000" d="{d}"/></svg>'
    ).format(cls=css_class, n=size, naming=naming, d=data)


def qr_png(text: str, *, module_px: int = 1, border: int = 4) -> bytes:
    """The QR code as a 1-bit PNG, `module_px` pixels a module, with its quiet zone.

    PDFs embed it at one pixel a module and draw it without interpolation (CSS
    `image-rendering: pixelated`), so every module prints as a sharp square: as crisp as a
    vector path, and far cheaper for WeasyPrint than drawing one (bench/RESULTS.md).
    """
    from PIL import Image

    matrix = qr_matrix(text)
    size = len(matrix) + 2 * border
    image = Image.new("1", (size, size), 1)
    pixels = image.load()
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + border, y + border] = 0
    if module_px > 1:
        image = image.resize((size * module_px, size * module_px), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return buffer.getvalue()


def qr_data_uri(text: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode("ascii")


# --- Badge layout ---


@dataclass(frozen=True)
class _Box:
    """Room for the texts of one badge format (mm and pt)."""

    name_mm: float
    name_max: float
    name_min: float
    name_one_line_min: float
    org_mm: float
    org_max: float
    org_min: float
    job_max: float
    job_min: float
    org_lines: int = 2


A6_BOX = _Box(name_mm=89, name_max=34, name_min=12, name_one_line_min=20, org_mm=89, org_max=15, org_min=9, job_max=12, job_min=8, org_lines=3)
CELL_BOX = _Box(name_mm=48, name_max=22, name_min=9, name_one_line_min=13, org_mm=48, org_max=10.5, org_min=7, job_max=9, job_min=6.5)


@dataclass(frozen=True)
class BadgeView:
    """Everything a badge template shows, as plain values."""

    first_name: str
    last_name: str
    name_size: str  # CSS class, e.g. "fs-220"
    organisation: str
    org_size: str
    job_title: str
    job_size: str
    category: str
    category_label: str
    event_title: str
    event_dates: str
    qr_src: str  # data: URI of the QR code PNG
    serial: int
    registration_id: int


_FONT_FILES = {
    "bold": ("DejaVu Sans Condensed:bold", "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed-Bold.ttf"),
    "regular": ("DejaVu Sans Condensed", "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf"),
}


@lru_cache(maxsize=4)
def _font(weight: str):
    """The font the badge CSS names, at 100 px, to measure texts; None when it cannot be found
    (widths are then estimated)."""
    from PIL import ImageFont

    pattern, default = _FONT_FILES[weight]
    path = default
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True, timeout=5, check=False).stdout
        if found and Path(found).exists():
            path = found
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return ImageFont.truetype(path, 100)
    except OSError:
        return None


@lru_cache(maxsize=4096)
def _width_em(text: str, weight: str) -> float:
    """Width of `text` at a font size of 1 (in em)."""
    if not text:
        return 0.0
    font = _font(weight)
    if font is None:
        return 0.58 * len(text)
    try:
        return font.getlength(text) / 100
    except (OSError, ValueError):  # pragma: no cover - characters the font engine refuses
        return 0.58 * len(text)


def _size_class(size: float) -> str:
    return f"fs-{round(size * 10)}"


def event_dates(event: Event, locale: str = "fr") -> str:
    """'6 juin 2019', '6–7 juin 2019', '30 mai – 1er juin 2019' (English: '6–7 June 2019')."""
    start, end = event.start_date, event.end_date or event.start_date

    def day(d: date) -> str:
        return "1er" if locale.startswith("fr") and d.day == 1 else str(d.day)

    if start == end:
        return f"{day(start)} {format_date(start, 'MMMM y', locale=locale)}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{day(start)}–{day(end)} {format_date(end, 'MMMM y', locale=locale)}"
    if start.year == end.year:
        return f"{day(start)} {format_date(start, 'MMMM', locale=locale)} – {day(end)} {format_date(end, 'MMMM y', locale=locale)}"
    return f"{day(start)} {format_date(start, 'MMMM y', locale=locale)} – {day(end)} {format_date(end, 'MMMM y', locale=locale)}"


def _clean(text: str | None) -> str:
    """One line of text: control characters, line breaks and runs of spaces become one space;
    every letter and joiner (ZWJ/ZWNJ, which some scripts need) is kept as typed."""
    spaced = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in (text or ""))
    return re.sub(r"\s+", " ", spaced).strip()


def badge_view(registration: Registration, payload: str, box: _Box, *, locale: str = "fr") -> BadgeView:
    first, last = _clean(registration.first_name), _clean(registration.last_name)
    name_em = max(_width_em(first, "bold"), _width_em(last, "bold"))
    name_pt, _lines = domain.fit_font_size(
        name_em, box.name_mm, max_pt=box.name_max, min_pt=box.name_min, max_lines=2, wrap_below_pt=box.name_one_line_min
    )
    organisation, job = _clean(registration.organisation), _clean(registration.job_title)
    org_pt, _org_lines = domain.fit_font_size(_width_em(organisation, "bold"), box.org_mm, max_pt=box.org_max, min_pt=box.org_min, max_lines=box.org_lines)
    job_pt, _job_lines = domain.fit_font_size(_width_em(job, "regular"), box.org_mm, max_pt=box.job_max, min_pt=box.job_min, max_lines=2)
    job_pt = max(min(job_pt, org_pt - 1), box.job_min) if organisation else job_pt  # never above the organisation
    category = registration.category if registration.category in domain.CATEGORY_COLOURS else "autre"
    event = registration.event
    return BadgeView(
        first_name=first,
        last_name=last,
        name_size=_size_class(name_pt),
        organisation=organisation,
        org_size=_size_class(org_pt),
        job_title=job,
        job_size=_size_class(job_pt),
        category=category,
        category_label=str(CATEGORY_LABELS[category]),
        event_title=_clean(event.title),
        event_dates=event_dates(event, locale),
        qr_src=qr_data_uri(payload),
        serial=registration.badge_serial,
        registration_id=registration.id,
    )


# --- PDFs ---

CSS_FILE = Path(__file__).resolve().parents[2] / "static" / "css" / "badge.css"
SHEET_COLUMNS, SHEET_ROWS = 2, 4
CELL_W, CELL_H = 95.0, 68.0  # mm: 2 x 4 cells on A4 portrait
SHEET_MARGIN_X = (210 - SHEET_COLUMNS * CELL_W) / 2  # 10 mm
SHEET_MARGIN_Y = (297 - SHEET_ROWS * CELL_H) / 2  # 12.5 mm
CUT_MARK_MM = 6.0  # length of the cut marks drawn in the margins
CUT_MARK_GAP_MM = 1.5  # gap between a mark and the badge edge


def _generated_css() -> str:
    """Rules computed from Python constants: font-size classes, category colours, cut marks."""
    rules = [f".fs-{n} {{ font-size: {n / 10:g}pt; }}" for n in range(60, 345, 5)]
    for category, (band, ink) in domain.CATEGORY_COLOURS.items():
        rules.append(f".cat-{category} {{ background-color: {band}; color: {ink}; }}")
    marks = base64.b64encode(cut_marks_svg().encode()).decode("ascii")
    rules.append(f'@page sheet {{ background: url("data:image/svg+xml;base64,{marks}") no-repeat 0 0 / 210mm 297mm; }}')
    for row in range(SHEET_ROWS):
        for column in range(SHEET_COLUMNS):
            index = row * SHEET_COLUMNS + column + 1
            rules.append(
                f".cell-{index} {{ left: {SHEET_MARGIN_X + column * CELL_W:g}mm; "
                f"top: {SHEET_MARGIN_Y + row * CELL_H:g}mm; }}"
            )
    return "\n".join(rules)


def cut_marks_svg() -> str:
    """Cut marks for a whole A4 sheet, in the margins only (never over a badge): a short line
    outside the grid of badges at every cut, on every side. Drawn as the sheet page's background."""
    xs = [SHEET_MARGIN_X + i * CELL_W for i in range(SHEET_COLUMNS + 1)]
    ys = [SHEET_MARGIN_Y + i * CELL_H for i in range(SHEET_ROWS + 1)]
    left, right, top, bottom = xs[0], xs[-1], ys[0], ys[-1]
    gap, length = CUT_MARK_GAP_MM, CUT_MARK_MM
    lines = []
    for x in xs:
        lines.append((x, top - gap - min(length, top - gap - 1), x, top - gap))
        lines.append((x, bottom + gap, x, bottom + gap + min(length, 297 - bottom - gap - 1)))
    for y in ys:
        lines.append((left - gap - min(length, left - gap - 1), y, left - gap, y))
        lines.append((right + gap, y, right + gap + min(length, 210 - right - gap - 1), y))
    path = "".join(f"M{x1:g} {y1:g}L{x2:g} {y2:g}" for x1, y1, x2, y2 in lines)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="210mm" height="297mm" viewBox="0 0 210 297">'
        f'<path d="{path}" stroke="#000" stroke-width="0.25" fill="none"/></svg>'
    )


@lru_cache(maxsize=1)
def _stylesheets():
    from weasyprint import CSS

    return (CSS(filename=str(CSS_FILE), url_fetcher=_url_fetcher()), CSS(string=_generated_css(), url_fetcher=_url_fetcher()))


def _url_fetcher():
    """Badge HTML loads nothing: no file, no network (names are user text, even escaped)."""
    from weasyprint import URLFetcher

    return URLFetcher(allowed_protocols=("data",))


def _render_pdf(html: str) -> bytes:
    from weasyprint import HTML

    document = HTML(string=html, url_fetcher=_url_fetcher(), base_url=None)
    return document.write_pdf(stylesheets=list(_stylesheets()))


def _locale(event: Event) -> str:
    locale = event.default_locale or current_app.config.get("BABEL_DEFAULT_LOCALE", "fr")
    return locale if locale in current_app.config.get("LANGUAGES", ("fr",)) else "fr"


def badge_pdf(registration: Registration) -> bytes:
    """One A6 badge (105 x 148 mm, portrait) for the person's current badge serial."""
    event = registration.event
    locale = _locale(event)
    with force_locale(locale):
        view = badge_view(registration, badge_payload(registration), A6_BOX, locale=locale)
        html = render_template("badges/single.html", badge=view, event=event, lang=locale)
    return _render_pdf(html)


def badge_sheets_pdf(registrations: Sequence[Registration]) -> bytes:
    """A4 sheets of 8 badges (2 x 4 cells of 95 x 68 mm) with cut marks in the margins, in the
    order given. The registrations are one event's."""
    registrations = list(registrations)
    if not registrations:
        raise InvalidInput(_l("Aucune inscription ne correspond à cette sélection : il n'y a aucun badge à imprimer."))
    event = registrations[0].event
    if any(r.event_id != event.id for r in registrations):
        raise InvalidInput(_l("Ces badges ne sont pas tous du même événement."))
    locale = _locale(event)
    signer = _Signer(event)
    per_page = SHEET_COLUMNS * SHEET_ROWS
    with force_locale(locale):
        views = [badge_view(r, signer.payload(r), CELL_BOX, locale=locale) for r in registrations]
        pages = [views[i:i + per_page] for i in range(0, len(views), per_page)]
        html = render_template("badges/sheets.html", pages=pages, event=event, lang=locale)
    return _render_pdf(html)
