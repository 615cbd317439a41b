"""One entry point for the report's four outputs, so the public pages, the organisers'
previews and `flask report build` make exactly the same files.

Renderers (report/html.py, report/pdf.py, report/word.py, report/markdown_out.py) take a
`domain.Document` and decide nothing about content; they are given how to reach photos:
`photo_url(name) -> str` for outputs that link (HTML, Markdown) and `photo_path(name) -> Path |
None` for outputs that embed (PDF, Word; None = the file is missing: the photo is left out).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import force_locale

from forum_app.report import domain

FORMATS = ("html", "pdf", "docx", "md")
MIMETYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "md": "text/markdown; charset=utf-8",
}


@dataclass
class Output:
    data: bytes
    mimetype: str
    filename: str


def filename(document: domain.Document, fmt: str) -> str:
    suffix = "" if not document.is_draft else "-brouillon"
    number = f"-v{document.number}" if document.number else ""
    return f"rapport-{document.event.slug}{number}{suffix}.{fmt}"


def build(
    document: domain.Document,
    fmt: str,
    *,
    photo_url: Callable[[str], str],
    photo_path: Callable[[str], Path | None],
    standalone: bool = False,
) -> Output:
    """The document in `fmt`. `standalone` (HTML only): a page with its styles inlined and no
    site navigation, as `flask report build --format html` writes it."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown report format {fmt!r}")
    with force_locale(document.event.language or "fr"):
        if fmt == "html":
            from forum_app.report import html

            text = html.standalone(document, photo_url=photo_url) if standalone else html.page(document, photo_url=photo_url)
            data = text.encode("utf-8")
        elif fmt == "pdf":
            from forum_app.report import pdf

            data = pdf.render(document, photo_path=photo_path)
        elif fmt == "docx":
            from forum_app.report import word

            data = word.render(document, photo_path=photo_path)
        else:
            from forum_app.report import markdown_out

            data = markdown_out.render(document, photo_url=photo_url).encode("utf-8")
    return Output(data, MIMETYPES[fmt], filename(document, fmt))


def cache_dir() -> Path:
    configured = current_app.config.get("REPORT_CACHE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "report-cache"


@functools.cache
def renderer_digest() -> str:
    """A digest of what shapes the files (renderers, templates, stylesheets): a new release that
    changes how the report looks makes new files instead of serving the old ones."""
    root = Path(__file__).resolve().parent
    project = root.parent.parent
    sources = sorted(root.glob("*.py")) + sorted((project / "templates" / "report").glob("*.html"))
    sources += sorted((project / "static" / "css").glob("report*.css"))
    digest = hashlib.sha256()
    for source in sources:
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()


def snapshot_key(document_data: dict) -> str:
    """The cache key of a published snapshot's files: a digest of its content and of the
    renderers (database ids repeat across databases and test runs; a digest never names
    another document)."""
    canonical = json.dumps(document_data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((renderer_digest() + canonical).encode("utf-8")).hexdigest()


def cached(key: str, fmt: str, name: str, make: Callable[[], Output]) -> Output:
    """A published snapshot never changes, so its PDF and Word files are made once and kept
    (written to a temporary name, then renamed: a reader never gets half a file)."""
    folder = cache_dir() / key[:2]
    path = folder / f"{key}.{fmt}"
    if path.is_file():
        return Output(path.read_bytes(), MIMETYPES[fmt], name)
    output = make()
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".", suffix=f".{fmt}")
    with os.fdopen(handle, "wb") as out:
        out.write(output.data)
    os.replace(temporary, path)
    return output
