"""static/js/checkin/badge.js, run in Chromium, gives the same verdict as the server's Python on
the same badge texts (forum_app/badges/domain.py read_badge + badge_status), so an offline station
lets in and turns away exactly whom the server would."""
from __future__ import annotations

import base64
import hashlib
import os

import pytest

from forum_app.badges import domain

EVENT_ID = 7
OTHER_EVENT_ID = 8

# Python's verdict on many texts and the page's, in one round trip.
JUDGE_ALL = """async ({cases, keys, webcrypto}) => {
  const b = await import('/static/js/checkin/badge.js');
  b.useWebCrypto(webcrypto);
  const toMap = (object) => new Map(Object.entries(object).map(([id, key]) => [Number(id), b.base64Decode(key)]));
  const out = [];
  for (const c of cases) {
    try {
      const claims = await b.readBadge(c.text, toMap(keys[c.keys]));
      out.push(b.badgeStatus(claims, c.serial, c.status, c.event_id));
    } catch (error) {
      if (!(error instanceof b.BadgeError)) throw error;
      out.push('invalid:' + error.reason);
    }
  }
  return {verdicts: out, verifier: b.verifierName()};
}"""


def python_verdict(text: str, keys: dict[int, bytes], serial, status, event_id: int) -> str:
    try:
        claims = domain.read_badge(text, keys)
    except domain.BadgeError as error:
        return "invalid:" + error.reason
    return domain.badge_status(claims, serial, status, event_id)


@pytest.fixture(scope="module")
def badges():
    seed, other_seed, forger_seed = domain.new_seed(), domain.new_seed(), domain.new_seed()
    keys = {
        "event": {1: domain.public_key_for(seed)},
        "other": {1: domain.public_key_for(other_seed)},
        "none": {},
    }

    def make(registration_id=42, serial=1, *, event_id=EVENT_ID, key=seed, key_id=1):
        claims = domain.BadgeClaims(event_id=event_id, key_id=key_id, registration_id=registration_id, serial=serial)
        return domain.sign_badge(key, claims)

    return keys, make, forger_seed, other_seed


def run_in_page(page, cases: list[dict], keys: dict[str, dict[int, bytes]], *, webcrypto: bool = True):
    encoded = {name: {str(k): base64.b64encode(v).decode() for k, v in group.items()} for name, group in keys.items()}
    result = page.evaluate(JUDGE_ALL, {"cases": cases, "keys": encoded, "webcrypto": webcrypto})
    expected = [
        python_verdict(c["text"], keys[c["keys"]], c["serial"], c["status"], c["event_id"]) for c in cases
    ]
    return result, expected


def case(text, *, keys="event", serial=1, status="confirmed", event_id=EVENT_ID, label=""):
    return {"text": text, "keys": keys, "serial": serial, "status": status, "event_id": event_id, "label": label}


def named_cases(make, forger_seed, other_seed) -> list[dict]:
    valid = make()
    body = valid[len(domain.PREFIX):]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    # The last character carries 3 unused bits: setting one spells the same bytes another way.
    stray = body[:-1] + alphabet[alphabet.index(body[-1]) | 1]
    version_2 = domain.PREFIX + domain._b32encode(bytes([2]) + base64.b32decode(body + "=" * (-len(body) % 8))[1:])
    return [
        case(valid, label="valid"),
        case("  " + valid + "\n", label="valid, with the scanner's spaces and newline"),
        case(valid.lower(), label="lower case"),
        case("fa:" + body, label="lower-case prefix"),
        case(valid + "=" * 3, label="padded"),
        case(domain.PREFIX + stray, label="stray bits in the last character"),
        case(valid[:-8], label="truncated"),
        case(valid + "AAAAAAAA", label="too long"),
        case(valid + "A" * 200, label="oversized"),
        case("FA:", label="prefix only"),
        case("", label="empty"),
        case("https://example.org/" + valid, label="a URL"),
        case(valid.replace("FA:", "FB:"), label="other prefix"),
        case(version_2, label="unknown version"),
        case(make(key=forger_seed), label="forged with another key"),
        case(make(key_id=2), label="unknown key id"),
        case(make(event_id=OTHER_EVENT_ID, key=other_seed), keys="other", label="genuine badge of another event"),
        case(make(event_id=OTHER_EVENT_ID, key=other_seed), label="another event's badge, this event's keys"),
        case(valid, keys="none", label="no keys"),
        case(make(serial=1), serial=2, label="revoked (older serial)"),
        case(make(serial=3), serial=2, label="serial never issued"),
        case(valid, status="cancelled", label="cancelled"),
        case(make(serial=1), serial=2, status="rejected", label="rejected, old serial"),
        case(valid, status="pending", label="pending"),
        case(valid, serial=None, status=None, label="unknown registration"),
        case(valid, status="something-else", label="unknown status"),
        case(make(registration_id=0xFFFFFFFF, serial=0xFFFF), serial=0xFFFF, label="largest numbers"),
    ]


def test_badge_js_gives_pythons_verdict_on_every_kind_of_badge(page, live_server, badges):
    keys, make, forger_seed, other_seed = badges
    page.goto(f"{live_server.url}/login")
    cases = named_cases(make, forger_seed, other_seed)

    result, expected = run_in_page(page, cases, keys)

    assert result["verifier"] == "webcrypto"  # Debian's Chromium has WebCrypto Ed25519
    for c, got, want in zip(cases, result["verdicts"], expected, strict=True):
        assert got == want, f"{c['label']}: badge.js says {got}, Python says {want}"
    assert expected[0] == "valid" and expected[2].startswith("invalid") and expected[14] == "invalid:bad_signature"


def test_badge_js_refuses_every_one_character_alteration_like_python(page, live_server, badges):
    keys, make, _, _ = badges
    page.goto(f"{live_server.url}/login")
    valid = make(registration_id=1234, serial=3)
    cases = []
    for position in range(len(domain.PREFIX), len(valid)):
        for replacement in ("A", "7", "a"):
            if valid[position] != replacement:
                text = valid[:position] + replacement + valid[position + 1:]
                cases.append(case(text, serial=3, label=f"position {position} -> {replacement}"))

    result, expected = run_in_page(page, cases, keys)

    assert result["verdicts"] == expected
    assert all(verdict.startswith("invalid") for verdict in expected)


def test_badge_js_fallback_library_gives_the_same_verdicts(page, live_server, badges):
    keys, make, forger_seed, other_seed = badges
    page.goto(f"{live_server.url}/login")
    cases = named_cases(make, forger_seed, other_seed)

    result, expected = run_in_page(page, cases, keys, webcrypto=False)

    assert result["verifier"] == "noble"  # static/vendor/noble-ed25519.js, as browsers without WebCrypto Ed25519 use
    assert result["verdicts"] == expected


def test_badge_js_sha512_matches_python(page, live_server):
    page.goto(f"{live_server.url}/login")
    messages = [os.urandom(n) for n in (0, 1, 74, 111, 112, 127, 128, 129, 300)]

    digests = page.evaluate(
        """async (messages) => {
          const b = await import('/static/js/checkin/badge.js');
          return messages.map((m) => Array.from(b.sha512(Uint8Array.from(m))));
        }""",
        [list(m) for m in messages],
    )

    assert [bytes(d) for d in digests] == [hashlib.sha512(m).digest() for m in messages]


def test_badge_js_judges_a_badge_with_the_checkin_kit_like_the_server(page, live_server, badges):
    """judgeBadge: the station's whole local verdict from a kit (keys, roster, revoked, cancelled)."""
    keys, make, forger_seed, other_seed = badges
    page.goto(f"{live_server.url}/login")
    kit = {
        "event": {"id": EVENT_ID},
        "public_keys": [{"key_id": 1, "public_key": base64.b64encode(keys["event"][1]).decode(), "active": True}],
        "roster": [
            {"id": 1, "serial": 1, "status": "confirmed"},
            {"id": 2, "serial": 2, "status": "confirmed"},
            {"id": 3, "serial": 1, "status": "pending"},
            {"id": 4, "serial": 1, "status": "cancelled"},
        ],
        "revoked": [{"registration_id": 2, "serial": 2}],
        "cancelled": [4, 5],
    }
    texts = {
        "valid": make(1),
        "revoked": make(2, 1),
        "current": make(2, 2),
        "future serial": make(2, 3),
        "pending": make(3),
        "cancelled": make(4),
        "erased": make(5),
        "not yet in the kit": make(6),
        "forged": make(1, key=forger_seed),
        "other event": make(1, event_id=OTHER_EVENT_ID, key=other_seed),
        "garbage": "FA:HELLO",
    }

    verdicts = page.evaluate(
        """async ({kit, texts}) => {
          const b = await import('/static/js/checkin/badge.js');
          const out = {};
          for (const [name, text] of Object.entries(texts)) {
            const v = await b.judgeBadge(text, kit);
            out[name] = [v.status, v.entry ? v.entry.id : null, v.inKit];
          }
          return out;
        }""",
        {"kit": kit, "texts": texts},
    )

    assert verdicts == {
        "valid": ["valid", 1, True],
        "revoked": ["revoked", 2, True],
        "current": ["valid", 2, True],
        "future serial": ["invalid", None, True],
        "pending": ["not_confirmed", 3, True],
        "cancelled": ["cancelled", 4, True],
        "erased": ["cancelled", None, True],
        "not yet in the kit": ["valid", None, False],
        "forged": ["invalid", None, True],
        "other event": ["wrong_event", None, True],
        "garbage": ["invalid", None, True],
    }


def test_badge_js_decide_matches_checkin_domain(page, live_server):
    from forum_app.checkin import domain as checkin_domain

    page.goto(f"{live_server.url}/login")
    combos = [
        {"status": status, "alreadyArrived": arrived, "sessionGiven": session, "seatHeld": seat, "force": force}
        for status in ("valid", "invalid", "revoked", "cancelled", "wrong_event", "not_confirmed")
        for arrived in (False, True)
        for session in (False, True)
        for seat in (False, True)
        for force in (False, True)
    ]

    decisions = page.evaluate(
        """async (combos) => {
          const b = await import('/static/js/checkin/badge.js');
          return combos.map((c) => { const d = b.decide(c.status, c); return [d.outcome, d.forced]; });
        }""",
        combos,
    )

    expected = []
    for c in combos:
        d = checkin_domain.decide(
            c["status"], already_arrived=c["alreadyArrived"], session_given=c["sessionGiven"],
            seat_held=c["seatHeld"], force=c["force"],
        )
        expected.append([d.outcome, d.forced])
    assert decisions == expected
