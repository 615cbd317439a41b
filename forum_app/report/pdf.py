"""The report as a PDF publication: WeasyPrint renders templates/report/print.html (the same
macros as the public page) with static/css/report-pdf.css — a cover, a table of contents whose
page numbers WeasyPrint computes (target-counter), running headers, "page N / M" footers.

Nothing outside the report may be read while rendering: WeasyPrint gets a URL fetcher that
serves exactly the photo files of this document (from `photo_path`) and our own stylesheets,
and refuses everything else — no network, no other file, whatever a Markdown link or a note
says. Stored photos (≤ 1600 px, notes.photos) are embedded as they are: WeasyPrint copies a JPEG
without decoding it, and 1600 px across the 170 mm text column is about 240 dpi. A larger file
(imported by other means) is first reduced into a temporary folder.

Speed (40 sessions × 50 items + 100 photos, 2 cores): ~15-19 s of CPU for ~260-310 pages; layout
is most of it. Grid and flex layouts, inline-blocks and absolutely positioned boxes repeated on
every item cost WeasyPrint dearly: report-pdf.css avoids them in anything repeated per item.
"""
from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _

from forum_app.report import domain, html

log = logging.getLogger(__name__)

# Photos wider or taller than this are reduced before embedding (the text column is 170 mm wide:
# 1600 px is about 240 dpi there).
MAX_PHOTO_PX = 1600
_MIMETYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".css": "text/css"}


def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AllowListFetcher(URLFetcher):
        """Serves the files it was given (by exact file:// URL) and nothing else."""

        def __init__(self, allowed: dict[str, Path]):
            super().__init__(timeout=1, allowed_protocols=("file",), allow_redirects=False)
            self.allowed = dict(allowed)

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            key = parts._replace(query="", fragment="").geturl()
            path = self.allowed.get(key)
            if path is None:
                raise ValueError(f"the report PDF loads only its own photos and stylesheets, not {url[:200]!r}")
            mimetype = _MIMETYPES.get(path.suffix.lower(), "application/octet-stream")
            return URLFetcherResponse(key, body=path.open("rb"), headers={"Content-Type": mimetype})

    return AllowListFetcher


def url_fetcher(allowed: dict[str, Path]):
    """A WeasyPrint URL fetcher that serves only `allowed` ({file URL: path})."""
    return _fetcher_class()(allowed)


def _printable(source: Path, folder: Path, index: int) -> Path | None:
    """The photo itself, or a copy reduced to MAX_PHOTO_PX when it is larger (None: unreadable)."""
    from PIL import Image

    try:
        with Image.open(source) as image:
            if max(image.size) <= MAX_PHOTO_PX:
                return source
            if image.format == "JPEG":
                image.draft("RGB", (MAX_PHOTO_PX, MAX_PHOTO_PX))  # decode at 1/2, 1/4... directly: fast
            image.thumbnail((MAX_PHOTO_PX, MAX_PHOTO_PX), Image.Resampling.BILINEAR)
            if image.mode not in ("RGB", "L"):
                target = folder / f"{index}.png"
                image.save(target, "PNG", optimize=False)
            else:
                target = folder / f"{index}.jpg"
                image.save(target, "JPEG", quality=85)
            return target
    except (OSError, ValueError):
        log.warning("report photo %s could not be read: left out of the PDF", source.name)
        return None


def _photo_files(
    document: domain.Document, photo_path: Callable[[str], Path | None], folder: Path
) -> dict[str, Path]:
    """{stored name: file to embed} for every photo the document shows whose file exists."""
    found: dict[str, Path] = {}
    for index, photo in enumerate(document.photos):
        if photo.file in found:
            continue
        try:
            source = photo_path(photo.file)
        except Exception:  # noqa: BLE001 - a photo that cannot be found is left out, never fatal
            source = None
        if source is None or not Path(source).is_file():
            continue
        printable = _printable(Path(source), folder, index)
        if printable is not None:
            found[photo.file] = printable
    return found


def _page_css() -> str:
    """The words of the page footer, in the report's language."""
    word = _("page").replace('"', "")
    return '@page { @bottom-right { content: "' + word + ' " counter(page) " / " counter(pages); } }'


def render(document: domain.Document, *, photo_path: Callable[[str], Path | None]) -> bytes:
    """The PDF of `document`. `photo_path(name)` gives a photo's file, or None to leave it out."""
    from weasyprint import CSS, HTML

    static = Path(current_app.static_folder or "")
    stylesheet = (static / html.PDF_CSS).resolve()
    with tempfile.TemporaryDirectory(prefix="report-pdf-") as tmp:
        files = _photo_files(document, photo_path, Path(tmp))
        urls = {name: path.resolve().as_uri() for name, path in files.items()}
        allowed = {url: files[name].resolve() for name, url in urls.items()}
        allowed[stylesheet.as_uri()] = stylesheet
        fetcher = url_fetcher(allowed)
        page = html.render_print(document, photo_url=urls.get, mode="pdf")
        stylesheets = [
            CSS(filename=str(stylesheet), url_fetcher=fetcher),
            CSS(string=_page_css(), url_fetcher=fetcher),
        ]
        return HTML(string=page, base_url=None, url_fetcher=fetcher).write_pdf(stylesheets=stylesheets)
