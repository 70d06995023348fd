"""Seed a ledger for the tally tests: several units under both built-in schemes, year 2026, from the
realistic facts files in tests/data (the 2007 EPB year moved to 2026), written through the
storage.ledger functions exactly as the bot writes them."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from scoring import AdminEntry, EntryKind, Facts, Status, load_facts_file
from storage.db import Database
from storage.grades import set_final_grade
from tests.ledger_writer import write_facts

DATA = Path(__file__).parent / "data"
YEAR = 2026
AS_OF = date(2027, 1, 20)  # everything of 2026 due, also the EPB annual reports (+15d)
RUNNING = date(2026, 11, 23)  # a running tally: many periods pending


def _shift(moment, years: int):  # type: ignore[no-untyped-def]
    return None if moment is None else moment.replace(year=moment.year + years)


def shift_year(facts: Facts, year: int) -> Facts:
    """The same facts one or more whole years later (periods, times, due dates)."""
    n = year - facts.year

    def period(p: str | None) -> str | None:
        return None if p is None else str(int(p[:4]) + n) + p[4:]

    return replace(
        facts,
        year=year,
        submissions=tuple(
            replace(s, submitted_at=_shift(s.submitted_at, n), period=period(s.period))
            for s in facts.submissions
        ),
        tasks=tuple(
            replace(t, due=_shift(t.due, n), completed_at=_shift(t.completed_at, n))
            for t in facts.tasks
        ),
        entries=tuple(replace(e, at=_shift(e.at, n)) for e in facts.entries),
    )


def unit_facts() -> dict[str, tuple[str, str, Facts]]:
    """unit name → (kind, scheme id, facts of 2026)."""
    cm = load_facts_file(DATA / "facts-chuangmo-jiaojiang-2026.yaml")
    epb = shift_year(load_facts_file(DATA / "facts-epb-luqiao-2007.yaml"), YEAR)
    no_c2 = tuple(e for e in cm.entries if e.rule != "C2.1")  # 网络建设 not yet scored
    all_done = tuple(
        replace(t, completed_at=datetime.fromisoformat("2026-12-30T10:00:00+08:00"))
        if t.id == "A4"
        else t
        for t in cm.tasks
    )
    extra = (
        *cm.entries,
        AdminEntry(
            id="EX1",
            kind=EntryKind.POINTS,
            rule="C2.1",
            value=Decimal("8"),
            at=datetime.fromisoformat("2026-12-30T10:00:00+08:00"),
            actor="cmb-li",
            reason="网络建设全覆盖",
        ),
    )
    unreviewed = tuple(
        replace(s, status=Status.SUBMITTED) if s.target == "T16" and s.period == "2026-12" else s
        for s in epb.submissions
    )
    short = tuple(s for s in epb.submissions if s.period not in ("2026-03", "2026-04"))
    return {
        "椒江区": ("district", "chuangmo-taizhou", cm),
        "黄岩区": ("district", "chuangmo-taizhou", replace(cm, unit="黄岩区")),  # a tie
        "路桥区": ("district", "chuangmo-taizhou", replace(cm, unit="路桥区", entries=no_c2)),
        "临海市": (
            "district",
            "chuangmo-taizhou",
            replace(cm, unit="临海市", tasks=all_done, entries=extra),
        ),
        "市住建局": ("department", "chuangmo-taizhou", Facts(unit="市住建局", year=YEAR)),
        "路桥区环保局": ("district", "epb-district-2007", epb),
        "椒江区环保局": (
            "district",
            "epb-district-2007",
            replace(epb, unit="椒江区环保局", submissions=unreviewed),
        ),
        "黄岩区环保局": (
            "district",
            "epb-district-2007",
            replace(epb, unit="黄岩区环保局", submissions=short),
        ),
    }


async def seed(db: Database) -> dict[str, int]:
    """All units of `unit_facts()` into `db`, and one confirmed final grade (临海市 优秀, then
    changed to 良好: the latest wins). Unit name → id."""
    ids = {}
    for name, (kind, scheme_id, facts) in unit_facts().items():
        ids[name], _ = await write_facts(db, facts, scheme_id=scheme_id, name=name, kind=kind)
    async with db.session() as s:
        await set_final_grade(
            s,
            unit_id=ids["临海市"],
            year=YEAR,
            grade="优秀",
            actor="cmb-wang",
            reason="同意建议等次",
            at=datetime.fromisoformat("2027-01-16T09:00:00+08:00"),
        )
        await set_final_grade(
            s,
            unit_id=ids["临海市"],
            year=YEAR,
            grade="良好",
            actor="cmb-li",
            reason="复核：重点工程资料不全，调整为良好",
            at=datetime.fromisoformat("2027-01-17T09:00:00+08:00"),
        )
        await s.commit()
    return ids


def seed_file(path: Path, template: Path) -> dict[str, int]:
    """A seeded SQLite file at `path` (copied from the migrated template), from sync code."""
    import shutil

    shutil.copyfile(template, path)

    async def run() -> dict[str, int]:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            return await seed(db)
        finally:
            await db.dispose()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()
