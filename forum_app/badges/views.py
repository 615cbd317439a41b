"""Badge PDFs and the public keys that let stations verify badges.

- GET  /e/<slug>/me/<token>/badge.pdf      the attendee's own A6 badge (a wrong token is a 404 that
                                             says nothing; a cancelled or rejected registration is a
                                             404 that says the badge is no longer valid)
- GET  /e/<slug>/badge-keys.json           public keys for door stations (public information)
- GET  /e/<slug>/admin/badges               organiser page: what to print, how many are printed
- GET  /e/<slug>/admin/badges.pdf?selection=all|unprinted|delegation:<id>|ids:1,2,3   A4 sheets
- POST /e/<slug>/admin/badges/printed       record a selection as printed
- GET  /e/<slug>/admin/registrations/<id>/badge.pdf          one A6 badge, for the desk
- POST /e/<slug>/admin/registrations/<id>/badge/reissue      new serial; the old badge is revoked
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from forum_app.badges import services
from forum_app.programme.services import get_event
from forum_app.security import event_role_required
from forum_app.web import etag_for

bp = Blueprint("badges", __name__)


def _pdf(data: bytes, filename: str, *, private: bool) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store" if private else "no-store"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- Attendees and stations ---


@bp.get("/e/<slug>/me/<token>/badge.pdf")
def attendee_badge_pdf(slug: str, token: str):
    event = get_event(slug)
    registration = services.attendee_registration(event, token)
    return _pdf(services.badge_pdf(registration), f"badge-{event.slug}.pdf", private=True)


@bp.get("/e/<slug>/badge-keys.json")
def badge_keys(slug: str):
    event = get_event(slug)
    document = services.public_keys_document(event)
    response = jsonify(document)
    response.set_etag(etag_for("badge-keys", event.id, *(key["key_id"] for key in document["keys"])))
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public keys: any station tool may read them
    return response.make_conditional(request)


# --- Organisers ---


@bp.get("/e/<slug>/admin/badges")
@event_role_required("organiser")
def admin_badges(slug: str):
    event = g.event
    return render_template(
        "badges/admin.html",
        event=event,
        counts=services.print_counts(event),
        delegations=services.delegation_counts(event),
    )


@bp.get("/e/<slug>/admin/badges.pdf")
@event_role_required("organiser")
def sheets_pdf(slug: str):
    event = g.event
    selection = services.parse_selection(request.args.get("selection"))
    registrations = services.select_for_printing(event, selection)
    data = services.badge_sheets_pdf(registrations)
    name = selection.key().replace(":", "-").replace(",", "-")[:60]
    return _pdf(data, f"badges-{event.slug}-{name}.pdf", private=False)


@bp.post("/e/<slug>/admin/badges/printed")
@event_role_required("organiser")
def mark_printed(slug: str):
    event = g.event
    selection = services.parse_selection(request.form.get("selection"))
    count = services.mark_printed(services.select_for_printing(event, selection))
    if count:
        flash(ngettext("%(num)d badge noté comme imprimé.", "%(num)d badges notés comme imprimés.", count), "success")
    else:
        flash(_("Aucun badge dans cette sélection : rien n'a changé."), "info")
    return redirect(url_for("badges.admin_badges", slug=event.slug))


@bp.get("/e/<slug>/admin/registrations/<int:registration_id>/badge.pdf")
@event_role_required("organiser")
def registration_badge_pdf(slug: str, registration_id: int):
    event = g.event
    registration = services.registration_by_id(event, registration_id)
    return _pdf(services.badge_pdf(registration), f"badge-{event.slug}-{registration.id}.pdf", private=False)


@bp.post("/e/<slug>/admin/registrations/<int:registration_id>/badge/reissue")
@event_role_required("organiser")
def reissue(slug: str, registration_id: int):
    event = g.event
    registration = services.reissue(services.registration_by_id(event, registration_id), actor=current_user)
    flash(
        _("Nouveau badge pour %(name)s : l'ancien badge ne permet plus d'entrer.", name=registration.full_name),
        "success",
    )
    return redirect(_back_to(event.slug))


def _back_to(slug: str) -> str:
    """Where to go after an organiser action: the `next` field or the referring page when they are
    this event's organiser pages on this site, the badges page otherwise."""
    prefix = f"/e/{slug}/admin"
    for candidate in (request.form.get("next"), request.referrer):
        if not candidate:
            continue
        parts = urlsplit(candidate)
        same_site = not parts.scheme and not parts.netloc or parts.netloc == request.host
        path = parts.path
        if same_site and (path == prefix or path.startswith(prefix + "/")) and "\\" not in candidate:
            return path + (f"?{parts.query}" if parts.query else "")
    return url_for("badges.admin_badges", slug=slug)
