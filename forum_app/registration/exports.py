"""Registrations as files for organisers: CSV and XLSX tables, and per-workshop attendance sheets (PDF).

CSV: UTF-8 *with* a byte-order mark and `;` between cells, CRLF line ends. That is what Excel in a
French locale opens right with a double click: without the BOM it reads the file as Windows-1252
(accents garbled), and with `,` it puts a whole row in one cell, because `,` is the French decimal
separator. LibreOffice and Python's csv module (encoding "utf-8-sig", delimiter ";") read it too.

Formula injection: a cell that starts with `=`, `+`, `-`, `@` (or a tab or carriage return) would be
run as a formula by a spreadsheet; such texts are written with a leading `'` in both the CSV and the
XLSX, so a name like "=HYPERLINK(...)" shows as the text it is.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import render_template
from flask_babel import force_locale, pgettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from forum_app.programme.domain import utc_to_local
from forum_app.programme.models import Event, Session
from forum_app.registration.labels import CATEGORY_LABELS
from forum_app.registration.models import Registration

# Labels shared by the organiser screens and the exports (French msgids).
STATUS_LABELS = {
    "pending": _l("En attente de validation"),
    "confirmed": _l("Confirmée"),
    "cancelled": _l("Annulée"),
    "rejected": _l("Refusée"),
}
SOURCE_LABELS = {
    "form": _l("Formulaire en ligne"),
    "import": _l("Import de délégation"),
    "desk": _l("Saisie à l'accueil"),
}
SEAT_LABELS = {"confirmed": _l("Place confirmée"), "waitlisted": _l("Liste d'attente")}

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_DELIMITER = ";"
BLANK_ATTENDANCE_LINES = 6  # empty lines at the end of a sheet for people who come without a seat


def guard_cell(value: object) -> object:
    """A text a spreadsheet would read as a formula gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def category_label(code: str) -> str:
    return str(CATEGORY_LABELS.get(code, code))


def status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


def source_label(code: str) -> str:
    return str(SOURCE_LABELS.get(code, code))


@dataclass(frozen=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]  # str, or a naive local datetime, or None


def registrations_table(event: Event, registrations: Sequence[Registration], positions: dict[int, int]) -> Table:
    """One row per registration, in the given order. `positions`: seat id -> waiting-list place."""
    headers = (
        pgettext("nom de famille", "Nom"),
        _("Prénom"),
        _("Adresse e-mail"),
        _("Organisation"),
        _("Fonction"),
        _("Catégorie"),
        _("Territoire"),
        _("Délégation"),
        _("Statut"),
        _("Ateliers (place confirmée)"),
        _("Ateliers (liste d'attente)"),
        _("Besoins d'accessibilité"),
        _("Origine"),
        _("Inscrit·e le"),
        _("Numéro"),
    )
    rows = []
    for registration in registrations:
        seated = [seat.session.code for seat in registration.seats if seat.status == "confirmed"]
        waiting = [
            _("%(code)s (n° %(position)s)", code=seat.session.code, position=positions.get(seat.id, "?"))
            for seat in registration.seats
            if seat.status == "waitlisted"
        ]
        rows.append(
            (
                registration.last_name,
                registration.first_name,
                registration.email,
                registration.organisation,
                registration.job_title,
                category_label(registration.category),
                registration.territory,
                registration.delegation.name if registration.delegation else "",
                status_label(registration.status),
                ", ".join(seated),
                ", ".join(waiting),
                registration.accessibility_needs,
                source_label(registration.source),
                utc_to_local(registration.created_at, event.timezone).replace(tzinfo=None, microsecond=0),
                str(registration.id),
            )
        )
    return Table(tuple(headers), tuple(rows))


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    return str(value)


def to_csv(table: Table) -> bytes:
    """UTF-8 with BOM, `;`-separated, every cell guarded against formulas (see the module doc)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=CSV_DELIMITER, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([guard_cell(h) for h in table.headers])
    for row in table.rows:
        writer.writerow([guard_cell(_text(value)) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def to_xlsx(table: Table, sheet_title: str) -> bytes:
    """One sheet: bold header row frozen at the top, filters on, dates as real dates."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _sheet_title(sheet_title)
    sheet.append([guard_cell(h) for h in table.headers])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(vertical="top", wrap_text=True)
    widths = [len(h) for h in table.headers]
    for row in table.rows:
        sheet.append([guard_cell(value) if value is not None else None for value in row])
        for index, value in enumerate(row):
            widths[index] = max(widths[index], min(len(_text(value)), 60))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = "dd/mm/yyyy hh:mm"
            elif isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula, whatever the text
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(8, width + 2)
    sheet.freeze_panes = "A2"
    if table.rows:
        sheet.auto_filter.ref = sheet.dimensions
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _sheet_title(title: str) -> str:
    """Excel sheet names: 31 characters at most, none of []:*?/\\."""
    cleaned = "".join(ch for ch in title if ch not in "[]:*?/\\").strip() or "Inscriptions"
    return cleaned[:31]


# --- Attendance sheet -----------------------------------------------------------------------------


def attendance_pdf(event: Event, session: Session, registrations: Sequence[Registration]) -> bytes:
    """A4 sheet(s) to sign in a workshop: title, day, time, room; confirmed names, organisations and
    a signature column; a few blank lines for people who come without a seat."""
    from weasyprint import HTML, URLFetcher

    locale = event.default_locale if event.default_locale in ("fr", "en") else "fr"
    with force_locale(locale):
        html = render_template(
            "admin/registrations/attendance.html",
            event=event,
            session=session,
            registrations=registrations,
            starts=utc_to_local(session.starts_at, event.timezone),
            ends=utc_to_local(session.ends_at, event.timezone),
            blank_lines=BLANK_ATTENDANCE_LINES,
            lang=locale,
        )
    # Names are user text: the document loads nothing (no file, no network), only data: URLs.
    return HTML(string=html, url_fetcher=URLFetcher(allowed_protocols=("data",)), base_url=None).write_pdf()
