"""The report as Markdown: CommonMark, with GitHub-style pipe tables for the attendance figures.

It reads well as plain text and renders well on a forge (GitHub, GitLab, Forgejo): "# " the
report's title, "## " its parts, "### " each session, "#### " each block; a contents list links
to the headings' anchors (computed as GitHub computes them).

Text typed in notes, titles and captions is escaped (`escape`, `escape_block`): nothing typed
becomes markup, HTML, a link or a table cell boundary. The organisers' fields are Markdown and are
inserted as such (`organiser_markdown`), with three precautions: their headings go below the
report's own (# / ## / ### become ####), their raw HTML is escaped and links whose address is not
http, https, mailto or relative are broken into plain text.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from forum_app.i18n import format_number
from forum_app.notes import domain as notes_domain
from forum_app.report import domain, labels, markup

# --- Escaping plain text ----------------------------------------------------------------------

# Everywhere in a line: what starts emphasis, code, links, HTML, entities, strikethrough, cells.
_INLINE = re.compile(r"([\\`*_\[\]<>|~])|&(?=#?[0-9A-Za-z]+;)")
_INLINE_AND_HASH = re.compile(r"([\\`*_\[\]<>|~#])|&(?=#?[0-9A-Za-z]+;)")
# At the start of a line: headings, list items, setext underlines, thematic breaks, numbered lists.
_LINE_START = re.compile(r"^(#|[-+=])")
_ORDERED = re.compile(r"^(\d{1,9})([.)])")


def escape(text: str) -> str:
    """One line of plain text (titles, captions, table cells): nothing in it is markup. Line
    breaks become spaces."""
    text = " ".join((text or "").split())
    return _escape_line(text, _INLINE_AND_HASH)


def _escape_line(line: str, inline: re.Pattern = _INLINE) -> str:
    line = inline.sub(lambda m: "\\" + m.group(0), line)
    line = _LINE_START.sub(r"\\\1", line)
    return _ORDERED.sub(r"\1\\\2", line)


def escape_block(text: str, indent: str = "") -> str:
    """Plain text of several lines (a note): each line escaped, line breaks kept as hard breaks
    (a backslash at the end of the line), continuation lines prefixed with `indent` (a list
    item's indentation, or "> " in a quote)."""
    lines = [line.strip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    escaped = [_escape_line(line) for line in lines]
    return ("\\\n" + indent).join(escaped)


# --- Heading anchors (GitHub's rule: lower case, punctuation removed, spaces to hyphens) -------


class Slugger:
    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def slug(self, text: str) -> str:
        base = "".join(
            c for c in text.lower() if c in " -_" or unicodedata.category(c)[0] in "LNM"
        ).replace(" ", "-")
        count = self.seen.get(base)
        if count is None:
            self.seen[base] = 0
            return base
        count += 1
        while f"{base}-{count}" in self.seen:
            count += 1
        self.seen[base] = count
        self.seen[f"{base}-{count}"] = 0
        return f"{base}-{count}"


# --- Organisers' Markdown ---------------------------------------------------------------------

_HEADING_PREFIX = re.compile(r"^(\s*(?:>\s?)*(?:[-*+]\s+|\d{1,9}[.)]\s+)?\s{0,3})(#{1,6})(?=\s|$)")
_SETEXT_PREFIX = re.compile(r"^(\s*(?:>\s?)*(?:[-*+]\s+|\d{1,9}[.)]\s+)?\s{0,3})")
_CODE_SPAN = re.compile(r"(`+)(?:.+?)(?<!`)\1(?!`)")
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")
_AUTOLINK = re.compile(r"<(?:https?|mailto):[^\s<>]*>", re.IGNORECASE)
_SAFE_SCHEMES = ("http:", "https:", "mailto:")
# A link's scheme, also when its colon is written as an entity (CommonMark decodes those).
_SCHEME = r"([A-Za-z][A-Za-z0-9+.\-]*(?::|&colon;|&#0*58;|&#[xX]0*3[aA];))"
_INLINE_LINK = re.compile(r"\]\(\s*<?\s*" + _SCHEME)
_REFERENCE = re.compile(r"^(\s{0,3})\[([^\]]+)\]:\s*<?\s*" + _SCHEME)


def _plain_heading_text(inline_token) -> str:
    parts = []
    for child in inline_token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type == "softbreak":
            parts.append(" ")
    return "".join(parts)


def _neutralise(line: str) -> str:
    """Raw HTML escaped (autolinks to http/https/mailto kept), links to other schemes broken,
    outside code spans."""
    out, position = [], 0
    for span in _CODE_SPAN.finditer(line):
        out.append(_neutralise_text(line[position:span.start()]))
        out.append(span.group(0))
        position = span.end()
    out.append(_neutralise_text(line[position:]))
    line = "".join(out)
    reference = _REFERENCE.match(line)
    if reference and not reference.group(3).lower().startswith(_SAFE_SCHEMES):
        line = reference.group(1) + "\\" + line[len(reference.group(1)):]
    return line


def _neutralise_text(text: str) -> str:
    kept = {m.start() for m in _AUTOLINK.finditer(text)}
    text = "".join(
        "\\<" if char == "<" and index not in kept and _HTML_START.match(text, index) else char
        for index, char in enumerate(text)
    )

    def link(match: re.Match) -> str:
        if match.group(1).lower().startswith(_SAFE_SCHEMES):
            return match.group(0)
        return "]\\(" + match.group(0)[2:]

    return _INLINE_LINK.sub(link, text)


def organiser_markdown(text: str, slugger: Slugger | None = None) -> str:
    """An organiser's Markdown field, ready to sit under a "## " or "### " heading."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text.strip():
        return ""
    lines = text.split("\n")
    tokens = markup.parser().parse(text)
    code_lines: set[int] = set()
    drop: set[int] = set()
    for index, token in enumerate(tokens):
        if token.type in ("fence", "code_block") and token.map:
            code_lines.update(range(*token.map))
        elif token.type == "heading_open" and token.map:
            start, end = token.map
            if slugger is not None and index + 1 < len(tokens):
                slugger.slug(_plain_heading_text(tokens[index + 1]))
            level = int(token.tag[1:])
            hashes = "####" if level <= 4 else "#" * level
            if token.markup in ("=", "-"):  # setext: "Title\n=====" -> "#### Title"
                content = " ".join(part.strip() for part in lines[start:end - 1])
                prefix = _SETEXT_PREFIX.match(lines[start]).group(1)
                lines[start] = f"{prefix}{hashes} {content[len(prefix.strip()):].strip()}"
                drop.update(range(start + 1, end))
            else:
                lines[start] = _HEADING_PREFIX.sub(lambda m: m.group(1) + hashes, lines[start], count=1)
    result = []
    for number, line in enumerate(lines):
        if number in drop:
            continue
        result.append(line if number in code_lines else _neutralise(line))
    return "\n".join(result)


# --- The document -----------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(escape(cell) or " " for cell in cells) + " |"

    rule = "| " + " | ".join("---:" if i in numeric else "---" for i in range(len(headers))) + " |"
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def _quoted(text: str, language: str) -> str:
    if language.startswith("fr"):
        return text if text.startswith("«") else f"«\u00a0{text}\u00a0»"
    return text if text.startswith(("“", '"')) else f"“{text}”"


def render(document: domain.Document, *, photo_url: Callable[[str], str]) -> str:
    """The Markdown text of `document` (call inside force_locale(document.event.language))."""
    return _Writer(document, photo_url).build()


class _Writer:
    def __init__(self, document: domain.Document, photo_url: Callable[[str], str]):
        self.document = document
        self.photo_url = photo_url
        self.language = document.event.language or "fr"
        self.slugger = Slugger()
        self.blocks: list[str] = []
        self.contents: list[tuple[int, str, str]] = []  # (level, text, anchor) of ## and ###

    def heading(self, level: int, text: str, *, listed: bool | None = None) -> None:
        """A heading; parts (##) and sessions (###) are listed in the contents."""
        anchor = self.slugger.slug(text)
        if listed if listed is not None else level == 2:
            self.contents.append((level, text, anchor))
        self.blocks.append("#" * level + " " + escape(text))

    def build(self) -> str:
        document = self.document
        if document.is_draft:
            self.blocks.append(f"> **{escape(str(labels.HEADINGS['draft']))}**")
        self.heading(1, document.title)
        if document.lead:
            self.blocks.append(escape_block(document.lead))
        self._metadata()
        contents_at = len(self.blocks)
        self.slugger.slug(str(labels.HEADINGS["contents"]))  # its own heading comes first
        self._part_markdown("introduction", document.introduction_md)
        self._attendance()
        self._sessions()
        self._other_sessions()
        self._part_markdown("conclusion", document.conclusion_md)
        self._part_markdown("next_steps", document.next_steps_md)
        self._part_markdown("links", document.links_md)
        self.blocks[contents_at:contents_at] = self._contents()
        return "\n\n".join(block for block in self.blocks if block) + "\n"

    def _metadata(self) -> None:
        document = self.document
        lines = []
        facts = " · ".join(part for part in (labels.event_dates(document.event), document.event.venue) if part)
        if facts:
            lines.append(f"**{escape(facts)}**")
        if document.organised_by:
            lines.append(escape(str(labels.HEADINGS["organised_by"] % {"name": document.organised_by})))
        if document.is_draft:
            lines.append(f"*{escape(str(labels.HEADINGS['draft']))}*")
        else:
            version = str(labels.HEADINGS["version_published"]) % {
                "number": document.number,
                "date": labels.format_long_date(document.published_at),
            }
            lines.append(f"*{escape(version)}*")
        self.blocks.append("\\\n".join(lines))
        if document.cover is not None:
            self.photo(document.cover)

    def _contents(self) -> list[str]:
        entries = []
        for level, text, anchor in self.contents:
            indent = "" if level == 2 else "  "
            entries.append(f"{indent}- [{escape(text)}](#{anchor})")
        return ["## " + escape(str(labels.HEADINGS["contents"])), "\n".join(entries)] if entries else []

    def _part_markdown(self, key: str, text: str) -> None:
        if not text.strip():
            return
        self.heading(2, str(labels.HEADINGS[key]))
        self.blocks.append(organiser_markdown(text, self.slugger))

    def _attendance(self) -> None:
        attendance = self.document.attendance
        if attendance is None:
            return
        if attendance.registered or attendance.present:
            self.heading(2, str(labels.HEADINGS["attendance"]))
            headers = [str(labels.HEADINGS["registered"]), str(labels.HEADINGS["present"])]
            values = [attendance.registered, attendance.present]
            if attendance.organisations:
                headers.append(str(labels.HEADINGS["organisations"]))
                values.append(attendance.organisations)
            self.blocks.append(_table(headers, [[format_number(v) for v in values]], set(range(len(values)))))
            for key, rows, column in (
                ("by_category", attendance.by_category, "category"),
                ("by_territory", attendance.by_territory, "territory"),
            ):
                if rows:
                    self.heading(3, str(labels.HEADINGS[key]), listed=False)
                    self.blocks.append(
                        _table(
                            [str(labels.HEADINGS[column]), str(labels.HEADINGS["registered"]), str(labels.HEADINGS["present"])],
                            [[row.label, format_number(row.registered), format_number(row.present)] for row in rows],
                            {1, 2},
                        )
                    )
        if self.document.show_delegations and attendance.delegations:
            self.heading(2, str(labels.HEADINGS["delegations"]))
            self.blocks.append(
                _table(
                    [
                        str(labels.HEADINGS["delegation"]),
                        str(labels.HEADINGS["territory"]),
                        str(labels.HEADINGS["members"]),
                        str(labels.HEADINGS["present"]),
                        str(labels.HEADINGS["organisations"]),
                    ],
                    [
                        [d.name, d.territory, format_number(d.members), format_number(d.present), ", ".join(d.organisations)]
                        for d in attendance.delegations
                    ],
                    {2, 3},
                )
            )

    def _sessions(self) -> None:
        self.heading(2, str(labels.HEADINGS["sessions"]))
        if not self.document.sections:
            self.blocks.append(escape_block(str(labels.HEADINGS["no_notes"])))
            return
        for section in self.document.sections:
            self._section(section)

    def _section(self, section: domain.Section) -> None:
        self.heading(3, section.title, listed=True)
        lines = []
        if section.subtitle:
            lines.append(f"*{escape(section.subtitle)}*")
        when = labels.session_when(section.starts, section.ends)
        meta = " · ".join(part for part in (section.kind_label, when, section.room) if part)
        if meta:
            lines.append(escape(meta))
        if lines:
            self.blocks.append("\\\n".join(lines))
        if section.people:
            self.blocks.append(
                "\n".join(
                    "- " + escape(f"{p.line()} — {p.role}" if p.role else p.line()) for p in section.people
                )
            )
        if section.summary_md:
            self.blocks.append(organiser_markdown(section.summary_md, self.slugger))
        for kind, items in section.blocks():
            self.heading(4, str(labels.BLOCK_HEADINGS.get(kind, kind)))
            if kind == notes_domain.QUOTE:
                for item in items:
                    self.quote(item)
            elif kind == notes_domain.PHOTO:
                for item in items:
                    if item.photo is not None:
                        self.photo(item.photo)
            else:
                self.blocks.append("\n".join(self._list_item(item) for item in items))

    def _list_item(self, item: domain.Item) -> str:
        text = escape_block(item.text, "  ")
        if text and (item.highlighted or item.kind == notes_domain.FIGURE):
            text = f"**{text}**"
        return "- " + text

    def quote(self, item: domain.Item) -> None:
        text = escape_block(_quoted(item.text.strip(), self.language), "> ")
        attribution = "— " + escape(item.attribution.strip() or domain.ANONYMOUS)
        if self.document.is_draft and item.approval != domain.NOT_NEEDED:
            label = labels.APPROVAL_LABELS.get(item.approval)
            if label:
                attribution += f" *({escape(str(label))})*"
        self.blocks.append(f"> {text}\n>\n> {attribution}")

    def photo(self, photo: domain.Photo) -> None:
        url = self.photo_url(photo.file)
        if re.search(r"[\s()<>]", url):
            url = "<" + url.replace("<", "%3C").replace(">", "%3E") + ">"
        lines = [f"![{escape(photo.caption)}]({url})"]
        caption = []
        if photo.caption.strip():
            caption.append(escape(photo.caption))
        if photo.credit.strip():
            caption.append(escape(str(labels.HEADINGS["credit"] % {"credit": photo.credit.strip()})))
        if caption:
            lines.append("*" + " — ".join(caption) + "*")
        self.blocks.append("\\\n".join(lines))

    def _other_sessions(self) -> None:
        mentions = self.document.other_sessions
        if not mentions:
            return
        self.heading(2, str(labels.HEADINGS["other_sessions"]))
        lines = []
        for mention in mentions:
            details = [d for d in (mention.kind_label, labels.session_when(mention.starts), mention.room) if d]
            line = f"- **{escape(mention.title)}**"
            if details:
                line += " — " + escape(", ".join(details))
            lines.append(line)
        self.blocks.append("\n".join(lines))
