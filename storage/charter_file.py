"""The 责任书 file: each unit's 年度工作指标 and 重点工程 for a year (seed 000 第四条、第五条).

One sheet, a row per unit task: 单位, 类别, 编号, 名称, 截止日期, 说明, 状态 (or the English header
`unit,kind,ref,title,due,note,status`), as XLSX or CSV (UTF-8, with or without BOM).
`read_charter` checks every row and raises `CharterFileError` naming each bad row by its row
number in the file — then nothing is applied. What is written in 名称 and 说明 is kept as written.

`write_template` writes the workbook the office fills in: the header, an example row (ignored on
import), drop-down lists for 单位, 类别 and 状态, and a 填写说明 sheet.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from scoring.facts import TASK_KIND_WORDS, TaskKind
from storage.models import TaskStatus


class CharterKind(StrEnum):
    """The two kinds of 责任书 task (the task kinds the chuangmo scheme's W1 and W2 count)."""

    ANNUAL_TARGET = TaskKind.ANNUAL_TARGET.value  # 年度工作指标 (W1)
    KEY_PROJECT = TaskKind.KEY_PROJECT.value  # 重点工程 (W2)


KIND_LABELS = {kind: TASK_KIND_WORDS[kind] for kind in CharterKind}
KINDS: dict[str, CharterKind] = {
    "年度工作指标": CharterKind.ANNUAL_TARGET,
    "工作指标": CharterKind.ANNUAL_TARGET,
    "指标": CharterKind.ANNUAL_TARGET,
    CharterKind.ANNUAL_TARGET.value: CharterKind.ANNUAL_TARGET,
    "重点工程": CharterKind.KEY_PROJECT,
    "工程": CharterKind.KEY_PROJECT,
    CharterKind.KEY_PROJECT.value: CharterKind.KEY_PROJECT,
}
STATUSES: dict[str, TaskStatus] = {
    "": TaskStatus.ACTIVE,
    "正常": TaskStatus.ACTIVE,
    "active": TaskStatus.ACTIVE,
    "不适用": TaskStatus.NOT_APPLICABLE,
    "n/a": TaskStatus.NOT_APPLICABLE,
    "not_applicable": TaskStatus.NOT_APPLICABLE,
}

COLUMNS = ("unit", "kind", "ref", "title", "due", "note", "status")
CHINESE = {
    "单位": "unit",
    "类别": "kind",
    "编号": "ref",
    "名称": "title",
    "截止日期": "due",
    "说明": "note",
    "状态": "status",
}
HEADER_CN = tuple(CHINESE)
REQUIRED = ("unit", "kind", "ref", "title")
SHEET = "责任书"
HELP_SHEET = "填写说明"
UNITS_SHEET = "单位列表"
EXAMPLE_MARKS = ("（示例）", "(示例)", "示例")
REF = re.compile(r"[A-Za-z0-9\u4e00-\u9fff._-]{1,20}")
RESERVED_REF = re.compile(r"[Kk]\d+")  # the numbers 布置任务 gives out
TITLE_MAX = 500


class CharterFileError(ValueError):
    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class CharterRow:
    line: int  # row number in the file
    unit: str
    kind: CharterKind
    ref: str
    title: str
    due: date
    note: str
    status: TaskStatus


@dataclass(frozen=True)
class CharterFile:
    rows: tuple[CharterRow, ...]
    year_hint: int | None  # the year the file names (sheet title, file name), if any


# --- reading -------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _xlsx_rows(path: Path) -> tuple[str, list[tuple[int, list[Any]]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book[SHEET] if SHEET in book.sheetnames else book.worksheets[0]
        for name in book.sheetnames:  # the template names its sheet 责任书 and its year
            if name.startswith(SHEET):
                sheet = book[name]
                break
        rows = [
            (n, [_cell(c) for c in cells])
            for n, cells in enumerate(sheet.iter_rows(values_only=True), start=1)
        ]
        return sheet.title, rows
    finally:
        book.close()


def _csv_rows(data: bytes) -> list[tuple[int, list[Any]]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    out: list[tuple[int, list[Any]]] = []
    line = 1
    for row in reader:
        out.append((line, list(row)))
        line = reader.line_num + 1
    return out


def _read(path: Path) -> tuple[str, list[tuple[int, list[Any]]]]:
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return _xlsx_rows(path)
        if path.suffix.lower() in (".csv", ".txt"):
            return "", _csv_rows(path.read_bytes())
    except FileNotFoundError:
        raise CharterFileError([f"{path.name}：文件不存在"]) from None
    except UnicodeDecodeError:
        raise CharterFileError(
            [f"{path.name}：不是 UTF-8 编码的 CSV 文件，请另存为 UTF-8 或 XLSX"]
        ) from None
    except Exception as exc:  # a broken workbook, an unreadable file
        raise CharterFileError([f"{path.name}：无法读取（{type(exc).__name__}）"]) from None
    raise CharterFileError([f"{path.name}：只接受 .xlsx 或 .csv 文件"])


def _year_in(text: str) -> int | None:
    found = re.search(r"(?<!\d)(20\d{2})(?!\d)", text)
    return int(found[1]) if found else None


_DATE_TEXT = re.compile(
    r"(?:(?P<y>\d{4})\s*[-年./])?\s*(?P<m>\d{1,2})\s*[-月./]\s*(?P<d>\d{1,2})\s*日?"
)


def parse_due(value: Any, year: int) -> date | None:
    """A date cell, '2027-06-30', '2027/6/30', '2027年6月30日' or '6月30日' (of `year`)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if text.endswith(" 00:00:00"):
        text = text[: -len(" 00:00:00")]
    m = _DATE_TEXT.fullmatch(text)
    if not m:
        return None
    try:
        return date(int(m["y"] or year), int(m["m"]), int(m["d"]))
    except ValueError:
        return None


def _header(cells: Sequence[Any]) -> list[str] | None:
    names = [str(c).strip().lstrip("\ufeff") for c in cells]
    while names and not names[-1]:
        names.pop()
    mapped = [CHINESE.get(n, n.lower()) for n in names]
    if any(n not in COLUMNS for n in mapped) or len(set(mapped)) != len(mapped):
        return None
    if not all(n in mapped for n in REQUIRED):
        return None
    return mapped


def read_charter(path: str | Path, year: int) -> CharterFile:
    """Read and check every row of a 责任书 file for `year` (CharterFileError lists every bad
    row; the unit names and the schemes are checked later, against the registry)."""
    path = Path(path)
    title, raw = _read(path)
    it = iter(raw)
    header_line, header_cells = next(
        ((n, r) for n, r in it if any(str(c).strip() for c in r)), (1, [])
    )
    names = _header(header_cells)
    if names is None:
        shown = ",".join(str(c).strip() for c in header_cells if str(c).strip())
        raise CharterFileError(
            [
                f"第{header_line}行：表头应为{','.join(HEADER_CN)}"
                f"（或{','.join(COLUMNS)}；截止日期、说明、状态可省略），实际为{shown or '空'}"
            ]
        )
    errors: list[str] = []
    rows: list[CharterRow] = []
    seen: dict[tuple[str, str], int] = {}
    for line, cells in it:
        values = {n: (cells[i] if i < len(cells) else "") for i, n in enumerate(names)}
        text = {n: str(v).strip() for n, v in values.items()}
        if not any(text.values()):
            continue
        if text["unit"].startswith(EXAMPLE_MARKS):
            continue
        extra = [str(c).strip() for c in cells[len(names) :] if str(c).strip()]
        problems = [f"缺少{label}" for label, n in CHINESE.items() if n in REQUIRED and not text[n]]
        if extra:
            problems.append(f"表头之外还有内容：{'、'.join(extra)}")
        kind = KINDS.get(text["kind"].lower()) if text["kind"] else None
        if text["kind"] and kind is None:
            problems.append(f"类别应为 年度工作指标 或 重点工程，实际为「{text['kind']}」")
        ref = text["ref"]
        if ref and not REF.fullmatch(ref):
            problems.append(f"编号「{ref}」应为1–20个字母、数字（如A1、P1）")
        elif ref and RESERVED_REF.fullmatch(ref):
            problems.append(f"编号「{ref}」与布置任务的编号（K 加数字）相同，请换用A1、P1之类")
        if len(text["title"]) > TITLE_MAX:
            problems.append(f"名称超过{TITLE_MAX}字")
        due = parse_due(values.get("due", ""), year) if text.get("due") else date(year, 12, 31)
        if due is None:
            problems.append(f"截止日期「{text['due']}」无法识别（请写成{year}-06-30）")
        elif due.year != year:
            problems.append(f"截止日期{due.isoformat()}不在{year}年内")
        status = STATUSES.get(text.get("status", "").lower())
        if status is None:
            problems.append(f"状态应为空或「不适用」，实际为「{text['status']}」")
        elif status == TaskStatus.NOT_APPLICABLE and not text.get("note"):
            problems.append("状态为不适用时，请在说明中写明原因")
        key = (text["unit"], ref.upper())
        if ref and text["unit"] and key in seen:
            problems.append(f"编号{ref}与第{seen[key]}行重复（同一单位同一年度内编号须唯一）")
        if problems or kind is None or due is None or status is None:
            errors.append(f"第{line}行：{'；'.join(problems)}")
            continue
        seen[key] = line
        rows.append(
            CharterRow(
                line=line,
                unit=text["unit"],
                kind=kind,
                ref=ref,
                title=str(values["title"]).strip(),
                due=due,
                note=str(values.get("note", "")).strip(),
                status=status,
            )
        )
    if errors:
        raise CharterFileError(errors)
    if not rows:
        raise CharterFileError(["文件中没有任何任务行（示例行不算）"])
    return CharterFile(tuple(rows), _year_in(title) or _year_in(path.stem))


def guess_year(path: str | Path, default: int) -> int:
    """The year a 责任书 file is for, when nobody said: the year in its sheet or file name, else
    the year of its due dates when they all agree, else `default`."""
    path = Path(path)
    try:
        title, raw = _read(path)
    except CharterFileError:
        return default
    named = _year_in(title) or _year_in(path.stem)
    if named:
        return named
    years = set()
    for _, cells in raw[1:]:
        for cell in cells:
            if isinstance(cell, date | datetime):
                years.add(cell.year)
    return years.pop() if len(years) == 1 else default


# --- the template --------------------------------------------------------------------------------

HELP_LINES = (
    "每行填写一个单位的一项任务；同一单位有几项任务就填几行。",
    "单位：须与系统中登记的单位名称完全一致（可从下拉列表选择）。",
    "类别：年度工作指标 或 重点工程（下拉选择）。无重点工程的单位，年度工作指标按60分计。",
    "编号：同一单位、同一年度内唯一，如年度工作指标A1、A2…，重点工程P1、P2…；"
    "不要用 K 加数字（留给布置的任务）。",
    "名称：任务内容，按责任书原文填写。",
    "截止日期：可不填，默认为当年12月31日。",
    "说明：可不填；状态为「不适用」时须写明原因。",
    "状态：一般不填；确实不适用于该单位的任务填「不适用」，该项不计分。",
    "第2行为示例（单位以「（示例）」开头），导入时自动忽略，可删除。",
    "填好后：在企业微信中把本文件发给考核机器人，核对预览后回复「确认」；"
    "或由管理员运行 kaohe targets import 文件 --year 年度。",
    "再次导入修改后的文件：新增、修改、删除的任务会逐项列出，确认后记入台账（不覆盖历史）。",
)


def write_template(path: str | Path, year: int, units: Iterable[str]) -> Path:
    """The workbook the office fills in for `year`, with drop-down lists of `units`."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    path = Path(path)
    names = list(units)
    wb = Workbook()
    ws = wb.active
    ws.title = f"{SHEET}{year}"
    ws.append(list(HEADER_CN))
    example_unit = f"（示例）{names[0] if names else '椒江区'}"
    ws.append(
        [
            example_unit,
            "年度工作指标",
            "A1",
            "完成城区污水管网改造10公里",
            date(year, 12, 31),
            "",
            "",
        ]
    )
    bold = Font(bold=True)
    for cell in ws[1]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(horizontal="center")
    for cell in ws[2]:
        cell.font = Font(italic=True, color="808080")
    for letter, width in zip("ABCDEFG", (16, 14, 8, 48, 14, 30, 10), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"
    last = 1000
    for row in range(2, last + 1):
        ws.cell(row, 5).number_format = "yyyy-mm-dd"

    listing = wb.create_sheet(UNITS_SHEET)
    for n, name in enumerate(names, start=1):
        listing.cell(n, 1, name)
    if names:
        unit_list = DataValidation(
            type="list", formula1=f"'{UNITS_SHEET}'!$A$1:$A${len(names)}", allow_blank=True
        )
        unit_list.error = "请从下拉列表中选择已登记的单位"
        unit_list.errorTitle = "单位"
        ws.add_data_validation(unit_list)
        unit_list.add(f"A3:A{last}")
    kind_list = DataValidation(type="list", formula1='"年度工作指标,重点工程"', allow_blank=True)
    kind_list.error = "类别应为 年度工作指标 或 重点工程"
    ws.add_data_validation(kind_list)
    kind_list.add(f"B2:B{last}")
    status_list = DataValidation(type="list", formula1='"不适用"', allow_blank=True)
    ws.add_data_validation(status_list)
    status_list.add(f"G2:G{last}")
    due_check = DataValidation(
        type="date",
        operator="between",
        formula1=f"DATE({year},1,1)",
        formula2=f"DATE({year},12,31)",
        allow_blank=True,
    )
    due_check.error = f"截止日期应在{year}年内"
    ws.add_data_validation(due_check)
    due_check.add(f"E2:E{last}")

    help_ws = wb.create_sheet(HELP_SHEET)
    help_ws.append([f"{year}年度“创模”工作目标责任书 填写说明"])
    help_ws["A1"].font = Font(bold=True, size=13)
    for n, line in enumerate(HELP_LINES, start=1):
        help_ws.append([f"{n}. {line}"])
    help_ws.column_dimensions["A"].width = 110
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
