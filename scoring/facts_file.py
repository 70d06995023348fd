"""Load a facts file (JSON or YAML, docs/scheme.md "Facts file") into `Facts`.

Scheme authors write these by hand to try a scheme; the bot builds `Facts` from its ledger instead.
Times without an offset are Asia/Shanghai. Every problem is reported with its path
(`submissions[3].submitted_at`), all at once.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from scoring.errors import FactsError
from scoring.facts import AdminEntry, EntryKind, Facts, Status, Submission, Task
from scoring.periods import TZ, period_kind
from scoring.validate import Collector, join

SUBMISSION_FIELDS = ("id", "target", "submitted_at", "period", "status", "kind", "task", "title")
TASK_FIELDS = ("id", "kind", "due", "title", "target", "completed_at")
ENTRY_FIELDS = ("id", "kind", "rule", "at", "value", "key", "actor", "reason", "voids")


def load_facts_file(path: str | Path) -> Facts:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FactsError([f"{path}: 文件不存在"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FactsError([f"{path}: 无法读取（{exc}）"]) from None
    return load_facts_text(text, source=str(path), is_json=path.suffix.lower() == ".json")


def load_facts_text(text: str, source: str = "<facts>", *, is_json: bool = False) -> Facts:
    """Parse JSON or YAML facts; raise `FactsError` listing every problem."""
    try:
        data = json.loads(text) if is_json else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise FactsError([f"{source}: 无法解析（{exc}）"]) from None
    return facts_from_data(data, source)


def facts_from_data(data: Any, source: str = "<facts>") -> Facts:
    c = Collector(source)
    root = c.mapping(data, "", ("unit", "year", "submissions", "tasks", "entries"))
    if root is None:
        raise FactsError(c.errors)
    unit = c.text(root, "unit", "", required=True) or ""
    year = root.get("year")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 9999:
        c.error("year", f"应为四位年份，实际为 {year!r}" if year is not None else "缺少必填字段")
        year = 0
    subs = [
        _submission(c, r, f"submissions[{n}]")
        for n, r in enumerate(c.seq(root, "submissions", "", required=False))
    ]
    tasks = [
        _task(c, r, f"tasks[{n}]") for n, r in enumerate(c.seq(root, "tasks", "", required=False))
    ]
    entries = [
        _entry(c, r, f"entries[{n}]")
        for n, r in enumerate(c.seq(root, "entries", "", required=False))
    ]
    for label, rows in (("submissions", subs), ("tasks", tasks), ("entries", entries)):
        seen: set[str] = set()
        for n, row in enumerate(rows):
            if row is not None and row.id in seen:
                c.error(f"{label}[{n}].id", f"编号 {row.id!r} 重复")
            elif row is not None:
                seen.add(row.id)
    if c.errors:
        raise FactsError(c.errors)
    return Facts(
        unit=unit,
        year=year,
        submissions=tuple(s for s in subs if s is not None),
        tasks=tuple(t for t in tasks if t is not None),
        entries=tuple(e for e in entries if e is not None),
    )


def parse_datetime(value: Any) -> datetime | None:
    """ISO 8601 text or a YAML timestamp; naive times are Asia/Shanghai. None if not a time."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=TZ) if moment.tzinfo is None else moment


def _when(
    c: Collector, data: dict[str, Any], key: str, path: str, *, required: bool
) -> datetime | None:
    if data.get(key) is None:
        if required:
            c.error(join(path, key), "缺少必填字段")
        return None
    moment = parse_datetime(data[key])
    if moment is None:
        c.error(
            join(path, key), f"应为 ISO 8601 时间（如 2026-11-03T09:12:00），实际为 {data[key]!r}"
        )
    return moment


def _day(c: Collector, data: dict[str, Any], key: str, path: str) -> date | None:
    value = data.get(key)
    if value is None:
        c.error(join(path, key), "缺少必填字段")
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    c.error(join(path, key), f"应为日期（如 2026-12-31），实际为 {value!r}")
    return None


def _submission(c: Collector, raw: Any, path: str) -> Submission | None:
    data = c.mapping(raw, path, SUBMISSION_FIELDS)
    if data is None:
        return None
    sid = c.text(data, "id", path, required=True, ident=True)
    target = c.text(data, "target", path, required=True, ident=True)
    at = _when(c, data, "submitted_at", path, required=True)
    period = data.get("period")
    if isinstance(period, int) and not isinstance(period, bool):
        period = str(period)
    if period is not None and (not isinstance(period, str) or period_kind(period) is None):
        c.error(join(path, "period"), f"应为 2026-11、2026-Q3 或 2026 形式，实际为 {period!r}")
        period = None
    status = c.choice(data, "status", path, [s.value for s in Status], required=False)
    kind = c.text(data, "kind", path, required=False) or "info"
    task = c.text(data, "task", path, required=False, ident=True)
    title = c.text(data, "title", path, required=False) or ""
    if sid is None or target is None or at is None:
        return None
    return Submission(
        id=sid,
        target=target,
        submitted_at=at,
        period=period,
        status=Status(status) if status else Status.ACCEPTED,
        kind=kind,
        task=task,
        title=title,
    )


def _task(c: Collector, raw: Any, path: str) -> Task | None:
    data = c.mapping(raw, path, TASK_FIELDS)
    if data is None:
        return None
    tid = c.text(data, "id", path, required=True, ident=True)
    kind = c.text(data, "kind", path, required=True, ident=True)
    due = _day(c, data, "due", path)
    completed = _when(c, data, "completed_at", path, required=False)
    title = c.text(data, "title", path, required=False) or ""
    target = c.text(data, "target", path, required=False, ident=True)
    if tid is None or kind is None or due is None:
        return None
    return Task(id=tid, kind=kind, due=due, title=title, target=target, completed_at=completed)


def _entry(c: Collector, raw: Any, path: str) -> AdminEntry | None:
    data = c.mapping(raw, path, ENTRY_FIELDS)
    if data is None:
        return None
    eid = c.text(data, "id", path, required=True, ident=True)
    kind = c.choice(data, "kind", path, [k.value for k in EntryKind], required=True)
    rule = c.text(data, "rule", path, required=kind != EntryKind.VOID, ident=True)
    at = _when(c, data, "at", path, required=True)
    value = Decimal(1)
    if data.get("value") is not None:
        raw_value = data["value"]
        try:
            if isinstance(raw_value, bool) or not isinstance(raw_value, int | float | str):
                raise InvalidOperation
            value = Decimal(str(raw_value))
            if not value.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            c.error(join(path, "value"), f"应为数字，实际为 {raw_value!r}")
    key = c.text(data, "key", path, required=False, ident=True)
    voids = c.text(data, "voids", path, required=False, ident=True)
    if kind == EntryKind.VOID and voids is None:
        c.error(join(path, "voids"), "作废（void）记录必须写明作废的记录编号 voids")
    actor = c.text(data, "actor", path, required=False) or ""
    reason = c.text(data, "reason", path, required=False) or ""
    if eid is None or kind is None or at is None or (rule is None and kind != EntryKind.VOID):
        return None
    return AdminEntry(
        id=eid,
        kind=EntryKind(kind),
        rule=rule or "",
        at=at,
        value=value,
        key=key,
        actor=actor,
        reason=reason,
        voids=voids,
    )
