"""Escalation: an item overdue by N working days (KAOHE_ESCALATE_AFTER_WORKDAYS, default 3, China's
working days) also goes, once, to the unit's leaders; and the admins' daily digest shows every
unit as 红/黄/绿, the same lights as the dashboard's board (reminders/board.py)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlmodel import col, select

from bot.settings import Settings, reminder_policy
from reminders.board import light_of, owed
from reminders.calendar import WorkCalendar
from reminders.clock import FixedClock
from reminders.stages import StagePolicy
from reminders.tick import _task_id, is_claimed, plan, run_tick
from storage.db import Database
from storage.models import Outbox
from tests.reminder_kit import RecordingChannel, add_info, answer_task, at, new_task, seed, simulate

CAL = WorkCalendar()


def esc(unit_id: int, key: str, period: str) -> str:
    return _task_id("esc", unit_id, key, period)


async def _year(db: Database) -> dict[str, int]:
    ids = await seed(
        db,
        {
            "椒江区": [("zhang", "liaison"), ("boss", "leader")],
            "黄岩区": [("li", "liaison")],  # no leader registered
            "路桥区": [("wang", "liaison"), ("chief", "leader")],
        },
    )
    for unit in ids.values():
        for month in range(1, 11):
            await add_info(db, unit, f"2026-{month:02d}", at(date(2026, month, 5)), 4)
    await add_info(db, ids["椒江区"], "2026-11", at("2026-11-10"), 1)
    await add_info(db, ids["黄岩区"], "2026-11", at("2026-11-10"), 4)
    await add_info(db, ids["路桥区"], "2026-11", at("2026-11-10"), 2)
    await add_info(db, ids["路桥区"], "2026-11", at("2026-11-27"), 2)  # in time, late in the month
    for name in ("椒江区", "黄岩区"):
        await new_task(db, ids[name], "K2", date(2026, 11, 13), "报送大气污染防治进展")
    lq = await new_task(db, ids["路桥区"], "K2", date(2026, 11, 13), "报送大气污染防治进展")
    await answer_task(db, ids["路桥区"], lq, at("2026-11-12"))
    return ids


async def test_overdue_items_reach_the_leaders_once(database: Database) -> None:
    ids = await _year(database)
    jj, hy, lq = ids["椒江区"], ids["黄岩区"], ids["路桥区"]
    clock = FixedClock(at("2026-11-01", "00:00"))
    channel = RecordingChannel(clock)
    await simulate(
        database, channel, clock, date(2026, 11, 2), date(2026, 12, 11), admins=("admin1",)
    )
    escalations = [s for s in channel.cards() if s.card and s.card.task_id.startswith("esc")]
    counts = Counter(s.card.task_id for s in escalations if s.card)
    assert set(counts.values()) == {1}
    assert set(counts) == {esc(jj, "C3b.1", "2026-11"), esc(jj, "C3a.1@K2", "2026-11-13")}
    by_id = {s.card.task_id: s for s in escalations if s.card}
    quota = by_id[esc(jj, "C3b.1", "2026-11")]
    # due Monday 30 November; 3 working days later is Thursday 3 December
    assert quota.at.date() == date(2026, 12, 3) and quota.users == ("boss",)
    assert "督办：椒江区" in quota.card.title  # type: ignore[union-attr]
    assert "已逾期3个工作日" in quota.card.description  # type: ignore[union-attr]
    task = by_id[esc(jj, "C3a.1@K2", "2026-11-13")]
    assert task.at.date() == date(2026, 11, 18) and task.users == ("boss",)  # Fri 13 → Wed 18
    # liaisons never get the 督办 card; 路桥区 owed nothing; 黄岩区 has no leader to tell
    assert not [s for s in escalations if {"zhang", "li", "wang", "chief"} & set(s.users)]
    assert not [s for s in escalations if s.card and str(hy) in s.card.task_id.split("-")[1:2]]
    result = await plan(database, at("2026-11-18", "10:00"))
    assert any("黄岩区" in note and "没有登记领导" in note for note in result.notes)
    (again,) = [i for i in result.items if i.stage == "escalate"]
    assert await is_claimed(database, again)  # sent that morning: never again
    del lq


async def test_escalation_setting(database: Database) -> None:
    assert reminder_policy(Settings()).escalate_after == 3
    five = reminder_policy(Settings(KAOHE_ESCALATE_AFTER_WORKDAYS=5))  # type: ignore[call-arg]
    assert five.escalate_after == 5
    ids = await _year(database)
    moment = at("2026-12-03", "10:00")
    default = await plan(database, moment)
    assert [i.period for i in default.items if i.stage == "escalate"] == ["2026-11"]
    later = await plan(database, moment, policy=five)
    assert not [i for i in later.items if i.stage == "escalate"]
    on_fifth = await plan(database, at("2026-12-07", "10:00"), policy=five)
    assert [i.unit_id for i in on_fifth.items if i.stage == "escalate"] == [ids["椒江区"]]
    off = await plan(database, moment, policy=StagePolicy(escalate_after=0))
    assert not [i for i in off.items if i.stage == "escalate"]


async def _daily(db: Database, moment) -> str:  # type: ignore[no-untyped-def]
    """Tick at `moment` and return the daily digest it queued for admin1."""
    await run_tick(db, moment, admins=("admin1",))
    async with db.session() as s:
        rows = (await s.exec(select(Outbox).order_by(col(Outbox.id).desc()))).all()
    return next(
        r.payload["markdown"]
        for r in rows
        if r.payload.get("type") == "markdown" and "逾期未报汇总" in r.payload["markdown"]
    )


async def test_daily_digest_shows_every_unit_light_like_the_board(database: Database) -> None:
    await _year(database)
    moment = at("2026-11-26", "10:00")  # K2 overdue for 椒江区 and 黄岩区; 路桥区 2/4, due Monday
    markdown = await _daily(database, moment)
    lights = [light_of(u, moment.date(), CAL) for u in await owed(database, moment, CAL)]
    assert {u.unit: u.light.value for u in lights} == {
        "椒江区": "红",
        "黄岩区": "红",
        "路桥区": "黄",
    }
    assert markdown.startswith("### 逾期未报汇总")
    assert "红灯2个，黄灯1个，绿灯0个" in markdown
    assert "【红】**椒江区**：逾期1项：任务反馈" in markdown
    assert "【红】**黄岩区**" in markdown and "【黄】**路桥区**：即将到期1项" in markdown
    assert markdown.index("椒江区") < markdown.index("路桥区")  # red before yellow
    # a week later 路桥区 has nothing due soon: green, named in the green line
    assert "【绿】路桥区" in await _daily(database, at("2026-12-02", "11:00"))
