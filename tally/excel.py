"""The tally as an Excel workbook an office can print, and as CSV (UTF-8 with BOM, opens in Excel).

Workbook: per scheme a summary sheet (one row per unit) and a detail sheet (one row per rule of
each unit: how every number was reached), a sheet of open items, and the chart. Chinese headers,
frozen header row, one-decimal number format, A4 landscape fitted to the page width with the
header row repeated on every printed page.

Cells hold the engine's two-decimal values; the format shows one decimal.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from math import isfinite
from pathlib import Path
from typing import Any

from xlsxwriter import Workbook
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell_fast
from xlsxwriter.worksheet import CellNumberTuple, CellStringTuple, Worksheet

from scoring.numbers import fmt, shown
from storage.facts import collector_paused
from tally.build import SchemeTally, Tally, TallyRow

# Excel's General shows the value as written: the numbers are `shown()` (two decimals at most),
# so a cell reads as the chat and the dashboard do (71.59, 71.6, 72)
NUMBER_FORMAT = "General"
KIND_NAMES = {"district": "区", "department": "部门"}
OPEN_SHEET = "待办事项"
CHART_SHEET = "图表"

# cell formats (XlsxWriter: one format object per combination, made once per workbook)
_BORDER = {"border": 1, "border_color": "#999999"}
_BODY = {"font_name": "宋体", "font_size": 10, "valign": "vcenter", **_BORDER}
FORMATS: dict[str, dict[str, Any]] = {
    "title": {"font_name": "黑体", "bold": True, "font_size": 14, "align": "center", "valign": "vcenter"},
    "head": {"font_name": "宋体", "bold": True, "font_size": 11, "bg_color": "#DDEBF7",
             "align": "center", "text_wrap": True, **{k: v for k, v in _BODY.items() if k != "font_size"}},
    "number": {**_BODY, "align": "right", "num_format": NUMBER_FORMAT},
    "text": {**_BODY, "align": "center", "text_wrap": True},
    "long": {**_BODY, "align": "left", "text_wrap": True},
    "text-confirmed": {**_BODY, "align": "center", "text_wrap": True, "bg_color": "#E2EFDA"},
    "long-confirmed": {**_BODY, "align": "left", "text_wrap": True, "bg_color": "#E2EFDA"},
    "note": {"font_name": "宋体", "font_size": 9, "italic": True},
    "chart-title": {"font_name": "黑体", "bold": True, "font_size": 14},
}  # fmt: skip


# the first rows of every table sheet: a title (row 1) and the header (row 2)
TITLE_ROW = 1
HEADER_ROW = 2
FIRST_ROW = 3


@lru_cache(maxsize=65536)  # the same rule texts and names come back for every unit
def display_width(text: str) -> int:
    """Width in Excel columns: CJK characters count double."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")


_FLOATS: dict[Decimal, float] = {}  # equal Decimals are shown alike: the same float


def _num(value: Decimal | None) -> float | None:
    if value is None:
        return None
    keep = value.__class__ is Decimal and value.is_finite()
    found = _FLOATS.get(value) if keep else None
    if found is None:
        found = float(shown(value))
        if keep and len(_FLOATS) < 65536:
            _FLOATS[value] = found
    return found


def sheet_title(prefix: str, scheme_id: str, used: set[str]) -> str:
    """A valid, unique sheet title (≤ 31 characters, none of []:*?/\\)."""
    base = f"{prefix}-{scheme_id}"
    for ch in "[]:*?/\\":
        base = base.replace(ch, "_")
    title = base[:31]
    n = 2
    while title in used:
        suffix = f"~{n}"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title)
    return title


def summary_headers(st: SchemeTally) -> list[str]:
    items = [f"{c.label}（{c.points_text}）" if c.points_text else c.label for c in st.columns]
    return [
        "排名",
        "单位",
        "类型",
        *items,
        "基本分",
        "加分",
        "总分",
        "建议等次",
        "最终等次",
        "等次确认",
        "确认说明",
        "得分状态",
    ]


EXCEPTION_MARK = "【例外】"  # a final grade seed 000 第七条 does not allow, stated as an exception


def final_grade_text(row: TallyRow) -> str:
    return row.final_text


def confirmation_note(row: TallyRow) -> str:
    if row.final is None:
        return ""
    from scoring.periods import TZ

    when = row.final.at.astimezone(TZ).strftime("%Y-%m-%d")
    mark = EXCEPTION_MARK if row.final.exception else ""
    return f"{mark}{row.final.actor} {when}：{row.final.reason}"


def summary_values(row: TallyRow) -> list[Any]:
    """A summary row: numbers as floats of the engine's two-decimal values, texts as shown."""
    return [
        row.rank,
        row.unit,
        KIND_NAMES.get(row.kind, row.kind),
        *(_num(v) for v in row.items),
        _num(row.base_total),
        _num(row.bonus),
        _num(row.total),
        row.suggested_text,
        final_grade_text(row),
        "已确认" if row.confirmed else "未确认",
        confirmation_note(row),
        "阶段得分（部分指标待定）" if row.pending else "已定",
    ]


DETAIL_HEADERS = [
    "单位",
    "项目",
    "指标",
    "指标分值",
    "指标得分",
    "分值说明",
    "细则编号",
    "细则",
    "计分方式",
    "得分/扣分",
    "上限",
    "计分说明",
    "是否待定",
]


def detail_values(st: SchemeTally, row: TallyRow) -> list[list[Any]]:
    """One row per rule of the unit's score card: how each number was reached. 指标分值 and
    指标得分 are those of the points cell the rule draws on — the target's own, or the one its
    item's targets share (分值说明 says so) — as this unit's card has them (W1 of a unit without
    key projects: 60), so that every row states a value and a score."""
    out: list[list[Any]] = []
    cells = st.target_cells(row)
    for item in row.card.items:
        for target in item.targets:
            cell = cells[target.id]
            for rule in target.rules:
                signed = rule.value if rule.family == "earn" else -rule.value
                out.append(
                    [
                        row.unit,
                        f"{item.id}{item.name}",
                        f"{target.id}{target.name}",
                        _num(cell.points),
                        _num(cell.score),
                        cell.note,
                        target.code_of(rule.id),  # the code the office types back
                        rule.text,
                        "得分" if rule.family == "earn" else "扣分",
                        _num(signed),
                        _num(rule.max),
                        rule.explanation,
                        "待定" if rule.pending else "",
                    ]
                )
    return out


OPEN_HEADERS = ["单位", "方案", "类别", "指标", "内容"]


def _style_table(
    wb: Workbook,
    ws: Worksheet,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: set[int],
    widths: dict[int, int],
    freeze_cols: int = 0,
    highlight: dict[int, set[int]] | None = None,
) -> None:
    """Title, header, body rows, borders, formats, widths, frozen panes and print set-up.
    `highlight`: body row index (0-based) → columns (1-based) filled as confirmed."""
    f = _formats(wb)
    last_col = max(len(headers), 1)
    for col in range(1, last_col + 1):
        ws.set_column(col - 1, col - 1, widths.get(col, 10))
    ws.set_row(TITLE_ROW - 1, 28)
    if last_col > 1:
        ws.merge_range(TITLE_ROW - 1, 0, TITLE_ROW - 1, last_col - 1, title, f["title"])
    else:
        ws.write_string(TITLE_ROW - 1, 0, title, f["title"])
    ws.set_row(HEADER_ROW - 1, 45)
    for col, text in enumerate(headers):
        ws.write_string(HEADER_ROW - 1, col, text, f["head"])
    styles = [
        "number" if col in numeric else "long" if widths.get(col, 0) >= 20 else "text"
        for col in range(1, last_col + 1)
    ]
    plain = [f[name] for name in styles]
    marked = highlight or {}
    if _STORE_CELLS and _storable(ws, len(rows), last_col):
        _store_body(ws, rows, styles, plain, f, marked)
    else:
        _write_body(ws, rows, styles, plain, f, marked)
    ws.freeze_panes(FIRST_ROW - 1, freeze_cols)
    if rows:
        ws.autofilter(HEADER_ROW - 1, 0, HEADER_ROW - 1 + len(rows), last_col - 1)
    # printing: A4 landscape, all columns on one page width, header row on every page
    _print_setup(ws, height=0)
    ws.repeat_rows(HEADER_ROW - 1)
    ws.center_horizontally()
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
    ws.set_header("&C" + title.replace("&", "&&"))


def _write_body(
    ws: Worksheet,
    rows: Sequence[Sequence[Any]],
    styles: list[str],
    plain: list[Any],
    f: dict[str, Any],
    marked: dict[int, set[int]],
) -> None:
    """The body's cells through XlsxWriter's cell methods."""
    # XlsxWriter's methods without their A1-notation wrapper (the "undecorated versions" of
    # write_string and the like, as XlsxWriter names them)
    put_text = getattr(ws, "_write_string", ws.write_string)
    put_number = getattr(ws, "_write_number", ws.write_number)
    put_blank = getattr(ws, "_write_blank", ws.write_blank)
    for i, values in enumerate(rows):
        r = FIRST_ROW - 1 + i
        cols = marked.get(i)
        for c, value in enumerate(values):
            fmt_ = f[styles[c] + "-confirmed"] if cols and c + 1 in cols else plain[c]
            if value is None:
                put_blank(r, c, None, fmt_)
            elif isinstance(value, str):
                put_text(r, c, value, fmt_)
            else:
                put_number(r, c, value, fmt_)


# `_store_body` instead of `_write_body` (tests write a workbook both ways and compare)
_STORE_CELLS = True


def _storable(ws: Worksheet, n_rows: int, n_cols: int) -> bool:
    """Whether `_store_body` may fill the sheet: its table in memory (not constant_memory) and
    every cell within Excel's bounds (XlsxWriter's methods skip a cell beyond them)."""
    return (
        not ws.constant_memory
        and FIRST_ROW - 1 + n_rows <= ws.xls_rowmax
        and n_cols <= ws.xls_colmax
        and hasattr(ws, "str_table")
        and hasattr(ws, "table")
    )


def _store_body(
    ws: Worksheet,
    rows: Sequence[Sequence[Any]],
    styles: list[str],
    plain: list[Any],
    f: dict[str, Any],
    marked: dict[int, set[int]],
) -> None:
    """The body's cells stored in the sheet's table as XlsxWriter's `_write_string` and
    `_write_number` store them (a shared string's index, in the same order; the number as
    given), and the sheet's dimensions taken once per row instead of per cell: two thirds of a
    cell's cost (213,000 cells in a year's tally of 1,000 units). A cell the fast path does not
    know (a blank, a long text, a number that is not a finite float or int) goes the method's
    way. The same workbook: tests compare it with `_write_body`'s."""
    table, index_of = ws.table, ws.str_table._get_shared_string_index
    short = ws.xls_strmax // 2  # a text this long or less needs no UTF-16 length check
    for i, values in enumerate(rows):
        r = FIRST_ROW - 1 + i
        cols = marked.get(i)
        cells = table[r]
        for c, value in enumerate(values):
            fmt_ = f[styles[c] + "-confirmed"] if cols and c + 1 in cols else plain[c]
            kind = value.__class__
            if kind is str and len(value) <= short:
                cells[c] = CellStringTuple(index_of(value), fmt_)
            elif kind is int or (kind is float and isfinite(value)):
                cells[c] = CellNumberTuple(value, fmt_)
            elif value is None:
                ws._write_blank(r, c, None, fmt_)
            elif isinstance(value, str):
                ws._write_string(r, c, value, fmt_)
            else:
                ws._write_number(r, c, value, fmt_)
        if values:  # the dimensions as the cells' own checks leave them
            ws._check_dimensions(r, 0)
            ws._check_dimensions(r, len(values) - 1)


class _Sheet(Worksheet):
    """A worksheet whose page set-up states "fit to 1 page wide" explicitly: XlsxWriter leaves
    out a fit of 1 (the format's default), and some readers take a missing one as unset."""

    def _xml_empty_tag(self, tag: str, attributes: Any = ()) -> None:
        if tag == "pageSetup" and self.fit_page and isinstance(attributes, list):
            named = {name for name, _ in attributes}
            for name, value in (("fitToWidth", self.fit_width), ("fitToHeight", self.fit_height)):
                if name not in named:
                    attributes.append((name, value))
        super()._xml_empty_tag(tag, attributes)

    def _write_cell(self, row: int, col: int, cell: Any) -> None:
        """A formatted text or number cell as XlsxWriter writes it, without its general path
        (which escapes the format's index as an attribute: a regular expression on an int, a
        TypeError caught, per cell); any other cell goes that way. The same bytes."""
        style = cell.format
        if style:
            kind = cell.__class__.__name__
            if kind == "String":
                ref = xl_rowcol_to_cell_fast(row, col)
                self.fh.write(
                    f'<c r="{ref}" s="{style._get_xf_index()}" t="s"><v>{cell.string}</v></c>'
                )
                return
            if kind == "Number":
                ref = xl_rowcol_to_cell_fast(row, col)
                self.fh.write(
                    f'<c r="{ref}" s="{style._get_xf_index()}"><v>{cell.number:.16G}</v></c>'
                )
                return
        super()._write_cell(row, col, cell)  # fmt: skip

    def _calculate_spans(self) -> None:
        """XlsxWriter's spans (per block of 16 rows, the first and last column with a cell) from
        each row's least and greatest column instead of a look-up of every column of the sheet
        in every row; a sheet with comments, or a cell outside the dimensions, goes its way."""
        if self.comments:
            super()._calculate_spans()
            return
        table, lo_col, hi_col = self.table, self.dim_colmin, self.dim_colmax
        spans: dict[int, str] = {}
        span_min: int | None = None
        span_max = 0
        last = self.dim_rowmax
        for row_num in range(self.dim_rowmin, last + 1):
            cells = table.get(row_num)
            if cells:
                low, high = min(cells), max(cells)
                if low < lo_col or high > hi_col:
                    super()._calculate_spans()
                    return
                if span_min is None:
                    span_min, span_max = low, high
                else:
                    span_min, span_max = min(span_min, low), max(span_max, high)
            if ((row_num + 1) % 16 == 0 or row_num == last) and span_min is not None:
                spans[row_num // 16] = f"{span_min + 1}:{span_max + 1}"
                span_min = None
        self.row_spans = spans

    def _write_rows(self) -> None:
        """XlsxWriter's rows, with a row's formatted texts and numbers written as `_write_cell`
        writes them, in one piece per row, from parts made once: a cell's reference from its
        column's `<c r="AB` and the row's number as text, a format's ` s="5"` per sheet, a
        number's text per value. Every other cell, a row's own tag and a row without cells go
        XlsxWriter's way. The same bytes (tests compare)."""
        if self.comments or self.dim_rowmax is None or self.dim_colmax is None:
            super()._write_rows()
            return
        self._calculate_spans()
        table, row_info, spans = self.table, self.row_info, self.row_spans
        heads = {
            c: f'<c r="{xl_col_to_name(c)}' for c in range(self.dim_colmin, self.dim_colmax + 1)
        }
        as_text: dict[int, str] = {}  # format's id -> '" s="5" t="s"><v>'
        as_number: dict[int, str] = {}  # format's id -> '" s="5"><v>'
        numbers: dict[Any, str] = {}  # a number's text, as `_write_cell` formats it
        write = self.fh.write
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table.get(row_num)
            info = row_info.get(row_num)
            if not cells:
                if info is not None:
                    self._write_empty_row(row_num, spans.get(row_num // 16), info)
                continue
            self._write_row(row_num, spans.get(row_num // 16), info)
            r = str(row_num + 1)
            parts: list[str] = []
            for col_num in sorted(cells):
                head = heads.get(col_num)
                if head is None:  # outside the dimensions: not written (as theirs)
                    continue
                cell = cells[col_num]
                style = cell.format
                kind = cell.__class__
                if style and kind is CellStringTuple:
                    mid = as_text.get(id(style))
                    if mid is None:
                        mid = as_text[id(style)] = f'" s="{style._get_xf_index()}" t="s"><v>'
                    parts.append(f"{head}{r}{mid}{cell.string}</v></c>")
                elif style and kind is CellNumberTuple:
                    mid = as_number.get(id(style))
                    if mid is None:
                        mid = as_number[id(style)] = f'" s="{style._get_xf_index()}"><v>'
                    value = cell.number
                    # by value and type; never a zero (−0.0 equals 0.0 and is written "-0")
                    key = (value.__class__, value)
                    text = numbers.get(key) if value else None
                    if text is None:
                        text = f"{value:.16G}"
                        if value:
                            numbers[key] = text
                    parts.append(f"{head}{r}{mid}{text}</v></c>")
                else:
                    if parts:
                        write("".join(parts))
                        parts = []
                    self._write_cell(row_num, col_num, cell)
            if parts:
                write("".join(parts))
            self._xml_end_tag("row")


def _sheet(wb: Workbook, name: str) -> Worksheet:
    return wb.add_worksheet(name, worksheet_class=_Sheet)


def _print_setup(ws: Worksheet, *, height: int) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, height)


def _formats(wb: Workbook) -> dict[str, Any]:
    made = getattr(wb, "_kaohe_formats", None)
    if made is None:
        made = {name: wb.add_format(props) for name, props in FORMATS.items()}
        wb._kaohe_formats = made  # type: ignore[attr-defined]
    return made


def _widths_for(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], cap: int = 60
) -> dict[int, int]:
    widths: dict[int, int] = {}
    for col, head in enumerate(headers, start=1):
        # each distinct value once (the same names and texts come back for every unit); by
        # type too, so that 1 and 1.0 ("1" and "1.0") are both measured
        distinct = {(v.__class__, v) for v in (r[col - 1] for r in rows) if v is not None}
        longest = max(
            [display_width(line) for line in str(head).split("\n")]
            + [display_width(f"{v:.1f}" if isinstance(v, float) else str(v)) for _, v in distinct]
        )
        widths[col] = max(6, min(cap, longest + 2))
    return widths


def _write_summary(wb: Workbook, ws: Worksheet, tally: Tally, st: SchemeTally) -> None:
    headers = summary_headers(st)
    rows = [summary_values(row) for row in st.rows]
    n_items = len(st.columns)
    numeric = set(range(4, 4 + n_items + 3))  # items, 基本分, 加分, 总分
    widths = _widths_for(headers, rows, cap=40)
    for col in range(4, 4 + n_items):
        # item columns: the header wraps, in at most three lines (the header row's height)
        widths[col] = min(18, max(11, -(-display_width(headers[col - 1]) // 3) + 2))
    widths[4 + n_items + 6] = max(widths.get(4 + n_items + 6, 10), 24)  # 确认说明
    widths[4 + n_items + 6] = min(widths[4 + n_items + 6], 40)
    when = "（阶段得分）" if tally.pending else ""
    title = f"{tally.year}年度考核汇总表 · {st.name}（截至{tally.as_of_text}）{when}"
    confirmed_col = 4 + n_items + 4  # 最终等次, then 等次确认
    highlight = {
        i: {confirmed_col, confirmed_col + 1} for i, row in enumerate(st.rows) if row.confirmed
    }
    _style_table(
        wb, ws, title, headers, rows,
        numeric=numeric, widths=widths, freeze_cols=2, highlight=highlight,
    )  # fmt: skip
    # a note under the table
    ws.write_string(
        FIRST_ROW + len(rows),
        0,
        "注：得分按考核方案由台账自动计算，保留两位小数（与对话中的得分相同）；"
        "“最终等次”为考核办确认的等次，未确认的以“建议等次”为准。",
        _formats(wb)["note"],
    )


def _write_detail(wb: Workbook, ws: Worksheet, tally: Tally, st: SchemeTally) -> None:
    rows = [line for row in st.rows for line in detail_values(st, row)]
    widths = _widths_for(DETAIL_HEADERS, rows, cap=50)
    widths[6] = min(max(widths[6], 20), 30)  # 分值说明 (wraps)
    widths[8] = min(widths[8], 40)  # 细则
    widths[12] = min(max(widths[12], 30), 50)  # 计分说明
    title = f"{tally.year}年度考核计分明细 · {st.name}（截至{tally.as_of_text}）"
    _style_table(
        wb, ws, title, DETAIL_HEADERS, rows, numeric={4, 5, 10, 11}, widths=widths, freeze_cols=1
    )


def open_rows(tally: Tally) -> list[list[Any]]:
    names = {s.id: s.name for s in tally.schemes}
    return [
        [o.unit, names.get(o.scheme_id, o.scheme_id), o.category, o.indicator, o.text]
        for o in tally.open_items
    ]


def write_workbook(tally: Tally, path: str | Path, *, chart_png: str | Path | None = None) -> Path:
    """Write the tally to `path` (.xlsx). With `chart_png`, the chart goes into sheet 图表.

    Written with XlsxWriter, which streams cells straight to the file's XML (several times
    faster than building openpyxl cell objects: bench/notes.md). Texts are written as texts,
    never as formulas or links, whatever they start with."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with collector_paused():  # a tuple per cell, all kept until the file is written
        return _write_workbook(tally, path, chart_png)


def _write_workbook(tally: Tally, path: Path, chart_png: str | Path | None) -> Path:
    options = {"strings_to_formulas": False, "strings_to_urls": False, "in_memory": True}
    wb = Workbook(str(path), options)
    used: set[str] = set()
    for st in tally.schemes:
        _write_summary(wb, _sheet(wb, sheet_title("汇总", st.id, used)), tally, st)
    for st in tally.schemes:
        _write_detail(wb, _sheet(wb, sheet_title("明细", st.id, used)), tally, st)
    if not tally.schemes:
        _sheet(wb, "汇总").write_string(0, 0, f"{tally.year}年度没有可汇总的单位")
    rows = open_rows(tally)
    widths = _widths_for(OPEN_HEADERS, rows, cap=70)
    title = f"{tally.year}年度待办事项（截至{tally.as_of_text}，共{len(rows)}项）"
    _style_table(
        wb, _sheet(wb, OPEN_SHEET), title, OPEN_HEADERS, rows,
        numeric=set(), widths=widths, freeze_cols=1,
    )  # fmt: skip
    if chart_png is not None:
        ws = _sheet(wb, CHART_SHEET)
        ws.write_string(0, 0, f"{tally.year}年度各单位总分", _formats(wb)["chart-title"])
        ws.insert_image("A3", str(chart_png))
        _print_setup(ws, height=1)
    wb.set_properties({"title": f"{tally.year}年度考核汇总", "author": "kaohe"})
    wb.close()
    # the cells, a tuple each, freed now by their counts: the workbook's objects refer to each
    # other, so they wait for the collector, which would otherwise go through every cell once it
    # is back (0.1 s of a 1,000-unit tally's workbook)
    for ws in wb.worksheets():
        ws.table.clear()
    return path


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return fmt(Decimal(str(value)))
    return "" if value is None else value


def write_csv(tally: Tally, path: str | Path) -> Path:
    """The summary as CSV, UTF-8 with BOM: per scheme a header and one row per unit (schemes
    apart by an empty line). Numbers are the engine's values (at most two decimals)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        for n, st in enumerate(tally.schemes):
            if n:
                writer.writerow([])
            writer.writerow(["方案", *summary_headers(st)])
            for row in st.rows:
                writer.writerow([st.id, *(_csv_value(v) for v in summary_values(row))])
    return path
