"""A measured proposal for the tally's and the tick's hotspot: `storage.facts.build_all_facts`
loads every submission and review of the year as ORM objects (with the JSON attachments and the
text, which scoring never reads), and resolves each status through `Status(...)`.

`fast_build_all_facts` here is the same function with column selects for the two big tables
(submissions, submission events) and a dict for the status; tasks, entries and units are read as
before. `measure` checks that both give the same facts and times them side by side. It lives in
bench/ only to show the gain; the change belongs in storage/facts.py (see docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlmodel import col, select

from bench import seed
from bench.common import scratch_database
from scoring.facts import Facts, Status
from scoring.facts import Submission as FactSubmission
from scoring.facts import Task as FactTask
from storage.facts import UnitFacts, _fact_entries, build_all_facts
from storage.ledger import _task_confirmations, submission_ref, task_completion, task_ref
from storage.models import AdminEntry, Submission, SubmissionEvent, Task, Unit

_STATUS = {s.value: s for s in Status}


async def fast_build_all_facts(
    session: Any, year: int, *, known_at: datetime | None = None
) -> list[UnitFacts]:
    units = (await session.exec(select(Unit).order_by(col(Unit.name)))).all()
    subs = (
        await session.exec(
            select(
                Submission.id,
                Submission.unit_id,
                Submission.target,
                Submission.submitted_at,
                Submission.period,
                Submission.kind,
                Submission.task_id,
                Submission.title,
            )
            .where(Submission.year == year)
            .order_by(col(Submission.submitted_at), col(Submission.id))
        )
    ).all()
    latest: dict[int, tuple[datetime, int, str]] = {}
    events = await session.exec(
        select(
            SubmissionEvent.submission_id,
            SubmissionEvent.at,
            SubmissionEvent.id,
            SubmissionEvent.status,
        )
        .join(Submission, col(Submission.id) == col(SubmissionEvent.submission_id))
        .where(Submission.year == year)
    )
    for sid, at, eid, status in events.all():
        if known_at is not None and at > known_at:
            continue
        seen = latest.get(sid)
        if seen is None or (at, eid or 0) > (seen[0], seen[1]):
            latest[sid] = (at, eid or 0, status)
    tasks = (
        await session.exec(
            select(Task).where(Task.year == year).order_by(col(Task.due), col(Task.id))
        )
    ).all()
    entries = (
        await session.exec(
            select(AdminEntry)
            .where(AdminEntry.year == year)
            .order_by(col(AdminEntry.at), col(AdminEntry.id))
        )
    ).all()
    task_by_id = {t.id: t for t in tasks}
    missing = {s.task_id for s in subs if s.task_id is not None and s.task_id not in task_by_id}
    if missing:
        for task in (await session.exec(select(Task).where(col(Task.id).in_(missing)))).all():
            task_by_id[task.id] = task
    subs_of: dict[int, list[FactSubmission]] = defaultdict(list)
    submitted = Status.SUBMITTED
    for sid, unit_id, target, submitted_at, period, kind, task_id, title in subs:
        seen = latest.get(sid)
        subs_of[unit_id].append(
            FactSubmission(
                id=submission_ref(sid),
                target=target,
                submitted_at=submitted_at,
                period=period,
                status=_STATUS[seen[2]] if seen else submitted,
                kind=kind,
                task=task_ref(task_by_id[task_id]) if task_id is not None else None,
                title=title,
            )
        )
    entries_of: dict[int, list[AdminEntry]] = defaultdict(list)
    for e in entries:
        entries_of[e.unit_id].append(e)
    confirmations = {u: _task_confirmations(rows, known_at) for u, rows in entries_of.items()}
    tasks_of: dict[int, list[FactTask]] = defaultdict(list)
    for t in tasks:
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
    return [
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
        for unit in units
    ]


async def measure(kind: str = "sqlite", *, units: int = 1000, repeat: int = 2) -> dict[str, Any]:
    from storage.db import Database

    async with scratch_database(kind) as url:
        db = Database(url)
        try:
            await db.upgrade()
            await seed.seed_city(db, units)
            best: dict[str, float] = {}
            found: dict[str, list[UnitFacts]] = {}
            for _ in range(repeat):
                for name, fn in (("orm", build_all_facts), ("fast", fast_build_all_facts)):
                    async with db.session() as session:
                        t0 = time.perf_counter()
                        found[name] = await fn(session, seed.YEAR)
                        elapsed = time.perf_counter() - t0
                    best[name] = min(best.get(name, elapsed), elapsed)
        finally:
            await db.dispose()
    same = [uf.facts for uf in found["orm"]] == [uf.facts for uf in found["fast"]]
    return {
        "units": units,
        "orm_s": round(best["orm"], 3),
        "fast_s": round(best["fast"], 3),
        "speedup": round(best["orm"] / best["fast"], 2) if best["fast"] else 0.0,
        "same": same,
    }


def run(kind: str = "sqlite", **kw: Any) -> dict[str, Any]:
    return asyncio.run(measure(kind, **kw))


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
