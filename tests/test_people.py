"""People who change: a liaison replaced mid-year with the history kept, deactivation, leaders
read-only (the units file's 状态 column and --force: tests/test_cli_units.py)."""

from __future__ import annotations

from pathlib import Path

from handlers import texts
from storage import ledger
from storage.audit import list_audit
from storage.units import get_member, get_unit_by_name, list_members
from tests.chat_env import bench


async def test_liaison_replaced_mid_year_keeps_history(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 6, 10)
        await b.say("zhangsan", "政务信息：六月第一条\n正文")
        reply = await b.say("admin1", "更换联络员 椒江区 zhangsan xiaozhou 周小")
        assert "zhangsan（张三）停用，xiaozhou（周小）启用" in reply
        assert any("登记为椒江区的创模考核联络员" in m for m in b.wecom.sent_texts("xiaozhou"))

        # The old liaison is let in no more; the new one reports for the same unit.
        assert await b.say("zhangsan", "政务信息：又一条\n正文") == texts.INACTIVE
        assert "已登记6月第2篇政务信息" in await b.say("xiaozhou", "政务信息：六月第二条\n正文")
        records = await b.say("xiaozhou", "记录")
        assert "六月第一条" in records and "六月第二条" in records
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            senders = [v.submission.sender for v in await ledger.list_submissions(s, unit.id, 2026)]
            old = await get_member(s, "zhangsan")
            active = {m.userid for m in await list_members(s, unit.id)}
            actions = {a.action for a in await list_audit(s, actor="admin1")}
        assert senders == ["zhangsan", "xiaozhou"]  # who sent what, kept
        assert old is not None and not old.active and old.unit_id == unit.id
        assert active == {"xiaozhou", "lisi"}
        assert "member.replace" in actions

        assert "已停用wangwu" in await b.say("admin1", "停用联络员 wangwu 工作调动")
        assert "已经是停用状态" in await b.say("admin1", "停用联络员 wangwu 工作调动")


async def test_leader_sees_but_does_not_submit(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 6, 10)
        for text in (
            "政务信息：领导报的\n正文",
            "报送政务信息",
            "反馈 K1 已办",
            "撤回 S1",
            "佐证 C1a 文件",
        ):
            read_only = texts.LEADER_READ_ONLY.format(office=texts.CITY_OFFICE)
            assert await b.say("lisi", text) == read_only, text
        assert "得分" in await b.say("lisi", "我的得分")
        assert "进度" in await b.say("lisi", "进度")
        assert "还没有报送记录" in await b.say("lisi", "记录")
