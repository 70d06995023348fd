"""Facts written into the ledger through its own functions, for tests that compare the ledger's
facts (and what is built on them) with the facts they started from."""

from __future__ import annotations

from dataclasses import replace

from scoring import EntryKind, Facts, Status
from storage.db import Database
from storage.ledger import (
    add_entry,
    add_submission,
    add_task,
    complete_task,
    review_submission,
    void_entry,
    withdraw_submission,
)
from storage.models import Unit


async def write_facts(
    db: Database, facts: Facts, *, scheme_id: str, name: str | None = None, kind: str = "district"
) -> tuple[int, Facts]:
    """Write one unit (named `name`, default the facts' unit) and its facts as ledger rows.
    Returns the unit's id and the same facts with the ids the ledger gave them."""
    async with db.session() as s:
        unit = Unit(name=name or facts.unit, kind=kind, scheme_id=scheme_id)
        s.add(unit)
        await s.flush()
        assert unit.id is not None
        task_ids: dict[str, int] = {}
        for t in facts.tasks:
            row = await add_task(
                s,
                unit_id=unit.id,
                kind=t.kind,
                due=t.due,
                title=t.title,
                target=t.target,
                code=t.id,
                actor="cmb",
                year=facts.year,
            )
            assert row.id is not None
            task_ids[t.id] = row.id
            if t.completed_at is not None:
                await complete_task(s, row.id, actor="cmb", at=t.completed_at)
        subs = []
        for sub in facts.submissions:
            row = await add_submission(
                s,
                unit_id=unit.id,
                year=facts.year,
                target=sub.target,
                submitted_at=sub.submitted_at,
                period=sub.period,
                kind=sub.kind,
                title=sub.title,
                task_id=task_ids[sub.task] if sub.task else None,
                sender="liaison",
            )
            assert row.id is not None
            if sub.status == Status.WITHDRAWN:
                await withdraw_submission(s, row.id, actor="liaison", at=sub.submitted_at)
            elif sub.status != Status.SUBMITTED:
                await review_submission(
                    s,
                    row.id,
                    accepted=sub.status == Status.ACCEPTED,
                    actor="cmb",
                    at=sub.submitted_at,  # the file knows no review time: as of submission
                )
            subs.append(replace(sub, id=f"S{row.id}"))
        entry_ids: dict[str, int] = {}
        entries = []
        for e in facts.entries:
            if e.kind == EntryKind.VOID:
                assert e.voids is not None
                row = await void_entry(
                    s, entry_ids[e.voids], actor=e.actor or "cmb", reason=e.reason, at=e.at
                )
            else:
                row = await add_entry(
                    s,
                    unit_id=unit.id,
                    year=facts.year,
                    kind=e.kind,
                    rule=e.rule,
                    value=e.value,
                    key=e.key,
                    actor=e.actor,
                    reason=e.reason,
                    at=e.at,
                )
            assert row.id is not None
            entry_ids[e.id] = row.id
            entries.append(
                replace(
                    e,
                    id=f"E{row.id}",
                    voids=f"E{entry_ids[e.voids]}" if e.voids else None,
                    rule=row.rule or "",
                )
            )
        await s.commit()
        return unit.id, replace(facts, submissions=tuple(subs), entries=tuple(entries))
