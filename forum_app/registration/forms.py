"""Attendee forms: register, edit one's details, change one's workshops (shape and format only).

The choices that depend on the event (delegations, workshops) are filled in by the view.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from forum_app.registration.labels import CATEGORY_LABELS

REQUIRED = _l("Ce champ est obligatoire.")
TOO_LONG = _l("%(max)d caractères au maximum.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (the template draws each one with its details)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        # Unknown codes are reported by the service with a clearer message than "not a valid choice".
        pass


class DetailsForm(FlaskForm):
    """What an attendee can edit about themselves (not the email, not the workshops)."""

    first_name = StringField(
        _l("Prénom"),
        filters=[_strip],
        validators=[DataRequired(message=REQUIRED), Length(max=100, message=TOO_LONG)],
        render_kw={"autocomplete": "given-name", "maxlength": 100},
    )
    last_name = StringField(
        lazy_pgettext("nom de famille", "Nom"),
        filters=[_strip],
        validators=[DataRequired(message=REQUIRED), Length(max=100, message=TOO_LONG)],
        render_kw={"autocomplete": "family-name", "maxlength": 100},
    )
    organisation = StringField(
        _l("Organisation"),
        description=_l("Collectivité, service, association, entreprise… Elle figure sur votre badge."),
        filters=[_strip],
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
        render_kw={"autocomplete": "organization", "maxlength": 200},
    )
    job_title = StringField(
        _l("Fonction"),
        filters=[_strip],
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
        render_kw={"autocomplete": "organization-title", "maxlength": 200},
    )
    category = SelectField(
        _l("Vous venez en tant que"),
        choices=[SelectChoice("", _l("Choisissez…"))] + [SelectChoice(code, label) for code, label in CATEGORY_LABELS.items()],
        validators=[InputRequired(message=_l("Choisissez une catégorie."))],
    )
    territory = StringField(
        _l("Territoire"),
        description=_l("Commune, intercommunalité, département ou région."),
        filters=[_strip],
        validators=[Optional(), Length(max=200, message=TOO_LONG)],
        render_kw={"maxlength": 200},
    )
    delegation = SelectField(_l("Délégation"), choices=[], validate_choice=False)
    accessibility_needs = TextAreaField(
        _l("Besoins d'accessibilité"),
        description=_l(
            "Facultatif : accès en fauteuil, boucle magnétique, interprétation en LSF, régime alimentaire… "
            "Seule l'équipe d'organisation le lit."
        ),
        filters=[_strip],
        validators=[Optional(), Length(max=2000, message=TOO_LONG)],
        render_kw={"rows": 3, "maxlength": 2000},
    )

    def validate_category(self, field) -> None:
        if field.data and field.data not in CATEGORY_LABELS:
            raise ValidationError(_l("Choisissez une catégorie."))

    def set_delegations(self, delegations) -> None:
        self.delegation.choices = [SelectChoice("", _l("Aucune"))] + [SelectChoice(str(d.id), d.name) for d in delegations]
        known = {str(d.id) for d in delegations}
        if self.delegation.data and self.delegation.data not in known:
            self.delegation.data = ""

    @property
    def delegation_id(self) -> int | None:
        value = self.delegation.data or ""
        return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


class RegistrationForm(DetailsForm):
    email = EmailField(
        _l("Adresse e-mail"),
        description=_l("Votre lien personnel et votre badge y seront envoyés."),
        filters=[_strip],
        validators=[
            DataRequired(message=REQUIRED),
            Length(max=254, message=TOO_LONG),
            Email(message=_l("Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."), check_deliverability=False),
        ],
        render_kw={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false", "maxlength": 254},
    )
    workshops = MultiCheckboxField(_l("Ateliers"), choices=[])
    consent = BooleanField(
        _l("Traitement de vos données"),
        validators=[DataRequired(message=_l("Votre accord est nécessaire pour vous inscrire."))],
    )
    # Honeypot: hidden from people (and from assistive technologies); bots fill every field.
    website = StringField(
        _l("Ne pas remplir ce champ"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )


class WorkshopsForm(FlaskForm):
    workshops = MultiCheckboxField(_l("Ateliers"), choices=[])


class ConfirmForm(FlaskForm):
    """A button and a CSRF token: cancel or erase."""
