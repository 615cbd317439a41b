"""Rapporteur forms: field shape only (the rules live in forum_app.notes.rapporteurs).

- InviteRapporteurForm: the organiser's invitation (email and name);
- AssignSessionForm: one per rapporteur on the list page (made with `prefix=` so the ids differ);
- ChoosePasswordForm: the invited person's password, on /invitation/<token>.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from forum_app.auth.services import MIN_PASSWORD_LENGTH

REQUIRED = _l("Ce champ est obligatoire.")
TOO_LONG = _l("%(max)d caractères au maximum.")


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class InviteRapporteurForm(FlaskForm):
    name = StringField(
        _l("Nom"),
        description=_l("Prénom et nom, tels qu'ils apparaîtront dans l'espace équipe."),
        filters=[_strip],
        validators=[DataRequired(message=REQUIRED), Length(max=200, message=TOO_LONG)],
        render_kw={"maxlength": 200, "autocomplete": "off"},
    )
    email = EmailField(
        _l("Adresse e-mail"),
        description=_l("Le lien pour choisir un mot de passe y est envoyé."),
        filters=[_strip],
        validators=[DataRequired(message=REQUIRED), Length(max=320, message=TOO_LONG)],
        render_kw={"maxlength": 320, "autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )


def _optional_int(value):
    """A select's value: the session id, or None for the "choose" placeholder (or anything else)."""
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class AssignSessionForm(FlaskForm):
    session_id = SelectField(
        _l("Session à confier"),
        coerce=_optional_int,
        validate_choice=True,
        validators=[DataRequired(message=_l("Choisissez une session."))],
    )

    def set_choices(self, sessions, label: str | None = None) -> None:
        """`sessions`: SessionLine rows (code, title) the rapporteur does not have yet."""
        # A placeholder first: the organiser picks a session on purpose, never the first one by mistake.
        self.session_id.choices = [("", _l("Choisir une session…"))] + [(s.id, f"{s.code} — {s.title}") for s in sessions]
        if label:
            self.session_id.label.text = label


class ChoosePasswordForm(FlaskForm):
    password = PasswordField(
        _l("Mot de passe"),
        description=_l("Au moins %(num)d caractères. Une phrase de quelques mots est facile à retenir.", num=MIN_PASSWORD_LENGTH),
        validators=[
            DataRequired(message=REQUIRED),
            Length(
                min=MIN_PASSWORD_LENGTH,
                max=1000,
                message=_l("Le mot de passe doit compter entre %(min)d et %(max)d caractères."),
            ),
        ],
        render_kw={"autocomplete": "new-password", "minlength": MIN_PASSWORD_LENGTH, "maxlength": 1000},
    )
    confirm = PasswordField(
        _l("Le même mot de passe, une seconde fois"),
        validators=[
            DataRequired(message=REQUIRED),
            EqualTo("password", message=_l("Les deux mots de passe ne sont pas identiques.")),
        ],
        render_kw={"autocomplete": "new-password", "maxlength": 1000},
    )
