"""Whole conversations through POST /wecom/callback with real encryption, spread over a year."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from bot.app import PIPELINE_KEY
from scoring import load_builtin, score
from scoring.numbers import fmt
from storage.conversation import get_state, set_state
from storage.facts import build_facts
from storage.ledger import list_submissions
from storage.units import get_unit_by_name
from tests.chat_env import bench

# 政务信息 items per month, Jan..Oct 2026 (quota 4; C3b is 6 points, 0.5 a month).
PLAN = {1: 4, 2: 4, 3: 3, 4: 4, 5: 4, 6: 2, 7: 4, 8: 4, 9: 4, 10: 4}


async def _ledger_card(db, as_of: date):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        unit = await get_unit_by_name(s, "椒江区")
        facts = await build_facts(s, unit, 2026)
    return score(load_builtin("chuangmo-taizhou"), facts, as_of)


async def test_a_year_of_reporting_scores_as_the_engine_says(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        # An unknown sender is told how to register, and nothing of theirs is logged.
        assert "登记" in await b.say("stranger", "政务信息：我也想报")

        for month, n in PLAN.items():
            for i in range(n):
                b.clock.set(2026, month, 3 + i)
                reply = await b.say(
                    "zhangsan", f"政务信息：{month}月第{i + 1}条\n{month}月第{i + 1}条的正文"
                )
                assert f"已登记{month}月第{i + 1}篇政务信息" in reply
                left = 4 - (i + 1)
                assert (f"本月还差{left}篇" if left else "本月4篇已报满") in reply

        # A withdrawal before the deadline is a ledger row; the month then owes one more.
        b.clock.set(2026, 11, 2)
        first = await b.say("zhangsan", "政务信息：11月第1条\n正文")
        ref = re.search(r"编号(S\d+)", first)[1]  # type: ignore[index]
        assert "已撤回" in await b.say("zhangsan", f"撤回 {ref}")
        assert "不能撤回" in await b.say("zhangsan", "撤回 S1")  # January's deadline has passed
        b.clock.set(2026, 11, 3)
        again = await b.say("zhangsan", "政务信息：11月重报\n重报的正文")
        assert "已登记11月第1篇政务信息" in again and "本月还差3篇" in again

        # Admin assigns two tasks; one answered on time, one late, one not at all.
        b.clock.set(2026, 3, 2)
        assert "已向3个单位布置任务" in await b.say(
            "admin1", "布置任务 全部 3月20日 报送大气污染防治进展"
        )
        assert "布置了新任务" in "\n".join(b.wecom.sent_texts("zhangsan"))
        task1 = re.search(r"新任务(K\d+)", b.wecom.sent_texts("zhangsan")[-1])[1]  # type: ignore[index]
        await b.say("admin1", "布置任务 椒江区 5月10日 报送水源地整治情况")
        task2 = re.search(r"新任务(K\d+)", b.wecom.sent_texts("zhangsan")[-1])[1]  # type: ignore[index]
        await b.say("admin1", "布置任务 椒江区 6月10日 报送餐饮油烟治理情况")
        b.clock.set(2026, 3, 18)
        assert "按时报送" in await b.say("zhangsan", f"反馈 {task1} 已完成排查")
        b.clock.set(2026, 5, 12)
        assert "记为迟报" in await b.say("zhangsan", f"反馈 {task2} 已整改完毕")

        # Admin rejects one item; the liaison is told why, and it stops counting.
        b.clock.set(2026, 11, 4)
        views_before = len(b.wecom.sent_texts("zhangsan"))
        assert "已退回" in await b.say("admin1", "退回 S2 与创模工作无关")
        assert "被退回，原因：与创模工作无关" in b.wecom.sent_texts("zhangsan")[views_before]

        # Admin scores the discretionary items and confirms the awards.
        for text in [
            "打分 椒江区 C2 6.5 网络基本健全",
            "确认完成 椒江区 C1a 已成立领导小组",
            "确认完成 椒江区 C1b 方案已印发",
            "确认完成 椒江区 C1c 联络员固定",
        ]:
            assert "已为椒江区记录" in await b.say("admin1", text)
        assert "超过该项最高分8" in await b.say("admin1", "打分 椒江区 C2 9 满分")

        # "我的得分" agrees with the engine on the same ledger, and with the hand count.
        b.clock.set(2026, 11, 23)
        reply = await b.say("zhangsan", "我的得分")
        card = await _ledger_card(b.db, date(2026, 11, 23))
        assert f"基本分{fmt(card.base_total)}/100" in reply
        # By hand: C1 10; C2 6.5; C3a 6 − 6 × 2/3 (task1 on time, task2 late, task3 missing) = 2;
        # C3b 6 − 0.5 × (1/4 Jan (S2 rejected) + 1/4 Mar + 2/4 Jun) = 5.5; C4 0; W1 0; W2 0.
        assert card.base_total == card.base_total.__class__("24.00")
        assert "基本分24/100" in reply
        assert "工作信息（C3b）−0.5" in reply
        assert "任务反馈（C3a）−4" in reply

        # Progress and records speak of this unit only.
        progress = await b.say("zhangsan", "进度")
        assert "政务信息：已报1/4篇" in progress
        records = await b.say("zhangsan", "记录")
        assert "已撤回" in records and "11月重报" in records
        assert re.search(r"^· \S+ \d+月\d+日 ", records, re.M)  # 11月5日, not 11/5
        assert not re.search(r" \d+/\d+ ", records)

    async with database.session() as s:
        unit = await get_unit_by_name(s, "椒江区")
        views = await list_submissions(s, unit.id, 2026)
    # Nothing is deleted: the withdrawn and the rejected items are still in the ledger.
    assert sum(PLAN.values()) + 2 + 2 == len(views)
    statuses = [v.status.value for v in views]
    assert statuses.count("withdrawn") == 1 and statuses.count("rejected") == 1


async def test_my_score_of_last_year_in_january(database, tmp_path: Path) -> None:
    """In January the running score is the new year's; last year's is one word away."""
    async with bench(database, tmp_path) as b:
        for i in range(3):
            b.clock.set(2026, 12, 3 + i)
            assert "已登记12月" in await b.say("zhangsan", f"政务信息：12月第{i + 1}条\n正文")
        b.clock.set(2027, 1, 6)
        now = await b.say("zhangsan", "我的得分")
        assert "2027年度得分" in now and "「我的得分 2026」" in now
        last = await b.say("zhangsan", "我的得分 2026")
        card = await _ledger_card(b.db, date(2027, 1, 6))
        assert "2026年度得分" in last and "「我的得分 2026」" not in last
        assert f"基本分{fmt(card.base_total)}/100" in last
        assert "截至2027年1月6日" in last  # a past year's card is dated in full
        assert "尚未开始" in await b.say("zhangsan", "我的得分 2028")
        for year in ("2019", "0000"):  # never assessed here: no card of zeros
            assert f"{year}年度没有本单位的考核记录" in await b.say("zhangsan", f"我的得分 {year}")
        b.clock.set(2027, 3, 6)
        assert "「我的得分 2026」" not in await b.say("zhangsan", "我的得分")


async def test_a_confirmed_conversation_logs_its_item_once(database, tmp_path: Path) -> None:
    """A crash between logging the item and clearing the conversation leaves the state behind;
    the liaison's second 确认 then finds the item logged instead of logging it again."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 7, 1, 9)
        await b.say("zhangsan", "报送政务信息")
        await b.say("zhangsan", "椒江区开展河道清理\n共清理 12 公里")
        left_behind = await get_state(database, "zhangsan")
        first = await b.say("zhangsan", "确认")
        assert "已登记7月第1篇政务信息" in first
        await set_state(database, "zhangsan", left_behind)  # as if the clear never happened
        again = await b.say("zhangsan", "确认")
        ref = re.search(r"S\d+", first)
        assert ref and ref.group(0) in again and "已登记7月第1篇政务信息" in again
        assert "当前没有待确认的报送" in await b.say("zhangsan", "确认")
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            assert len(await list_submissions(s, unit.id, 2026)) == 1
        # a new conversation is a new item
        await b.say("zhangsan", "报送政务信息")
        await b.say("zhangsan", "第二条信息\n正文")
        assert "已登记7月第2篇政务信息" in await b.say("zhangsan", "确认")


async def test_conversation_with_attachment_survives_and_expires(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 7, 1, 9)
        assert "开始报送政务信息" in await b.say("zhangsan", "报送政务信息")
        media = b.wecom.add_media(b"%PDF-1.4 test", "河道清理.pdf", "application/pdf")
        answer = await b.peer.send_media(
            b.client, user="zhangsan", msg_type="file", media_id=media, FileName="河道清理.pdf"
        )
        assert "已收到文件（共1个附件）" in (answer.content or "")
        assert "已记下。标题：椒江区开展河道清理" in await b.say(
            "zhangsan", "椒江区开展河道清理\n共清理 12 公里"
        )
        reply = await b.say("zhangsan", "确认")
        assert "已登记7月第1篇政务信息" in reply and "椒江区开展河道清理" in reply
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            (view,) = await list_submissions(s, unit.id, 2026)
        assert view.submission.attachments[0]["name"] == "河道清理.pdf"
        assert view.submission.attachments[0]["file"]  # downloaded and kept

        # A quiet conversation expires, the user is told, and nothing is logged.
        await b.say("zhangsan", "报送政务信息")
        await b.say("zhangsan", "半截的信息")
        b.clock.set(2026, 7, 1, 11)
        reply = await b.say("zhangsan", "确认")
        assert "已自动取消" in reply and "当前没有待确认的报送" in reply
        async with database.session() as s:
            assert len(await list_submissions(s, unit.id, 2026)) == 1


async def test_menu_click_and_card_button_map_to_intents(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 4, 8)
        await b.say("zhangsan", "政务信息：4月第1条\n正文")
        answer = await b.peer.send_event(
            b.client, user="zhangsan", event="click", EventKey="progress"
        )
        assert answer.status == 200
        if answer.empty:
            await b.app[PIPELINE_KEY].drain()  # type: ignore[index]
            content = b.wecom.sent_texts("zhangsan")[-1]
        else:
            content = answer.content or ""
        assert "政务信息：已报1/4篇" in content
        # A reminder card's "报送" button starts the submission conversation.
        await b.peer.click(b.client, user="zhangsan", task_id="remind-1", key="start_info")
        await b.app[PIPELINE_KEY].drain()  # type: ignore[index]
        assert "已记下标题：按钮发起的信息" in await b.say("zhangsan", "按钮发起的信息")
        # Opening the app says nothing; an unknown sender's click is ignored.
        assert (await b.peer.send_event(b.client, user="zhangsan", event="enter_agent")).empty
        assert (
            await b.peer.send_event(b.client, user="stranger", event="click", EventKey="x")
        ).empty


async def test_half_finished_submission_survives_a_restart(database, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from handlers.app import make_handler
    from handlers.types import InboundMessage

    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 9, 1, 9)
        assert "开始报送政务信息" in await b.say("zhangsan", "报送政务信息")
        assert "已记下。标题：重启前写的标题" in await b.say("zhangsan", "重启前写的标题\n正文")
    # A new process: a new handler on the same database picks the conversation up.
    now = datetime(2026, 9, 1, 1, 10, tzinfo=UTC)
    handler = make_handler(db=database, clock=lambda: now)
    msg = InboundMessage(
        key="msg:after-restart", sender="zhangsan", msg_type="text", created_at=now, content="确认"
    )
    reply = await handler(msg)
    assert reply is not None and "已登记9月第1篇政务信息" in reply.text  # type: ignore[union-attr]
    assert "重启前写的标题" in reply.text  # type: ignore[union-attr]


async def test_reports_are_logged_on_time_or_late(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        # seed 000 第十一条: the self-check report and the annual summary are due by 15 December.
        b.clock.set(2026, 12, 10)
        reply = await b.say("zhangsan", "自查报告 本单位创模自查情况")
        assert "已登记自查报告" in reply and "C4b" in reply and "按时报送" in reply
        b.clock.set(2026, 12, 18)
        reply = await b.say("zhangsan", "年度总结 2026年创模工作总结")
        assert "C4c" in reply and "记为迟报" in reply
        card = await _ledger_card(b.db, date(2027, 1, 5))
        assert "迟报1次" in card.rule("C4c.1").explanation

        # epb-district-2007: 排污费月报 (T17) due 10 days after the month; 季报 picks T17 or T23.
        b.clock.set(2026, 11, 9)
        reply = await b.say("qianba", "月报 10月 排污费征收情况")
        assert "T17" in reply and "10月" in reply and "按时报送" in reply
        b.clock.set(2026, 10, 20)
        reply = await b.say("qianba", "季报 T23 三季度 排污申报核定")
        assert "T23" in reply and "第3季度" in reply and "记为迟报" in reply
        assert "没有「月报」" in await b.say("zhangsan", "月报 10月 内容")


async def test_admin_tally_sends_summary_then_files_and_dashboard_link(
    database, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    from urllib.parse import parse_qs, urlparse

    from tally.links import verify_dashboard_link

    monkeypatch.chdir(tmp_path)
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 12, 1)
        await b.say("zhangsan", "政务信息：汇总前的一条\n正文")
        reply = await b.say("admin1", "汇总 2026")
        assert "2026年度考核汇总" in reply and "椒江区" in reply
        handler = b.app[PIPELINE_KEY].handler  # type: ignore[index]
        await asyncio.gather(*handler.deps.background)
        files = [m for m in b.wecom.sent_to("admin1") if m.get("msgtype") == "file"]
        assert len(files) == 2
        assert sorted(p.suffix for p in (tmp_path / "out").iterdir()) == [".png", ".xlsx"]
        assert "2026年度考核汇总" in await b.say("admin1", "汇总 今年")
        assert "2025年度" in await b.say("admin1", "汇总 去年")  # no units scored then: said so

        # Without a secret the dashboard is off, and the admin is told so.
        assert "尚未启用" in await b.say("admin1", "看板")
        handler.deps.dashboard_secret = "s3cret"
        # Without the public address a link could not be opened on a phone: the admin is told
        # what is missing and whom to ask, not given "/dashboard?u=…".
        reply = await b.say("admin1", "看板")
        assert "KAOHE_PUBLIC_URL" in reply and "系统运维人员" in reply and "/dashboard" not in reply
        handler.deps.public_url = "https://kaohe.example.gov.cn"
        link = await b.say("admin1", "看板")
        assert link.split("\n")[-1].startswith("https://kaohe.example.gov.cn/dashboard?")
        query = parse_qs(urlparse(link.split("\n")[-1]).query)
        assert (
            verify_dashboard_link(
                "s3cret", query["u"][0], query["e"][0], query["s"][0], now=b.clock.now.timestamp()
            )
            == "admin1"
        )
        assert "仅限" in await b.say("zhangsan", "看板")
