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
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from scoring.numbers import fmt
from tally.build import SchemeTally, Tally, TallyRow

NUMBER_FORMAT = "0.0"
KIND_NAMES = {"district": "区", "department": "部门"}
OPEN_SHEET = "待办事项"
CHART_SHEET = "图表"

_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_CONFIRMED_FILL = PatternFill("solid", fgColor="E2EFDA")
_HEAD_FONT = Font(name="宋体", bold=True, size=11)
_BODY_FONT = Font(name="宋体", size=10)
_TITLE_FONT = Font(name="黑体", bold=True, size=14)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)

# body cells get named styles (set once per workbook: much faster than per-cell style objects)
STYLE_NUMBER = "kaohe-number"
STYLE_TEXT = "kaohe-text"
STYLE_LONG = "kaohe-long-text"


def _add_styles(wb: Workbook) -> None:
    right = Alignment(horizontal="right", vertical="center")
    for name, alignment, number_format in (
        (STYLE_NUMBER, right, NUMBER_FORMAT),
        (STYLE_TEXT, _CENTER, "General"),
        (STYLE_LONG, _LEFT, "General"),
    ):
        wb.add_named_style(
            NamedStyle(
                name=name,
                font=_BODY_FONT,
                border=_BORDER,
                alignment=alignment,
                number_format=number_format,
            )
        )


# the first rows of every table sheet: a title (row 1) and the header (row 2)
TITLE_ROW = 1
HEADER_ROW = 2
FIRST_ROW = 3


def display_width(text: str) -> int:
    """Width in Excel columns: CJK characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


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
    items = [
        f"{c.label}（{fmt(c.points)}分）" if c.points is not None else c.label for c in st.columns
    ]
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


def confirmation_note(row: TallyRow) -> str:
    if row.final is None:
        return ""
    from scoring.periods import TZ

    when = row.final.at.astimezone(TZ).strftime("%Y-%m-%d")
    return f"{row.final.actor} {when}：{row.final.reason}"


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
        row.final.grade if row.final is not None else "",
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
    "细则编号",
    "细则",
    "计分方式",
    "得分/扣分",
    "上限",
    "计分说明",
    "是否待定",
]


def detail_values(row: TallyRow) -> list[list[Any]]:
    """One row per rule of the unit's score card: how each number was reached."""
    out: list[list[Any]] = []
    for item in row.card.items:
        for target in item.targets:
            for rule in target.rules:
                signed = rule.value if rule.family == "earn" else -rule.value
                out.append(
                    [
                        row.unit,
                        f"{item.id} {item.name}",
                        f"{target.id} {target.name}",
                        _num(target.points),
                        _num(target.score),
                        rule.id,
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
    ws: Worksheet,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    numeric: set[int],
    widths: dict[int, int],
    freeze_cols: int = 0,
) -> None:
    """Title, header, body rows, borders, formats, widths, frozen panes and print set-up."""
    last_col = max(len(headers), 1)
    ws.cell(TITLE_ROW, 1, title).font = _TITLE_FONT
    ws.cell(TITLE_ROW, 1).alignment = Alignment(horizontal="center", vertical="center")
    if last_col > 1:
        ws.merge_cells(start_row=TITLE_ROW, start_column=1, end_row=TITLE_ROW, end_column=last_col)
    ws.row_dimensions[TITLE_ROW].height = 28
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(HEADER_ROW, col, text)
        cell.font = _HEAD_FONT
        cell.fill = _HEAD_FILL
        cell.alignment = _CENTER
        cell.border = _BORDER
    ws.row_dimensions[HEADER_ROW].height = 45
    styles = [
        STYLE_NUMBER if col in numeric else STYLE_LONG if widths.get(col, 0) >= 20 else STYLE_TEXT
        for col in range(1, last_col + 1)
    ]
    for r, values in enumerate(rows, start=FIRST_ROW):
        for col, value in enumerate(values, start=1):
            ws.cell(r, col, value).style = styles[col - 1]
    for col in range(1, last_col + 1):
        ws.column_dimensions[get_column_letter(col)].width = widths.get(col, 10)
    ws.freeze_panes = ws.cell(FIRST_ROW, freeze_cols + 1).coordinate
    if rows:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(last_col)}{HEADER_ROW + len(rows)}"
    # printing: A4 landscape, all columns on one page width, header row on every page
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddHeader.center.text = title


def _widths_for(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], cap: int = 60
) -> dict[int, int]:
    widths: dict[int, int] = {}
    for col, head in enumerate(headers, start=1):
        longest = max(
            [display_width(line) for line in str(head).split("\n")]
            + [
                display_width(f"{v:.1f}" if isinstance(v, float) else str(v))
                for v in (r[col - 1] for r in rows)
                if v is not None
            ]
        )
        widths[col] = max(6, min(cap, longest + 2))
    return widths


def _write_summary(ws: Worksheet, tally: Tally, st: SchemeTally) -> None:
    headers = summary_headers(st)
    rows = [summary_values(row) for row in st.rows]
    n_items = len(st.columns)
    numeric = set(range(4, 4 + n_items + 3))  # items, 基本分, 加分, 总分
    widths = _widths_for(headers, rows, cap=40)
    for col in range(4, 4 + n_items):
        widths[col] = 11  # item columns: the header wraps
    widths[4 + n_items + 6] = max(widths.get(4 + n_items + 6, 10), 24)  # 确认说明
    widths[4 + n_items + 6] = min(widths[4 + n_items + 6], 40)
    when = "（阶段得分）" if tally.pending else ""
    title = f"{tally.year} 年度考核汇总表 · {st.name}（截至 {tally.as_of.isoformat()}）{when}"
    _style_table(ws, title, headers, rows, numeric=numeric, widths=widths, freeze_cols=2)
    confirmed_col = 4 + n_items + 4  # 最终等次
    for r, row in enumerate(st.rows, start=FIRST_ROW):
        if row.confirmed:
            for col in (confirmed_col, confirmed_col + 1):
                ws.cell(r, col).fill = _CONFIRMED_FILL
    # a note under the table
    note_row = FIRST_ROW + len(rows) + 1
    ws.cell(
        note_row,
        1,
        "注：得分按考核方案由台账自动计算，显示保留一位小数（单元格内为两位小数的计算值）；"
        "“最终等次”为考核办确认的等次，未确认的以“建议等次”为准。",
    ).font = Font(name="宋体", size=9, italic=True)


def _write_detail(ws: Worksheet, tally: Tally, st: SchemeTally) -> None:
    rows = [line for row in st.rows for line in detail_values(row)]
    widths = _widths_for(DETAIL_HEADERS, rows, cap=50)
    widths[7] = min(widths[7], 40)  # 细则
    widths[11] = min(max(widths[11], 30), 50)  # 计分说明
    title = f"{tally.year} 年度考核计分明细 · {st.name}（截至 {tally.as_of.isoformat()}）"
    _style_table(
        ws, title, DETAIL_HEADERS, rows, numeric={4, 5, 9, 10}, widths=widths, freeze_cols=1
    )


def open_rows(tally: Tally) -> list[list[Any]]:
    names = {s.id: s.name for s in tally.schemes}
    return [
        [o.unit, names.get(o.scheme_id, o.scheme_id), o.category, o.indicator, o.text]
        for o in tally.open_items
    ]


def write_workbook(tally: Tally, path: str | Path, *, chart_png: str | Path | None = None) -> Path:
    """Write the tally to `path` (.xlsx). With `chart_png`, the chart goes into sheet 图表."""
    path = Path(path)
    wb = Workbook()
    first = wb.active
    assert first is not None
    wb.remove(first)
    _add_styles(wb)
    used: set[str] = set()
    for st in tally.schemes:
        _write_summary(wb.create_sheet(sheet_title("汇总", st.id, used)), tally, st)
    for st in tally.schemes:
        _write_detail(wb.create_sheet(sheet_title("明细", st.id, used)), tally, st)
    if not tally.schemes:
        ws = wb.create_sheet("汇总")
        ws.cell(1, 1, f"{tally.year} 年度没有可汇总的单位")
    rows = open_rows(tally)
    ws = wb.create_sheet(OPEN_SHEET)
    widths = _widths_for(OPEN_HEADERS, rows, cap=70)
    title = f"{tally.year} 年度待办事项（截至 {tally.as_of.isoformat()}，共 {len(rows)} 项）"
    _style_table(ws, title, OPEN_HEADERS, rows, numeric=set(), widths=widths, freeze_cols=1)
    if chart_png is not None:
        from openpyxl.drawing.image import Image

        ws = wb.create_sheet(CHART_SHEET)
        ws.cell(1, 1, f"{tally.year} 年度各单位总分").font = _TITLE_FONT
        image = Image(str(chart_png))
        ws.add_image(image, "A3")
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 1
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    wb.properties.title = f"{tally.year} 年度考核汇总"
    wb.properties.creator = "kaohe"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
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
