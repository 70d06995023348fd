"""未报 over every obligation (政务信息 quota, feedback tasks, reports, 责任书 targets) per unit, for a
period (11月, 2025年12月, 十月, K47, 全部); 一键催报 (card button or typed) sends the reminder now to
exactly the units and items listed, deduplicated with the scheduled reminders' claims."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlmodel import col, select

from handlers.followup import parse_scope
from reminders.tick import run_tick
from storage import ledger
from storage.models import Outbox, ReminderSend
from storage.units import get_unit_by_name
from tests.chat_env import TZ, bench

TODAY = date(2026, 12, 2)  # a Wednesday


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=TZ).astimezone(UTC)


def test_scopes() -> None:
    assert parse_scope("", TODAY).month == (2026, 12)
    assert parse_scope("11月", TODAY).month == (2026, 11)
    assert parse_scope("11月", TODAY).label == "11月"
    s = parse_scope("2025年12月", TODAY)
    assert s.month == (2025, 12) and s.label == "2025年12月" and s.years == [2025]
    assert parse_scope("十月", TODAY).month == (2026, 10)
    assert parse_scope("十二月", TODAY).month == (2026, 12)
    assert parse_scope("2025年十一月", TODAY).month == (2025, 11)
    assert parse_scope("上月", TODAY).month == (2026, 11)
    assert parse_scope("上月", date(2027, 1, 5)).month == (2026, 12)
    assert parse_scope("k47", TODAY).code == "K47"
    assert parse_scope("全部", TODAY).month is None and parse_scope("全部", TODAY).code == ""
    assert parse_scope("火星", TODAY) is None


async def _seed(db) -> dict[str, int]:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        ids = {n: (await get_unit_by_name(s, n)).id for n in ("椒江区", "路桥区", "黄岩区环保局")}
        jj, lq = ids["椒江区"], ids["路桥区"]
        for unit in (jj, lq, ids["黄岩区环保局"]):  # January to October: done everywhere
            target = "T16" if unit == ids["黄岩区环保局"] else "C3b"
            for month in range(1, 11):
                for n in range(4):
                    await ledger.add_submission(
                        s,
                        unit_id=unit,
                        target=target,
                        period=f"2026-{month:02d}",
                        submitted_at=_at(date(2026, month, 10)),
                        title=f"信息{month}-{n}",
                    )
        for n in range(4):  # November: 路桥区 complete, 椒江区 1 of 4
            await ledger.add_submission(
                s,
                unit_id=lq,
                target="C3b",
                period="2026-11",
                submitted_at=_at(date(2026, 11, 10)),
                title=f"路桥11月{n}",
            )
        await ledger.add_submission(
            s,
            unit_id=jj,
            target="C3b",
            period="2026-11",
            submitted_at=_at(date(2026, 11, 10)),
            title="椒江11月",
        )
        for unit in (jj, lq):
            task = await ledger.add_task(
                s,
                unit_id=unit,
                kind="feedback",
                due=date(2026, 11, 20),
                actor="admin1",
                title="报送大气污染防治进展",
                code="K1",
            )
            if unit == lq:
                await ledger.add_submission(
                    s,
                    unit_id=lq,
                    target="C3a",
                    kind="feedback",
                    task_id=task.id,
                    submitted_at=_at(date(2026, 11, 18)),
                    title="K1反馈",
                )
        await ledger.add_task(
            s,
            unit_id=lq,
            kind="annual_target",
            due=date(2026, 11, 25),
            actor="admin1",
            title="建成区黑臭水体消除",
            target="W1a",
            code="A1",
        )
        await s.commit()
    return ids


async def _sends(db) -> list[tuple[str, int, str, str]]:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        rows = (await s.exec(select(ReminderSend).order_by(col(ReminderSend.id)))).all()
    return [(r.rule, r.unit_id, r.period, r.stage) for r in rows]


async def _cards_to(db, user: str) -> list[dict]:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        rows = (await s.exec(select(Outbox).order_by(col(Outbox.id)))).all()
    return [
        r.payload["card"]
        for r in rows
        if r.payload.get("type") == "card" and user in r.payload["to"]
    ]


async def test_missing_covers_every_obligation_per_period(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        await _seed(database)
        b.clock.set(2026, 12, 2)

        nov = await b.say("admin1", "未报 11月")
        assert "11月未报：3个单位" in nov and "（截至12月2日）" in nov
        jj = next(line for line in nov.splitlines() if line.startswith("· 椒江区"))
        assert "政务信息已报1/4篇，还差3篇（截止11月30日，已逾期2个工作日）" in jj
        assert "报送大气污染防治进展" in jj and "尚未报送（截止11月20日，已逾期8个工作日）" in jj
        lq = next(line for line in nov.splitlines() if line.startswith("· 路桥区"))
        assert "建成区黑臭水体消除" in lq and "尚未确认完成" in lq
        # names in 「」 as everywhere else in the bot, not “”
        assert "「建成区黑臭水体消除" in lq and "「报送大气污染防治进展」" in jj
        assert "“" not in nov and "”" not in nov
        assert "政务信息" not in lq and "大气" not in lq  # met its quota, answered K1
        hy = next(line for line in nov.splitlines() if line.startswith("· 黄岩区环保局"))
        assert "已报0/4篇" in hy
        assert "一键催报" in nov
        (card,) = await _cards_to(database, "admin1")
        assert card["buttons"][0]["text"] == "一键催报"
        assert card["buttons"][0]["key"].startswith("chase:")
        assert "椒江区、路桥区、黄岩区环保局" in card["description"]

        october = await b.say("admin1", "未报 十月")  # the period's month, or the due date's
        assert "10月未报：1个单位" in october and "黄岩区环保局" in october
        assert "第3季度排污申报数据上报尚未报送（截止10月15日" in october
        dec = await b.say("admin1", "未报")  # this month: the self-check report and summary
        assert "12月未报" in dec and "自查报告" in dec and "截止12月15日）" in dec
        assert "已逾期" not in dec
        last_year = await b.say("admin1", "未报 2025年12月")
        assert "2025年12月未报：3个单位" in last_year and "2025" in last_year
        k1 = await b.say("admin1", "未报 K1")
        assert "任务K1未报：1个单位、1项" in k1 and "椒江区" in k1 and "路桥区" not in k1
        assert "没有找到编号为K9的任务" in await b.say("admin1", "未报 K9")
        everything = await b.say("admin1", "未报 全部")
        assert "截至今天全部到期事项未报：3个单位" in everything and "自查报告" not in everything
        assert "没看懂「火星」" in await b.say("admin1", "未报 火星")
        assert "仅限市创模办管理员" in await b.say("zhangsan", "未报")
        assert await _sends(database) == []  # listing sends nothing


async def test_chase_sends_now_to_exactly_those_units_once(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        ids = await _seed(database)
        jj, lq, hy = ids["椒江区"], ids["路桥区"], ids["黄岩区环保局"]
        # the scheduled tick of 1 December (the first working day after 30 November) already
        # sent the overdue reminders of November's quota
        assert (await run_tick(database, _at(date(2026, 12, 1)))).claimed > 0
        before = set(await _sends(database))
        assert ("C3b.1", jj, "2026-11", "overdue") in before

        b.clock.set(2026, 12, 2)
        await b.say("admin1", "未报 K1")
        (card,) = await _cards_to(database, "admin1")
        reply = await b.click("admin1", card["buttons"][0]["key"], card["task_id"])
        assert "已向1个单位的联络员发送催报（1项）：椒江区" in reply
        new = [s for s in await _sends(database) if s not in before]
        assert new == [("C3a.1@K1", jj, "2026-11-20", "overdue")]  # stale for the scheduler
        (sent,) = [c for c in b.cards("zhangsan") if c["task_id"].startswith("chase-")]
        assert "报送大气污染防治进展" in sent["sub_title_text"]
        assert "已逾期8个工作日" in sent["sub_title_text"]
        # a task feedback is owed, not 政务信息: no 「立即报送」 (it starts a 政务信息 draft);
        # the card says how to send the feedback
        assert [b["key"] for b in sent["button_list"]] == ["progress"]
        assert "报送方式：任务反馈发送「反馈 K1 反馈内容」。" in sent["sub_title_text"]
        assert [c for c in b.cards("wangwu") if c["task_id"].startswith("chase-")] == []
        # a second click, and the words typed: nothing new
        again = await b.click("admin1", card["buttons"][0]["key"], card["task_id"])
        assert "没有发送新的催报" in again and "今天已提醒过、未重复发送1项（椒江区）" in again
        assert "没有发送新的催报" in await b.say("admin1", "一键催报")
        assert len([s for s in await _sends(database) if s not in before]) == 1

        # November: 椒江区's quota was reminded yesterday by the scheduler (chased again today
        # as a 催报), K1 today already (skipped); 路桥区's target and 黄岩区环保局's quota
        await b.say("admin1", "未报 11月")
        cards = await _cards_to(database, "admin1")
        assert "已过期" not in await b.click("admin1", cards[-1]["buttons"][0]["key"])
        stale = await b.click("admin1", cards[0]["buttons"][0]["key"])
        assert "已被更新的清单取代" in stale
        new = {s for s in await _sends(database) if s not in before}
        assert ("C3b.1", jj, "2026-11", "chase20261202") in new
        assert ("W1.1@A1", lq, "2026-11-25", "overdue") in new
        assert any(s[1] == hy and s[3] == "chase20261202" for s in new)
        # the scheduler later that day sends none of what was chased
        chased = {(r, u, p) for r, u, p, _ in new}
        so_far = set(await _sends(database))
        await run_tick(database, _at(date(2026, 12, 2), 11))
        by_tick = {(r, u, p) for r, u, p, _ in set(await _sends(database)) - so_far}
        assert not by_tick & chased

        # a unit that has reported meanwhile is not chased
        await b.say("admin1", "未报 K1")
        async with database.session() as s:
            task = next(v for v in await ledger.list_tasks(s, jj, 2026) if v.ref == "K1")
            await ledger.add_submission(
                s,
                unit_id=jj,
                target="C3a",
                kind="feedback",
                task_id=task.task.id,
                submitted_at=_at(date(2026, 12, 2), 11),
                title="K1反馈",
            )
            await s.commit()
        b.clock.set(2026, 12, 2, 11, 30)
        assert "已补报、无需催报：椒江区" in await b.say("admin1", "一键催报")
