"""The report editor's forms: field shape and format only.

Lengths are checked by report/editing.py (the one place that knows the limits and says which
field is too long, and by how much): no `maxlength` here either, since a browser silently cuts
pasted text at `maxlength`, and the report never cuts anything silently.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from forum_app.report import domain
from forum_app.report.editing import FIELD_LABELS, SECTION_LABELS

NOTE_MAX = 500  # a publication's note (services.publish keeps 500 characters: longer is refused here)

MARKDOWN_HINT = _l(
    "Markdown : **gras**, *italique*, listes commençant par « - », liens [texte](https://…). "
    "50 000 caractères au maximum."
)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class SettingsForm(FlaskForm):
    version = HiddenField()  # the report's version the form was filled in from
    base = HiddenField()  # the fingerprints of that version's values (editing.settings_digest)
    title = StringField(
        FIELD_LABELS["title"],
        filters=[_strip],
        description=_l("Vide : le titre de l'événement. 300 caractères au maximum."),
    )
    lead = TextAreaField(
        FIELD_LABELS["lead"],
        description=_l("Le paragraphe d'ouverture, sous le titre, en texte simple. 2 000 caractères au maximum."),
        render_kw={"rows": 3},
    )
    organised_by = StringField(
        FIELD_LABELS["organised_by"],
        filters=[_strip],
        description=_l("Par exemple : RésOVilles, centre de ressources politique de la ville. 300 caractères au maximum."),
    )
    introduction_md = TextAreaField(FIELD_LABELS["introduction_md"], description=MARKDOWN_HINT, render_kw={"rows": 8})
    conclusion_md = TextAreaField(FIELD_LABELS["conclusion_md"], description=MARKDOWN_HINT, render_kw={"rows": 6})
    next_steps_md = TextAreaField(FIELD_LABELS["next_steps_md"], description=MARKDOWN_HINT, render_kw={"rows": 5})
    links_md = TextAreaField(FIELD_LABELS["links_md"], description=MARKDOWN_HINT, render_kw={"rows": 4})
    show_attendance = BooleanField(FIELD_LABELS["show_attendance"])
    show_delegations = BooleanField(FIELD_LABELS["show_delegations"])
    empty_sessions = RadioField(
        FIELD_LABELS["empty_sessions"],
        choices=[
            SelectChoice(domain.EMPTY_LIST, _l("Les citer sous « Autres temps du forum »")),
            SelectChoice(domain.EMPTY_OMIT, _l("Les laisser de côté")),
        ],
        validators=[InputRequired(_l("Choisissez l'une des options."))],
    )
    refused_quotes = RadioField(
        FIELD_LABELS["refused_quotes"],
        choices=[
            SelectChoice(domain.REFUSED_DROP, _l("Les retirer du rapport")),
            SelectChoice(domain.REFUSED_ANONYMISE, _l("Les garder sans nom (« Participant·e »)")),
        ],
        validators=[InputRequired(_l("Choisissez l'une des options."))],
    )

    MARKDOWN = ("introduction_md", "conclusion_md", "next_steps_md", "links_md")
    VALUES = (
        "title", "lead", "organised_by", "introduction_md", "conclusion_md", "next_steps_md", "links_md",
        "show_attendance", "show_delegations", "empty_sessions", "refused_quotes",
    )

    def values(self) -> dict:
        return {name: self[name].data if self[name].data is not None else "" for name in self.VALUES}


class SectionForm(FlaskForm):
    title = StringField(SECTION_LABELS["title"], filters=[_strip])
    summary_md = TextAreaField(SECTION_LABELS["summary_md"], description=MARKDOWN_HINT, render_kw={"rows": 6})
    hidden = BooleanField(SECTION_LABELS["hidden"])

    def values(self) -> dict:
        return {"title": self.title.data or "", "summary_md": self.summary_md.data or "", "hidden": bool(self.hidden.data)}


class PublishForm(FlaskForm):
    confirm = BooleanField(_l("J'ai lu ces points et je publie quand même"))
    note = StringField(
        _l("Note sur cette version (facultatif)"),
        filters=[_strip],
        description=_l("Visible des organisateurs seulement, par exemple « Correction d'une citation ». 500 caractères au maximum."),
        validators=[Length(max=NOTE_MAX, message=_l("%(max)d caractères au maximum : rien n'a été publié."))],
    )


class ConfirmForm(FlaskForm):
    """An empty form: its CSRF token is what a workflow button posts."""
