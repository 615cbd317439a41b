"""The report as HTML: the public page `/e/<slug>/report` (inside the site's layout, styled by
static/css/report.css and nothing inline: the site's CSP forbids it) and one self-contained
file for `flask report build --format html` (templates/report/print.html with its stylesheet
inlined: a file on a disk is not served under our CSP).

Both render the `domain.Document` through the macros of templates/report/_document.html, as the
PDF does: the four outputs never disagree on what the report says. Called by outputs.build,
inside force_locale(the report's language).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from flask import Flask, current_app, render_template, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from forum_app.report import domain, labels, markup

PhotoUrl = Callable[[str], "str | None"]

# Stylesheets, relative to the app's static folder.
SCREEN_CSS = "css/report.css"
PDF_CSS = "css/report-pdf.css"


def parts(document: domain.Document) -> list[tuple[str, str]]:
    """(anchor, heading) of each part the document shows, in reading order: what the table of
    contents lists. A part without content has no heading at all."""
    H = labels.HEADINGS
    found: list[tuple[str, object]] = []
    if document.introduction_md:
        found.append(("introduction", H["introduction"]))
    if document.attendance is not None:
        found.append(("chiffres", H["attendance"]))
        if document.show_delegations and document.attendance.delegations:
            found.append(("delegations", H["delegations"]))
    if document.sections:
        found.append(("temps-forts", H["sessions"]))
    if document.other_sessions:
        found.append(("autres-temps", H["other_sessions"]))
    if document.conclusion_md:
        found.append(("conclusion", H["conclusion"]))
    if document.next_steps_md:
        found.append(("suites", H["next_steps"]))
    if document.links_md:
        found.append(("pour-aller-plus-loin", H["links"]))
    return [(anchor, str(heading)) for anchor, heading in found]


def init_app(app: Flask) -> None:
    """The Jinja globals templates/report/_document.html needs (idempotent). page(), standalone()
    and pdf.render() call it; a staff page importing the `section` macro needs it called once at
    start-up (create_app)."""
    if app.jinja_env.globals.get("report_parts") is parts:
        return
    app.jinja_env.globals.update(report_labels=labels, report_markdown=markup.to_html, report_parts=parts)


def _safe_photo_url(photo_url: PhotoUrl) -> PhotoUrl:
    def resolve(name: str) -> str | None:
        try:
            return photo_url(name) or None
        except Exception:
            current_app.logger.warning("report photo %r could not be resolved", name, exc_info=True)
            return None

    return resolve


def downloads(document: domain.Document) -> list[tuple[str, str, str]]:
    """(format, label, url) of the published files; none for a draft (nothing to download yet)."""
    if document.is_draft:
        return []
    slug = document.event.slug
    return [
        ("pdf", _("PDF"), url_for("report.report_file", slug=slug, fmt="pdf")),
        ("docx", _("Word (.docx)"), url_for("report.report_file", slug=slug, fmt="docx")),
        ("md", _("Markdown"), url_for("report.report_file", slug=slug, fmt="md")),
    ]


def page(document: domain.Document, *, photo_url: PhotoUrl) -> str:
    """The report page in the site's layout (needs a request: the layout links the site)."""
    init_app(current_app)
    return render_template(
        "report/public.html",
        document=document,
        photo_url=_safe_photo_url(photo_url),
        downloads=downloads(document),
        event=document.event,  # base.html: the site header names the event and links its programme
    )


@lru_cache(maxsize=4)
def _css_text(path: str, mtime: float) -> str:
    text = Path(path).read_text(encoding="utf-8")
    # Inlined in a <style> element: it must never close it.
    return text.replace("</", "<\\/")


def stylesheet(name: str) -> str:
    path = Path(current_app.static_folder or "") / name
    return _css_text(str(path), path.stat().st_mtime)


def render_print(document: domain.Document, *, photo_url: PhotoUrl, mode: str = "file", styles: str = "") -> str:
    """templates/report/print.html: a whole HTML document, no site layout, no request needed."""
    init_app(current_app)
    return render_template(
        "report/print.html",
        document=document,
        photo_url=_safe_photo_url(photo_url),
        mode=mode,
        styles=Markup(styles) if styles else "",
    )


def standalone(document: domain.Document, *, photo_url: PhotoUrl) -> str:
    """One self-contained HTML file: the report with its stylesheet inlined."""
    return render_print(document, photo_url=photo_url, mode="file", styles=stylesheet(SCREEN_CSS))
