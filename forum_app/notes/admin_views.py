"""Organisers' live view of every room's notes, and their moderation.

- GET  /e/<slug>/admin/notes                               every session with notes or a rapporteur: counts,
                                                           latest items across rooms (live refresh)
- GET  /e/<slug>/admin/notes/live                          the same as an HTML fragment for notes-live.js:
                                                           weak ETag from one cheap query, 304 when unchanged
- GET  /e/<slug>/admin/notes/<code>                        one session's items, deleted ones apart, with history
- POST /e/<slug>/admin/notes/items/<id>/report             include in / exclude from the report
- POST /e/<slug>/admin/notes/items/<id>/attribution        fix who is quoted (a stale version: the conflict is shown)
- POST /e/<slug>/admin/notes/items/<id>/merge              merge this item into another of its session
- POST /e/<slug>/admin/notes/items/<id>/restore            restore a deleted (or merged) item

Organisers only (site admins pass). The writes are notes.services' (edit_item, merge); the reads
are notes.moderation's. Every form works without JavaScript.
"""
from __future__ import annotations

from datetime import datetime

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from forum_app import clock
from forum_app.errors import DomainError, InvalidInput, NotFound
from forum_app.i18n import (
    current_language,
    format_clock,
    format_number,
    format_short_day,
)
from forum_app.notes import moderation, services
from forum_app.notes.labels import KIND_LABELS
from forum_app.programme.domain import utc_to_local
from forum_app.security import event_role_required
from forum_app.web import etag_for

bp = Blueprint("notes_admin", __name__, url_prefix="/e/<slug>/admin")

organiser_required = event_role_required("organiser")
POLL_SECONDS = 5  # NOTES_LIVE_POLL_SECONDS overrides it (the browser test polls every second)
MERGE_LABEL_CHARS = 60

ACTION_LABELS = {
    "created": _l("Saisi"),
    "edited": _l("Modifié"),
    "deleted": _l("Supprimé"),
    "restored": _l("Restauré"),
    "moderated": _l("Inclusion dans le rapport changée"),
    "merged": _l("Fusion"),
}


@bp.errorhandler(CSRFError)
def stale_form(error):
    message = _("Le formulaire a expiré : rien n'a été modifié. Rechargez la page puis recommencez.")
    return render_template("errors/default.html", status=400, message=message), 400


@bp.context_processor
def labels():
    # Translated once per page, not once per item.
    return {
        "kind_labels": {k: str(v) for k, v in KIND_LABELS.items()},
        "action_labels": {k: str(v) for k, v in ACTION_LABELS.items()},
        "to_local": _local,
        "since": _since,
        "short_day": _short_day,
        "count": _count,
        "attribution_line": moderation.attribution_line,
    }


def _local(moment: datetime | None):
    return utc_to_local(moment, g.event.timezone) if moment else None


def _short_day(local: datetime) -> str:
    """"jeu. 6 juin", formatted once per day and page (Babel's date formatting is slow in a loop)."""
    cache = g.setdefault("notes_short_days", {})
    day = local.date()
    if day not in cache:
        cache[day] = format_short_day(day)
    return cache[day]


def _count(value: int) -> str:
    """A count as the `number` filter writes it, without calling Babel for the small ones."""
    return str(value) if -1000 < value < 1000 else format_number(value)


def _since(moment: datetime | None, now: datetime | None = None) -> str:
    """"à l'instant", "il y a 2 min" within the hour, then "14 h 15" (with the day when not today)."""
    if moment is None:
        return ""
    now = now or clock.now()
    seconds = (now - moment).total_seconds()
    if -60 < seconds < 60:
        return _("à l'instant")
    if 0 < seconds < 3600:
        minutes = int(seconds // 60)
        return ngettext("il y a %(num)d min", "il y a %(num)d min", minutes)
    local, today = _local(moment), _local(now)
    if local.date() == today.date():
        return format_clock(local)
    return f"{_short_day(local)} {format_clock(local)}"


def _poll_ms() -> int:
    return int(float(current_app.config.get("NOTES_LIVE_POLL_SECONDS", POLL_SECONDS)) * 1000)


# --------------------------------------------------------------------------- the live overview


def _live_etag(event) -> str:
    """The fragment's validator: the notes' change counters, the assignments, the programme, the
    language, and the current minute ("il y a 2 min" moves on by itself)."""
    minute = clock.now().replace(second=0, microsecond=0).isoformat()
    return etag_for("notes-overview", *moderation.version(event), event.programme_version, current_language(), minute)


def _live_context(event) -> dict:
    now = clock.now()
    return {
        "event": event,
        "overview": moderation.overview(event),
        "latest": moderation.latest(event),
        "now": now,
        "updated_at": _local(now),
    }


def _not_modified(etag: str):
    response = current_app.response_class(status=304)
    response.set_etag(etag, weak=True)
    return response


@bp.get("/notes")
@organiser_required
def overview(slug: str):
    event = g.event
    etag = _live_etag(event)
    return render_template(
        "notes/admin_overview.html",
        live_url=url_for("notes_admin.overview_live", slug=event.slug),
        live_etag=f'W/"{etag}"',
        poll_ms=_poll_ms(),
        **_live_context(event),
    )


@bp.get("/notes/live")
@organiser_required
def overview_live(slug: str):
    event = g.event
    etag = _live_etag(event)  # before building anything
    if request.if_none_match.contains_weak(etag):
        return _not_modified(etag)
    response = current_app.make_response(render_template("notes/_overview_live.html", fragment=True, **_live_context(event)))
    response.set_etag(etag, weak=True)
    return response


# --------------------------------------------------------------------------- one session


def _merge_label(item) -> str:
    text = " ".join((item.text or "").split())
    if len(text) > MERGE_LABEL_CHARS:
        text = text[: MERGE_LABEL_CHARS - 1].rstrip() + "…"
    return f"#{item.id} · {KIND_LABELS.get(item.kind, item.kind)} · {text or '—'}"


def _item_labels() -> dict[str, str]:
    """The words repeated on every item card, translated once per page ({id}, {n}... filled in the
    template with str.format): a long session has a few dozen items."""
    return {
        "item_n": _("élément n° %(id)s", id="{id}"),
        "the_item_n": _("l'élément n° %(id)s", id="{id}"),
        "merged_into": _("fusionné dans n° %(id)s", id="{id}"),
        "deleted": _("supprimé"),
        "version": _("version %(n)s", n="{n}"),
        "captured": _("Saisi à %(time)s", time="{time}"),
        "by": _("par %(name)s", name="{name}"),
        "received": _("reçu à %(time)s", time="{time}"),
        "no_caption": _("Photo sans légende"),
        "restore": _("Restaurer"),
        "exclude": _("Exclure du rapport"),
        "include": _("Inclure dans le rapport"),
        "merge_with": _("Fusionner avec…"),
        "fix_attribution": _("Corriger l'attribution"),
        "session_person": _("Une personne de la session"),
        "choose": _("— choisir —"),
        "attribute_to": _("Attribuer à cette personne"),
        "or_type": _("Ou saisir qui parle"),
        "name": _("Nom"),
        "name_hint": _("Laissez les trois champs vides pour ne l'attribuer à personne."),
        "job_title": _("Fonction"),
        "organisation": _("Organisation"),
        "save_attribution": _("Enregistrer l'attribution"),
        "deleted_account": _("compte supprimé"),
        "unknown": _("inconnu"),
    }


def _render_session(code: str, *, problem: dict | None = None, status: int = 200):
    event = g.event
    session = services.get_session(event, code)
    items = moderation.session_items(session)
    # "Fusionner avec…" opens the choice for one item at a time (a list of every other item under
    # each item would weigh n² on a long session).
    raw = request.args.get("fusionner", "")
    merging = int(raw) if (raw.isascii() and raw.isdigit()) and len(raw) < 10 else None
    return render_template(
        "notes/admin_session.html",
        event=event,
        session=session,
        stats=moderation.session_counts(event, session),
        items=items,
        people=services.session_people(session),
        merging=merging,
        merge_labels={item.id: _merge_label(item) for item in items.live} if merging else {},
        page_url=url_for("notes_admin.session_notes", slug=event.slug, code=session.code),
        problem=problem,
        t=_item_labels(),
        now=clock.now(),
    ), status


@bp.get("/notes/<code>")
@organiser_required
def session_notes(slug: str, code: str):
    return _render_session(code)


# --------------------------------------------------------------------------- moderation (POST, PRG)


def _user():
    return current_user._get_current_object()


def _item_or_404(item_id: int):
    """The item (with its session) of this event; another event's item is not found."""
    item = moderation.find_item(g.event, item_id)
    if item is None:
        raise NotFound(_("Cet élément de note n'existe pas."))
    return item


def _back(code: str, item_id: int | None = None):
    anchor = f"item-{item_id}" if item_id else None
    return redirect(url_for("notes_admin.session_notes", slug=g.event.slug, code=code, _anchor=anchor))


def _form_int(name: str) -> int | None:
    raw = (request.form.get(name) or "").strip().lstrip("#")
    return int(raw) if (raw.isascii() and raw.isdigit()) and len(raw) < 10 else None


@bp.post("/notes/items/<int:item_id>/report")
@organiser_required
def set_in_report(slug: str, item_id: int):
    item = _item_or_404(item_id)
    code = item.session.code
    choice = request.form.get("in_report")
    if choice not in ("0", "1"):
        flash(_("Choisissez d'inclure ou d'exclure l'élément : rien n'a changé."), "error")
        return _back(code, item_id)
    try:
        services.edit_item(g.event, item_id, _user(), {"version": item.version, "in_report": choice == "1"})
    except DomainError as error:
        flash(error.message, "error")
        return _back(code, item_id)
    if choice == "1":
        flash(_("Élément n° %(id)s inclus dans le rapport.", id=item_id), "success")
    else:
        flash(_("Élément n° %(id)s exclu du rapport (il reste visible ici).", id=item_id), "success")
    return _back(code, item_id)


def _attribution_from_form(current_person_id: int | None, current_name: str) -> tuple[dict | None, dict]:
    """What the organiser asked for, for the service, and as typed (to fill the form again).

    "person" = one of the session's people (their programme details); "typed" = name, job title,
    organisation typed (an empty name removes the attribution). A typed fix of the same name keeps
    the link to the programme person it was picked from."""
    mode = request.form.get("mode")
    typed = {key: (request.form.get(key) or "").strip() for key in ("name", "job_title", "organisation")}
    attempted = {"mode": mode, "person_id": _form_int("person_id"), **typed}
    if mode == "person":
        person_id = attempted["person_id"]
        return ({"person_id": person_id} if person_id else None), attempted
    if mode == "typed":
        if not typed["name"] and not typed["job_title"] and not typed["organisation"]:
            return {}, attempted  # nobody named any more
        keep = current_person_id if current_person_id and " ".join(typed["name"].split()) == current_name else None
        return {**typed, "person_id": keep}, attempted
    return None, attempted


@bp.post("/notes/items/<int:item_id>/attribution")
@organiser_required
def fix_attribution(slug: str, item_id: int):
    item = _item_or_404(item_id)
    code = item.session.code
    base = _form_int("version")
    attribution, attempted = _attribution_from_form(item.attribution_person_id, item.attribution_name)
    if base is None or attribution is None:
        message = (_("Choisissez une personne de la session, ou saisissez un nom.") if base is not None
                   else _("Formulaire incomplet : rechargez la page puis recommencez."))
        return _render_session(code, status=422, problem={
            "item_id": item_id, "kind": "invalid", "message": message, "attempted": attempted,
        })
    try:
        saved = services.edit_item(g.event, item_id, _user(), {"version": base, "attribution": attribution or None})
    except services.EditConflict as conflict:
        current = conflict.current.get("attribution") or {}
        return _render_session(code, status=409, problem={
            "item_id": item_id, "kind": "conflict", "message": conflict.message, "attempted": attempted,
            "current": moderation.attribution_line_of(current), "version": conflict.current.get("version"),
        })
    except InvalidInput as error:
        return _render_session(code, status=422, problem={
            "item_id": item_id, "kind": "invalid", "message": error.message, "attempted": attempted,
        })
    who = moderation.attribution_line_of(saved.get("attribution") or {})
    if who:
        flash(_("Attribution de l'élément n° %(id)s corrigée : %(who)s.", id=item_id, who=who), "success")
    else:
        flash(_("L'élément n° %(id)s n'est plus attribué à personne.", id=item_id), "success")
    return _back(code, item_id)


@bp.post("/notes/items/<int:item_id>/merge")
@organiser_required
def merge(slug: str, item_id: int):
    code = _item_or_404(item_id).session.code
    into = _form_int("into")
    if into is None:
        flash(_("Choisissez l'élément dans lequel fusionner celui-ci : rien n'a changé."), "error")
        return _back(code, item_id)
    target = moderation.find_item(g.event, into)
    if target is not None and target.deleted_at is not None:
        flash(_("L'élément n° %(id)s est supprimé : restaurez-le d'abord, ou choisissez-en un autre.", id=into), "error")
        return _back(code, item_id)
    try:
        kept = services.merge(g.event, item_id, into, _user())
    except DomainError as error:
        flash(error.message, "error")
        return _back(code, item_id)
    flash(_("Élément n° %(dup)s fusionné dans l'élément n° %(kept)s (il reste restaurable).", dup=item_id, kept=kept["id"]),
          "success")
    return _back(code, kept["id"])


@bp.post("/notes/items/<int:item_id>/restore")
@organiser_required
def restore(slug: str, item_id: int):
    item = _item_or_404(item_id)
    code, was_deleted = item.session.code, item.deleted_at is not None
    if not was_deleted:
        flash(_("L'élément n° %(id)s n'était pas supprimé : rien n'a changé.", id=item_id), "info")
        return _back(code, item_id)
    try:
        services.edit_item(g.event, item_id, _user(), {"version": item.version, "deleted": False})
    except DomainError as error:
        flash(error.message, "error")
        return _back(code, item_id)
    flash(_("Élément n° %(id)s restauré.", id=item_id), "success")
    return _back(code, item_id)
