"""A whole November, a whole December and the National Day week, with a controllable clock: the
right people get the right reminders at the right stages, nobody who is done is reminded, nothing
goes out on a day off or outside office hours, and every reminder goes out once."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from reminders.calendar import WorkCalendar
from reminders.clock import FixedClock
from reminders.tick import _task_id
from storage.db import Database
from tests.reminder_kit import (
    BUTTON_KEYS,
    RecordingChannel,
    add_info,
    answer_task,
    at,
    new_task,
    rid,
    seed,
    simulate,
)

CAL = WorkCalendar()


def _check_common(channel: RecordingChannel) -> None:
    for sent in channel.sent:
        local = sent.at
        assert CAL.is_workday(local.date()), f"sent on a day off: {sent}"
        assert (8, 30) <= (local.hour, local.minute) < (17, 30), f"outside office hours: {sent}"
    ids = channel.card_ids()
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    for sent in channel.cards():
        assert sent.card is not None
        keys = tuple(b.key for b in sent.card.buttons)
        # a leader's 督办 card only shows the progress (leaders do not report); 「立即报送」
        # starts a 政务信息 draft: only on a card asking for 政务信息 (「已报3/4篇」); any other
        # card says in words how to send what it asks for (「反馈 K1 反馈内容」)
        if sent.card.task_id.startswith("esc"):
            assert keys == ("progress",)
        elif "篇" in sent.card.description:
            assert keys == BUTTON_KEYS
        else:
            assert keys == ("progress",), sent.card
            assert re.search(r"报送方式：\S+发送「", sent.card.description), sent.card


async def test_a_whole_november(database: Database) -> None:
    db = database
    u = await seed(
        db,
        {
            "椒江区": [("zhang", "liaison"), ("zleader", "leader")],
            "黄岩区": [("li", "liaison")],
            "路桥区": [("wang", "liaison"), ("wang2", "liaison")],
        },
    )
    j, h, lq = u["椒江区"], u["黄岩区"], u["路桥区"]
    await add_info(db, h, "2026-10", at("2026-10-15"), 4)  # 黄岩区 met October, the others not
    await add_info(db, j, "2026-11", at("2026-11-05"), 3)  # 3 of 4 all month
    await add_info(db, h, "2026-11", at("2026-11-10"), 4)  # done early
    await add_info(db, lq, "2026-11", at("2026-11-26"), 2)  # 路桥区: 2 on the 26th ...
    await add_info(db, lq, "2026-11", at("2026-11-30", "10:00"), 2)  # ... 2 more on the last day
    k1 = await new_task(db, j, "K1", date(2026, 11, 20), "报送大气污染防治进展")
    await answer_task(db, j, k1, at("2026-11-18", "10:30"))
    await new_task(db, h, "K2", date(2026, 11, 13), "报送河道清理情况")  # never answered

    clock = FixedClock(at("2026-11-01", "00:00"))
    channel = RecordingChannel(clock)
    await simulate(db, channel, clock, date(2026, 11, 1), date(2026, 11, 30), admins=["boss"])

    expected = {
        rid(j, "C3b.1", "2026-10", "overdue"),
        rid(lq, "C3b.1", "2026-10", "overdue"),
        *(rid(j, "C3b.1", "2026-11", s) for s in ("before3", "before1", "dayof")),
        *(rid(lq, "C3b.1", "2026-11", s) for s in ("before3", "before1", "dayof")),
        rid(j, "C3a.1@K1", "2026-11-20", "before3"),
        *(rid(h, "C3a.1@K2", "2026-11-13", s) for s in ("before3", "before1", "dayof", "overdue")),
        # October's quota, 3 working days overdue on 4 November, to 椒江区's leader (黄岩区 owes
        # K2 but has no leader registered)
        _task_id("esc", j, "C3b.1", "2026-10"),
    }
    assert set(channel.card_ids()) == expected
    _check_common(channel)

    by_id = {s.card.task_id: s for s in channel.cards() if s.card}
    first = by_id[rid(j, "C3b.1", "2026-11", "before3")]
    assert first.users == ("zhang",)  # the liaison, not the leader
    assert first.at == at("2026-11-25", "09:00")
    assert "11月政务信息已报3/4篇，还差1篇，截止11月30日（周一）" in first.card.description  # type: ignore[union-attr]
    assert "距截止还有3个工作日" in first.card.description  # type: ignore[union-attr]
    lq_before1 = by_id[rid(lq, "C3b.1", "2026-11", "before1")]
    assert lq_before1.users == ("wang", "wang2") and lq_before1.at.date() == date(2026, 11, 27)
    assert "已报2/4篇，还差2篇" in lq_before1.card.description  # type: ignore[union-attr]
    assert by_id[rid(h, "C3a.1@K2", "2026-11-13", "overdue")].at.date() == date(2026, 11, 16)
    assert by_id[rid(j, "C3b.1", "2026-10", "overdue")].at.date() == date(2026, 11, 2)
    # 黄岩区 met its quota: its liaison only ever hears about the unanswered task
    assert all("K2" in s.card.task_id for s in channel.cards() if "li" in s.users)  # type: ignore[union-attr]

    # admins: a daily digest on every working day with something missed, a monthly summary on
    # the first working day (2 November), each to each admin once
    workdays = [d for d in range(1, 31) if CAL.is_workday(date(2026, 11, d))]
    daily = channel.digests("逾期未报汇总")
    assert len(daily) == 2 * len(workdays) == 42
    assert {s.users for s in daily} == {("admin1",), ("boss",)}
    monthly = channel.digests("报送情况汇总")
    assert len(monthly) == 2 and {s.at.date() for s in monthly} == {date(2026, 11, 2)}
    assert "10月政务信息已报0/4篇" in monthly[0].markdown
    assert "3个单位中，1个已全部按要求报送" in monthly[0].markdown


async def test_a_whole_december(database: Database) -> None:
    db = database
    u = await seed(db, {"椒江区": [("zhang", "liaison")], "黄岩区": [("li", "liaison")]})
    j, h = u["椒江区"], u["黄岩区"]
    for unit, n in ((j, 3), (h, 4)):
        await add_info(db, unit, "2026-11", at("2026-11-10"), n)
    await add_info(db, h, "2026-12", at("2026-12-02"), 4)
    await add_info(db, h, "2026", at("2026-12-08"), 1, target="C4b")
    await add_info(db, h, "2026", at("2026-12-08"), 1, target="C4c")
    await add_info(db, j, "2026", at("2026-12-09"), 1, target="C4b")  # 自查报告 in time
    await add_info(db, j, "2026-12", at("2026-12-29", "10:00"), 4)  # after "3 days before"

    clock = FixedClock(at("2026-12-01", "00:00"))
    channel = RecordingChannel(clock)
    await simulate(db, channel, clock, date(2026, 12, 1), date(2026, 12, 31))

    expected = {
        rid(j, "C3b.1", "2026-11", "overdue"),
        *(rid(j, "C4c.1", "2026", s) for s in ("before3", "before1", "dayof", "overdue")),
        rid(j, "C3b.1", "2026-12", "before3"),
    }
    assert set(channel.card_ids()) == expected
    _check_common(channel)
    by_id = {s.card.task_id: s for s in channel.cards() if s.card}
    summary = by_id[rid(j, "C4c.1", "2026", "dayof")]
    assert summary.at.date() == date(2026, 12, 15)
    assert "2026年度工作总结尚未报送，截止12月15日（周二）" in summary.card.description  # type: ignore[union-attr]
    assert by_id[rid(j, "C4c.1", "2026", "before3")].at.date() == date(2026, 12, 10)
    assert "截止日期已过" in by_id[rid(j, "C3b.1", "2026-11", "overdue")].card.description  # type: ignore[union-attr]
    assert not [s for s in channel.sent if "li" in s.users]  # 黄岩区 is done

    (monthly,) = channel.digests("报送情况汇总")
    assert monthly.at.date() == date(2026, 12, 1) and monthly.users == ("admin1",)
    assert "椒江区**：11月政务信息已报3/4篇" in monthly.markdown
    late = [s for s in channel.digests("逾期未报汇总") if s.at.date() == date(2026, 12, 16)]
    assert len(late) == 1 and "年度工作总结尚未报送" in late[0].markdown


async def test_national_day_week_and_make_up_saturday(database: Database) -> None:
    db = database
    u = await seed(db, {"椒江区": [("zhang", "liaison")]}, admins=())
    j = u["椒江区"]
    await add_info(db, j, "2026-09", at("2026-09-10"), 4)
    await new_task(db, j, "K7", date(2026, 10, 4), "国庆值守情况")  # a Sunday of the holiday
    await new_task(db, j, "K9", date(2026, 10, 10), "调休日报送")  # a make-up working Saturday

    clock = FixedClock(at("2026-09-21", "00:00"))
    channel = RecordingChannel(clock)
    await simulate(db, channel, clock, date(2026, 9, 21), date(2026, 10, 12))

    sent = {s.card.task_id: s.at.date() for s in channel.cards() if s.card}
    assert sent == {
        rid(j, "C3a.1@K7", "2026-10-04", "before3"): date(2026, 9, 24),  # 25th is 中秋节
        rid(j, "C3a.1@K7", "2026-10-04", "before1"): date(2026, 9, 29),
        rid(j, "C3a.1@K7", "2026-10-04", "dayof"): date(2026, 9, 30),  # the working day before
        rid(j, "C3a.1@K7", "2026-10-04", "overdue"): date(2026, 10, 8),
        rid(j, "C3a.1@K9", "2026-10-10", "before3"): date(2026, 9, 30),  # skips the holiday week
        rid(j, "C3a.1@K9", "2026-10-10", "before1"): date(2026, 10, 9),
        rid(j, "C3a.1@K9", "2026-10-10", "dayof"): date(2026, 10, 10),  # Saturday, 调休上班
        rid(j, "C3a.1@K9", "2026-10-10", "overdue"): date(2026, 10, 12),
    }
    _check_common(channel)
    holiday = [s for s in channel.sent if date(2026, 10, 1) <= s.at.date() <= date(2026, 10, 7)]
    assert holiday == []
    dayof = next(
        s for s in channel.cards() if s.card and s.card.task_id.endswith("K7-2026-10-04-dayof")
    )
    assert "截止10月4日（周日，国庆节放假）" in dayof.card.description  # type: ignore[union-attr]
    assert "请于今天（周三）下班前报送" in dayof.card.description  # type: ignore[union-attr]
