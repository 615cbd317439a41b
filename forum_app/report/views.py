"""The published report, for everyone: `/e/<slug>/report` (HTML), `.pdf`, `.docx`, `.md`.

Readers always get the newest publication (a snapshot): later edits to notes or to the draft
change nothing here until an organiser republishes. Before the first publication, and after a
withdrawal, these pages answer 404.
"""
from __future__ import annotations

from flask import Blueprint, Response, abort, request, send_file, url_for
from flask_babel import gettext as _

from forum_app.errors import NotFound
from forum_app.programme.services import get_event
from forum_app.report import domain, outputs, services
from forum_app.report.models import ReportSnapshot
from forum_app.web import etag_for

bp = Blueprint("report", __name__)

PHOTO_MIMETYPES = {"jpg": "image/jpeg", "png": "image/png"}


def _published(slug: str):
    event = get_event(slug)
    snapshot = services.latest_snapshot(event)
    if snapshot is None:
        raise NotFound(_("Le rapport de cet événement n'est pas encore publié."))
    return event, snapshot


def _public_photo_url(slug: str):
    return lambda name: url_for("report.photo", slug=slug, name=name)


def _respond(event, snapshot: ReportSnapshot, fmt: str) -> Response:
    etag = etag_for("report", event.id, snapshot.number, fmt)
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        document = domain.from_dict(snapshot.document)

        def make() -> outputs.Output:
            return outputs.build(
                document, fmt, photo_url=_public_photo_url(event.slug), photo_path=services.photo_resolver(event)
            )

        output = make() if fmt in ("html", "md") else outputs.cached(
            outputs.snapshot_key(snapshot.document), fmt, outputs.filename(document, fmt), make
        )
        response = Response(output.data, mimetype=output.mimetype)
        if fmt != "html":
            name = outputs.filename(document, fmt)
            response.headers["Content-Disposition"] = f'inline; filename="{name}"' if fmt == "pdf" else f'attachment; filename="{name}"'
    response.set_etag(etag)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/e/<slug>/report")
def report_page(slug: str):
    event, snapshot = _published(slug)
    return _respond(event, snapshot, "html")


@bp.get("/e/<slug>/report.<any(pdf, docx, md):fmt>")
def report_file(slug: str, fmt: str):
    event, snapshot = _published(slug)
    return _respond(event, snapshot, fmt)


@bp.get("/e/<slug>/report/photos/<name>")
def photo(slug: str, name: str):
    """Only the photos the published report shows: every other uploaded photo stays staff-only."""
    event, snapshot = _published(slug)
    path = services.photo_path(event, domain.from_dict(snapshot.document), name)
    extension = name.rsplit(".", 1)[-1]
    if extension not in PHOTO_MIMETYPES:
        abort(404)
    response = send_file(path, mimetype=PHOTO_MIMETYPES[extension], conditional=True, etag=True, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
