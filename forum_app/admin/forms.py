"""Organiser forms: field shape and format only; the rules live in programme services and domain."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from forum_app.programme.domain import MAX_CAPACITY, SESSION_CODE_MAX_LENGTH
from forum_app.programme.labels import KIND_LABELS, ROLE_LABELS

REQUIRED = _l("Ce champ est obligatoire.")

# One set of labels for the public pages and the organiser screens.
SESSION_KIND_LABELS = KIND_LABELS
PERSON_ROLE_LABELS = ROLE_LABELS


def _upper(value):
    return value.strip().upper() if isinstance(value, str) else value


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _int_or_none(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def _too_long(limit: int):
    return Length(max=limit, message=_l("%(max)d caractères au maximum."))


def _capacity_field(label):
    return IntegerField(
        label,
        validators=[
            Optional(),
            NumberRange(min=0, max=MAX_CAPACITY, message=_l("Indiquez un nombre entre %(min)s et %(max)s.")),
        ],
        render_kw={"min": 0, "max": MAX_CAPACITY, "inputmode": "numeric"},
    )


class ConfirmForm(FlaskForm):
    """An empty form: its CSRF token is what a delete or remove button posts."""


class SessionForm(FlaskForm):
    code = StringField(
        _l("Code"),
        filters=[_upper],
        validators=[
            DataRequired(message=REQUIRED),
            _too_long(SESSION_CODE_MAX_LENGTH),
            Regexp(r"^[A-Z0-9]+$", message=_l("Lettres sans accent et chiffres uniquement (ex. A1).")),
        ],
        description=_l("Court et unique, par exemple A1 ou P2."),
        render_kw={"autocapitalize": "characters", "spellcheck": "false", "maxlength": SESSION_CODE_MAX_LENGTH},
    )
    title = StringField(
        _l("Titre"), filters=[_strip], validators=[DataRequired(message=REQUIRED), _too_long(300)], render_kw={"maxlength": 300}
    )
    subtitle = StringField(_l("Sous-titre"), filters=[_strip], validators=[_too_long(300)], render_kw={"maxlength": 300})
    kind = SelectField(
        _l("Type"),
        choices=[SelectChoice(value, label) for value, label in SESSION_KIND_LABELS.items()],
        validate_choice=True,
    )
    track_id = SelectField(_l("Parcours"), coerce=_int_or_none, validate_choice=True)
    room_id = SelectField(_l("Salle"), coerce=_int_or_none, validate_choice=True)
    day = DateField(
        _l("Jour"),
        validators=[InputRequired(message=REQUIRED)],
        format="%Y-%m-%d",
    )
    starts = TimeField(_l("Début"), validators=[InputRequired(message=REQUIRED)], format=["%H:%M", "%H:%M:%S"])
    ends = TimeField(_l("Fin"), validators=[InputRequired(message=REQUIRED)], format=["%H:%M", "%H:%M:%S"])
    abstract = TextAreaField(
        _l("Résumé"), filters=[_strip], validators=[_too_long(5000)], render_kw={"rows": 3, "maxlength": 5000}
    )
    description = TextAreaField(
        _l("Description"), filters=[_strip], validators=[_too_long(20000)], render_kw={"rows": 6, "maxlength": 20000}
    )
    signup_required = BooleanField(_l("Inscription obligatoire (atelier à places limitées)"))
    capacity = _capacity_field(_l("Nombre de places"))

    def set_choices(self, event) -> None:
        self.track_id.choices = [SelectChoice("", _l("— Aucun —"))] + [SelectChoice(str(t.id), t.name) for t in event.tracks]
        self.room_id.choices = [SelectChoice("", _l("— Aucune —"))] + [SelectChoice(str(r.id), r.name) for r in event.rooms]
        self.day.render_kw = {"min": event.start_date.isoformat(), "max": event.end_date.isoformat()}


class SessionPersonForm(FlaskForm):
    person_id = SelectField(_l("Personne"), coerce=_int_or_none, validate_choice=True)
    role = SelectField(_l("Rôle"), choices=[SelectChoice(value, label) for value, label in PERSON_ROLE_LABELS.items()], validate_choice=True)

    def set_choices(self, event) -> None:
        self.person_id.choices = [SelectChoice("", _l("— Choisir —"))] + [
            SelectChoice(str(p.id), f"{p.name} ({p.organisation})" if p.organisation else p.name) for p in event.people
        ]


class RoomForm(FlaskForm):
    name = StringField(
        _l("Nom"), filters=[_strip], validators=[DataRequired(message=REQUIRED), _too_long(200)], render_kw={"maxlength": 200}
    )
    capacity = _capacity_field(_l("Capacité (places)"))


class TrackForm(FlaskForm):
    name = StringField(
        _l("Nom"), filters=[_strip], validators=[DataRequired(message=REQUIRED), _too_long(200)], render_kw={"maxlength": 200}
    )
    colour = StringField(
        _l("Couleur"),
        filters=[_strip],
        default="#475569",
        validators=[
            DataRequired(message=REQUIRED),
            Regexp(r"^#[0-9a-fA-F]{6}$", message=_l("La couleur s'écrit #rrvvbb, par exemple #1d4ed8.")),
        ],
        render_kw={"type": "color"},
    )


class PersonForm(FlaskForm):
    name = StringField(
        _l("Nom"), filters=[_strip], validators=[DataRequired(message=REQUIRED), _too_long(200)], render_kw={"maxlength": 200}
    )
    job_title = StringField(_l("Fonction"), filters=[_strip], validators=[_too_long(300)], render_kw={"maxlength": 300})
    organisation = StringField(
        _l("Organisation"), filters=[_strip], validators=[_too_long(300)], render_kw={"maxlength": 300}
    )
