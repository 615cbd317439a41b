"""French labels of session kinds and people's roles (msgids in French; English comes from the catalogue).

Lazy strings: they are translated when rendered, in the language of the request.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

KIND_LABELS = {
    "plenary": _l("Plénière"),
    "round-table": _l("Table ronde"),
    "workshop": _l("Atelier"),
    "experience": _l("Présentation d'expériences"),
    "meeting": _l("Réunion"),
    "reception": _l("Accueil"),
    "lunch": _l("Déjeuner"),
    "break": _l("Pause"),
}

# One person in a role (shown next to a name on a programme card).
ROLE_LABELS = {
    "speaker": _l("Intervenant·e"),
    "moderator": _l("Modérateur·rice"),
    "witness": _l("Grand témoin"),
    "rapporteur": _l("Rapporteur·e"),
}

# Headings of the role groups on a session page: (one person, several people).
ROLE_GROUP_LABELS = {
    "speaker": (_l("Intervenant·e"), _l("Intervenant·e·s")),
    "moderator": (_l("Modérateur·rice"), _l("Modérateur·rice·s")),
    "witness": (_l("Grand témoin"), _l("Grands témoins")),
    "rapporteur": (_l("Rapporteur·e"), _l("Rapporteur·e·s")),
}


def kind_label(kind: str):
    """'workshop' -> 'Atelier'; an unknown kind is shown as it is stored."""
    return KIND_LABELS.get(kind, kind)


def role_label(role: str):
    return ROLE_LABELS.get(role, role)


def role_group_label(role: str, count: int):
    one, several = ROLE_GROUP_LABELS.get(role, (role, role))
    return several if count > 1 else one
