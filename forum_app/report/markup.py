"""Markdown written by organisers, made safe for every output.

Parsed with markdown-it's "js-default" preset (raw HTML is never passed through), then cleaned
by nh3, whose allow-list also removes any javascript: link. Text typed in notes is never
Markdown: outputs escape it as plain text.
"""
from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_parser = MarkdownIt("js-default", {"typographer": False})
_TAGS = {
    "p", "br", "strong", "em", "a", "ul", "ol", "li", "blockquote", "h3", "h4", "h5", "h6", "code", "hr",
}


def parser() -> MarkdownIt:
    """The one Markdown parser (Word and Markdown outputs walk its tokens)."""
    return _parser


def to_html(text: str) -> Markup:
    """Safe HTML of an organiser's Markdown. Headings # and ## become h3: the report's own
    structure (title h1, sections h2) stays the one readers navigate."""
    if not text or not text.strip():
        return Markup("")
    html = _parser.render(text)
    html = html.replace("<h1>", "<h3>").replace("</h1>", "</h3>").replace("<h2>", "<h3>").replace("</h2>", "</h3>")
    cleaned = nh3.clean(
        html,
        tags=_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return Markup(cleaned)
