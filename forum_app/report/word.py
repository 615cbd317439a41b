"""The report as a Word document (.docx), for a communication team that edits it in Word or
LibreOffice.

Everything is written with the word processor's own built-in styles ("Title", "Subtitle",
"Heading 1"–"Heading 4", "Quote", "Intense Quote", "List Bullet", "List Number", "Caption",
"Header", "Footer"), so the navigation pane shows the outline and a house template restyles the
whole document at once. Three paragraph styles of our own, based on "Normal", carry what has no
built-in style: ATTRIBUTION (who said a quote), SESSION_INFO (a session's kind, time, room and
people) and COVER_INFO (the cover's dates, venue, organiser, version).

Text typed in notes is plain text: whatever it contains (`<b>`, `*`, `#`) is written as it is,
line breaks kept. Only the organisers' Markdown fields are read as Markdown (bold, italics,
links to http/https/mailto addresses, lists, headings, quotes); their raw HTML never is.
Photos are embedded from `photo_path(name)`; a missing or unreadable file leaves the photo out.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from babel.core import get_global
from docx import Document as new_docx
from docx.enum.section import WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.image.exceptions import UnrecognizedImageError
from docx.image.image import Image as DocxImage
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.pkgwriter import PackageWriter
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.shape import CT_Inline
from docx.parts.image import ImagePart
from docx.shared import Cm, Emu, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from forum_app.i18n import format_number
from forum_app.notes import domain as notes_domain
from forum_app.report import domain, labels, markup

ATTRIBUTION = "Attribution de citation"
SESSION_INFO = "Informations de session"
COVER_INFO = "Informations de couverture"
HYPERLINK = "Hyperlink"
TABLE_STYLE = "Light List Accent 1"

PAGE_WIDTH, PAGE_HEIGHT, MARGIN = Cm(21.0), Cm(29.7), Cm(2.5)  # A4
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
PHOTO_MAX_HEIGHT = Cm(11)  # a portrait photo stays on its page with its caption
COVER_PHOTO_MAX_HEIGHT = Cm(9)  # the cover stays one page

LINK_SCHEMES = {"http", "https", "mailto"}
LIST_ITEMS = (notes_domain.KEY_POINT, notes_domain.FIGURE, notes_domain.PROPOSAL, notes_domain.QUESTION)

# Characters XML 1.0 cannot hold (a control character pasted into a note must not break the file).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean(text: str) -> str:
    """Plain text ready for a run: line ends unified (python-docx writes each '\\n' as a line break)."""
    return _NOT_XML.sub("", (text or "").replace("\r\n", "\n").replace("\r", "\n"))


def language_tag(language: str) -> str:
    """'fr' -> 'fr-FR', 'en' -> 'en-US' (the spell-checker's language), 'fr_BE' -> 'fr-BE'."""
    language = (language or "fr").replace("_", "-")
    if "-" in language:
        return language
    likely = get_global("likely_subtags").get(language, "")
    parts = likely.split("_")
    territory = next((p for p in parts[1:] if len(p) == 2 and p.isupper()), "")
    return f"{language}-{territory}" if territory else language


def _quoted(text: str, language: str) -> str:
    text = text.strip()
    if language.startswith("fr"):
        return text if text.startswith("«") else f"«\u00a0{text}\u00a0»"
    return text if text.startswith(("“", '"')) else f"“{text}”"


def render(document: domain.Document, *, photo_path: Callable[[str], Path | None]) -> bytes:
    """The .docx file of `document` (call inside force_locale(document.event.language))."""
    return _Writer(document, photo_path).build()


class _Writer:
    def __init__(self, document: domain.Document, photo_path: Callable[[str], Path | None]):
        self.document = document
        self.photo_path = photo_path
        self.language = document.event.language or "fr"
        self.docx = new_docx()
        self._body_end = self.docx.element.body.get_or_add_sectPr()  # new paragraphs go before it
        self._styles: dict[str, object] = {}
        self._style_ids: dict[str, str] = {}
        self._toc: list[tuple[int, str, str]] = []  # (level, text, bookmark) of headings 1 and 2
        self._images: dict[str, tuple[str, DocxImage] | None] = {}
        self._image_parts: dict[str, ImagePart] = {}  # by SHA-1 of the file's bytes
        self._shape_id = 0

    # --- the file ---------------------------------------------------------------------------

    def build(self) -> bytes:
        self._setup()
        self._cover()
        body = self.docx.add_section(WD_SECTION.NEW_PAGE)
        self._header_footer(body)
        contents = self._contents()
        self._introduction()
        self._attendance()
        self._delegations()
        self._sessions()
        self._other_sessions()
        self._markdown_part("conclusion", self.document.conclusion_md)
        self._markdown_part("next_steps", self.document.next_steps_md)
        self._markdown_part("links", self.document.links_md)
        self._fill_contents(contents)
        return self._save()

    def _save(self) -> bytes:
        """The .docx bytes. Photos are stored in the zip as they are: JPEG and PNG do not
        compress, and deflating 100 photos took longer than writing the rest of the report.
        (python-docx's own save deflates every part; its package writer's steps are reused.)"""
        package = self.docx.part.package
        parts = list(package.iter_parts())
        for part in parts:
            part.before_marshal()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            writer = _ZipWriter(archive)
            PackageWriter._write_content_types_stream(writer, parts)
            PackageWriter._write_pkg_rels(writer, package.rels)
            PackageWriter._write_parts(writer, parts)
        return out.getvalue()

    def _setup(self) -> None:
        doc = self.docx
        tag = language_tag(self.language)
        section = doc.sections[0]
        section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
        section.left_margin = section.right_margin = MARGIN
        section.top_margin = section.bottom_margin = MARGIN
        section.header_distance = section.footer_distance = Cm(1.2)

        # The document's language: docDefaults (every style) and Normal, for the spell-checker.
        styles_element = doc.styles.element
        defaults = styles_element.find(qn("w:docDefaults"))
        rpr = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
        _set_lang(rpr, tag)
        _set_lang(doc.styles["Normal"].element.get_or_add_rPr(), tag)

        settings = doc.settings.element
        theme_lang = settings.find(qn("w:themeFontLang"))
        if theme_lang is not None:
            theme_lang.set(qn("w:val"), tag)
        proof = settings.find(qn("w:proofState"))  # "clean" would tell Word the text was already checked
        if proof is not None:
            settings.remove(proof)
        # Word fills the table of contents (and every field) when the file is opened.
        update = OxmlElement("w:updateFields")
        update.set(qn("w:val"), "true")
        following = [settings.find(qn(f"w:{name}")) for name in ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat")]
        anchor = next((el for el in following if el is not None), None)
        if anchor is not None:
            anchor.addprevious(update)
        else:
            settings.append(update)

        # The template's thumbnail is a picture of some other document: no preview is better.
        package = doc.part.package
        for rel_id, rel in list(package.rels.items()):
            if rel.reltype == RT.THUMBNAIL:
                del package.rels[rel_id]

        props = doc.core_properties
        props.title = self.document.title
        props.subject = str(labels.HEADINGS["report_of"])
        props.author = self.document.organised_by
        props.last_modified_by = self.document.organised_by
        props.language = tag
        props.comments = ""
        props.keywords = self.document.event.title
        props.revision = max(1, self.document.number)
        props.category = ""

        self._define_styles()

    def _define_styles(self) -> None:
        styles = self.docx.styles
        grey = RGBColor(0x40, 0x40, 0x40)

        attribution = styles.add_style(ATTRIBUTION, WD_STYLE_TYPE.PARAGRAPH)
        attribution.base_style = styles["Normal"]
        attribution.next_paragraph_style = styles["Normal"]
        attribution.quick_style = True
        attribution.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        attribution.paragraph_format.space_before = Pt(0)
        attribution.paragraph_format.space_after = Pt(14)
        attribution.paragraph_format.left_indent = Cm(1.6)
        attribution.paragraph_format.right_indent = Cm(1.6)
        attribution.font.size = Pt(10)
        attribution.font.color.rgb = grey

        info = styles.add_style(SESSION_INFO, WD_STYLE_TYPE.PARAGRAPH)
        info.base_style = styles["Normal"]
        info.quick_style = True
        info.paragraph_format.space_after = Pt(2)
        info.font.size = Pt(10)
        info.font.color.rgb = grey

        cover = styles.add_style(COVER_INFO, WD_STYLE_TYPE.PARAGRAPH)
        cover.base_style = styles["Normal"]
        cover.quick_style = True
        cover.paragraph_format.space_after = Pt(4)
        cover.font.size = Pt(13)
        cover.font.color.rgb = grey

        if HYPERLINK not in [s.name for s in styles if s.type == WD_STYLE_TYPE.CHARACTER]:
            link = styles.add_style(HYPERLINK, WD_STYLE_TYPE.CHARACTER, builtin=True)
            link.font.underline = True
            link.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)

        for level, indent in ((1, 0), (2, 0.6)):
            toc = styles.add_style(f"toc {level}", WD_STYLE_TYPE.PARAGRAPH, builtin=True)
            toc.element.set(qn("w:styleId"), f"TOC{level}")
            toc.base_style = styles["Normal"]
            toc.next_paragraph_style = styles["Normal"]
            toc.priority = 39
            toc.paragraph_format.left_indent = Cm(indent)
            toc.paragraph_format.space_before = Pt(6 if level == 1 else 0)
            toc.paragraph_format.space_after = Pt(2)
            if level == 1:
                toc.font.bold = True

        header = styles["Header"]
        header.font.size = Pt(9)
        header.font.color.rgb = grey

        caption = styles["Caption"]
        caption.font.bold = False
        caption.font.italic = True
        caption.font.color.rgb = grey
        caption.paragraph_format.space_after = Pt(12)
        # Quotes and their attribution are read together.
        for name in ("Quote", "Intense Quote"):
            styles[name].paragraph_format.keep_with_next = True
            styles[name].paragraph_format.space_after = Pt(4)
            styles[name].paragraph_format.left_indent = Cm(1.6)
            styles[name].paragraph_format.right_indent = Cm(1.6)

    def style(self, name: str):
        found = self._styles.get(name)
        if found is None:
            found = self._styles[name] = self.docx.styles[name]
        return found

    def style_id(self, name: str) -> str:
        found = self._style_ids.get(name)
        if found is None:
            found = self._style_ids[name] = self.style(name).style_id
        return found

    def paragraph(self, style: str = "Normal", text: str = "") -> Paragraph:
        """A new paragraph at the end of the body. Built as XML: python-docx's
        `add_paragraph(style=...)` looks for the default style among all ~160 and scans the
        body for its end on every call (a 2,000-item report took 10 s instead of 1)."""
        element = OxmlElement("w:p")
        if style != "Normal":
            properties = OxmlElement("w:pPr")
            properties.append(OxmlElement("w:pStyle", {qn("w:val"): self.style_id(style)}))
            element.append(properties)
        self._body_end.addprevious(element)
        paragraph = Paragraph(element, self.docx)
        if text:
            add_text(paragraph, text)
        return paragraph

    def heading(self, text: str, level: int) -> Paragraph:
        paragraph = self.paragraph(f"Heading {level}", text)
        if level == 1 and not self._toc:
            paragraph.paragraph_format.page_break_before = True  # the contents have their own page
        if level <= 2:
            # A bookmark around the heading: the entry of the table of contents links to it.
            number = len(self._toc) + 1
            name = f"_Toc{number:08d}"
            start = OxmlElement("w:bookmarkStart")
            start.set(qn("w:id"), str(number))
            start.set(qn("w:name"), name)
            end = OxmlElement("w:bookmarkEnd")
            end.set(qn("w:id"), str(number))
            runs = paragraph._p.r_lst
            if runs:
                runs[0].addprevious(start)
                runs[-1].addnext(end)
            self._toc.append((level, clean(text), name))
        return paragraph

    def _header_footer(self, section) -> None:
        section.header.is_linked_to_previous = False
        section.footer.is_linked_to_previous = False
        header = section.header.paragraphs[0]
        header.style = self.docx.styles["Header"]
        add_text(header, self.document.title)
        if self.document.is_draft:
            header.add_run(" — " + str(labels.HEADINGS["draft"])).italic = True
        footer = section.footer.paragraphs[0]
        footer.style = self.docx.styles["Footer"]
        footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _field(footer, "PAGE", "1")
        # The body's pages are numbered from 1 (the cover has no number).
        pg_num = OxmlElement("w:pgNumType")
        pg_num.set(qn("w:start"), "1")
        sect_pr = section._sectPr
        cols = sect_pr.find(qn("w:cols"))
        if cols is not None:
            cols.addprevious(pg_num)
        else:
            sect_pr.append(pg_num)

    # --- cover and contents -------------------------------------------------------------------

    def _cover(self) -> None:
        document = self.document
        self.paragraph(COVER_INFO, str(labels.HEADINGS["report_of"]))
        self.paragraph("Title", document.title)
        if document.lead:
            self.paragraph("Subtitle", document.lead)
        facts = [labels.event_dates(document.event), document.event.venue]
        line = " · ".join(part for part in facts if part)
        if line:
            self.paragraph(COVER_INFO, line).runs[0].bold = True
        if document.organised_by:
            self.paragraph(COVER_INFO, str(labels.HEADINGS["organised_by"] % {"name": document.organised_by}))
        if document.cover is not None:
            self.photo(document.cover, COVER_PHOTO_MAX_HEIGHT)
        if document.is_draft:
            version = str(labels.HEADINGS["draft"])
        else:
            version = str(labels.HEADINGS["version_published"]) % {
                "number": document.number,
                "date": labels.format_long_date(document.published_at),
            }
        self.paragraph(COVER_INFO, version).runs[0].italic = True

    def _contents(self) -> Paragraph:
        # "TOC Heading" is Word's own style for this title: it looks like "Heading 1" but stays
        # out of the table of contents and of the navigation pane.
        self.paragraph("TOC Heading", str(labels.HEADINGS["contents"]))
        return self.paragraph("Normal")  # filled once every heading is known

    def _fill_contents(self, last: Paragraph) -> None:
        """The table of contents: a TOC field that Word (F9, or on opening) and LibreOffice
        (Update all) rebuild with page numbers. Until then its shown result lists the headings,
        each linked to its place, followed by a note saying how to add the page numbers."""
        paragraphs = []
        for level, text, bookmark in self._toc:
            paragraph = last.insert_paragraph_before()
            paragraph._p.style = self.style_id(f"toc {level}")
            paragraphs.append(paragraph)
            link = OxmlElement("w:hyperlink")
            link.set(qn("w:anchor"), bookmark)
            link.set(qn("w:history"), "1")
            paragraph._p.append(link)
            link.append(paragraph.add_run(text)._r)
        first = paragraphs[0] if paragraphs else last
        begin = _field_start(first, 'TOC \\o "1-2" \\h \\z \\u')
        for element in reversed(begin):
            first._p.insert(1 if first._p.pPr is not None else 0, element)
        note = last.add_run(str(labels.HEADINGS["toc_note"]))
        note.italic = True
        note.font.size = Pt(9)
        last.paragraph_format.space_before = Pt(8)
        _field_char(last, "end")

    # --- parts ----------------------------------------------------------------------------------

    def _introduction(self) -> None:
        self._markdown_part("introduction", self.document.introduction_md)

    def _markdown_part(self, key: str, text: str) -> None:
        if not text.strip():
            return
        self.heading(str(labels.HEADINGS[key]), 1)
        self.markdown(text)

    def _attendance(self) -> None:
        attendance = self.document.attendance
        if attendance is None or not (attendance.registered or attendance.present):
            return
        self.heading(str(labels.HEADINGS["attendance"]), 1)
        headings = [labels.HEADINGS["registered"], labels.HEADINGS["present"]]
        values = [attendance.registered, attendance.present]
        if attendance.organisations:
            headings.append(labels.HEADINGS["organisations"])
            values.append(attendance.organisations)
        self.table([str(h) for h in headings], [[format_number(v) for v in values]], numeric_from=0)
        for key, rows, column in (
            ("by_category", attendance.by_category, "category"),
            ("by_territory", attendance.by_territory, "territory"),
        ):
            if not rows:
                continue
            self.heading(str(labels.HEADINGS[key]), 3)
            self.table(
                [str(labels.HEADINGS[column]), str(labels.HEADINGS["registered"]), str(labels.HEADINGS["present"])],
                [[row.label, format_number(row.registered), format_number(row.present)] for row in rows],
                widths=(8.0, 4.0, 4.0),
            )

    def _delegations(self) -> None:
        attendance = self.document.attendance
        if attendance is None or not self.document.show_delegations or not attendance.delegations:
            return
        self.heading(str(labels.HEADINGS["delegations"]), 1)
        self.table(
            [
                str(labels.HEADINGS["delegation"]),
                str(labels.HEADINGS["territory"]),
                str(labels.HEADINGS["members"]),
                str(labels.HEADINGS["present"]),
                str(labels.HEADINGS["organisations"]),
            ],
            [
                [row.name, row.territory, format_number(row.members), format_number(row.present), ", ".join(row.organisations)]
                for row in attendance.delegations
            ],
            numeric_columns=(2, 3),
            widths=(3.8, 2.8, 2.2, 2.4, 4.8),
        )

    def _sessions(self) -> None:
        self.heading(str(labels.HEADINGS["sessions"]), 1)
        if not self.document.sections:
            self.paragraph("Normal", str(labels.HEADINGS["no_notes"]))
            return
        for section in self.document.sections:
            self._section(section)

    def _section(self, section: domain.Section) -> None:
        self.heading(section.title, 2)
        info = []
        if section.subtitle:
            info.append(self.paragraph(SESSION_INFO, section.subtitle))
            info[-1].runs[0].italic = True
        when = labels.session_when(section.starts, section.ends)
        meta = " · ".join(part for part in (section.kind_label, when, section.room) if part)
        if meta:
            info.append(self.paragraph(SESSION_INFO, meta))
        for person in section.people:
            line = person.line()
            info.append(self.paragraph(SESSION_INFO, f"{line} — {person.role}" if person.role else line))
        if info:
            info[-1].paragraph_format.space_after = Pt(10)
        if section.summary_md:
            self.markdown(section.summary_md)
        for kind, items in section.blocks():
            self.heading(str(labels.BLOCK_HEADINGS.get(kind, kind)), 3)
            for item in items:
                self._item(item)

    def _item(self, item: domain.Item) -> None:
        if item.kind == notes_domain.QUOTE:
            self.quote(item)
        elif item.kind == notes_domain.PHOTO:
            if item.photo is not None:
                self.photo(item.photo, PHOTO_MAX_HEIGHT)
        else:
            paragraph = self.paragraph("List Bullet")
            run = add_text(paragraph, item.text)
            if item.highlighted or item.kind == notes_domain.FIGURE:
                run.bold = True

    def quote(self, item: domain.Item) -> None:
        style = "Intense Quote" if item.highlighted else "Quote"
        self.paragraph(style, _quoted(clean(item.text), self.language))
        attribution = self.paragraph(ATTRIBUTION, "— " + (item.attribution.strip() or domain.ANONYMOUS))
        if self.document.is_draft and item.approval != domain.NOT_NEEDED:
            label = labels.APPROVAL_LABELS.get(item.approval)
            if label:
                state = attribution.add_run(f" ({label})")
                state.italic = True
                state.font.small_caps = False

    def _other_sessions(self) -> None:
        mentions = self.document.other_sessions
        if not mentions:
            return
        self.heading(str(labels.HEADINGS["other_sessions"]), 1)
        for mention in mentions:
            paragraph = self.paragraph("List Bullet")
            add_text(paragraph, mention.title).bold = True
            details = [mention.kind_label, labels.session_when(mention.starts), mention.room]
            details = [d for d in details if d]
            if details:
                add_text(paragraph, " — " + ", ".join(details))

    # --- tables -------------------------------------------------------------------------------

    def table(
        self,
        headers: list[str],
        rows: list[list[str]],
        *,
        numeric_from: int | None = 1,
        numeric_columns: tuple[int, ...] | None = None,
        widths: tuple[float, ...] | None = None,
    ):
        """A table in TABLE_STYLE whose header row repeats on every page it runs onto."""
        if numeric_columns is None:
            numeric_columns = tuple(range(numeric_from, len(headers))) if numeric_from is not None else ()
        table = self.docx.add_table(rows=1 + len(rows), cols=len(headers))
        table.style = self.style(TABLE_STYLE)
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        header_row = table.rows[0]
        _repeat_header(header_row)
        if widths:
            _column_widths(table, widths)
        for row_cells, values in zip(table.rows, [headers, *rows]):
            for index, (cell, value) in enumerate(zip(row_cells.cells, values)):
                paragraph = cell.paragraphs[0]
                add_text(paragraph, str(value))
                if index in numeric_columns:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        self.paragraph("Normal")  # room after the table (Word glues consecutive tables together)
        return table

    # --- photos -------------------------------------------------------------------------------

    def _image(self, name: str):
        """(relationship id, image) of a photo file, one image part per distinct file; None
        when the file is missing or not an image."""
        if name in self._images:
            return self._images[name]
        found = None
        try:
            path = self.photo_path(name)
            if path is not None:
                image = DocxImage.from_file(str(path))
                # python-docx's get_or_add_image would hash every image already added, for
                # each new one (100 photos: 5,000 SHA-1 of a megabyte); one hash each here.
                part = self._image_parts.get(image.sha1)
                if part is None:
                    partname = PackURI(f"/word/media/image{len(self._image_parts) + 1}.{image.ext}")
                    part = self._image_parts[image.sha1] = ImagePart.from_image(image, partname)
                found = (self.docx.part.relate_to(part, RT.IMAGE), image)
        except (OSError, UnrecognizedImageError, ValueError):
            found = None
        self._images[name] = found
        return found

    def photo(self, photo: domain.Photo, max_height: int) -> None:
        image = self._image(photo.file)
        if image is None:
            return
        rel_id, info = image
        px_width, px_height = info.px_width or 1, info.px_height or 1
        width = int(TEXT_WIDTH)
        height = int(width * px_height / px_width)
        if height > max_height:
            height = int(max_height)
            width = int(height * px_width / px_height)
        self._shape_id += 1
        inline = CT_Inline.new_pic_inline(self._shape_id, rel_id, info.filename, Emu(width), Emu(height))
        if photo.caption:
            inline.docPr.set("descr", clean(photo.caption))
        paragraph = self.paragraph("Normal")
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        paragraph.paragraph_format.keep_with_next = True
        paragraph.paragraph_format.space_after = Pt(4)
        paragraph.add_run()._r.add_drawing(inline)
        parts = []
        if photo.caption.strip():
            parts.append(photo.caption.strip())
        if photo.credit.strip():
            parts.append(str(labels.HEADINGS["credit"] % {"credit": photo.credit.strip()}))
        if parts:
            caption = self.paragraph("Caption", " — ".join(parts))
            caption.alignment = WD_ALIGN_PARAGRAPH.CENTER

    # --- Markdown -----------------------------------------------------------------------------

    def markdown(self, text: str) -> None:
        _MarkdownWriter(self).write(text)

    def hyperlink(self, paragraph: Paragraph, url: str):
        """A w:hyperlink element at the end of `paragraph` (runs are moved into it), or None
        when the address is not one a reader may follow."""
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            return None
        if scheme not in LINK_SCHEMES:
            return None
        rel_id = paragraph.part.relate_to(url, RT.HYPERLINK, is_external=True)
        element = OxmlElement("w:hyperlink")
        element.set(qn("r:id"), rel_id)
        element.set(qn("w:history"), "1")
        paragraph._p.append(element)
        return element

    def numbering(self, style: str, start: int) -> int:
        """A new numbering instance of `style`'s list, starting at `start`: each numbered
        list of the Markdown fields counts from its own first number."""
        num_pr = self.style(style).element.pPr.numPr
        num_id = num_pr.numId.val
        numbering = self.docx.part.numbering_part.element
        abstract_id = numbering.num_having_numId(num_id).abstractNumId.val
        num = numbering.add_num(abstract_id)
        override = num.add_lvlOverride(ilvl=0)
        override.add_startOverride(start)
        return num.numId


class _MarkdownWriter:
    """Walks markdown-it's tokens of an organiser's field into paragraphs and runs."""

    def __init__(self, writer: _Writer):
        self.writer = writer
        self.lists: list[tuple[str, int | None]] = []  # (style, numbering id of an ordered list)
        self.quote_depth = 0
        self.heading_level = 0
        self.item_opened = False
        self.table_rows: list[list] | None = None

    def write(self, text: str) -> None:
        for token in markup.parser().parse(clean(text)):
            kind = token.type
            if kind == "heading_open":
                self.heading_level = int(token.tag[1:])
            elif kind == "heading_close":
                self.heading_level = 0
            elif kind == "bullet_list_open":
                self.lists.append(("List Bullet", None))
            elif kind == "ordered_list_open":
                style = self._list_style("List Number", len(self.lists) + 1)
                try:
                    start = int(token.attrGet("start") or 1)
                except (TypeError, ValueError):
                    start = 1
                self.lists.append(("List Number", self.writer.numbering(style, start)))
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
            elif kind == "list_item_open":
                self.item_opened = True
            elif kind == "blockquote_open":
                self.quote_depth += 1
            elif kind == "blockquote_close":
                self.quote_depth -= 1
            elif kind == "table_open":
                self.table_rows = []
            elif kind == "tr_open" and self.table_rows is not None:
                self.table_rows.append([])
            elif kind == "table_close":
                self._table()
            elif kind == "inline":
                if self.table_rows is not None:
                    self.table_rows[-1].append(token.children or [])
                elif self.heading_level and not token.content.strip():
                    continue  # "#" alone: never an empty heading
                else:
                    self.inline(self._paragraph(), token.children or [])
            elif kind in ("fence", "code_block"):
                paragraph = self._paragraph()
                run = add_text(paragraph, token.content.rstrip("\n"))
                run.font.name = "Courier New"
            elif kind == "html_block":  # not produced by the parser's preset; kept as text if ever
                add_text(self._paragraph(), token.content.strip())

    @staticmethod
    def _list_style(base: str, depth: int) -> str:
        return base if depth <= 1 else f"{base} {min(depth, 3)}"

    def _paragraph(self) -> Paragraph:
        writer = self.writer
        if self.heading_level:
            return writer.paragraph("Heading 3" if self.heading_level <= 2 else "Heading 4")
        if self.lists:
            depth = len(self.lists)
            base, num_id = self.lists[-1]
            if self.item_opened:
                self.item_opened = False
                paragraph = writer.paragraph(self._list_style(base, depth))
                if num_id is not None:
                    num_pr = paragraph._p.get_or_add_pPr().get_or_add_numPr()
                    num_pr.get_or_add_ilvl().val = 0
                    num_pr.get_or_add_numId().val = num_id
                return paragraph
            return writer.paragraph(self._list_style("List Continue", depth))
        if self.quote_depth:
            return writer.paragraph("Quote")
        return writer.paragraph("Normal")

    def inline(self, paragraph: Paragraph, children) -> None:
        bold = italic = strike = 0
        link = None
        link_style = self.writer.style_id(HYPERLINK)

        def run(text: str, *, code: bool = False):
            if not text:
                return None
            made = add_text(paragraph, text)
            if bold:
                made.bold = True
            if italic:
                made.italic = True
            if strike:
                made.font.strike = True
            if code:
                made.font.name = "Courier New"
            if link is not None:
                made._r.style = link_style
                link.append(made._r)
            return made

        for child in children:
            kind = child.type
            if kind == "text":
                run(child.content)
            elif kind == "softbreak":
                run(" ")
            elif kind == "hardbreak":
                made = paragraph.add_run()
                made.add_break()
                if link is not None:
                    link.append(made._r)
            elif kind == "strong_open":
                bold += 1
            elif kind == "strong_close":
                bold -= 1
            elif kind == "em_open":
                italic += 1
            elif kind == "em_close":
                italic -= 1
            elif kind == "s_open":
                strike += 1
            elif kind == "s_close":
                strike -= 1
            elif kind == "link_open":
                link = self.writer.hyperlink(paragraph, str(child.attrGet("href") or ""))
            elif kind == "link_close":
                link = None
            elif kind == "code_inline":
                run(child.content, code=True)
            elif kind == "image":  # pictures from elsewhere are not fetched: their description stays
                run(child.content)
            elif kind == "html_inline":
                run(child.content)

    def _table(self) -> None:
        rows, self.table_rows = self.table_rows or [], None
        if not rows:
            return
        columns = max(len(row) for row in rows)
        table = self.writer.docx.add_table(rows=len(rows), cols=columns)
        table.style = self.writer.style(TABLE_STYLE)
        _repeat_header(table.rows[0])
        for row, cells in zip(table.rows, rows):
            for cell, children in zip(row.cells, cells):
                self.inline(cell.paragraphs[0], children)
        self.writer.paragraph("Normal")


# --- XML helpers ------------------------------------------------------------------------------


class _ZipWriter:
    """The physical writer python-docx's PackageWriter expects: XML deflated, media stored."""

    STORED = {"jpg", "jpeg", "png", "gif"}

    def __init__(self, archive: zipfile.ZipFile):
        self.archive = archive

    def write(self, pack_uri, blob: bytes) -> None:
        stored = pack_uri.ext.lower() in self.STORED
        self.archive.writestr(pack_uri.membername, blob, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)


def add_text(paragraph: Paragraph, text: str) -> Run:
    """`paragraph.add_run(text)`, built directly (python-docx walks the text one character at
    a time): each line break a w:br, each tab a w:tab, control characters dropped."""
    run = OxmlElement("w:r")
    for index, line in enumerate(clean(text).split("\n")):
        if index:
            run.append(OxmlElement("w:br"))
        for position, piece in enumerate(line.split("\t")):
            if position:
                run.append(OxmlElement("w:tab"))
            if piece:
                element = OxmlElement("w:t")
                element.text = piece
                if piece != piece.strip():
                    element.set(qn("xml:space"), "preserve")
                run.append(element)
    paragraph._p.append(run)
    return Run(run, paragraph)


def _set_lang(rpr, tag: str) -> None:
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), tag)


def _column_widths(table, widths_cm: tuple[float, ...]) -> None:
    """Fixed column widths (the grid LibreOffice reads and each cell's width Word reads)."""
    table.autofit = False
    for column, width in zip(table.columns, widths_cm):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _repeat_header(row) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _field_char(paragraph: Paragraph, kind: str):
    run = paragraph.add_run()
    element = OxmlElement("w:fldChar")
    element.set(qn("w:fldCharType"), kind)
    run._r.append(element)
    return run._r


def _field_start(paragraph: Paragraph, instruction: str) -> list:
    """The begin / instruction / separate runs of a complex field, appended to `paragraph`
    (returned so a caller may move them)."""
    begin = _field_char(paragraph, "begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    separate = _field_char(paragraph, "separate")
    return [begin, run._r, separate]


def _field(paragraph: Paragraph, instruction: str, result: str) -> None:
    """A complex field (PAGE...) whose shown result is `result` until it is updated."""
    _field_start(paragraph, instruction)
    add_text(paragraph, result)
    _field_char(paragraph, "end")
