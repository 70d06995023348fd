"""The year-end tally at growing sizes, in one database grown step by step.

Per size: `tally.load_tally` (facts + final grades + a score card per unit + ranks and open items;
its reads of facts and grades timed inside the call: facts_s, the rest: score_s), and writing the workbook and the chart
(tally.excel.write_workbook, tally.chart.draw_chart), which is what `year_tally` does.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from bench import seed
from bench.common import scratch_database

AS_OF = date(seed.YEAR, 12, 31)


@contextmanager
def _timed(module: Any, names: tuple[str, ...], spent: list[float]) -> Iterator[None]:
    """`module`'s coroutine functions `names`, timed (wall seconds added to `spent`) while inside."""
    saved = {name: getattr(module, name) for name in names}

    def timing(real: Any) -> Any:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return await real(*args, **kwargs)
            finally:
                spent.append(time.perf_counter() - t)

        return timed

    for name, real in saved.items():
        setattr(module, name, timing(real))
    try:
        yield
    finally:
        for name, real in saved.items():
            setattr(module, name, real)


async def _one(db: Any, units: int, out_dir: Path, files: bool = True) -> dict[str, Any]:
    from scoring.periods import end_of_day
    from storage.facts import build_all_facts
    from tally import load_tally
    from tally import service as tally_service
    from tally.chart import draw_chart
    from tally.excel import write_workbook

    # facts_s: the reads inside this very `load_tally` call (its facts and final grades), and
    # score_s the rest of it; reading them apart beforehand measured a colder database than the
    # call's own read, and the difference could come out negative
    reads: list[float] = []
    t1 = time.perf_counter()
    with _timed(tally_service, ("read_facts", "final_grades"), reads):
        tally = await load_tally(db, seed.YEAR, as_of=AS_OF)
    t2 = time.perf_counter()
    if files:
        png = draw_chart(tally, out_dir / f"tally-{units}.png")
        t3 = time.perf_counter()
        write_workbook(tally, out_dir / f"tally-{units}.xlsx", chart_png=png)
        t4 = time.perf_counter()
    else:
        t3 = t4 = t2
    async with db.session() as session:  # counted, not timed
        found = await build_all_facts(session, seed.YEAR, known_at=end_of_day(AS_OF))
    rows = sum(len(st.rows) for st in tally.schemes)
    assert len(found) == units and rows == units, (len(found), rows, units)
    subs = sum(len(uf.facts.submissions) for uf in found)
    facts_s, load_s, chart_s, xlsx_s = sum(reads), t2 - t1, t3 - t2, t4 - t3
    total = load_s + chart_s + xlsx_s
    return {
        "units": units,
        "submissions": subs,
        "files": files,
        "facts_s": round(facts_s, 3),
        "score_s": round(load_s - facts_s, 3),  # load_tally minus its own reads
        "load_tally_s": round(load_s, 3),
        "chart_s": round(chart_s, 3),
        "workbook_s": round(xlsx_s, 3),
        "total_s": round(total, 3),
        "ms_per_unit": round(total / units * 1000, 3),
        "us_per_submission": round(total / subs * 1e6, 1) if subs else 0.0,
        "load_ms_per_unit": round(load_s / units * 1000, 3),
    }


async def measure(
    kind: str = "sqlite", *, sizes: tuple[int, ...] = (100, 1000, 5000), files_up_to: int = 1000
) -> dict[str, Any]:
    """The workbook and the chart are written up to `files_up_to` units (beyond, they alone
    would take minutes: see docs/benchmarks.md)."""
    from storage.db import Database

    results: list[dict[str, Any]] = []
    async with scratch_database(kind) as url:
        db = Database(url)
        try:
            await db.upgrade()
            have = 0
            with tempfile.TemporaryDirectory(prefix="kaohe-bench-tally-") as folder:
                for size in sorted(sizes):
                    t = time.perf_counter()
                    await seed.seed_city(db, size - have, start=have + 1)
                    seed_s = time.perf_counter() - t
                    have = size
                    results.append(
                        {
                            **await _one(db, size, Path(folder), size <= files_up_to),
                            "seed_s": round(seed_s, 1),
                        }
                    )
        finally:
            await db.dispose()
    return {"database": kind, "sizes": results}


def run(kind: str = "sqlite", **kw: Any) -> dict[str, Any]:
    return asyncio.run(measure(kind, **kw))


if __name__ == "__main__":
    import json
    import sys

    sizes = tuple(int(a) for a in sys.argv[1:]) or (100, 1000, 5000)
    print(json.dumps(run(sizes=sizes), indent=2))
