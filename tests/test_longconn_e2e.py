"""Whole conversations over both long connections at once, through `build_app` as `kaohe serve`
runs it: a 智能机器人 user and a DingTalk user of the same city report 政务信息, ask 我的得分, get
a reminder, and admins on each platform pull 汇总 (summary in-line, workbook and chart as files)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from bot.app import PIPELINE_KEY, build_app
from bot.settings import Settings
from handlers.app import make_handler
from reminders.clock import FixedClock
from reminders.tick import run_tick
from storage.db import Database
from storage.units import upsert_member, upsert_unit
from tests.fakedingtalk import CLIENT_ID, CLIENT_SECRET, FakeDingTalk
from tests.fakewecombot import BOT_ID, BOT_SECRET, FakeWeComBot
from tests.reminder_kit import at

TOPIC = "/v1.0/im/bot/messages/get"


async def seed(db: Database) -> None:
    async with db.session() as s:
        jiaojiang, _ = await upsert_unit(s, "椒江区", "district", "chuangmo-taizhou", actor="t")
        luqiao, _ = await upsert_unit(s, "路桥区", "district", "chuangmo-taizhou", actor="t")
        people = [
            ("zhangsan", "张三", jiaojiang.id, "liaison"),  # WeCom
            ("dingtalk:dd_wang", "王五", luqiao.id, "liaison"),  # DingTalk
            ("admin1", "赵主任", None, "admin"),
            ("dingtalk:dd_admin", "钱主任", None, "admin"),
        ]
        for userid, name, unit_id, role in people:
            await upsert_member(s, userid, name, role, unit_id, actor="t")
        await s.commit()


def settings_for(db: Database, wx: FakeWeComBot, dd: FakeDingTalk) -> Settings:
    return Settings(
        KAOHE_DATABASE_URL=db.engine.url.render_as_string(hide_password=False),
        WECOM_BOT_ID=BOT_ID,
        WECOM_BOT_SECRET=BOT_SECRET,
        WECOM_BOT_WS_URL=wx.ws_url,
        DINGTALK_CLIENT_ID=CLIENT_ID,
        DINGTALK_CLIENT_SECRET=CLIENT_SECRET,
        DINGTALK_API_BASE=dd.url,
        DINGTALK_OAPI_BASE=dd.url,
    )  # type: ignore[call-arg]


async def ding(dd: FakeDingTalk, staff: str, text: str) -> str:
    data = dd.robot_message(staff, "text", {"content": text})
    await dd.push("CALLBACK", TOPIC, data)
    await dd.wait(lambda: bool(dd.answered(data)), timeout=15)
    return dd.answered(data)[0]


async def test_both_platforms_report_score_remind_and_tally(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the tally writes its files under ./out
    await seed(database)
    async with FakeWeComBot() as wx, FakeDingTalk() as dd:
        app = build_app(
            settings_for(database, wx, dd),
            handler_factory=make_handler,
            media_dir=tmp_path / "media",
            reply_budget=10.0,
            upgrade_on_start=False,
        )
        async with TestServer(app):
            await wx.wait_live()
            await dd.wait_live()

            # 政务信息 and 我的得分 from a 智能机器人 user ...
            req = await wx.push_text("zhangsan", "政务信息：椒江区开展世界环境日宣传\n正文")
            assert "已登记" in await wx.reply_to(req, timeout=15)
            req = await wx.push_text("zhangsan", "我的得分")
            score = await wx.reply_to(req, timeout=15)
            assert "椒江区" in score and "得分" in score

            # ... and from a DingTalk user of another unit
            assert "已登记" in await ding(dd, "dd_wang", "政务信息：路桥区河道整治进展\n正文")
            mine = await ding(dd, "dd_wang", "我的得分")
            assert "路桥区" in mine and "椒江区" not in mine

            # a reminder reaches each liaison on their own platform
            clock = FixedClock(at("2026-11-25", "09:00"))
            tick = await run_tick(database, clock.now())
            assert tick.claimed >= 2
            # sent by the app's own dispatcher: each user's platform, though no row names one
            await app[PIPELINE_KEY].dispatcher.run_once()
            cards = [
                b for b in wx.sent if b["chatid"] == "zhangsan" and b["msgtype"] == "template_card"
            ]
            assert cards and "task_id" in cards[0]["template_card"]
            ding_cards = [b for b in dd.sent if b["userIds"] == ["dd_wang"]]
            assert ding_cards and ding_cards[0]["msgKey"].startswith("sampleActionCard")

            def wx_files(user: str) -> list[dict]:
                return [b for b in wx.sent if b["chatid"] == user and b["msgtype"] == "file"]

            def dd_files(staff: str) -> list[dict]:
                return [
                    b for b in dd.sent if b["userIds"] == [staff] and b["msgKey"] == "sampleFile"
                ]

            # 汇总 for the admin on each platform: the summary in-line, then the files
            req = await wx.push_text("admin1", "汇总 2026")
            assert "2026年度考核汇总" in await wx.reply_to(req, timeout=30)
            await wait_for(lambda: len(wx_files("admin1")) >= 2)
            assert sorted(wx.uploads[b["file"]["media_id"]][:4] for b in wx_files("admin1")) == [
                b"PK\x03\x04",  # the workbook
                b"\x89PNG",  # the chart
            ]
            # (one admin after the other: two 汇总 at once write the same files under ./out)
            summary = await ding(dd, "dd_admin", "汇总 2026")
            assert "2026年度考核汇总" in summary and "路桥区" in summary
            await wait_for(lambda: len(dd_files("dd_admin")) >= 2)
            files = dd_files("dd_admin")
            assert {b["msgParam"]["fileType"] for b in files} == {"xlsx", "png"}
            assert all(dd.uploads[b["msgParam"]["mediaId"]] for b in files)


async def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.05)
