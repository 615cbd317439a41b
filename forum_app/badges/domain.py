"""Badge payloads: pack, sign, encode, read and judge them. Pure: no Flask, no database.

The QR code of a badge holds no personal data, only numbers signed with the event's Ed25519 key:

    text    = "FA:" + BASE32(payload + signature)         RFC 4648 alphabet, upper case, no padding
    payload = struct ">BHBIH"                             10 bytes, big-endian:
              version (1), event id, key id, registration id, badge serial
    signature = Ed25519(private key, payload)             64 bytes

Every character of the text is in the QR alphanumeric set (0-9 A-Z space $ % * + - . / :), so the
code uses alphanumeric mode: 122 characters fit a version 5 QR code (37 x 37 modules) at error
correction level M. The text is canonical: lower case, padding, stray bits in the last character
or any other spelling of the same bytes is refused, so a text verifies only exactly as printed.

A station verifies a badge offline with the event's public keys (key id -> 32 raw bytes); what
the badge then means at the door (valid, revoked, cancelled...) needs the registration's current
serial and status: `badge_status` decides it from plain values.
"""
from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

PREFIX = "FA:"
VERSION = 1
_LAYOUT = struct.Struct(">BHBIH")  # version, event id, key id, registration id, serial
PAYLOAD_SIZE = _LAYOUT.size  # 10
SIGNATURE_SIZE = 64
SEED_SIZE = 32
PUBLIC_KEY_SIZE = 32
# Length of a version 1 badge text: prefix + base32 of 74 bytes (119 characters).
TEXT_LENGTH = len(PREFIX) + -(-(PAYLOAD_SIZE + SIGNATURE_SIZE) * 8 // 5)
MAX_TEXT_LENGTH = 256  # anything longer is refused before decoding (oversized scans)

LIMITS = {"event_id": 0xFFFF, "key_id": 0xFF, "registration_id": 0xFFFFFFFF, "serial": 0xFFFF}
QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")
_BASE32_BODY = re.compile(r"[A-Z2-7]+")

# Outcome codes at the door (issue 4's vocabulary).
VALID = "valid"
INVALID = "invalid"
REVOKED = "revoked"
CANCELLED = "cancelled"
WRONG_EVENT = "wrong_event"
NOT_CONFIRMED = "not_confirmed"
OUTCOMES = (VALID, INVALID, REVOKED, CANCELLED, WRONG_EVENT, NOT_CONFIRMED)


@dataclass(frozen=True)
class BadgeClaims:
    """What a badge says: which event, which key signed it, whose badge, which issue of it."""

    event_id: int
    key_id: int
    registration_id: int
    serial: int
    version: int = VERSION

    def __post_init__(self) -> None:
        for name, limit in LIMITS.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
                raise ValueError(f"{name} must be an integer from 0 to {limit}, not {value!r}")
        if self.version != VERSION:
            raise ValueError(f"only version {VERSION} badges can be made")


class BadgeError(Exception):
    """The text is not a badge this forum can trust. `reason` names why, for logs and tests;
    at the door every BadgeError is the outcome "invalid"."""

    reason = "invalid"
    outcome = INVALID


class MalformedBadge(BadgeError):
    """Not a badge text at all: wrong prefix or alphabet, truncated, padded, too long."""

    reason = "malformed"


class UnknownVersion(BadgeError):
    """Well formed, but a payload version this code does not read."""

    reason = "unknown_version"


class UnknownKey(BadgeError):
    """Signed with a key id the verifier does not have (another event, or a forged id)."""

    reason = "unknown_key"


class BadSignature(BadgeError):
    """The signature does not match the payload: altered or forged."""

    reason = "bad_signature"


# --- Keys ---


def new_seed() -> bytes:
    """A fresh raw 32-byte Ed25519 private key (seed)."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def public_key_for(private_seed: bytes) -> bytes:
    """The raw 32-byte public key of a raw private seed."""
    return Ed25519PrivateKey.from_private_bytes(private_seed).public_key().public_bytes_raw()


# --- Writing ---


def pack(claims: BadgeClaims) -> bytes:
    return _LAYOUT.pack(claims.version, claims.event_id, claims.key_id, claims.registration_id, claims.serial)


def sign_badge(private_seed: bytes | Ed25519PrivateKey, claims: BadgeClaims) -> str:
    """The badge text for `claims`, signed with the event key `private_seed` (raw 32 bytes, or a
    loaded key when signing many badges)."""
    key = private_seed if isinstance(private_seed, Ed25519PrivateKey) else Ed25519PrivateKey.from_private_bytes(private_seed)
    payload = pack(claims)
    return PREFIX + _b32encode(payload + key.sign(payload))


def _b32encode(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").rstrip("=")


# --- Reading ---


def peek_badge(text: str) -> BadgeClaims:
    """The claims of a well-formed badge WITHOUT checking its signature: only to choose the keys
    to verify with (e.g. the event named in it). Raises MalformedBadge or UnknownVersion."""
    return _decode(text)[0]


def read_badge(text: str, public_keys: Mapping[int, bytes]) -> BadgeClaims:
    """The claims of a badge whose signature verifies with one of `public_keys` (key id -> raw
    32-byte public key). Raises MalformedBadge, UnknownVersion, UnknownKey or BadSignature; never
    anything else, whatever the text."""
    claims, payload, signature = _decode(text)
    raw_key = public_keys.get(claims.key_id)
    if raw_key is None:
        raise UnknownKey(f"no public key {claims.key_id}")
    try:
        Ed25519PublicKey.from_public_bytes(bytes(raw_key)).verify(signature, payload)
    except InvalidSignature:
        raise BadSignature("the signature does not match") from None
    except (ValueError, TypeError):  # a broken key in the mapping: nothing can verify with it
        raise UnknownKey(f"public key {claims.key_id} is not a 32-byte Ed25519 key") from None
    return claims


def _decode(text: object) -> tuple[BadgeClaims, bytes, bytes]:
    if not isinstance(text, str):
        raise MalformedBadge("a badge is text")
    text = text.strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise MalformedBadge("too long")
    if not text.startswith(PREFIX):
        raise MalformedBadge("not a badge of this forum")
    body = text[len(PREFIX):]
    if not _BASE32_BODY.fullmatch(body) or len(body) % 8 in (1, 3, 6):
        raise MalformedBadge("not base32 (upper case, no padding)")
    try:
        data = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):  # pragma: no cover - the checks above leave nothing to fail
        raise MalformedBadge("not base32") from None
    if _b32encode(data) != body:  # stray bits in the last character: another spelling of the bytes
        raise MalformedBadge("not the canonical spelling")
    if not data:
        raise MalformedBadge("empty")
    if data[0] != VERSION:
        raise UnknownVersion(f"payload version {data[0]}")
    if len(data) != PAYLOAD_SIZE + SIGNATURE_SIZE:
        raise MalformedBadge("truncated" if len(data) < PAYLOAD_SIZE + SIGNATURE_SIZE else "too long")
    payload, signature = data[:PAYLOAD_SIZE], data[PAYLOAD_SIZE:]
    version, event_id, key_id, registration_id, serial = _LAYOUT.unpack(payload)
    claims = BadgeClaims(event_id=event_id, key_id=key_id, registration_id=registration_id, serial=serial, version=version)
    return claims, payload, signature


# --- Judging ---


def badge_status(
    claims: BadgeClaims,
    current_serial: int | None,
    registration_status: str | None,
    event_id: int,
) -> str:
    """What a verified badge means at the door of event `event_id`.

    `current_serial` and `registration_status` describe the registration the badge names (None:
    no such registration any more). Order of the checks: another event; unknown registration;
    cancelled or rejected (whatever the serial: the person is not expected); an older serial
    (reissued: revoked); a serial never issued (invalid); pending (not confirmed); else valid.
    """
    if claims.event_id != event_id:
        return WRONG_EVENT
    if current_serial is None or registration_status is None:
        return INVALID
    if registration_status in ("cancelled", "rejected"):
        return CANCELLED
    if claims.serial < current_serial:
        return REVOKED
    if claims.serial > current_serial:
        return INVALID
    if registration_status == "pending":
        return NOT_CONFIRMED
    if registration_status == "confirmed":
        return VALID
    return INVALID


def holder_status(registration_status: str | None) -> str:
    """What a person found by name at the desk (no badge shown) means at the door: what their
    current badge would say. None: no such registration."""
    if registration_status is None:
        return INVALID
    if registration_status in ("cancelled", "rejected"):
        return CANCELLED
    if registration_status == "pending":
        return NOT_CONFIRMED
    if registration_status == "confirmed":
        return VALID
    return INVALID


def is_qr_alphanumeric(text: str) -> bool:
    return all(ch in QR_ALPHANUMERIC for ch in text)


# --- Category colours on badges ---

# Okabe & Ito's palette (distinguishable with every common colour-vision deficiency), one colour
# per category, each with the text colour that contrasts with it (WCAG AA for large text or better).
CATEGORY_COLOURS: dict[str, tuple[str, str]] = {
    "collectivite": ("#0072B2", "#FFFFFF"),  # blue
    "elu": ("#D55E00", "#000000"),  # vermillion
    "etat": ("#000000", "#FFFFFF"),  # black
    "association": ("#009E73", "#000000"),  # bluish green
    "entreprise": ("#E69F00", "#000000"),  # orange
    "centre_ressources": ("#56B4E9", "#000000"),  # sky blue
    "habitant": ("#F0E442", "#000000"),  # yellow
    "autre": ("#CC79A7", "#000000"),  # reddish purple
}


def category_colours(category: str) -> tuple[str, str]:
    """(band colour, text colour) of a category; an unknown category is shown as "autre"."""
    return CATEGORY_COLOURS.get(category, CATEGORY_COLOURS["autre"])


# --- Which badges to print ---

MAX_SELECTED_IDS = 2000


@dataclass(frozen=True)
class Selection:
    """Badges to print: "all", "unprinted", "delegation" (with `delegation_id`) or "ids"."""

    kind: str = "all"
    delegation_id: int | None = None
    ids: tuple[int, ...] = ()

    def key(self) -> str:
        if self.kind == "delegation":
            return f"delegation:{self.delegation_id}"
        if self.kind == "ids":
            return "ids:" + ",".join(map(str, self.ids))
        return self.kind


def parse_selection(raw: str | None) -> Selection:
    """'all' (also when empty), 'unprinted', 'delegation:<id>', 'ids:1,2,3' -> a Selection.
    Raises ValueError for anything else (the caller words the message)."""
    text = (raw or "").strip()
    if text in ("", "all"):
        return Selection("all")
    if text == "unprinted":
        return Selection("unprinted")
    kind, sep, rest = text.partition(":")
    if sep and kind == "delegation" and rest.isascii() and rest.isdigit() and len(rest) <= 9:
        return Selection("delegation", delegation_id=int(rest))
    if sep and kind == "ids":
        parts = [part.strip() for part in rest.split(",") if part.strip()]
        if parts and len(parts) <= MAX_SELECTED_IDS and all(p.isascii() and p.isdigit() and len(p) <= 9 for p in parts):
            return Selection("ids", ids=tuple(dict.fromkeys(int(p) for p in parts)))
    raise ValueError(f"unknown selection {text[:40]!r}")


# --- Fitting text on a badge ---


def fit_font_size(
    width_em: float,
    box_mm: float,
    *,
    max_pt: float,
    min_pt: float,
    max_lines: int = 1,
    wrap_below_pt: float | None = None,
    step: float = 0.5,
) -> tuple[float, int]:
    """Font size and line count for a text `width_em` wide (its width at a font size of 1) in a
    box `box_mm` wide: the largest size (a multiple of `step`, at most `max_pt`) at which it fits
    one line, as long as that is at least `wrap_below_pt` (default `min_pt`); otherwise it wraps
    onto more lines, up to `max_lines`, at the largest size that fits them. (min_pt, max_lines)
    when even that is too long: the layout then wraps anywhere and clips what is left.
    Wrapping wastes some room, so lines beyond the first count 85 %."""
    box_pt = box_mm * 72 / 25.4
    floor = min_pt if wrap_below_pt is None else max(min_pt, wrap_below_pt)
    if width_em <= 0:
        return max_pt, 1
    for lines in range(1, max_lines + 1):
        usable = box_pt * (1 + 0.85 * (lines - 1))
        size = int(min(max_pt, usable / width_em) / step) * step
        if size >= (floor if lines < max_lines else min_pt):
            return size, lines
    return min_pt, max_lines
