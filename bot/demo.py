"""A demo city: a few districts and departments, their liaisons, an admin, and a year of history.

`kaohe serve --demo` and `kaohe chat --demo` use it so a newcomer can try everything at once. The
history is generated from a fixed seed through the same ledger functions the bot uses, up to
"now", so scores, progress and reminders look like a real year in progress.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import select

from scoring.facts import SubmissionKind, TaskKind
from storage import ledger
from storage.db import Database
from storage.models import Role, Unit
from storage.units import upsert_member, upsert_unit

TZ = ZoneInfo("Asia/Shanghai")
SCHEME = "chuangmo-taizhou"

UNITS = [
    ("椒江区", "district", [("zhangsan", "张三")]),
    ("黄岩区", "district", [("lisi", "李四")]),
    ("路桥区", "district", [("wangwu", "王五")]),
    ("市生态环境局", "department", [("zhaoliu", "赵六")]),
    ("市住房和城乡建设局", "department", [("sunqi", "孙七")]),
]
# each district's 分管领导 (role leader): they rate the city departments in the 测评 (第八条)
LEADERS = [
    ("椒江区", "chenjun", "陈军"),
    ("黄岩区", "linfang", "林芳"),
    ("路桥区", "wuqiang", "吴强"),
]
ADMIN = ("admin", "创模办 周主任")
ANNUAL_TARGETS = ["城市污水集中处理率达标", "空气质量优良天数比例达标", "建成区绿化覆盖率达40%"]
KEY_PROJECTS = ["污水处理厂提标改造工程", "河道综合整治工程"]


def _at_hour(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(UTC)


async def seeded(db: Database) -> bool:
    async with db.session() as session:
        return (await session.exec(select(Unit))).first() is not None


async def seed_demo(db: Database, now: datetime, *, seed: int = 2026) -> None:
    """Create the demo city and its history from 1 January of `now`'s year up to `now`."""
    rng = random.Random(seed)
    today = now.astimezone(TZ).date()
    year = today.year
    async with db.session() as s:
        await upsert_member(s, ADMIN[0], ADMIN[1], Role.ADMIN, None, actor="demo")
        units: list[Unit] = []
        for name, kind, people in UNITS:
            unit, _ = await upsert_unit(s, name, kind, SCHEME, actor="demo")
            units.append(unit)
            for userid, person in people:
                await upsert_member(s, userid, person, Role.LIAISON, unit.id, actor="demo")
            for unit_name, userid, person in LEADERS:
                if unit_name == name:
                    await upsert_member(s, userid, person, Role.LEADER, unit.id, actor="demo")
        for unit in units:
            await _history(s, unit, people_of(unit.name), year, today, rng, now)
        await s.commit()


def people_of(unit_name: str) -> str:
    return next(people[0][0] for name, _, people in UNITS if name == unit_name)


async def _history(
    s, unit: Unit, liaison: str, year: int, today: date, rng: random.Random, now: datetime
) -> None:  # type: ignore[no-untyped-def]
    """The unit's year so far; nothing dated after `now` (at 01:00 on the 1st, today's items
    at 10:00 would lie in the future)."""
    assert unit.id is not None

    def _at(day: date, hour: int = 10) -> datetime:
        return min(_at_hour(day, hour), now.astimezone(UTC))

    diligence = rng.uniform(0.7, 1.0)
    for month in range(1, today.month + 1):
        last_day = today.day if month == today.month else 28
        count = sum(rng.random() < diligence for _ in range(4))
        for i in range(count):
            day = date(year, month, min(last_day, 2 + i * 6))
            if day > today:
                break
            await ledger.add_submission(
                s,
                unit_id=unit.id,
                target="C3b",
                submitted_at=_at(day),
                sender=liaison,
                period=f"{year}-{month:02d}",
                title=f"{unit.name}{month}月创模工作动态（{i + 1}）",
                text="本月开展了河道清理、扬尘整治和创模宣传活动。",
            )
    for n, (month, day) in enumerate([(3, 20), (5, 10), (7, 15), (9, 20), (11, 25)], 1):
        due = date(year, month, day)
        task = await ledger.add_task(
            s,
            unit_id=unit.id,
            kind=TaskKind.FEEDBACK,
            due=due,
            actor=ADMIN[0],
            title=f"创模任务反馈第{n}期",
            code=f"K{n}",
        )
        sent = due - timedelta(days=rng.choice([-3, -1, 0, 2])) if due <= today else None
        if sent is not None and rng.random() < 0.9:
            await ledger.add_submission(
                s,
                unit_id=unit.id,
                target="C3a",
                submitted_at=_at(sent if sent <= today else today),
                sender=liaison,
                kind=SubmissionKind.FEEDBACK,
                task_id=task.id,
                title=f"K{n}反馈",
                text="已按要求落实。",
            )
    for n, title in enumerate(ANNUAL_TARGETS, 1):
        task = await ledger.add_task(
            s,
            unit_id=unit.id,
            kind=TaskKind.ANNUAL_TARGET,
            due=date(year, 12, 31),
            actor=ADMIN[0],
            title=title,
            target="W1a",
            code=f"A{n}",
        )
        if rng.random() < 0.6:
            await ledger.complete_task(
                s, task.id or 0, actor=ADMIN[0], reason="已验收", at=_at(date(year, 6, 30))
            )
    if unit.kind == "district":
        for n, title in enumerate(KEY_PROJECTS, 1):
            await ledger.add_task(
                s,
                unit_id=unit.id,
                kind=TaskKind.KEY_PROJECT,
                due=date(year, 12, 31),
                actor=ADMIN[0],
                title=title,
                target="W2a",
                code=f"P{n}",
            )
    for rule in ("C1a.1", "C1b.1", "C1c.1"):
        await ledger.add_entry(
            s,
            unit_id=unit.id,
            year=year,
            kind="confirmation",
            rule=rule,
            actor=ADMIN[0],
            value=1,
            reason="年初检查确认",
            at=_at(date(year, 3, 1)),
        )
    await ledger.add_entry(
        s,
        unit_id=unit.id,
        year=year,
        kind="points",
        rule="C2.1",
        actor=ADMIN[0],
        value=Decimal(rng.choice(["6", "6.5", "7", "7.5"])),
        reason="工作网络基本健全",
        at=_at(date(year, 6, 30)),
    )
