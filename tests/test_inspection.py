"""检查考评 (seed 000 第九条): a finding with photos and a deduction under a named rule (seed 003
T20.7 "抽查发现值班人员不在位的一次扣0.1分"), shown to the unit with a window to answer (申辩),
then confirmed — the deduction enters the ledger once — or dropped. Every step is a row."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlmodel import select

from bot.app import PIPELINE_KEY
from scoring import load_scheme
from scoring.engine import score
from scoring.facts import EntryKind
from storage.facts import build_all_facts
from storage.inspection import InspectionEvent, get_inspection
from storage.models import AdminEntry
from tests.chat_env import bench
from tests.method_env import flush_outbox

UNIT = "黄岩区环保局"  # seed 003's scheme (tests/chat_env.py), liaison qianba


async def _deductions(db) -> list[AdminEntry]:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        rows = await s.exec(select(AdminEntry).where(AdminEntry.kind == EntryKind.DEDUCTION.value))
        return list(rows)


async def _photo(b, user: str, msg_id: str) -> str:  # type: ignore[no-untyped-def]
    media_id = b.wecom.add_media(b"\xff\xd8jpeg", "duty.jpg")
    before = len(b.wecom.sent_texts(user))
    answer = await b.peer.send_media(
        b.client, user=user, msg_type="image", media_id=media_id, msg_id=msg_id, PicUrl=""
    )
    if answer.empty:
        await b.app[PIPELINE_KEY].drain()
        return "\n".join(b.wecom.sent_texts(user)[before:])
    return answer.content or ""


async def test_a_finding_with_deduction_appeal_and_confirmation(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 9, 14, 22)  # a Monday night: 暗访 of the 12369 duty room
        # T20 has seven deduction rules: the finding must name the one it is under
        reply = await b.say("admin1", f"检查记录 {UNIT} T20 值班人员不在位 扣0.1分")
        assert "多条扣分细则" in reply and "T20.7" in reply
        reply = await b.say("admin1", f"检查记录 {UNIT} T20.7 值班人员不在位 扣0.2分")
        assert "每次扣0.1分" in reply
        assert "没有指标「Z9」" in await b.say("admin1", f"检查记录 {UNIT} Z9 值班人员不在位")
        assert "没有名为" in await b.say("admin1", "检查记录 无此单位 T20.7 值班人员不在位")
        assert "管理员" in await b.say("qianba", f"检查记录 {UNIT} T20.7 值班人员不在位 扣0.1分")

        finding = "夜间暗访，12369 值班室无人值守，电话无人接听（22:10—22:40）"
        reply = await b.say("admin1", f"检查记录 {UNIT} T20.7 {finding} 扣0.1分")
        assert "已记录检查J1" in reply and "拟扣分：0.1分（T20.7）" in reply
        assert "申辩期至9月19日" in reply
        assert "已将照片附在检查J1上（共1件）" in await _photo(b, "admin1", "p-1")
        assert "共1件" in await _photo(b, "admin1", "p-1")  # the same photo delivered twice
        await flush_outbox(b)
        notice = "\n".join(b.wecom.sent_texts("qianba"))
        assert "【检查考评通知】J1" in notice and finding in notice and "拟扣0.1分" in notice
        assert "申辩 J1" in notice

        # the office cannot confirm while the window is open and the unit has not answered
        assert "申辩期至9月19日" in await b.say("admin1", "确认检查 J1")
        assert await _deductions(database) == []
        assert "不是贵单位" in await b.say("zhangsan", "检查 J1")

        b.clock.set(2026, 9, 15, 9)
        appeal = "当晚值班人员外出处置突发环境事件，有出警记录为证"
        assert "已收到您对J1的申辩" in await b.say("qianba", f"申辩 J1 {appeal}")
        assert "附在您对J1的申辩上（共1件）" in await _photo(b, "qianba", "p-2")
        await flush_outbox(b)
        assert any("【申辩】" in t and appeal in t for t in b.wecom.sent_texts("admin1"))
        detail = await b.say("qianba", "检查 J1")
        assert "待处理" in detail and appeal in detail and "照片/附件：2件" in detail
        assert "申辩期至：9月19日" in detail and "2026-" not in detail  # days as 9月19日

        b.clock.set(2026, 9, 16, 10)
        reply = await b.say("admin1", "确认检查 J1 出警记录时间与暗访时间不符")
        assert "已确认检查J1" in reply and "扣0.1分已计入" in reply and "T20.7" in reply
        assert "已确认" in await b.say("admin1", "确认检查 J1")
        assert "不能再申辩" in await b.say("qianba", "申辩 J1 再次说明")
        (entry,) = await _deductions(database)
        assert (entry.rule, entry.value, entry.actor) == ("T20.7", Decimal("0.1"), "admin1")
        assert finding in entry.reason
        await flush_outbox(b)
        assert any("【检查考评结果】J1" in t for t in b.wecom.sent_texts("qianba"))

        async with database.session() as s:
            facts = {uf.unit.name: uf.facts for uf in await build_all_facts(s, 2026)}
            view = await get_inspection(s, 1)
            events = list(await s.exec(select(InspectionEvent)))
        card = score(load_scheme("epb-district-2007"), facts[UNIT], date(2026, 12, 31))
        assert card.rule("T20.7").value == Decimal("0.10")
        assert view is not None and view.state.value == "已确认"
        assert [e.kind for e in events] == ["evidence", "appeal", "evidence", "confirmed"]
        assert view.row.finding == finding  # as written

        # a second finding, dropped: needs a reason, enters nothing
        b.clock.set(2026, 10, 9, 15)
        assert "J2" in await b.say("admin1", f"检查记录 {UNIT} T20.7 值班人员不在位 扣0.1分")
        assert "须写明理由" in await b.say("admin1", "撤销检查 J2")
        assert "已撤销检查J2" in await b.say("admin1", "撤销检查 J2 经核实值班人员在岗巡查")
        assert len(await _deductions(database)) == 1
        listing = await b.say("admin1", "检查清单")
        assert "J1" in listing and "已确认" in listing and "J2" in listing and "已撤销" in listing
        assert "J1" in await b.say("qianba", "检查清单")
        assert "暂无检查记录" in await b.say("zhangsan", "检查清单")


async def test_an_inspector_logs_findings_but_never_scores(database, tmp_path: Path) -> None:
    """The inspector role (检查员): logs a finding with photos, reads every finding; confirming,
    dropping, scoring and the dashboard link stay the office's."""
    from storage.units import upsert_member

    async with bench(database, tmp_path) as b:
        async with database.session() as s:
            await upsert_member(s, "jcy1", "孙检查", "inspector", None, actor="test")
            await s.commit()
        b.clock.set(2026, 9, 14, 22)
        assert "您是检查员" in await b.say("jcy1", "帮助")
        reply = await b.say("jcy1", f"检查记录 {UNIT} T20.7 值班人员不在位 扣0.1分")
        assert "已记录检查J1" in reply
        assert "已将照片附在检查J1上（共1件）" in await _photo(b, "jcy1", "p-9")
        assert "J1" in await b.say("jcy1", "检查清单")
        assert "待处理" in await b.say("jcy1", "检查 J1")
        b.clock.set(2026, 9, 22, 10)  # the window is over
        for text in (
            "确认检查 J1",
            "撤销检查 J1 重复记录",
            f"扣分 {UNIT} T20.7 0.1 值班人员不在位",
            "评分 椒江区 C1a 4",
            "看板",
            "汇总",
            "我的得分",
            "发起测评",
        ):
            assert "检查员账号只能记录和查看检查考评" in await b.say("jcy1", text), text
        assert await _deductions(database) == []
        # the office confirms what the inspector found; the unit is told, the inspector too
        await b.say("qianba", "申辩 J1 当晚值班人员外出处置突发环境事件")
        await flush_outbox(b)
        assert any("【申辩】" in t for t in b.wecom.sent_texts("jcy1"))
        assert "已确认检查J1" in await b.say("admin1", "确认检查 J1")
        assert len(await _deductions(database)) == 1
