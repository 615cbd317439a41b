"""The door stations' kit (forum_app/checkin/kit.py): its content, its version, and the worker's
copy of the roster that must never serve a station an old roster."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from forum_app.badges import domain as badge_domain
from forum_app.badges import services as badges
from forum_app.checkin import kit, services
from forum_app.checkin.models import CheckIn
from forum_app.extensions import db
from forum_app.maintenance import purge
from forum_app.programme import services as programme
from forum_app.registration import services as registration
from forum_app.registration.models import Registration
from forum_app.registration.services import RegistrationInput
from tests.people import register_person

_ids = iter(range(10**6))


def _scan(event, badge, station="porte 1"):
    return services.check_in(
        event, badge=badge, client_id=f"client-{next(_ids):08d}", station=station,
        scanned_at=datetime.now(UTC).isoformat(),
    ).answer


def _without_time(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "generated_at"}


def _uncached(app, event) -> dict:
    """The kit as a worker that never built one makes it: the reference for the cached one."""
    app.extensions.pop("forum_app.checkin_kit", None)
    return kit.checkin_kit(event).as_dict()


def _details(person, **changes) -> RegistrationInput:
    values = {
        "first_name": person.first_name, "last_name": person.last_name, "email": person.email,
        "organisation": person.organisation, "job_title": person.job_title, "category": person.category,
        "consent": True,
    }
    values.update(changes)
    return RegistrationInput(**values)


def test_kit_lets_a_station_verify_badges_and_know_who_arrived(demo_event):
    arrived = register_person(demo_event, 1, workshop_codes=["A1"])
    reissued = register_person(demo_event, 2)
    cancelled = register_person(demo_event, 3)
    text = badges.badge_payload(arrived)
    _scan(demo_event, text, station="porte 2")
    badges.reissue(reissued)
    registration.cancel(cancelled)

    document = kit.checkin_kit(demo_event).as_dict()

    claims = badge_domain.read_badge(text, kit.public_key_bytes(document))
    assert claims.registration_id == arrived.id
    assert document["revoked"] == [{"registration_id": reissued.id, "serial": 2}]
    assert document["cancelled"] == [cancelled.id]
    by_id = {p["id"]: p for p in document["roster"]}
    assert by_id[arrived.id]["checked_in_station"] == "porte 2"
    assert by_id[arrived.id]["workshops"] == [{"code": "A1", "seat": "confirmed"}]
    assert by_id[reissued.id]["checked_in_at"] is None and by_id[reissued.id]["serial"] == 2
    assert by_id[cancelled.id]["status"] == "cancelled" and by_id[cancelled.id]["workshops"] == []
    assert {"A1", "S102"} <= {s["code"] for s in document["sessions"]}
    assert document["generated_at"] and document["version"]


def test_kit_roster_is_in_the_stations_order_with_names_as_typed(demo_event):
    register_person(demo_event, 1, first_name="Zoé", last_name="bernard")
    register_person(demo_event, 2, first_name="Émile", last_name="Adam", organisation='La "Fabrique" <b>&</b>')

    roster = kit.checkin_kit(demo_event).as_dict()["roster"]

    assert [p["name"] for p in roster] == ["Émile Adam", "Zoé bernard"]
    assert roster[0]["organisation"] == 'La "Fabrique" <b>&</b>'


def test_kit_version_changes_with_an_arrival_only(demo_event):
    person = register_person(demo_event, 1)
    before = kit.checkin_kit(demo_event).version
    assert kit.checkin_kit(demo_event).version == before

    _scan(demo_event, badges.badge_payload(person))

    assert kit.checkin_kit(demo_event).version != before


def test_kit_version_is_the_same_in_two_workers_holding_the_same_roster(app, demo_event):
    register_person(demo_event, 1, workshop_codes=["A1"])
    first = kit.checkin_kit(demo_event)

    second = _uncached(app, demo_event)

    assert second["version"] == first.version


def test_kit_roster_is_kept_by_the_worker_while_nothing_changes(demo_event):
    person = register_person(demo_event, 1)
    first = kit.checkin_kit(demo_event)

    _scan(demo_event, badges.badge_payload(person))
    second = kit.checkin_kit(demo_event)

    assert second.roster is first.roster  # an arrival does not rebuild the roster
    assert second.as_dict()["roster"][0]["checked_in_station"] == "porte 1"


# Every change a station must see, each made through the service an organiser or a person uses,
# after the worker has cached the roster: the next kit equals one built from nothing.
def _edit_name(event, people, organiser):
    registration.edit_by_organiser(people[0], _details(people[0], first_name="Renée", last_name="Nouveau"))


def _edit_organisation_and_category(event, people, organiser):
    registration.update_details(people[0], _details(people[0], organisation="Région", category="etat"))


def _cancel(event, people, organiser):
    registration.cancel(people[0])


def _reissue(event, people, organiser):
    badges.reissue(people[0])


def _change_workshops(event, people, organiser):
    registration.change_workshops(people[0], ["A2"])


def _promote_from_waiting_list(event, people, organiser):
    session = programme.get_session(event, "A1")
    session.capacity = 1
    db.session.commit()
    waiting = register_person(event, 9, workshop_codes=["A1"])
    assert waiting.seats[0].status == "waitlisted"
    registration.cancel(people[0])  # held A1's only seat: the waiting person gets it


def _rename_session(event, people, organiser):
    session = programme.get_session(event, "A1")
    values = programme.session_form_values(event, session)
    programme.update_session(event, session, programme.SessionInput(**{**values, "code": "A1B", "title": "Nouveau titre"}))


def _new_registration(event, people, organiser):
    register_person(event, 9, workshop_codes=["A1"])


def _erase(event, people, organiser):
    registration.anonymise(people[0], datetime.now(UTC))
    db.session.commit()


def _undo_arrival(event, people, organiser):
    arrival = db.session.scalar(sa.select(CheckIn).where(CheckIn.registration_id == people[0].id))
    services.undo_check_in(event, arrival.id, organiser)


def _late_commit_with_an_older_timestamp(event, people, organiser):
    # A transaction that stamped its row before another one's but committed after it: a
    # fingerprint made of the largest updated_at (or a count) would not see it.
    newest = max(p.updated_at for p in people)
    db.session.execute(
        sa.update(Registration).where(Registration.id == people[0].id)
        .values(last_name="Tardif", updated_at=newest - timedelta(seconds=30))
    )
    db.session.commit()


CHANGES = [
    _edit_name, _edit_organisation_and_category, _cancel, _reissue, _change_workshops,
    _promote_from_waiting_list, _rename_session, _new_registration, _erase, _undo_arrival,
    _late_commit_with_an_older_timestamp,
]


@pytest.mark.parametrize("change", CHANGES, ids=[c.__name__.strip("_") for c in CHANGES])
def test_kit_after_a_change_equals_a_kit_built_from_nothing(app, demo_event, make_user, change):
    organiser = make_user("organiser", demo_event)
    people = [register_person(demo_event, 1, workshop_codes=["A1"]), register_person(demo_event, 2, workshop_codes=["A5"])]
    _scan(demo_event, badges.badge_payload(people[0]))
    before = kit.checkin_kit(demo_event)

    change(demo_event, people, organiser)
    db.session.expire_all()
    after = kit.checkin_kit(demo_event)

    assert after.version != before.version
    assert _without_time(after.as_dict()) == _without_time(_uncached(app, demo_event))


def test_kit_labels_follow_the_stations_language(app, demo_event):
    register_person(demo_event, 1, category="collectivite")

    with app.test_request_context(headers={"Accept-Language": "fr"}), force_locale("fr"):
        french = kit.checkin_kit(demo_event)
    with app.test_request_context(headers={"Accept-Language": "en"}), force_locale("en"):
        english = kit.checkin_kit(demo_event)

    assert french.as_dict()["roster"][0]["category_label"] == "Collectivité"
    assert english.as_dict()["roster"][0]["category_label"] == "Local authority"
    assert english.version != french.version


def test_kit_after_the_events_personal_data_is_purged_lists_nobody_by_name(app, demo_event):
    person = register_person(demo_event, 1)
    _scan(demo_event, badges.badge_payload(person))
    kit.checkin_kit(demo_event)
    demo_event.end_date = demo_event.end_date - timedelta(days=800)
    demo_event.start_date = demo_event.start_date - timedelta(days=800)
    db.session.commit()

    purge.purge_event(demo_event, confirmed=True)
    db.session.expire_all()
    document = kit.checkin_kit(demo_event).as_dict()

    assert document["roster"] == [] and document["cancelled"] == [person.id]
    assert "Nom1" not in kit.checkin_kit(demo_event).json()


def test_kit_json_carries_any_name_safely(demo_event):
    register_person(demo_event, 1, first_name='Ünïcode "guillemets"', last_name="Ligne\u2028séparée\\")

    text = kit.checkin_kit(demo_event).json()

    person = json.loads(text)["roster"][0]
    assert person["first_name"] == 'Ünïcode "guillemets"'
    assert person["last_name"] == "Ligne\u2028séparée\\"
