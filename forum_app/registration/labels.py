"""Labels of the registration vocabulary in the page's language (one place for forms, lists, exports, badges)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

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
