"""The holiday calendar an office keeps itself: `kaohe calendar set|unset|show`, the admins' weekly
notice from 1 December while next year's statutory holidays are not in the installed data, and the
same fact in /readyz."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from reminder_kit import at
from sqlmodel import select

from bot.app import create_app
from bot.cli import main
from bot.settings import get_settings
from handlers.types import TextReply
from reminders import calendar as workcal
from reminders.tick import run_tick
from storage.db import Database
from storage.models import AuditLog, Outbox
from storage.workdays import list_overrides


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    shutil.copyfile(sqlite_template, tmp_path / "k.db")
    url = f"sqlite+aiosqlite:///{tmp_path / 'k.db'}"
    monkeypatch.setenv("KAOHE_DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def no_2027(monkeypatch: pytest.MonkeyPatch) -> None:
    """The installed data as it was before the State Council's notice for 2027."""
    monkeypatch.setattr(workcal, "holidays_known", lambda year: year <= 2026)


def test_the_installed_data_is_asked_for_real() -> None:
    assert workcal.holidays_known(2025) and workcal.holidays_known(2026)
    assert not workcal.holidays_known(2100)
    assert workcal.holiday_data_gap(date(2026, 6, 1)) is None


def test_the_gap_is_next_year_from_december_and_this_year_after_new_year(no_2027: None) -> None:
    assert workcal.holiday_data_gap(date(2026, 11, 30)) is None
    assert workcal.holiday_data_gap(date(2026, 12, 1)) == 2027
    assert workcal.holiday_data_gap(date(2027, 3, 1)) == 2027


def test_calendar_set_show_unset(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["calendar", "set", "2027-02-06", "workday", "调休", "--actor", "zhou"]) == 0
    assert "2027-02-06 上班（调休）" in capsys.readouterr().out
    assert main(["calendar", "set", "2027-10-01", "holiday", "国庆节"]) == 0
    assert main(["calendar", "set", "2027-10-01", "holiday", "国庆节（国务院通知）"]) == 0
    capsys.readouterr()

    assert main(["calendar", "show", "2027"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "没有该年的放假安排" in out[0] or "法定节假日来自" in out[0]
    assert "2027-02-06 周六，调整为工作日：上班（手工调整：调休）" in out
    assert "2027-10-01 周五，放假：放假（手工调整：国庆节（国务院通知））" in out

    assert main(["calendar", "show", "2026"]) == 0
    shown = capsys.readouterr().out
    assert "法定节假日来自 chinesecalendar" in shown
    assert "2026-10-01 周四，国庆节放假：放假" in shown  # the statutory data, no override
    assert "2026-01-04 周日，调休上班：上班" in shown  # a make-up working Sunday

    assert main(["calendar", "unset", "2027-02-06"]) == 0
    assert main(["calendar", "unset", "2027-02-06"]) == 1  # nothing left to remove
    capsys.readouterr()
    assert main(["calendar", "set", "2027-13-01", "holiday"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err

    async def check() -> None:
        db = Database(db_url)
        try:
            assert await list_overrides(db, date(2027, 1, 1), date(2027, 12, 31)) == {
                date(2027, 10, 1): False
            }
            async with db.session() as s:
                actions = [(a.actor, a.action) for a in (await s.exec(select(AuditLog))).all()]
            assert ("zhou", "workday.set") in actions and ("cli", "workday.remove") in actions
        finally:
            await db.dispose()

    import asyncio

    asyncio.run(check())


async def _notices(db: Database) -> list[Outbox]:
    async with db.session() as s:
        rows = (await s.exec(select(Outbox))).all()
    return [r for r in rows if "法定节假日数据尚未更新" in r.payload.get("markdown", "")]


async def test_admins_are_told_once_a_week_until_the_office_acts(
    database: Database, no_2027: None
) -> None:
    await run_tick(database, at("2026-11-30", "10:00"), admins=["boss"])
    assert await _notices(database) == []  # November: not yet
    for day in ("2026-12-01", "2026-12-02", "2026-12-04"):
        await run_tick(database, at(day, "10:00"), admins=["boss", "zhou"])
    notices = await _notices(database)
    assert sorted(n.recipient for n in notices) == ["boss", "zhou"]  # once each this week
    text = notices[0].payload["markdown"]
    assert text.startswith("### 2027年法定节假日数据尚未更新")
    assert "kaohe calendar set 2027-02-06 workday 调休" in text

    await run_tick(database, at("2026-12-07", "10:00"), admins=["boss", "zhou"])
    assert len(await _notices(database)) == 4  # the next week, again

    async with database.session() as s:
        from storage.workdays import set_override

        await set_override(s, date(2027, 2, 6), True, actor="zhou", reason="调休")
        await s.commit()
    await run_tick(database, at("2026-12-14", "10:00"), admins=["boss", "zhou"])
    assert len(await _notices(database)) == 4  # the office has started entering 2027


async def test_readyz_shows_the_gap(
    database: Database, monkeypatch: pytest.MonkeyPatch, no_2027: None
) -> None:
    async def handler(msg):  # type: ignore[no-untyped-def]
        return TextReply("")

    app = create_app(db=database, handler=handler)
    async with TestClient(TestServer(app)) as client:
        monkeypatch.setattr("bot.maintenance.holiday_data_gap", lambda today: 2027)
        body = await (await client.get("/readyz")).json()
        assert body["status"] == "ok"
        assert "no 2027 holidays" in body["holidays"] and "0 day(s)" in body["holidays"]
        metrics = await (await client.get("/metrics")).text()
        assert "kaohe_holiday_data_missing 1.0" in metrics
        monkeypatch.setattr("bot.maintenance.holiday_data_gap", lambda today: None)
        body = await (await client.get("/readyz")).json()
        assert "holidays" not in body
