"""Badge payloads on plain values: signed, compact, QR-alphanumeric; nothing altered, truncated or
forged ever verifies, and no input makes the reader fail with anything but a BadgeError."""
from __future__ import annotations

import base64
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forum_app.badges import domain
from forum_app.badges.domain import (
    BadgeClaims,
    BadgeError,
    BadSignature,
    MalformedBadge,
    UnknownKey,
    UnknownVersion,
)

SEED = bytes(range(32))
OTHER_SEED = bytes(range(100, 132))
PUBLIC = domain.public_key_for(SEED)
KEYS = {1: PUBLIC}
CLAIMS = BadgeClaims(event_id=7, key_id=1, registration_id=123456, serial=2)
TEXT = domain.sign_badge(SEED, CLAIMS)
BODY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

claims_strategy = st.builds(
    BadgeClaims,
    event_id=st.integers(0, 0xFFFF),
    key_id=st.integers(0, 0xFF),
    registration_id=st.integers(0, 0xFFFFFFFF),
    serial=st.integers(0, 0xFFFF),
)


def _encode(data: bytes) -> str:
    return domain.PREFIX + base64.b32encode(data).decode().rstrip("=")


def _raw(text: str) -> bytearray:
    body = text[len(domain.PREFIX):]
    return bytearray(base64.b32decode(body + "=" * (-len(body) % 8)))


# --- Writing and reading ---


def test_badge_reads_back_its_claims():
    assert domain.read_badge(TEXT, KEYS) == CLAIMS


@given(claims_strategy)
def test_badge_round_trips_any_claims(claims):
    seed_keys = {claims.key_id: PUBLIC}

    assert domain.read_badge(domain.sign_badge(SEED, claims), seed_keys) == claims


def test_badge_text_is_short_upper_case_and_qr_alphanumeric():
    assert TEXT.startswith("FA:")
    assert len(TEXT) == domain.TEXT_LENGTH == 122
    assert domain.is_qr_alphanumeric(TEXT)
    assert TEXT == TEXT.upper() and "=" not in TEXT


def test_badge_carries_no_personal_data_only_numbers():
    payload = _raw(TEXT)[: domain.PAYLOAD_SIZE]

    assert struct.unpack(">BHBIH", payload) == (1, 7, 1, 123456, 2)


def test_badge_signed_by_same_key_twice_is_identical():
    assert domain.sign_badge(SEED, CLAIMS) == TEXT  # Ed25519 is deterministic: reprints match


def test_peek_reads_claims_without_keys():
    assert domain.peek_badge(TEXT) == CLAIMS


def test_surrounding_whitespace_from_a_scanner_is_ignored():
    assert domain.read_badge(f"  {TEXT}\r\n", KEYS) == CLAIMS


@pytest.mark.parametrize(
    "bad",
    [
        {"event_id": -1},
        {"event_id": 0x10000},
        {"key_id": 256},
        {"registration_id": 2**32},
        {"serial": 0x10000},
        {"serial": True},
        {"serial": "2"},
    ],
)
def test_claims_out_of_range_are_refused_before_signing(bad):
    values = {"event_id": 1, "key_id": 1, "registration_id": 1, "serial": 1} | bad

    with pytest.raises(ValueError):
        BadgeClaims(**values)


# --- Refusals, each with its precise reason ---


def test_unknown_key_id_is_refused():
    with pytest.raises(UnknownKey):
        domain.read_badge(TEXT, {2: PUBLIC})


def test_badge_signed_with_another_key_is_refused():
    forged = domain.sign_badge(OTHER_SEED, CLAIMS)

    with pytest.raises(BadSignature):
        domain.read_badge(forged, KEYS)


def test_unknown_version_is_refused():
    data = _raw(TEXT)
    data[0] = 2

    with pytest.raises(UnknownVersion):
        domain.read_badge(_encode(bytes(data)), KEYS)


def test_lower_case_spelling_is_refused():
    with pytest.raises(MalformedBadge):
        domain.read_badge(TEXT.lower(), KEYS)
    with pytest.raises(MalformedBadge):
        domain.read_badge("fa:" + TEXT[3:], KEYS)


def test_padded_spelling_is_refused():
    with pytest.raises(MalformedBadge):
        domain.read_badge(TEXT + "=====", KEYS)


def test_stray_bits_in_the_last_character_are_refused():
    # 74 bytes take 119 characters: the last one carries 3 unused bits, which must be zero.
    last = TEXT[-1]
    value = BODY_ALPHABET.index(last)
    sibling = BODY_ALPHABET[value | 1] if value & 1 == 0 else BODY_ALPHABET[value & ~1]
    assert _raw(TEXT[:-1] + sibling) == _raw(TEXT)  # same bytes, another spelling

    with pytest.raises(MalformedBadge):
        domain.read_badge(TEXT[:-1] + sibling, KEYS)


def test_oversized_text_is_refused_without_decoding():
    with pytest.raises(MalformedBadge):
        domain.read_badge(TEXT + "A" * 10_000, KEYS)


@pytest.mark.parametrize("text", ["", "FA:", "FA:A", "FA:AE", "hello", "FA:" + "A" * 9, "https://example.org/", "\x00\x01"])
def test_odd_texts_are_malformed(text):
    with pytest.raises(MalformedBadge):
        domain.read_badge(text, KEYS)


def test_non_text_is_a_badge_error():
    with pytest.raises(BadgeError):
        domain.read_badge(None, KEYS)  # type: ignore[arg-type]
    with pytest.raises(BadgeError):
        domain.read_badge(TEXT.encode(), KEYS)  # type: ignore[arg-type]


def test_broken_public_key_in_the_mapping_is_an_unknown_key():
    with pytest.raises(UnknownKey):
        domain.read_badge(TEXT, {1: b"short"})


# --- Properties: nothing but the exact signed text verifies ---


@given(position=st.integers(0, domain.TEXT_LENGTH - 1), replacement=st.characters())
def test_any_altered_character_never_verifies(position, replacement):
    if TEXT[position] == replacement:
        replacement = "B" if TEXT[position] != "B" else "C"
    altered = TEXT[:position] + replacement + TEXT[position + 1:]

    with pytest.raises(BadgeError):
        domain.read_badge(altered, KEYS)


@given(position=st.integers(0, domain.PAYLOAD_SIZE + domain.SIGNATURE_SIZE - 1), flip=st.integers(1, 255))
def test_any_altered_byte_never_verifies(position, flip):
    data = _raw(TEXT)
    data[position] ^= flip

    with pytest.raises(BadgeError):
        domain.read_badge(_encode(bytes(data)), KEYS)


@given(length=st.integers(0, domain.TEXT_LENGTH - 1))
def test_any_truncation_never_verifies(length):
    with pytest.raises(BadgeError):
        domain.read_badge(TEXT[:length], KEYS)


@given(extra=st.text(alphabet=BODY_ALPHABET, min_size=1, max_size=20))
def test_anything_appended_never_verifies(extra):
    with pytest.raises(BadgeError):
        domain.read_badge(TEXT + extra, KEYS)


@given(claims=claims_strategy, signature=st.binary(min_size=64, max_size=64))
def test_forged_signature_never_verifies(claims, signature):
    forged = _encode(domain.pack(claims) + signature)

    with pytest.raises(BadgeError):
        domain.read_badge(forged, {claims.key_id: PUBLIC})


@given(claims=claims_strategy)
def test_claims_signed_with_a_stranger_key_never_verify(claims):
    forged = domain.sign_badge(OTHER_SEED, claims)

    with pytest.raises(BadSignature):
        domain.read_badge(forged, {claims.key_id: PUBLIC})


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_random_strings_never_crash(text):
    with pytest.raises(BadgeError):
        domain.read_badge(text, KEYS)


@settings(max_examples=300)
@given(st.text(alphabet=BODY_ALPHABET + "=:a1 ", max_size=140).map(lambda body: "FA:" + body))
def test_random_badge_lookalikes_never_crash(text):
    with pytest.raises(BadgeError):
        domain.read_badge(text, KEYS)


@given(st.binary(max_size=120))
def test_random_bytes_encoded_like_badges_never_crash(data):
    with pytest.raises(BadgeError):
        domain.read_badge(_encode(data), KEYS)


# --- What a genuine badge means at the door ---


@pytest.mark.parametrize(
    ("serial", "current", "status", "event_id", "outcome"),
    [
        (2, 2, "confirmed", 7, "valid"),
        (2, 2, "pending", 7, "not_confirmed"),
        (2, 2, "cancelled", 7, "cancelled"),
        (2, 2, "rejected", 7, "cancelled"),
        (1, 2, "confirmed", 7, "revoked"),
        (1, 2, "pending", 7, "revoked"),
        (1, 2, "cancelled", 7, "cancelled"),
        (3, 2, "confirmed", 7, "invalid"),
        (2, None, None, 7, "invalid"),
        (2, 2, "confirmed", 8, "wrong_event"),
        (2, 2, "something-else", 7, "invalid"),
    ],
)
def test_badge_status_at_the_door(serial, current, status, event_id, outcome):
    claims = BadgeClaims(event_id=7, key_id=1, registration_id=1, serial=serial)

    assert domain.badge_status(claims, current, status, event_id) == outcome
    assert outcome in domain.OUTCOMES


# --- Print selections ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, domain.Selection("all")),
        ("", domain.Selection("all")),
        ("all", domain.Selection("all")),
        ("unprinted", domain.Selection("unprinted")),
        ("delegation:12", domain.Selection("delegation", delegation_id=12)),
        ("ids:3,1,3, 2", domain.Selection("ids", ids=(3, 1, 2))),
    ],
)
def test_selection_is_parsed(raw, expected):
    assert domain.parse_selection(raw) == expected


@pytest.mark.parametrize("raw", ["everyone", "delegation:", "delegation:x", "ids:", "ids:1,a", "ids:-1", "delegation:١٢", "ids:" + ",".join(["1"] * 2001)])
def test_unknown_selection_is_refused(raw):
    with pytest.raises(ValueError):
        domain.parse_selection(raw)


# --- Fitting names ---


def test_short_name_gets_the_largest_size_on_one_line():
    assert domain.fit_font_size(2.0, 50, max_pt=22, min_pt=9, max_lines=2) == (22, 1)


def test_longer_name_shrinks_then_wraps_then_stops_at_the_minimum():
    one_line, lines = domain.fit_font_size(8.0, 50, max_pt=22, min_pt=9, max_lines=2, wrap_below_pt=13)
    assert lines == 1 and 13 <= one_line < 22

    wrapped, lines = domain.fit_font_size(14.0, 50, max_pt=22, min_pt=9, max_lines=2, wrap_below_pt=13)
    assert lines == 2 and 9 <= wrapped < 22

    assert domain.fit_font_size(200.0, 50, max_pt=22, min_pt=9, max_lines=2) == (9, 2)


def test_category_colours_cover_every_category_with_distinct_colours():
    from forum_app.registration.models import CATEGORIES

    assert set(domain.CATEGORY_COLOURS) == set(CATEGORIES)
    assert len({band for band, _ink in domain.CATEGORY_COLOURS.values()}) == len(CATEGORIES)
    assert domain.category_colours("nonsense") == domain.CATEGORY_COLOURS["autre"]


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


@pytest.mark.parametrize("category", sorted(domain.CATEGORY_COLOURS))
def test_category_label_contrasts_with_its_band(category):
    band, ink = domain.category_colours(category)
    lighter, darker = sorted((_luminance(band), _luminance(ink)), reverse=True)

    assert (lighter + 0.05) / (darker + 0.05) >= 4.5


@pytest.mark.parametrize(
    ("status", "outcome"),
    [("confirmed", "valid"), ("pending", "not_confirmed"), ("cancelled", "cancelled"), ("rejected", "cancelled"),
     (None, "invalid"), ("unheard-of", "invalid")],
)
def test_holder_status_matches_what_their_current_badge_would_say(status, outcome):
    assert domain.holder_status(status) == outcome
