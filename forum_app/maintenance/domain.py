"""Pure rules of the data-safety tools (no Flask, no database): tested without an app.

Backups: the archive's name and layout, which member names are acceptable, checking members
against the manifest, the PostgreSQL client tools' versions, whether an archive may be restored
into the configured database, and whether the restored database matches the manifest.

Purge: when an event's personal data may be erased, what a check-in's stored answer keeps, the
stand-in names that keep the count of organisations, and which outbox messages are about an event.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

# --------------------------------------------------------------------------- the archive

ARCHIVE_FORMAT = "forum_app/backup/1"
MANIFEST = "manifest.json"
SQLITE = "sqlite"
POSTGRESQL = "postgresql"
DATABASE_MEMBERS = {SQLITE: "database.sqlite3", POSTGRESQL: "database.pgdump"}
UPLOADS = "uploads"
KIND_NAMES = {SQLITE: "SQLite", POSTGRESQL: "PostgreSQL"}

_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def archive_name(moment: datetime) -> str:
    """forum-backup-20190606T120000Z.tar (UTC)."""
    return "forum-backup-" + moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ") + ".tar"


def upload_member(relative_parts: Iterable[str]) -> str | None:
    """The archive name of an uploaded file ("uploads/3/<hex>.jpg"), or None for a name the
    archive never holds (hidden files, temporary files, anything odd)."""
    parts = list(relative_parts)
    if not parts or not all(_SEGMENT.fullmatch(part) for part in parts) or parts[-1].endswith(".part"):
        return None
    return "/".join([UPLOADS, *parts])


def safe_member(name: str) -> bool:
    """A member this tool may have written: the manifest, a database, or an upload."""
    if name == MANIFEST or name in DATABASE_MEMBERS.values():
        return True
    parts = name.split("/")
    return len(parts) >= 2 and parts[0] == UPLOADS and upload_member(parts[1:]) == name


@dataclass(frozen=True)
class Member:
    sha256: str
    size: int


def manifest_problems(manifest: object) -> list[str]:
    """What makes a manifest unusable (shape only; checksums are compared by `member_problems`)."""
    if not isinstance(manifest, Mapping):
        return ["manifest.json is not a JSON object"]
    problems = []
    if manifest.get("format") != ARCHIVE_FORMAT:
        problems.append(f"unknown archive format {manifest.get('format')!r} (expected {ARCHIVE_FORMAT})")
    database = manifest.get("database")
    if not isinstance(database, Mapping) or database.get("kind") not in DATABASE_MEMBERS:
        problems.append("the manifest does not say which kind of database the archive holds")
    members = manifest.get("members")
    if not isinstance(members, Mapping) or not all(
        isinstance(v, Mapping) and isinstance(v.get("sha256"), str) and isinstance(v.get("size"), int)
        for v in members.values()
    ):
        problems.append("the manifest's list of members is missing or malformed")
    elif isinstance(database, Mapping) and database.get("kind") in DATABASE_MEMBERS and (
        DATABASE_MEMBERS[database["kind"]] not in members
    ):
        problems.append("the manifest lists no database file")
    counts = manifest.get("counts")
    if not isinstance(counts, Mapping) or not all(isinstance(v, int) for v in counts.values()):
        problems.append("the manifest's row counts are missing or malformed")
    return problems


def member_problems(expected: Mapping[str, Mapping], found: Mapping[str, Member]) -> list[str]:
    """Every difference between the members the manifest lists and those found in the archive."""
    problems = []
    for name in sorted(set(expected) | set(found)):
        if not safe_member(name) or name == MANIFEST:
            problems.append(f"{name}: not a name this tool writes")
        elif name not in found:
            problems.append(f"{name}: listed in the manifest, missing from the archive")
        elif name not in expected:
            problems.append(f"{name}: in the archive, not listed in the manifest")
        elif found[name].size != expected[name]["size"]:
            problems.append(f"{name}: {found[name].size} bytes, the manifest says {expected[name]['size']}")
        elif found[name].sha256 != expected[name]["sha256"]:
            problems.append(f"{name}: checksum differs from the manifest (damaged or altered)")
    return problems


def kind_problem(archive_kind: str, target_kind: str) -> str | None:
    """A PostgreSQL dump never goes into SQLite, nor the other way round."""
    if archive_kind == target_kind:
        return None
    return (
        f"This archive holds a {KIND_NAMES.get(archive_kind, archive_kind)} database and the configured database "
        f"(DATABASE_URL) is {KIND_NAMES.get(target_kind, target_kind)}: restore it into a "
        f"{KIND_NAMES.get(archive_kind, archive_kind)} database (converting between the two is not supported)."
    )


def count_problems(expected: Mapping[str, int], found: Mapping[str, int]) -> list[str]:
    """Tables whose row count after a restore differs from the manifest's."""
    problems = []
    for table in sorted(expected):
        if table not in found:
            problems.append(f"{table}: missing after the restore")
        elif found[table] != expected[table]:
            problems.append(f"{table}: {found[table]} rows, the manifest says {expected[table]}")
    return problems


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{size} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- PostgreSQL client tools

_VERSION = re.compile(r"\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?")


def tool_major(version_output: str) -> int | None:
    """15 from "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"; 9 for 9.6; None if unreadable."""
    found = _VERSION.search(version_output or "")
    return int(found.group(1)) if found else None


def server_major(server_version_num: int) -> int:
    """150018 -> 15 (90624 -> 9)."""
    return int(server_version_num) // 10000


def choose_tool(candidates: Iterable[tuple[str, int | None]], wanted_major: int) -> str | None:
    """The tool to run: the same major version as the server, else the oldest newer one (a newer
    pg_dump reads an older server; an older one refuses a newer server)."""
    usable = [(major, path) for path, major in candidates if major is not None and major >= wanted_major]
    if not usable:
        return None
    same = [path for major, path in usable if major == wanted_major]
    return same[0] if same else min(usable)[1]


def tool_problem(name: str, candidates: list[tuple[str, int | None]], wanted_major: int) -> str:
    """Why no candidate will do, in words an operator can act on."""
    install = f"install the PostgreSQL {wanted_major} client (Debian: apt install postgresql-client-{wanted_major})"
    if not candidates:
        return f"{name} not found (looked on PATH and in /usr/lib/postgresql/*/bin): {install}, or set PG_BIN_DIR."
    found = ", ".join(f"{path} ({major if major is not None else 'unknown version'})" for path, major in candidates)
    return f"{name} is older than the server (PostgreSQL {wanted_major}): found {found}; {install}, or set PG_BIN_DIR."


# libpq reads these from the environment: the URL's parts go there, never on a command line.
LIBPQ_QUERY_ENV = {
    "host": "PGHOST",
    "hostaddr": "PGHOSTADDR",
    "port": "PGPORT",
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslcrl": "PGSSLCRL",
    "sslnegotiation": "PGSSLNEGOTIATION",
    "gssencmode": "PGGSSENCMODE",
    "channel_binding": "PGCHANNELBINDING",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "application_name": "PGAPPNAME",
    "options": "PGOPTIONS",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "service": "PGSERVICE",
    "passfile": "PGPASSFILE",
}


def libpq_environment(
    host: str | None, port: int | None, user: str | None, password: str | None, database: str | None,
    query: Mapping[str, object],
) -> tuple[dict[str, str], list[str]]:
    """The PG* variables for a database URL's parts, and the query parameters libpq would not know."""
    env: dict[str, str] = {}
    for name, value in (("PGHOST", host), ("PGPORT", port), ("PGUSER", user), ("PGPASSWORD", password),
                        ("PGDATABASE", database)):
        if value not in (None, ""):
            env[name] = str(value)
    unknown = []
    for key, value in query.items():
        if isinstance(value, (tuple, list)):
            value = value[-1] if value else ""
        target = LIBPQ_QUERY_ENV.get(key)
        if target is None:
            unknown.append(key)
        elif value not in (None, ""):
            env[target] = str(value)
    return env, unknown


# --------------------------------------------------------------------------- purge: when


@dataclass(frozen=True)
class PurgeDecision:
    allowed: bool
    purge_from: date  # the first day the purge is allowed with this many days
    reason: str = ""  # why not, when not allowed
    warning: str = ""  # allowed, but worth saying


def purge_from(event_end: date, days: int) -> date:
    """The first day personal data may be erased: the day after `days` full days past the last day."""
    return event_end + timedelta(days=days + 1)


def purge_decision(
    event_end: date, today: date, days: int, *, configured_days: int, confirmed: bool, notice_date: date | None = None
) -> PurgeDecision:
    """Whether the purge may run today.

    - Never before the event is over (the day after its last day), whatever the options.
    - With `days` (the retention period): not before `purge_from(event_end, days)`.
    - A period shorter than the configured one (`--days 0` erases as soon as the event is over)
      is the operator overriding the policy: it needs `confirmed` (--yes).
    - `notice_date` (the day the privacy notice promises erasure by): a later day is a warning.
    """
    first_day = purge_from(event_end, days)
    if days < 0:
        return PurgeDecision(False, first_day, f"--days must be 0 or more, not {days}.")
    if today <= event_end:
        return PurgeDecision(
            False, first_day, f"The event is not over (its last day is {event_end.isoformat()}): nothing is erased before it ends."
        )
    if days < configured_days and not confirmed:
        return PurgeDecision(
            False,
            first_day,
            f"--days {days} is shorter than the configured retention (PERSONAL_DATA_RETENTION_DAYS = {configured_days}): "
            "add --yes to confirm.",
        )
    if today < first_day:
        return PurgeDecision(
            False,
            first_day,
            f"Too early: personal data is kept {days} days after the event (last day {event_end.isoformat()}); "
            f"it can be erased from {first_day.isoformat()}. To erase it now, run with --days 0 --yes.",
        )
    warning = ""
    if notice_date is not None and first_day > notice_date + timedelta(days=1):
        warning = (
            f"{days} days is longer than the privacy notice promises (erased by {notice_date.isoformat()}): "
            "lower PERSONAL_DATA_RETENTION_DAYS."
        )
    return PurgeDecision(True, first_day, warning=warning)


# --------------------------------------------------------------------------- purge: what


# The parts of a check-in's stored answer that name the person (the rest: outcome, time, door,
# station, registration number, category, workshops, stays for the figures and the trail).
ATTENDEE_PERSONAL_KEYS = ("name", "organisation", "job_title")


def scrub_checkin_answer(answer: str) -> str | None:
    """The stored answer without what names the person, or None when there is nothing to remove."""
    try:
        data = json.loads(answer) if answer else None
    except ValueError:
        return "{}"  # unreadable: keep nothing of it
    if not isinstance(data, dict):
        return None
    attendee = data.get("attendee")
    if not isinstance(attendee, dict) or not any(attendee.get(key) for key in ATTENDEE_PERSONAL_KEYS):
        return None
    data["attendee"] = {**attendee, **{key: "" for key in ATTENDEE_PERSONAL_KEYS if key in attendee}}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


ORGANISATION_STAND_IN = "Organisation anonymisée %d"
_STAND_IN = re.compile(r"^Organisation anonymisée (\d+)$", re.IGNORECASE)


def _case_variant(label: str, index: int) -> str:
    """The `index`-th spelling of `label` that differs only in case: the label, then all lower
    case, all upper case, then upper-case letters picked by the bits of `index`."""
    if index < 3:
        return (label, label.lower(), label.upper())[index]
    positions = iter(range(len(label)))
    return "".join(ch.upper() if ch.isalpha() and index >> next(positions) & 1 else ch for ch in label.lower())


def organisation_stand_ins(people: Iterable[tuple[int, str]], taken: Iterable[str] = ()) -> dict[int, str]:
    """registration id -> a numbered stand-in for its organisation ("" for none), so erased
    registrations count the organisations exactly as before under the report's two rules: one
    organisation per spelling (a delegation's list: spellings compared after trimming) and one per
    name whatever the case ("organisations represented"). "Ville de Lille" and "ville de lille"
    become "Organisation anonymisée 1" and "organisation anonymisée 1". Numbers follow the first
    registration of each organisation and continue after the stand-ins already `taken`."""
    used = [int(m.group(1)) for m in (_STAND_IN.match(t.strip()) for t in taken) if m]
    next_number = max(used, default=0) + 1
    numbers: dict[str, int] = {}
    spellings: dict[str, list[str]] = {}
    result: dict[int, str] = {}
    for registration_id, organisation in sorted(people):
        spelling = (organisation or "").strip()
        key = spelling.casefold()
        if not key or _STAND_IN.match(spelling):
            result[registration_id] = spelling
            continue
        if key not in numbers:
            numbers[key] = next_number
            next_number += 1
        known = spellings.setdefault(key, [])
        if spelling not in known:
            known.append(spelling)
        result[registration_id] = _case_variant(ORGANISATION_STAND_IN % numbers[key], known.index(spelling))
    return result


def message_about_event(subject: str, texts: Iterable[str], slug: str, title: str) -> bool:
    """An outbox message is about the event when it links to its pages (/e/<slug>/...), or, when
    it links to no event's pages (staff invitations), names the event in its subject. (Two events
    may share a title: a link to another event's pages settles it.)"""
    texts = [subject, *texts]
    if any("/e/" in text for text in texts):  # links to an event's pages: they say which event
        return any(f"/e/{slug}/" in text for text in texts)
    return bool(title.strip()) and title.strip().casefold() in " ".join(subject.split()).casefold()
