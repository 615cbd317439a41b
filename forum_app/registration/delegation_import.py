"""Delegation CSV files: reading and checking every row, on plain values (no Flask, no database).

The file format is the one of `demo/delegation-hauts-de-france.csv`:

    first_name,last_name,email,organisation,job_title,category,territory,delegation,workshops

with the workshop codes of one person separated by `|`. What a spreadsheet saves is accepted: UTF-8
with or without a byte-order mark (Excel's "CSV UTF-8"), Windows-1252 (Excel's plain "CSV" on a
French Windows), UTF-16 with its BOM; `;`, `,` or tab separators (French Excel writes `;`); French
column names (prénom, nom, e-mail...); category labels in French with or without accents or case.

Nothing here words a message: problems are codes with parameters, and the caller turns them into
French sentences (forum_app.registration.delegation_import_service.describe_*). The import is all or
nothing, so `validate` checks every row and reports every broken one, one entry per row.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from forum_app.programme.domain import fold
from forum_app.registration import domain
from forum_app.registration.domain import CATEGORIES

MAX_UPLOAD_BYTES = 1024 * 1024  # 1 MB: a delegation of 2,000 people weighs about 300 kB
MAX_ROWS = 2000
WORKSHOP_SEPARATOR = "|"

# Longest accepted value per column (the Registration and Delegation column sizes).
FIELD_LIMITS = {
    "first_name": 100,
    "last_name": 100,
    "email": domain.LIMITS["email"],
    "organisation": 200,
    "job_title": 200,
    "category": 100,
    "territory": 200,
    "delegation": 200,
    "workshops": 500,
    "accessibility_needs": 2000,
}
COLUMNS = ("first_name", "last_name", "email", "organisation", "job_title", "category", "territory", "delegation", "workshops")
OPTIONAL_COLUMNS = ("accessibility_needs",)
REQUIRED_COLUMNS = ("first_name", "last_name", "email")

# Column names as organisers type them (folded: no accents, lower case, spaces for - and _).
_COLUMN_ALIASES = {
    "first name": "first_name", "firstname": "first_name", "prenom": "first_name", "given name": "first_name",
    "last name": "last_name", "lastname": "last_name", "nom": "last_name", "nom de famille": "last_name",
    "family name": "last_name", "surname": "last_name",
    "email": "email", "e mail": "email", "mail": "email", "courriel": "email", "adresse e mail": "email",
    "adresse email": "email", "adresse mail": "email",
    "organisation": "organisation", "organization": "organisation", "structure": "organisation",
    "organisme": "organisation",
    "job title": "job_title", "jobtitle": "job_title", "fonction": "job_title", "poste": "job_title",
    "category": "category", "categorie": "category",
    "territory": "territory", "territoire": "territory",
    "delegation": "delegation",
    "workshops": "workshops", "workshop": "workshops", "ateliers": "workshops", "atelier": "workshops",
    "accessibility needs": "accessibility_needs", "accessibilite": "accessibility_needs",
    "besoins d'accessibilite": "accessibility_needs", "besoins specifiques": "accessibility_needs",
}  # fmt: skip

# Category labels (normalised by _category_key) -> Registration.category codes. Beyond the eight
# labels of the registration form, a few kinds of organisation that delegations name in their own
# words are placed in the nearest category: a "bureau d'études" is a firm, an "agence d'urbanisme"
# (a public-private study body) goes to "autre". Anything else is refused, so that a typo never
# files someone in the wrong category silently.
CATEGORY_SYNONYMS = {
    "collectivite": "collectivite", "collectivites": "collectivite", "collectivite territoriale": "collectivite",
    "commune": "collectivite", "ville": "collectivite", "mairie": "collectivite", "intercommunalite": "collectivite",
    "epci": "collectivite", "departement": "collectivite", "region": "collectivite", "metropole": "collectivite",
    "elu": "elu", "elue": "elu", "elus": "elu", "elues": "elu", "elu local": "elu",
    "etat": "etat", "services de l'etat": "etat", "service de l'etat": "etat", "prefecture": "etat",
    "association": "association", "associations": "association", "asso": "association",
    "entreprise": "entreprise", "entreprises": "entreprise", "societe": "entreprise", "bureau d'etudes": "entreprise",
    "bureau d'etude": "entreprise", "cabinet": "entreprise", "cabinet de conseil": "entreprise",
    "centre de ressources": "centre_ressources", "centres de ressources": "centre_ressources",
    "centre ressources": "centre_ressources", "centre de ressources politique de la ville": "centre_ressources",
    "crpv": "centre_ressources",
    "habitant": "habitant", "habitante": "habitant", "habitants": "habitant", "habitantes": "habitant",
    "autre": "autre", "autres": "autre", "agence d'urbanisme": "autre",
}  # fmt: skip
DEFAULT_CATEGORY = "autre"  # an empty cell

# Problem codes (file level)
TOO_LARGE = "too_large"
TOO_MANY_ROWS = "too_many_rows"
EMPTY_FILE = "empty_file"
NO_PEOPLE = "no_people"
NOT_TEXT = "not_text"
SPREADSHEET = "spreadsheet"
MISSING_COLUMNS = "missing_columns"
DUPLICATE_COLUMNS = "duplicate_columns"
UNREADABLE = "unreadable"

# Problem codes (row level)
PERSON = "person"  # field, message, problem: a registration rule (the domain.Problem, and its French sentence)
TOO_LONG = "too_long"  # field, limit (the delegation name; the person's fields are PERSON problems)
TOO_MANY_WORKSHOPS = "too_many_workshops"  # count, limit
DUPLICATE_IN_FILE = "duplicate_in_file"  # value, other_line
ALREADY_REGISTERED = "already_registered"  # value
UNKNOWN_WORKSHOP = "unknown_workshop"  # codes (comma separated)
NOT_A_WORKSHOP = "not_a_workshop"  # codes: sessions that exist but need no sign-up
WORKSHOPS_OVERLAP = "workshops_overlap"  # first, second
UNKNOWN_CATEGORY = "unknown_category"  # value
TOO_MANY_CELLS = "too_many_cells"  # count

# Note codes (not errors): what the organiser should know about rows that import.
PROGRAMME_OVERLAP = "programme_overlap"  # first, second: workshops the person leads or reports on (see validate)
REPAIRED_ROW = "repaired_row"  # field, value: an unquoted separator kept inside that text column


@dataclass(frozen=True)
class Problem:
    code: str
    params: Mapping[str, object] = field(default_factory=dict)


class ImportFileError(Exception):
    """The file as a whole cannot be read; nothing of it is looked at further."""

    def __init__(self, code: str, **params: object):
        super().__init__(code)
        self.problem = Problem(code, params)


@dataclass(frozen=True)
class RawRow:
    line: int  # the file line the row starts on (the header is line 1)
    values: Mapping[str, str]  # column -> cell, stripped; missing cells are ""
    extra_cells: int = 0  # non-empty cells beyond the header's columns (none once repaired)
    repaired: str | None = None  # the text column an unquoted separator was put back into


@dataclass(frozen=True)
class ParsedFile:
    columns: tuple[str, ...]  # the known columns found in the header, in file order
    ignored_columns: tuple[str, ...]  # header cells that name no known column
    delimiter: str
    encoding: str
    rows: tuple[RawRow, ...]


@dataclass(frozen=True)
class WorkshopSlot:
    """A sign-up session as the checks need it."""

    code: str
    starts_at: datetime
    ends_at: datetime
    people: frozenset[str] = frozenset()  # folded names of the people on its programme (speakers...)

    def overlaps(self, other: WorkshopSlot) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


@dataclass(frozen=True)
class PersonRow:
    """A row that passed every check: ready to register."""

    line: int
    first_name: str
    last_name: str
    email: str
    organisation: str
    job_title: str
    category: str  # a code of CATEGORIES
    territory: str
    delegation: str  # a delegation name, "" for none
    workshop_codes: tuple[str, ...]
    accessibility_needs: str = ""
    # Overlapping workshops accepted because the person is on the programme of both (see validate).
    tolerated_overlaps: tuple[tuple[str, str], ...] = ()

    @property
    def email_key(self) -> str:
        return domain.email_key(self.email)


@dataclass(frozen=True)
class RowError:
    line: int
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class RowNote:
    line: int
    problem: Problem


@dataclass(frozen=True)
class Validation:
    people: tuple[PersonRow, ...]
    errors: tuple[RowError, ...]  # one per broken row, in file order
    notes: tuple[RowNote, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.people)


# --- Reading ------------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """(text, encoding name) of an uploaded file; ImportFileError when it is not a text file."""
    if not data.strip():
        raise ImportFileError(EMPTY_FILE)
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise ImportFileError(SPREADSHEET)  # .xlsx (a zip) or the old binary .xls
    for bom, encoding in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return _checked_text(data.decode(encoding)), encoding
            except UnicodeDecodeError:
                raise ImportFileError(NOT_TEXT) from None
    if b"\x00" in data:
        raise ImportFileError(NOT_TEXT)
    try:
        return _checked_text(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return _checked_text(data.decode("cp1252")), "cp1252"
    except UnicodeDecodeError:
        raise ImportFileError(NOT_TEXT) from None


def _checked_text(text: str) -> str:
    """Text files hold no control characters besides tabs and line ends."""
    text = text.lstrip("\ufeff")
    if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text) or "\x7f" in text:
        raise ImportFileError(NOT_TEXT)
    if not text.strip():
        raise ImportFileError(EMPTY_FILE)
    return text


def sniff_delimiter(header_line: str) -> str:
    """The separator the header uses most among `;`, `,` and tab (`,` when it uses none)."""
    counts = {sep: header_line.count(sep) for sep in (";", ",", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def column_name(header_cell: str) -> str | None:
    """'Prénom' -> 'first_name'; None for a header cell that names no known column."""
    key = _normalise(header_cell)
    if key in _COLUMN_ALIASES:
        return _COLUMN_ALIASES[key]
    key = key.replace(" ", "_")
    return key if key in COLUMNS or key in OPTIONAL_COLUMNS else None


def read(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES, max_rows: int = MAX_ROWS) -> ParsedFile:
    """The rows of an uploaded delegation file. ImportFileError when the file cannot be used at all."""
    if len(data) > max_bytes:
        raise ImportFileError(TOO_LARGE, size=len(data), limit=max_bytes)
    text, encoding = decode(data)
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = sniff_delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header: list[str] | None = None
        while header is None:
            cells = next(reader, None)
            if cells is None:
                raise ImportFileError(EMPTY_FILE)
            if any(cell.strip() for cell in cells):
                header = cells
        positions: dict[str, int] = {}
        ignored: list[str] = []
        duplicates: list[str] = []
        for index, cell in enumerate(header):
            name = column_name(cell)
            if name is None:
                if cell.strip():
                    ignored.append(cell.strip())
            elif name in positions:
                duplicates.append(cell.strip())
            else:
                positions[name] = index
        if duplicates:
            raise ImportFileError(DUPLICATE_COLUMNS, columns=", ".join(duplicates))
        missing = [name for name in REQUIRED_COLUMNS if name not in positions]
        if missing:
            raise ImportFileError(MISSING_COLUMNS, columns=", ".join(missing), expected=",".join(COLUMNS))
        rows: list[RawRow] = []
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= max_rows:
                raise ImportFileError(TOO_MANY_ROWS, limit=max_rows)
            rows.append(_row(start, cells, len(header), positions, delimiter))
    except csv.Error as error:
        raise ImportFileError(UNREADABLE, line=reader.line_num, detail=str(error)) from None
    if not rows:
        raise ImportFileError(NO_PEOPLE)
    ordered = tuple(sorted(positions, key=positions.__getitem__))
    return ParsedFile(ordered, tuple(ignored), delimiter, encoding, tuple(rows))


# Free-text columns an unquoted separator may hide in ("Chef de service « Territoires, cohésion »").
_TEXT_COLUMNS = ("job_title", "organisation", "territory", "delegation", "accessibility_needs", "last_name", "first_name")
_CODES_CELL = re.compile(r"^\s*([A-Za-z0-9]+\s*(\|\s*[A-Za-z0-9]+\s*)*\|?)?\s*$")
_PAIRS = (("«", "»"), ("(", ")"), ("“", "”"))


def _values(cells: list[str], positions: Mapping[str, int]) -> dict[str, str]:
    return {name: (cells[index].strip() if index < len(cells) else "") for name, index in positions.items()}


def _row(line: int, cells: list[str], width: int, positions: Mapping[str, int], delimiter: str) -> RawRow:
    """One data row. A row with more cells than the header is read back when exactly one text column
    can take the surplus (a separator typed inside a job title and left unquoted, as spreadsheets
    exported by hand often have): the other columns must then read right, and brackets and French
    quotes balance. Otherwise the row is reported as broken."""
    cells = list(cells)
    while len(cells) > width and not cells[-1].strip():
        cells.pop()  # trailing separators
    extra = len(cells) - width
    if extra <= 0:
        return RawRow(line, _values(cells, positions))
    candidates: list[tuple[int, str, dict[str, str]]] = []
    for name in _TEXT_COLUMNS:
        if name not in positions:
            continue
        index = positions[name]
        merged = cells[:index] + [delimiter.join(cells[index : index + extra + 1])] + cells[index + extra + 1 :]
        values = _values(merged, positions)
        if not _plausible(values):
            continue
        balanced = sum(_balanced(value) for value in values.values())
        candidates.append((balanced, name, values))
    if candidates:
        best = max(score for score, _, _ in candidates)
        winners = [(name, values) for score, name, values in candidates if score == best]
        if len(winners) == 1:
            name, values = winners[0]
            return RawRow(line, values, 0, name)
    return RawRow(line, _values(cells, positions), sum(1 for cell in cells[width:] if cell.strip()))


def _plausible(values: Mapping[str, str]) -> bool:
    """The structured columns of a row read as what they should be."""
    email = values.get("email", "")
    return (
        (not email or domain.normalise_email(email)[1] is None)
        and category_code(values.get("category", "")) is not None
        and bool(_CODES_CELL.match(values.get("workshops", "")))
    )


def _balanced(text: str) -> bool:
    return all(text.count(opening) == text.count(closing) for opening, closing in _PAIRS)


# --- Checking -----------------------------------------------------------------------------------


def category_code(label: str) -> str | None:
    """'Centre de ressources', 'COLLECTIVITÉ', 'élu·e', 'centre_ressources' -> a code; None if unknown.

    The registration form's vocabulary first (registration/domain.parse_category), then the
    spreadsheet synonyms above; an empty cell is "autre"."""
    key = _category_key(label)
    if not key:
        return DEFAULT_CATEGORY
    code = domain.parse_category(label)
    if code is not None:
        return code
    if key.replace(" ", "_") in CATEGORIES:
        return key.replace(" ", "_")
    return CATEGORY_SYNONYMS.get(key)


def workshop_codes(cell: str) -> list[str]:
    """'a3 | A6|' -> ['A3', 'A6'] (file order, each once)."""
    codes: list[str] = []
    for part in cell.split(WORKSHOP_SEPARATOR):
        code = part.strip().upper()
        if code and code not in codes:
            codes.append(code)
    return codes


def validate(
    rows: Iterable[RawRow],
    *,
    workshops: Mapping[str, WorkshopSlot],
    known_emails: Iterable[str] = (),
    other_session_codes: Iterable[str] = (),
    default_delegation: str = "",
) -> Validation:
    """Check every row; each broken row gives one RowError listing all its problems.

    `workshops` are the event's sign-up sessions by code; `known_emails` the addresses already
    registered (any case); `other_session_codes` the sessions that need no sign-up (a clearer
    message than "unknown"). Overlapping workshops are refused, except when the person is on the
    programme of both sessions (a speaker of one who is rapporteur of the other: the programme
    itself puts them in both, and the organiser already sees that clash on the programme screen);
    those give a RowNote and the row is kept.
    """
    known = {domain.email_key(email) for email in known_emails}
    others = {code.upper() for code in other_session_codes}
    first_line_of: dict[str, int] = {}
    people: list[PersonRow] = []
    errors: list[RowError] = []
    notes: list[RowNote] = []
    for row in rows:
        problems: list[Problem] = []
        get = row.values.get
        if row.extra_cells:
            problems.append(Problem(TOO_MANY_CELLS, {"count": row.extra_cells}))
        category = category_code(get("category", ""))
        if category is None:
            problems.append(Problem(UNKNOWN_CATEGORY, {"value": get("category", "")}))
        # The registration rules themselves (required names, lengths, control characters, email
        # syntax): what passes here, services.register() accepts.
        person, person_problems = domain.check_person(
            domain.PersonInput(
                first_name=get("first_name", ""),
                last_name=get("last_name", ""),
                email=get("email", ""),
                organisation=get("organisation", ""),
                job_title=get("job_title", ""),
                category=category or DEFAULT_CATEGORY,
                territory=get("territory", ""),
                accessibility_needs=get("accessibility_needs", ""),
            )
        )
        problems.extend(Problem(PERSON, {"field": p.field, "message": p.message, "problem": p}) for p in person_problems)
        delegation = get("delegation", "") or default_delegation
        if len(delegation) > FIELD_LIMITS["delegation"]:
            problems.append(Problem(TOO_LONG, {"field": "delegation", "limit": FIELD_LIMITS["delegation"]}))
        email, email_problem = domain.normalise_email(get("email", ""))
        if email_problem is None:
            key = domain.email_key(email)
            if key in first_line_of:
                problems.append(Problem(DUPLICATE_IN_FILE, {"value": get("email", ""), "other_line": first_line_of[key]}))
            else:
                first_line_of[key] = row.line
                if key in known:
                    problems.append(Problem(ALREADY_REGISTERED, {"value": get("email", "")}))
        raw_codes = get("workshops", "")
        codes = workshop_codes(raw_codes)
        if len(raw_codes) > FIELD_LIMITS["workshops"] or len(codes) > domain.MAX_WORKSHOPS:
            problems.append(Problem(TOO_MANY_WORKSHOPS, {"count": len(codes), "limit": domain.MAX_WORKSHOPS}))
            codes = []
        not_signup = [code for code in codes if code not in workshops and code in others]
        unknown = [code for code in codes if code not in workshops and code not in others]
        if unknown:
            problems.append(Problem(UNKNOWN_WORKSHOP, {"codes": ", ".join(unknown), "count": len(unknown)}))
        if not_signup:
            problems.append(Problem(NOT_A_WORKSHOP, {"codes": ", ".join(not_signup), "count": len(not_signup)}))
        chosen = sorted((workshops[code] for code in codes if code in workshops), key=lambda w: (w.starts_at, w.code))
        full_name = fold(f"{get('first_name', '')} {get('last_name', '')}")
        row_notes: list[RowNote] = []
        for i, first in enumerate(chosen):
            for second in chosen[i + 1 :]:
                if not first.overlaps(second):
                    continue
                pair = {"first": first.code, "second": second.code}
                if full_name in first.people and full_name in second.people:
                    row_notes.append(RowNote(row.line, Problem(PROGRAMME_OVERLAP, pair)))
                else:
                    problems.append(Problem(WORKSHOPS_OVERLAP, pair))
        if problems or person is None:
            errors.append(RowError(row.line, tuple(problems)))
            continue
        if row.repaired:
            notes.append(RowNote(row.line, Problem(REPAIRED_ROW, {"field": row.repaired, "value": get(row.repaired, "")})))
        notes.extend(row_notes)
        people.append(
            PersonRow(
                line=row.line,
                first_name=person.first_name,
                last_name=person.last_name,
                email=person.email,
                organisation=person.organisation,
                job_title=person.job_title,
                category=person.category,
                territory=person.territory,
                delegation=delegation,
                workshop_codes=tuple(codes),
                accessibility_needs=person.accessibility_needs,
                tolerated_overlaps=tuple((n.problem.params["first"], n.problem.params["second"]) for n in row_notes),
            )
        )
    return Validation(tuple(people), tuple(errors), tuple(notes))


def _normalise(text: str) -> str:
    text = fold(text.strip().lstrip("\ufeff")).replace("’", "'").replace("_", " ").replace("-", " ")
    return " ".join(text.split())


def _category_key(label: str) -> str:
    """'Élu·e' -> 'elue', 'élu(e)' -> 'elue', 'Centre-de-ressources' -> 'centre de ressources'."""
    text = _normalise(label)
    text = re.sub(r"[·•.()]", "", text)
    return " ".join(text.split())
