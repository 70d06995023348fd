"""A 通知 that asks for 签收: the text and a card with a 签收 button reach every liaison and leader
through the channel; a click is recorded once (a second click and a typed 「签收」 write nothing);
「签收情况」 shows who has and has not acknowledged; 「催签收」 reaches only those who have not."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from handlers.intents import parse
from handlers.office_intents import OfficeIntent, parse_office
from storage.models import Notice, NoticeAck
from tests.chat_env import bench


def test_phrases() -> None:
    assert parse_office("通知签收：请于12月5日前报送自查报告").args == {
        "body": "请于12月5日前报送自查报告"
    }
    assert parse_office("通知（需签收） 明天开会").name == OfficeIntent.NOTICE_ACK
    assert parse_office("签收 N3").args == {"ref": "N3"}
    assert parse_office("签收情况").name == OfficeIntent.ACK_STATUS
    assert parse_office("催签收 n2").args == {"ref": "n2"}
    assert parse("谁还没签收").name == OfficeIntent.ACK_STATUS
    assert parse("我已签收").name == OfficeIntent.ACK
    assert parse("签收了吗").name != OfficeIntent.ACK  # a question, not an acknowledgement


async def test_notice_ack_status_and_chase(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 30, 9)
        reply = await b.say("admin1", "通知签收：请于12月5日前报送年度自查报告。")
        assert "通知N1已发送给4人" in reply and "签收情况" in reply
        for user in ("zhangsan", "lisi", "wangwu", "qianba"):
            assert "【市创模办通知N1】请于12月5日前报送年度自查报告。" in b.wecom.sent_texts(user)
            (card,) = b.cards(user)
            assert card["button_list"][0] == {"text": "签收", "style": 1, "key": "ack:1"}
            assert "请签收" in card["main_title"]["title"]
        assert b.cards("admin1") == []

        # a click, then the same click again: one row
        b.clock.set(2026, 11, 30, 10, 5)
        assert "已签收通知N1" in await b.click("zhangsan", "ack:1")
        b.clock.set(2026, 11, 30, 10, 6)
        again = await b.click("zhangsan", "ack:1")
        assert "您已于11月30日10:05签收通知N1，无需重复签收" in again
        assert "无需重复签收" in await b.say("zhangsan", "签收 N1")
        assert "您已于11月30日10:05签收通知N1" in await b.say("zhangsan", "签收")
        assert "没有需要签收的通知" in await b.say("admin1", "签收")
        # typed, as on platforms whose buttons send their own text back
        assert "已签收通知N1" in await b.say("wangwu", "签收")
        async with database.session() as s:
            rows = (await s.exec(select(NoticeAck))).all()
        assert sorted(r.userid for r in rows) == ["wangwu", "zhangsan"]
        # a notice not sent to someone cannot be acknowledged by them
        assert "没有找到发给您" in await b.click("admin1", "ack:1")

        status = await b.say("admin1", "签收情况")
        assert "通知N1（11月30日09:00发送）签收情况：已签收2/4人" in status
        missing = status.split("未签收（2人）：")[1].split("已签收（2人）：")[0]
        assert "椒江区 李四" in missing and "黄岩区环保局 钱八" in missing
        assert "张三" not in missing and "王五" not in missing
        assert "椒江区 张三（11月30日10:05）" in status
        assert "催签收 N1" in status
        assert "仅限市创模办管理员" in await b.say("zhangsan", "签收情况")

        cards = {u: len(b.cards(u)) for u in ("zhangsan", "lisi", "wangwu", "qianba")}
        reply = await b.say("admin1", "催签收")
        assert "已提醒2人签收通知N1" in reply and "李四" in reply and "钱八" in reply
        assert len(b.cards("lisi")) == cards["lisi"] + 1
        assert len(b.cards("qianba")) == cards["qianba"] + 1
        assert len(b.cards("zhangsan")) == cards["zhangsan"]
        assert any("尚未签收" in t for t in b.wecom.sent_texts("lisi"))
        assert not any("尚未签收" in t for t in b.wecom.sent_texts("zhangsan"))

        for user in ("lisi", "qianba"):
            await b.click(user, "ack:1")
        assert "已签收4/4人" in await b.say("admin1", "签收情况 N1")
        assert "已全部签收" in await b.say("admin1", "催签收 N1")
        assert "没有找到需要签收的通知N9" in await b.say("admin1", "签收情况 N9")
        async with database.session() as s:
            (notice,) = (await s.exec(select(Notice))).all()
        assert notice.ack_required and notice.actor == "admin1"
        assert sorted(notice.recipients) == ["lisi", "qianba", "wangwu", "zhangsan"]
