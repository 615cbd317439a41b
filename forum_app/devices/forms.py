"""The organiser's form to add a door device: field shape only (the rules are in devices.domain)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from forum_app.devices.domain import NAME_MAX


class AddDeviceForm(FlaskForm):
    name = StringField(
        _l("Nom de l'appareil"),
        description=_l("Où il sert et ce que c'est, par exemple « Porte 2 – douchette » ou « Borne du hall »."),
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        validators=[DataRequired(message=_l("Ce champ est obligatoire.")),
                    Length(max=NAME_MAX, message=_l("%(max)d caractères au maximum."))],
        render_kw={"maxlength": NAME_MAX, "autocomplete": "off"},
    )
