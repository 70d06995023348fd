"""The bridge to scoring: `scoring.facts.Facts` of a unit's year, built from the ledger.

* submissions with their effective status (latest review / withdrawal; none: submitted);
* tasks with `completed_at` from the latest non-voided CONFIRMATION entry naming the task;
* admin entries (not the task confirmations) as `AdminEntry`, VOID entries naming `E<id>`.

`known_at` (optional, aware) leaves out reviews, withdrawals, task confirmations and voids made
after it, so a past score can be reproduced as it was known then; the engine itself ignores
submissions, entries and completions dated after its `as_of`.

All units of a year are built with six queries in total (cost linear in the ledger's rows).
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.facts import AdminEntry as FactEntry
from scoring.facts import EntryKind, Facts, Status
from scoring.facts import Submission as FactSubmission
from scoring.facts import Task as FactTask
from storage.db import Database
from storage.ledger import (
    _task_confirmations,
    entry_ref,
    latest_statuses,
    submission_ref,
    task_completion,
    task_ref,
)
from storage.models import AdminEntry, Submission, SubmissionEvent, Task, Unit
from storage.tasks import SCORED, current_tasks


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a whole year is built and scored.

    Facts and score cards of every unit are tens of small objects per submission, all kept until
    the end: the collector would re-scan that growing heap again and again (about 30 % of a
    5,000-unit tally, and what made its cost grow faster than the units; bench/notes.md). None
    of it forms cycles that need collecting meanwhile; reference counting still frees the rest.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class UnitFacts:
    unit: Unit
    facts: Facts

    @property
    def scheme_id(self) -> str:
        return self.unit.scheme_id


async def build_facts(
    session: AsyncSession, unit: Unit | int, year: int, *, known_at: datetime | None = None
) -> Facts:
    """Facts of one unit (a `Unit` or its id) for one year."""
    unit_id = unit if isinstance(unit, int) else unit.id
    assert unit_id is not None
    found = await build_all_facts(session, year, unit_ids=[unit_id], known_at=known_at)
    if not found:
        raise LookupError(f"no unit with id {unit_id}")
    return found[0].facts


async def build_all_facts(
    session: AsyncSession,
    year: int,
    *,
    unit_ids: list[int] | None = None,
    known_at: datetime | None = None,
) -> list[UnitFacts]:
    """Facts of every unit (or of `unit_ids`) for one year, units by name."""
    # Column selects for the two big tables: scoring never reads the text or the attachments,
    # and ORM objects cost ~5x more to build (bench/facts_bench.py, docs/benchmarks.md).
    units_q = select(Unit).order_by(col(Unit.name))
    subs_q = select(
        Submission.id,
        Submission.unit_id,
        Submission.target,
        Submission.submitted_at,
        Submission.period,
        Submission.kind,
        Submission.task_id,
        Submission.title,
    ).where(Submission.year == year)
    events_q = (
        select(
            SubmissionEvent.submission_id,
            SubmissionEvent.at,
            SubmissionEvent.id,
            SubmissionEvent.status,
        )
        .join(Submission, col(Submission.id) == col(SubmissionEvent.submission_id))
        .where(Submission.year == year)
    )
    tasks_q = select(Task).where(Task.year == year)
    entries_q = select(AdminEntry).where(AdminEntry.year == year)
    if unit_ids is not None:
        units_q = units_q.where(col(Unit.id).in_(unit_ids))
        subs_q = subs_q.where(col(Submission.unit_id).in_(unit_ids))
        events_q = events_q.where(col(Submission.unit_id).in_(unit_ids))
        tasks_q = tasks_q.where(col(Task.unit_id).in_(unit_ids))
        entries_q = entries_q.where(col(AdminEntry.unit_id).in_(unit_ids))

    units = (await session.exec(units_q)).all()
    subs = (
        await session.exec(subs_q.order_by(col(Submission.submitted_at), col(Submission.id)))
    ).all()
    status_of = latest_statuses((await session.exec(events_q)).all(), known_at)  # type: ignore[arg-type]
    first_versions = (await session.exec(tasks_q.order_by(col(Task.id)))).all()
    # tasks as they stood: re-dated, cancelled and 不适用 ones by their latest revision
    tasks = [
        t for t in await current_tasks(session, first_versions, known_at) if t.status in SCORED
    ]
    tasks.sort(key=lambda t: (t.due, t.id or 0))
    entries = (await session.exec(entries_q.order_by(col(AdminEntry.at), col(AdminEntry.id)))).all()

    task_by_id = {t.id: t for t in tasks}
    task_by_id.update((t.id, t) for t in first_versions if t.id not in task_by_id)  # their refs
    missing = {row[6] for row in subs if row[6] is not None and row[6] not in task_by_id}
    if missing:  # a submission answering a task of another year
        for task in (await session.exec(select(Task).where(col(Task.id).in_(missing)))).all():
            task_by_id[task.id] = task

    subs_of: dict[int, list[FactSubmission]] = defaultdict(list)
    for sid, unit_id, target, submitted_at, period, kind, task_id, title in subs:
        subs_of[unit_id].append(
            FactSubmission(
                id=submission_ref(sid),
                target=target,
                submitted_at=submitted_at,
                period=period,
                status=status_of.get(sid, Status.SUBMITTED),
                kind=kind,
                task=task_ref(task_by_id[task_id]) if task_id is not None else None,
                title=title,
            )
        )

    entries_of: dict[int, list[AdminEntry]] = defaultdict(list)
    for e in entries:
        entries_of[e.unit_id].append(e)
    tasks_of: dict[int, list[FactTask]] = defaultdict(list)
    confirmations: dict[int, dict[int, list[AdminEntry]]] = {
        unit_id: _task_confirmations(rows, known_at) for unit_id, rows in entries_of.items()
    }
    for t in tasks:
        assert t.id is not None
        done = confirmations.get(t.unit_id, {}).get(t.id, [])
        tasks_of[t.unit_id].append(
            FactTask(
                id=task_ref(t),
                kind=t.kind,
                due=t.due,
                title=t.title,
                target=t.target,
                completed_at=task_completion(done, known_at),
            )
        )

    result: list[UnitFacts] = []
    for unit in units:
        assert unit.id is not None
        result.append(
            UnitFacts(
                unit,
                Facts(
                    unit=unit.name,
                    year=year,
                    submissions=tuple(subs_of.get(unit.id, ())),
                    tasks=tuple(tasks_of.get(unit.id, ())),
                    entries=tuple(_fact_entries(entries_of.get(unit.id, []), known_at)),
                ),
            )
        )
    return result


def _fact_entries(rows: list[AdminEntry], known_at: datetime | None) -> list[FactEntry]:
    """Score entries as the engine sees them: task confirmations (and their voids) are left out,
    they are the tasks' completion."""
    out: list[FactEntry] = []
    for e in rows:
        assert e.id is not None
        if e.task_id is not None:
            continue
        if known_at is not None and e.kind == EntryKind.VOID.value and e.at > known_at:
            continue
        out.append(
            FactEntry(
                id=entry_ref(e.id),
                kind=EntryKind(e.kind),
                rule=e.rule or "",
                at=e.at,
                value=e.value,
                key=e.key,
                actor=e.actor,
                reason=e.reason,
                voids=entry_ref(e.voids_id) if e.voids_id is not None else None,
            )
        )
    return out


async def unit_facts(
    db: Database, unit_name: str, year: int, *, known_at: datetime | None = None
) -> UnitFacts:
    """Facts of the unit named `unit_name` (LookupError if there is none)."""
    async with db.session() as session:
        unit = (await session.exec(select(Unit).where(Unit.name == unit_name))).first()
        if unit is None:
            raise LookupError(f"no unit named {unit_name!r}")
        assert unit.id is not None
        found = await build_all_facts(session, year, unit_ids=[unit.id], known_at=known_at)
    return found[0]
