"""French names of note kinds and messages of note problems (Babel msgids)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from forum_app.i18n import format_number
from forum_app.notes import domain

KIND_LABELS = {
    domain.KEY_POINT: _l("Point clé"),
    domain.QUOTE: _l("Citation"),
    domain.PROPOSAL: _l("Proposition"),
    domain.QUESTION: _l("Question de la salle"),
    domain.FIGURE: _l("Chiffre clé"),
    domain.PHOTO: _l("Photo"),
}

FIELD_LABELS = {
    "kind": _l("Type"),
    "text": _l("Texte"),
    "attribution": _l("Attribution"),
    "attribution.name": _l("Nom de la personne citée"),
    "attribution.job_title": _l("Fonction"),
    "attribution.organisation": _l("Organisation"),
    "client_id": _l("Identifiant de l'élément"),
    "captured_at": _l("Heure de saisie"),
    "version": _l("Version"),
}


def problem_message(problem: domain.Problem) -> str:
    field = str(FIELD_LABELS.get(problem.field, problem.field))
    if problem.code == "empty":
        return str(_l("%(field)s : ce champ est vide.", field=field))
    if problem.code == "too_long":
        return str(_l("%(field)s : %(limit)s caractères au plus (le texte n'a pas été coupé).",
                      field=field, limit=format_number(problem.limit)))
    if problem.code == "unknown_kind":
        return str(_l("Type inconnu : point clé, citation, proposition, question, chiffre clé ou photo."))
    if problem.code == "bad_attribution":
        return str(_l("Attribution illisible : un nom, une fonction et une organisation sont attendus."))
    if problem.code == "bad_client_id":
        return str(_l("Identifiant d'élément invalide : de 8 à 64 caractères parmi A-Z, a-z, 0-9, « - » et « _ »."))
    if problem.code == "bad_time":
        return str(_l("Heure de saisie invalide : date et heure ISO 8601 avec décalage."))
    if problem.code == "bad_version":
        return str(_l("Version manquante ou invalide : envoyez la version à partir de laquelle vous modifiez."))
    if problem.code == "not_text":
        return str(_l("%(field)s : du texte est attendu.", field=field))
    return str(_l("%(field)s : valeur invalide.", field=field))
