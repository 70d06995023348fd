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
