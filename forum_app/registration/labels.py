"""Labels of the registration vocabulary in the page's language (one place for forms, lists, exports, badges)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

# The labels of domain.CATEGORIES, in the order forms offer them.
CATEGORY_LABELS = {
    "collectivite": _l("Collectivité"),
    "elu": _l("Élu·e"),
    "etat": _l("État"),
    "association": _l("Association"),
    "entreprise": _l("Entreprise"),
    "centre_ressources": _l("Centre de ressources"),
    "habitant": _l("Habitant·e"),
    "autre": _l("Autre"),
}

# domain.FIELD_LABELS in the page's language (French: the same words).
FIELD_LABELS = {
    "first_name": _l("Prénom"),
    "last_name": lazy_pgettext("nom de famille", "Nom"),
    "email": _l("Adresse e-mail"),
    "organisation": _l("Organisation"),
    "job_title": _l("Fonction"),
    "category": _l("Catégorie"),
    "territory": _l("Territoire"),
    "delegation": _l("Délégation"),
    "accessibility_needs": _l("Besoins d'accessibilité"),
    "workshops": _l("Ateliers"),
    "consent": _l("Consentement"),
    "registration": _l("Inscription"),
}
