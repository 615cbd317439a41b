"""Schedule interchange without an app: reading c3voc/frab JSON and XML, writing them back, iCalendar."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import icalendar
import jsonschema
import pytest
from lxml import etree

from forum_app.errors import InvalidInput
from forum_app.programme import interop

ROOT = Path(__file__).resolve().parent
DEMO_JSON = ROOT.parent / "forum_app" / "demo_data" / "citescap-programme.json"
LOOSE_JSON = ROOT / "data" / "pretalx-loose.json"
FRAB_XML = ROOT / "data" / "frab-schedule.xml"
SCHEMA = json.loads((ROOT / "interop" / "schedule.schema.json").read_text())
XSD = etree.XMLSchema(etree.parse(str(ROOT / "interop" / "schedule.xml.xsd")))


def demo_document() -> dict:
    return json.loads(DEMO_JSON.read_text())


def demo() -> interop.ScheduleData:
    return interop.parse_schedule_json(DEMO_JSON.read_bytes())


def session(data: interop.ScheduleData, code: str) -> interop.SessionData:
    return next(s for s in data.sessions if s.code == code)


def schema_errors(document: dict) -> list[str]:
    validator = jsonschema.Draft6Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(document)]


def xsd_errors(content: bytes) -> list[str]:
    XSD.validate(etree.fromstring(content))
    return [str(error) for error in XSD.error_log]


def broken(message_part: str, content: bytes | str, **kwargs) -> str:
    with pytest.raises(InvalidInput) as caught:
        interop.parse_schedule(content, **kwargs)
    assert message_part in caught.value.message, caught.value.message
    return caught.value.message


# --- reading JSON ---


def test_demo_json_reads_rooms_tracks_and_sessions():
    data = demo()

    assert data.acronym == "citescap2019"
    assert data.time_zone == "Europe/Paris"
    assert (data.start.isoformat(), data.end.isoformat()) == ("2019-06-06", "2019-06-07")
    assert len(data.sessions) == 14
    assert [r.name for r in data.rooms][:2] == ["Amphithéâtre", "Salle Vilaine"]
    assert len(data.rooms) == 6 and data.rooms[0].capacity == 400
    assert len(data.tracks) == 7 and data.tracks[0].colour == "#1d4ed8"


def test_demo_json_times_are_aware_and_paris_local():
    a1 = session(demo(), "A1")

    assert a1.start.astimezone(timezone.utc) == datetime(2019, 6, 6, 9, 30, tzinfo=timezone.utc)
    assert a1.end - a1.start == timedelta(minutes=90)
    assert a1.kind == "workshop" and a1.room == "Salle Vilaine" and a1.track == "Immobilier d'entreprise"


def test_demo_json_persons_keep_job_title_organisation_and_role():
    s103 = session(demo(), "S103")

    moderator = s103.persons[0]
    assert (moderator.name, moderator.job_title, moderator.organisation, moderator.session_role) == (
        "Marion Le Bihan", "Directrice", "RésOVilles", "moderator",
    )
    assert [p.session_role for p in s103.persons].count("witness") == 1


def test_loose_pretalx_json_is_read():
    data = interop.parse_schedule(LOOSE_JSON.read_bytes(), filename="pretalx-loose.json")

    assert data.acronym == "FORUMQPV2024"
    assert [s.code for s in data.sessions] == ["201", "202", "203", "204", "205"]  # derived from the slugs
    opening = data.sessions[0]
    assert opening.external_id == 201 and opening.kind == "round-table"
    assert [p.name for p in opening.persons] == ["Inès Garnier", "Bruno Lemaire-Tessier", "Karim Haddad"]
    assert opening.end - opening.start == timedelta(minutes=90)
    assert data.sessions[1].start == datetime(2024, 3, 14, 10, 45, tzinfo=timezone.utc)
    assert data.sessions[1].end - data.sessions[1].start == timedelta(minutes=45)
    assert data.sessions[2].persons[0].session_role == "moderator"
    assert [r.name for r in data.rooms] == ["Grande salle", "Salle B", "Terrasse"]
    assert data.rooms[0].capacity == 250
    assert [(t.name, t.colour) for t in data.tracks] == [("Emploi", "#3aa57c"), ("Commerce", None)]


def test_missing_codes_are_derived_stably_and_uniquely():
    document = demo_document()
    for day in document["schedule"]["conference"]["days"]:
        for events in day["rooms"].values():
            for event in events:
                del event["code"], event["slug"], event["id"]

    first = interop.parse_schedule_json(json.dumps(document))
    second = interop.parse_schedule_json(json.dumps(document))

    codes = [s.code for s in first.sessions]
    assert codes == [s.code for s in second.sessions]
    assert len(set(codes)) == 14
    assert all(code.isalnum() and code.isupper() for code in codes)


def test_numeric_ids_as_strings_and_missing_optional_fields_are_accepted():
    document = demo_document()
    event = document["schedule"]["conference"]["days"][0]["rooms"]["Salle Ille"][0]
    event["id"] = "105"
    for key in ("subtitle", "language", "abstract", "description", "links", "attachments", "track", "url"):
        event.pop(key)
    event["unknown_key"] = {"nested": True}

    a2 = session(interop.parse_schedule_json(json.dumps(document)), "A2")

    assert a2.external_id == 105
    assert (a2.abstract, a2.track, a2.language) == ("", None, "fr")


@pytest.mark.parametrize("duration", ["01:30", "1:30", "01:30:00", "90"])
def test_durations_in_every_usual_form_are_read(duration):
    document = demo_document()
    document["schedule"]["conference"]["days"][0]["rooms"]["Salle Vilaine"][0]["duration"] = duration

    a1 = session(interop.parse_schedule_json(json.dumps(document)), "A1")

    assert a1.end - a1.start == timedelta(minutes=90)


def test_date_with_another_offset_is_the_same_instant():
    document = demo_document()
    document["schedule"]["conference"]["days"][0]["rooms"]["Salle Vilaine"][0]["date"] = "2019-06-06T09:30:00Z"

    a1 = session(interop.parse_schedule_json(json.dumps(document)), "A1")

    assert a1.start == datetime(2019, 6, 6, 11, 30, tzinfo=interop.ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize(
    ("type_", "kind"),
    [
        ("talk", "plenary"), ("Lecture", "plenary"), ("discussion", "round-table"), ("Podium", "round-table"),
        ("workshop", "workshop"), ("hands-on", "workshop"), ("meeting", "meeting"), ("Table ronde", "round-table"),
        ("Pause café", "break"), ("game", "plenary"), (None, "plenary"), ("round-table", "round-table"),
    ],
)
def test_session_types_map_to_our_kinds(type_, kind):
    assert interop.map_kind(type_) == kind


def test_unknown_person_role_becomes_speaker():
    document = demo_document()
    person = document["schedule"]["conference"]["days"][0]["rooms"]["Amphithéâtre"][1]["persons"][0]
    person["session_role"] = "mascotte"

    s102 = session(interop.parse_schedule_json(json.dumps(document)), "S102")

    assert s102.persons[0].session_role == "speaker"


def test_json_syntax_error_names_line_and_column():
    text = DEMO_JSON.read_text().replace('"acronym": "citescap2019",', '"acronym": "citescap2019"', 1)
    line = text[: text.index('"acronym"')].count("\n") + 2

    message = broken("JSON invalide", text)

    assert f"ligne {line}, colonne" in message


def test_structural_error_names_the_json_path():
    document = demo_document()
    document["schedule"]["conference"]["days"][0]["rooms"]["Salle Ille"][1]["date"] = "le 6 juin vers 14 h"

    broken('schedule.conference.days[0].rooms["Salle Ille"][1].date', json.dumps(document))


def test_missing_title_and_missing_days_are_named():
    document = demo_document()
    del document["schedule"]["conference"]["days"][1]["rooms"]["Salle Vilaine"][0]["title"]

    broken('schedule.conference.days[1].rooms["Salle Vilaine"][0].title : titre manquant', json.dumps(document))

    del document["schedule"]["conference"]["days"]
    broken("schedule.conference.days", json.dumps(document))


def test_several_problems_are_all_listed():
    document = demo_document()
    rooms = document["schedule"]["conference"]["days"][0]["rooms"]
    rooms["Salle Ille"][0]["duration"] = "longtemps"
    rooms["Salle Rance"][0]["persons"] = "Léa Tanguy"

    with pytest.raises(InvalidInput) as caught:
        interop.parse_schedule_json(json.dumps(document))

    assert len(caught.value.problems) == 2
    assert 'rooms["Salle Ille"][0].duration' in caught.value.problems[0]
    assert 'rooms["Salle Rance"][0].persons' in caught.value.problems[1]


def test_a_document_that_is_not_a_schedule_is_refused():
    broken("schedule", "[1, 2, 3]")
    broken("schedule.conference", '{"schedule": {"version": "1"}}')


# --- reading XML ---


def test_frab_xml_is_read():
    data = interop.parse_schedule(FRAB_XML.read_bytes(), filename="frab-schedule.xml")

    assert data.acronym == "rencontres-eco" and data.time_zone == "Europe/Paris"
    assert [s.code for s in data.sessions] == ["301", "XK7P3M", "303", "304"]
    assert [s.kind for s in data.sessions] == ["plenary", "round-table", "workshop", "plenary"]
    assert data.sessions[1].end - data.sessions[1].start == timedelta(minutes=75)
    assert data.sessions[2].end - data.sessions[2].start == timedelta(hours=2)
    assert [r.name for r in data.rooms] == ["Auditorium", "Salle 2"]
    # frab numbers its people: person 11 is one person in both sessions.
    assert data.sessions[0].persons[0].guid == data.sessions[3].persons[0].guid


def test_xml_syntax_error_names_the_line():
    text = FRAB_XML.read_text().replace("<title>Clôture</title>", "<title>Clôture</titre>")
    line = text[: text.index("</titre>")].count("\n") + 1

    broken(f"XML invalide ligne {line}", text.encode())


def test_xml_structural_error_names_the_line_and_element():
    text = FRAB_XML.read_text().replace("<duration>1:15</duration>", "<duration>une heure</duration>")
    line = text[: text.index("une heure")].count("\n") + 1

    message = broken(f"ligne {line}", text.encode())

    assert 'room[@name="Auditorium"]/event[2]/duration' in message


def test_xml_with_entities_is_refused():
    bomb = b"""<?xml version="1.0"?>
<!DOCTYPE schedule [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<schedule><version>&b;</version></schedule>"""

    broken("XML refusé", bomb)


# --- writing ---


def test_exported_json_validates_against_the_schema():
    document = interop.build_schedule_json(demo())

    assert schema_errors(document) == []
    assert document["schedule"]["conference"]["acronym"] == "citescap2019"


def test_exported_xml_validates_against_the_xsd():
    assert xsd_errors(interop.build_schedule_xml(demo())) == []


def test_exports_of_loose_and_frab_files_validate_too():
    for path in (LOOSE_JSON, FRAB_XML):
        data = interop.parse_schedule(path.read_bytes(), filename=path.name)
        assert schema_errors(interop.build_schedule_json(data)) == [], path.name
        assert xsd_errors(interop.build_schedule_xml(data)) == [], path.name


def test_export_sanitises_acronym_codes_and_colours():
    data = demo()
    data.acronym = "Cités Cap-2019"
    data.tracks[0].colour = "blue"
    data.sessions[0].title = "???"

    document = interop.build_schedule_json(data)

    assert schema_errors(document) == []
    assert document["schedule"]["conference"]["acronym"] == "cites_cap_2019"
    assert xsd_errors(interop.build_schedule_xml(data)) == []


def test_json_export_keeps_people_extras_in_schema_valid_keys():
    document = interop.build_schedule_json(demo())
    events = [e for d in document["schedule"]["conference"]["days"] for r in d["rooms"].values() for e in r]
    s103 = next(e for e in events if e["code"] == "S103")

    assert s103["persons"][0] | {"guid": None} == {
        "guid": None, "name": "Marion Le Bihan", "public_name": "Marion Le Bihan",
        "role": "Directrice", "organisation": "RésOVilles", "session_role": "moderator",
    }


def test_script_in_a_title_is_escaped_in_xml_and_kept_as_text_in_json():
    data = demo()
    session(data, "A1").title = '<script>alert("x")</script> & co'

    xml = interop.build_schedule_xml(data)
    document = interop.build_schedule_json(data)

    assert b"<script>" not in xml
    assert b"&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; co" in xml
    assert etree.fromstring(xml).find(".//event[@guid='%s']/title" % session(data, "A1").guid).text == (
        '<script>alert("x")</script> & co'
    )
    titles = [e["title"] for d in document["schedule"]["conference"]["days"] for r in d["rooms"].values() for e in r]
    assert '<script>alert("x")</script> & co' in titles


def test_control_characters_do_not_break_the_xml():
    data = demo()
    session(data, "A1").title = "Atelier\x0b1\x00"

    assert xsd_errors(interop.build_schedule_xml(data)) == []


def test_json_round_trip_keeps_everything():
    data = demo()

    again = interop.parse_schedule_json(json.dumps(interop.build_schedule_json(data)))

    assert again.sessions == data.sessions
    assert [(r.name, r.guid, r.capacity) for r in again.rooms] == [(r.name, r.guid, r.capacity) for r in data.rooms]
    assert [(t.name, t.colour) for t in again.tracks] == [(t.name, t.colour) for t in data.tracks]


def test_xml_round_trip_keeps_codes_times_rooms_tracks_and_names():
    data = demo()

    again = interop.parse_schedule_xml(interop.build_schedule_xml(data))

    def view(d):
        return sorted(
            (s.code, s.guid, s.title, s.start, s.end, s.room, s.track, s.kind, tuple(p.name for p in s.persons))
            for s in d.sessions
        )

    assert view(again) == view(data)


def test_calendar_uses_the_event_zone_and_local_times():
    data = demo()
    data.sessions = [session(data, "A1")]

    calendar = icalendar.Calendar.from_ical(
        interop.build_calendar(data, uid_host="forum.example.org", stamp=datetime(2019, 5, 1, tzinfo=timezone.utc))
    )

    (event,) = calendar.walk("VEVENT")
    assert event["dtstart"].params["TZID"] == "Europe/Paris"
    assert event.decoded("dtstart").replace(tzinfo=None) == datetime(2019, 6, 6, 11, 30)
    assert event.decoded("dtend").replace(tzinfo=None) == datetime(2019, 6, 6, 13, 0)
    assert str(event["uid"]) == f"{data.sessions[0].guid}@forum.example.org"
    assert str(event["location"]) == "Salle Vilaine"
    assert "Rapport : Thomas Lefebvre (Chargé d'études, ADULM)" in str(event["description"])
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
