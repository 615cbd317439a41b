"""Registration use cases against the demo forum (in-memory SQLite, mail kept in memory)."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from forum_app import clock, mail
from forum_app.errors import Conflict, InvalidInput, NotFound
from forum_app.extensions import db
from forum_app.registration import services
from forum_app.registration.models import Delegation, Registration, WorkshopSeat


def _person(n: int | str, **changes) -> services.RegistrationInput:
    values = {
        "first_name": f"Prénom{n}",
        "last_name": f"Nom{n}",
        "email": f"personne{n}@example.org",
        "organisation": "Ville de Roubaix",
        "category": "collectivite",
        "territory": "Roubaix",
        "consent": True,
    }
    values.update(changes)
    return services.RegistrationInput(**values)


def _workshop(event, code: str, capacity: int | None):
    session = next(s for s in event.sessions if s.code == code)
    session.capacity = capacity
    db.session.commit()
    return session


def _mails(address: str | None = None, kind: str | None = None):
    return [
        m
        for m in mail.memory_outbox()
        if (address is None or address.lower() in str(m["To"]).lower())
        and (kind is None or m["X-Forum-Message"] == kind)
    ]


def _text(message) -> str:
    return message.get_body(("plain",)).get_content()


def _seat(registration: Registration, code: str) -> WorkshopSeat:
    return next(seat for seat in registration.seats if seat.session.code == code)


def _count(event, code: str) -> tuple[int, int]:
    item = next(a for a in services.availability(event) if a.session.code == code)
    return item.confirmed, item.waitlisted


# --- registering ---


def test_register_confirms_and_emails_the_private_link(demo_event):
    outcome = services.register(demo_event, _person(1, workshop_codes=["A1", "A5"]))

    registration = outcome.registration
    assert outcome.created is True
    assert registration.status == "confirmed"
    assert registration.email_key == "personne1@example.org"
    assert len(registration.access_token) >= 43
    assert registration.consent_at is not None and registration.consent_version == services.CONSENT_VERSION
    assert sorted((s.session.code, s.status) for s in registration.seats) == [("A1", "confirmed"), ("A5", "confirmed")]
    (message,) = _mails("personne1@example.org")
    assert message["X-Forum-Message"] == "confirmed"
    assert f"/e/{demo_event.slug}/me/{registration.access_token}" in _text(message)


def test_full_workshop_puts_people_on_the_waiting_list_with_their_position(demo_event):
    _workshop(demo_event, "A3", 2)

    outcomes = [services.register(demo_event, _person(i, workshop_codes=["A3"])) for i in range(5)]

    assert [o.waitlisted_codes for o in outcomes] == [[], [], ["A3"], ["A3"], ["A3"]]
    positions = [services.seat_position(_seat(o.registration, "A3")) for o in outcomes]
    assert positions == [None, None, 1, 2, 3]
    assert _count(demo_event, "A3") == (2, 3)
    assert "liste d'attente, position 3" in _text(_mails("personne4@example.org")[0])


def test_waitlist_positions_in_bulk_agree_with_one_by_one(demo_event):
    _workshop(demo_event, "A3", 1)
    _workshop(demo_event, "A6", 1)
    registrations = [services.register(demo_event, _person(i, workshop_codes=["A3", "A6"])).registration for i in range(4)]
    seats = [seat for r in registrations for seat in r.seats]

    bulk = services.waitlist_positions(seats)

    assert bulk == {seat.id: services.seat_position(seat) for seat in seats if seat.status == "waitlisted"}
    assert sorted(bulk.values()) == [1, 1, 2, 2, 3, 3]


def test_availability_counts_seats_and_waiting_per_workshop(demo_event):
    _workshop(demo_event, "A4", 1)
    services.register(demo_event, _person(1, workshop_codes=["A4"]))
    services.register(demo_event, _person(2, workshop_codes=["A4"]))

    listing = services.availability(demo_event)

    assert [a.session.code for a in listing] == [s.code for s in services.signup_sessions(demo_event)]
    a4 = next(a for a in listing if a.session.code == "A4")
    assert (a4.capacity, a4.confirmed, a4.waitlisted, a4.seats_left) == (1, 1, 1, 0)
    a1 = next(a for a in listing if a.session.code == "A1")
    assert (a1.confirmed, a1.waitlisted, a1.seats_left) == (0, 0, 60)


def test_overlapping_workshops_are_refused_and_nothing_is_stored(demo_event):
    with pytest.raises(InvalidInput) as refused:
        services.register(demo_event, _person(1, workshop_codes=["A1", "A3"]))

    assert refused.value.field == "workshops"
    assert "A1" in refused.value.message and "A3" in refused.value.message
    assert "en même temps" in refused.value.message
    assert db.session.scalar(db.select(db.func.count(Registration.id))) == 0
    assert _mails() == []


def test_every_problem_is_listed_in_french_with_its_field(demo_event):
    data = _person(1, first_name="", last_name="N" * 101, email="pas-une-adresse", consent=False, workshop_codes=["A9"])

    with pytest.raises(InvalidInput) as refused:
        services.register(demo_event, data)

    error = refused.value
    assert error.problems == [
        "Prénom : ce champ est obligatoire.",
        "Nom : trop long (101 caractères, 100 au maximum).",
        "Adresse e-mail : il manque le « @ » (exemple : prenom.nom@exemple.fr).",
        "Consentement : votre accord pour le traitement de vos données est nécessaire pour vous inscrire.",
        "Ateliers : « A9 » n'est pas un atelier de cet événement.",
    ]
    assert error.message == "L'inscription n'a pas été enregistrée : 5 points à corriger."
    assert error.field == "first_name"
    assert set(error.by_field) == {"first_name", "last_name", "email", "consent", "workshops"}


def test_overlong_organisation_and_needs_are_refused(demo_event):
    data = _person(1, organisation="O" * 201, accessibility_needs="b" * 2001)

    with pytest.raises(InvalidInput) as refused:
        services.register(demo_event, data)

    assert refused.value.problems == [
        "Organisation : trop long (201 caractères, 200 au maximum).",
        "Besoins d'accessibilité : trop long (2001 caractères, 2000 au maximum).",
    ]


def test_names_with_accents_apostrophes_hyphens_and_other_scripts_are_kept_exactly(demo_event):
    people = [
        ("Zoé", "L'Hôte-Dupré", "Mairie d’Hérouville-Saint-Clair"),
        ("Анна", "Кузнецова-Иванова", "Мэрия"),
        ("فاطمة", "الزهراء", "جمعية الحي"),
        ("Nguyễn", "Thị Minh Khai", "Ville de Besançon"),
    ]
    for i, (first, last, organisation) in enumerate(people):
        services.register(demo_event, _person(i, first_name=f"  {first} ", last_name=last, organisation=organisation))
    db.session.expire_all()

    stored = db.session.execute(
        db.select(Registration.first_name, Registration.last_name, Registration.organisation).order_by(Registration.id)
    ).all()
    assert [tuple(row) for row in stored] == people


def test_known_email_in_another_case_creates_nothing_and_resends_the_link(demo_event):
    first = services.register(demo_event, _person(1, workshop_codes=["A1"])).registration
    token = first.access_token

    again = services.register(
        demo_event, _person(1, email="PERSONNE1@Example.org", first_name="Autre", workshop_codes=["A2"])
    )

    assert again.created is False
    assert again.registration.id == first.id
    assert db.session.scalar(db.select(db.func.count(Registration.id))) == 1
    db.session.refresh(first)
    assert first.first_name == "Prénom1" and first.access_token == token
    assert [s.session.code for s in first.seats] == ["A1"]
    kinds = [m["X-Forum-Message"] for m in _mails("personne1@example.org")]
    assert kinds == ["confirmed", "link_resent"]
    assert f"/me/{token}" in _text(_mails(kind="link_resent")[0])


def test_submitting_the_same_form_twice_registers_once(demo_event):
    data = _person(1, workshop_codes=["A1"])

    outcomes = [services.register(demo_event, data), services.register(demo_event, data)]

    assert [o.created for o in outcomes] == [True, False]
    assert db.session.scalar(db.select(db.func.count(Registration.id))) == 1
    assert db.session.scalar(db.select(db.func.count(WorkshopSeat.id))) == 1


def test_registration_window_applies_to_self_registration_only(demo_event):
    demo_event.registration_closes_at = clock.now() - timedelta(days=1)
    db.session.commit()

    with pytest.raises(InvalidInput) as refused:
        services.register(demo_event, _person(1))
    by_organiser = services.register(demo_event, _person(2, consent=False), source="import")

    assert refused.value.problems == ["Inscription : les inscriptions sont closes."]
    assert by_organiser.created and by_organiser.registration.status == "confirmed"
    assert by_organiser.registration.consent_at is None


def test_delegation_of_another_event_is_refused(demo_event):
    from forum_app.programme.models import Event

    other = Event(slug="autre", title="Autre forum", start_date=demo_event.start_date, end_date=demo_event.end_date)
    db.session.add(other)
    db.session.flush()
    foreign = Delegation(event_id=other.id, name="Délégation d'ailleurs")
    db.session.add(foreign)
    db.session.commit()

    with pytest.raises(InvalidInput) as refused:
        services.register(demo_event, _person(1, delegation_id=foreign.id))

    assert refused.value.problems == ["Délégation : délégation inconnue pour cet événement."]


def test_register_many_is_all_or_nothing(demo_event):
    _workshop(demo_event, "A3", 1)
    people = [_person(1, workshop_codes=["A3"]), _person(2, workshop_codes=["A3"]), _person(3, email="PERSONNE1@example.org")]

    with pytest.raises(InvalidInput) as refused:
        services.register_many(demo_event, people, labels=["Ligne 2", "Ligne 3", "Ligne 4"])
    assert refused.value.problems == ["Ligne 4 : Adresse e-mail : adresse déjà présente (Ligne 2)."]
    assert db.session.scalar(db.select(db.func.count(Registration.id))) == 0

    outcomes = services.register_many(demo_event, people[:2])

    assert [o.waitlisted_codes for o in outcomes] == [[], ["A3"]]
    assert [o.registration.source for o in outcomes] == ["import", "import"]
    assert len(_mails(kind="confirmed")) == 2


# --- approval mode ---


def test_approval_mode_registration_waits_then_is_confirmed_by_email(demo_event):
    demo_event.approval_required = True
    db.session.commit()

    registration = services.register(demo_event, _person(1, workshop_codes=["A1"])).registration
    assert registration.status == "pending"
    assert [m["X-Forum-Message"] for m in _mails()] == ["received"]
    assert "place réservée" in _text(_mails()[0])

    services.confirm(registration)

    assert registration.status == "confirmed" and registration.confirmed_at is not None
    assert [m["X-Forum-Message"] for m in _mails()] == ["received", "confirmed"]
    services.confirm(registration)  # twice: nothing more happens
    assert len(_mails()) == 2


def test_rejecting_frees_the_seat_for_the_first_waiting_and_emails_both(demo_event):
    demo_event.approval_required = True
    _workshop(demo_event, "A3", 1)
    first = services.register(demo_event, _person(1, workshop_codes=["A3"])).registration
    second = services.register(demo_event, _person(2, workshop_codes=["A3"])).registration

    services.reject(first)

    assert first.status == "rejected"
    assert _seat(second, "A3").status == "confirmed"
    assert [m["X-Forum-Message"] for m in _mails("personne1@")] == ["received", "rejected"]
    assert [m["X-Forum-Message"] for m in _mails("personne2@")] == ["received", "promoted"]


def test_confirming_a_rejected_registration_queues_it_behind_the_waiting(demo_event):
    _workshop(demo_event, "A3", 1)
    first = services.register(demo_event, _person(1, workshop_codes=["A3"])).registration
    services.register(demo_event, _person(2, workshop_codes=["A3"]))
    services.reject(first)
    services.register(demo_event, _person(3, workshop_codes=["A3"]))

    services.confirm(first)

    seat = _seat(first, "A3")
    assert first.status == "confirmed"
    assert seat.status == "waitlisted" and services.seat_position(seat) == 2
    assert _count(demo_event, "A3") == (1, 2)


# --- freeing seats ---


def test_cancelling_promotes_the_first_waiting_person_and_emails_them(demo_event):
    _workshop(demo_event, "A3", 1)
    holder = services.register(demo_event, _person(1, workshop_codes=["A3"])).registration
    first_waiting = services.register(demo_event, _person(2, workshop_codes=["A3"])).registration
    second_waiting = services.register(demo_event, _person(3, workshop_codes=["A3"])).registration

    services.cancel(holder)

    assert holder.status == "cancelled" and holder.cancelled_at is not None
    assert _seat(first_waiting, "A3").status == "confirmed"
    assert services.seat_position(_seat(second_waiting, "A3")) == 1
    assert _count(demo_event, "A3") == (1, 1)
    (promoted,) = _mails("personne2@", kind="promoted")
    assert "A3" in promoted["Subject"] or "A3" in _text(promoted)
    assert "place s'est libérée" in _text(promoted)
    assert [m["X-Forum-Message"] for m in _mails("personne1@")] == ["confirmed", "cancelled"]
    assert _mails("personne3@", kind="promoted") == []


def test_cancelling_twice_changes_nothing_more(demo_event):
    registration = services.register(demo_event, _person(1)).registration
    services.cancel(registration)
    services.cancel(registration)

    assert [m["X-Forum-Message"] for m in _mails()] == ["confirmed", "cancelled"]


def test_changing_workshops_frees_the_old_seat_for_the_first_waiting(demo_event):
    _workshop(demo_event, "A3", 1)
    _workshop(demo_event, "A4", 1)
    mover = services.register(demo_event, _person(1, workshop_codes=["A3", "A5"])).registration
    waiting = services.register(demo_event, _person(2, workshop_codes=["A3"])).registration
    services.register(demo_event, _person(3, workshop_codes=["A4"]))

    seats = services.change_workshops(mover, ["A4", "A5"])

    assert [(s.session.code, s.status) for s in seats] == [("A4", "waitlisted"), ("A5", "confirmed")]
    assert _seat(waiting, "A3").status == "confirmed"
    assert [m["X-Forum-Message"] for m in _mails("personne1@")] == ["confirmed", "waitlisted"]
    assert [m["X-Forum-Message"] for m in _mails("personne2@")] == ["confirmed", "promoted"]


def test_keeping_a_workshop_keeps_the_place_in_its_waiting_list(demo_event):
    _workshop(demo_event, "A3", 1)
    services.register(demo_event, _person(1, workshop_codes=["A3"]))
    services.register(demo_event, _person(2, workshop_codes=["A3"]))
    person = services.register(demo_event, _person(3, workshop_codes=["A3"])).registration
    before = _seat(person, "A3").requested_at

    services.change_workshops(person, ["A3", "A5"])

    assert _seat(person, "A3").requested_at == before
    assert services.seat_position(_seat(person, "A3")) == 2


def test_changing_to_overlapping_workshops_is_refused(demo_event):
    person = services.register(demo_event, _person(1, workshop_codes=["A1"])).registration

    with pytest.raises(InvalidInput) as refused:
        services.change_workshops(person, ["A1", "A2"])

    assert "A1" in refused.value.message and "A2" in refused.value.message
    assert [s.session.code for s in person.seats] == ["A1"]


def test_cancelled_registration_cannot_change_workshops(demo_event):
    person = services.register(demo_event, _person(1, workshop_codes=["A1"])).registration
    services.cancel(person)

    with pytest.raises(Conflict):
        services.change_workshops(person, ["A2"])


def test_raising_the_capacity_promotes_the_first_waiting(demo_event):
    session = _workshop(demo_event, "A3", 1)
    for i in range(4):
        services.register(demo_event, _person(i, workshop_codes=["A3"]))

    session.capacity = 3
    db.session.commit()
    promoted = services.on_capacity_changed(session)

    assert sorted(seat.registration.email for seat in promoted) == ["personne1@example.org", "personne2@example.org"]
    assert _count(demo_event, "A3") == (3, 1)
    assert len(_mails(kind="promoted")) == 2


# --- the attendee's data ---


def test_wrong_or_altered_link_is_not_found_with_the_same_message(demo_event):
    token = services.register(demo_event, _person(1)).registration.access_token

    messages = set()
    for wrong in (token[:-1] + ("A" if token[-1] != "A" else "B"), token[:20], "x", "../../etc/passwd", ""):
        with pytest.raises(NotFound) as missing:
            services.find_by_token(demo_event, wrong)
        messages.add(missing.value.message)

    assert messages == {"Ce lien n'est pas valide."}
    assert services.find_by_token(demo_event, token).email == "personne1@example.org"


def test_update_details_keeps_email_and_workshops(demo_event):
    person = services.register(demo_event, _person(1, workshop_codes=["A1"])).registration
    delegation = services.create_delegation(demo_event, "Délégation Hauts-de-France", territory="Hauts-de-France")

    services.update_details(
        person,
        _person(1, first_name="Zoé", last_name="O'Brien-Łukasz", email="ignored@example.org",
                category="élu·e", delegation_id=delegation.id, workshop_codes=[]),
    )

    db.session.expire_all()
    assert (person.first_name, person.last_name, person.category) == ("Zoé", "O'Brien-Łukasz", "elu")
    assert person.delegation.name == "Délégation Hauts-de-France"
    assert person.email == "personne1@example.org"
    assert [s.session.code for s in person.seats] == ["A1"]


def test_erase_anonymises_and_the_counts_stay(demo_event):
    _workshop(demo_event, "A3", 1)
    delegation = services.create_delegation(demo_event, "Délégation Roubaix")
    person = services.register(
        demo_event, _person(1, workshop_codes=["A3"], delegation_id=delegation.id, accessibility_needs="Fauteuil")
    ).registration
    waiting = services.register(demo_event, _person(2, workshop_codes=["A3"])).registration
    token = person.access_token

    services.erase(person)

    db.session.expire_all()
    assert person.anonymised_at is not None and person.status == "cancelled"
    assert "Prénom1" not in person.full_name and person.email.endswith("@invalid")
    assert (person.organisation, person.job_title, person.accessibility_needs) == ("", "", "")
    assert (person.category, person.territory, person.delegation_id) == ("collectivite", "Roubaix", delegation.id)
    assert [s.session.code for s in person.seats] == ["A3"]  # kept for the counts, holding no place
    assert _seat(waiting, "A3").status == "confirmed"
    with pytest.raises(NotFound):
        services.find_by_token(demo_event, token)
    with pytest.raises(NotFound):
        services.find_by_token(demo_event, person.access_token)
    again = services.register(demo_event, _person(1))
    assert again.created is True  # the address is free again


def test_export_contains_everything_about_the_person(demo_event):
    _workshop(demo_event, "A3", 0)
    person = services.register(
        demo_event, _person(1, first_name="Zoé", job_title="Cheffe de projet", workshop_codes=["A3", "A5"])
    ).registration

    data = services.export_personal_data(person)

    json.dumps(data)  # JSON-ready
    assert data["event"]["slug"] == demo_event.slug
    assert data["registration"]["first_name"] == "Zoé"
    assert data["registration"]["email"] == "personne1@example.org"
    assert data["registration"]["job_title"] == "Cheffe de projet"
    assert data["registration"]["consent"]["version"] == services.CONSENT_VERSION
    assert [(w["code"], w["status"], w["waiting_list_position"]) for w in data["workshops"]] == [
        ("A3", "waitlisted", 1),
        ("A5", "confirmed", None),
    ]


# --- mail never loses a registration ---


def test_mail_server_down_never_loses_the_registration(app, demo_event, caplog):
    app.config.update(MAIL_BACKEND="smtp", MAIL_SERVER="127.0.0.1", MAIL_PORT=1, MAIL_TIMEOUT=2)

    outcome = services.register(demo_event, _person(1, workshop_codes=["A1"]))

    assert outcome.created
    db.session.expire_all()
    assert db.session.get(Registration, outcome.registration.id).status == "confirmed"
    assert "Mail not sent" in caplog.text


def test_erase_expired_erases_people_a_year_after_the_event_and_keeps_counts(app, demo_event):
    from datetime import date

    from forum_app.registration import services as registration_services
    from forum_app.registration.models import Registration
    from forum_app.registration.services import RegistrationInput

    registration_services.register(
        demo_event,
        RegistrationInput(first_name="Anaïs", last_name="L'Hôte", email="anais@example.org", category="elu",
                          workshop_codes=["A2"], consent=True),
    )

    too_early = registration_services.erase_expired(date(2020, 6, 7))
    erased = registration_services.erase_expired(date(2020, 6, 8))
    again = registration_services.erase_expired(date(2020, 6, 9))

    person = db.session.scalars(db.select(Registration)).one()
    assert too_early == {} and erased == {demo_event.slug: 1} and again == {}
    assert "Anaïs" not in (person.first_name, person.last_name) and "anais" not in person.email
    assert person.category == "elu" and person.anonymised_at is not None
