"""The rapporteur's capture page: `/e/<slug>/notes/<code>`, phone first, laptop too.

The page is a shell for `static/js/notes/capture.js` (the screen) on top of `sync.js` (the API,
the queue, the live feed) and `store.js` (IndexedDB). Nothing typed is ever lost: every item is
written on the device first, then sent with its client_id. Everything the scripts need travels in
data-* attributes (the CSP allows no inline script): the API base, the CSRF token, the session
(code, title, time, room), its people (the attribution picker), the kind labels and the texts,
translated here by Babel so the page works in English too without a JS catalogue.
"""
from __future__ import annotations

from flask import Blueprint, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext, pgettext
from flask_login import current_user

from forum_app.errors import Forbidden
from forum_app.extensions import login_manager
from forum_app.i18n import format_clock, format_day, local_time
from forum_app.notes import domain, services
from forum_app.notes.labels import KIND_LABELS
from forum_app.programme.labels import ROLE_LABELS
from forum_app.programme.services import get_event
from forum_app.security import CONTENT_SECURITY_POLICY

bp = Blueprint("notes", __name__)

# Photos waiting on the device are shown from blob: URLs (object URLs of the stored files).
CAPTURE_CSP = CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", "img-src 'self' data: blob:")
assert CAPTURE_CSP != CONTENT_SECURITY_POLICY, "the capture page's CSP must extend img-src"


def _texts() -> dict[str, str]:
    """The texts the scripts show (placeholders in braces: {n}, {time}, {message}, {kind}...)."""
    return {
        "online": _("En ligne"),
        "offline": _("Hors connexion"),
        "busy": _("Serveur occupé"),
        "busy_retry_in": _("nouvel essai dans %(seconds)s s", seconds="{n}"),
        "busy_retrying": _("nouvel essai en cours"),
        "all_sent": _("tout est envoyé"),
        "kept_here": _("vos notes sont gardées sur cet appareil"),
        "pending_one": ngettext(
            "%(count)s élément en attente d'envoi", "%(count)s éléments en attente d'envoi", 1, count="{n}"
        ),
        "pending_other": ngettext(
            "%(count)s élément en attente d'envoi", "%(count)s éléments en attente d'envoi", 2, count="{n}"
        ),
        "sending": _("envoi en cours"),
        "auth_problem": _("Session expirée : reconnectez-vous (vos notes sont gardées sur cet appareil)"),
        "not_persistent": _("Attention : ce navigateur ne garde pas les notes sur l'appareil (navigation privée ?). Gardez la page ouverte jusqu'à l'envoi."),
        "not_stored": _("Attention : cet élément n'a pas pu être gardé sur l'appareil (mémoire pleine)."),
        "count_one": ngettext("%(count)s élément", "%(count)s éléments", 1, count="{n}"),
        "count_other": ngettext("%(count)s élément", "%(count)s éléments", 2, count="{n}"),
        "empty_list": _("Aucun élément pour l'instant : le premier que vous ajoutez apparaît ici."),
        "pending_mark": _("en attente"),
        "pending_mark_long": _("en attente d'envoi"),
        "highlight": _("À retenir pour le rapport"),
        "highlighted_mark": _("à retenir"),
        "edit": _("Modifier"),
        "delete": _("Supprimer"),
        "move_up": _("Monter"),
        "move_down": _("Descendre"),
        "move_up_label": _("Monter cet élément"),
        "move_down_label": _("Descendre cet élément"),
        "deleted": _("Élément supprimé."),
        "restore": pgettext("annuler une suppression", "Annuler"),
        "restore_label": _("Annuler la suppression"),
        "save": _("Enregistrer"),
        "cancel": _("Annuler"),
        "edit_title": _("Modifier l'élément"),
        "edit_text": _("Texte"),
        "edit_caption": _("Légende"),
        "edit_kind": _("Type"),
        "edit_from_version": _("Modification à partir de la version %(version)s", version="{version}"),
        "nobody": _("Personne nommée"),
        "nobody_option": _("Personne (pas d'attribution)"),
        "floor_option": _("Quelqu'un de la salle (saisie libre)"),
        "attribution": _("Qui parle ?"),
        "attribution_name": _("Nom"),
        "attribution_job_title": _("Fonction"),
        "attribution_organisation": _("Organisation"),
        "anonymous": _("Participant·e"),
        "from_floor": _("dans la salle"),
        "credit": _("Crédit : %(credit)s", credit="{credit}"),
        "photo_waiting": _("Photo gardée sur l'appareil, envoi en attente"),
        "photo_sent": _("Photo envoyée"),
        "photo_missing": _("Choisissez ou prenez une photo."),
        "photo_too_big": _("Cette photo dépasse %(size)s Mo : choisissez-en une plus petite.", size="{size}"),
        "photo_not_image": _("Ce fichier n'est pas une image."),
        "photo_alt": _("Photo : %(caption)s", caption="{caption}"),
        "photo_alt_plain": _("Photo sans légende"),
        "photo_preview": _("Aperçu de la photo choisie"),
        "chars_left": _("Encore %(count)s caractères", count="{n}"),
        "chars_over": _("%(count)s caractères de trop : raccourcissez le texte ou faites deux éléments. Rien n'a été envoyé.", count="{n}"),
        "empty_text": _("Écrivez le texte de l'élément avant de l'ajouter."),
        "floor_name_missing": _("Indiquez le nom de la personne citée, ou choisissez « Personne »."),
        "added": _("Élément ajouté."),
        "rejected": _("Refusé par le serveur : %(message)s", message="{message}"),
        "rejected_fix": _("Corrigez l'élément puis enregistrez : il sera renvoyé."),
        "drop": _("Abandonner"),
        "drop_confirm": _("Abandonner définitivement ce texte ?"),
        "conflict_title": _("Modifié ailleurs pendant votre modification"),
        "conflict_intro": _("Quelqu'un a changé cet élément (version %(version)s) pendant que vous le modifiiez. Votre texte est gardé : choisissez.", version="{version}"),
        "conflict_mine": _("Votre version"),
        "conflict_theirs": _("L'autre version"),
        "keep_mine": _("Garder ma version"),
        "keep_theirs": _("Garder l'autre version"),
        "merge": _("Fusionner"),
        "merge_label": _("Texte fusionné (modifiable)"),
        "merge_save": _("Enregistrer la fusion"),
        "conflict_mark": _("conflit à résoudre"),
        "error_storage": _("Cet appareil refuse de garder les notes : %(message)s", message="{message}"),
        "login": _("Se reconnecter"),
        "login_new_tab": _("(nouvel onglet)"),
    }


def _when(session, event) -> str:
    start = local_time(session.starts_at, event.timezone)
    end = local_time(session.ends_at, event.timezone)
    return f"{format_day(start)}, {format_clock(start)} – {format_clock(end)}"


@bp.get("/e/<slug>/notes/<code>")
def capture(slug: str, code: str):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    event = get_event(slug)
    session = services.get_session(event, code)
    user = current_user._get_current_object()
    if not services.can_write(user, session):
        raise Forbidden(_("Vous n'êtes pas rapporteur·e de cette session : demandez à l'équipe d'organisation de vous y affecter."))
    people = [
        {**person, "role_label": str(ROLE_LABELS.get(person["role"], person["role"]))}
        for person in services.session_people(session)
    ]
    kinds = [{"value": kind, "label": str(KIND_LABELS[kind])} for kind in domain.KINDS]
    html = render_template(
        "notes/capture.html",
        event=event,
        session=session,
        when=_when(session, event),
        room=session.room.name if session.room else "",
        people=people,
        kinds=kinds,
        texts=_texts(),
        limits={
            "text": domain.TEXT_MAX,
            "caption": domain.CAPTION_MAX,
            "name": domain.NAME_MAX,
            "job_title": domain.JOB_TITLE_MAX,
            "organisation": domain.ORGANISATION_MAX,
            "credit": domain.CREDIT_MAX,
            "upload_bytes": domain.UPLOAD_MAX_BYTES,
            "photo_side": domain.PHOTO_MAX_SIDE,
        },
        api_base=url_for("api.checkins", slug=event.slug).rsplit("/", 1)[0],
        login_url=url_for("auth.login", next=request.path),
        back_url=url_for("auth.staff_home"),
    )
    response = make_response(html)
    response.headers["Content-Security-Policy"] = CAPTURE_CSP
    # Kept on this device (the service worker serves it on a reload without network), never shared.
    response.headers["Cache-Control"] = "private, no-cache"
    return response
