"""The organisers' "Journal des actions": who changed what, newest first.

- GET /e/<slug>/admin/audit   filters ?action=&person=&day=YYYY-MM-DD&page=

Read-only: entries are append-only, there is no route to edit or delete one. Organisers of the
event and site admins only.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import Blueprint, g, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from forum_app.audit import services
from forum_app.i18n import current_language, format_clock
from forum_app.registration.labels import CATEGORY_LABELS, FIELD_LABELS
from forum_app.security import event_role_required

bp = Blueprint("audit", __name__, url_prefix="/e/<slug>/admin")

organiser_required = event_role_required("organiser")

# Names of the values `details["changes"]` may hold, besides the registration fields.
CHANGE_LABELS = {
    **FIELD_LABELS,
    "status": _l("Statut"),
    "badge_serial": _l("Numéro de badge"),
    "role": _l("Rôle"),
    "is_admin": _l("Administration du site"),
    "sessions": _l("Sessions"),
    "state": _l("Accord"),
    "comment": _l("Commentaire"),
    "undone": _l("Annulé"),
    "version": _l("Version"),
    "name": _l("Nom"),
    "code": _l("Code"),
    "title": _l("Titre"),
    "subtitle": _l("Sous-titre"),
    "kind": _l("Type"),
    "room": _l("Salle"),
    "track": _l("Parcours"),
    "starts": _l("Début"),
    "ends": _l("Fin"),
    "signup_required": _l("Sur inscription"),
    "capacity": _l("Capacité"),
    "abstract": _l("Résumé"),
    "description": _l("Description"),
    "colour": _l("Couleur"),
    "revoked": _l("Révoqué"),
}


# How the page shows the coded values `details` keeps (registration and report statuses, roles...).
VALUE_LABELS = {
    "status": {
        "pending": _l("En attente de validation"),
        "confirmed": _l("Confirmée"),
        "cancelled": _l("Annulée"),
        "rejected": _l("Refusée"),
        "draft": _l("Brouillon"),
        "review": _l("En relecture"),
        "published": _l("Publié"),
    },
    "category": CATEGORY_LABELS,
    "role": {"organiser": _l("Organisateur·rice"), "volunteer": _l("Bénévole d'accueil"), "rapporteur": _l("Rapporteur·rice")},
    "state": {"approved": _l("Accord donné"), "refused": _l("Accord refusé"), "amended": _l("Texte modifié"), "sent": _l("Demande envoyée")},
}


def _when(moment) -> str:
    """'6 juin 2019 à 9 h 12' ('6 June 2019 at 09:12' in English) in the event's time zone."""
    local = moment.astimezone(ZoneInfo(g.event.timezone))
    language = current_language()
    day = format_date(local, "d MMMM y", locale=language)
    return gettext("%(day)s à %(time)s", day=day, time=format_clock(local, language))


def _shown(value, key: str = "") -> str:
    if value is None or value == "" or value == []:
        return "—"
    labels = VALUE_LABELS.get(key, {})
    if isinstance(value, str) and value in labels:
        return str(labels[value])
    if isinstance(value, bool):
        return str(_l("oui") if value else _l("non"))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _changes(entry) -> list[tuple[str, str, str]]:
    changes = (entry.details or {}).get("changes") or {}
    return [
        (str(CHANGE_LABELS.get(key, key)), _shown(change.get("before"), key), _shown(change.get("after"), key))
        for key, change in changes.items()
        if isinstance(change, dict)
    ]


@bp.get("/audit")
@organiser_required
def journal(slug: str):
    event = g.event
    filters = services.parse_filters(request.args)
    page = services.entries_page(event, filters)
    return render_template(
        "admin/audit.html",
        event=event,
        filters=filters,
        page=page,
        actions=services.ACTIONS,
        when=_when,
        changes_of=_changes,
        action_label=services.action_label,
        page_url=lambda number: url_for(".journal", slug=event.slug, **filters.query_args(page=number)),
    )
