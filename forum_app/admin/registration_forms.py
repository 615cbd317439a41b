"""Organiser forms for registrations and delegations: field shape and format only.

The rules (email syntax and uniqueness, overlapping workshops, seats) live in the registration
services and domain; the choices that depend on the event are filled in by the views.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from forum_app.registration.labels import CATEGORY_LABELS

REQUIRED = _l("Ce champ est obligatoire.")
TOO_LONG = _l("%(max)d caractères au maximum.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _text(label, limit: int, *, required: bool = False, description=None, **render_kw):
    validators = [DataRequired(message=REQUIRED)] if required else [Optional()]
    return StringField(
        label,
        description=description,
        filters=[_strip],
        validators=[*validators, Length(max=limit, message=TOO_LONG)],
        render_kw={"maxlength": limit, **render_kw},
    )


class WorkshopChoiceField(SelectMultipleField):
    """Workshop checkboxes; unknown or overlapping codes are refused by the service, in words."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form):
        pass


class PersonDetailsForm(FlaskForm):
    """What an organiser edits about a registered person (the email is the person's identity: fixed)."""

    first_name = _text(_l("Prénom"), 100, required=True, autocomplete="off")
    last_name = _text(lazy_pgettext("nom de famille", "Nom"), 100, required=True, autocomplete="off")
    organisation = _text(_l("Organisation"), 200, autocomplete="off")
    job_title = _text(_l("Fonction"), 200, autocomplete="off")
    category = SelectField(_l("Catégorie"), choices=list(CATEGORY_LABELS.items()), validate_choice=True, default="autre")
    territory = _text(_l("Territoire"), 200, description=_l("Commune, intercommunalité, département ou région."))
    delegation = SelectField(_l("Délégation"), choices=[], validate_choice=False)
    accessibility_needs = TextAreaField(
        _l("Besoins d'accessibilité"),
        filters=[_strip],
        validators=[Optional(), Length(max=2000, message=TOO_LONG)],
        render_kw={"rows": 3, "maxlength": 2000},
    )
    workshops = WorkshopChoiceField(_l("Ateliers"), choices=[])

    def set_choices(self, delegations, sessions) -> None:
        self.delegation.choices = [("", _l("— Aucune —"))] + [(str(d.id), d.name) for d in delegations]
        if self.delegation.data and self.delegation.data not in {str(d.id) for d in delegations}:
            self.delegation.data = ""
        self.workshops.choices = [(s.code, f"{s.code} — {s.title}") for s in sessions]

    @property
    def delegation_id(self) -> int | None:
        value = self.delegation.data or ""
        return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _email_field(description):
    return EmailField(
        _l("Adresse e-mail"),
        description=description,
        filters=[_strip],
        validators=[
            DataRequired(message=REQUIRED),
            Length(max=254, message=TOO_LONG),
            Email(message=_l("Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."), check_deliverability=False),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false", "maxlength": 254},
    )


class DeskRegistrationForm(PersonDetailsForm):
    """Someone registered at the desk by an organiser (no consent box: the organiser records it)."""

    email = _email_field(_l("Le lien personnel et le badge y sont envoyés."))


class EditRegistrationForm(PersonDetailsForm):
    email = _email_field(_l("À corriger en cas de faute de frappe : le lien personnel reste le même."))


class DelegationForm(FlaskForm):
    name = _text(_l("Nom de la délégation"), 200, required=True)
    territory = _text(_l("Territoire"), 200)
    contact_name = _text(_l("Personne à contacter"), 200, description=_l("Le ou la chef·fe de délégation."))
    contact_email = EmailField(
        _l("Son adresse e-mail"),
        filters=[_strip],
        validators=[
            Optional(),
            Length(max=254, message=TOO_LONG),
            Email(message=_l("Saisissez une adresse e-mail valide, par exemple nom@exemple.fr."), check_deliverability=False),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false", "maxlength": 254},
    )


class DelegationImportForm(FlaskForm):
    file = FileField(
        _l("Fichier CSV"),
        description=_l(
            "Une ligne par personne ; colonnes first_name, last_name, email, organisation, job_title, category, "
            "territory, delegation, workshops (codes d'ateliers séparés par « | »). Séparateur « ; » ou « , », "
            "UTF-8 (avec ou sans BOM) ; 1 Mo et 2 000 lignes au plus."
        ),
        render_kw={"accept": ".csv,text/csv,text/plain"},
    )
    delegation = SelectField(
        _l("Délégation"),
        choices=[],
        validate_choice=False,
        description=_l("Par défaut, celle de la colonne « delegation » du fichier (créée si elle n'existe pas)."),
    )

    def validate_file(self, field) -> None:
        if not field.data or not getattr(field.data, "filename", ""):
            raise ValidationError(_l("Choisissez le fichier CSV de la délégation."))

    def set_choices(self, delegations) -> None:
        self.delegation.choices = [("", _l("Celle indiquée dans le fichier"))] + [(str(d.id), d.name) for d in delegations]

    @property
    def delegation_id(self) -> int | None:
        value = self.delegation.data or ""
        return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
