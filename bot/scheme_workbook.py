"""Scheme tables as .xlsx: `kaohe scheme export|import|template` (the table itself: scoring/table.py).

Sheets: 考核细则 (one row per rule, the source table's columns first), 方案 (id, name, source, total,
grading), 规则类型 (every registered kind with its parameters, for whoever fills the table in).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from scoring import kinds
from scoring.errors import SchemeError
from scoring.periods import PeriodKind
from scoring.table import COLUMNS, META, Table

RULES_SHEET = "考核细则"
META_SHEET = "方案"
KINDS_SHEET = "规则类型"
_HEAD = Font(bold=True)
_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(vertical="center", wrap_text=True)
_WIDTH = {"项目": 16, "环保目标": 36, "考核细则": 36, "参数": 28, "口径": 30, "目标口径": 30}


def write_table(table: Table, path: str | Path) -> Path:
    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = RULES_SHEET
    ws.append(list(COLUMNS))
    for row in table.rows:
        ws.append([row.get(c) if row.get(c) != "" else None for c in COLUMNS])
    for column, first, last in table.merges:
        col = COLUMNS.index(column) + 1
        ws.merge_cells(start_row=first + 2, start_column=col, end_row=last + 2, end_column=col)
    for n, name in enumerate(COLUMNS, start=1):
        ws.cell(1, n).font, ws.cell(1, n).fill = _HEAD, _FILL
        ws.column_dimensions[get_column_letter(n)].width = _WIDTH.get(name, 10)
    for cells in ws.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = _WRAP
    ws.freeze_panes = "A2"
    meta = wb.create_sheet(META_SHEET)
    meta.append(["键", "值"])
    for key, value in table.meta:
        meta.append([key, value if value != "" else None])
    meta.column_dimensions["B"].width = 60
    _kinds_sheet(wb.create_sheet(KINDS_SHEET))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _kinds_sheet(ws: Any) -> None:
    """What each kind means and which 参数 it takes (from the registry)."""
    ws.append(["类型", "说明", "得分/扣分", "参数（必填）", "参数（可选）"])
    for name, cls in kinds.all_kinds().items():
        fields = {k: f for k, f in cls.model_fields.items() if k != "kind"}
        required = [k for k, f in fields.items() if f.is_required()]
        optional = [k for k, f in fields.items() if not f.is_required()]
        family = "得分" if cls.family == kinds.Family.EARN else "扣分"
        ws.append([name, cls.title, family, "、".join(required), "、".join(optional)])
    for col, width in zip("ABCDE", (14, 28, 10, 30, 40), strict=True):
        ws.column_dimensions[col].width = width


def read_table(path: str | Path) -> Table:
    """The table of a scheme workbook; raises SchemeError when it is not one."""
    path = Path(path)
    try:
        wb = load_workbook(path, data_only=True)
    except FileNotFoundError:
        raise SchemeError([f"{path}: 文件不存在"]) from None
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise SchemeError([f"{path}: 不是可读取的 Excel 文件（{exc}）"]) from None
    if RULES_SHEET not in wb.sheetnames:
        raise SchemeError(
            [f"{path}: 没有「{RULES_SHEET}」工作表（可用 kaohe scheme template 生成模板）"]
        )
    ws = wb[RULES_SHEET]
    header = [str(c.value).strip() if c.value is not None else "" for c in ws[1]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise SchemeError([f"{path}: 「{RULES_SHEET}」表头缺少列：{'、'.join(missing)}"])
    index = {name: header.index(name) for name in COLUMNS}
    rows = [
        {name: (cells[i] if i < len(cells) else None) for name, i in index.items()}
        for cells in ws.iter_rows(min_row=2, values_only=True)
    ]
    merges = []
    for rng in ws.merged_cells.ranges:
        if rng.min_col == rng.max_col and rng.min_row >= 2 and rng.max_row > rng.min_row:
            name = header[rng.min_col - 1]
            if name in COLUMNS:
                merges.append((name, rng.min_row - 2, rng.max_row - 2))
    meta: list[tuple[str, Any]] = []
    if META_SHEET in wb.sheetnames:
        labels = {label for label, _ in META}
        for key, value, *_ in wb[META_SHEET].iter_rows(min_row=2, values_only=True):
            if isinstance(key, str) and key.strip() in labels:
                meta.append((key.strip(), value))
    return Table(meta, rows, merges)


def template_table() -> Table:
    """A small filled-in example: an item of seed 003 with a points cell shared by two items."""
    return Table(
        meta=[
            ("编号", "my-scheme"),
            ("名称", "某年度考核细则"),
            ("来源", ""),
            ("总分", 10),
            ("等次", ""),
        ],
        rows=[
            {
                "序号": 1,
                "项目": "落实环保大会",
                "项目分值": 2,
                "负责指导部门": "办公室",
                "目标编号": "T1",
                "目标名称": "召开环保大会",
                "环保目标": "召开环保大会，出台政府文件",
                "考核细则": "召开环保大会得1分",
                "类型": "award",
                "参数": "{points: 1}",
            },
            {"考核细则": "出台政府文件得1分", "类型": "award", "参数": "{points: 1}"},
            {
                "序号": 2,
                "项目": "政务信息",
                "项目分值": 8,
                "负责指导部门": "办公室",
                "目标编号": "T2",
                "目标名称": "政务信息",
                "环保目标": "每月完成政务信息4篇",
                "考核细则": "没有完成任务按比例扣分",
                "类型": "quota",
                "参数": "{per_period: 4, points: 4}",
                "周期": PeriodKind.MONTHLY.value,
            },
            {
                "序号": 3,
                "项目": "与上一项共用分值",
                "目标编号": "T3",
                "目标名称": "报表",
                "考核细则": "月报未按时上报的，每次扣0.1分",
                "类型": "reports",
                "参数": "{periods: [monthly], amount: 0.1}",
                "周期": PeriodKind.MONTHLY.value,
                "截止": "+10d",
                "口径": "{about: deadline, label: 月报截止, note: 原文未给截止日期, "
                "choices: {+10d: 月末后10天, +15d: 月末后15天}}",
            },
        ],
        merges=[(c, 0, 1) for c in COLUMNS[:5]]
        + [(c, 0, 1) for c in COLUMNS[5:11]]
        + [("项目分值", 2, 3)],
    )
