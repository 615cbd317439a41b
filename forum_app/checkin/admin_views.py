"""Organiser screens of the door check-in: the live arrivals dashboard and the corrections.

- GET  /e/<slug>/admin/arrivals                 the dashboard (figures, chart, breakdowns, no-shows)
- GET  /e/<slug>/admin/arrivals/live            the same figures as an HTML fragment, for live.js:
                                                weak ETag from one cheap query, 304 when nothing changed
- GET  /e/<slug>/admin/checkins                 the audit trail: every scan, newest first, filters
- POST /e/<slug>/admin/checkins/<id>/undo       undo an arrival (kept, with who and when)

Reprinting a badge at the desk is the registration page's "Refaire le badge" (badges.reissue):
the trail and the no-shows link to it. Organisers only (site admins pass).
"""
from __future__ import annotations

from datetime import date
from urllib.parse import parse_qsl, urlencode

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
from flask_babel import lazy_pgettext, ngettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from forum_app import clock
from forum_app.checkin import dashboard, domain, services, stats
from forum_app.checkin.models import CheckIn
from forum_app.errors import Conflict, NotFound
from forum_app.extensions import db
from forum_app.i18n import current_language, format_clock, format_number
from forum_app.programme.domain import utc_to_local
from forum_app.registration.labels import CATEGORY_LABELS
from forum_app.security import event_role_required
from forum_app.web import etag_for

bp = Blueprint("checkin_admin", __name__, url_prefix="/e/<slug>/admin")

organiser_required = event_role_required("organiser")
POLL_SECONDS = 10  # CHECKIN_LIVE_POLL_SECONDS overrides it (the browser test polls every second)

OUTCOME_LABELS = {
    "checked_in": lazy_pgettext("passage", "Entrée"),
    "already_checked_in": _l("Déjà entré·e"),
    "invalid": _l("Badge invalide"),
    "revoked": _l("Badge révoqué"),
    "cancelled": _l("Inscription annulée"),
    "wrong_event": _l("Autre événement"),
    "not_confirmed": _l("Inscription non confirmée"),
    "not_signed_up": _l("Sans place à l'atelier"),
}
REFUSAL_LABELS = {
    "invalid": _l("Badge illisible, falsifié ou inconnu"),
    "revoked": _l("Ancien badge (réédité depuis)"),
    "cancelled": _l("Inscription annulée"),
    "wrong_event": _l("Badge d'un autre événement"),
    "not_confirmed": _l("Inscription pas encore confirmée"),
    "not_signed_up": _l("Sans place à l'atelier"),
}


@bp.errorhandler(CSRFError)
def stale_form(error):
    message = _("Le formulaire a expiré : rien n'a été annulé. Rechargez la page puis recommencez.")
    return render_template("errors/default.html", status=400, message=message), 400


@bp.context_processor
def labels():
    # Translated once per page (not once per row of a long list).
    return {
        "outcome_labels": {k: str(v) for k, v in OUTCOME_LABELS.items()},
        "refusal_labels": {k: str(v) for k, v in REFUSAL_LABELS.items()},
        "category_labels": {k: str(v) for k, v in CATEGORY_LABELS.items()},
        "to_local": _local,
    }


@bp.app_template_global()
def has_endpoint(endpoint: str) -> bool:
    """Whether a view is registered (the organisers' menu links to the station once it exists)."""
    return endpoint in current_app.view_functions


def _local(moment):
    return utc_to_local(moment, g.event.timezone) if moment else None


# --------------------------------------------------------------------------- the dashboard


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw) if raw and len(raw) == 10 else None
    except ValueError:
        return None


def _live_etag(event, args) -> str:
    """The fragment's validator: the data version, the filters, the language, and the current
    10 minutes (the chart of today runs to now)."""
    now_bucket = stats.bucket_start(clock.now(), event.timezone).isoformat()
    query = urlencode(sorted((k, v) for k, v in args.items(multi=True) if k in ("q", "category", "delegation", "day")))
    return etag_for("arrivals", dashboard.version(event), query, current_language(), now_bucket)


def _chart(data: dashboard.Dashboard):
    if not data.buckets:
        return None
    first, last = data.buckets[0], data.buckets[-1]
    total = sum(b.count for b in data.buckets)
    top = stats.peak(data.buckets)
    span = {"start": format_clock(first.start), "end": format_clock(last.end)}
    label = ngettext(
        "Arrivées par tranche de 10 minutes, de %(start)s à %(end)s : %(num)d arrivée.",
        "Arrivées par tranche de 10 minutes, de %(start)s à %(end)s : %(num)d arrivées.",
        total, **span,
    )
    if top is not None:
        label += " " + ngettext(
            "Pic : %(num)d arrivée entre %(from)s et %(to)s.",
            "Pic : %(num)d arrivées entre %(from)s et %(to)s.",
            top.count, **{"from": format_clock(top.start), "to": format_clock(top.end)},
        )

    def bar_title(bucket: stats.Bucket) -> str:
        return ngettext(
            "%(from)s – %(to)s : %(num)d arrivée", "%(from)s – %(to)s : %(num)d arrivées", bucket.count,
            **{"from": format_clock(bucket.start), "to": format_clock(bucket.end)},
        )

    return stats.bar_chart_svg(
        data.buckets,
        title=_("Arrivées par tranche de 10 minutes"),
        description=_("Une barre par tranche de 10 minutes ; sa hauteur est le nombre de personnes arrivées."),
        label=label,
        bar_title=bar_title,
        time_label=format_clock,
        number=format_number,
        id_prefix="arrivals-chart",
    )


def _live_context(event):
    filters = dashboard.parse_no_show_filters(request.args)
    data = dashboard.build(event, filters, _day(request.args.get("day")))
    return {
        "event": event,
        "data": data,
        "filters": filters,
        "chart": _chart(data),
        "updated_at": _local(clock.now()),
        "no_shows_shown": dashboard.NO_SHOWS_SHOWN,
    }


def _not_modified(etag: str):
    response = current_app.response_class(status=304)
    response.set_etag(etag, weak=True)
    return response


@bp.get("/arrivals")
@organiser_required
def arrivals(slug: str):
    event = g.event
    etag = _live_etag(event, request.args)
    context = _live_context(event)
    live_query = {k: v for k, v in request.args.items() if k in ("q", "category", "delegation", "day")}
    response = current_app.make_response(
        render_template(
            "checkin/admin_arrivals.html",
            live_url=url_for("checkin_admin.arrivals_live", slug=event.slug, **live_query),
            live_etag=f'W/"{etag}"',
            poll_ms=int(float(current_app.config.get("CHECKIN_LIVE_POLL_SECONDS", POLL_SECONDS)) * 1000),
            **context,
        )
    )
    return response


@bp.get("/arrivals/live")
@organiser_required
def arrivals_live(slug: str):
    event = g.event
    etag = _live_etag(event, request.args)  # before building anything
    if request.if_none_match.contains_weak(etag):
        return _not_modified(etag)
    response = current_app.make_response(render_template("checkin/_arrivals_live.html", **_live_context(event)))
    response.set_etag(etag, weak=True)
    return response


# --------------------------------------------------------------------------- corrections


@bp.get("/checkins")
@organiser_required
def checkins(slug: str):
    event = g.event
    filters = dashboard.parse_audit_filters(request.args)
    page = dashboard.audit(event, filters)
    return render_template(
        "checkin/admin_checkins.html",
        event=event,
        filters=filters,
        page=page,
        outcomes=list(OUTCOME_LABELS),
        entrance=dashboard.ENTRANCE,
        undone_filter=dashboard.UNDONE,
        back_query=urlencode(filters.query_args()),
        more_query=urlencode(filters.query_args(limit=filters.limit + dashboard.AUDIT_PAGE)),
        counted=domain.COUNTED,
    )


def _back_to_list(slug: str):
    """The trail with the filters it was showing (only its own, known query keys)."""
    raw = request.form.get("back", "")
    keys = ("outcome", "door", "station", "q", "limit")
    args = {k: v for k, v in parse_qsl(raw[:1000]) if k in keys}
    filters = dashboard.parse_audit_filters(args)
    return redirect(url_for("checkin_admin.checkins", slug=slug, **filters.query_args()))


@bp.post("/checkins/<int:checkin_id>/undo")
@organiser_required
def undo(slug: str, checkin_id: int):
    event = g.event
    before = db.session.scalar(db.select(CheckIn.undone_at).filter_by(id=checkin_id, event_id=event.id))
    try:
        row = services.undo_check_in(event, checkin_id, current_user._get_current_object())
    except NotFound:
        flash(_("Ce passage n'existe pas (ou plus) : rien n'a été annulé."), "error")
        return _back_to_list(slug)
    except Conflict:
        flash(_("Ce passage a été refusé à la porte : il n'y a pas d'entrée à annuler."), "error")
        return _back_to_list(slug)
    name = row.registration.full_name if row.registration is not None else _("cette personne")
    if before is not None:
        flash(_("L'entrée de %(name)s était déjà annulée : rien n'a changé.", name=name), "info")
    else:
        flash(
            _("Entrée de %(name)s annulée : son prochain passage à la porte l'enregistrera de nouveau.", name=name),
            "success",
        )
    return _back_to_list(slug)
