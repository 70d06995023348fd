"""测评意见 (seed 000 第八条), a whole round through the real callback: the office opens it, each
district's leader gets a card per city department, answers by click or text and changes their
mind, is reminded while unfinished, the office closes it, and each department's result enters its
score as one aggregate entry — the department never learns who rated what."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlmodel import func, select

from bot.app import PIPELINE_KEY
from reminders.tick import plan, run_tick
from scoring import load_scheme
from scoring.engine import score
from scoring.facts import EntryKind
from storage.facts import build_all_facts
from storage.models import AdminEntry
from storage.rating import RatingAnswer, RatingClose
from tests.chat_env import TZ, bench
from tests.method_env import add_city, cards_to, click, flush_outbox


async def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def _card_score(db, unit: str):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        found = {uf.unit.name: uf for uf in await build_all_facts(s, 2026)}
    scheme = load_scheme("chuangmo-taizhou")
    card = score(scheme, found[unit].facts, date(2026, 12, 31))
    return card.rule("C2b.1")


async def test_a_rating_round_from_cards_to_points(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        ids = await add_city(b)
        b.clock.set(2026, 12, 1)
        assert "没有进行中的测评" in await b.say("admin1", "测评进度")
        reply = await b.say("admin1", "发起测评 2026 截止12月10日")
        assert "R1" in reply and "2位测评人 × 2个部门" in reply and "12月10日" in reply
        # 黄岩区环保局 is a department too, but its scheme (seed 003) has no rating rule
        assert "黄岩区环保局" in reply and "不参加测评" in reply
        assert "正在进行中" in await b.say("admin1", "发起测评")

        await flush_outbox(b)
        cards = cards_to(b, "lisi")
        assert sorted(c["main_title"]["title"] for c in cards) == [
            "2026年度测评：市住建局",
            "2026年度测评：市生态环境局",
        ]
        assert [x["text"] for x in cards[0]["button_list"]] == ["满意", "基本满意", "不满意"]
        assert len(cards_to(b, "zhaoqi")) == 2 and cards_to(b, "zhangsan") == []

        # a click on 满意 for 市生态环境局
        eco = next(c for c in cards if c["main_title"]["title"].endswith("市生态环境局"))
        first = eco["button_list"][0]
        reply = await click(b, "lisi", eco["task_id"], first["key"])
        assert "已记录：市生态环境局 满意" in reply and "还有1个部门待评：市住建局" in reply

        # a text answer with a comment, then a change of mind; the same message twice counts once
        reply = await b.say("lisi", "测评 市住建局 不满意 工地扬尘督导不够")
        assert "已记录：市住建局 不满意（意见：工地扬尘督导不够）" in reply
        assert "已完成全部2个部门" in reply
        msg = await b.peer.send_text(
            b.client, user="lisi", content="测评 市住建局 基本满意", msg_id="m-77"
        )
        again = await b.peer.send_text(
            b.client, user="lisi", content="测评 市住建局 基本满意", msg_id="m-77"
        )
        assert msg.status == again.status == 200
        await b.app[PIPELINE_KEY].drain()  # type: ignore[index]
        assert await _count(database, RatingAnswer) == 3
        assert "市住建局：基本满意" in await b.say("lisi", "测评")

        # what is not a rater's to do
        assert "不是当前测评的测评人" in await b.say("zhangsan", "测评 市住建局 满意")
        assert "满意、基本满意、不满意" in await b.say("lisi", "测评 市住建局 12")
        assert "不在本次测评之列" in await b.say("lisi", "测评 市财政局 满意")
        assert "管理员" in await b.say("dept1", "测评进度")

        # reminders: 12-10 is a Thursday, its "3 working days before" is Monday 12-07
        at = datetime(2026, 12, 8, 10, 0, tzinfo=TZ).astimezone(UTC)
        planned = [i for i in (await plan(database, at)).items if i.rule.startswith("rating:")]
        assert [i.recipients for i in planned] == [("zhaoqi",)]  # lisi has finished
        assert "还有2个部门待评" in planned[0].payload["card"]["title"]
        first_tick = await run_tick(database, at)
        second_tick = await run_tick(database, at)
        assert first_tick.claimed >= 1 and second_tick.claimed == 0

        # progress names who has not finished, never what anyone answered
        progress = await b.say("admin1", "测评进度")
        assert "已收2/4份" in progress and "赵七：0/2" in progress and "李四：2/2" in progress
        assert "满意" not in progress.replace("满意 / ", "")

        # closing with answers missing is asked about; 确认 closes and enters the results
        b.clock.set(2026, 12, 11)
        ask = await b.say("admin1", "结束测评")
        assert "尚有2份未交" in ask and "确认" in ask
        closed = await b.say("admin1", "确认")
        assert "已结束2026年度测评R1" in closed
        assert "市住建局：满意0、基本满意1、不满意0（1份），满意度60.0%" in closed
        assert "市生态环境局：满意1、基本满意0、不满意0（1份），满意度100.0%" in closed
        assert await _count(database, RatingClose) == 1
        assert "没有进行中的测评" in await b.say("admin1", "结束测评")

        # after closing nothing changes any more
        assert "没有进行中的测评" in await b.say("lisi", "测评 市住建局 满意")
        assert await _count(database, RatingAnswer) == 3

        # one aggregate entry per department, written by the office, naming no rater
        async with database.session() as s:
            entries = (
                await s.exec(select(AdminEntry).where(AdminEntry.kind == EntryKind.RATING.value))
            ).all()
        assert {(e.unit_id, e.rule, e.value) for e in entries} == {
            (ids["市住建局"], "C2b.1", Decimal("0.6")),
            (ids["市生态环境局"], "C2b.1", Decimal("1")),
        }
        assert all(e.actor == "admin1" and "lisi" not in e.reason for e in entries)

        # the score: 2 × (1 − 0.6) = 0.8 off C2 for 市住建局, nothing for 市生态环境局
        line = await _card_score(database, "市住建局")
        assert line.value == Decimal("0.80") and "满意度60%" in line.explanation
        line = await _card_score(database, "市生态环境局")
        assert line.value == Decimal("0.00")

        # the department sees its result, anonymously
        await flush_outbox(b)
        told = "\n".join(b.wecom.sent_texts("dept2"))
        assert "满意度60.0%" in told
        mine = await b.say("dept2", "测评结果")
        assert "满意度60.0%" in mine
        score_reply = await b.say("dept2", "我的得分")
        for text in (told, mine, score_reply):
            assert "李四" not in text and "lisi" not in text and "椒江区" not in text


async def test_raters_named_for_the_round(database, tmp_path: Path) -> None:
    """「发起测评 2026 评价人 张三 赵七」: those people rate, not the default district leaders."""
    async with bench(database, tmp_path) as b:
        await add_city(b)
        b.clock.set(2026, 12, 1)
        assert "未登记（或已停用）的人员：无名氏" in await b.say(
            "admin1", "发起测评 2026 评价人 张三 无名氏"
        )
        assert "未登记所属单位：admin1" in await b.say("admin1", "发起测评 2026 评价人 admin1")
        reply = await b.say("admin1", "发起测评 2026 评价人 张三、赵七 截止12月10日")
        assert "2位测评人 × 2个部门" in reply and "12月10日" in reply
        assert "张三、赵七" in reply
        await flush_outbox(b)
        assert len(cards_to(b, "zhangsan")) == 2 and len(cards_to(b, "zhaoqi")) == 2
        assert cards_to(b, "lisi") == []  # 椒江区's leader is not named this time
        assert "已记录：市住建局 满意" in await b.say("zhangsan", "测评 市住建局 满意")
        assert "不是当前测评的测评人" in await b.say("lisi", "测评 市住建局 满意")
        progress = await b.say("admin1", "测评进度")
        assert "椒江区 张三：1/2" in progress and "路桥区 赵七：0/2" in progress
