"""Importing schedule files into the database, exporting them back, and the CLI commands around them."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from lxml import etree

from forum_app.auth.models import User
from forum_app.errors import InvalidInput
from forum_app.extensions import db
from forum_app.programme import imports, interop
from forum_app.programme.models import Event, Person, Room, Session, SessionPerson, Track

ROOT = Path(__file__).resolve().parent
DEMO_JSON = ROOT.parent / "forum_app" / "demo_data" / "citescap-programme.json"
LOOSE_JSON = ROOT / "data" / "pretalx-loose.json"
FRAB_XML = ROOT / "data" / "frab-schedule.xml"
SCHEMA = json.loads((ROOT / "interop" / "schedule.schema.json").read_text())
XSD = etree.XMLSchema(etree.parse(str(ROOT / "interop" / "schedule.xml.xsd")))
MODELS = (Event, Room, Track, Session, Person, SessionPerson)


def row_counts() -> dict[str, int]:
    return {model.__name__: db.session.scalar(db.select(db.func.count()).select_from(model)) for model in MODELS}


def titles() -> dict[str, str]:
    return {s.code: s.title for s in db.session.scalars(db.select(Session))}


def get(event: Event, code: str) -> Session:
    return db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))


def programme_view(event: Event, *, people_details: bool = True) -> list[tuple]:
    """What an attendee sees of a programme, independent of database ids."""
    rows = []
    for s in db.session.scalars(db.select(Session).filter_by(event_id=event.id)):
        people = tuple(
            (sp.person.name, sp.role, sp.person.job_title, sp.person.organisation) if people_details else sp.person.name
            for sp in s.people
        )
        rows.append(
            (s.code, s.title, s.kind, s.starts_at, s.ends_at, s.room.name if s.room else None,
             s.track.name if s.track else None, s.track.colour if s.track else None, people)
        )
    return sorted(rows)


def demo_copy(tmp_path: Path, change) -> Path:
    document = json.loads(DEMO_JSON.read_text())
    change(document)
    path = tmp_path / "programme.json"
    path.write_text(json.dumps(document, ensure_ascii=False))
    return path


def demo_events(document: dict) -> list[dict]:
    return [e for d in document["schedule"]["conference"]["days"] for r in d["rooms"].values() for e in r]


# --- importing ---


def test_demo_import_creates_the_event_rooms_tracks_and_sessions(app):
    result = imports.import_schedule_file(DEMO_JSON)

    event = result.event
    assert (event.slug, event.timezone) == ("citescap2019", "Europe/Paris")
    assert event.title.startswith("Cités Cap 2019")
    assert (event.start_date.isoformat(), event.end_date.isoformat()) == ("2019-06-06", "2019-06-07")
    assert (len(event.rooms), len(event.tracks), len(event.sessions)) == (6, 7, 14)
    assert get(event, "A1").starts_at == datetime(2019, 6, 6, 9, 30, tzinfo=timezone.utc)
    assert (result.created, result.updated, result.unchanged) == (14, 0, 0)
    assert result.summary() == "14 sessions créées, 0 mise à jour, 0 inchangée"


def test_demo_import_links_people_with_roles_and_details(app):
    event = imports.import_schedule_file(DEMO_JSON).event

    s103 = get(event, "S103")
    assert [(sp.person.name, sp.role) for sp in s103.people][:2] == [
        ("Marion Le Bihan", "moderator"), ("Jamal Khay", "speaker"),
    ]
    marion = s103.people[0].person
    assert (marion.job_title, marion.organisation) == ("Directrice", "RésOVilles")
    # One Person per human, however many sessions they appear in.
    assert db.session.scalar(db.select(db.func.count()).select_from(Person).filter_by(name="Marion Le Bihan")) == 1


def test_demo_workshops_start_with_signup_and_their_room_capacity(app):
    event = imports.import_schedule_file(DEMO_JSON).event

    a1, opening = get(event, "A1"), get(event, "S102")
    assert (a1.signup_required, a1.capacity) == (True, 60)
    assert (opening.signup_required, opening.capacity) == (False, None)


def test_loose_pretalx_file_imports(app):
    result = imports.import_schedule_file(LOOSE_JSON)

    event = result.event
    assert event.slug == "forumqpv2024"
    assert sorted(s.code for s in event.sessions) == ["201", "202", "203", "204", "205"]
    assert {r.name for r in event.rooms} == {"Grande salle", "Salle B", "Terrasse"}
    assert get(event, "202").starts_at == datetime(2024, 3, 14, 10, 45, tzinfo=timezone.utc)
    assert [sp.person.name for sp in get(event, "201").people] == [
        "Inès Garnier", "Bruno Lemaire-Tessier", "Karim Haddad",
    ]
    commerce = next(t for t in event.tracks if t.name == "Commerce")
    assert commerce.colour == "#475569"  # its colour was unusable: the default one


def test_frab_xml_file_imports(app):
    result = imports.import_schedule_file(FRAB_XML)

    event = result.event
    assert event.slug == "rencontres-eco"
    assert sorted(s.code for s in event.sessions) == ["301", "303", "304", "XK7P3M"]
    assert get(event, "304").starts_at == datetime(2023, 11, 21, 8, 30, tzinfo=timezone.utc)
    assert db.session.scalar(db.select(db.func.count()).select_from(Person).filter_by(event_id=event.id)) == 2


def test_import_into_a_named_event(app):
    event = imports.import_schedule_file(DEMO_JSON, event_slug="cites-cap-rennes").event

    assert event.slug == "cites-cap-rennes"
    with pytest.raises(InvalidInput):
        imports.import_schedule_file(DEMO_JSON, event_slug="Pas un slug !")


def test_importing_the_same_file_twice_changes_nothing(app):
    first = imports.import_schedule_file(DEMO_JSON)
    counts, version = row_counts(), first.event.programme_version

    second = imports.import_schedule_file(DEMO_JSON)

    assert row_counts() == counts
    assert (second.created, second.updated, second.unchanged) == (0, 0, 14)
    assert second.event.programme_version == version


@pytest.mark.parametrize("path", [LOOSE_JSON, FRAB_XML], ids=["pretalx-json", "frab-xml"])
def test_files_without_codes_reimport_in_place(app, path):
    imports.import_schedule_file(path)
    counts = row_counts()

    result = imports.import_schedule_file(path)

    assert row_counts() == counts
    assert result.created == 0 and result.updated == 0


def test_rooms_and_tracks_match_whatever_their_case(app, tmp_path):
    event = imports.import_schedule_file(DEMO_JSON).event
    counts = row_counts()

    def lower_names(document):
        conference = document["schedule"]["conference"]
        conference["tracks"][1]["name"] = "immobilier d'entreprise"
        demo_events(document)[5]["track"] = "immobilier d'entreprise"
    imports.import_schedule_file(demo_copy(tmp_path, lower_names))

    assert row_counts() == counts
    assert get(event, "A1").track.name == "immobilier d'entreprise"


def test_reimport_updates_in_place(app, tmp_path):
    event = imports.import_schedule_file(DEMO_JSON).event
    counts, version, a1_id = row_counts(), event.programme_version, get(event, "A1").id

    def retitle(document):
        demo_events(document)[5]["title"] = "Atelier 1 — Nouveau titre"
        demo_events(document)[5]["persons"].pop()  # the rapporteur changes
    result = imports.import_schedule_file(demo_copy(tmp_path, retitle))

    a1 = get(event, "A1")
    assert (a1.id, a1.title) == (a1_id, "Atelier 1 — Nouveau titre")
    assert [sp.person.name for sp in a1.people] == ["Claire Roussel", "Hugo Dumas"]
    assert row_counts() == counts | {"SessionPerson": counts["SessionPerson"] - 1}
    assert (result.created, result.updated, result.unchanged) == (0, 1, 13)
    assert event.programme_version == version + 1


def test_reimport_keeps_sessions_the_file_no_longer_has(app, tmp_path):
    event = imports.import_schedule_file(DEMO_JSON).event

    result = imports.import_schedule_file(
        demo_copy(tmp_path, lambda d: d["schedule"]["conference"]["days"].pop())  # drops day 2 (S114)
    )

    assert get(event, "S114") is not None
    assert result.kept == 1
    assert "1 session absente du fichier conservée" in result.summary()


def test_reimport_keeps_organiser_settings(app):
    event = imports.import_schedule_file(DEMO_JSON).event
    a1 = get(event, "A1")
    a1.capacity, a1.signup_required, event.venue = 25, False, "Le Couvent des Jacobins"
    db.session.commit()

    imports.import_schedule_file(DEMO_JSON)

    assert (a1.capacity, a1.signup_required, event.venue) == (25, False, "Le Couvent des Jacobins")


def test_broken_json_changes_nothing(app, tmp_path):
    imports.import_schedule_file(DEMO_JSON)
    before, before_titles = row_counts(), titles()
    path = tmp_path / "broken.json"
    path.write_text(DEMO_JSON.read_text()[:5000])

    with pytest.raises(InvalidInput) as caught:
        imports.import_schedule_file(path)

    assert "JSON invalide ligne" in caught.value.message
    assert row_counts() == before and titles() == before_titles


def test_structurally_broken_file_changes_nothing_and_names_the_place(app, tmp_path):
    imports.import_schedule_file(DEMO_JSON)
    before, before_titles = row_counts(), titles()

    def break_it(document):
        for event in demo_events(document):
            event["title"] += " (modifié)"
        document["schedule"]["conference"]["days"][0]["rooms"]["Salle Ille"][1]["date"] = "demain"
    with pytest.raises(InvalidInput) as caught:
        imports.import_schedule_file(demo_copy(tmp_path, break_it))

    assert 'schedule.conference.days[0].rooms["Salle Ille"][1].date' in caught.value.message
    assert row_counts() == before and titles() == before_titles


def test_failure_halfway_through_the_sessions_rolls_everything_back(app, tmp_path):
    event = imports.import_schedule_file(DEMO_JSON).event
    # An organiser added a session by hand; the new file gives its code to another session.
    db.session.add(Session(
        event=event, code="Z9", title="Visite de quartier", starts_at=datetime(2019, 6, 7, 12, tzinfo=timezone.utc),
        ends_at=datetime(2019, 6, 7, 13, tzinfo=timezone.utc),
    ))
    db.session.commit()
    before, before_titles, version = row_counts(), titles(), event.programme_version

    def change(document):
        events = demo_events(document)
        for item in events:
            item["title"] += " (v2)"
        events[-1]["persons"].append({"name": "Nouvelle Personne", "session_role": "speaker"})
        events.insert(0, events[0] | {"guid": "11111111-2222-4333-8444-555555555555", "code": "NEW1"})
        document["schedule"]["conference"]["days"][0]["rooms"]["Amphithéâtre"].insert(0, events[0])
        document["schedule"]["conference"]["rooms"].append({"name": "Salle neuve", "guid": None})
        events[9]["code"] = "Z9"  # the 9th session of the file: half the programme is already written

    with pytest.raises(InvalidInput) as caught:
        imports.import_schedule_file(demo_copy(tmp_path, change))

    assert "Z9" in caught.value.message and "Visite de quartier" in caught.value.message
    db.session.expire_all()
    assert row_counts() == before and titles() == before_titles
    assert db.session.get(Event, event.id).programme_version == version


def test_import_schedule_checks_data_built_by_hand(app):
    data = interop.parse_schedule_json(DEMO_JSON.read_bytes())
    data.sessions[3].kind = "concert"

    with pytest.raises(InvalidInput, match="concert"):
        imports.import_schedule(data)

    assert row_counts()["Event"] == 0


def test_import_schedule_refuses_two_sessions_with_one_code(app):
    data = interop.parse_schedule_json(DEMO_JSON.read_bytes())
    data.sessions[5].code = data.sessions[2].code

    with pytest.raises(InvalidInput, match="double"):
        imports.import_schedule(data)

    assert row_counts()["Session"] == 0


def test_codes_swapped_between_two_sessions_reimport(app, tmp_path):
    event = imports.import_schedule_file(DEMO_JSON).event
    a1_guid, a2_guid = get(event, "A1").guid, get(event, "A2").guid

    def swap(document):
        events = {e["code"]: e for e in demo_events(document)}
        events["A1"]["code"], events["A2"]["code"] = "A2", "A1"
    imports.import_schedule_file(demo_copy(tmp_path, swap))

    assert (get(event, "A1").guid, get(event, "A2").guid) == (a2_guid, a1_guid)


def test_import_schedule_accepts_data_from_the_parser(app):
    data = interop.parse_schedule(FRAB_XML.read_bytes())

    result = imports.import_schedule(data, event_slug="eco")

    assert result.event.slug == "eco" and result.created == 4


# --- exporting ---


def test_exported_json_validates_against_the_schema(app):
    event = imports.import_schedule_file(DEMO_JSON).event

    document = interop.build_schedule_json(imports.schedule_for_export(event, site_url="https://forum.example.org/"))

    validator = jsonschema.Draft6Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [e.message for e in validator.iter_errors(document)] == []
    a1 = next(e for d in document["schedule"]["conference"]["days"] for r in d["rooms"].values() for e in r
               if e["code"] == "A1")
    assert a1["url"] == "https://forum.example.org/e/citescap2019/s/A1"
    assert a1["date"] == "2019-06-06T11:30:00+02:00"


def test_exported_xml_validates_against_the_xsd(app):
    imports.import_schedule_file(LOOSE_JSON)
    event = imports.import_schedule_file(DEMO_JSON).event

    xml = interop.build_schedule_xml(imports.schedule_for_export(event, site_url="https://forum.example.org/"))

    assert XSD.validate(etree.fromstring(xml)), XSD.error_log


def test_json_import_export_import_gives_the_same_programme(app, tmp_path):
    original = imports.import_schedule_file(DEMO_JSON).event
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(interop.build_schedule_json(imports.schedule_for_export(original))))

    copy = imports.import_schedule_file(exported, event_slug="copie").event

    assert programme_view(copy) == programme_view(original)
    assert [(r.name, r.capacity) for r in copy.rooms] == [(r.name, r.capacity) for r in original.rooms]


def test_xml_import_export_import_gives_the_same_programme(app, tmp_path):
    original = imports.import_schedule_file(DEMO_JSON).event
    exported = tmp_path / "export.xml"
    exported.write_bytes(interop.build_schedule_xml(imports.schedule_for_export(original)))

    copy = imports.import_schedule_file(exported, event_slug="copie").event

    # The XSD has no place for job titles, organisations and roles: names only.
    assert programme_view(copy, people_details=False) == programme_view(original, people_details=False)


def test_export_of_a_re_imported_file_is_re_importable_in_place(app, tmp_path):
    event = imports.import_schedule_file(DEMO_JSON).event
    exported = tmp_path / "export.json"
    exported.write_text(json.dumps(interop.build_schedule_json(imports.schedule_for_export(event))))
    counts = row_counts()

    result = imports.import_schedule_file(exported)

    assert row_counts() == counts
    assert (result.event.id, result.unchanged) == (event.id, 14)


# --- command line ---


def test_flask_demo_load_builds_the_demo_and_its_organiser(app):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["demo", "load"])

    assert result.exit_code == 0, result.output
    assert "/e/citescap2019/" in result.output and "14 sessions créées" in result.output
    event = db.session.scalar(db.select(Event).filter_by(slug="citescap2019"))
    assert len(event.sessions) == 14
    organiser = db.session.scalar(db.select(User).filter_by(email="organisatrice@citescap.example"))
    assert organiser.role_at(event.id) == "organiser"


def test_flask_demo_load_brings_the_hauts_de_france_delegation_once(app):
    from forum_app.registration.models import Registration

    runner = app.test_cli_runner()

    first = runner.invoke(args=["demo", "load"])
    second = runner.invoke(args=["demo", "load"])

    people = db.session.scalars(db.select(Registration)).all()
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "12 people" in first.output and "delegation" not in second.output
    assert len(people) == 12 and all(p.status == "confirmed" for p in people)


def test_flask_demo_load_if_empty_does_nothing_the_second_time(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo", "load", "--if-empty"])
    counts = row_counts()

    result = runner.invoke(args=["demo", "load", "--if-empty"])

    assert result.exit_code == 0
    assert "not loaded" in result.output
    assert row_counts() == counts


def test_flask_programme_import_reports_the_place_of_a_broken_file(app, tmp_path):
    path = demo_copy(tmp_path, lambda d: demo_events(d)[5].update(duration="deux heures"))

    result = app.test_cli_runner().invoke(args=["programme", "import", str(path)])

    assert result.exit_code != 0
    assert 'rooms["Salle Vilaine"][0].duration' in result.output
    assert row_counts()["Session"] == 0


def test_flask_programme_import_imports_into_the_given_event(app):
    result = app.test_cli_runner().invoke(args=["programme", "import", str(FRAB_XML), "--event", "eco-2023"])

    assert result.exit_code == 0, result.output
    assert "/e/eco-2023/" in result.output
