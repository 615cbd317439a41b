"""Rules of rapporteurs' notes on plain values: no Flask, no database.

An item is one thing said in a session: a key point, a quote (attributed to someone), a proposal,
a question from the floor, a key figure, or a photo (its text is the caption). Text is stored as
typed — markup included — and always shown as text. An empty item is refused, a text over
TEXT_MAX characters gets a message (never a silent truncation).

Edits carry the version they started from. An edit of what an item *says* (kind, text,
attribution) made from an older version than the stored one is a conflict: the client gets the
current item and chooses (keep theirs, keep the other, or merge). Flags (highlighted, deleted,
in the report) and the order are not conflicts: the last one wins, as with a checkbox.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

KEY_POINT = "key_point"
QUOTE = "quote"
PROPOSAL = "proposal"
QUESTION = "question"
FIGURE = "figure"
PHOTO = "photo"
KINDS = (KEY_POINT, QUOTE, PROPOSAL, QUESTION, FIGURE, PHOTO)
TEXT_KINDS = (KEY_POINT, QUOTE, PROPOSAL, QUESTION, FIGURE)  # created with a text, not a file

TEXT_MAX = 5000
CAPTION_MAX = 1000
NAME_MAX = 200
JOB_TITLE_MAX = 300
ORGANISATION_MAX = 300
CREDIT_MAX = 200
CLIENT_ID_MIN, CLIENT_ID_MAX = 8, 64

# Photos: stored at most this many pixels on their longest side, as JPEG (or PNG when the
# original has transparency), with no metadata. Files over UPLOAD_MAX_BYTES, and images whose
# pixel count exceeds PIXELS_MAX (decompression bombs), are refused before being decoded.
PHOTO_MAX_SIDE = 1600
UPLOAD_MAX_BYTES = 15 * 1024 * 1024
PIXELS_MAX = 50_000_000
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF", "MPO")

# What a change to an item touches.
CONTENT_FIELDS = ("kind", "text", "attribution")  # versioned: a stale edit is a conflict
FLAG_FIELDS = ("highlighted", "deleted", "in_report", "position")


@dataclass(frozen=True)
class Attribution:
    name: str = ""
    job_title: str = ""
    organisation: str = ""
    person_id: int | None = None  # one of the session's people, or None for someone from the floor

    @property
    def empty(self) -> bool:
        return not self.name

    def line(self, anonymous: str = "Participant·e") -> str:
        """"Name, job title, organisation" as a report prints it; `anonymous` when nobody is named."""
        parts = [p for p in (self.name, self.job_title, self.organisation) if p]
        return ", ".join(parts) if parts else anonymous


@dataclass(frozen=True)
class Problem:
    field: str
    code: str  # empty, too_long, unknown_kind, bad_attribution, bad_client_id, bad_time, bad_version...
    limit: int | None = None


@dataclass
class ItemInput:
    """What a client sends to create or change an item, cleaned: whitespace at both ends removed
    (inside the text, every space and line break is kept)."""

    kind: str | None = None
    text: str | None = None
    attribution: Attribution | None = None
    problems: list[Problem] = field(default_factory=list)


def _clean_str(value: object) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str):
        return None
    return value.strip()


def parse_attribution(raw: object, problems: list[Problem]) -> Attribution | None:
    """{person_id?, name?, job_title?, organisation?} or null (nobody named)."""
    if raw is None:
        return Attribution()
    if not isinstance(raw, Mapping):
        problems.append(Problem("attribution", "bad_attribution"))
        return None
    person_id = raw.get("person_id")
    if person_id is not None and (isinstance(person_id, bool) or not isinstance(person_id, int) or person_id < 1):
        problems.append(Problem("attribution", "bad_attribution"))
        return None
    values = {}
    for key, limit in (("name", NAME_MAX), ("job_title", JOB_TITLE_MAX), ("organisation", ORGANISATION_MAX)):
        value = _clean_str(raw.get(key))
        if value is None:
            problems.append(Problem("attribution", "bad_attribution"))
            return None
        if len(value) > limit:
            problems.append(Problem(f"attribution.{key}", "too_long", limit))
            return None
        values[key] = " ".join(value.split())
    if not values["name"] and (values["job_title"] or values["organisation"]) and person_id is None:
        problems.append(Problem("attribution.name", "empty"))
        return None
    return Attribution(person_id=person_id, **values)


def parse_item(data: Mapping, *, creating: bool) -> ItemInput:
    """Check the kind, text and attribution of a create (all required but attribution) or of an
    edit (each optional). Problems name the field; nothing is truncated."""
    result = ItemInput()
    problems = result.problems
    if creating or "kind" in data:
        kind = data.get("kind")
        if kind not in KINDS:
            problems.append(Problem("kind", "unknown_kind"))
        else:
            result.kind = kind
    if creating or "text" in data:
        text = _clean_str(data.get("text"))
        limit = CAPTION_MAX if result.kind == PHOTO else TEXT_MAX
        if text is None:
            problems.append(Problem("text", "not_text"))
        elif not text and result.kind != PHOTO:
            problems.append(Problem("text", "empty"))
        elif len(text) > limit:
            problems.append(Problem("text", "too_long", limit))
        else:
            result.text = text
    if "attribution" in data:
        result.attribution = parse_attribution(data.get("attribution"), problems)
    elif creating:
        result.attribution = Attribution()
    return result


def is_conflict(base_version: int, current_version: int, changes: Mapping) -> bool:
    """A change of what the item says, started from an older version than the stored one."""
    return base_version != current_version and any(key in changes for key in CONTENT_FIELDS)


def merged_text(first: str, second: str) -> str:
    """The text of two duplicate items merged: the first, then what the second adds."""
    first, second = first.strip(), second.strip()
    if not second or second in first:
        return first
    if not first or first in second:
        return second
    return f"{first}\n\n{second}"


def valid_client_id(value: object) -> bool:
    return (
        isinstance(value, str)
        and CLIENT_ID_MIN <= len(value) <= CLIENT_ID_MAX
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in value)
    )


def photo_size(width: int, height: int, max_side: int = PHOTO_MAX_SIDE) -> tuple[int, int]:
    """The stored size: the longest side at most `max_side`, proportions kept, never enlarged."""
    if width <= 0 or height <= 0:
        raise ValueError("an image has a positive size")
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))
