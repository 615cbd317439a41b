"""The public machine-readable feeds: schedule.json/.xml and the .ics calendars."""
from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path

import icalendar
import jsonschema
from lxml import etree

from forum_app.extensions import db
from forum_app.programme.models import Session
from forum_app.programme.services import bump_programme_version

ROOT = Path(__file__).resolve().parent
SCHEMA = json.loads((ROOT / "interop" / "schedule.schema.json").read_text())
XSD = etree.XMLSchema(etree.parse(str(ROOT / "interop" / "schedule.xml.xsd")))


def calendar_of(response) -> icalendar.Calendar:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    return icalendar.Calendar.from_ical(response.data)


def summaries(calendar: icalendar.Calendar) -> list[str]:
    return [str(event["summary"]) for event in calendar.walk("VEVENT")]


def retitle(event, code: str, title: str) -> None:
    session = db.session.scalar(db.select(Session).filter_by(event_id=event.id, code=code))
    session.title = title
    bump_programme_version(event)
    db.session.commit()


# --- schedule.json / schedule.xml ---


def test_schedule_json_validates_against_the_schema(client, demo_event):
    response = client.get("/e/citescap2019/schedule.json")

    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    validator = jsonschema.Draft6Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    assert [e.message for e in validator.iter_errors(document)] == []
    events = [e for d in document["schedule"]["conference"]["days"] for r in d["rooms"].values() for e in r]
    assert len(events) == 14
    a1 = next(e for e in events if e["code"] == "A1")
    assert a1["url"] == "http://localhost/e/citescap2019/s/A1"


def test_schedule_xml_validates_against_the_xsd(client, demo_event):
    response = client.get("/e/citescap2019/schedule.xml")

    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = etree.fromstring(response.data)
    assert XSD.validate(root), XSD.error_log
    assert len(root.findall("day/room/event")) == 14


def test_script_in_a_title_is_escaped_in_xml_and_text_in_json(client, demo_event):
    retitle(demo_event, "A1", "<script>alert(1)</script>")

    xml = client.get("/e/citescap2019/schedule.xml").data
    document = client.get("/e/citescap2019/schedule.json").get_json()

    assert b"<script>" not in xml and b"&lt;script&gt;alert(1)&lt;/script&gt;" in xml
    titles = [e["title"] for d in document["schedule"]["conference"]["days"] for r in d["rooms"].values() for e in r]
    assert "<script>alert(1)</script>" in titles


def test_unknown_event_is_404_for_every_feed(client, demo_event):
    for path in ("schedule.json", "schedule.xml", "programme.ics", "agenda.ics?s=A1", "s/A1.ics"):
        assert client.get(f"/e/nulle-part/{path}").status_code == 404, path


# --- .ics ---


def test_programme_ics_has_every_session_in_paris_time(client, demo_event):
    response = client.get("/e/citescap2019/programme.ics")

    calendar = calendar_of(response)
    assert response.headers["Content-Disposition"] == 'attachment; filename="citescap2019.ics"'
    events = calendar.walk("VEVENT")
    assert len(events) == 14
    a1 = next(e for e in events if str(e["summary"]).startswith("Atelier 1"))
    assert a1["dtstart"].params["TZID"] == "Europe/Paris"
    assert a1.decoded("dtstart").replace(tzinfo=None) == datetime(2019, 6, 6, 11, 30)
    assert str(a1["location"]) == "Salle Vilaine"
    assert str(a1["url"]) == "http://localhost/e/citescap2019/s/A1"
    assert "Claire Roussel" in str(a1["description"])
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]


def test_session_ics_holds_that_session_only(client, demo_event):
    response = client.get("/e/citescap2019/s/A3.ics")

    calendar = calendar_of(response)
    assert summaries(calendar) == ["Atelier 3 — Smart city, numérique et usages"]
    assert 'filename="citescap2019-A3.ics"' in response.headers["Content-Disposition"]
    a3 = db.session.scalar(db.select(Session).filter_by(code="A3"))
    assert str(calendar.walk("VEVENT")[0]["uid"]) == f"{a3.guid}@localhost"


def test_session_ics_is_not_taken_by_the_session_page_route(app, demo_event):
    # The HTML page /e/<slug>/s/<code> must not swallow /e/<slug>/s/<code>.ics.
    if not any(rule.rule == "/e/<slug>/s/<code>" for rule in app.url_map.iter_rules()):
        app.add_url_rule("/e/<slug>/s/<code>", "html_probe", lambda slug, code: "page HTML")
    adapter = app.url_map.bind("localhost")

    assert adapter.match("/e/citescap2019/s/A1.ics")[0] == "programme.session_ics"
    assert adapter.match("/e/citescap2019/s/A1")[0] != "programme.session_ics"
    assert app.test_client().get("/e/citescap2019/s/A1.ics").mimetype == "text/calendar"


def test_unknown_session_ics_is_404(client, demo_event):
    assert client.get("/e/citescap2019/s/ZZ99.ics").status_code == 404


def test_agenda_ics_keeps_the_chosen_sessions_and_ignores_garbage(client, demo_event):
    response = client.get("/e/citescap2019/agenda.ics?s=A3,a1,NOPE,<script>,,A1&s=S114")

    calendar = calendar_of(response)
    assert [s[:9] for s in summaries(calendar)] == ["Atelier 1", "Atelier 3", "Club dev "]
    assert 'filename="citescap2019-agenda.ics"' in response.headers["Content-Disposition"]


def test_agenda_ics_without_sessions_is_a_valid_empty_calendar(client, demo_event):
    for query in ("", "?s=", "?s=%00%FF", "?s=" + "X," * 5000):
        calendar = calendar_of(client.get("/e/citescap2019/agenda.ics" + query))
        assert summaries(calendar) == []
        assert str(calendar["version"]) == "2.0"


# --- conditional requests ---


def test_feeds_answer_304_while_the_programme_is_unchanged(client, demo_event):
    for path in ("schedule.json", "schedule.xml", "programme.ics", "s/A1.ics", "agenda.ics?s=A1,A3"):
        first = client.get(f"/e/citescap2019/{path}")
        etag = first.headers["ETag"]

        again = client.get(f"/e/citescap2019/{path}", headers={"If-None-Match": etag})

        assert again.status_code == 304, path
        assert again.data == b""


def test_gzipped_feeds_still_answer_304(client, demo_event):
    first = client.get("/e/citescap2019/programme.ics", headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    assert icalendar.Calendar.from_ical(gzip.decompress(first.data))

    again = client.get(
        "/e/citescap2019/programme.ics", headers={"Accept-Encoding": "gzip", "If-None-Match": first.headers["ETag"]}
    )

    assert again.status_code == 304


def test_a_programme_change_gives_new_feeds(client, demo_event):
    etag = client.get("/e/citescap2019/programme.ics").headers["ETag"]

    retitle(demo_event, "A1", "Atelier 1 — Nouveau titre")
    response = client.get("/e/citescap2019/programme.ics", headers={"If-None-Match": etag})

    assert response.status_code == 200
    assert "Atelier 1 — Nouveau titre" in summaries(calendar_of(response))


def test_different_agendas_have_different_etags(client, demo_event):
    one = client.get("/e/citescap2019/agenda.ics?s=A1").headers["ETag"]
    two = client.get("/e/citescap2019/agenda.ics?s=A1,A3").headers["ETag"]

    assert one != two
    assert client.get("/e/citescap2019/agenda.ics?s=A1,A3", headers={"If-None-Match": one}).status_code == 200
