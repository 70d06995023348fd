"""Tasks as they stand: the task row is the first version, each `task_revision` a later one.

A correction never edits a task: re-dating (改期), cancelling (取消任务), marking a 责任书 task 不适用
or changing its title is a new revision with who, when and why, and the latest revision made by
a moment is the task as it stood then. Writing a revision that changes nothing writes nothing, so
the same command sent twice is recorded once.

Task numbers (`K1`, `K2`, …) come from `next_task_code`: one more than the highest in use, so they
never skip the way database ids do (a rolled-back insert, a task given to several units).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import scope
from storage.audit import audit
from storage.models import Task, TaskRevision, TaskStatus
from storage.types import to_utc, utcnow

SCORED = frozenset({TaskStatus.ACTIVE.value})
_K_CODE = re.compile(r"K(\d+)")


class TaskChangeError(ValueError):
    """A revision that cannot be made (unknown task, unknown status)."""


def _version(task: Task, rev: TaskRevision | None) -> Task:
    """A detached copy of `task` with the fields of `rev` (never added to a session, so nothing
    about it can be flushed back over the first version)."""
    src = rev if rev is not None else task
    return Task(
        id=task.id,
        unit_id=task.unit_id,
        code=task.code,
        kind=src.kind,
        title=src.title,
        target=task.target,
        due=src.due,
        year=task.year,
        note=src.note,
        status=src.status,
        actor=task.actor,
        reason=src.reason if rev is not None else task.reason,
        created_at=task.created_at,
    )


def latest_revision(
    revisions: Iterable[TaskRevision], known_at: datetime | None = None
) -> TaskRevision | None:
    latest: TaskRevision | None = None
    for rev in revisions:
        if known_at is not None and rev.at > to_utc(known_at):
            continue
        if latest is None or (rev.at, rev.id or 0) > (latest.at, latest.id or 0):
            latest = rev
    return latest


async def revisions_of(
    session: AsyncSession, task_ids: Sequence[int]
) -> dict[int, list[TaskRevision]]:
    """Every revision of these tasks, oldest first, by task id."""
    found: dict[int, list[TaskRevision]] = {}
    ids = list(task_ids)
    for start in range(0, len(ids), 500):
        rows = (
            await session.exec(
                select(TaskRevision)
                .where(col(TaskRevision.task_id).in_(ids[start : start + 500]))
                .order_by(col(TaskRevision.at), col(TaskRevision.id))
            )
        ).all()
        for row in rows:
            found.setdefault(row.task_id, []).append(row)
    return found


async def current_tasks(
    session: AsyncSession, tasks: Sequence[Task], known_at: datetime | None = None
) -> list[Task]:
    """`tasks` as they stood at `known_at` (now when None), in the same order."""
    revs = await revisions_of(session, [t.id for t in tasks if t.id is not None])
    return [_version(t, latest_revision(revs.get(t.id or 0, ()), known_at)) for t in tasks]


async def current_task(session: AsyncSession, task_id: int) -> Task | None:
    task = await session.get(Task, task_id)
    if task is None:
        return None
    return (await current_tasks(session, [task]))[0]


async def revise_task(
    session: AsyncSession,
    task_id: int,
    *,
    actor: str,
    reason: str,
    at: datetime | None = None,
    kind: str | None = None,
    title: str | None = None,
    due: date | None = None,
    note: str | None = None,
    status: TaskStatus | None = None,
) -> TaskRevision | None:
    """A new version of the task with the given fields changed; None (nothing written) when the
    task already stands so. The caller commits."""
    task = await session.get(Task, task_id)
    if task is None:
        raise TaskChangeError(f"no task with id {task_id}")
    now = (await current_tasks(session, [task]))[0]
    after: dict[str, Any] = {
        "kind": kind if kind is not None else now.kind,
        "title": title if title is not None else now.title,
        "due": due if due is not None else now.due,
        "note": note if note is not None else now.note,
        "status": TaskStatus(status).value if status is not None else now.status,
    }
    before = {k: getattr(now, k) for k in after}
    if after == before:
        return None
    row = TaskRevision(
        task_id=task_id,
        actor=actor,
        reason=reason,
        at=to_utc(at) if at is not None else utcnow(),
        **after,
    )
    session.add(row)
    await session.flush()
    changed = {k: [str(before[k]), str(after[k])] for k in after if before[k] != after[k]}
    audit(
        session,
        actor,
        "task.revise",
        {"task": task_id, "revision": row.id, "changed": changed, "reason": reason},
        at=at,
    )
    return row


async def next_task_code(session: AsyncSession) -> str:
    """The next `K<n>`: one more than the highest K number in use (any unit, any year)."""
    rows = (
        await session.exec(
            select(Task.id, Task.code).where(col(Task.code).like("K%") | col(Task.code).is_(None))
        )
    ).all()
    numbers = [
        int(m[1]) if code and m else task_id
        for task_id, code in rows
        if task_id is not None and (not code or (m := _K_CODE.fullmatch(code)))
    ]
    return f"K{max(numbers, default=0) + 1}"


async def tasks_by_code(
    session: AsyncSession, code: str, years: Sequence[int], unit_id: int | None = None
) -> list[Task]:
    """Tasks with this public number in the first of `years` that has any (a `K` number given
    to several units names one task per unit), as they stand now, by unit. `K7` also finds an
    old task without a code whose id is 7."""
    wanted = code.upper()
    query = scope.narrow(select(Task).where(col(Task.year).in_(list(years))), Task.unit_id)
    if unit_id is not None:
        query = query.where(Task.unit_id == unit_id)
    by_code = query.where(func.upper(col(Task.code)) == wanted)
    rows = list((await session.exec(by_code)).all())
    old = _K_CODE.fullmatch(wanted)
    if old:
        no_code = query.where(col(Task.code).is_(None), Task.id == int(old[1]))
        rows += (await session.exec(no_code)).all()
    for year in years:
        found = sorted((t for t in rows if t.year == year), key=lambda t: t.unit_id)
        if found:
            return await current_tasks(session, found)
    return []
