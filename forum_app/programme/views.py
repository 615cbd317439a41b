"""Public programme pages (no login)."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for

from forum_app.programme import services

bp = Blueprint("programme", __name__)


@bp.get("/")
def home():
    events = services.published_events()
    if len(events) == 1:
        return redirect(url_for("programme.event_programme", slug=events[0].slug))
    return render_template("programme/events.html", events=events)


@bp.get("/e/<slug>/")
def event_programme(slug: str):
    event = services.get_event(slug)
    return render_template("programme/programme.html", event=event)


# --- Machine-readable exports (c3voc/frab schedule, iCalendar): see imports.py and interop.py ---


@bp.get("/e/<slug>/schedule.json")
def schedule_json(slug: str):
    raise NotImplementedError


@bp.get("/e/<slug>/schedule.xml")
def schedule_xml(slug: str):
    raise NotImplementedError


@bp.get("/e/<slug>/programme.ics")
def programme_ics(slug: str):
    raise NotImplementedError


@bp.get("/e/<slug>/s/<code>.ics")
def session_ics(slug: str, code: str):
    raise NotImplementedError


@bp.get("/e/<slug>/agenda.ics")
def agenda_ics(slug: str):
    raise NotImplementedError
