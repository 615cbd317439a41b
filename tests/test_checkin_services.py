"""Door check-in use cases against the demo forum (in-memory SQLite)."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from forum_app.badges import services as badges
from forum_app.checkin import services
from forum_app.checkin.models import CheckIn
from forum_app.errors import Conflict, Forbidden, InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.programme.models import Event
from forum_app.registration import services as registration
from forum_app.registration.services import RegistrationInput
from tests.people import register_person

_ids = iter(range(10**6))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _scan(event, badge, *, client_id=None, station="porte 1", scanned_at=None, session=None, user=None, force=False):
    return services.check_in(
        event, badge=badge, client_id=client_id or f"client-{next(_ids):08d}", station=station,
        scanned_at=scanned_at or _now_iso(), session_code=session, user=user, force=force,
    )


def _rows(**filters) -> list[CheckIn]:
    return list(db.session.scalars(db.select(CheckIn).filter_by(**filters).order_by(CheckIn.id)))


# --- every outcome ---


def test_valid_badge_checks_in_with_the_attendee_and_their_workshops(demo_event):
    person = register_person(demo_event, 1, workshop_codes=["A1", "A5"], job_title="Chargée de mission")

    recorded = _scan(demo_event, badges.badge_payload(person), station="porte 2")

    answer = recorded.answer
    assert recorded.created is True
    assert answer["outcome"] == "checked_in"
    assert answer["attendee"]["name"] == "Prénom1 Nom1"
    assert answer["attendee"]["organisation"] == "Ville de Roubaix"
    assert answer["attendee"]["category"] == "collectivite"
    assert answer["attendee"]["category_label"] == "Collectivité"
    assert [(w["code"], w["seat"]) for w in answer["attendee"]["workshops"]] == [("A1", "confirmed"), ("A5", "confirmed")]
    assert answer["first_checked_in_at"] is not None and answer["first_station"] == "porte 2"
    (row,) = _rows()
    assert (row.registration_id, row.outcome, row.station, row.session_id) == (person.id, "checked_in", "porte 2", None)
    assert {**json.loads(row.answer), "checkin_id": row.id} == answer


def test_second_scan_is_already_checked_in_and_names_the_first_arrival(demo_event):
    person = register_person(demo_event, 1)
    text = badges.badge_payload(person)
    first = _scan(demo_event, text, station="porte 2").answer

    second = _scan(demo_event, text, station="porte 5").answer

    assert second["outcome"] == "already_checked_in"
    assert second["first_checked_in_at"] == first["first_checked_in_at"]
    assert second["first_station"] == "porte 2"
    assert [r.outcome for r in _rows(registration_id=person.id)] == ["checked_in", "already_checked_in"]


@pytest.mark.parametrize("garbage", ["hello", "FA:AAAA", "FA:" + "A" * 119, "x" * 512, "🙂", "FA:" + "7" * 300])
def test_garbage_is_invalid_and_recorded_with_nobody(demo_event, garbage):
    answer = _scan(demo_event, garbage).answer

    assert answer["outcome"] == "invalid"
    assert answer["attendee"] is None
    (row,) = _rows()
    assert (row.outcome, row.registration_id) == ("invalid", None)


def test_truncated_or_altered_badge_is_invalid(demo_event):
    text = badges.badge_payload(register_person(demo_event, 1))
    altered = text[:-2] + ("A" if text[-2] != "A" else "B") + text[-1]

    assert _scan(demo_event, text[:-10]).answer["outcome"] == "invalid"
    assert _scan(demo_event, altered).answer["outcome"] == "invalid"
    assert [r.registration_id for r in _rows()] == [None, None]


def test_reissued_badge_old_one_is_revoked(demo_event):
    person = register_person(demo_event, 1)
    old = badges.badge_payload(person)
    badges.reissue(person)

    answer = _scan(demo_event, old).answer

    assert answer["outcome"] == "revoked"
    assert answer["attendee"]["name"] == "Prénom1 Nom1"
    assert _scan(demo_event, badges.badge_payload(person)).answer["outcome"] == "checked_in"


def test_cancelled_registration_is_refused(demo_event):
    person = register_person(demo_event, 1)
    text = badges.badge_payload(person)
    registration.cancel(person)

    answer = _scan(demo_event, text).answer

    assert answer["outcome"] == "cancelled"
    assert _rows()[0].registration_id == person.id


def test_pending_registration_is_not_confirmed(demo_event):
    demo_event.approval_required = True
    db.session.commit()
    person = register_person(demo_event, 1)
    assert person.status == "pending"

    answer = _scan(demo_event, badges.badge_payload(person)).answer

    assert answer["outcome"] == "not_confirmed"
    assert answer["first_checked_in_at"] is None


def _other_event():
    other = Event(slug="autre-forum", title="Autre forum", start_date=date(2019, 6, 6), end_date=date(2019, 6, 6))
    db.session.add(other)
    db.session.commit()
    return other


def test_badge_of_another_event_is_wrong_event(demo_event):
    other = _other_event()
    stranger = registration.register(
        other, RegistrationInput(first_name="Autre", last_name="Personne", email="autre@example.org", consent=True), source="desk"
    ).registration

    answer = _scan(demo_event, badges.badge_payload(stranger)).answer

    assert answer["outcome"] == "wrong_event"
    assert answer["attendee"] is None
    assert _rows()[0].registration_id is None


# --- workshop doors ---


def test_workshop_door_with_a_seat_records_attendance_of_that_session(demo_event):
    person = register_person(demo_event, 1, workshop_codes=["A1"])
    text = badges.badge_payload(person)
    _scan(demo_event, text)  # the entrance first: a separate door

    first = _scan(demo_event, text, session="A1").answer
    again = _scan(demo_event, text, session="A1").answer

    assert (first["outcome"], first["session"]) == ("checked_in", "A1")
    assert again["outcome"] == "already_checked_in"
    a1 = next(s for s in demo_event.sessions if s.code == "A1")
    assert [r.outcome for r in _rows(session_id=a1.id)] == ["checked_in", "already_checked_in"]


def test_workshop_door_without_a_seat_is_not_signed_up_and_still_recorded(demo_event):
    person = register_person(demo_event, 1, workshop_codes=["A2"])

    answer = _scan(demo_event, badges.badge_payload(person), session="A1").answer

    assert answer["outcome"] == "not_signed_up"
    assert answer["attendee"]["name"] == "Prénom1 Nom1"
    assert [(r.outcome, r.registration_id) for r in _rows()] == [("not_signed_up", person.id)]


def test_waitlisted_person_has_no_seat_at_the_door(demo_event):
    a1 = next(s for s in demo_event.sessions if s.code == "A1")
    a1.capacity = 1
    db.session.commit()
    register_person(demo_event, 1, workshop_codes=["A1"])
    waiting = register_person(demo_event, 2, workshop_codes=["A1"])

    assert _scan(demo_event, badges.badge_payload(waiting), session="A1").answer["outcome"] == "not_signed_up"


def test_organiser_can_force_a_person_without_a_seat_in(demo_event, make_user):
    organiser = make_user("organiser", demo_event)
    text = badges.badge_payload(register_person(demo_event, 1))

    answer = _scan(demo_event, text, session="A1", user=organiser, force=True).answer

    assert (answer["outcome"], answer["forced"]) == ("checked_in", True)
    assert _scan(demo_event, text, session="A1").answer["outcome"] == "already_checked_in"


def test_volunteer_cannot_force(demo_event, make_user):
    volunteer = make_user("volunteer", demo_event)
    text = badges.badge_payload(register_person(demo_event, 1))

    with pytest.raises(Forbidden):
        _scan(demo_event, text, session="A1", user=volunteer, force=True)
    assert _rows() == []


def test_session_without_sign_up_needs_no_seat(demo_event):
    text = badges.badge_payload(register_person(demo_event, 1))

    assert _scan(demo_event, text, session="S103").answer["outcome"] == "checked_in"


def test_unknown_session_code_is_refused_with_its_field(demo_event):
    text = badges.badge_payload(register_person(demo_event, 1))

    with pytest.raises(InvalidInput) as refused:
        _scan(demo_event, text, session="Z9")
    assert refused.value.field == "session"
    assert _rows() == []


# --- replays ---


def test_replayed_client_id_returns_the_original_answer_and_records_nothing(demo_event):
    text = badges.badge_payload(register_person(demo_event, 1))
    first = _scan(demo_event, text, client_id="station1-0001")

    again = _scan(demo_event, text, client_id="station1-0001")

    assert again.created is False
    assert again.answer == first.answer
    assert len(_rows()) == 1


def test_replay_after_an_undo_or_a_reissue_still_returns_the_original_answer(demo_event, make_user):
    organiser = make_user("organiser", demo_event)
    person = register_person(demo_event, 1)
    text = badges.badge_payload(person)
    first = _scan(demo_event, text, client_id="station1-0001").answer
    services.undo_check_in(demo_event, first["checkin_id"], organiser)
    badges.reissue(person)

    again = _scan(demo_event, text, client_id="station1-0001")

    assert again.answer == first
    assert again.answer["outcome"] == "checked_in"
    assert _scan(demo_event, text).answer["outcome"] == "revoked"  # a new scan sees the change


def test_replay_of_a_refused_scan_is_the_same_refusal(demo_event):
    first = _scan(demo_event, "n'importe quoi", client_id="abcdefgh")

    assert _scan(demo_event, "autre chose", client_id="abcdefgh").answer == first.answer
    assert len(_rows()) == 1


def test_same_client_id_at_another_event_is_another_scan(demo_event):
    other = _other_event()
    _scan(demo_event, "bonjour", client_id="abcdefgh")

    assert _scan(other, "bonjour", client_id="abcdefgh").created is True


# --- bad input ---


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"client_id": "court"}, "client_id"),
        ({"client_id": "a" * 65}, "client_id"),
        ({"client_id": "avec espace"}, "client_id"),
        ({"client_id": None}, "client_id"),
        ({"client_id": 123456789}, "client_id"),
        ({"station": "s" * 101}, "station"),
        ({"station": ["porte"]}, "station"),
        ({"badge": ""}, "badge"),
        ({"badge": None}, "badge"),
        ({"badge": {"a": 1}}, "badge"),
        ({"badge": "A" * 513}, "badge"),
        ({"scanned_at": "2019-06-06T09:12:00"}, "scanned_at"),
        ({"scanned_at": "demain"}, "scanned_at"),
        ({"scanned_at": None}, "scanned_at"),
        ({"scanned_at": 1559805120}, "scanned_at"),
    ],
)
def test_bad_input_names_the_field_and_records_nothing(demo_event, changes, field):
    values = {"badge": "FA:XYZ", "client_id": "client-0001", "station": "porte 1", "scanned_at": _now_iso()}
    values.update(changes)

    with pytest.raises(InvalidInput) as refused:
        services.check_in(demo_event, **values)

    assert refused.value.field == field
    assert refused.value.message
    assert _rows() == []


# --- clocks ---


@pytest.mark.parametrize("offset", [timedelta(days=365), timedelta(hours=1), -timedelta(days=2), -timedelta(days=3650)])
def test_scanned_at_far_from_the_server_clock_is_accepted_and_flagged(demo_event, offset):
    text = badges.badge_payload(register_person(demo_event, 1))

    answer = _scan(demo_event, text, scanned_at=(datetime.now(UTC) + offset).isoformat()).answer

    assert answer["outcome"] == "checked_in"
    assert answer["clock_suspect"] is True
    assert answer["first_checked_in_at"] == answer["received_at"]  # the server's time, not the station's
    assert _rows()[0].clock_suspect is True


def test_scanned_at_close_to_the_server_clock_is_trusted(demo_event):
    text = badges.badge_payload(register_person(demo_event, 1))
    scanned = datetime.now(UTC) - timedelta(hours=2)  # an offline queue syncing late

    answer = _scan(demo_event, text, scanned_at=scanned.isoformat()).answer

    assert answer["clock_suspect"] is False
    assert answer["first_checked_in_at"] == scanned.isoformat()


def test_arrival_is_the_earliest_trusted_scan_of_several_stations(app, demo_event):
    person = register_person(demo_event, 1)
    text = badges.badge_payload(person)
    app.config["FORUM_NOW"] = "2019-06-06T09:40:00+02:00"
    _scan(demo_event, text, station="porte 1", scanned_at="2019-06-06T09:39:00+02:00")  # online
    app.config["FORUM_NOW"] = "2019-06-06T09:50:00+02:00"

    late = _scan(demo_event, text, station="porte 2", scanned_at="2019-06-06T09:12:00+02:00").answer  # offline queue

    assert late["outcome"] == "already_checked_in"  # one checked_in per person
    assert late["first_station"] == "porte 2"
    assert late["first_checked_in_at"] == "2019-06-06T07:12:00+00:00"
    arrival = services.arrivals(demo_event)[person.id]
    assert (arrival.station, arrival.at.isoformat()) == ("porte 2", "2019-06-06T07:12:00+00:00")


def test_a_suspect_clock_never_reorders_arrivals(app, demo_event):
    person = register_person(demo_event, 1)
    text = badges.badge_payload(person)
    app.config["FORUM_NOW"] = "2019-06-06T09:40:00+02:00"
    _scan(demo_event, text, station="porte 1", scanned_at="2019-06-06T09:39:00+02:00")
    app.config["FORUM_NOW"] = "2019-06-06T09:50:00+02:00"

    liar = _scan(demo_event, text, station="porte 2", scanned_at="2019-06-01T09:00:00+02:00").answer

    assert liar["clock_suspect"] is True
    assert liar["first_station"] == "porte 1"
    assert services.arrivals(demo_event)[person.id].station == "porte 1"


# --- undo ---


def test_undo_keeps_the_audit_trail_and_the_next_scan_checks_in_again(demo_event, make_user):
    organiser = make_user("organiser", demo_event)
    text = badges.badge_payload(register_person(demo_event, 1))
    first = _scan(demo_event, text).answer
    _scan(demo_event, text)  # a duplicate

    row = services.undo_check_in(demo_event, first["checkin_id"], organiser)

    assert row.undone_at is not None and row.undone_by_id == organiser.id
    assert [(r.outcome, r.undone_by_id) for r in _rows()] == [("checked_in", organiser.id), ("already_checked_in", organiser.id)]
    assert services.arrivals(demo_event) == {}
    assert _scan(demo_event, text).answer["outcome"] == "checked_in"
    assert len(_rows()) == 3


def test_undo_twice_changes_nothing_and_refused_scans_have_nothing_to_undo(demo_event, make_user):
    organiser = make_user("organiser", demo_event)
    first = _scan(demo_event, badges.badge_payload(register_person(demo_event, 1))).answer
    refused = _scan(demo_event, "garbage").answer
    undone_at = services.undo_check_in(demo_event, first["checkin_id"], organiser).undone_at

    assert services.undo_check_in(demo_event, first["checkin_id"], organiser).undone_at == undone_at
    with pytest.raises(Conflict):
        services.undo_check_in(demo_event, refused["checkin_id"], organiser)
    with pytest.raises(NotFound):
        services.undo_check_in(demo_event, 99999, organiser)


def test_undo_of_another_events_scan_is_not_found(demo_event, make_user):
    other = _other_event()
    answer = _scan(other, "garbage").answer

    with pytest.raises(NotFound):
        services.undo_check_in(demo_event, answer["checkin_id"], make_user("organiser", demo_event))


# --- found by name at the desk (no badge) ---


def _by_name(event, registration_id, **kwargs):
    return services.check_in(
        event, registration_id=registration_id, client_id=f"client-{next(_ids):08d}", station="accueil",
        scanned_at=_now_iso(), **kwargs,
    )


def test_person_found_by_name_checks_in_without_a_badge(demo_event):
    person = register_person(demo_event, 1, workshop_codes=["A1"])

    answer = _by_name(demo_event, person.id).answer

    assert answer["outcome"] == "checked_in"
    assert answer["method"] == "search"
    assert answer["attendee"]["name"] == "Prénom1 Nom1"
    assert [w["code"] for w in answer["attendee"]["workshops"]] == ["A1"]
    (row,) = _rows()
    assert (row.method, row.badge_serial, row.registration_id) == ("search", None, person.id)


def test_person_found_by_name_after_a_badge_scan_is_already_checked_in(demo_event):
    person = register_person(demo_event, 1)
    _scan(demo_event, badges.badge_payload(person), station="porte 1")

    answer = _by_name(demo_event, person.id).answer

    assert answer["outcome"] == "already_checked_in"
    assert answer["first_station"] == "porte 1"


def test_person_found_by_name_is_refused_like_their_badge_would_be(demo_event):
    cancelled = register_person(demo_event, 1)
    registration.cancel(cancelled)
    demo_event.approval_required = True
    db.session.commit()
    pending = register_person(demo_event, 2)
    other = _other_event()
    stranger = registration.register(
        other, RegistrationInput(first_name="Autre", last_name="Personne", email="autre@example.org", consent=True), source="desk"
    ).registration

    outcomes = [_by_name(demo_event, r).answer["outcome"] for r in (cancelled.id, pending.id, stranger.id, 999_999)]

    assert outcomes == ["cancelled", "not_confirmed", "invalid", "invalid"]
    assert [r.registration_id for r in _rows()] == [cancelled.id, pending.id, None, None]


@pytest.mark.parametrize("value", [True, "12", 0, -3, 2**40, 1.5, [1]])
def test_person_id_that_is_not_a_positive_integer_is_refused_and_records_nothing(demo_event, value):
    with pytest.raises(InvalidInput) as raised:
        _by_name(demo_event, value)

    assert raised.value.field == "registration_id"
    assert _rows() == []


def test_badge_and_person_id_together_are_refused(demo_event):
    person = register_person(demo_event, 1)

    with pytest.raises(InvalidInput) as raised:
        _by_name(demo_event, person.id, badge=badges.badge_payload(person))

    assert raised.value.field == "registration_id"
    assert _rows() == []


def test_replay_answers_with_the_scans_id(demo_event):
    person = register_person(demo_event, 1)
    first = _scan(demo_event, badges.badge_payload(person), client_id="replay-with-id")

    again = _scan(demo_event, badges.badge_payload(person), client_id="replay-with-id")

    assert again.created is False
    assert again.answer == first.answer
    assert again.answer["checkin_id"] == _rows()[0].id
