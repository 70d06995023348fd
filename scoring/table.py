"""A scheme as the office's own table (seed 003 is one: 序号 · 项目 · 环保目标 · 考核细则 · 分值 ·
负责指导部门), with extra columns per rule for its kind and parameters; and back.

Pure: rows of cell values in, scheme data out (and the reverse); `bot/scheme_workbook.py` reads and
writes the .xlsx. One row per rule. A row whose 序号 is blank continues the item above, one whose
目标编号 is blank continues the target above (as in the source table). A 项目分值 cell merged down
over the rows of several items is a shared points cell: the items below share the first one's.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from scoring.describe import reading_data
from scoring.errors import SchemeError
from scoring.model import Item, Rule, Scheme, Target
from scoring.periods import PeriodKind

COLUMNS = (
    "序号",
    "项目",
    "项目分值",
    "负责指导部门",
    "加分项目",
    "目标编号",
    "目标名称",
    "环保目标",
    "分值",
    "目标部门",
    "目标口径",
    "规则编号",
    "考核细则",
    "类型",
    "参数",
    "周期",
    "截止",
    "规则部门",
    "口径",
)
ITEM_COLUMNS = COLUMNS[:5]  # merged over an item's rows
TARGET_COLUMNS = COLUMNS[5:11]  # merged over a target's rows
META = (
    ("编号", "id"),
    ("名称", "name"),
    ("来源", "source"),
    ("总分", "total"),
    ("等次", "grading"),
)
SHARES = re.compile(r"^\s*(?:共用|同)\s*(\S+)\s*$")

# where a field of the scheme data is written in the table
ITEM_FIELD = {"id": "序号", "name": "项目", "points": "项目分值", "office": "负责指导部门",
              "bonus": "加分项目", "shares": "项目分值", "targets": "目标编号"}  # fmt: skip
TARGET_FIELD = {"id": "目标编号", "name": "目标名称", "text": "环保目标", "points": "分值",
                "office": "目标部门", "reading": "目标口径", "rules": "类型"}  # fmt: skip
RULE_FIELD = {"id": "规则编号", "text": "考核细则", "kind": "类型", "period": "周期",
              "deadline": "截止", "office": "规则部门", "reading": "口径"}  # fmt: skip


@dataclass
class Table:
    """The rows of a scheme table. `merges`: (column name, first, last) over body rows (0-based)."""

    meta: list[tuple[str, Any]]
    rows: list[dict[str, Any]]
    merges: list[tuple[str, int, int]] = field(default_factory=list)


def _num(value: Any) -> Any:
    if value is None:
        return None
    return int(value) if value.denominator == 1 else float(value)


def _flow(value: Any) -> str:
    """A mapping as one line of YAML ("{points: 4, cutoff: 0.6}")."""
    if not value:
        return ""
    text = yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, sort_keys=False)
    return text.strip()


# ---- scheme → table --------------------------------------------------------------------------


def scheme_table(scheme: Scheme) -> Table:
    """The scheme as table rows, with the merges that show its shared points cells."""
    rows: list[dict[str, Any]] = []
    merges: list[tuple[str, int, int]] = []
    spans: dict[str, tuple[int, int]] = {}  # item id -> its rows
    for item in scheme.items:
        first = len(rows)
        for target in item.targets:
            t_first = len(rows)
            for n, rule in enumerate(target.rules, start=1):
                rows.append(_rule_row(rule, target, n))
            rows[t_first].update(_target_cells(target, item))
            _merge(merges, TARGET_COLUMNS, t_first, len(rows) - 1)
        rows[first].update(_item_cells(item))
        spans[item.id] = (first, len(rows) - 1)
        _merge(merges, ITEM_COLUMNS, first, len(rows) - 1)
    # a shared points cell: merge 项目分值 of the shared item over the items right below sharing it
    for item in scheme.items:
        if item.shares is None:
            continue
        owner_first, owner_last = spans[item.shares]
        first, last = spans[item.id]
        if first == owner_last + 1:
            merges[:] = [
                m for m in merges if not (m[0] == "项目分值" and m[1] in (owner_first, first))
            ]
            merges.append(("项目分值", owner_first, last))
            spans[item.shares] = (owner_first, last)
        else:
            rows[first]["项目分值"] = f"共用{item.shares}"
    return Table(_meta(scheme), rows, merges)


def _merge(
    merges: list[tuple[str, int, int]], columns: tuple[str, ...], first: int, last: int
) -> None:
    if last > first:
        merges.extend((column, first, last) for column in columns)


def _meta(scheme: Scheme) -> list[tuple[str, Any]]:
    grading = ""
    if scheme.grading is not None:
        g = scheme.grading
        data: dict[str, Any] = {"excellent": _num(g.excellent), "good": _num(g.good)}
        if g.required_task_kinds:
            data["required_task_kinds"] = list(g.required_task_kinds)
        data.update({o.name: g.__dict__[o.name] for o in g.options if o.written})
        grading = _flow(data)
    return [
        ("编号", scheme.id),
        ("名称", scheme.name),
        ("来源", scheme.source),
        ("总分", _num(scheme.total)),
        ("等次", grading),
    ]


def _item_cells(item: Item) -> dict[str, Any]:
    return {
        "序号": item.id,
        "项目": item.name,
        "项目分值": _num(item.points),
        "负责指导部门": item.office,
        "加分项目": "是" if item.bonus else "",
    }


def _target_cells(target: Target, item: Item) -> dict[str, Any]:
    return {
        "目标编号": target.id,
        "目标名称": target.name,
        "环保目标": target.text,
        "分值": _num(target.points),
        "目标部门": target.office if target.office != item.office else "",
        "目标口径": _reading_cell(target),
    }


def _rule_row(rule: Rule, target: Target, n: int) -> dict[str, Any]:
    params = rule.params.model_dump(mode="json", exclude_unset=True, exclude={"kind"})
    return {
        "规则编号": rule.id if rule.id != f"{target.id}.{n}" else "",
        "考核细则": rule.text,
        "类型": rule.kind,
        "参数": _flow(params),
        "周期": rule.period if rule.period != PeriodKind.YEARLY else "",
        "截止": rule.deadline or "",
        "规则部门": rule.office if rule.office != target.office else "",
        "口径": _reading_cell(rule),
    }


def _reading_cell(node: Rule | Target) -> str:
    """A note as it is; a 口径 with choices as one line of YAML ({about: deadline, ...})."""
    data = reading_data(node)
    return data if isinstance(data, str) else _flow(data)


# ---- table → scheme data ---------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def scheme_data(
    table: Table, scheme_id: str | None, source: str
) -> tuple[dict, Callable[[str], str]]:
    """The scheme data of a table, and a function naming the row and column of a path inside it.
    Problems of the table's own shape (a rule row before any target, 参数 that is not a mapping)
    raise `SchemeError` naming the row."""
    errors: list[str] = []
    meta = {key: value for key, value in table.meta if not _blank(value)}
    data: dict[str, Any] = {}
    for label, key in META:
        if label in meta:
            data[key] = _text(meta[label])
    if scheme_id is not None:
        data["id"] = scheme_id
    if isinstance(data.get("grading"), str):
        try:
            data["grading"] = yaml.safe_load(data["grading"])
        except yaml.YAMLError:
            errors.append(f"{source}: 方案表「等次」: 应为 {{excellent: 90, good: 80}}形式")
    shared_by = _shared_cells(table)
    items: list[dict] = []
    rows_of: dict[str, int] = {}  # path prefix -> sheet row number
    item_at_row: dict[int, int] = {}
    for n, row in enumerate(table.rows):
        line = n + 2  # the header is row 1
        if all(_blank(row.get(c)) for c in COLUMNS):
            continue
        if not _blank(row.get("序号")):
            items.append(_item(row, shared_by.get(n), items, item_at_row))
            item_at_row[n] = len(items) - 1
            rows_of[f"items[{len(items) - 1}]"] = line
        elif not items:
            errors.append(f"{source}: 第{line}行：缺少「序号」（第一行须开始一个项目）")
            continue
        item = items[-1]
        if not _blank(row.get("目标编号")):
            item["targets"].append(_target(row, line, source, errors))
            rows_of[f"items[{len(items) - 1}].targets[{len(item['targets']) - 1}]"] = line
        elif not item["targets"]:
            errors.append(f"{source}: 第{line}行：缺少「目标编号」（项目的第一行须开始一个目标）")
            continue
        target = item["targets"][-1]
        rule = _rule(row, line, source, errors)
        if rule is not None:
            target["rules"].append(rule)
            path = f"items[{len(items) - 1}].targets[{len(item['targets']) - 1}]"
            rows_of[f"{path}.rules[{len(target['rules']) - 1}]"] = line
    if errors:
        raise SchemeError(errors)
    data["items"] = items
    return data, _where(rows_of)


def _shared_cells(table: Table) -> dict[int, int]:
    """Row of an item's first line -> first row of the merged 项目分值 cell it lies in."""
    out = {}
    for column, first, last in table.merges:
        if column == "项目分值":
            for n in range(first + 1, last + 1):
                out[n] = first
    return out


def _item(
    row: dict, shared_from: int | None, items: list[dict], item_at_row: dict[int, int]
) -> dict:
    item: dict[str, Any] = {"id": _text(row["序号"]), "name": _text(row.get("项目"))}
    points = row.get("项目分值")
    if shared_from is not None and shared_from in item_at_row:
        item["shares"] = items[item_at_row[shared_from]]["id"]
    elif isinstance(points, str) and (m := SHARES.match(points)):
        item["shares"] = m.group(1)
    elif not _blank(points):
        item["points"] = points
    if not _blank(row.get("负责指导部门")):
        item["office"] = _text(row["负责指导部门"])
    if not _blank(row.get("加分项目")):
        item["bonus"] = _text(row["加分项目"]) in ("是", "加分", "√", True, 1)
    item["targets"] = []
    return item


def _target(row: dict, line: int, source: str, errors: list[str]) -> dict:
    target: dict[str, Any] = {"id": _text(row["目标编号"]), "name": _text(row.get("目标名称"))}
    for column, key in (("环保目标", "text"), ("分值", "points"), ("目标部门", "office")):
        if not _blank(row.get(column)):
            target[key] = _text(row[column])
    if not _blank(row.get("目标口径")):
        target["reading"] = _reading(row["目标口径"], "目标口径", line, source, errors)
    target["rules"] = []
    return target


def _reading(cell: Any, column: str, line: int, source: str, errors: list[str]) -> Any:
    """A 口径 cell: a note, or (written as {about: ..., choices: {...}}) a choice to switch."""
    text = _text(cell)
    if not isinstance(text, str) or not text.startswith("{"):
        return text
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, dict):
        errors.append(
            f"{source}: 第{line}行「{column}」：以{{开头的口径应为"
            f"{{about: deadline, label: 月报截止, choices: {{+10d: 月末后10天, +15d: 月末后15天}}}}形式"
        )
    return data


def _rule(row: dict, line: int, source: str, errors: list[str]) -> dict | None:
    written = [c for c in COLUMNS[11:] if not _blank(row.get(c))]
    if _blank(row.get("类型")):
        if written:
            errors.append(f"{source}: 第{line}行：缺少「类型」（规则类型，如 award、deduction）")
        return None
    rule: dict[str, Any] = {"kind": _text(row["类型"])}
    raw = row.get("参数")
    if not _blank(raw):
        try:
            params = yaml.safe_load(str(raw))
        except yaml.YAMLError:
            params = None
        if not isinstance(params, dict):
            errors.append(f"{source}: 第{line}行「参数」：应为{{points: 4}}形式，实际为 {raw!r}")
            return None
        rule.update(params)
    for column, key in (("规则编号", "id"), ("考核细则", "text"), ("周期", "period"),
                        ("截止", "deadline"), ("规则部门", "office")):  # fmt: skip
        if not _blank(row.get(column)):
            rule[key] = _text(row[column])
    if not _blank(row.get("口径")):
        rule["reading"] = _reading(row["口径"], "口径", line, source, errors)
    return rule


_PATH = re.compile(r"^(items\[\d+\](?:\.targets\[\d+\](?:\.rules\[\d+\])?)?)(?:\.(.*))?$")


def _where(rows_of: dict[str, int]) -> Callable[[str], str]:
    def where(path: str) -> str:
        m = _PATH.match(path)
        if m is None or m.group(1) not in rows_of:
            return f"方案表「{dict((k, v) for v, k in META).get(path.split('.')[0], path)}」"
        prefix, rest = m.group(1), m.group(2) or ""
        names = (
            RULE_FIELD
            if ".rules[" in prefix
            else TARGET_FIELD
            if ".targets[" in prefix
            else ITEM_FIELD
        )
        head = rest.split(".")[0].split("[")[0]
        column = names.get(head) or ("参数" if ".rules[" in prefix else head)
        detail = f" {rest}" if column == "参数" and rest else ""
        return f"第{rows_of[prefix]}行「{column}」{detail}"

    return where
