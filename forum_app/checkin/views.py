"""The door check-in station: `/e/<slug>/checkin`, for the event's volunteers and organisers.

The page is a shell for `static/js/checkin/station.js` (scanning, search, answers) on top of
`static/js/checkin/engine.js` (the API, the offline kit and queue). Everything the scripts need
travels in data-* attributes (the CSP allows no inline script): the API base, the CSRF token,
the user's role, the event's time zone, the vendored BarcodeDetector polyfill and the French
texts (translated here by Babel, so the page works in English too without a JS catalogue).
"""
from __future__ import annotations

from flask import Blueprint, g, make_response, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext, pgettext
from flask_login import current_user

from forum_app.i18n import format_clock, format_short_day, local_time
from forum_app.programme.labels import kind_label
from forum_app.security import CONTENT_SECURITY_POLICY, event_role_required

bp = Blueprint("checkin", __name__)

# The ZXing WebAssembly behind the BarcodeDetector polyfill (browsers without a native detector:
# iOS Safari, Firefox, desktop Chromium on Linux) needs the browser's permission to compile
# WebAssembly: given to this page only.
STATION_CSP = CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
assert STATION_CSP != CONTENT_SECURITY_POLICY, "the station's CSP must extend script-src"

# Doors besides the entrance: the sessions whose attendance is worth counting at their door.
NO_DOOR_KINDS = ("break", "lunch", "reception")
ID_PLACEHOLDER = 999999999  # replaced by a registration id in the scripts


def _texts() -> dict[str, str]:
    """The French texts the scripts show (placeholders in braces: {time}, {station}, {n}, {name})."""
    return {
        "checked_in": _("Arrivée enregistrée"),
        "checked_in_forced": _("Entrée accordée sans place réservée"),
        "already": _("Déjà enregistré·e à %(time)s (%(station)s)", time="{time}", station="{station}"),
        "already_no_station": _("Déjà enregistré·e à %(time)s", time="{time}"),
        "refused": _("Entrée refusée"),
        "invalid": _("Badge inconnu ou falsifié"),
        "revoked": _("Ancien badge : un nouveau badge a été émis"),
        "cancelled": _("Inscription annulée"),
        "wrong_event": _("Badge d'un autre événement"),
        "not_confirmed": _("Inscription en attente de validation"),
        "not_signed_up": _("Pas de place réservée dans cet atelier"),
        "unknown_outcome": _("Réponse inattendue du serveur"),
        "unverified": _("Badge noté, vérification au retour du réseau"),
        "unverified_reason": _("Cet appareil n'a pas encore la liste des inscrit·e·s : laissez entrer si le badge semble authentique, le serveur tranchera."),
        "not_in_kit": _("Badge authentique ; la personne n'est pas encore dans la liste de cet appareil."),
        "not_queued": _("Attention : ce passage n'a pas pu être gardé sur cet appareil (mémoire pleine)."),
        "rejected": _("%(count)s refusé(s) par le serveur", count="{n}"),
        "error": _("Le passage n'a pas pu être enregistré : %(message)s", message="{message}"),
        "offline_note": _("Vérifié sur cet appareil — envoi en attente"),
        "force": _("Faire entrer quand même"),
        "undo": _("Annuler ce passage"),
        "undone": _("Passage annulé : la personne pourra être enregistrée de nouveau."),
        # Messages of engine.js (config.messages)
        "engine_undo_offline": _("Annulation impossible hors connexion : réessayez quand le réseau revient."),
        "engine_undo_not_allowed": _("Seul·e un·e organisateur·rice peut annuler une entrée."),
        "engine_undo_failed": _("L'entrée n'a pas pu être annulée."),
        "engine_undo_done": _("Entrée annulée."),
        "engine_network": _("Le serveur ne répond pas."),
        "undo_failed": _("Annulation impossible : %(message)s", message="{message}"),
        "reprint": _("Réimprimer le badge"),
        "reprint_hint": _("L'ancien badge ne permettra plus d'entrer."),
        "dismiss": _("Touchez l'écran pour passer au badge suivant"),
        "workshops": _("Ateliers"),
        "waitlisted": _("liste d'attente"),
        "category": _("Catégorie"),
        "online": _("En ligne"),
        "offline": _("Hors connexion"),
        "busy": _("Serveur occupé"),
        "busy_retry_in": _("nouvel essai dans %(seconds)s s", seconds="{n}"),
        "busy_retrying": _("nouvel essai en cours"),
        "pending_one": ngettext(
            "%(count)s passage en attente d'envoi", "%(count)s passages en attente d'envoi", 1, count="{n}"
        ),
        "pending_other": ngettext(
            "%(count)s passage en attente d'envoi", "%(count)s passages en attente d'envoi", 2, count="{n}"
        ),
        "all_sent": _("tout est envoyé"),
        "auth_problem": _("Session expirée : reconnectez-vous pour envoyer les passages."),
        "kit_none": _("Liste des inscrit·e·s pas encore chargée"),
        "kit_at": _("Liste des inscrit·e·s mise à jour à %(time)s", time="{time}"),
        "arrived_at": _("déjà arrivé·e à %(time)s", time="{time}"),
        "check_in": _("Enregistrer l'arrivée"),
        "no_result": _("Personne de ce nom dans la liste des inscrit·e·s."),
        "search_needs_kit": _("La recherche par nom attend la liste des inscrit·e·s (connexion nécessaire une fois)."),
        "status_pending": _("en attente de validation"),
        "status_cancelled": _("annulée"),
        "camera_starting": _("Ouverture de la caméra…"),
        "camera_on": _("Présentez le QR code du badge à la caméra."),
        "camera_paused": _("Caméra en pause."),
        "camera_denied": _("Caméra refusée : autorisez-la dans les réglages du navigateur, ou utilisez la douchette ou la recherche par nom."),
        "camera_missing": _("Aucune caméra disponible sur cet appareil : utilisez la douchette ou la recherche par nom."),
        "camera_failed": _("La caméra n'a pas pu démarrer : %(message)s", message="{message}"),
        "detector_failed": _("La lecture des QR codes n'est pas disponible dans ce navigateur : utilisez la douchette ou la recherche par nom."),
        "scan": _("Scanner"),
        "pause": pgettext("caméra", "Pause"),
        "resume": _("Reprendre"),
        "keyboard": _("Saisir au clavier"),
    }


def _doors(event) -> list[dict]:
    """The workshop (and plenary) doors of the picker, by day, in programme order."""
    doors = []
    for session in sorted(event.sessions, key=lambda s: (s.starts_at, s.code)):
        if session.kind in NO_DOOR_KINDS:
            continue
        start = local_time(session.starts_at, event.timezone)
        doors.append(
            {
                "code": session.code,
                "label": f"{session.code} · {session.title}",
                "when": f"{format_short_day(start)}, {format_clock(start)}",
                "kind": str(kind_label(session.kind)),
                "signup_required": session.signup_required,
            }
        )
    return doors


@bp.get("/e/<slug>/checkin")
@event_role_required("organiser", "volunteer")
def station(slug: str):
    event = g.event
    role = "organiser" if current_user.is_organiser_at(event.id) else "volunteer"
    html = render_template(
        "checkin/station.html",
        event=event,
        role=role,
        doors=_doors(event),
        texts=_texts(),
        api_base=url_for("api.checkins", slug=event.slug).rsplit("/", 1)[0],
        reissue_url=url_for("badges.reissue", slug=event.slug, registration_id=ID_PLACEHOLDER),
        badge_pdf_url=url_for("badges.registration_badge_pdf", slug=event.slug, registration_id=ID_PLACEHOLDER),
        id_placeholder=ID_PLACEHOLDER,
        back_url=url_for("admin.dashboard", slug=event.slug) if role == "organiser" else url_for("auth.staff_home"),
    )
    response = make_response(html)
    response.headers["Content-Security-Policy"] = STATION_CSP
    # Kept on this device (a service worker may serve it on a reload without network), never shared.
    response.headers["Cache-Control"] = "private, no-cache"
    return response
