"""One reminder tick for N units, in plan (dry-run) mode: `reminders.tick.plan(db, now)` works out
every due reminder and digest and writes nothing (what `kaohe remind --dry-run` shows)."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bench import seed
from bench.common import percentile, scratch_database

TZ = ZoneInfo("Asia/Shanghai")
# A Friday morning in November (a work day, in office hours): a year mostly behind, the
# November deadlines ahead, a few October ones missed.
NOW = datetime(seed.YEAR, 11, 20, 10, 0, tzinfo=TZ)


async def measure(kind: str = "sqlite", *, units: int = 1000, ticks: int = 3) -> dict[str, Any]:
    try:
        from reminders.tick import plan
    except ImportError as exc:  # reminders/ not there yet
        return {"measured": False, "reason": f"reminders.tick not importable: {exc}"}
    from storage.db import Database

    async with scratch_database(kind) as url:
        db = Database(url)
        try:
            await db.upgrade()
            await seed.seed_city(db, units)
            await seed.add_admin(db)
            times: list[float] = []
            items = 0
            for _ in range(
                ticks + 1
            ):  # the first tick loads schemes and the calendar: reported apart
                t0 = time.perf_counter()
                result = await plan(db, NOW)
                times.append(time.perf_counter() - t0)
                items = len(result.items)
        finally:
            await db.dispose()
    later = times[1:]
    return {
        "measured": True,
        "database": kind,
        "units": units,
        "now": NOW.isoformat(),
        "planned_sends": items,
        "first_s": round(times[0], 3),
        "tick_s": round(percentile(later, 50), 3) if later else round(times[0], 3),
        "ms_per_unit": round((percentile(later, 50) if later else times[0]) / units * 1000, 3),
    }


def run(kind: str = "sqlite", **kw: Any) -> dict[str, Any]:
    return asyncio.run(measure(kind, **kw))


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
