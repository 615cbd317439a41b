"""Door check-in rules on plain values (no app, no database)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum_app.checkin import domain

NOW = datetime(2019, 6, 6, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("invalid", "invalid"),
        ("revoked", "revoked"),
        ("cancelled", "cancelled"),
        ("wrong_event", "wrong_event"),
        ("not_confirmed", "not_confirmed"),
    ],
)
def test_decide_refuses_every_badge_that_is_not_valid(status, outcome):
    assert domain.decide(status, already_arrived=True).outcome == outcome
    assert domain.decide(status, already_arrived=False, session_given=True, seat_held=False, force=True) == domain.Decision(outcome)


def test_decide_checks_in_a_first_arrival_and_flags_the_next_as_duplicate():
    assert domain.decide("valid", already_arrived=False) == domain.Decision("checked_in")
    assert domain.decide("valid", already_arrived=True) == domain.Decision("already_checked_in")


def test_decide_at_a_workshop_door_without_a_seat_refuses_unless_forced():
    assert domain.decide("valid", already_arrived=False, session_given=True, seat_held=False).outcome == "not_signed_up"
    assert domain.decide("valid", already_arrived=False, session_given=True, seat_held=True).outcome == "checked_in"
    assert domain.decide("valid", already_arrived=False, session_given=True, seat_held=False, force=True) == domain.Decision(
        "checked_in", forced=True
    )


def test_decide_a_person_let_in_earlier_is_a_duplicate_even_without_a_seat():
    assert domain.decide("valid", already_arrived=True, session_given=True, seat_held=False).outcome == "already_checked_in"


def test_decide_unknown_badge_status_is_a_programming_error():
    with pytest.raises(ValueError):
        domain.decide("bogus", already_arrived=False)


def test_every_outcome_is_in_the_vocabulary():
    assert set(domain.OUTCOMES) == {
        "checked_in", "already_checked_in", "invalid", "revoked", "cancelled", "wrong_event", "not_confirmed", "not_signed_up",
    }
    assert set(domain.COUNTED) | set(domain.REFUSALS) == set(domain.OUTCOMES)


@pytest.mark.parametrize(
    ("offset", "suspect"),
    [
        (timedelta(0), False),
        (timedelta(minutes=9), False),
        (timedelta(minutes=11), True),
        (timedelta(days=400), True),
        (-timedelta(hours=23), False),
        (-timedelta(hours=25), True),
        (-timedelta(days=3000), True),
    ],
)
def test_clock_suspect_beyond_ten_minutes_ahead_or_a_day_behind(offset, suspect):
    assert domain.clock_suspect(NOW + offset, NOW) is suspect
    expected = NOW if suspect else NOW + offset
    assert domain.effective_time(NOW + offset, NOW) == expected


def test_reconcile_earliest_trusted_scan_is_the_arrival():
    a = domain.Scan(1, NOW + timedelta(minutes=5), NOW + timedelta(minutes=6), station="porte 1")
    b = domain.Scan(2, NOW, NOW + timedelta(minutes=30), station="porte 2")  # offline, synced late

    result = domain.reconcile([a, b])

    assert result.arrival == b
    assert result.duplicates == (a,)


def test_reconcile_a_suspect_clock_cannot_move_an_arrival_before_others():
    honest = domain.Scan(1, NOW, NOW, station="porte 1")
    liar = domain.Scan(2, NOW - timedelta(days=30), NOW + timedelta(minutes=1), clock_suspect=True, station="porte 2")

    result = domain.reconcile([liar, honest])

    assert result.arrival == honest
    assert liar.at == NOW + timedelta(minutes=1)


def test_reconcile_ties_go_to_the_scan_heard_first_then_recorded_first():
    a = domain.Scan(7, NOW, NOW + timedelta(seconds=2))
    b = domain.Scan(3, NOW, NOW + timedelta(seconds=1))
    c = domain.Scan(2, NOW, NOW + timedelta(seconds=2))

    assert domain.reconcile([a, b, c]).arrival == b
    assert domain.reconcile([a, c]).arrival == c
    assert domain.reconcile([]) == domain.Reconciled(None, ())


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("abcdefgh", True),
        ("A1_b2-C3" * 8, True),
        ("a" * 65, False),
        ("short", False),
        ("has space1", False),
        ("accentué1", False),
        ("", False),
        (12345678, False),
        (None, False),
    ],
)
def test_valid_client_id(value, ok):
    assert domain.valid_client_id(value) is ok


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-06-06T09:12:00+02:00", datetime(2019, 6, 6, 7, 12, tzinfo=UTC)),
        ("2019-06-06T07:12:00Z", datetime(2019, 6, 6, 7, 12, tzinfo=UTC)),
        ("2019-06-06T09:12:00", None),  # no offset
        ("hier matin", None),
        ("0001-01-01T00:00:00+02:00", None),  # before the calendar once in UTC
        ("", None),
        (1559805120, None),
        ("2019-06-06T09:12:00+02:00" + "0" * 100, None),
    ],
)
def test_parse_scanned_at_needs_iso_8601_with_an_offset(value, expected):
    assert domain.parse_scanned_at(value) == expected
