"""Quote consent and the rapporteurs' review: the pages.

- GET|POST /e/<slug>/report/quote/<secret>   the person quoted approves, amends or refuses (no account;
                                             no-referrer, no-store, noindex; rate-limited; CSRF)
- GET      /e/<slug>/report/quote/merci      the confirmation, without the secret in its address
- GET|POST /e/<slug>/admin/report/quotes     organisers: every quote with its state; send or resend the
                                             request, record a consent given by phone or in person
- GET|POST /e/<slug>/report/review           rapporteurs (their sections), organisers (all): read each
                                             section as it will be published, validate it

Thin views: read the form, call report.approvals / report.review, redirect (303) or render.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from jinja2 import TemplateNotFound

from forum_app.auth.models import User
from forum_app.errors import Conflict, DomainError, InvalidInput, NotFound
from forum_app.extensions import db, limiter
from forum_app.notes import domain as notes_domain
from forum_app.programme.models import Event
from forum_app.report import approvals, domain, labels, review, services
from forum_app.report.markup import to_html
from forum_app.security import event_role_required

bp = Blueprint("report_quotes", __name__)
# The review page shows sections through templates/report/_document.html, whose Jinja globals
# report.html registers (idempotent).
bp.record_once(lambda state: _report_html_globals(state.app))


def _report_html_globals(app) -> None:
    try:
        from forum_app.report import html
    except ImportError:  # the HTML output is not there: the review page's own rendering is used
        return
    html.init_app(app)

# Failed attempts only (a bad link, a refused answer), per address, like the invitation page.
QUOTE_RATE_LIMIT = "10/minute"
LINK_ENDPOINTS = {"report_quotes.quote", "report_quotes.answered"}
ANSWER_KEY = "report_quote_answer"  # the cookie session remembers which answer to confirm (never the secret)
REVIEW_COMMENT_MAX = 2000


@bp.after_request
def private_headers(response):
    """The link's secret is in the path: no Referer may carry it away, no cache or robot keep the page."""
    if request.endpoint in LINK_ENDPOINTS:
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    elif request.endpoint == "report_quotes.review":
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.app_template_global()
def report_in_review(event) -> bool:
    """For the staff home: is this event's report waiting for its rapporteurs?"""
    report = services.find_report(event)
    return report is not None and report.status == domain.REVIEW


def _event_or_none(slug: str) -> Event | None:
    return db.session.scalar(db.select(Event).filter_by(slug=slug))


# --------------------------------------------------------------------------- the person's link


def _invalid_link(slug: str, status: int = 404, message: str | None = None):
    return (
        render_template(
            "report/quote_invalid.html",
            event=_event_or_none(slug),
            message=message,
            contact=current_app.config.get("PRIVACY_CONTACT") or "",
        ),
        status,
    )


def _quote_page(view: approvals.QuoteView, *, status: int = 200, errors: dict | None = None,
                values: dict | None = None, message: str | None = None, open_form: str = ""):
    approval = view.approval
    amended = approval.state == domain.AMENDED and not view.changed
    defaults = {
        "text": approval.final_text if amended else view.words,
        "job_title": (approval.final_job_title if amended else "") or view.job_title,
        "organisation": (approval.final_organisation if amended else "") or view.organisation,
        "comment": "",
    }
    return (
        render_template(
            "report/quote_page.html",
            event=view.event,
            view=view,
            when=labels.session_when(view.section.starts, view.section.ends) if view.section else "",
            values={**defaults, **(values or {})},
            errors=errors or {},
            message=message,
            open_form=open_form,
            text_max=notes_domain.TEXT_MAX,
            expires=_local(view.approval.expires_at, view.event),
            answered_at=_local(view.approval.answered_at, view.event),
            state_label=str(labels.APPROVAL_LABELS.get(view.state, "")),
        ),
        status,
    )


def _local(moment, event):
    if moment is None:
        return None
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(event.timezone or "Europe/Paris"))


def _counted(response) -> bool:
    return response.status_code >= 400


@bp.route("/e/<slug>/report/quote/<path:secret>", methods=["GET", "POST"])
@limiter.limit(QUOTE_RATE_LIMIT, deduct_when=_counted)
def quote(slug: str, secret: str):
    secret = secret.rstrip("/")  # some mail clients add a slash to the links they show
    approval = approvals.find_by_secret(slug, secret)
    if approval is None:  # unknown, replaced, expired, another event's: one answer for all
        return _invalid_link(slug)
    if request.method == "GET":
        return _quote_page(approvals.quote_view(approval))
    action = request.form.get("action", "")
    values = {name: request.form.get(name, "") for name in ("text", "job_title", "organisation", "comment")}
    try:
        approvals.answer(
            secret,
            action,
            slug=slug,
            text=values["text"],
            job_title=values["job_title"],
            organisation=values["organisation"],
            comment=values["comment"],
            shown=request.form.get("shown", ""),
        )
    except NotFound:
        return _invalid_link(slug)
    except InvalidInput as error:
        view = approvals.quote_view(approvals.find_by_secret(slug, secret) or approval)
        return _quote_page(view, status=422, errors={error.field or "action": error.message}, values=values,
                           open_form=action)
    except Conflict as error:
        found = approvals.find_by_secret(slug, secret)
        if found is None:
            return _invalid_link(slug)
        return _quote_page(approvals.quote_view(found), status=409, message=error.message)
    session[ANSWER_KEY] = {"slug": slug, "id": approval.id}
    return redirect(url_for("report_quotes.answered", slug=slug), code=303)


@bp.get("/e/<slug>/report/quote/merci")
def answered(slug: str):
    remembered = session.get(ANSWER_KEY) or {}
    approval = None
    if isinstance(remembered, dict) and remembered.get("slug") == slug and isinstance(remembered.get("id"), int):
        from forum_app.report.models import QuoteApproval

        approval = db.session.get(QuoteApproval, remembered["id"])
    event = approvals.event_of(approval) if approval is not None else None
    if approval is None or event is None or event.slug != slug:
        return _invalid_link(slug)
    view = approvals.quote_view(approval, event)
    return render_template(
        "report/quote_answered.html",
        event=event,
        view=view,
        expires=_local(approval.expires_at, event),
    )


@bp.errorhandler(429)
def too_many_attempts(error):
    slug = (request.view_args or {}).get("slug", "")
    return _invalid_link(slug, 429, _("Trop de tentatives. Patientez une minute avant de réessayer."))


@bp.errorhandler(CSRFError)
def stale_form(error):
    message = _("Le formulaire a expiré ou n'est pas valide : rien n'a été enregistré. Veuillez réessayer.")
    args = request.view_args or {}
    if request.endpoint == "report_quotes.quote":
        approval = approvals.find_by_secret(args.get("slug", ""), (args.get("secret") or "").rstrip("/"))
        if approval is None:
            return _invalid_link(args.get("slug", ""))
        return _quote_page(approvals.quote_view(approval), status=400, message=message)
    return render_template("errors/default.html", status=400, message=message), 400


# --------------------------------------------------------------------------- organisers: every quote


def _user():
    return current_user._get_current_object()


def _form_int(name: str) -> int | None:
    raw = (request.form.get(name) or "").strip()
    return int(raw) if (raw.isascii() and raw.isdigit()) and len(raw) < 10 else None


@bp.route("/e/<slug>/admin/report/quotes", methods=["GET", "POST"])
@event_role_required("organiser")
def admin_quotes(slug: str):
    event = g.event
    problem = None
    status = 200
    if request.method == "POST":
        action = request.form.get("action", "")
        note_id = _form_int("note_id")
        try:
            if note_id is None:
                raise InvalidInput(_("Choisissez une citation : rien n'a été envoyé ni enregistré."))
            if action == "send":
                approval, _secret = approvals.request_approval(event, note_id, _user(), request.form.get("email", ""))
                flash(_("Demande d'accord envoyée à %(email)s. Le lien précédent, s'il y en avait un, ne fonctionne plus.",
                        email=approval.email), "success")
            elif action == "record":
                approval = approvals.record_consent(
                    event, note_id, _user(), request.form.get("state", ""), request.form.get("comment", "")
                )
                if approval.state == domain.APPROVED:
                    flash(_("Accord enregistré : la citation sera publiée avec son nom."), "success")
                else:
                    flash(_("Refus enregistré : la citation ne sera pas publiée sous son nom."), "success")
            else:
                raise InvalidInput(_("Action inconnue : rien n'a été envoyé ni enregistré."))
        except DomainError as error:
            problem = {
                "note_id": note_id,
                "action": action,
                "field": error.field,
                "message": error.message,
                "values": {name: request.form.get(name, "") for name in ("email", "state", "comment")},
            }
            status = error.status_code
        else:
            return redirect(url_for("report_quotes.admin_quotes", slug=slug, _anchor=f"quote-{note_id}"), code=303)
    rows = approvals.states(event)
    recorders = _names({row.approval.recorded_by_id for row in rows if row.approval and row.approval.recorded_by_id})
    return render_template(
        "report/admin_quotes.html",
        event=event,
        rows=rows,
        counts=approvals.counts(rows),
        problem=problem,
        approval_labels={key: str(value) for key, value in labels.APPROVAL_LABELS.items()},
        recorders=recorders,
        to_local=lambda moment: _local(moment, event),
        link_days=approvals.link_validity().days,
        report=services.find_report(event),
    ), status


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return {
        user.id: user.name or user.email
        for user in db.session.scalars(db.select(User).where(User.id.in_(user_ids)))
    }


# --------------------------------------------------------------------------- the rapporteurs' review


def _document_macros() -> bool:
    """Is the report's shared section macro there (templates/report/_document.html)?"""
    try:
        current_app.jinja_env.get_template("report/_document.html")
    except TemplateNotFound:
        return False
    return "report_labels" in current_app.jinja_env.globals


def _review_page(event, *, status: int = 200, problem: dict | None = None):
    user = _user()
    report = services.find_report(event)
    in_review = report is not None and report.status == domain.REVIEW
    organiser = services.is_organiser(user, event)
    sections = []
    if in_review:
        document = services.draft_document(event)
        by_id = {section.session_id: section for section in document.sections}
        for state in review.section_states(event, document):
            mine = user.id in state.rapporteur_ids
            if organiser or mine:
                sections.append({"state": state, "section": by_id[state.session_id], "mine": mine})
    else:
        document = None
    validators = _names({s["state"].validated_by_id for s in sections if s["state"].validated_by_id})
    capture = "notes.capture" in current_app.view_functions
    return render_template(
        "report/review.html",
        event=event,
        report=report,
        in_review=in_review,
        organiser=organiser,
        document=document,
        sections=sections,
        problem=problem,
        validators=validators,
        capture=capture,
        document_macros=_document_macros(),
        photo_url=lambda name: url_for("notes_photos.photo", slug=event.slug, name=name),
        to_local=lambda moment: _local(moment, event),
        block_headings={key: str(value) for key, value in labels.BLOCK_HEADINGS.items()},
        approval_labels={key: str(value) for key, value in labels.APPROVAL_LABELS.items()},
        session_when=labels.session_when,
        markdown=to_html,
        comment_max=REVIEW_COMMENT_MAX,
        assets=_report_css(),
    ), status


def _report_css() -> list[str]:
    """The report's own stylesheet, when the HTML output has one, so sections read as published."""
    import os

    return [name for name in ("css/report.css",) if os.path.exists(os.path.join(current_app.static_folder, name))]


@bp.route("/e/<slug>/report/review", methods=["GET", "POST"], endpoint="review")
@event_role_required("organiser", "rapporteur")
def review_page(slug: str):
    event = g.event
    if request.method == "GET":
        return _review_page(event)
    session_id = _form_int("session_id")
    comment = (request.form.get("comment") or "").strip()
    problem = {"session_id": session_id, "comment": comment}
    if session_id is None:
        return _review_page(event, status=422, problem={**problem, "message": _("Choisissez la section à valider.")})
    if len(comment) > REVIEW_COMMENT_MAX:
        message = _("Votre commentaire compte %(length)d caractères, %(max)d au maximum : raccourcissez-le.",
                    length=len(comment), max=REVIEW_COMMENT_MAX)
        return _review_page(event, status=422, problem={**problem, "message": message})
    try:
        state = review.validate_section(
            event, session_id, _user(), fingerprint=request.form.get("fingerprint", ""), comment=comment
        )
    except Conflict as error:
        db.session.rollback()
        return _review_page(event, status=409, problem={**problem, "message": error.message})
    flash(_("Section « %(title)s » validée. Merci !", title=state.title), "success")
    return redirect(url_for("report_quotes.review", slug=slug, _anchor=f"review-{state.code}"), code=303)
