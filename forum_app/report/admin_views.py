"""The organisers' report editor.

- GET|POST /e/<slug>/admin/report                        status, workflow, the report's own fields (with a
                                                         server-side preview of the Markdown), sections in
                                                         the report's order, previews, published versions
- POST     /e/<slug>/admin/report/review                 draft -> in review (the rapporteurs are told)
- POST     /e/<slug>/admin/report/draft                  in review -> draft
- GET|POST /e/<slug>/admin/report/publish                what publishing leaves out, then publish
- GET|POST /e/<slug>/admin/report/withdraw               asks first, then takes the report offline
- POST     /e/<slug>/admin/report/cover                  the cover photo (field item_id; empty: none)
- GET      /e/<slug>/admin/report/preview                the draft as the public page would show it
- GET      /e/<slug>/admin/report/preview.<pdf|docx|md>  the draft in the other formats
- GET|POST /e/<slug>/admin/report/s/<code>               one section: heading, summary, hidden; its items
- POST     /e/<slug>/admin/report/s/<code>/move          up or down among the sections
- POST     /e/<slug>/admin/report/items/<id>/text        the item's words in the report (or back to the note's)
- POST     /e/<slug>/admin/report/items/<id>/visibility  hide or show the item in the report
- POST     /e/<slug>/admin/report/items/<id>/move        up or down within its block

Organisers of the event and site admins. Thin views: the rules are report/editing.py's,
services.py's and review.py's; every form works without JavaScript (POST, then redirect).
"""
from __future__ import annotations

from babel.dates import format_date
from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from werkzeug.routing import BuildError

from forum_app.errors import DomainError, InvalidInput, NotFound
from forum_app.i18n import current_language, format_clock
from forum_app.notes import domain as notes_domain
from forum_app.notes import moderation
from forum_app.notes import services as notes_services
from forum_app.notes.labels import KIND_LABELS
from forum_app.programme.domain import utc_to_local
from forum_app.report import domain, editing, labels, markup, outputs, review, services
from forum_app.report.forms import ConfirmForm, PublishForm, SectionForm, SettingsForm
from forum_app.security import event_role_required

bp = Blueprint("report_admin", __name__, url_prefix="/e/<slug>/admin")

organiser_required = event_role_required("organiser")

STATUS_LABELS = {
    domain.DRAFT: _l("Brouillon"),
    domain.REVIEW: _l("En relecture"),
    domain.PUBLISHED: _l("Publié"),
}
REVIEW_LABELS = {
    "validated": _l("Validée"),
    "pending": _l("À valider"),
    "changed": _l("Modifiée depuis la validation"),
    "hidden": _l("Masquée"),
    "absent": _l("Absente du rapport"),
}
FORMAT_LABELS = {"html": _l("Page web"), "pdf": _l("PDF"), "docx": _l("Word"), "md": _l("Markdown")}



@bp.after_request
def staff_only_cache(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def template_helpers():
    return {
        "status_labels": {k: str(v) for k, v in STATUS_LABELS.items()},
        "review_labels": {k: str(v) for k, v in REVIEW_LABELS.items()},
        "kind_labels": {k: str(v) for k, v in KIND_LABELS.items()},
        "block_headings": {k: str(v) for k, v in labels.BLOCK_HEADINGS.items()},
        "approval_labels": {k: str(v) for k, v in labels.APPROVAL_LABELS.items()},
        "format_labels": {k: str(v) for k, v in FORMAT_LABELS.items()},
        "formats": outputs.FORMATS,
        "when": _when,
        "session_when": labels.session_when,
        "review_of": _review_of,
        "attribution_line": moderation.attribution_line,
        "quotes_url": _quotes_url,
    }


def _user():
    return current_user._get_current_object()


def _when(moment) -> str:
    """'12 juin 2019 à 14 h 15' in the event's time zone."""
    if moment is None:
        return ""
    local = utc_to_local(moment, g.event.timezone)
    return _("%(date)s à %(time)s", date=format_date(local, "d MMMM y", locale=current_language()), time=format_clock(local))


def _review_of(row) -> str:
    """A section's review state, as a code of REVIEW_LABELS."""
    if row.hidden:
        return "hidden"
    if row.state is None:
        return "absent"
    if row.state.validated:
        return "validated"
    return "changed" if row.state.changed_since else "pending"


def _quotes_url(item_id: int | None = None) -> str | None:
    """The quotes' consent page (another part of the editor), when it exists."""
    if "report_quotes.admin_quotes" not in current_app.view_functions:
        return None
    try:
        return url_for("report_quotes.admin_quotes", slug=g.event.slug, _anchor=f"quote-{item_id}" if item_id else None)
    except BuildError:
        return None


def _overview_url(anchor: str | None = None) -> str:
    return url_for("report_admin.overview", slug=g.event.slug, _anchor=anchor)


def _section_url(code: str, anchor: str | None = None) -> str:
    return url_for("report_admin.section", slug=g.event.slug, code=code, _anchor=anchor)


def _staff_photo_url(name: str) -> str:
    return url_for("notes_photos.photo", slug=g.event.slug, name=name)


def _local_iso(moment) -> str:
    if moment is None:
        return ""
    return utc_to_local(moment, g.event.timezone).replace(tzinfo=None).isoformat(timespec="minutes")


def _previews(form, names) -> dict:
    return {name: markup.to_html(form[name].data or "") for name in names}


# --------------------------------------------------------------------------- the overview


def _settings_form(report) -> SettingsForm:
    values = editing.settings_values(report)
    form = SettingsForm(formdata=None, data=values)
    form.version.data = str(report.version)
    form.base.data = editing.settings_digest(values)
    return form


def _render_overview(form: SettingsForm | None = None, *, previews=None, conflict=None, status: int = 200):
    event = g.event
    report = services.report_for_reading(event)
    draft = services.draft_document(event)
    states = review.section_states(event, draft)
    rows = editing.section_rows(event, draft, states)
    live = services.latest_snapshot(event)
    versions = services.snapshots(event)
    names = moderation.user_names([v.published_by_id for v in versions] + [report.updated_by_id])
    return render_template(
        "report/admin_overview.html",
        event=event,
        report=report,
        draft=draft,
        states=states,
        sections=[row for row in rows if row.has_content],
        empty_sessions=[row for row in rows if not row.has_content],
        live=live,
        versions=versions,
        names=names,
        unpublished=editing.has_unpublished_changes(event, live) if live is not None else None,
        cover=editing.cover_note(event),
        form=form or _settings_form(report),
        previews=previews,
        conflict=conflict,
        logistic_kinds=domain.LOGISTIC_KINDS,
    ), status


def _merge_after_conflict(form: SettingsForm, conflict: editing.SettingsConflict) -> dict:
    """Three-way merge of a stale form: a field only the other person changed takes their value; a
    field only this user changed keeps what they typed; a field both changed keeps what they typed
    and is shown beside the saved one. The form then carries the saved version, so sending it again
    saves the merged values, knowingly."""
    base = editing.parse_digest(form.base.data)
    typed = form.values()
    differs, taken = [], []
    for name in SettingsForm.VALUES:
        current, mine = conflict.current.get(name), typed.get(name)
        before = base.get(name)
        mine_changed = before is None or editing.value_digest(name, mine) != before
        theirs_changed = before is None or editing.value_digest(name, current) != before
        same = editing.value_digest(name, mine) == editing.value_digest(name, current)
        label = str(form[name].label.text)
        if same or not theirs_changed:
            continue
        if not mine_changed:
            form[name].data = current
            taken.append(label)
            continue
        differs.append({"name": name, "label": label, "mine": _shown(form, name, mine), "theirs": _shown(form, name, current)})
    form.version.data = str(conflict.version)
    form.base.data = editing.settings_digest(conflict.current)
    names = moderation.user_names([conflict.updated_by_id])
    return {
        "message": conflict.message,
        "differs": differs,
        "taken": taken,
        "by": names.get(conflict.updated_by_id, ""),
        "at": _when(conflict.updated_at),
    }


def _shown(form: SettingsForm, name: str, value) -> str:
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    field = form[name]
    if getattr(field, "choices", None):
        return next((str(choice.label) for choice in field.choices if choice.value == value), str(value or ""))
    return value or ""


@bp.route("/report", methods=["GET", "POST"])
@organiser_required
def overview(slug: str):
    if request.method == "GET":
        return _render_overview()
    form = SettingsForm()
    if request.form.get("action") == "preview":
        form.validate()
        flash(_("Aperçu : rien n'est encore enregistré."), "info")
        return _render_overview(form, previews=_previews(form, SettingsForm.MARKDOWN))
    if not form.validate_on_submit():
        return _render_overview(form, status=422)
    raw = (form.version.data or "").strip()
    version = int(raw) if (raw.isascii() and raw.isdigit()) and len(raw) < 10 else 0
    try:
        editing.save_settings(g.event, _user(), form.values(), version=version)
    except editing.SettingsConflict as conflict:
        return _render_overview(form, conflict=_merge_after_conflict(form, conflict), status=409)
    except editing.InvalidFields as error:
        for name, message in error.errors.items():
            if name in form:
                form[name].errors = [*form[name].errors, message]
        return _render_overview(form, status=422)
    flash(_("Rapport enregistré."), "success")
    return redirect(_overview_url("reglages"))


# --------------------------------------------------------------------------- workflow


def _tell_rapporteurs(event, states):
    """notifications.review_requested(event, states), when that module exists (None otherwise)."""
    try:
        from forum_app.report import notifications
    except ModuleNotFoundError as error:
        if error.name != "forum_app.report.notifications":
            raise
        return None
    return notifications.review_requested(event, states)


@bp.post("/report/review")
@organiser_required
def start_review(slug: str):
    if not ConfirmForm().validate_on_submit():
        return redirect(_overview_url())
    try:
        states = review.start_review(g.event, _user())
    except DomainError as error:
        flash(error.message, "error")
        return redirect(_overview_url())
    flash(_("Le rapport est en relecture : les rapporteurs peuvent valider leur section."), "success")
    try:
        told = _tell_rapporteurs(g.event, states)
    except Exception:  # the review has started; say that nobody was told rather than fail the page
        current_app.logger.exception("report review: rapporteurs could not be told")
        flash(_("Les rapporteurs n'ont pas pu être prévenus par courriel : prévenez-les vous-même."), "error")
    else:
        if isinstance(told, int) and not isinstance(told, bool):
            flash(ngettext("%(num)d rapporteur·e prévenu·e par courriel.", "%(num)d rapporteur·e·s prévenu·e·s par courriel.", told), "info")
    return redirect(_overview_url())


@bp.post("/report/draft")
@organiser_required
def back_to_draft(slug: str):
    if ConfirmForm().validate_on_submit():
        try:
            review.back_to_draft(g.event, _user())
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Le rapport est revenu au brouillon : les validations déjà faites sont gardées."), "success")
    return redirect(_overview_url())


def _render_publish(form: PublishForm, status: int = 200):
    event = g.event
    check = services.publication_check(event)
    report = services.report_for_reading(event)
    warnings = bool(check.unvalidated or check.quotes_left_out or check.quotes_anonymised)
    blocked = check.first_publication and report.status != domain.REVIEW
    return render_template(
        "report/admin_publish.html", event=event, report=report, check=check, warnings=warnings, blocked=blocked,
        form=form, live=services.latest_snapshot(event),
    ), status


@bp.route("/report/publish", methods=["GET", "POST"])
@organiser_required
def publish(slug: str):
    if request.method == "GET":
        return _render_publish(PublishForm(formdata=None))
    form = PublishForm()
    if not form.validate_on_submit():
        return _render_publish(form, 422)
    check = services.publication_check(g.event)
    if (check.unvalidated or check.quotes_left_out or check.quotes_anonymised) and not form.confirm.data:
        form.confirm.errors = [*form.confirm.errors, _("Cochez cette case pour publier malgré ces points.")]
        return _render_publish(form, 422)
    try:
        snapshot = services.publish(g.event, _user(), note=form.note.data or "")
    except DomainError as error:
        form.form_errors.append(error.message)
        return _render_publish(form, 409 if error.status_code == 409 else 422)
    flash(_("Version %(number)s publiée : elle est en ligne.", number=snapshot.number), "success")
    return redirect(_overview_url("versions"))


@bp.route("/report/withdraw", methods=["GET", "POST"])
@organiser_required
def withdraw(slug: str):
    event = g.event
    if request.method == "POST" and request.form.get("confirm") == "1" and ConfirmForm().validate_on_submit():
        try:
            services.withdraw(event, _user())
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Le rapport n'est plus en ligne. Il reste consultable ici et peut être publié à nouveau."), "success")
        return redirect(_overview_url("versions"))
    return render_template(
        "report/admin_withdraw.html", event=event, live=services.latest_snapshot(event), form=ConfirmForm(formdata=None)
    )


@bp.post("/report/cover")
@organiser_required
def cover(slug: str):
    raw = (request.form.get("item_id") or "").strip()
    item_id = int(raw) if (raw.isascii() and raw.isdigit()) and len(raw) < 10 else None
    if raw and item_id is None:
        raise NotFound(_("Cet élément de note n'existe pas."))
    back = request.form.get("back") or ""  # the section page the button was on, and its item
    back_item = (request.form.get("back_item") or "").strip()
    try:
        editing.set_cover(g.event, item_id, _user())
    except InvalidInput as error:
        flash(error.message, "error")
    else:
        flash(_("Photo de couverture choisie.") if item_id else _("Le rapport n'a plus de photo de couverture."), "success")
    if _is_code(back):
        anchor = f"item-{back_item}" if (back_item.isascii() and back_item.isdigit()) and len(back_item) < 10 else None
        return redirect(_section_url(back, anchor))
    return redirect(_overview_url("couverture"))


def _is_code(value: str) -> bool:
    return 0 < len(value) <= 16 and all(c.isalnum() or c in "-_." for c in value)


# --------------------------------------------------------------------------- previews of the draft


def _preview(fmt: str):
    event = g.event
    document = services.draft_document(event)
    output = outputs.build(document, fmt, photo_url=_staff_photo_url, photo_path=services.photo_resolver(event))
    response = current_app.response_class(output.data, mimetype=output.mimetype)
    if fmt != "html":
        disposition = "inline" if fmt == "pdf" else "attachment"
        response.headers["Content-Disposition"] = f'{disposition}; filename="{output.filename}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/report/preview")
@organiser_required
def preview(slug: str):
    return _preview("html")


@bp.get("/report/preview.<any(pdf, docx, md):fmt>")
@organiser_required
def preview_file(slug: str, fmt: str):
    return _preview(fmt)


# --------------------------------------------------------------------------- one section


def _section_form(page: editing.SectionPage) -> SectionForm:
    choice = page.choice
    data = {"title": choice.title, "summary_md": choice.summary_md, "hidden": choice.hidden} if choice else {}
    return SectionForm(formdata=None, data=data)


def _render_section(code: str, form: SectionForm | None = None, *, previews=None, problem=None, status: int = 200):
    event = g.event
    session = notes_services.get_session(event, code)
    page = editing.section_page(event, session)
    draft = services.draft_document(event)
    state = next((s for s in review.section_states(event, draft) if s.session_id == session.id), None)
    section = next((s for s in draft.sections if s.session_id == session.id), None)
    rapporteurs = moderation.user_names(state.rapporteur_ids if state else services.rapporteurs_by_session(event).get(session.id, []))
    return render_template(
        "report/admin_section.html",
        event=event,
        session=session,
        page=page,
        state=state,
        section=section,
        rapporteurs=sorted(rapporteurs.values(), key=str.casefold),
        validated_by=moderation.user_names([state.validated_by_id]).get(state.validated_by_id, "") if state else "",
        form=_described(form or _section_form(page), session),
        previews=previews,
        problem=problem,
        session_time=labels.session_when(_local_iso(session.starts_at), _local_iso(session.ends_at)),
        quote=notes_domain.QUOTE,
        photo=notes_domain.PHOTO,
    ), status


def _described(form: SectionForm, session) -> SectionForm:
    form.title.description = _("Vide : le titre de la session, « %(title)s ». 300 caractères au maximum.", title=session.title)
    return form


@bp.route("/report/s/<code>", methods=["GET", "POST"])
@organiser_required
def section(slug: str, code: str):
    if request.method == "GET":
        return _render_section(code)
    session = notes_services.get_session(g.event, code)
    form = SectionForm()
    if request.form.get("action") == "preview":
        form.validate()
        flash(_("Aperçu : rien n'est encore enregistré."), "info")
        return _render_section(code, form, previews=_previews(form, ("summary_md",)))
    if not form.validate_on_submit():
        return _render_section(code, form, status=422)
    try:
        editing.save_section(g.event, session.id, _user(), form.values())
    except editing.InvalidFields as error:
        for name, message in error.errors.items():
            if name in form:
                form[name].errors = [*form[name].errors, message]
        return _render_section(code, form, status=422)
    flash(_("Section %(code)s enregistrée.", code=session.code), "success")
    return redirect(_section_url(session.code, "section-reglages"))


@bp.post("/report/s/<code>/move")
@organiser_required
def move_section(slug: str, code: str):
    session = notes_services.get_session(g.event, code)
    try:
        moved = editing.move_section(g.event, session.id, _user(), request.form.get("direction", ""))
    except InvalidInput as error:
        flash(error.message, "error")
    else:
        if not moved:
            flash(_("La section %(code)s est déjà à cette extrémité du rapport.", code=session.code), "info")
    return redirect(_overview_url(f"section-{session.code}"))


# --------------------------------------------------------------------------- one item


def _note_or_404(item_id: int):
    note = moderation.find_item(g.event, item_id)
    if note is None:
        raise NotFound(_("Cet élément de note n'existe pas."))
    return note


def _back_to_item(note):
    return redirect(_section_url(note.session.code, f"item-{note.id}"))


@bp.post("/report/items/<int:item_id>/text")
@organiser_required
def item_text(slug: str, item_id: int):
    note = _note_or_404(item_id)
    reset = request.form.get("action") == "reset"
    typed = request.form.get("text")
    if not reset and typed is None:
        flash(_("Formulaire incomplet : rien n'a changé."), "error")
        return _back_to_item(note)
    try:
        row = editing.set_item(g.event, item_id, _user(), text=None if reset else typed, reset_text=reset)
    except editing.InvalidFields as error:
        return _render_section(note.session.code, status=422, problem={
            "item_id": item_id, "message": error.message, "typed": typed,
        })
    if reset or row.text is None:
        flash(_("L'élément n° %(id)s reprend le texte de la note.", id=item_id), "success")
    else:
        flash(_("Texte de l'élément n° %(id)s enregistré pour le rapport (la note reste inchangée).", id=item_id), "success")
    return _back_to_item(note)


@bp.post("/report/items/<int:item_id>/visibility")
@organiser_required
def item_visibility(slug: str, item_id: int):
    note = _note_or_404(item_id)
    choice = request.form.get("hidden")
    if choice not in ("0", "1"):
        flash(_("Choisissez de masquer ou d'afficher l'élément : rien n'a changé."), "error")
        return _back_to_item(note)
    editing.set_item(g.event, item_id, _user(), hidden=choice == "1")
    if choice == "1":
        flash(_("Élément n° %(id)s masqué dans le rapport (la note reste inchangée).", id=item_id), "success")
    else:
        flash(_("Élément n° %(id)s affiché dans le rapport.", id=item_id), "success")
    return _back_to_item(note)


@bp.post("/report/items/<int:item_id>/move")
@organiser_required
def item_move(slug: str, item_id: int):
    note = _note_or_404(item_id)
    try:
        moved = editing.move_item(g.event, item_id, _user(), request.form.get("direction", ""))
    except InvalidInput as error:
        flash(error.message, "error")
    else:
        if not moved:
            flash(_("L'élément n° %(id)s est déjà à cette extrémité de son bloc.", id=item_id), "info")
    return _back_to_item(note)
