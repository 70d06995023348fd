"""「我的得分」latency with a full year of data for N units: `ChatHandler.__call__` with an
InboundMessage, as the callback calls it (sender lookup, conversation state, facts from the ledger,
the score engine, the reply text). CPU per call counts every thread of the process (the
database thread's work included), so thread hops and driver work show.

Each unit is asked twice or more in the run: the first time its card is scored from the ledger,
the next times (nothing new in its ledger, the same day) the kept card is given after one small
statement (handlers/scoretext.py). Both are reported apart, and the mean of all calls."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bench import seed
from bench.common import percentile, scratch_database

TZ = ZoneInfo("Asia/Shanghai")
AS_OF = datetime(seed.YEAR, 12, 31, 10, 0, tzinfo=TZ)  # the year is complete


async def measure(
    kind: str = "sqlite", *, units: int = 200, calls: int = 400, warmup: int = 20
) -> dict[str, Any]:
    from handlers.app import make_handler
    from handlers.types import InboundMessage
    from storage.db import Database

    async with scratch_database(kind) as url:
        db = Database(url)
        try:
            await db.upgrade()
            rows, subs = await seed.seed_city(db, units)
            handler = make_handler(db=db, clock=lambda: AS_OF.astimezone(UTC))
            latencies: list[float] = []
            cpu = 0.0
            asked: set[str] = set()
            first: list[float] = []
            again: list[float] = []
            sample = ""
            for i in range(warmup + calls):
                msg = InboundMessage(
                    key=f"score-{i}",
                    sender=seed.liaison_id(i % units + 1),
                    msg_type="text",
                    created_at=AS_OF,
                    content="我的得分",
                )
                c0, t0 = time.process_time(), time.perf_counter()
                reply = await handler(msg)
                elapsed = (time.perf_counter() - t0) * 1000
                spent = time.process_time() - c0  # every thread: the database's too
                if i >= warmup:
                    latencies.append(elapsed)
                    cpu += spent
                    (again if msg.sender in asked else first).append(spent)
                asked.add(msg.sender)
                if not sample:
                    sample = getattr(reply, "text", "")
        finally:
            await db.dispose()
    return {
        "database": kind,
        "units": units,
        "ledger_rows": rows,
        "submissions_per_unit": round(subs / units, 1),
        "calls": calls,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "max_ms": round(max(latencies), 2) if latencies else 0.0,
        "cpu_ms_per_call": round(cpu / calls * 1000, 3),
        "first_calls": len(first),
        "cpu_ms_first": round(sum(first) / len(first) * 1000, 3) if first else 0.0,
        "cpu_ms_again": round(sum(again) / len(again) * 1000, 3) if again else 0.0,
        "reply_ok": "年度得分" in sample,
    }


def run(kind: str = "sqlite", **kw: Any) -> dict[str, Any]:
    return asyncio.run(measure(kind, **kw))


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "sqlite"), indent=2))
