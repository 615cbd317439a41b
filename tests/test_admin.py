"""Organiser screens: programme CRUD, validation in French, clash warnings, programme version."""
from __future__ import annotations

import html
from datetime import date, datetime, timezone

import pytest
from werkzeug.security import generate_password_hash

from forum_app.auth.models import EventRole, User
from forum_app.extensions import db
from forum_app.programme.models import Event, Person, Room, Session, SessionPerson, Track


def utc(hour: int, minute: int = 0, day: int = 6) -> datetime:
    return datetime(2019, 6, day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def event(app):
    """Two days in Paris (UTC+2 in June): rooms, a track, two people and two sessions that do not clash."""
    event = Event(slug="forum", title="Forum test", timezone="Europe/Paris", start_date=date(2019, 6, 6), end_date=date(2019, 6, 7))
    amphi = Room(name="Amphithéâtre", capacity=400, position=0)
    salle = Room(name="Salle Vilaine", capacity=60, position=1)
    track = Track(name="Europe", slug="europe", colour="#0369a1")
    alice = Person(name="Alice Martin", job_title="Cheffe de projet", organisation="Ville de Rennes")
    bruno = Person(name="Bruno Petit", organisation="RésOVilles")
    event.rooms += [amphi, salle]
    event.tracks.append(track)
    event.people += [alice, bruno]
    opening = Session(code="P1", title="Ouverture", kind="plenary", room=amphi, starts_at=utc(7), ends_at=utc(8))
    workshop = Session(
        code="A1", title="Atelier Europe", kind="workshop", room=salle, track=track, starts_at=utc(8), ends_at=utc(9, 30)
    )
    opening.people.append(SessionPerson(person=alice, role="speaker"))
    event.sessions += [opening, workshop]
    db.session.add(event)
    db.session.commit()
    return event


PASSWORD = "correct-horse-battery"


def staff_user(email: str, role: str | None = None, event: Event | None = None, *, admin: bool = False) -> User:
    """A staff account with a deliberately cheap password hash: these tests are about the screens, not hashing."""
    user = User(email=email, name=email, password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1"), is_admin=admin)
    if role:
        user.roles.append(EventRole(event_id=event.id, role=role))
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture
def organiser(client, event):
    user = staff_user("organisatrice@example.org", "organiser", event)
    assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302
    return user


def version(event: Event) -> int:
    db.session.expire_all()
    return db.session.get(Event, event.id).programme_version


def session_count() -> int:
    return db.session.scalar(db.select(db.func.count(Session.id)))


def session_by_code(code: str) -> Session | None:
    db.session.expire_all()
    return db.session.scalar(db.select(Session).filter_by(code=code))


def session_data(**overrides) -> dict:
    data = {
        "code": "b2",
        "title": "Table ronde Europe",
        "subtitle": "",
        "kind": "round-table",
        "track_id": "",
        "room_id": "",
        "day": "2019-06-07",
        "starts": "14:15",
        "ends": "15:45",
        "abstract": "Les fonds européens dans les quartiers.",
        "description": "",
        "capacity": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# Dashboard ---------------------------------------------------------------------------------------


def test_dashboard_lists_the_programme_by_day_in_french(client, event, organiser):
    response = client.get("/e/forum/admin/")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Jeudi 6 juin" in page and "Vendredi 7 juin" in page
    assert "9 h 00 – 10 h 00" in page  # 7:00 UTC shown at the venue's time
    assert "Ouverture" in page and "Atelier Europe" in page
    assert "Aucune session ce jour-là." in page
    assert "conflit" not in page.lower()


def test_dashboard_escapes_user_text(client, event, organiser):
    event.sessions[0].title = "<script>alert(1)</script>"
    db.session.commit()

    page = client.get("/e/forum/admin/").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_admin_pages_are_not_cached(client, event, organiser):
    assert client.get("/e/forum/admin/").headers["Cache-Control"] == "no-store"


# Sessions ----------------------------------------------------------------------------------------


def test_session_new_form_shows_french_labels_and_kinds(client, event, organiser):
    page = client.get("/e/forum/admin/sessions/new").get_data(as_text=True)

    for text in ("Code", "Titre", "Table ronde", "Atelier", "Salle Vilaine", "Europe", 'type="date"', 'type="time"'):
        assert text in page
    assert 'min="2019-06-06"' in page and 'max="2019-06-07"' in page


def test_session_create_stores_utc_times_and_upper_cases_the_code(client, event, organiser):
    before = version(event)
    room_id = event.rooms[1].id

    response = client.post("/e/forum/admin/sessions/new", data=session_data(room_id=room_id, capacity="30", signup_required="y"))

    created = session_by_code("B2")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/e/forum/admin/sessions/{created.id}"
    assert created.starts_at == utc(12, 15, day=7) and created.ends_at == utc(13, 45, day=7)
    assert created.kind == "round-table" and created.room_id == room_id and created.capacity == 30
    assert created.signup_required is True
    assert version(event) == before + 1
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Session B2 créée." in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"title": ""}, "Ce champ est obligatoire."),
        ({"code": ""}, "Ce champ est obligatoire."),
        ({"code": "A-1"}, "Lettres sans accent et chiffres uniquement"),
        ({"code": "a1"}, "Le code A1 est déjà utilisé par une autre session."),
        ({"ends": "14:15"}, "L'heure de fin doit être après l'heure de début."),
        ({"ends": "13:00"}, "L'heure de fin doit être après l'heure de début."),
        ({"day": "2019-06-08"}, "La date doit tomber pendant l'événement (du 06/06/2019 au 07/06/2019)."),
        ({"day": "demain"}, "N'est pas une date valide."),
        ({"starts": "25:99"}, "N'est pas un horaire valide."),
        ({"capacity": "-1"}, "Indiquez un nombre entre 0 et 100000."),
        ({"title": "x" * 301}, "300 caractères au maximum."),
        ({"code": "A" * 17}, "16 caractères au maximum."),
        ({"kind": "party"}, "N'est pas un choix valide."),
        ({"room_id": "999999"}, "N'est pas un choix valide."),
    ],
)
def test_session_create_refuses_invalid_input_in_french_and_changes_nothing(client, event, organiser, overrides, message):
    before_count, before_version = session_count(), version(event)

    response = client.post("/e/forum/admin/sessions/new", data=session_data(**overrides))

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert message in page
    assert "Le formulaire contient" in page
    assert session_count() == before_count and version(event) == before_version


def test_session_form_shows_format_errors_and_programme_rules_together(client, event, organiser):
    response = client.post("/e/forum/admin/sessions/new", data=session_data(title="", code="p1", ends="13:00"))

    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "Le formulaire contient 3 erreurs" in page
    assert "Ce champ est obligatoire." in page
    assert "Le code P1 est déjà utilisé par une autre session." in page
    assert "L'heure de fin doit être après l'heure de début." in page
    assert '<a href="#ends">Fin : L\'heure de fin doit être après l\'heure de début.</a>' in page


def test_session_edit_shows_local_times_and_saves_changes(client, event, organiser):
    workshop = session_by_code("A1")

    page = client.get(f"/e/forum/admin/sessions/{workshop.id}").get_data(as_text=True)
    assert 'value="10:00"' in page and 'value="11:30"' in page and 'value="2019-06-06"' in page

    response = client.post(
        f"/e/forum/admin/sessions/{workshop.id}",
        data=session_data(code="a1", title="Atelier Europe (complet)", kind="workshop", day="2019-06-06", starts="10:00", ends="12:00"),
    )

    assert response.status_code == 302
    saved = session_by_code("A1")
    assert saved.title == "Atelier Europe (complet)" and saved.ends_at == utc(10)
    assert "Session A1 enregistrée." in client.get(response.headers["Location"]).get_data(as_text=True)


def test_session_edit_refused_leaves_the_session_as_it_was(client, event, organiser):
    workshop = session_by_code("A1")
    before_version = version(event)

    response = client.post(
        f"/e/forum/admin/sessions/{workshop.id}", data=session_data(code="P1", title="Nouveau titre", day="2019-06-06")
    )

    assert response.status_code == 422
    assert "Le code P1 est déjà utilisé par une autre session." in response.get_data(as_text=True)
    unchanged = session_by_code("A1")
    assert unchanged.title == "Atelier Europe" and version(event) == before_version


def test_session_delete_asks_for_confirmation_then_deletes(client, event, organiser):
    workshop = session_by_code("A1")
    before = version(event)

    confirm = client.get(f"/e/forum/admin/sessions/{workshop.id}/delete")
    assert confirm.status_code == 200
    assert "Voulez-vous vraiment supprimer la session A1" in confirm.get_data(as_text=True)
    assert session_by_code("A1") is not None

    response = client.post(f"/e/forum/admin/sessions/{workshop.id}/delete")

    assert response.status_code == 302 and response.headers["Location"] == "/e/forum/admin/"
    assert session_by_code("A1") is None and version(event) == before + 1
    assert "Session A1 supprimée." in client.get("/e/forum/admin/").get_data(as_text=True)


def test_session_of_another_event_is_not_found(client, event, organiser):
    other = Event(slug="autre", title="Autre", start_date=date(2019, 6, 6), end_date=date(2019, 6, 6))
    other.sessions.append(Session(code="X1", title="Ailleurs", starts_at=utc(7), ends_at=utc(8)))
    db.session.add(other)
    db.session.commit()

    assert client.get(f"/e/forum/admin/sessions/{other.sessions[0].id}").status_code == 404
    assert client.post(f"/e/forum/admin/sessions/{other.sessions[0].id}/delete").status_code == 404
    assert session_by_code("X1") is not None


def test_session_people_are_added_with_a_role_and_removed(client, event, organiser):
    workshop = session_by_code("A1")
    bruno = event.people[1]
    before = version(event)

    response = client.post(f"/e/forum/admin/sessions/{workshop.id}/people", data={"person_id": bruno.id, "role": "moderator"})

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bruno Petit ajouté·e comme modérateur·rice." in page
    links = session_by_code("A1").people
    assert [(link.person.name, link.role) for link in links] == [("Bruno Petit", "moderator")]
    assert version(event) == before + 1

    response = client.post(f"/e/forum/admin/sessions/{workshop.id}/people/{links[0].id}/remove")

    assert response.status_code == 302
    assert session_by_code("A1").people == []
    assert version(event) == before + 2


def test_session_people_refuses_a_missing_person_or_the_same_role_twice(client, event, organiser):
    opening = session_by_code("P1")
    alice = event.people[0]

    missing = client.post(f"/e/forum/admin/sessions/{opening.id}/people", data={"person_id": "", "role": "speaker"})
    twice = client.post(f"/e/forum/admin/sessions/{opening.id}/people", data={"person_id": alice.id, "role": "speaker"})

    assert missing.status_code == 422 and "Choisissez une personne du programme." in missing.get_data(as_text=True)
    assert twice.status_code == 422 and "Cette personne a déjà ce rôle dans la session." in twice.get_data(as_text=True)
    assert len(session_by_code("P1").people) == 1


# Clash warnings ----------------------------------------------------------------------------------


def test_room_clash_is_warned_after_save_and_on_the_dashboard(client, event, organiser):
    amphi = event.rooms[0]

    response = client.post(
        "/e/forum/admin/sessions/new",
        data=session_data(code="P2", title="Plénière bis", room_id=amphi.id, day="2019-06-06", starts="09:30", ends="10:30"),
    )

    assert response.status_code == 302 and session_by_code("P2") is not None  # saved despite the clash
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    warning = "Amphithéâtre : P1 «\u00a0Ouverture\u00a0» et P2 «\u00a0Plénière bis\u00a0» ont lieu en même temps dans cette salle."
    assert warning in page
    dashboard = client.get("/e/forum/admin/").get_data(as_text=True)
    assert "1 conflit à vérifier" in dashboard and warning in dashboard


def test_person_clash_is_warned_when_one_person_is_in_two_overlapping_sessions(client, event, organiser):
    alice = event.people[0]
    workshop = session_by_code("A1")
    client.post(
        f"/e/forum/admin/sessions/{workshop.id}",
        data=session_data(code="A1", title="Atelier Europe", day="2019-06-06", starts="09:30", ends="11:00"),
    )

    response = client.post(f"/e/forum/admin/sessions/{workshop.id}/people", data={"person_id": alice.id, "role": "witness"})

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Alice Martin est prévu·e dans deux sessions en même temps : P1 «\u00a0Ouverture\u00a0» et A1 «\u00a0Atelier Europe\u00a0»." in page


def test_edit_that_creates_a_clash_warns_on_the_dashboard(client, event, organiser):
    workshop = session_by_code("A1")
    amphi = event.rooms[0]

    response = client.post(
        f"/e/forum/admin/sessions/{workshop.id}",
        data=session_data(code="A1", title="Atelier Europe", room_id=amphi.id, day="2019-06-06", starts="09:15", ends="10:30"),
    )

    assert response.status_code == 302 and response.headers["Location"].startswith("/e/forum/admin/")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "À vérifier — Amphithéâtre : P1 «\u00a0Ouverture\u00a0» et A1" in page
    assert "1 conflit à vérifier" in page


def test_back_to_back_sessions_raise_no_warning(client, event, organiser):
    amphi = event.rooms[0]

    response = client.post(
        "/e/forum/admin/sessions/new",
        data=session_data(code="P2", title="Suite", room_id=amphi.id, day="2019-06-06", starts="10:00", ends="11:00"),
    )

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "en même temps" not in page
    assert "conflit" not in client.get("/e/forum/admin/").get_data(as_text=True).lower()


# Rooms -------------------------------------------------------------------------------------------


def test_room_create_edit_delete(client, event, organiser):
    before = version(event)

    created = client.post("/e/forum/admin/rooms/new", data={"name": "Salle Rance", "capacity": "40"})
    assert created.status_code == 302 and created.headers["Location"] == "/e/forum/admin/rooms"
    listing = client.get("/e/forum/admin/rooms").get_data(as_text=True)
    assert "Salle créée." in listing and "Salle Rance" in listing
    room = db.session.scalar(db.select(Room).filter_by(name="Salle Rance"))
    assert room.capacity == 40

    client.post(f"/e/forum/admin/rooms/{room.id}", data={"name": "Salle Rance (RDC)", "capacity": ""})
    db.session.expire_all()
    assert room.name == "Salle Rance (RDC)" and room.capacity is None

    assert "Voulez-vous vraiment supprimer" in client.get(f"/e/forum/admin/rooms/{room.id}/delete").get_data(as_text=True)
    client.post(f"/e/forum/admin/rooms/{room.id}/delete")
    assert db.session.scalar(db.select(Room).filter_by(event_id=event.id, id=room.id)) is None
    assert version(event) == before + 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "capacity": "10"}, "Ce champ est obligatoire."),
        ({"name": "amphithéâtre", "capacity": ""}, "Une salle porte déjà ce nom."),
        ({"name": "Grande salle", "capacity": "-5"}, "Indiquez un nombre entre 0 et 100000."),
        ({"name": "Grande salle", "capacity": "beaucoup"}, "N'est pas un entier valide."),
        ({"name": "x" * 201, "capacity": ""}, "200 caractères au maximum."),
    ],
)
def test_room_create_refuses_invalid_input(client, event, organiser, data, message):
    before = version(event)

    response = client.post("/e/forum/admin/rooms/new", data=data)

    assert response.status_code == 422
    assert message in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(db.select(db.func.count(Room.id))) == 2 and version(event) == before


def test_room_delete_keeps_its_sessions_without_a_room(client, event, organiser):
    salle = event.rooms[1]

    client.post(f"/e/forum/admin/rooms/{salle.id}/delete")

    workshop = session_by_code("A1")
    assert workshop is not None and workshop.room_id is None


# Tracks ------------------------------------------------------------------------------------------


def test_track_create_edit_delete(client, event, organiser):
    created = client.post("/e/forum/admin/tracks/new", data={"name": "Entrepreneuriat", "colour": "#047857"})
    assert created.status_code == 302
    track = db.session.scalar(db.select(Track).filter_by(name="Entrepreneuriat"))
    assert track.colour == "#047857" and track.slug == "entrepreneuriat"
    assert "Parcours créé." in client.get("/e/forum/admin/tracks").get_data(as_text=True)

    client.post(f"/e/forum/admin/tracks/{track.id}", data={"name": "Création d'entreprise", "colour": "#B45309"})
    db.session.expire_all()
    assert (track.name, track.colour, track.slug) == ("Création d'entreprise", "#b45309", "creation-d-entreprise")

    europe = db.session.scalar(db.select(Track).filter_by(name="Europe"))
    client.post(f"/e/forum/admin/tracks/{europe.id}/delete")
    assert db.session.get(Track, europe.id) is None
    assert session_by_code("A1").track_id is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Europe", "colour": "#123456"}, "Un parcours porte déjà ce nom."),
        ({"name": "Autre", "colour": "rouge"}, "La couleur s'écrit #rrvvbb"),
        ({"name": "Autre", "colour": "#12345"}, "La couleur s'écrit #rrvvbb"),
        ({"name": "", "colour": "#123456"}, "Ce champ est obligatoire."),
    ],
)
def test_track_create_refuses_invalid_input(client, event, organiser, data, message):
    response = client.post("/e/forum/admin/tracks/new", data=data)

    assert response.status_code == 422 and message in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(db.select(db.func.count(Track.id))) == 1


# People ------------------------------------------------------------------------------------------


def test_person_create_edit_delete(client, event, organiser):
    created = client.post(
        "/e/forum/admin/people/new", data={"name": "Chloé Durand", "job_title": "Élue", "organisation": "Brest"}
    )
    assert created.status_code == 302
    person = db.session.scalar(db.select(Person).filter_by(name="Chloé Durand"))
    assert (person.job_title, person.organisation) == ("Élue", "Brest")
    assert "Personne créée." in client.get("/e/forum/admin/people").get_data(as_text=True)

    client.post(f"/e/forum/admin/people/{person.id}", data={"name": "Chloé Durand", "job_title": "Adjointe", "organisation": ""})
    db.session.expire_all()
    assert (person.job_title, person.organisation) == ("Adjointe", "")

    alice = event.people[0]
    client.post(f"/e/forum/admin/people/{alice.id}/delete")
    assert db.session.get(Person, alice.id) is None
    assert session_by_code("P1").people == []


def test_person_create_refuses_a_missing_or_over_long_name(client, event, organiser):
    missing = client.post("/e/forum/admin/people/new", data={"name": "  ", "job_title": "", "organisation": ""})
    too_long = client.post("/e/forum/admin/people/new", data={"name": "N" * 201, "job_title": "", "organisation": ""})

    assert missing.status_code == 422 and "Ce champ est obligatoire." in missing.get_data(as_text=True)
    assert too_long.status_code == 422 and "200 caractères au maximum." in too_long.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Person.id))) == 2


def test_site_admin_without_a_role_manages_the_programme(client, event):
    admin = staff_user("admin@example.org", admin=True)
    client.post("/login", data={"email": admin.email, "password": PASSWORD})

    response = client.post("/e/forum/admin/rooms/new", data={"name": "Hall", "capacity": "100"})

    assert response.status_code == 302
    assert db.session.scalar(db.select(Room).filter_by(name="Hall")) is not None



def test_raising_a_workshop_capacity_seats_the_first_person_waiting(client, demo_event):
    from forum_app.registration import services as registration_services
    from forum_app.registration.services import RegistrationInput

    workshop = next(s for s in demo_event.sessions if s.code == "A1")
    workshop.capacity = 1
    db.session.commit()
    for n in range(2):
        registration_services.register(
            demo_event,
            RegistrationInput(first_name="Personne", last_name=f"N{n}", email=f"p{n}@example.org",
                              workshop_codes=["A1"], consent=True),
        )
    user = staff_user("orga-a1@example.org", "organiser", demo_event)
    client.post("/login", data={"email": user.email, "password": PASSWORD})

    response = client.post(
        f"/e/{demo_event.slug}/admin/sessions/{workshop.id}",
        data=session_data(code="A1", title=workshop.title, kind="workshop", day="2019-06-06", starts="11:30",
                          ends="13:00", room_id=str(workshop.room_id), signup_required="y", capacity="2"),
    )

    a1 = next(a for a in registration_services.availability(demo_event) if a.session.code == "A1")
    assert response.status_code == 302
    assert (a1.confirmed, a1.waitlisted) == (2, 0)
