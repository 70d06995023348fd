"""Intake through POST /wecom/callback: questions are answered and never logged, text is stored
byte for byte, repeats are flagged, phrasings reach their intents, link cards are kept, drafts
expire out loud, and an item counts at the moment it was sent."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text as sa_text

from bot.app import PIPELINE_KEY
from handlers import texts
from handlers.intents import IntentName
from storage.conversation import InfoDraft, get_state
from storage.ledger import list_submissions
from storage.units import get_unit_by_name
from tests.chat_env import TZ, Bench, bench
from tests.test_phrasings import PHRASINGS

N = IntentName


async def _submissions(b: Bench, unit: str = "椒江区", year: int = 2026):  # type: ignore[no-untyped-def]
    async with b.db.session() as s:
        found = await get_unit_by_name(s, unit)
        return [v.submission for v in await list_submissions(s, found.id, year)]


async def _send_link(b: Bench, user: str, *, title: str, description: str, url: str) -> str:
    answer = await b.peer.send_media(
        b.client,
        user=user,
        msg_type="link",
        media_id="",
        Title=title,
        Description=description,
        Url=url,
        PicUrl="https://img.example.cn/1.png",
    )
    assert answer.status == 200
    if answer.empty:
        await b.app[PIPELINE_KEY].drain()  # type: ignore[index]
        return b.wecom.sent_texts(user)[-1]
    return answer.content or ""


async def test_questions_and_empty_items_log_nothing(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        assert "已报0/4篇" in await b.say("zhangsan", "政务信息报了几篇")
        howto = await b.say("zhangsan", "信息怎么报")
        assert "每月需报送4篇" in howto and "报送方法" in howto
        assert "已报0/4篇" in await b.say("zhangsan", "本月还缺几篇？")
        assert "报送方法" in await b.say("zhangsan", "政务信息：")
        assert "请在命令后写上内容" in await b.say("zhangsan", "自查报告")
        assert "月进度" in await b.say("zhangsan", "年报什么时候交")
        assert "年度得分" in await b.say("zhangsan", "我现在几分？")
        assert await _submissions(b) == []

        # A title without a body asks for the body, and logs nothing until it comes.
        asked = await b.say("zhangsan", "政务信息：椒江区开展河道清理")
        assert "已记下标题：椒江区开展河道清理" in asked and "请接着发送正文" in asked
        assert await _submissions(b) == []
        assert "还没有正文" in await b.say("zhangsan", "好的")  # 好 is not 确认 of a bare title
        done = await b.say("zhangsan", "本周共清理河道12公里")
        assert "标题：椒江区开展河道清理" in done and "正文：本周共清理河道12公里" in done
        assert "已登记11月第1篇" in await b.say("zhangsan", "好")
        (sub,) = await _submissions(b)
        assert (sub.title, sub.text) == ("椒江区开展河道清理", "本周共清理河道12公里")

        # An explicit 确认 logs a bare title as it is, with an empty body (never the title again).
        await b.say("zhangsan", "政务信息：只有标题的一篇")
        assert "已登记11月第2篇" in await b.say("zhangsan", "确认")
        bare = (await _submissions(b))[-1]
        assert (bare.title, bare.text) == ("只有标题的一篇", "")

        # 好/对/是 outside a draft are acknowledged; thanks get thanks; nothing is logged.
        assert await b.say("zhangsan", "好的") == texts.ACK
        assert await b.say("zhangsan", "辛苦了") == texts.THANKS
        # 收到 / 知道了 acknowledge, they do not thank: 好的, not 不客气 (the admin too)
        for said in ("收到", "收到了", "知道了", "明白", "👍"):
            assert await b.say("zhangsan", said) == texts.ACK, said
        assert await b.say("zhangsan", "好的，谢谢") == texts.THANKS
        for said in ("收到", "好"):
            assert await b.say("admin1", said) == texts.ACK_ADMIN, said
        assert await b.say("admin1", "谢谢") == texts.THANKS_ADMIN
        assert len(await _submissions(b)) == 2


async def test_stored_text_is_what_was_sent_byte_for_byte(database, tmp_path: Path) -> None:
    title = "ＰＭ２．５浓度同比下降（第二次）😀"
    body = "全市ＰＭ２．５平均浓度为２８μg/m³，同比下降１２％；“蓝天”天数３００天……\n　　第二段：Ａ级　Ｂ级！"
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        assert "已登记" in await b.say("zhangsan", f"政务信息：{title}\n{body}")
        assert "布置任务" in await b.say(
            "admin1", "布置任务 椒江区 12月10日 报送ＰＭ２．５（第二次）"
        )
        task = re.search(r"新任务(K\d+)", b.wecom.sent_texts("zhangsan")[-1])[1]  # type: ignore[index]
        feedback = "已完成（第二次）整改，ＰＭ２．５达标！"
        assert "已登记任务" in await b.say("zhangsan", f"反馈 {task} {feedback}")
        report = "本单位创模自查：（一）组织领导；（二）ＰＭ２．５治理。"
        assert "已登记自查报告" in await b.say("zhangsan", f"自查报告 {report}")
        subs = await _submissions(b)
        assert (subs[0].title, subs[0].text) == (title, body)
        assert subs[1].text == feedback
        assert subs[2].text == report

        # What admins write goes out exactly as written, and the text around it is not doubled.
        reason = "内容与创模无关（第二次退回）。"
        await b.say("admin1", f"退回 {subs[0].id} {reason}")
        notice = b.wecom.sent_texts("zhangsan")[-1]
        assert f"原因：{reason}请发送「补正" in notice and "。。" not in notice
        assert f"「{title}」" in notice
        await b.say("admin1", "通知 请于１２月１０日前报送（第二次）：ＰＭ２．５数据！")
        assert b.wecom.sent_texts("zhangsan")[-1].endswith(
            "请于１２月１０日前报送（第二次）：ＰＭ２．５数据！"
        )
        assert "第二次" in b.wecom.sent_texts("zhangsan")[-1]


async def test_repeats_are_flagged_not_counted(database, tmp_path: Path) -> None:
    long_body = "本周椒江区组织开展河道清理专项行动，共清理河道12公里，出动人员300人次。"
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        first = await b.say("zhangsan", f"政务信息：河道清理专项行动\n{long_body}")
        ref = re.search(r"编号(S\d+)", first)[1]  # type: ignore[index]

        # The same title again (a new message): flagged as a repeat of the first, not logged.
        again = await b.say("zhangsan", "政务信息：河道清理专项行动\n另一段文字")
        assert f"与本月已登记的{ref}「河道清理专项行动」标题相同" in again
        assert "回复「确认」" in again
        assert len(await _submissions(b)) == 1
        assert "已取消" in await b.say("zhangsan", "取消")
        assert len(await _submissions(b)) == 1
        # ...and with punctuation added ("！", "“…”"): the same title all the same.
        again = await b.say("zhangsan", "政务信息：“河道清理”专项行动！\n另一段文字")
        assert f"与本月已登记的{ref}「河道清理专项行动」标题相同" in again
        assert "已取消" in await b.say("zhangsan", "取消")

        # The same body under another title (full-width blanks aside) is a repeat too.
        again = await b.say("zhangsan", f"政务信息：新标题\n{long_body.replace('，', '，　')}")
        assert f"{ref}" in again and "正文相同" in again
        # ...and 确认 logs it anyway, once.
        logged = await b.say("zhangsan", "确认")
        assert "已登记11月第2篇" in logged
        assert "当前没有待确认的报送" in await b.say("zhangsan", "确认")
        assert len(await _submissions(b)) == 2

        # Withdrawn items may be sent again; short bodies alike are not repeats.
        await b.say("zhangsan", f"撤回 {ref}")
        await b.say("zhangsan", "撤回 " + re.search(r"编号(S\d+)", logged)[1])  # type: ignore[index]
        assert "已登记" in await b.say("zhangsan", f"政务信息：河道清理专项行动\n{long_body}")
        assert "已登记" in await b.say("zhangsan", "政务信息：甲\n正文见附件")
        assert "已登记" in await b.say("zhangsan", "政务信息：乙\n正文见附件")
        # Another month is another quota.
        b.clock.set(2026, 12, 2)
        assert "已登记12月第1篇" in await b.say("zhangsan", "政务信息：乙\n正文见附件")


async def test_items_logged_before_forms_were_kept_are_still_repeated(
    database, tmp_path: Path
) -> None:
    """A submission logged before its forms were kept (its title_form and text_form empty, as
    rows are until migration 0011 fills them in) is compared by its texts: a repeat of its
    title or of its body is still held back."""
    long_body = "本周椒江区组织开展河道清理专项行动，共清理河道12公里，出动人员300人次。"
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        first = await b.say("zhangsan", f"政务信息：河道清理专项行动\n{long_body}")
        ref = re.search(r"编号(S\d+)", first)[1]  # type: ignore[index]
        async with b.db.engine.begin() as conn:
            await conn.execute(sa_text("UPDATE submission SET title_form = NULL, text_form = NULL"))
        again = await b.say("zhangsan", "政务信息：“河道清理”专项行动！\n另一段文字")
        assert f"与本月已登记的{ref}「河道清理专项行动」标题相同" in again
        assert "已取消" in await b.say("zhangsan", "取消")
        again = await b.say("zhangsan", f"政务信息：新标题\n{long_body.replace('，', '，　')}")
        assert ref in again and "正文相同" in again
        assert len(await _submissions(b)) == 1


async def test_repeated_feedback_reports_and_evidence_are_held_back(
    database, tmp_path: Path
) -> None:
    """A 反馈, 月报 or 佐证 sent again (a new message, the same task or period and text) is not
    counted twice: the reply names the earlier S-number; 「确认」 logs it anyway, 「取消」 not."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        await b.say("admin1", "布置任务 椒江区 12月10日 排查河道排污口")
        task = re.search(r"新任务(K\d+)", b.wecom.sent_texts("zhangsan")[-1])[1]  # type: ignore[index]
        first = await b.say("zhangsan", f"反馈 {task} 已完成排查，共整改3处")
        ref = re.search(r"编号(S\d+)", first)[1]  # type: ignore[index]

        # The same text again (full-width blanks aside): held back, the earlier one named.
        again = await b.say("zhangsan", f"反馈 {task} 已完成排查，　共整改3处")
        assert f"任务{task}的反馈与11月10日已登记的{ref}内容相同" in again
        assert "没有登记" in again and "回复「确认」" in again and "修改后重新发送" in again
        assert len(await _submissions(b)) == 1
        assert "已取消" in await b.say("zhangsan", "取消")
        assert "当前没有待确认的报送" in await b.say("zhangsan", "确认")
        assert len(await _submissions(b)) == 1

        # Another text for the same task is a new item, logged as usual, the earlier one named.
        more = await b.say("zhangsan", f"反馈 {task} 补充：另有2处已整改")
        assert "已登记任务" in more and f"任务{task}此前已有反馈{ref}，本次作为补充一并登记" in more
        assert "此前已有反馈" not in first
        assert len(await _submissions(b)) == 2

        # 「确认」 within the window logs the repeat anyway, once, byte for byte, at its own time.
        b.clock.set(2026, 11, 10, 11)
        sent = f"反馈 {task} 已完成排查，　共整改3处"
        assert ref in await b.say("zhangsan", sent)
        b.clock.set(2026, 11, 10, 11, 20)
        logged = await b.say("zhangsan", "确认")
        assert "已登记任务" in logged and ref not in logged
        assert "当前没有待确认的报送" in await b.say("zhangsan", "确认")
        subs = await _submissions(b)
        assert len(subs) == 3
        assert subs[-1].text == "已完成排查，　共整改3处"
        assert subs[-1].submitted_at.astimezone(TZ).hour == 11
        assert subs[-1].submitted_at.astimezone(TZ).minute == 0

        # A 确认 after the window logs nothing.
        assert "内容相同" in await b.say("zhangsan", f"反馈 {task} 补充：另有2处已整改")
        b.clock.set(2026, 11, 10, 12)
        assert "已过期" in await b.say("zhangsan", "确认")
        assert len(await _submissions(b)) == 3

        # A 佐证 for the same task and text: held back too.
        assert "完成佐证" in await b.say("zhangsan", f"佐证 {task} 整改照片已上传")
        assert "内容相同" in await b.say("zhangsan", f"佐证 {task} 整改照片已上传")
        assert len(await _submissions(b)) == 4

        # A 月报 of the same month and text: held back; another month or text is logged.
        b.clock.set(2026, 11, 9)
        report = await b.say("qianba", "月报 10月 排污费征收情况")
        report_ref = re.search(r"编号(S\d+)", report)[1]  # type: ignore[index]
        again = await b.say("qianba", "月报 10月 排污费征收情况")
        assert f"这份月报（10月）与11月9日已登记的{report_ref}内容相同" in again
        assert "已登记月报" in await b.say("qianba", "月报 9月 排污费征收情况")
        assert "已登记月报" in await b.say("qianba", "月报 10月 排污费征收情况（更正）")
        rows = await _submissions(b, "黄岩区环保局")
        assert [r.text for r in rows] == [
            "排污费征收情况",
            "排污费征收情况",
            "排污费征收情况（更正）",
        ]
        assert [r.period for r in rows] == ["2026-10", "2026-09", "2026-10"]


async def test_phrasing_table_through_the_callback(database, tmp_path: Path) -> None:
    """Every phrasing of the table, sent as WeCom would, gets the answer of its intent."""
    markers = {
        N.MY_SCORE: "年度得分",
        N.SCORE_LOSSES: "失分",
        N.SCORE_DETAIL: "得分明细",
        N.INDICATOR: "规则：",
        N.PROGRESS: "月进度",
        N.RECORDS: "还没有报送记录",
        N.START_INFO: "开始报送政务信息",
        N.INFO_HOWTO: "报送方法",
        N.WITHDRAW_LIST: "目前没有可以撤回的报送",
        N.YES: texts.ACK,
        N.THANKS: "有需要随时发消息给我",  # 不客气 for thanks, 好的 for 收到
        N.HELP: "可以这样跟我说",
        N.CONFIRM: "当前没有待确认的报送",
        N.CANCEL: "当前没有正在进行的报送",
        N.UNKNOWN: "没有听懂",
        N.QUESTION: "这个问题我还答不上来",
    }
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        for text, intent in PHRASINGS:
            reply = await b.say("zhangsan", text)
            assert markers[intent] in reply, (text, intent, reply)
            if intent == N.START_INFO:
                await b.say("zhangsan", "取消")
        assert await _submissions(b) == []


async def test_a_shared_article_becomes_a_draft_and_is_kept(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        title = "椒江区：“河长制”见成效（图文）"
        url = "https://mp.weixin.qq.com/s/AbC-123_x?from=timeline&isappinstalled=0"
        reply = await _send_link(b, "zhangsan", title=title, description="摘要……", url=url)
        assert f"已收到文章「{title}」" in reply and "回复「确认」登记" in reply
        assert await _submissions(b) == []
        assert "已登记11月第1篇" in await b.say("zhangsan", "确认")
        (sub,) = await _submissions(b)
        assert (sub.title, sub.text) == (title, url)
        (card,) = sub.attachments
        assert card["type"] == "link" and card["url"] == url and card["description"] == "摘要……"

        # Inside a draft, an article joins it (and the title typed first stays the title).
        await b.say("zhangsan", "报送政务信息")
        await b.say("zhangsan", "我区召开创模推进会\n会议部署了下一阶段工作。")
        assert "共1个附件" in await _send_link(
            b, "zhangsan", title="推进会报道", description="", url=url
        )
        await b.say("zhangsan", "确认")
        last = (await _submissions(b))[-1]
        assert last.title == "我区召开创模推进会" and last.attachments[0]["title"] == "推进会报道"


async def test_an_item_counts_when_it_was_sent_not_when_handled(database, tmp_path: Path) -> None:
    """Sent at 23:59:50 on 30 November, handled at 00:00:10 on 1 December: November's."""
    async with bench(database, tmp_path) as b:
        sent = datetime(2026, 11, 30, 23, 59, 50, tzinfo=TZ)
        b.clock.now = (sent + timedelta(seconds=20)).astimezone(UTC)
        answer = await b.peer.send_text(
            b.client,
            user="zhangsan",
            content="政务信息：月末最后一篇\n正文",
            create_time=int(sent.timestamp()),
        )
        assert "已登记11月第1篇" in (answer.content or "")
        (sub,) = await _submissions(b)
        assert sub.period == "2026-11" and sub.submitted_at == sent.astimezone(UTC)

        # A report sent at 23:59:50 on its due day is on time (seed 000: self-check by 15 Dec).
        due = datetime(2026, 12, 15, 23, 59, 50, tzinfo=TZ)
        b.clock.now = (due + timedelta(minutes=2)).astimezone(UTC)
        answer = await b.peer.send_text(
            b.client, user="zhangsan", content="自查报告 自查情况", create_time=int(due.timestamp())
        )
        assert "按时报送" in (answer.content or "")

        # A draft written before midnight and confirmed after it counts when its content was sent.
        b.clock.now = datetime(2027, 1, 31, 23, 58, tzinfo=TZ).astimezone(UTC)
        await b.say("zhangsan", "报送政务信息")
        await b.say("zhangsan", "一月的信息\n正文")
        b.clock.now = datetime(2027, 2, 1, 0, 3, tzinfo=TZ).astimezone(UTC)
        assert "已登记1月第1篇" in await b.say("zhangsan", "确认")

        # A clock ahead of ours never dates an item into the future.
        b.clock.now = datetime(2027, 2, 3, 10, tzinfo=TZ).astimezone(UTC)
        future = int(datetime(2027, 3, 1, 10, tzinfo=TZ).timestamp())
        answer = await b.peer.send_text(
            b.client, user="zhangsan", content="政务信息：未来\n正文", create_time=future
        )
        assert "已登记2月第1篇" in (answer.content or "")


async def test_drafts_restart_and_expire_out_loud(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10, 9)
        await b.say("zhangsan", "报送政务信息")
        await b.say("zhangsan", "第一篇草稿\n正文")
        ask = await b.say("zhangsan", "报送政务信息")
        assert "尚未提交的政务信息「第一篇草稿」" in ask and "要放弃它" in ask
        assert "继续编辑" in await b.say("zhangsan", "继续")
        draft = await get_state(database, "zhangsan")
        assert isinstance(draft, InfoDraft) and draft.title == "第一篇草稿"
        await b.say("zhangsan", "报送政务信息")
        assert "开始报送政务信息" in await b.say("zhangsan", "是")
        draft = await get_state(database, "zhangsan")
        assert isinstance(draft, InfoDraft) and draft.title == ""
        await b.say("zhangsan", "第二篇草稿")

        # Quiet for longer than 30 minutes: the periodic sweep drops it and says so, once.
        handler = b.app[PIPELINE_KEY].handler  # type: ignore[index]
        b.clock.set(2026, 11, 10, 9, 20)
        await handler.periodic()
        assert await get_state(database, "zhangsan") is not None
        b.clock.set(2026, 11, 10, 9, 45)
        before = len(b.wecom.sent_texts("zhangsan"))
        await handler.periodic()
        await handler.periodic()
        await b.app[PIPELINE_KEY].dispatcher.run_once()  # the server's outbox dispatcher  # type: ignore[index]
        told = b.wecom.sent_texts("zhangsan")[before:]
        assert len(told) == 1 and "「第二篇草稿」超过30分钟未确认，已自动取消" in told[0]
        assert await get_state(database, "zhangsan") is None
        assert await b.say("zhangsan", "确认") == texts.NOTHING_TO_CONFIRM
        assert await _submissions(b) == []


async def test_a_new_item_sent_into_an_open_draft_is_not_merged(database, tmp_path: Path) -> None:
    """A title sent alone opens a draft; a whole new 「政务信息：…」 after it is neither appended
    to that draft nor logged: the user is asked what to do with the draft first."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10, 9)
        await b.say("zhangsan", "政务信息：椒江区开展河长制巡河")
        before = await get_state(database, "zhangsan")
        asked = await b.say("zhangsan", "政务信息：椒江区开展河长制巡河！\n本周巡河12次。")
        assert "尚未提交的政务信息「椒江区开展河长制巡河」" in asked and "没有并入" in asked
        assert await get_state(database, "zhangsan") == before  # the draft as it was
        assert await _submissions(b) == []
        # plain text still goes into the draft, and the draft is logged as written
        await b.say("zhangsan", "本周巡河12次。")
        assert "已登记" in await b.say("zhangsan", "确认")
        # with no draft open, the same message is logged at once
        assert "已登记" in await b.say("zhangsan", "政务信息：另一篇\n正文")
        assert len(await _submissions(b)) == 2


async def test_withdraw_without_a_number_lists_what_can_be(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 10, 10)
        await b.say("zhangsan", "政务信息：十月的一篇\n正文")
        b.clock.set(2026, 11, 10)
        reply = await b.say("zhangsan", "政务信息：十一月的一篇\n正文")
        ref = re.search(r"编号(S\d+)", reply)[1]  # type: ignore[index]
        listing = await b.say("zhangsan", "撤回")
        assert ref in listing and "十一月的一篇" in listing and "十月的一篇" not in listing
        assert f"「撤回 {ref}」" in listing


async def test_admin_phrasing_and_fallback_help(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        asks = await b.say("admin1", "得分明细")  # an admin has no unit of their own: name one
        assert asks.startswith("请在后面加上单位名称，如「得分明细 ") and "汇总" in asks
        assert "待评" in await b.say("admin1", "得分明细 椒江区")  # nothing recorded yet
        await b.say("zhangsan", "政务信息：椒江区开展河道清理\n11月8日，区里组织清理河道3公里。")
        detail = await b.say("admin1", "得分明细 椒江区")
        assert detail.startswith("椒江区2026年度得分明细") and "工作信息（C3b）" in detail
        assert await b.say("admin1", "得分明细，椒江区") == detail  # full-width comma, as typed
        losses = await b.say("admin1", "椒江区扣分原因")
        assert losses.startswith("椒江区2026年度") and texts.ADMIN_USE_UNIT not in losses
        fallback = await b.say("admin1", "帮我看看这个")
        assert (
            "管理员命令" in fallback and "布置任务" in fallback and "「我的得分」" not in fallback
        )
        assert "椒江区" in await b.say("admin1", "得分 椒江区")


async def test_the_server_runs_the_handlers_periodic_work() -> None:
    """`kaohe serve` runs the handler's periodic part (expired drafts) beside the callback."""
    import asyncio

    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import run_periodically

    runs: list[int] = []

    async def work() -> None:
        runs.append(1)
        if len(runs) == 1:
            raise RuntimeError("a failing run is logged; the next one still runs")

    app = web.Application()
    app.cleanup_ctx.append(run_periodically(work, 0.01))
    async with TestClient(TestServer(app)):
        for _ in range(100):
            if len(runs) >= 2:
                break
            await asyncio.sleep(0.01)
    assert len(runs) >= 2


async def test_three_images_sent_at_once_all_attach_to_the_draft(database, tmp_path: Path) -> None:
    """Three images posted to the callback at the same moment into one draft: all three are kept,
    and the count the user is told grows 1, 2, 3 (never the same count twice)."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 3, 3)
        assert "开始报送政务信息" in await b.say("zhangsan", "报送政务信息")
        ids = [b.wecom.add_media(f"img{n}".encode(), f"p{n}.jpg") for n in range(3)]
        answers = await asyncio.gather(
            *(
                b.peer.send_media(
                    b.client, user="zhangsan", msg_type="image", media_id=media_id, msg_id=f"i{n}"
                )
                for n, media_id in enumerate(ids)
            )
        )
        assert all(a.status == 200 for a in answers)
        await b.app[PIPELINE_KEY].drain()  # type: ignore[index]
        told = "\n".join([a.content or "" for a in answers] + b.wecom.sent_texts("zhangsan"))
        assert [n for n in (1, 2, 3) if f"共{n}个附件" in told] == [1, 2, 3]
        reply = await b.say("zhangsan", "标题：三张现场照片\n河道清理前后对比")
        reply += await b.say("zhangsan", "确认")
        assert "已登记" in reply
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            assert unit is not None and unit.id is not None
            rows = await list_submissions(s, unit.id, 2026)
        assert len(rows) == 1 and len(rows[0].submission.attachments) == 3


async def test_a_question_shaped_like_an_item_says_how_to_send_one(
    database, tmp_path: Path
) -> None:
    """「政务信息：椒江区开展哪些创模活动。…」 on one line reads as a question (哪些) and is not
    logged; the reply says how to send it as an item if that was meant. Other questions do not
    get that line."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        reply = await b.say("zhangsan", "政务信息：椒江区开展哪些创模活动。全区组织志愿者宣传")
        assert "没有登记任何内容" in reply and "请把标题单独写在第一行" in reply
        assert len(await _submissions(b)) == 0
        assert "标题单独" not in await b.say("zhangsan", "档案资料怎么准备？")


async def test_feedback_or_evidence_alone_asks_for_the_code_and_content(
    database, tmp_path: Path
) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        feedback = await b.say("zhangsan", "反馈")
        assert "请写明任务编号和反馈内容" in feedback and "反馈 K7" in feedback
        evidence = await b.say("zhangsan", "佐证")
        assert "请写明指标或任务编号和说明" in evidence and "佐证 A1" in evidence
        assert all("没有登记任何内容" in r for r in (feedback, evidence))
        assert len(await _submissions(b)) == 0


async def test_a_question_waiting_for_confirm_is_closed_by_any_other_message(
    database, tmp_path: Path
) -> None:
    """A held repeat or an admin's past-due task waits for 「确认」 only until the user sends
    something else: then it is dropped (and they are told so, once), and a 「确认」 sent later
    does nothing. Also when the next message is a 政务信息 item logged in one transaction."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        await b.say("admin1", "布置任务 椒江区 12月10日 排查河道排污口")
        task = re.search(r"新任务(K\d+)", b.wecom.sent_texts("zhangsan")[-1])[1]  # type: ignore[index]
        await b.say("zhangsan", f"反馈 {task} 已完成排查，共整改3处")
        assert "回复「确认」" in await b.say("zhangsan", f"反馈 {task} 已完成排查，共整改3处")
        went_on = await b.say("zhangsan", "进度")
        assert went_on.startswith("（您之前待确认的操作已放弃，未作任何改动")
        assert "待确认的操作已放弃" not in await b.say("zhangsan", "进度")  # told once
        assert "当前没有待确认的报送" in await b.say("zhangsan", "确认")
        assert len(await _submissions(b)) == 1

        # the next message a 政务信息 item: logged, and the question closed all the same
        assert "回复「确认」" in await b.say("zhangsan", f"反馈 {task} 已完成排查，共整改3处")
        logged = await b.say("zhangsan", "政务信息：河道清理专项行动\n本周清理河道12公里。")
        assert "待确认的操作已放弃" in logged and "已登记11月第1篇" in logged
        assert "当前没有待确认的报送" in await b.say("zhangsan", "确认")
        assert len(await _submissions(b)) == 2

        # an admin's past-due task: other commands in between, then 确认 assigns nothing
        asked = await b.say("admin1", "布置任务 全部 11月5日 过期任务")
        assert "确认请回复「确认」" in asked
        assert "待确认的操作已放弃" in await b.say("admin1", "未报")
        assert "没有待确认" in await b.say("admin1", "确认")
        assert "过期任务" not in "".join(b.wecom.sent_texts("zhangsan"))
        # ...while an answer right away still acts
        assert "确认请回复「确认」" in await b.say("admin1", "布置任务 全部 11月5日 过期任务")
        assert "过期任务" in await b.say("admin1", "确认")


async def test_what_a_draft_was_asked_about_is_answered_first(database, tmp_path: Path) -> None:
    """While the bot waits for an answer about the draft (a repeat held back, starting again),
    other text is not added to it: the question is asked again. A typo of 确认 or 取消 is asked
    back, never taken for the answer, and a short question is not the draft's content."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        await b.say("zhangsan", "政务信息：河道清理专项行动\n本周清理河道12公里。")
        held = await b.say("zhangsan", "政务信息：河道清理专项行动\n另一段文字")
        assert "看起来是重复报送" in held
        for typo in ("确任", "取小"):
            asked = await b.say("zhangsan", typo)
            assert "为免误操作" in asked and "已登记" not in asked
        assert "这条消息没有记入" in await b.say("zhangsan", "新的一段正文")
        assert "已登记11月第2篇" in await b.say("zhangsan", "确认")
        subs = await _submissions(b)
        assert [s.text for s in subs] == ["本周清理河道12公里。", "另一段文字"]

        await b.say("zhangsan", "报送政务信息")
        await b.say("zhangsan", "创模推进会召开")
        asked = await b.say("zhangsan", "这个算不算一篇信息")
        assert "像是提问，没有记入" in asked
        assert "要放弃它、重新开始吗" in await b.say("zhangsan", "报送政务信息")
        again = await b.say("zhangsan", "黄岩区召开创模推进会")
        assert "这条消息没有记入" in again and "「是」放弃它并重新开始" in again
        assert "开始报送政务信息" in await b.say("zhangsan", "是")
        await b.say("zhangsan", "黄岩区召开创模推进会")
        ready = await b.say("zhangsan", "会议部署了下一阶段的工作。")
        assert "黄岩区召开创模推进会" in ready and "创模推进会召开" not in ready


async def test_a_semicolon_after_the_keyword_is_not_part_of_the_title(
    database, tmp_path: Path
) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        reply = await b.say("zhangsan", "政务信息；椒江区推进“污水零直排区”建设\n正文如下。")
        assert "：椒江区推进“污水零直排区”建设\n" in reply
        (sub,) = await _submissions(b)
        assert sub.title == "椒江区推进“污水零直排区”建设" and sub.text == "正文如下。"


async def test_a_one_line_item_with_a_question_word_says_why_it_was_not_logged(
    database, tmp_path: Path
) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        reply = await b.say(
            "zhangsan", "政务信息：开展几项专项执法行动。今年以来共立案查处环境违法案件８６起。"
        )
        assert "无法确定是要报送的信息还是提问" in reply and "请把标题单独写在第一行" in reply
        assert "答不上来" not in reply
        assert len(await _submissions(b)) == 0


async def test_progress_of_a_month_named_in_the_question(database, tmp_path: Path) -> None:
    """「上个月报了几篇」 and 「11月的信息报了几篇？」 answer for that month, not this one."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 20)
        for n in range(2):
            await b.say("zhangsan", f"政务信息：十一月第{n}篇\n正文{n}")
        b.clock.set(2026, 12, 2)
        await b.say("zhangsan", "政务信息：十二月第一篇\n正文")
        last = await b.say("zhangsan", "上个月报了几篇")
        assert "椒江区11月政务信息：已报2/4篇（截止11月30日），差2篇，已过截止日期" in last
        assert await b.say("zhangsan", "11月的信息报了几篇？") == last
        assert "已报1/4篇" in await b.say("zhangsan", "这月信息够数了没")
        assert "12月进度" in await b.say("zhangsan", "本月报了几篇")


async def test_a_mistyped_keyword_of_an_item_is_asked_back(database, tmp_path: Path) -> None:
    """「正务信息：…」 logs nothing and says which word to correct (the item is not echoed)."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        reply = await b.say("zhangsan", "正务信息：河道清理专项行动\n本周清理河道12公里。")
        assert "请把开头的「正务信息」改为「政务信息」后重新发送" in reply
        assert "河道清理" not in reply and len(await _submissions(b)) == 0


async def test_several_numbers_to_withdraw_are_asked_one_at_a_time(
    database, tmp_path: Path
) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 10)
        refs = []
        for n in range(2):
            reply = await b.say("zhangsan", f"政务信息：第{n}篇\n正文{n}")
            refs.append(re.search(r"编号(S\d+)", reply)[1])  # type: ignore[index]
        asked = await b.say("zhangsan", f"撤回 {refs[0]} {refs[1]}")
        assert f"撤回请一次发送一个编号，例如「撤回 {refs[0]}」" in asked
        assert "没有撤回任何内容" in asked
        assert "已报2/4篇" in await b.say("zhangsan", "进度")  # both still count
        assert "已撤回" in await b.say("zhangsan", f"撤回 {refs[0]}")
        assert "已报1/4篇" in await b.say("zhangsan", "进度")
