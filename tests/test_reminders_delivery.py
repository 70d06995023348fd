"""Delivery: every reminder goes out exactly once across a dispatcher killed mid fan-out, failed
sends (retried with backoff, then given up), two instances ticking and dispatching at once; the
scheduler's settings; `kaohe remind --dry-run`; the wiring into `kaohe serve` (through FakeWeCom)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from reminders.clock import FixedClock
from reminders.dispatch import Dispatcher
from reminders.leader import TickLock
from reminders.scheduler import ReminderScheduler
from reminders.tick import run_tick
from storage.db import Database
from storage.models import Outbox, ReminderSend
from storage.outbox import count_by_status, get_outbox
from storage.reminder_digests import DigestSend
from storage.workdays import set_override
from tests.reminder_kit import RecordingChannel, add_info, at, no_sleep, rid, seed, simulate

N_UNITS = 30


async def _many_units(db: Database, n: int = N_UNITS) -> dict[str, int]:
    units = {f"单位{i:02d}": [(f"liaison{i:02d}", "liaison")] for i in range(n)}
    ids = await seed(db, units)
    for name, unit_id in ids.items():  # 2 of 4 this month; October done
        await add_info(db, unit_id, "2026-10", at("2026-10-10"), 4)
        await add_info(db, unit_id, "2026-11", at("2026-11-03"), 2 if name != "单位00" else 4)
    return ids


async def _count(db: Database, model: type) -> int:
    async with db.session() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def test_dispatcher_killed_mid_fan_out_new_one_finishes(database: Database) -> None:
    ids = await _many_units(database)
    clock = FixedClock(at("2026-11-25", "09:00"))
    result = await run_tick(database, clock.now())
    assert (result.claimed, result.already) == (N_UNITS - 1, 0)  # nothing overdue: no digest

    blocked = asyncio.Event()

    async def gate(n: int) -> None:
        if n == 7:  # the 8th send hangs: the process is killed while it is in flight
            blocked.set()
            await asyncio.Event().wait()

    channel = RecordingChannel(clock, gate=gate)
    first = asyncio.create_task(Dispatcher(database, channel, clock, sleep=no_sleep).run_once())
    await asyncio.wait_for(blocked.wait(), 5)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert len(channel.sent) == 7
    channel.gate = None

    # the process restarts: its tick finds everything claimed, its dispatcher sends what is
    # not leased now, and the killed dispatcher's leased rows once their lease runs out
    assert (await run_tick(database, clock.now())).claimed == 0
    again = Dispatcher(database, channel, clock, sleep=no_sleep)
    assert (await again.run_once()).sent == N_UNITS - 1 - 20  # rows 21..29 were never leased
    clock.advance(timedelta(minutes=6))
    assert (await again.run_once()).sent == 20 - 7
    assert (await again.run_once()).sent == 0

    expected = {rid(u, "C3b.1", "2026-11", "before3") for n, u in ids.items() if n != "单位00"}
    counts = Counter(channel.card_ids())
    assert set(counts) == expected and set(counts.values()) == {1}
    assert len(channel.digests("逾期未报汇总")) == 0  # nothing overdue: October was done
    assert await count_by_status(database) == {"sent": N_UNITS - 1}
    assert await _count(database, ReminderSend) == N_UNITS - 1


async def test_failed_sends_are_retried_with_backoff_then_given_up(database: Database) -> None:
    ids = await seed(
        database,
        {"椒江区": [("zhang", "liaison")], "黄岩区": [("li", "liaison")]},
        admins=(),
    )
    for unit_id in ids.values():
        await add_info(database, unit_id, "2026-10", at("2026-10-10"), 4)
    clock = FixedClock(at("2026-11-25", "09:00"))
    assert (await run_tick(database, clock.now())).claimed == 2
    fails = Counter[str]()

    def fail(user: str) -> bool:
        fails[user] += 1
        return user == "li" or fails[user] <= 2  # zhang: two failures; li: always

    channel = RecordingChannel(clock, fail=fail)
    dispatcher = Dispatcher(database, channel, clock, sleep=no_sleep, max_attempts=4)
    assert (await dispatcher.run_once()).retried == 2
    async with database.session() as s:
        rows = {r.recipient: r for r in (await s.exec(select(Outbox))).all()}
    assert rows["zhang"].next_attempt_at == clock.now() + timedelta(minutes=1)
    assert "simulated failure" in (rows["zhang"].last_error or "")
    assert (await dispatcher.run_once()).sent == 0  # not due yet
    clock.advance(timedelta(minutes=1))
    assert (await dispatcher.run_once()).retried == 2  # second attempt, next in 2 minutes
    clock.advance(timedelta(minutes=2))
    step = await dispatcher.run_once()
    assert (step.sent, step.retried) == (1, 1)  # zhang's third attempt goes through
    clock.advance(timedelta(minutes=4))
    assert (await dispatcher.run_once()).gave_up == 1  # li: fourth and last attempt
    clock.advance(timedelta(hours=2))
    assert (await dispatcher.run_once()).sent == 0
    assert [s.users for s in channel.sent] == [("zhang",)]
    assert await count_by_status(database) == {"sent": 1, "failed": 1}
    failed = await get_outbox(database, rows["li"].id)  # type: ignore[arg-type]
    assert failed is not None and failed.attempts == 4


async def test_two_instances_send_every_reminder_exactly_once(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 2027's holidays may or may not be in the installed data: its weekly notice is tested in
    # tests/test_ops_calendar.py, not here
    monkeypatch.setattr("reminders.tick.holiday_data_gap", lambda today: None)
    ids = await _many_units(database, 12)
    other = Database(database.url)
    clock = FixedClock(at("2026-11-25", "08:00"))
    channels = [RecordingChannel(clock), RecordingChannel(clock)]
    instances = [
        ReminderScheduler(
            db,
            channel,
            clock=clock,
            admins=["boss"],
            dispatcher=Dispatcher(db, channel, clock, sleep=no_sleep, batch=3),
        )
        for db, channel in zip((database, other), channels, strict=True)
    ]
    try:
        day = date(2026, 11, 25)
        while day <= date(2026, 12, 2):
            for hm in ("08:00", "09:00", "09:05", "14:00"):
                clock.set(at(day, hm))
                await asyncio.gather(*(i.tick_and_dispatch() for i in instances))
            day += timedelta(days=1)
    finally:
        await other.dispose()

    sent = [c for ch in channels for c in ch.card_ids()]
    counts = Counter(sent)
    expected = {
        rid(u, "C3b.1", "2026-11", stage)
        for n, u in ids.items()
        if n != "单位00"
        for stage in ("before3", "before1", "dayof", "overdue")
    }
    assert set(counts) == expected and set(counts.values()) == {1}
    digests = Counter(
        (s.users, s.markdown.splitlines()[0]) for ch in channels for s in ch.sent if s.markdown
    )
    assert set(digests.values()) == {1}
    assert {m for _, m in digests} == {
        "### 逾期未报汇总（12月1日）",
        "### 逾期未报汇总（12月2日）",
        "### 2026年11月报送情况汇总",
    }
    assert await _count(database, DigestSend) == 2 * 3  # admin1 and boss


async def test_tick_lock_one_leader_on_postgres(database: Database) -> None:
    if database.dialect != "postgresql":
        lock = TickLock(database)
        async with lock.hold() as first, lock.hold() as second:
            assert (first, second) == (True, False)
        return
    other = Database(database.url)
    try:
        async with TickLock(database).hold() as first, TickLock(other).hold() as second:
            assert (first, second) == (True, False)
        async with TickLock(other).hold() as later:
            assert later  # released after the tick
    finally:
        await other.dispose()


async def test_work_day_override_moves_reminders(database: Database) -> None:
    ids = await seed(database, {"椒江区": [("zhang", "liaison")]}, admins=())
    j = ids["椒江区"]
    await add_info(database, j, "2026-10", at("2026-10-10"), 4)
    async with database.session() as s:  # 30 November declared a day off: due day stays,
        await set_override(s, date(2026, 11, 30), False, actor="admin1", reason="测试")
        await s.commit()
    clock = FixedClock(at("2026-11-20", "00:00"))
    channel = RecordingChannel(clock)
    await simulate(database, channel, clock, date(2026, 11, 20), date(2026, 11, 30))
    sent = {s.card.task_id: s.at.date() for s in channel.cards() if s.card}
    assert sent == {  # ... reminded on the working day before
        rid(j, "C3b.1", "2026-11", "before3"): date(2026, 11, 24),
        rid(j, "C3b.1", "2026-11", "before1"): date(2026, 11, 26),
        rid(j, "C3b.1", "2026-11", "dayof"): date(2026, 11, 27),
    }
    card = channel.cards()[-1].card
    assert card is not None and "截止11月30日（周一，放假）" in card.description


async def test_scheduler_settings(database: Database) -> None:
    clock = FixedClock(at("2026-11-25", "09:00"))
    reminders = ReminderScheduler(database, RecordingChannel(clock), clock=clock)
    scheduler = reminders.start()
    try:
        assert str(scheduler.timezone) == "Asia/Shanghai"
        jobs = {job.id: job for job in scheduler.get_jobs()}
        assert set(jobs) == {"reminder-tick", "outbox-dispatch"}
        for job in jobs.values():
            assert job.coalesce is True and job.max_instances == 1
            assert job.misfire_grace_time == 120
        assert jobs["reminder-tick"].next_run_time == clock.now() + timedelta(seconds=10)
    finally:
        await reminders.stop()
    assert not scheduler.running


def test_remind_dry_run_prints_and_claims_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main
    from bot.settings import get_settings
    from storage.db import upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"

    async def prepare() -> None:
        await upgrade(url)
        db = Database(url)
        try:
            ids = await seed(db, {"椒江区": [("zhang", "liaison")]})
            await add_info(db, ids["椒江区"], "2026-10", at("2026-10-10"), 4)
            await add_info(db, ids["椒江区"], "2026-11", at("2026-11-03"), 3)
        finally:
            await db.dispose()

    async def claims() -> int:
        db = Database(url)
        try:
            return await _count(db, ReminderSend) + await _count(db, Outbox)
        finally:
            await db.dispose()

    asyncio.run(prepare())
    monkeypatch.setenv("KAOHE_DATABASE_URL", url)
    monkeypatch.setenv("KAOHE_ADMINS", "boss")
    get_settings.cache_clear()
    try:
        assert main(["remind", "--dry-run", "--at", "2026-11-25T09:00"]) == 0
        out = capsys.readouterr().out
        assert "[将发送] 椒江区 · C3b.1 · 2026-11 · 截止前3个工作日 → zhang" in out
        assert "11月政务信息已报3/4篇，还差1篇，截止11月30日（周一）" in out
        assert "今天是“截止前3个工作日”提醒日" in out
        assert main(["remind", "--dry-run", "--at", "2026-11-28"]) == 0
        assert "不是工作日" in capsys.readouterr().out
        assert main(["remind", "--dry-run", "--at", "2026-11-25T20:00"]) == 0
        assert "不在办公时间" in capsys.readouterr().out
        assert main(["remind", "--at", "2026-11-25"]) == 2
        assert main(["remind", "--dry-run", "--at", "明天"]) == 2
        assert asyncio.run(claims()) == 0
    finally:
        get_settings.cache_clear()


async def test_serve_runs_reminders_through_wecom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import build_app
    from bot.settings import Settings
    from reminders import scheduler as reminder_scheduler
    from tests.fakewecom import AGENT_ID, CORP_ID, FakeWeCom

    for name in ("WECOM_TOKEN", "WECOM_ENCODING_AES_KEY", "WECOM_WEBHOOK_KEY"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    with caplog.at_level(logging.INFO):
        quiet = build_app(Settings(_env_file=None, KAOHE_DATABASE_URL=url))  # type: ignore[call-arg]
        async with TestClient(TestServer(quiet)):
            assert reminder_scheduler._current is None
    assert "reminders: OFF" in caplog.text

    async with FakeWeCom() as wecom:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            KAOHE_DATABASE_URL=url,
            KAOHE_ADMINS="boss",
            WECOM_CORP_ID=CORP_ID,
            WECOM_AGENT_ID=AGENT_ID,
            WECOM_SECRET=wecom.secret,
            WECOM_API_BASE=wecom.url,
        )
        app = build_app(settings, media_dir=tmp_path / "media")
        async with TestClient(TestServer(app)):
            running = reminder_scheduler._current
            assert running is not None and running.scheduler is not None
            assert running.admins == ("boss",)
            db = running.db
            ids = await seed(db, {"椒江区": [("zhang", "liaison")]}, admins=())
            await add_info(db, ids["椒江区"], "2026-10", at("2026-10-10"), 4)
            clock = FixedClock(at("2026-11-25", "09:00"))
            running.clock = running.dispatcher.clock = clock
            running.dispatcher.sleep = no_sleep
            await running.tick_and_dispatch()
            await running.tick_and_dispatch()
        assert reminder_scheduler._current is None  # stopped on cleanup
        (card,) = wecom.sent_to("zhang")
        assert card["msgtype"] == "template_card"
        assert "11月政务信息已报0/4篇" in str(card)


async def test_downtime_catches_up_what_is_useful_and_skips_what_is_stale(
    database: Database,
) -> None:
    ids = await seed(database, {"椒江区": [("zhang", "liaison")]}, admins=())
    j = ids["椒江区"]
    await add_info(database, j, "2026-10", at("2026-10-10"), 4)
    clock = FixedClock(at("2026-11-20", "09:00"))
    channel = RecordingChannel(clock)
    await simulate(database, channel, clock, date(2026, 11, 20), date(2026, 11, 20))
    # down on the 25th ("3 days before"): back on the 26th, that reminder is still useful
    await simulate(database, channel, clock, date(2026, 11, 26), date(2026, 11, 26))
    # down from the 27th to the 30th: back on 1 December only the overdue stage is useful
    await simulate(database, channel, clock, date(2026, 12, 1), date(2026, 12, 2))
    sent = {s.card.task_id: s.at.date() for s in channel.cards() if s.card}
    assert sent == {
        rid(j, "C3b.1", "2026-11", "before3"): date(2026, 11, 26),
        rid(j, "C3b.1", "2026-11", "overdue"): date(2026, 12, 1),
    }


async def test_retries_wait_for_office_hours_on_a_working_day(database: Database) -> None:
    ids = await seed(database, {"椒江区": [("zhang", "liaison")]}, admins=())
    await add_info(database, ids["椒江区"], "2026-10", at("2026-10-10"), 4)
    clock = FixedClock(at("2026-11-27", "17:29"))  # a Friday, one minute before closing
    assert (await run_tick(database, clock.now())).claimed == 1
    channel = RecordingChannel(clock, fail=lambda user: True)
    assert (await Dispatcher(database, channel, clock, sleep=no_sleep).run_once()).retried == 1
    async with database.session() as s:
        (row,) = (await s.exec(select(Outbox))).all()
    assert row.next_attempt_at == at("2026-11-30", "08:30")  # Monday morning, not Friday night
    anytime = Dispatcher(database, channel, clock, sleep=no_sleep, policy=None)
    assert await anytime.retry_time(1) == clock.now() + timedelta(minutes=1)
