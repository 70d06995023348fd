"""A city of N units, each with one liaison and a full year of ledger rows, for the benchmarks.

The year of one unit is first planned as plain data (`year_plan`, from a seeded RNG, shaped like
bot/demo.py: four 政务信息 a month with some missing, five feedback tasks and their answers,
annual targets and key projects, reviews of most submissions, the office's confirmations and
points). It is then written either

* through the ledger functions (`write_via_ledger`: storage.ledger.add_submission, add_task, ...,
  one flush per row, with audit rows), or
* in bulk (`write_bulk`: the same table rows with the same fields, inserted with executemany and
  explicit ids, without audit rows, which nothing scored reads) — the only way to seed 5,000 units
  in seconds rather than minutes.

tests/test_bench_smoke.py checks that both give the same score card.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text

from scoring.facts import EntryKind
from storage import ledger
from storage.db import Database
from storage.models import AdminEntry, Member, Submission, SubmissionEvent, Task, Unit
from storage.types import utcnow

TZ = ZoneInfo("Asia/Shanghai")
SCHEME = "chuangmo-taizhou"
YEAR = 2026
ADMIN = "bench-admin"
FEEDBACK_DUES = [(3, 20), (5, 10), (7, 15), (9, 20), (11, 25)]
ANNUAL_TARGETS = ["城市污水集中处理率达标", "空气质量优良天数比例达标", "建成区绿化覆盖率达40%"]
KEY_PROJECTS = ["污水处理厂提标改造工程", "河道综合整治工程"]


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(UTC)


def unit_name(n: int) -> str:
    return f"测试单位{n:05d}"


def liaison_id(n: int) -> str:
    return f"u{n:05d}"


@dataclass
class PlannedTask:
    code: str
    kind: str
    due: date
    title: str
    target: str | None = None
    completed_at: datetime | None = None


@dataclass
class PlannedSubmission:
    target: str
    submitted_at: datetime
    kind: str
    title: str
    text: str
    period: str | None = None
    task_code: str | None = None
    review: str | None = None  # accepted | rejected
    reviewed_at: datetime | None = None


@dataclass
class PlannedEntry:
    kind: EntryKind
    rule: str
    value: Decimal
    reason: str
    at: datetime


@dataclass
class UnitYear:
    tasks: list[PlannedTask] = field(default_factory=list)
    submissions: list[PlannedSubmission] = field(default_factory=list)
    entries: list[PlannedEntry] = field(default_factory=list)

    @property
    def rows(self) -> int:
        reviews = sum(1 for s in self.submissions if s.review)
        completions = sum(1 for t in self.tasks if t.completed_at)
        return len(self.tasks) + len(self.submissions) + len(self.entries) + reviews + completions


def year_plan(rng: random.Random, year: int, district: bool, name: str) -> UnitYear:
    """One unit's year, January to December, as data."""
    plan = UnitYear()
    diligence = rng.uniform(0.75, 1.0)

    def review(sub: PlannedSubmission) -> None:
        r = rng.random()
        if r < 0.8:
            sub.review = "accepted"
        elif r < 0.85:
            sub.review = "rejected"
        if sub.review:
            sub.reviewed_at = sub.submitted_at + timedelta(days=2)

    for month in range(1, 13):
        count = sum(rng.random() < diligence for _ in range(4))
        for i in range(count):
            sub = PlannedSubmission(
                target="C3b",
                submitted_at=at(date(year, month, 2 + i * 6)),
                kind="info",
                period=f"{year}-{month:02d}",
                title=f"{name}{month}月创模工作动态（{i + 1}）",
                text="本月开展了河道清理、扬尘整治和创模宣传活动。",
            )
            review(sub)
            plan.submissions.append(sub)
    for n, (month, day) in enumerate(FEEDBACK_DUES, 1):
        due = date(year, month, day)
        plan.tasks.append(PlannedTask(f"K{n}", "feedback", due, f"创模任务反馈第 {n} 期"))
        if rng.random() < 0.9:
            sent = due - timedelta(days=rng.choice([-3, -1, 0, 2]))
            sub = PlannedSubmission(
                target="C3a",
                submitted_at=at(sent),
                kind="feedback",
                title=f"K{n} 反馈",
                text="已按要求落实。",
                task_code=f"K{n}",
            )
            review(sub)
            plan.submissions.append(sub)
    for n, title in enumerate(ANNUAL_TARGETS, 1):
        done = at(date(year, 6, 30)) if rng.random() < 0.6 else None
        plan.tasks.append(
            PlannedTask(f"A{n}", "annual_target", date(year, 12, 31), title, "W1a", done)
        )
    if district:
        for n, title in enumerate(KEY_PROJECTS, 1):
            done = at(date(year, 12, 20)) if rng.random() < 0.5 else None
            plan.tasks.append(
                PlannedTask(f"P{n}", "key_project", date(year, 12, 31), title, "W2a", done)
            )
    for rule in ("C1a.1", "C1b.1", "C1c.1"):
        plan.entries.append(
            PlannedEntry(
                EntryKind.CONFIRMATION, rule, Decimal(1), "年初检查确认", at(date(year, 3, 1))
            )
        )
    plan.entries.append(
        PlannedEntry(
            EntryKind.POINTS,
            "C2.1",
            Decimal(rng.choice(["6", "6.5", "7", "7.5"])),
            "工作网络基本健全",
            at(date(year, 6, 30)),
        )
    )
    return plan


# --- units and people ----------------------------------------------------------------------------


async def _next_id(session: Any, model: Any) -> int:
    conn = await session.connection()
    return int((await conn.execute(select(func.max(model.id)))).scalar() or 0) + 1


async def register_units(db: Database, start: int, count: int) -> list[tuple[int, str, bool]]:
    """Units `start`..`start+count-1` with one liaison each; returns (unit id, name, district)."""
    now = utcnow()
    async with db.session() as s:
        unit_id = await _next_id(s, Unit)
        member_id = await _next_id(s, Member)
        units, members, out = [], [], []
        for i in range(count):
            n = start + i
            district = n % 3 == 0
            uid = unit_id + i
            units.append(
                {
                    "id": uid,
                    "name": unit_name(n),
                    "kind": "district" if district else "department",
                    "scheme_id": SCHEME,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            members.append(
                {
                    "id": member_id + i,
                    "userid": liaison_id(n),
                    "name": f"联络员{n}",
                    "unit_id": uid,
                    "role": "liaison",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            out.append((uid, unit_name(n), district))
        conn = await s.connection()
        await conn.execute(insert(Unit.__table__), units)  # type: ignore[attr-defined]
        await conn.execute(insert(Member.__table__), members)  # type: ignore[attr-defined]
        await s.commit()
    await fix_sequences(db)
    return out


async def add_admin(db: Database, userid: str = ADMIN) -> None:
    from storage.units import upsert_member

    async with db.session() as s:
        await upsert_member(s, userid, "创模办", "admin", None, actor="bench")
        await s.commit()


async def fix_sequences(db: Database) -> None:
    """After inserts with explicit ids, move PostgreSQL's id sequences past them."""
    if db.dialect != "postgresql":
        return
    async with db.session() as s:
        conn = await s.connection()
        for table in ("unit", "member", "task", "submission", "submission_event", "admin_entry"):
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
            )
        await s.commit()


# --- writing a year ------------------------------------------------------------------------------


async def write_via_ledger(db: Database, unit_id: int, userid: str, plan: UnitYear) -> None:
    """The plan through storage.ledger, as the bot writes it."""
    async with db.session() as s:
        task_ids: dict[str, int] = {}
        for t in plan.tasks:
            row = await ledger.add_task(
                s,
                unit_id=unit_id,
                kind=t.kind,
                due=t.due,
                actor=ADMIN,
                title=t.title,
                target=t.target,
                code=t.code,
            )
            assert row.id is not None
            task_ids[t.code] = row.id
            if t.completed_at is not None:
                await ledger.complete_task(
                    s, row.id, actor=ADMIN, reason="已验收", at=t.completed_at
                )
        for p in plan.submissions:
            sub = await ledger.add_submission(
                s,
                unit_id=unit_id,
                target=p.target,
                submitted_at=p.submitted_at,
                sender=userid,
                period=p.period,
                kind=p.kind,
                title=p.title,
                text=p.text,
                task_id=task_ids[p.task_code] if p.task_code else None,
            )
            assert sub.id is not None
            if p.review:
                await ledger.review_submission(
                    s, sub.id, accepted=p.review == "accepted", actor=ADMIN, at=p.reviewed_at
                )
        for e in plan.entries:
            await ledger.add_entry(
                s,
                unit_id=unit_id,
                year=YEAR,
                kind=e.kind,
                rule=e.rule,
                actor=ADMIN,
                value=e.value,
                reason=e.reason,
                at=e.at,
            )
        await s.commit()


async def write_bulk(db: Database, plans: list[tuple[int, str, UnitYear]]) -> int:
    """The plans of many units as table rows with explicit ids, a few executemany calls in one
    transaction. Returns the number of rows written."""
    now = utcnow()
    async with db.session() as s:
        task_id = await _next_id(s, Task)
        sub_id = await _next_id(s, Submission)
        event_id = await _next_id(s, SubmissionEvent)
        entry_id = await _next_id(s, AdminEntry)
        tasks: list[dict[str, Any]] = []
        subs: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        entries: list[dict[str, Any]] = []

        def entry(unit_id: int, kind: EntryKind, rule: str | None, value: Decimal, reason: str,
                  when: datetime, task: int | None = None) -> None:  # fmt: skip
            nonlocal entry_id
            entries.append(
                {
                    "id": entry_id,
                    "unit_id": unit_id,
                    "year": YEAR,
                    "kind": kind.value,
                    "rule": rule,
                    "value": value,
                    "key": None,
                    "task_id": task,
                    "voids_id": None,
                    "actor": ADMIN,
                    "reason": reason,
                    "at": when,
                    "created_at": now,
                }
            )
            entry_id += 1

        for unit_id, userid, plan in plans:
            codes: dict[str, int] = {}
            for t in plan.tasks:
                tasks.append(
                    {
                        "id": task_id,
                        "unit_id": unit_id,
                        "code": t.code,
                        "kind": t.kind,
                        "title": t.title,
                        "target": t.target,
                        "due": t.due,
                        "year": t.due.year,
                        "actor": ADMIN,
                        "created_at": now,
                    }
                )
                codes[t.code] = task_id
                if t.completed_at is not None:
                    entry(unit_id, EntryKind.CONFIRMATION, None, Decimal(1), "已验收",
                          t.completed_at, task_id)  # fmt: skip
                task_id += 1
            for p in plan.submissions:
                subs.append(
                    {
                        "id": sub_id,
                        "unit_id": unit_id,
                        "year": YEAR,
                        "target": p.target,
                        "period": p.period,
                        "kind": p.kind,
                        "title": p.title,
                        "text": p.text,
                        "attachments": [],
                        "submitted_at": p.submitted_at,
                        "sender": userid,
                        "task_id": codes[p.task_code] if p.task_code else None,
                        "source_key": None,
                        "created_at": now,
                    }
                )
                if p.review:
                    events.append(
                        {
                            "id": event_id,
                            "submission_id": sub_id,
                            "status": p.review,
                            "actor": ADMIN,
                            "reason": "",
                            "at": p.reviewed_at,
                        }
                    )
                    event_id += 1
                sub_id += 1
            for e in plan.entries:
                entry(unit_id, e.kind, e.rule, e.value, e.reason, e.at)
        for model, rows in (
            (Task, tasks),
            (Submission, subs),
            (SubmissionEvent, events),
            (AdminEntry, entries),
        ):
            if rows:
                conn = await s.connection()
                await conn.execute(insert(model.__table__), rows)  # type: ignore[attr-defined]
        await s.commit()
    await fix_sequences(db)
    return len(tasks) + len(subs) + len(events) + len(entries)


async def seed_city(
    db: Database, count: int, *, start: int = 1, seed: int = 2026, chunk: int = 500
) -> tuple[int, int]:
    """Register `count` more units (numbered from `start`) and write their year in bulk.
    Returns (rows written, submissions written)."""
    units = await register_units(db, start, count)
    rows = subs = 0
    for i in range(0, len(units), chunk):
        plans = []
        for uid, name, district in units[i : i + chunk]:
            n = int(name.removeprefix("测试单位"))
            plan = year_plan(random.Random(seed * 100_000 + n), YEAR, district, name)
            subs += len(plan.submissions)
            plans.append((uid, liaison_id(n), plan))
        rows += await write_bulk(db, plans)
    return rows, subs
