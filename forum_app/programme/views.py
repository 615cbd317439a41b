"""Public programme pages (no login): the programme, a session, the personal agenda, offline support."""
from __future__ import annotations

import mimetypes
from datetime import date, datetime, tzinfo
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as flask_session
from flask_babel import gettext as _
from flask_login import current_user

from forum_app import clock, i18n, web
from forum_app.errors import NotFound
from forum_app.programme import domain, labels, services
from forum_app.programme.models import SESSION_KINDS, Event, Track

bp = Blueprint("programme", __name__)

PAGE_CACHE_CONTROL = "no-cache"  # pages change: always revalidate (cheap thanks to the ETag)
# The scripts and stylesheet every public page loads: their versions are part of the pages' ETags.
PAGE_ASSETS = ("css/app.css", "js/offline.js", "js/agenda.js")
mimetypes.add_type("application/manifest+json", ".webmanifest")


# --- Public pages ---


@bp.get("/")
def home():
    events = services.published_events()
    if len(events) == 1:
        return redirect(url_for("programme.event_programme", slug=events[0].slug))
    groups: dict[str, list[Event]] = {"ongoing": [], "upcoming": [], "past": []}
    for event in events:
        groups[domain.event_status(event.start_date, event.end_date, _event_today(event))].append(event)
    groups["upcoming"].sort(key=lambda e: e.start_date)
    response = make_response(render_template("programme/events.html", groups=groups, count=len(events)))
    response.headers["Cache-Control"] = PAGE_CACHE_CONTROL
    return response


@bp.get("/e/<slug>/")
def event_programme(slug: str):
    event = _public_event(slug)
    tracks, rooms = event.tracks, event.rooms
    now = clock.now()
    today = _event_today(event)
    days = event.days
    filters = domain.parse_filters(
        request.args,
        days=days,
        today=today,
        track_slugs=[track.slug for track in tracks],
        kinds=SESSION_KINDS,
        room_ids=[room.id for room in rooms],
    )
    on_today = today in days
    minute = now.replace(second=0, microsecond=0).isoformat() if on_today else ""
    etag = _page_etag(event, "programme", filters.key(), minute)
    if (not_modified := _not_modified(etag)) is not None:
        return not_modified

    if (cached := _cached_page(etag)) is not None:
        return cached
    listing = services.programme_listing(event, filters, today=today, now=now)
    html = render_template(
        "programme/programme.html",
        event=event,
        tz=ZoneInfo(event.timezone),
        days=days,
        today=today,
        filters=filters,
        tracks=tracks,
        rooms=rooms,
        kinds=services.kinds_in_use(event),
        slots=domain.group_by_start(listing.shown),
        shown_count=len(listing.shown),
        other_days=listing.other_days,
        now_next=listing.now_next,
    )
    return _page(html, etag, cacheable=event.is_published)


@bp.get("/e/<slug>/s/<code>")
def session_page(slug: str, code: str):
    event = _public_event(slug)
    etag = _page_etag(event, "session", code.upper())
    if (not_modified := _not_modified(etag)) is not None:
        return not_modified
    if (cached := _cached_page(etag)) is not None:
        return cached
    session = services.public_session(event, code)
    tz = ZoneInfo(event.timezone)
    html = render_template(
        "programme/session.html",
        event=event,
        session=session,
        tz=tz,
        day=session.starts_at.astimezone(tz).date(),
        role_groups=domain.group_by_role(session.people),
        paragraphs=domain.paragraphs(session.abstract) + domain.paragraphs(session.description),
    )
    return _page(html, etag, cacheable=event.is_published)


@bp.get("/e/<slug>/mon-programme")
def my_programme(slug: str):
    """Every session, hidden; agenda.js shows the ones starred on this device (and says so without JS)."""
    event = _public_event(slug)
    etag = _page_etag(event, "agenda")
    if (not_modified := _not_modified(etag)) is not None:
        return not_modified
    tz = ZoneInfo(event.timezone)
    sessions = services.public_sessions(event, with_people=False)
    by_day = domain.group_by_start(sessions, start_of=lambda s: s.starts_at.astimezone(tz).date())
    return _page(render_template("programme/my_programme.html", event=event, tz=tz, by_day=by_day), etag)


# --- Offline support: the service worker is served from the root so its scope is the whole site ---


@bp.get("/sw.js")
def service_worker():
    return web.send_static("js/sw.js", "no-cache")


@bp.get("/favicon.ico")
def favicon():
    return web.send_static("img/icon.svg", "public, max-age=86400")


# --- Helpers shared by the public pages ---


def _public_event(slug: str) -> Event:
    """A published event (unpublished ones only for its staff, as a preview)."""
    event = services.get_event(slug)
    if not event.is_published and not _is_staff_of(event):
        raise NotFound(_("Cet événement n'existe pas."))
    return event


def _is_staff_of(event: Event) -> bool:
    return bool(current_user.is_authenticated and (current_user.is_admin or current_user.role_at(event.id)))


def _event_today(event: Event) -> date:
    return i18n.local_time(clock.now(), event.timezone).date()


def _page_etag(event: Event, *parts: object) -> str:
    return web.etag_for(
        event.id,
        event.created_at.timestamp(),  # a database rebuilt under a running server starts versions at 1 again
        event.programme_version,
        event.is_published,
        i18n.current_language(),
        _assets_key(),
        *parts,
    )


def _not_modified(etag: str) -> Response | None:
    """304 when the browser already holds this version (gzip makes our ETags weak: compare weakly)."""
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
        return _cache_headers(response, etag)
    return None


class RenderedPages:
    """The last rendered public pages of this worker, keyed by their ETag.

    The ETag already names everything a public page depends on (programme version, language,
    filters, the minute when "now / next" shows, asset versions), so a hit is the very page a
    render would produce. It saves the render on busy event mornings, when hundreds of phones ask
    for the same programme. Bounded, oldest out first.
    """

    def __init__(self, capacity: int = 256):
        self.capacity = capacity
        self._pages: dict[str, str] = {}

    def get(self, etag: str) -> str | None:
        return self._pages.get(etag)

    def put(self, etag: str, html: str) -> None:
        if etag in self._pages:
            return
        if len(self._pages) >= self.capacity:
            self._pages.pop(next(iter(self._pages)))
        self._pages[etag] = html


def _rendered_pages() -> RenderedPages:
    return current_app.extensions.setdefault("forum_rendered_pages", RenderedPages())


def _cached_page(etag: str) -> Response | None:
    if "_flashes" in flask_session:
        return None
    html = _rendered_pages().get(etag)
    return None if html is None else _cache_headers(make_response(html), etag)


def _page(html: str, etag: str, *, cacheable: bool = False) -> Response:
    # Flashed messages are one visitor's: a page showing them must not be kept for others.
    if cacheable and "_flashes" not in flask_session:
        _rendered_pages().put(etag, html)
    return _cache_headers(make_response(html), etag)


def _cache_headers(response: Response, etag: str) -> Response:
    response.set_etag(etag, weak=True)
    response.headers["Cache-Control"] = PAGE_CACHE_CONTROL
    response.vary.update(("Cookie", "Accept-Encoding"))
    return response


# --- Template helpers (available to every template, staff screens included) ---

# asset_url() (a template global): forum_app/web.py, with the static files' routes and cache lifetimes.
asset_url = web.asset_url


def _assets_key() -> str:
    return "|".join(asset_url(name) for name in PAGE_ASSETS)


@bp.app_template_global()
def lang_url(code: str) -> str:
    """This page in another language (the choice is then remembered in a cookie)."""
    args = request.args.to_dict(flat=False)
    args["lang"] = [code]
    return request.path + "?" + urlencode(args, doseq=True)


@bp.app_template_filter("local")
def local_filter(moment: datetime, tz: tzinfo | str) -> datetime:
    """A stored (UTC) datetime at the venue: `{{ s.starts_at|local(tz)|clock }}`."""
    return moment.astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz)


@bp.app_template_global()
def track_class(track: Track | None) -> str:
    """The palette class of a track's colour (the CSP forbids style attributes)."""
    return "tc-" + (domain.track_palette_name(track.colour) if track else domain.DEFAULT_TRACK_COLOUR)


@bp.app_template_global()
def kind_label(kind: str) -> str:
    """'workshop' -> 'Atelier' in the page's language (translated once per request and language)."""
    return _translated(labels.KIND_LABELS).get(kind, kind)


@bp.app_template_global()
def role_label(role: str) -> str:
    return _translated(labels.ROLE_LABELS).get(role, role)


def _translated(table: dict) -> dict[str, str]:
    """A label table in the current language; lazy strings cost a gettext call each time they are shown."""
    cache = g.setdefault("_programme_labels", {})
    key = (id(table), i18n.current_language())
    if key not in cache:
        cache[key] = {name: str(label) for name, label in table.items()}
    return cache[key]


bp.add_app_template_global(labels.role_group_label, "role_group_label")
bp.add_app_template_global(domain.person_details, "person_details")


# --- Machine-readable exports (c3voc/frab schedule, iCalendar): see imports.py and interop.py ---


@bp.get("/e/<slug>/schedule.json")
def schedule_json(slug: str):
    """The c3voc schedule JSON (valid against interop/schedule.schema.json)."""
    import json

    from forum_app.programme import imports, interop

    event = _public_event(slug)
    etag = web.etag_for(event.id, event.programme_version, event.is_published, "schedule.json")
    if (not_modified := _not_modified(etag)) is not None:
        return not_modified
    data = imports.schedule_for_export(event, site_url=request.url_root)
    body = json.dumps(interop.build_schedule_json(data), ensure_ascii=False, indent=1)
    response = Response(body, mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"  # public data read by schedule apps
    return _cache_headers(response, etag)


@bp.get("/e/<slug>/schedule.xml")
def schedule_xml(slug: str):
    """The frab schedule XML (valid against interop/schedule.xml.xsd)."""
    from forum_app.programme import imports, interop

    event = _public_event(slug)
    etag = web.etag_for(event.id, event.programme_version, event.is_published, "schedule.xml")
    if (not_modified := _not_modified(etag)) is not None:
        return not_modified
    data = imports.schedule_for_export(event, site_url=request.url_root)
    response = Response(interop.build_schedule_xml(data), content_type="application/xml; charset=utf-8")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return _cache_headers(response, etag)


@bp.get("/e/<slug>/programme.ics")
def programme_ics(slug: str):
    """The whole programme as an iCalendar file (one VEVENT per session)."""
    event = _public_event(slug)
    return _calendar_response(event, None, f"{event.slug}.ics", _("Programme"))


@bp.get("/e/<slug>/s/<code>.ics")
def session_ics(slug: str, code: str):
    """One session, to add to a calendar."""
    event = _public_event(slug)
    session = services.public_session(event, code)  # 404 when unknown
    return _calendar_response(event, [session.code], f"{event.slug}-{session.code}.ics", session.title)


@bp.get("/e/<slug>/agenda.ics")
def agenda_ics(slug: str):
    """The attendee's own agenda: `?s=A1,A3` (unknown or malformed codes are ignored)."""
    import re

    event = _public_event(slug)
    codes: list[str] = []
    for value in request.args.getlist("s")[:20]:
        for token in re.split(r"[\s,;]+", value[:2000]):
            code = token.strip().upper()
            if re.fullmatch(r"[A-Z0-9]{1,16}", code) and code not in codes:
                codes.append(code)
    codes = sorted(codes[:200])
    return _calendar_response(event, codes, f"{event.slug}-agenda.ics", _("Mon programme"))


def _calendar_response(event: Event, codes: list[str] | None, filename: str, name: str) -> Response:
    """The .ics of the event's sessions (`codes` None = all), with ETag and 304."""
    from forum_app.programme import imports, interop
    from forum_app.programme.labels import ROLE_LABELS

    etag = web.etag_for(
        event.id, event.programme_version, event.is_published, i18n.current_language(), "ics", filename,
        ",".join(codes) if codes is not None else "*",
    )
    if (not_modified := _not_modified(etag)) is not None:
        return not_modified
    data = imports.schedule_for_export(event, site_url=request.url_root, codes=codes)
    body = interop.build_calendar(
        data,
        uid_host=current_app.config.get("SERVER_NAME") or request.host.split(":")[0],
        stamp=event.updated_at or clock.now(),
        calendar_name=f"{event.title} — {name}",
        role_labels={role: str(label) for role, label in ROLE_LABELS.items()},
    )
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _cache_headers(response, etag)
