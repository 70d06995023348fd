"""Importing a 责任书 into the ledger: plan the differences, then apply them as ledger rows.

`plan_charter` compares a checked file (storage.charter_file) with the tasks the units already
have for the year and lists what would change: tasks added, changed (title, 类别, due date, 说明,
状态), restored (cancelled before, in the file again) and withdrawn (no longer in the file). Only
the units named in the file are compared; other units keep their 责任书. A withdrawn task that is
already confirmed complete is never withdrawn by an import: it is listed as kept, and the office
cancels it explicitly (取消任务) if it must go.

`apply_charter` writes the plan: a new task row per added task, a `task_revision` per change,
each with who and why — never an edit. Importing the same file again finds nothing to change.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import ledger
from storage.charter_file import KIND_LABELS, CharterFile, CharterFileError, CharterKind, CharterRow
from storage.models import Task, TaskStatus, Unit
from storage.tasks import current_tasks, revise_task

CHARTER_KINDS = frozenset(k.value for k in CharterKind)
FIELD_LABELS = {
    "kind": "类别",
    "title": "名称",
    "due": "截止日期",
    "note": "说明",
    "status": "状态",
}


class ChangeKind(StrEnum):
    ADDED = "added"
    CHANGED = "changed"
    RESTORED = "restored"  # cancelled before, in the file again
    WITHDRAWN = "withdrawn"
    KEPT_DONE = "kept_done"  # gone from the file but already confirmed complete: not withdrawn


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    unit: str
    ref: str
    title: str
    fields: tuple[str, ...] = ()  # for CHANGED: the labels of what changed
    row: CharterRow | None = None
    task_id: int | None = None

    @property
    def applies(self) -> bool:
        return self.kind != ChangeKind.KEPT_DONE


@dataclass(frozen=True)
class UnitCharter:
    """One unit's 责任书 as the file has it."""

    unit: str
    targets: int
    projects: int
    not_applicable: int


@dataclass
class CharterPlan:
    year: int
    units: list[UnitCharter]
    changes: list[Change] = field(default_factory=list)

    @property
    def to_apply(self) -> list[Change]:
        return [c for c in self.changes if c.applies]

    @property
    def counts(self) -> Counter[ChangeKind]:
        return Counter(c.kind for c in self.changes)

    @property
    def digest(self) -> str:
        """Identifies the plan: a preview confirmed later is applied only if still the same."""
        text = "|".join(f"{c.kind}:{c.unit}:{c.ref}:{','.join(c.fields)}" for c in self.changes)
        return hashlib.sha256(f"{self.year}|{text}".encode()).hexdigest()[:16]


def _version_fields(task: Task) -> dict[str, object]:
    return {k: getattr(task, k) for k in FIELD_LABELS}


def _row_fields(row: CharterRow) -> dict[str, object]:
    return {
        "kind": row.kind.value,
        "title": row.title,
        "due": row.due,
        "note": row.note,
        "status": row.status.value,
    }


async def plan_charter(
    session: AsyncSession,
    charter: CharterFile,
    year: int,
    task_kinds_of: Callable[[str], frozenset[str]],
) -> CharterPlan:
    """What importing `charter` for `year` would change. `task_kinds_of(scheme_id)`: the task
    kinds a scheme scores. Raises CharterFileError naming every row with an unknown unit or a
    task kind the unit's scheme does not have (then nothing may be applied)."""
    units = {u.name: u for u in (await session.exec(select(Unit))).all()}
    errors: list[str] = []
    for row in charter.rows:
        unit = units.get(row.unit)
        if unit is None:
            errors.append(f"第{row.line}行：单位「{row.unit}」未登记（请核对名称，或先导入单位）")
        elif row.kind.value not in task_kinds_of(unit.scheme_id):
            errors.append(
                f"第{row.line}行：{row.unit}的考核方案 {unit.scheme_id} 没有"
                f"「{KIND_LABELS[row.kind]}」这类任务"
            )
    if errors:
        raise CharterFileError(errors)

    by_unit: dict[str, list[CharterRow]] = {}
    for row in charter.rows:
        by_unit.setdefault(row.unit, []).append(row)
    plan = CharterPlan(
        year,
        [
            UnitCharter(
                name,
                sum(
                    r.kind == CharterKind.ANNUAL_TARGET and r.status == TaskStatus.ACTIVE
                    for r in rows
                ),
                sum(
                    r.kind == CharterKind.KEY_PROJECT and r.status == TaskStatus.ACTIVE
                    for r in rows
                ),
                sum(r.status == TaskStatus.NOT_APPLICABLE for r in rows),
            )
            for name, rows in by_unit.items()
        ],
    )
    for name, rows in by_unit.items():
        unit = units[name]
        assert unit.id is not None
        first = (
            await session.exec(
                select(Task).where(
                    Task.unit_id == unit.id,
                    Task.year == year,
                    col(Task.kind).in_(CHARTER_KINDS) | col(Task.code).in_([r.ref for r in rows]),
                )
            )
        ).all()
        views = {
            v.task.id: v
            for v in await ledger.list_tasks(session, unit.id, year, include_inactive=True)
        }
        existing = {
            (t.code or "").upper(): t for t in await current_tasks(session, first) if t.code
        }
        for row in rows:
            task = existing.pop(row.ref.upper(), None)
            if task is None:
                plan.changes.append(Change(ChangeKind.ADDED, name, row.ref, row.title, row=row))
                continue
            before, after = _version_fields(task), _row_fields(row)
            if task.status == TaskStatus.CANCELLED.value:
                kind = ChangeKind.RESTORED
            elif before != after:
                kind = ChangeKind.CHANGED
            else:
                continue
            changed = tuple(FIELD_LABELS[k] for k in after if before[k] != after[k])
            plan.changes.append(Change(kind, name, row.ref, row.title, changed, row, task.id))
        for task in existing.values():
            if task.status == TaskStatus.CANCELLED.value or task.kind not in CHARTER_KINDS:
                continue
            view = views.get(task.id)
            done = view is not None and view.completed_at is not None
            kind = ChangeKind.KEPT_DONE if done else ChangeKind.WITHDRAWN
            plan.changes.append(Change(kind, name, task.code or "", task.title, task_id=task.id))
    return plan


@dataclass(frozen=True)
class Applied:
    added: int
    changed: int
    withdrawn: int


async def apply_charter(
    session: AsyncSession,
    plan: CharterPlan,
    *,
    actor: str,
    reason: str,
    at: datetime | None = None,
) -> Applied:
    """Write the plan's changes as ledger rows (the caller commits, in the same transaction as
    the plan was made)."""
    unit_ids = {u.name: u.id for u in (await session.exec(select(Unit))).all()}
    added = changed = withdrawn = 0
    for change in plan.to_apply:
        row = change.row
        if change.kind == ChangeKind.ADDED:
            assert row is not None
            unit_id = unit_ids[change.unit]
            assert unit_id is not None
            await ledger.add_task(
                session,
                unit_id=unit_id,
                kind=row.kind.value,
                due=row.due,
                actor=actor,
                title=row.title,
                code=row.ref,
                year=plan.year,
                note=row.note,
                status=row.status,
                reason=reason,
            )
            added += 1
        elif change.kind in (ChangeKind.CHANGED, ChangeKind.RESTORED):
            assert row is not None and change.task_id is not None
            await revise_task(
                session,
                change.task_id,
                actor=actor,
                reason=reason,
                at=at,
                kind=row.kind.value,
                title=row.title,
                due=row.due,
                note=row.note,
                status=row.status,
            )
            changed += 1
        elif change.kind == ChangeKind.WITHDRAWN:
            assert change.task_id is not None
            await revise_task(
                session,
                change.task_id,
                actor=actor,
                reason=f"{reason}（责任书中已无此项）",
                at=at,
                status=TaskStatus.CANCELLED,
            )
            withdrawn += 1
    return Applied(added, changed, withdrawn)
