"""The 通报's layout in Word (python-docx), after GB/T 9704 (党政机关公文格式).

A4; margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm; the title in 方正小标宋简体 二号
(22 pt) centred; the body in 仿宋_GB2312 三号 (16 pt) with a two-character first-line indent and
28 pt line spacing; first-level headings in 黑体, the issuer and date right-aligned; page numbers
"— N —" in 宋体 四号 at the foot; the annex (ranking table) on a page of its own. Every run names
its East Asian font explicitly (w:eastAsia), and the font table says which font stands in for
each 方正/GB2312 font where it is missing.
"""

from __future__ import annotations

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from tally.notice import (
    BODY_FONT,
    HEADING1_FONT,
    HEADING2_FONT,
    LATIN_FONT,
    TITLE_FONT,
    Notice,
    cn_date,
    points,
)

SIZE_2 = Pt(22)  # 二号
SIZE_S2 = Pt(18)  # 小二
SIZE_3 = Pt(16)  # 三号
SIZE_4 = Pt(14)  # 四号
SIZE_TABLE = Pt(12)  # 小四
RED = RGBColor(0xC0, 0x00, 0x00)
COLUMN_WIDTHS = (Mm(20), Mm(80), Mm(28), Mm(28))  # 名次 单位 得分 等次: 156 mm, the type area
ROW_HEIGHT = Mm(9)
LINE = Pt(28)  # exact line spacing of the body (28 磅: 22 lines a page)


def _font(run: Run, font: tuple[str, str], size: Pt, *, bold: bool = False) -> Run:
    run.font.name = LATIN_FONT
    run.font.size = size
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:eastAsia"), font[0])
    fonts.set(qn("w:hint"), "eastAsia")
    return run


def _para(
    doc: DocumentType,
    text: str,
    font: tuple[str, str],
    size: Pt,
    *,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent: bool = False,
    bold: bool = False,
    space: Pt | None = LINE,
) -> Paragraph:
    paragraph = doc.add_paragraph()
    fmt = paragraph.paragraph_format
    if space is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = space
    fmt.space_before = fmt.space_after = Pt(0)
    if indent:
        fmt.first_line_indent = Pt(size.pt * 2)  # two characters
    if align is not None:
        paragraph.alignment = align
    if text:
        _font(paragraph.add_run(text), font, size, bold=bold)
    return paragraph


def _page_number_footer(doc: DocumentType) -> None:
    """ "— N —" centred at the foot of every page (a PAGE field)."""
    footer = doc.sections[0].footer
    paragraph = footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run("— "), TITLE_FONT, SIZE_4)
    run = _font(paragraph.add_run(), TITLE_FONT, SIZE_4)
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1")):
        if kind is not None:
            char = OxmlElement("w:fldChar")
            char.set(qn("w:fldCharType"), kind)
            run._element.append(char)
        elif text == " PAGE ":
            instr = OxmlElement("w:instrText")
            instr.set(qn("xml:space"), "preserve")
            instr.text = text
            run._element.append(instr)
        else:
            shown = OxmlElement("w:t")
            shown.text = text
            run._element.append(shown)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._element.append(end)
    _font(paragraph.add_run(" —"), TITLE_FONT, SIZE_4)


def _font_fallbacks(doc: DocumentType) -> None:
    """Name a stand-in (w:altName) for each font the document uses in the font table, so that a
    machine without the 方正/GB2312 fonts shows 宋体/仿宋/黑体/楷体 instead of a Latin font."""
    part = next((r.target_part for r in doc.part.rels.values() if r.reltype == RT.FONT_TABLE), None)
    if part is None:
        return
    root = parse_xml(part.blob)
    for name, alt in (TITLE_FONT, BODY_FONT, HEADING1_FONT, HEADING2_FONT):
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        alt_name = OxmlElement("w:altName")
        alt_name.set(qn("w:val"), alt)
        font.append(alt_name)
        charset = OxmlElement("w:charset")
        charset.set(qn("w:val"), "86")  # GB2312
        font.append(charset)
        root.append(font)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_setup(doc: DocumentType) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28) - Mm(7)
    normal = doc.styles["Normal"]
    normal.font.name = LATIN_FONT
    normal.font.size = SIZE_3
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), BODY_FONT[0])


def _heading(notice: Notice, doc: DocumentType) -> None:
    """The issuer's red heading (版头), the number and the red line, then the title."""
    _para(
        doc,
        f"{notice.issuer}文件",
        TITLE_FONT,
        Pt(30),
        align=WD_ALIGN_PARAGRAPH.CENTER,
        space=Pt(40),
    ).runs[0].font.color.rgb = RED
    number = _para(doc, notice.number, BODY_FONT, SIZE_3, align=WD_ALIGN_PARAGRAPH.CENTER)
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("val", "single"), ("sz", "18"), ("space", "6"), ("color", "C00000")):
        bottom.set(qn(f"w:{key}"), value)
    border.append(bottom)
    number._element.get_or_add_pPr().append(border)
    _para(doc, "", BODY_FONT, SIZE_3)
    _para(doc, notice.title, TITLE_FONT, SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER, space=Pt(35))
    _para(doc, "", BODY_FONT, SIZE_3)


STYLES = {
    "heading1": (HEADING1_FONT, True),
    "heading2": (HEADING2_FONT, True),
    "body": (BODY_FONT, True),
    "plain": (BODY_FONT, False),
}


def _annex(notice: Notice, doc: DocumentType) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    _para(doc, "附件", HEADING1_FONT, SIZE_3)
    _para(
        doc, notice.annex_title, TITLE_FONT, SIZE_S2, align=WD_ALIGN_PARAGRAPH.CENTER, space=Pt(32)
    )
    for group in notice.groups:
        _para(doc, group.label, HEADING1_FONT, SIZE_3, space=Pt(32))
        table = doc.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        for column, width in zip(table.columns, COLUMN_WIDTHS, strict=True):
            column.width = width  # the grid (LibreOffice reads it) as well as every cell (Word)
        rows = [("名次", "单位", "得分", "等次")]
        rows += [(str(u.rank), u.unit, points(u.total), u.grade) for u in group.units]
        for n, texts in enumerate(rows):
            row = table.rows[0] if n == 0 else table.add_row()
            row.height = ROW_HEIGHT
            for cell, text, width in zip(row.cells, texts, COLUMN_WIDTHS, strict=True):
                cell.width = width
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                _cell(cell, text, HEADING1_FONT if n == 0 else BODY_FONT)


def _cell(cell, text: str, font: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    paragraph = cell.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(paragraph.add_run(text), font, SIZE_TABLE)


def render(notice: Notice, body: list[tuple[str, str]]) -> DocumentType:
    doc = Document()
    _page_setup(doc)
    _font_fallbacks(doc)
    _page_number_footer(doc)
    _heading(notice, doc)
    for style, text in body:
        font, indent = STYLES[style]
        _para(doc, text, font, SIZE_3, indent=indent)
    _para(doc, "", BODY_FONT, SIZE_3)
    _para(doc, f"附件：{notice.annex_title}", BODY_FONT, SIZE_3, indent=True)
    _para(doc, "", BODY_FONT, SIZE_3)
    _para(doc, notice.issuer, BODY_FONT, SIZE_3, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(doc, cn_date(notice.issued_on), BODY_FONT, SIZE_3, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _annex(notice, doc)
    return doc
