"""The reminder tick reads only the submissions of the periods it can act on today
(`tick_window`): its plan is the same as with the whole year read, on every kind of day (before
and after deadlines, the first working day of a month, January with last year's deadlines)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import reminders.tick as tick
from bench import seed
from storage.db import Database

TZ = ZoneInfo("Asia/Shanghai")


def _days() -> list[date]:
    days = [date(seed.YEAR, m, d) for m in range(1, 13) for d in (1, 2, 3, 5, 8, 13, 20, 27)]
    days += [date(seed.YEAR + 1, 1, d) for d in (4, 5, 6, 15)]
    return days


async def test_windowed_tick_plans_what_the_whole_year_plans(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed.seed_city(database, 12)
    await seed.add_admin(database)
    compared = 0
    for day in _days():
        now = datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=10)
        windowed = await tick.plan(database, now)
        with monkeypatch.context() as m:
            m.setattr(tick, "tick_window", lambda _today, _policy: (date.min, date.max))
            whole = await tick.plan(database, now)
        assert [(p.claim, p.payload) for p in windowed.items] == [
            (p.claim, p.payload) for p in whole.items
        ], day
        assert windowed.notes == whole.notes
        compared += len(whole.items)
    assert compared > 100  # reminders and digests were planned on many of these days


async def test_window_follows_revised_due_dates_and_voided_confirmations(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tick reads only the tasks due in its window: a task moved into it (its first due date
    outside) is reminded, one moved out of it is not, and a confirmation voided (or a void
    voided) counts as the whole year's read says."""
    from sqlmodel import select

    from storage.ledger import add_task, complete_task, void_entry
    from storage.models import Unit
    from storage.tasks import revise_task

    await seed.seed_city(database, 3)
    await seed.add_admin(database)
    year = seed.YEAR
    async with database.session() as s:
        units = (await s.exec(select(Unit).order_by(Unit.id))).all()
        ids = [u.id for u in units]
        assert None not in ids
        moved_in = await add_task(
            s, unit_id=ids[0], kind="feedback", due=date(year, 3, 20), actor="t", code="MI1"
        )
        moved_out = await add_task(
            s, unit_id=ids[1], kind="feedback", due=date(year, 11, 24), actor="t", code="MO1"
        )
        voided = await add_task(
            s, unit_id=ids[2], kind="key_project", due=date(year, 11, 24), actor="t", code="VO1"
        )
        revived = await add_task(
            s, unit_id=ids[2], kind="key_project", due=date(year, 11, 24), actor="t", code="VO2"
        )
        at = datetime(year, 11, 2, 9, tzinfo=TZ)
        for task, due in ((moved_in, date(year, 11, 24)), (moved_out, date(year, 3, 20))):
            assert task.id is not None
            await revise_task(s, task.id, actor="t", reason="改期", due=due, at=at)
        assert voided.id is not None and revived.id is not None
        done = await complete_task(s, voided.id, actor="t", at=at)
        assert done.id is not None
        await void_entry(s, done.id, actor="t", reason="误登", at=at)
        done2 = await complete_task(s, revived.id, actor="t", at=at)
        assert done2.id is not None
        undo = await void_entry(s, done2.id, actor="t", reason="误登", at=at)
        assert undo.id is not None
        await void_entry(s, undo.id, actor="t", reason="撤销作废", at=at)
        await s.commit()

    for day in (date(year, 11, 20), date(year, 11, 24), date(year, 11, 25), date(year, 11, 27)):
        now = datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=10)
        windowed = await tick.plan(database, now)
        with monkeypatch.context() as m:
            m.setattr(tick, "tick_window", lambda _today, _policy: (date.min, date.max))
            whole = await tick.plan(database, now)
        assert [(p.claim, p.payload) for p in windowed.items] == [
            (p.claim, p.payload) for p in whole.items
        ], day
        if day == date(year, 11, 20):
            keys = {p.rule.rpartition("@")[2] for p in windowed.items}
            assert "MI1" in keys  # moved into the window: reminded
            assert "VO1" in keys  # its confirmation voided: still owed
            assert "MO1" not in keys and "VO2" not in keys  # moved out; confirmed again
