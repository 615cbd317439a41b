"""Schedule interchange, pure: c3voc/frab schedule JSON and XML in and out, iCalendar out.

No Flask, no database: plain dataclasses in, plain dataclasses (or bytes) out.

Reading is lenient like the files real pretalx/frab instances publish (upper-case acronyms,
unknown keys, ids as strings, missing codes, durations "1:30" or "01:30:00", persons as plain
strings...). A file that cannot be used raises `InvalidInput` whose message names where it
broke: a JSON line/column, a JSON path such as
`schedule.conference.days[0].rooms["Salle Ille"][1].date`, or an XML line.

Writing produces documents valid against `interop/schedule.schema.json` and
`interop/schedule.xml.xsd` (checked by the tests). What those formats cannot carry:

- JSON: nothing is lost. Persons carry our three extra keys, `organisation`, `role` (job
  title, as in the demo file) and `session_role`: the schema's Person allows extra keys.
- XML: the XSD has no place for a person's job title, organisation or session role, for a
  room's capacity or for the conference description: they are dropped. The `code`
  attribute must be exactly 6 characters (pretalx codes), so shorter codes such as "A1" are
  carried in the slug instead (`<acronym>-<code>-<title>`), which the reader understands.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from xml.sax import SAXParseException
from xml.sax.handler import ContentHandler
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import defusedxml.sax
from dateutil.parser import isoparse
from defusedxml import DefusedXmlException

from forum_app.errors import InvalidInput
from forum_app.programme.domain import PERSON_ROLES, SESSION_KINDS

# Kept in step with programme/models.py (importing the models would pull in the database).
DEFAULT_TIME_ZONE = "Europe/Paris"
DEFAULT_LANGUAGE = "fr"
SCHEMA_URL = "https://c3voc.de/schedule/schema.json"
MAX_PROBLEMS = 50

# Column sizes of programme/models.py: longer text is refused rather than cut silently.
LIMITS = {
    "title": 300, "subtitle": 300, "room": 200, "track": 200, "person": 200, "job_title": 300, "organisation": 300,
}


# --------------------------------------------------------------------------- plain data


@dataclass
class PersonData:
    name: str
    guid: str | None = None
    job_title: str = ""
    organisation: str = ""
    session_role: str = "speaker"


@dataclass
class RoomData:
    name: str
    guid: str | None = None
    capacity: int | None = None


@dataclass
class TrackData:
    name: str
    colour: str | None = None  # "#rrggbb" or None for the default
    slug: str = ""


@dataclass
class SessionData:
    guid: str
    code: str
    title: str
    start: datetime  # aware
    end: datetime  # aware
    kind: str = "plenary"
    external_id: int | None = None
    subtitle: str = ""
    track: str | None = None
    room: str | None = None
    language: str = DEFAULT_LANGUAGE
    abstract: str = ""
    description: str = ""
    url: str = ""
    persons: list[PersonData] = field(default_factory=list)
    updated_at: datetime | None = None  # export only: DTSTAMP/LAST-MODIFIED of the .ics


@dataclass
class ScheduleData:
    title: str
    acronym: str
    start: date
    end: date
    time_zone: str = DEFAULT_TIME_ZONE
    description: str = ""
    base_url: str = ""
    url: str = ""  # the conference's public page (export)
    version: str = "1"
    rooms: list[RoomData] = field(default_factory=list)
    tracks: list[TrackData] = field(default_factory=list)
    sessions: list[SessionData] = field(default_factory=list)


# --------------------------------------------------------------------------- small helpers

_CODE_RE = re.compile(r"^[A-Z0-9]+$")
_PRETALX_CODE_RE = re.compile(r"^[0-9A-Z]{6}$")
_ACRONYM_RE = re.compile(r"^[a-z0-9_-][a-z0-9_]{3,}(-2[0-9]{3}-[a-z]+)?$")
_TZ_NAME_RE = re.compile(r"^([A-Z][a-z]+/[A-Z][a-z]+)|UTC$")  # the JSON schema's own (loose) pattern
_DURATION_RE = re.compile(r"^\s*(\d{1,3}):(\d{1,2})(?::(\d{1,2}))?\s*$")
_HEX_RE = re.compile(r"^#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})$")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
CODE_MAX = 16


def slugify(text: str, *, keep: str = "-") -> str:
    """ASCII lower-case words joined by `keep` ('Salle Île' -> 'salle-ile')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", keep, ascii_text.lower()).strip(keep)


def event_slug_from_acronym(acronym: str) -> str:
    """The URL slug of an event imported from a file: its acronym lower-cased, URL-safe."""
    ascii_text = unicodedata.normalize("NFKD", acronym).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9_-]+", "-", ascii_text).strip("-_")[:64]


def schema_acronym(text: str) -> str:
    """An acronym the JSON schema accepts: `^[a-z0-9_-][a-z0-9_]{3,}(-2[0-9]{3}-[a-z]+)?$`."""
    lowered = text.strip().lower()
    if _ACRONYM_RE.match(lowered):
        return lowered
    cleaned = slugify(lowered, keep="_") or "event"
    return cleaned.ljust(4, "_")


def normalise_colour(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    found = _HEX_RE.match(value.strip())
    if not found:
        return None
    digits = found.group(1).lower()
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return "#" + digits


def track_slug(name: str) -> str:
    """Valid for both formats: XSD `[a-z][a-z0-9-]+`, schema `^[a-z0-9_-]+[a-z0-9]$`."""
    slug = slugify(name) or "track"
    if not slug[0].isalpha():
        slug = "t-" + slug
    if len(slug) < 2:
        slug += "x"
    return slug


def map_kind(value: Any) -> str:
    """Any frab/pretalx `type` to one of SESSION_KINDS; unknown -> plenary."""
    if not isinstance(value, str) or not value.strip():
        return "plenary"
    key = slugify(value)
    if key in SESSION_KINDS:
        return key
    return _KIND_ALIASES.get(key, _KIND_ALIASES.get(key.split("-")[0], "plenary"))


_KIND_ALIASES = {
    # plenary
    "talk": "plenary", "lecture": "plenary", "keynote": "plenary", "pleniere": "plenary", "conference": "plenary",
    "presentation": "plenary", "opening": "plenary", "closing": "plenary", "ouverture": "plenary",
    "cloture": "plenary", "synthese": "plenary", "intervention": "plenary",
    # round table
    "discussion": "round-table", "podium": "round-table", "panel": "round-table", "roundtable": "round-table",
    "round": "round-table", "table": "round-table", "table-ronde": "round-table", "debate": "round-table",
    "debat": "round-table", "fishbowl": "round-table",
    # workshop
    "workshop": "workshop", "hands-on": "workshop", "hands": "workshop", "handson": "workshop", "atelier": "workshop",
    "tutorial": "workshop", "training": "workshop", "formation": "workshop",
    # experience presentations
    "experience": "experience", "experiences": "experience", "retour": "experience", "showcase": "experience",
    "lightning": "experience", "lightning-talk": "experience", "pitch": "experience", "demo": "experience",
    # meeting
    "meeting": "meeting", "reunion": "meeting", "bof": "meeting", "assembly": "meeting", "club": "meeting",
    "meetup": "meeting",
    # reception, meals, breaks
    "reception": "reception", "welcome": "reception", "accueil": "reception", "registration": "reception",
    "cocktail": "reception", "lunch": "lunch", "dejeuner": "lunch", "dinner": "lunch", "diner": "lunch",
    "meal": "lunch", "repas": "lunch", "break": "break", "pause": "break", "coffee": "break", "coffee-break": "break",
    "cafe": "break",
}


def map_role(value: Any) -> str | None:
    """A session role to one of PERSON_ROLES, or None when the word is not one we know."""
    if not isinstance(value, str) or not value.strip():
        return None
    key = slugify(value)
    if key in PERSON_ROLES:
        return key
    return _ROLE_ALIASES.get(key)


_ROLE_ALIASES = {
    "speakers": "speaker", "intervenant": "speaker", "intervenante": "speaker", "orateur": "speaker",
    "oratrice": "speaker", "presenter": "speaker", "panelist": "speaker", "panellist": "speaker",
    "moderateur": "moderator", "moderatrice": "moderator", "animateur": "moderator", "animatrice": "moderator",
    "animation": "moderator", "moderation": "moderator", "host": "moderator", "chair": "moderator",
    "facilitator": "moderator",
    "grand-temoin": "witness", "temoin": "witness", "grand-temoin-e": "witness", "discussant": "witness",
    "reporter": "rapporteur", "rapporteuse": "rapporteur", "note-taker": "rapporteur",
}


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return ""


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    if isinstance(value, float) and value.is_integer():
        return int(value) if value >= 1 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
        return number if number >= 1 else None
    return None


def _as_uuid(value: Any, *, seed: str) -> str | None:
    """A canonical UUID string: the value itself when it is one, else a stable uuid5 of it."""
    text = _as_text(value).strip()
    if not text:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"forum-app:{seed}:{text}"))


def _derived_uuid(seed: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"forum-app:{seed}"))


def parse_duration(value: Any) -> timedelta | None:
    """'01:30', '1:30', '01:30:00' (or minutes as a number) -> timedelta; None when unreadable."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return timedelta(minutes=value) if value >= 0 else None
    if not isinstance(value, str):
        return None
    if value.strip().isascii() and value.strip().isdigit():
        return timedelta(minutes=int(value.strip()))
    found = _DURATION_RE.match(value)
    if not found:
        return None
    hours, minutes, seconds = int(found.group(1)), int(found.group(2)), int(found.group(3) or 0)
    if minutes >= 60 or seconds >= 60:
        return None
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def format_duration(delta: timedelta) -> str:
    minutes = max(int(delta.total_seconds() // 60), 0)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_datetime(value: Any, tz: ZoneInfo) -> datetime | None:
    """ISO 8601 date-time; naive values are read in the event's time zone."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = isoparse(text)
        except (ValueError, OverflowError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment


def _parse_date(value: Any, tz: ZoneInfo) -> date | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        moment = _parse_datetime(text, tz)
        return moment.astimezone(tz).date() if moment else None


def _parse_clock(value: Any) -> time | None:
    if not isinstance(value, str):
        return None
    found = re.match(r"^\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$", value)
    if not found:
        return None
    hours, minutes = int(found.group(1)), int(found.group(2))
    if hours > 23 or minutes > 59:
        return None
    return time(hours, minutes)


def _quote(value: Any, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"« {text} »"


# --------------------------------------------------------------------------- reading: where things are

_XML_META = "__xml__"


class _Problems:
    """Problems found while reading, each prefixed with where it is."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, what: str) -> None:
        if len(self.items) < MAX_PROBLEMS:
            self.items.append(f"{where} : {what}")

    def raise_if_any(self) -> None:
        if not self.items:
            return
        first = self.items[0]
        if len(self.items) == 1:
            raise InvalidInput(f"Programme illisible, rien n'a été importé. {first}")
        raise InvalidInput(
            f"Programme illisible ({len(self.items)} problèmes), rien n'a été importé. Premier problème : {first}",
            problems=list(self.items),
        )


def _where(node: Any, path: str, key: str | None = None) -> str:
    """JSON path (`a.b[0]["x"].c`) or, for a node read from XML, its line and XML path."""
    meta = node.get(_XML_META) if isinstance(node, dict) else None
    if meta:
        line = meta["lines"].get(key, meta["line"]) if key else meta["line"]
        xpath = meta["path"]
        if key:
            name = meta["names"].get(key, key)
            xpath += f"/{name}"
        return f"ligne {line} ({xpath})"
    return f"{path}.{key}" if key else path


# --------------------------------------------------------------------------- reading: JSON


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(
            f"Programme illisible : le fichier n'est pas encodé en UTF-8 (octet {error.start})."
        ) from error


def load_json_document(content: bytes | str) -> Any:
    text = _decode(content)
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"JSON invalide ligne {error.lineno}, colonne {error.colno} : {_json_error_fr(error.msg)}."
        ) from error


def _json_error_fr(message: str) -> str:
    translations = {
        "Expecting value": "valeur attendue",
        "Expecting ',' delimiter": "virgule attendue",
        "Expecting ':' delimiter": "deux-points attendus",
        "Expecting property name enclosed in double quotes": "nom de clé entre guillemets doubles attendu",
        "Unterminated string starting at": "chaîne de caractères non terminée",
        "Extra data": "contenu en trop après la fin du document",
        "Invalid control character at": "caractère de contrôle interdit",
        "Invalid \\escape": "séquence d'échappement invalide",
    }
    return translations.get(message, message)


def parse_schedule_json(content: bytes | str) -> ScheduleData:
    return _normalise(load_json_document(content), "schedule")


# --------------------------------------------------------------------------- reading: XML


class _Node:
    __slots__ = ("tag", "attrs", "line", "children", "parts")

    def __init__(self, tag: str, attrs: dict[str, str], line: int):
        self.tag = tag
        self.attrs = attrs
        self.line = line
        self.children: list[_Node] = []
        self.parts: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def child(self, tag: str) -> _Node | None:
        return next((c for c in self.children if c.tag == tag), None)


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1].rsplit("}", 1)[-1]


class _TreeBuilder(ContentHandler):
    """SAX handler keeping each element's line (ElementTree does not)."""

    def __init__(self) -> None:
        super().__init__()
        self.root: _Node | None = None
        self.stack: list[_Node] = []

    def startElement(self, name, attrs):  # noqa: N802 (SAX API)
        line = self._locator.getLineNumber() if self._locator else 0
        node = _Node(_local(name), {_local(k): v for k, v in attrs.items()}, line)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def endElement(self, name):  # noqa: N802 (SAX API)
        self.stack.pop()

    def characters(self, content):
        if self.stack:
            self.stack[-1].parts.append(content)


def parse_xml_tree(content: bytes | str) -> _Node:
    data = content.encode("utf-8") if isinstance(content, str) else content
    builder = _TreeBuilder()
    try:
        defusedxml.sax.parseString(data, builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except SAXParseException as error:
        raise InvalidInput(
            f"XML invalide ligne {error.getLineNumber()}, colonne {error.getColumnNumber() + 1} : {error.getMessage()}."
        ) from error
    except DefusedXmlException as error:
        raise InvalidInput(
            "XML refusé : les DTD, entités et références externes sont interdites pour des raisons de sécurité."
        ) from error
    if builder.root is None:
        raise InvalidInput("XML invalide : document vide.")
    return builder.root


def parse_schedule_xml(content: bytes | str) -> ScheduleData:
    root = parse_xml_tree(content)
    return _normalise(_xml_to_raw(root), "schedule")


def _meta(node: _Node, path: str, names: dict[str, str] | None = None, lines: dict[str, int] | None = None) -> dict:
    return {"line": node.line, "path": path, "names": names or {}, "lines": lines or {}}


def _xml_to_raw(root: _Node) -> dict:
    """frab XML -> the JSON document's shape, each dict remembering its lines for messages."""
    if root.tag != "schedule":
        raise InvalidInput(f"XML : ligne {root.line} : l'élément racine doit être <schedule>, pas <{root.tag}>.")
    schedule: dict[str, Any] = {_XML_META: _meta(root, "schedule")}
    version = root.child("version")
    if version is not None:
        schedule["version"] = version.text.strip()
    conference_node = root.child("conference")
    rooms_seen: dict[str, dict] = {}
    if conference_node is not None:
        conference: dict[str, Any] = {}
        lines: dict[str, int] = {}
        names = {"daysCount": "days"}
        tracks: list[dict] = []
        for child in conference_node.children:
            if child.tag == "track":
                tracks.append(
                    {
                        "name": child.attrs.get("name") or child.text.strip(),
                        "color": child.attrs.get("color"),
                        "slug": child.attrs.get("slug"),
                        _XML_META: _meta(child, f"schedule/conference/track[{len(tracks) + 1}]"),
                    }
                )
            elif child.tag in {"title", "acronym", "start", "end", "timeslot_duration", "base_url", "time_zone_name",
                               "description", "url", "subtitle"}:
                conference[child.tag] = child.text.strip()
                lines[child.tag] = child.line
            elif child.tag == "days":
                conference["daysCount"] = child.text.strip()
                lines["daysCount"] = child.line
        if tracks:
            conference["tracks"] = tracks
        conference[_XML_META] = _meta(conference_node, "schedule/conference", names, lines)
        if "base_url" in conference:
            schedule["base_url"] = conference.pop("base_url")
        schedule["conference"] = conference
        days: list[dict] = []
        for day_node in (c for c in root.children if c.tag == "day"):
            day_path = f"schedule/day[{len(days) + 1}]"
            rooms: dict[str, Any] = {}
            for room_node in (c for c in day_node.children if c.tag == "room"):
                name = room_node.attrs.get("name", "")
                room_path = f'{day_path}/room[@name="{name}"]'
                if name not in rooms_seen:
                    rooms_seen[name] = {"name": name, "guid": room_node.attrs.get("guid")}
                events = rooms.setdefault(name, [])
                for event_node in (c for c in room_node.children if c.tag == "event"):
                    events.append(_xml_event(event_node, f"{room_path}/event[{len(events) + 1}]"))
            day_names = {"day_start": "@start", "day_end": "@end", "date": "@date", "index": "@index"}
            days.append(
                {
                    "index": day_node.attrs.get("index"),
                    "date": day_node.attrs.get("date"),
                    "day_start": day_node.attrs.get("start"),
                    "day_end": day_node.attrs.get("end"),
                    "rooms": rooms,
                    _XML_META: _meta(day_node, day_path, day_names),
                }
            )
        conference["days"] = days
        if rooms_seen:
            conference["rooms"] = list(rooms_seen.values())
    return {"schedule": schedule}


_XML_EVENT_TEXT = {
    "date", "start", "end", "duration", "room", "slug", "title", "subtitle", "track", "type", "language",
    "abstract", "description", "url",
}


def _xml_event(node: _Node, path: str) -> dict:
    event: dict[str, Any] = {key: node.attrs[key] for key in ("guid", "id", "code") if key in node.attrs}
    lines = {key: node.line for key in ("guid", "id", "code")}
    names = {key: f"@{key}" for key in ("guid", "id", "code")}
    for child in node.children:
        lines[child.tag] = child.line
        if child.tag == "persons":
            persons = []
            for index, person in enumerate(c for c in child.children if c.tag == "person"):
                persons.append(
                    {
                        "name": person.text.strip(),
                        "guid": person.attrs.get("guid"),
                        "id": person.attrs.get("id"),
                        _XML_META: _meta(person, f"{path}/persons/person[{index + 1}]"),
                    }
                )
            event["persons"] = persons
        elif child.tag in _XML_EVENT_TEXT:
            text = child.text
            event[child.tag] = text if child.tag in {"abstract", "description"} else text.strip()
    if event.get("track") == "":
        event["track"] = None
    event[_XML_META] = _meta(node, path, names, lines)
    return event


def parse_schedule(content: bytes | str, *, filename: str = "") -> ScheduleData:
    """Read a schedule in either format: by the file's extension, else by its first character."""
    name = filename.lower()
    if name.endswith(".xml"):
        return parse_schedule_xml(content)
    if name.endswith(".json"):
        return parse_schedule_json(content)
    head = content[:200].lstrip() if isinstance(content, str) else content[:200].lstrip(b"\xef\xbb\xbf \t\r\n")
    if (head[:1] == "<") or (head[:1] == b"<"):
        return parse_schedule_xml(content)
    return parse_schedule_json(content)


# --------------------------------------------------------------------------- reading: document -> ScheduleData


def _normalise(document: Any, root_path: str) -> ScheduleData:
    problems = _Problems()
    if not isinstance(document, dict):
        raise InvalidInput("Programme illisible : le document doit être un objet JSON contenant « schedule ».")
    schedule = document.get("schedule")
    path = root_path
    if schedule is None and "conference" in document:  # a bare schedule object
        schedule = document
    if not isinstance(schedule, dict):
        raise InvalidInput(f"Programme illisible : {path} : champ obligatoire manquant ou qui n'est pas un objet.")
    conference = schedule.get("conference")
    cpath = f"{path}.conference"
    if not isinstance(conference, dict):
        raise InvalidInput(
            f"Programme illisible : {_where(schedule, path, 'conference')} : "
            "champ obligatoire manquant ou qui n'est pas un objet."
        )

    title = _as_text(conference.get("title")).strip()
    if not title:
        problems.add(_where(conference, cpath, "title"), "titre de l'événement manquant")
    elif len(title) > 300:
        problems.add(_where(conference, cpath, "title"), "titre trop long (300 caractères au plus)")
    acronym = _as_text(conference.get("acronym")).strip()
    if not acronym:
        acronym = slugify(title)[:40] or "evenement"

    tz_name = _as_text(conference.get("time_zone_name")).strip() or DEFAULT_TIME_ZONE
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        problems.add(_where(conference, cpath, "time_zone_name"), f"fuseau horaire inconnu {_quote(tz_name)}")
        tz_name, tz = DEFAULT_TIME_ZONE, ZoneInfo(DEFAULT_TIME_ZONE)

    start_date = _parse_date(conference.get("start"), tz)
    if conference.get("start") not in (None, "") and start_date is None:
        problems.add(_where(conference, cpath, "start"), f"date illisible {_quote(conference.get('start'))}")
    end_date = _parse_date(conference.get("end"), tz)
    if conference.get("end") not in (None, "") and end_date is None:
        problems.add(_where(conference, cpath, "end"), f"date illisible {_quote(conference.get('end'))}")

    base_url = _as_text(schedule.get("base_url") or conference.get("base_url")).strip()
    if len(base_url) > 500:
        base_url = ""

    rooms = _read_rooms(conference, cpath, problems, acronym)
    tracks = _read_tracks(conference, cpath, problems)
    read_sessions = _read_days(conference, cpath, problems, tz, acronym)
    sessions = [session for session, _slug in read_sessions]

    # Rooms and tracks used by sessions but not declared are added, in order of appearance.
    room_names = {r.name for r in rooms}
    track_names = {t.name for t in tracks}
    for session in sessions:
        if session.room and session.room not in room_names:
            rooms.append(RoomData(name=session.room, guid=_derived_uuid(f"{acronym}/room/{session.room}")))
            room_names.add(session.room)
        if session.track and session.track not in track_names:
            tracks.append(TrackData(name=session.track, colour=None, slug=track_slug(session.track)))
            track_names.add(session.track)
    _assign_codes(read_sessions, acronym)

    local_days = [s.start.astimezone(tz).date() for s in sessions] + [s.end.astimezone(tz).date() for s in sessions]
    if start_date is None:
        start_date = min(local_days, default=end_date)
    if end_date is None:
        end_date = max(local_days, default=start_date)
    if start_date is None or end_date is None:
        problems.add(_where(conference, cpath, "start"), "date de début de l'événement manquante")
    problems.raise_if_any()
    assert start_date is not None and end_date is not None
    if end_date < start_date:
        end_date = start_date
    return ScheduleData(
        title=title,
        acronym=acronym,
        start=start_date,
        end=end_date,
        time_zone=tz_name,
        description=_as_text(conference.get("description")),
        base_url=base_url,
        url=_as_text(conference.get("url")).strip(),
        version=_as_text(schedule.get("version")).strip() or "1",
        rooms=rooms,
        tracks=tracks,
        sessions=sessions,
    )


def _read_rooms(conference: dict, cpath: str, problems: _Problems, acronym: str) -> list[RoomData]:
    raw_rooms = conference.get("rooms")
    if raw_rooms is None:
        return []
    if not isinstance(raw_rooms, list):
        problems.add(_where(conference, cpath, "rooms"), "une liste de salles est attendue")
        return []
    rooms: list[RoomData] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_rooms):
        path = f"{cpath}.rooms[{index}]"
        if isinstance(raw, str):
            raw = {"name": raw}
        if not isinstance(raw, dict):
            problems.add(path, "une salle doit être un objet avec un nom")
            continue
        name = _as_text(raw.get("name")).strip()
        if not name:
            problems.add(_where(raw, path, "name"), "nom de salle manquant")
            continue
        if len(name) > LIMITS["room"]:
            problems.add(_where(raw, path, "name"), "nom de salle trop long (200 caractères au plus)")
            continue
        if name in seen:
            continue
        seen.add(name)
        capacity = raw.get("capacity")
        rooms.append(
            RoomData(
                name=name,
                guid=_as_uuid(raw.get("guid"), seed=f"{acronym}/room") or _derived_uuid(f"{acronym}/room/{name}"),
                capacity=_as_int(capacity),
            )
        )
    return rooms


def _read_tracks(conference: dict, cpath: str, problems: _Problems) -> list[TrackData]:
    raw_tracks = conference.get("tracks")
    if raw_tracks is None:
        return []
    if not isinstance(raw_tracks, list):
        problems.add(_where(conference, cpath, "tracks"), "une liste de thématiques est attendue")
        return []
    tracks: list[TrackData] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_tracks):
        path = f"{cpath}.tracks[{index}]"
        if isinstance(raw, str):
            raw = {"name": raw}
        if not isinstance(raw, dict):
            problems.add(path, "une thématique doit être un objet avec un nom")
            continue
        name = _as_text(raw.get("name")).strip()
        if not name:
            problems.add(_where(raw, path, "name"), "nom de thématique manquant")
            continue
        if len(name) > LIMITS["track"]:
            problems.add(_where(raw, path, "name"), "nom de thématique trop long (200 caractères au plus)")
            continue
        if name in seen:
            continue
        seen.add(name)
        colour = normalise_colour(raw.get("color", raw.get("colour")))
        tracks.append(TrackData(name=name, colour=colour, slug=track_slug(name)))
    return tracks


def _read_days(
    conference: dict, cpath: str, problems: _Problems, tz: ZoneInfo, acronym: str
) -> list[tuple[SessionData, str]]:
    days = conference.get("days")
    if days is None:
        problems.add(_where(conference, cpath, "days"), "champ obligatoire manquant (la liste des jours)")
        return []
    if not isinstance(days, list):
        problems.add(_where(conference, cpath, "days"), "une liste de jours est attendue")
        return []
    sessions: list[tuple[SessionData, str]] = []
    guids: dict[str, str] = {}
    for day_index, day in enumerate(days):
        dpath = f"{cpath}.days[{day_index}]"
        if not isinstance(day, dict):
            problems.add(dpath, "un jour doit être un objet")
            continue
        day_date = _parse_date(day.get("date"), tz)
        rooms = day.get("rooms", {})
        if not isinstance(rooms, dict):
            problems.add(_where(day, dpath, "rooms"), "un objet « nom de salle : liste de sessions » est attendu")
            continue
        for room_name, events in rooms.items():
            rpath = f"{dpath}.rooms[{json.dumps(room_name, ensure_ascii=False)}]"
            if not isinstance(events, list):
                problems.add(rpath, "une liste de sessions est attendue")
                continue
            for event_index, raw in enumerate(events):
                epath = f"{rpath}[{event_index}]"
                read = _read_session(raw, epath, problems, tz, acronym, room_name, day_date)
                if read is None:
                    continue
                session = read[0]
                if session.guid in guids:
                    problems.add(
                        _where(raw, epath, "guid"),
                        f"guid en double, déjà utilisé par la session {_quote(guids[session.guid])}",
                    )
                    continue
                guids[session.guid] = session.title
                sessions.append(read)
    return sessions


def _read_session(
    raw: Any, path: str, problems: _Problems, tz: ZoneInfo, acronym: str, room_name: str, day_date: date | None
) -> tuple[SessionData, str] | None:
    """The session and its slug (a source for its code when the file has none)."""
    if not isinstance(raw, dict):
        problems.add(path, "une session doit être un objet")
        return None
    before = len(problems.items)
    title = _as_text(raw.get("title")).strip()
    if not title:
        problems.add(_where(raw, path, "title"), "titre manquant")
    elif len(title) > LIMITS["title"]:
        problems.add(_where(raw, path, "title"), "titre trop long (300 caractères au plus)")
    subtitle = _as_text(raw.get("subtitle")).strip()
    if len(subtitle) > LIMITS["subtitle"]:
        problems.add(_where(raw, path, "subtitle"), "sous-titre trop long (300 caractères au plus)")

    start = _read_start(raw, path, problems, tz, day_date)
    end = None
    if start is not None:
        if raw.get("end") not in (None, ""):
            end = _parse_datetime(raw.get("end"), tz)
            if end is None:
                problems.add(_where(raw, path, "end"), f"date-heure illisible {_quote(raw.get('end'))}")
        elif raw.get("duration") in (None, ""):
            problems.add(_where(raw, path, "duration"), "durée manquante (attendu : « 01:30 »)")
        else:
            duration = parse_duration(raw.get("duration"))
            if duration is None:
                problems.add(
                    _where(raw, path, "duration"),
                    f"durée illisible {_quote(raw.get('duration'))} (attendu : « 01:30 » ou « 01:30:00 »)",
                )
            else:
                end = start + duration
        if end is not None and end < start:
            problems.add(_where(raw, path, "end"), "la session finit avant de commencer")

    track = raw.get("track")
    if isinstance(track, dict):
        track = track.get("name")
    track_name = _as_text(track).strip() or None
    if track_name and len(track_name) > LIMITS["track"]:
        problems.add(_where(raw, path, "track"), "nom de thématique trop long (200 caractères au plus)")
    room = (_as_text(room_name).strip() or _as_text(raw.get("room")).strip()) or None
    if room and len(room) > LIMITS["room"]:
        problems.add(_where(raw, path, "room"), "nom de salle trop long (200 caractères au plus)")
    persons = _read_persons(raw, path, problems, acronym)
    if len(problems.items) > before or start is None or end is None:
        return None

    external_id = _as_int(raw.get("id"))
    code = _clean_code(raw.get("code"))
    if external_id is not None:
        guid_seed = f"{acronym.lower()}/session/id/{external_id}"
    elif code:
        guid_seed = f"{acronym.lower()}/session/code/{code}"
    else:
        guid_seed = f"{acronym.lower()}/session/{title}/{start.isoformat()}"
    guid = _as_uuid(raw.get("guid"), seed=f"{acronym.lower()}/session") or _derived_uuid(guid_seed)
    language = (_as_text(raw.get("language")).strip() or DEFAULT_LANGUAGE)[:8]
    return SessionData(
        guid=guid,
        code=code,  # "" = to derive once every session is read (see _assign_codes)
        title=title,
        start=start,
        end=end,
        kind=map_kind(raw.get("type")),
        external_id=external_id,
        subtitle=subtitle,
        track=track_name,
        room=room,
        language=language,
        abstract=_as_text(raw.get("abstract")).strip(),
        description=_as_text(raw.get("description")).strip(),
        url=_as_text(raw.get("url")).strip(),
        persons=persons,
        updated_at=None,
    ), _as_text(raw.get("slug")).strip()


def _read_start(raw: dict, path: str, problems: _Problems, tz: ZoneInfo, day_date: date | None) -> datetime | None:
    value = raw.get("date")
    if value not in (None, ""):
        moment = _parse_datetime(value, tz)
        if moment is None:
            problems.add(
                _where(raw, path, "date"),
                f"date-heure illisible {_quote(value)} (attendu : « 2019-06-06T09:30:00+02:00 »)",
            )
            return None
        if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
            # A bare date: the time comes from `start`.
            clock = _parse_clock(raw.get("start"))
            if clock is None:
                problems.add(_where(raw, path, "start"), f"heure de début illisible {_quote(raw.get('start'))}")
                return None
            moment = datetime.combine(moment.date(), clock, tzinfo=tz)
        return moment
    clock = _parse_clock(raw.get("start"))
    if day_date is None or clock is None:
        problems.add(
            _where(raw, path, "date"), "date-heure de début manquante (attendu : « 2019-06-06T09:30:00+02:00 »)"
        )
        return None
    return datetime.combine(day_date, clock, tzinfo=tz)


def _read_persons(raw: dict, path: str, problems: _Problems, acronym: str) -> list[PersonData]:
    persons_raw = raw.get("persons")
    if persons_raw in (None, ""):
        return []
    if not isinstance(persons_raw, list):
        problems.add(_where(raw, path, "persons"), "une liste de personnes est attendue")
        return []
    persons: list[PersonData] = []
    for index, person in enumerate(persons_raw):
        ppath = f"{path}.persons[{index}]"
        if isinstance(person, str):
            person = {"name": person}
        if not isinstance(person, dict):
            problems.add(ppath, "une personne doit être un nom ou un objet avec un nom")
            continue
        name = (_as_text(person.get("name")) or _as_text(person.get("public_name"))
                or _as_text(person.get("full_name"))).strip()
        if not name:
            problems.add(_where(person, ppath, "name"), "nom de la personne manquant")
            continue
        job_title = _as_text(person.get("job_title") or person.get("position") or "").strip()
        session_role = map_role(person.get("session_role"))
        role_value = person.get("role")
        if session_role is None and person.get("session_role") is None and map_role(role_value):
            session_role = map_role(role_value)  # some files put the session role in `role`
        elif not job_title:
            job_title = _as_text(role_value).strip()
        organisation = _as_text(person.get("organisation") or person.get("organization") or "").strip()
        for key, value in (("person", name), ("job_title", job_title), ("organisation", organisation)):
            if len(value) > LIMITS[key]:
                problems.add(ppath, f"texte trop long {_quote(value)} ({LIMITS[key]} caractères au plus)")
        persons.append(
            PersonData(
                name=name,
                guid=_as_uuid(person.get("guid"), seed=f"{acronym.lower()}/person") or (
                    # frab numbers its people: the same id is the same person in every session.
                    _derived_uuid(f"{acronym.lower()}/person/id/{_as_int(person.get('id'))}")
                    if _as_int(person.get("id")) is not None else None
                ),
                job_title=job_title,
                organisation=organisation,
                session_role=session_role or "speaker",
            )
        )
    return persons


def _clean_code(value: Any) -> str:
    text = re.sub(r"[^A-Z0-9]", "", _as_text(value).upper())
    return text[:CODE_MAX]


def _code_from_slug(slug: str, acronym: str) -> str:
    """`<acronym>-<token>-...` -> TOKEN (frab/pretalx put the id there; our XML export, the code)."""
    prefix = acronym.lower() + "-"
    if not slug.lower().startswith(prefix):
        return ""
    token = slug[len(prefix):].split("-", 1)[0]
    return _clean_code(token) if re.fullmatch(r"[A-Za-z0-9]+", token) else ""


def _assign_codes(sessions: list[tuple[SessionData, str]], acronym: str) -> None:
    """Give every session a unique code: the file's own first, then ones derived stably.

    Derivation, in order: the token after the acronym in the slug, the numeric id, a hash of
    the guid. A code used twice in the file (one pretalx submission in two slots) gets a
    letter suffix on its second use: A1, A1B...
    """
    used: set[str] = set()

    def unique(candidate: str) -> str:
        if candidate not in used:
            return candidate
        for letter in "BCDEFGHIJKLMNOPQRSTUVWXYZ":
            attempt = candidate[: CODE_MAX - 1] + letter
            if attempt not in used:
                return attempt
        return _hash_code(candidate + str(len(used)))

    pending = []
    for session, slug in sessions:
        if session.code:
            session.code = unique(session.code)
            used.add(session.code)
        else:
            pending.append((session, slug))
    for session, slug in pending:
        candidate = (
            _code_from_slug(slug, acronym)
            or (str(session.external_id) if session.external_id is not None else "")
            or _hash_code(session.guid)
        )
        session.code = unique(candidate)
        used.add(session.code)


def _hash_code(seed: str) -> str:
    digest = hashlib.sha1(seed.encode()).digest()
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ3789"  # pretalx's alphabet: no look-alikes
    number = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(6):
        number, rest = divmod(number, len(alphabet))
        chars.append(alphabet[rest])
    return "".join(chars)


# --------------------------------------------------------------------------- writing: shared


def session_slug(acronym: str, session: SessionData) -> str:
    """`<acronym>-<code>-<title words>`: valid for both formats, and it carries the code in XML."""
    words = slugify(session.title)[:48].strip("-") or "session"
    return f"{acronym}-{session.code.lower()}-{words}"


def _xml_safe(text: str) -> str:
    return _XML_ILLEGAL.sub("", text)


def _local_dt(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz).replace(microsecond=0)


@dataclass
class _Day:
    index: int
    day: date
    start: datetime
    end: datetime
    rooms: dict[str, list[SessionData]]


def _group_days(data: ScheduleData) -> list[_Day]:
    tz = ZoneInfo(data.time_zone)
    dates = set()
    current = data.start
    while current <= data.end:
        dates.add(current)
        current += timedelta(days=1)
    sessions = sorted(data.sessions, key=lambda s: (s.start, s.code))
    for session in sessions:
        dates.add(session.start.astimezone(tz).date())
    room_order = {room.name: i for i, room in enumerate(data.rooms)}
    days: list[_Day] = []
    for index, day in enumerate(sorted(dates), start=1):
        todays = [s for s in sessions if s.start.astimezone(tz).date() == day]
        if todays:
            start = min(_local_dt(s.start, tz) for s in todays)
            end = max(_local_dt(s.end, tz) for s in todays)
        else:
            start = datetime.combine(day, time(9, 0), tzinfo=tz)
            end = datetime.combine(day, time(18, 0), tzinfo=tz)
        rooms: dict[str, list[SessionData]] = {}
        for session in sorted(todays, key=lambda s: (room_order.get(s.room or "", len(room_order)), s.start, s.code)):
            rooms.setdefault(session.room or "", []).append(session)
        days.append(_Day(index, day, start, end, rooms))
    return days


def _export_ids(sessions: Sequence[SessionData]) -> dict[str, int]:
    """A unique positive integer id per session guid: the external id when free, else a new one."""
    ids: dict[str, int] = {}
    used: set[int] = set()
    ordered = sorted(sessions, key=lambda s: (s.start, s.code))
    for session in ordered:
        if session.external_id and session.external_id not in used:
            ids[session.guid] = session.external_id
            used.add(session.external_id)
    next_id = max(used, default=0) + 1
    for session in ordered:
        if session.guid not in ids:
            ids[session.guid] = next_id
            used.add(next_id)
            next_id += 1
    return ids


def _is_http(url: str) -> bool:
    return url.startswith(("http://", "https://")) and not re.search(r"\s", url)


def _session_url(session: SessionData) -> str:
    return session.url if session.url else f"urn:uuid:{session.guid}"


# --------------------------------------------------------------------------- writing: JSON


def build_schedule_json(data: ScheduleData, *, generator_version: str = "1") -> dict:
    """The c3voc schedule JSON document (a dict ready for json.dumps)."""
    tz = ZoneInfo(data.time_zone)
    acronym = schema_acronym(data.acronym)
    ids = _export_ids(data.sessions)
    days = _group_days(data)
    conference: dict[str, Any] = {
        "acronym": acronym,
        "title": data.title,
        "start": days[0].day.isoformat() if days else data.start.isoformat(),
        "end": days[-1].day.isoformat() if days else data.end.isoformat(),
        "daysCount": len(days),
        "timeslot_duration": "00:15",
    }
    if data.description:
        conference["description"] = data.description
    if _TZ_NAME_RE.match(data.time_zone):
        conference["time_zone_name"] = data.time_zone
    if data.url:
        conference["url"] = data.url
    conference["rooms"] = [
        {"name": room.name, "guid": room.guid or _derived_uuid(f"{acronym}/room/{room.name}")}
        | ({"capacity": room.capacity} if room.capacity is not None else {})
        for room in data.rooms
    ]
    conference["tracks"] = [
        {"name": track.name, "slug": track_slug(track.name)}
        | ({"color": track.colour} if normalise_colour(track.colour) else {})
        for track in data.tracks
    ]
    conference["days"] = [
        {
            "index": day.index,
            "date": day.day.isoformat(),
            "day_start": day.start.isoformat(),
            "day_end": day.end.isoformat(),
            "rooms": {
                room: [_json_event(s, acronym, ids[s.guid], tz) for s in sessions]
                for room, sessions in day.rooms.items()
            },
        }
        for day in days
    ]
    schedule: dict[str, Any] = {"version": data.version or "1"}
    if data.base_url:
        schedule["base_url"] = data.base_url
    schedule["conference"] = conference
    return {
        "$schema": SCHEMA_URL,
        "generator": {"name": "forum_app", "version": generator_version},
        "schedule": schedule,
    }


def _json_event(session: SessionData, acronym: str, export_id: int, tz: ZoneInfo) -> dict:
    start = _local_dt(session.start, tz)
    end = _local_dt(session.end, tz)
    return {
        "guid": session.guid,
        "code": session.code,
        "id": export_id,
        "date": start.isoformat(),
        "start": start.strftime("%H:%M"),
        "end": end.isoformat(),
        "duration": format_duration(session.end - session.start),
        "room": session.room or "",
        "slug": session_slug(acronym, session),
        "url": _session_url(session),
        "title": session.title,
        "subtitle": session.subtitle,
        "track": session.track,
        "type": session.kind,
        "language": session.language or DEFAULT_LANGUAGE,
        "abstract": session.abstract,
        "description": session.description,
        "links": [],
        "attachments": [],
        "persons": [
            {
                "guid": person.guid or _derived_uuid(f"{acronym}/person/{person.name}"),
                "name": person.name,
                "public_name": person.name,
                # Extra keys (the schema's Person allows them), as in the demo file:
                "role": person.job_title,
                "organisation": person.organisation,
                "session_role": person.session_role,
            }
            for person in session.persons
        ],
    }


# --------------------------------------------------------------------------- writing: XML


def build_schedule_xml(data: ScheduleData, *, generator_version: str = "1") -> bytes:
    """The frab schedule XML document, UTF-8 with its declaration."""
    tz = ZoneInfo(data.time_zone)
    acronym = schema_acronym(data.acronym)
    ids = _export_ids(data.sessions)
    days = _group_days(data)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, tag, {k: _xml_safe(v) for k, v in attrs.items()})
        if text is not None:
            element.text = _xml_safe(text)
        return element

    root = ET.Element("schedule")
    sub(root, "generator", name="forum_app", version=generator_version)
    sub(root, "version", data.version or "1")
    conference = sub(root, "conference")
    sub(conference, "acronym", acronym)
    sub(conference, "title", data.title)
    sub(conference, "start", days[0].day.isoformat() if days else data.start.isoformat())
    sub(conference, "end", days[-1].day.isoformat() if days else data.end.isoformat())
    sub(conference, "days", str(len(days)))
    sub(conference, "timeslot_duration", "00:15")
    if _is_http(data.base_url):
        sub(conference, "base_url", data.base_url)
    if _is_http(data.url):
        sub(conference, "url", data.url)
    sub(conference, "time_zone_name", data.time_zone)
    for track in data.tracks:
        attrs = {"name": track.name, "slug": track_slug(track.name)}
        colour = normalise_colour(track.colour)
        if colour:
            attrs["color"] = colour
        sub(conference, "track", **attrs)
    room_guids = {room.name: room.guid for room in data.rooms}
    for day in days:
        day_el = sub(
            root, "day", index=str(day.index), date=day.day.isoformat(),
            start=day.start.isoformat(), end=day.end.isoformat(),
        )
        for room_name, sessions in day.rooms.items():
            attrs = {"name": room_name}
            if room_guids.get(room_name):
                attrs["guid"] = room_guids[room_name]
            room_el = sub(day_el, "room", **attrs)
            for session in sessions:
                _xml_event_element(sub, room_el, session, acronym, ids[session.guid], tz)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _xml_event_element(sub, room_el: ET.Element, session: SessionData, acronym: str, export_id: int, tz: ZoneInfo):
    attrs = {"guid": session.guid, "id": str(export_id)}
    if _PRETALX_CODE_RE.match(session.code):
        attrs["code"] = session.code
    event = sub(room_el, "event", **attrs)
    start = _local_dt(session.start, tz)
    sub(event, "date", start.isoformat())
    sub(event, "start", start.strftime("%H:%M"))
    sub(event, "duration", format_duration(session.end - session.start))
    sub(event, "room", session.room or "")
    sub(event, "slug", session_slug(acronym, session))
    if _is_http(session.url):
        sub(event, "url", session.url)
    sub(event, "title", session.title)
    sub(event, "subtitle", session.subtitle)
    sub(event, "track", session.track or "")
    sub(event, "type", session.kind)
    sub(event, "language", session.language or DEFAULT_LANGUAGE)
    sub(event, "abstract", session.abstract)
    sub(event, "description", session.description)
    persons = sub(event, "persons")
    for person in session.persons:
        attrs = {"guid": person.guid} if person.guid else {}
        sub(persons, "person", person.name, **attrs)
    sub(event, "links")
    sub(event, "attachments")


# --------------------------------------------------------------------------- writing: iCalendar

ROLE_LABELS_FR: Mapping[str, str] = {
    "speaker": "Intervention",
    "moderator": "Animation",
    "witness": "Grand témoin",
    "rapporteur": "Rapport",
}


def describe_people(session: SessionData, role_labels: Mapping[str, str] = ROLE_LABELS_FR) -> list[str]:
    """'Animation : Marion Le Bihan (Directrice, RésOVilles)', one line per person."""
    lines = []
    for person in session.persons:
        details = ", ".join(part for part in (person.job_title, person.organisation) if part)
        label = role_labels.get(person.session_role, person.session_role)
        lines.append(f"{label} : {person.name}" + (f" ({details})" if details else ""))
    return lines


def build_calendar(
    data: ScheduleData,
    *,
    uid_host: str,
    stamp: datetime,
    calendar_name: str | None = None,
    role_labels: Mapping[str, str] = ROLE_LABELS_FR,
) -> bytes:
    """An iCalendar file of `data.sessions`, times in the event's zone with its VTIMEZONE.

    DTSTAMP is the session's last revision when known (RFC 5545 for calendars without
    METHOD), else `stamp`; so the same programme version gives the same bytes.
    """
    import icalendar

    tz = ZoneInfo(data.time_zone)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//forum_app//Programme//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", calendar_name or data.title)
    calendar.add("x-wr-timezone", data.time_zone)
    first = min([s.start.astimezone(tz).date() for s in data.sessions] + [data.start])
    last = max([s.end.astimezone(tz).date() for s in data.sessions] + [data.end])
    calendar.add_component(
        icalendar.Timezone.from_tzid(
            data.time_zone, first_date=date(first.year - 1, 1, 1), last_date=date(last.year + 1, 12, 31)
        )
    )
    for session in sorted(data.sessions, key=lambda s: (s.start, s.code)):
        event = icalendar.Event()
        event.add("uid", f"{session.guid}@{uid_host}")
        event.add("dtstamp", (session.updated_at or stamp).astimezone(timezone.utc).replace(microsecond=0))
        if session.updated_at:
            event.add("last-modified", session.updated_at.astimezone(timezone.utc).replace(microsecond=0))
        event.add("dtstart", _local_dt(session.start, tz))
        event.add("dtend", _local_dt(session.end, tz))
        event.add("summary", session.title)
        if session.room:
            event.add("location", session.room)
        description = [part for part in (session.subtitle, session.abstract) if part]
        people = describe_people(session, role_labels)
        if people:
            description.append("\n".join(people))
        if description:
            event.add("description", "\n\n".join(description))
        if session.url and _is_http(session.url):
            event.add("url", session.url)
        if session.track:
            event.add("categories", [session.track])
        calendar.add_component(event)
    return calendar.to_ical()
