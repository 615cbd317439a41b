"""Staff login and logout forms (shape only)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length

REQUIRED = _l("Ce champ est obligatoire.")


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"),
        validators=[DataRequired(message=REQUIRED), Length(max=320, message=_l("%(max)d caractères au maximum."))],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[DataRequired(message=REQUIRED), Length(max=1000, message=_l("%(max)d caractères au maximum."))],
        render_kw={"autocomplete": "current-password"},
    )
    next = HiddenField()

