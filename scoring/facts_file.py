"""Load a facts file (JSON or YAML, docs/scheme.md "Facts file") into `Facts`.

Scheme authors write these by hand to try a scheme; the bot builds `Facts` from its ledger instead.
The file is validated by the pydantic models below; times without an offset are Asia/Shanghai.
Every problem is reported with its path (`submissions[3].submitted_at`), all at once.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from scoring import document
from scoring.errors import FactsError
from scoring.facts import AdminEntry, EntryKind, Facts, Status, Submission, SubmissionKind, Task
from scoring.kinds.fields import Ident, Text, choice, refuse
from scoring.periods import TZ, period_kind


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


# ---- field types --------------------------------------------------------------------------------


def _moment(value: Any) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        raise refuse("应为 ISO 8601时间（如2026-11-03T09:12:00）", value)
    return moment


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise refuse("应为日期（如2026-12-31）", value)


def _period(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or period_kind(value) is None:
        raise refuse("应为2026-11、2026-Q3或2026形式", value)
    return value


def _value(value: Any) -> Decimal:
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidOperation
        number = Decimal(str(value))
        if not number.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        raise refuse("应为数字", value) from None
    return number


def _year(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 9999:
        raise refuse("应为四位年份", value)
    return value


Moment = Annotated[datetime, PlainValidator(_moment)]
Day = Annotated[date, PlainValidator(_day)]
Period = Annotated[str, PlainValidator(_period)]
Value = Annotated[Decimal, PlainValidator(_value)]
Year = Annotated[int, PlainValidator(_year)]


# ---- the file -----------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubmissionDoc(_Strict):
    id: Ident
    target: Ident
    submitted_at: Moment
    period: Period | None = None
    status: choice(*(s.value for s in Status)) = Status.ACCEPTED.value  # type: ignore[valid-type]
    kind: Text = SubmissionKind.INFO.value
    task: Ident | None = None
    title: Text = ""


class TaskDoc(_Strict):
    id: Ident
    kind: Ident
    due: Day
    title: Text = ""
    target: Ident | None = None
    completed_at: Moment | None = None


class EntryDoc(_Strict):
    id: Ident
    kind: choice(*(k.value for k in EntryKind))  # type: ignore[valid-type]
    rule: Ident | None = Field(None, validate_default=True)
    at: Moment
    value: Value = Decimal(1)
    key: Ident | None = None
    actor: Text = ""
    reason: Text = ""
    voids: Ident | None = Field(None, validate_default=True)

    @field_validator("rule")
    @classmethod
    def _rule_unless_void(cls, rule: str | None, info: Any) -> str | None:
        if rule is None and info.data.get("kind") not in (None, EntryKind.VOID.value):
            raise PydanticCustomError("kaohe", "缺少必填字段")
        return rule

    @field_validator("voids")
    @classmethod
    def _voids_of_void(cls, voids: str | None, info: Any) -> str | None:
        if voids is None and info.data.get("kind") == EntryKind.VOID.value:
            raise PydanticCustomError("kaohe", "作废（void）记录必须写明作废的记录编号 voids")
        return voids


class FactsDoc(_Strict):
    unit: Text
    year: Year
    submissions: list[SubmissionDoc] = []
    tasks: list[TaskDoc] = []
    entries: list[EntryDoc] = []


def facts_from_data(data: Any, source: str = "<facts>") -> Facts:
    """Validate parsed facts data; raise `FactsError` listing every problem."""
    found: list[tuple[str, str]] = []
    try:
        doc = FactsDoc.model_validate(data)
    except ValidationError as exc:
        doc, found = None, document.problems(exc, FactsDoc)
    found += _duplicate_ids(data)
    if found:
        raise FactsError(
            [f"{source}: {path}: {what}" if path else f"{source}: {what}" for path, what in found]
        )
    assert doc is not None
    return Facts(
        unit=doc.unit,
        year=doc.year,
        submissions=tuple(
            Submission(**{**s.model_dump(), "status": Status(s.status)}) for s in doc.submissions
        ),
        tasks=tuple(Task(**t.model_dump()) for t in doc.tasks),
        entries=tuple(
            AdminEntry(**{**e.model_dump(), "kind": EntryKind(e.kind), "rule": e.rule or ""})
            for e in doc.entries
        ),
    )


def _duplicate_ids(data: Any) -> list[tuple[str, str]]:
    """Ids used twice in one list (read leniently: malformed rows are reported by the models)."""
    out = []
    root = data if isinstance(data, dict) else {}
    for label in ("submissions", "tasks", "entries"):
        rows = root.get(label)
        seen: set[str] = set()
        for n, row in enumerate(rows if isinstance(rows, list) else []):
            ident = row.get("id") if isinstance(row, dict) else None
            ident = str(ident) if isinstance(ident, int) and not isinstance(ident, bool) else ident
            if not isinstance(ident, str):
                continue
            if ident in seen:
                out.append((f"{label}[{n}].id", f"编号 {ident!r} 重复"))
            seen.add(ident)
    return out
