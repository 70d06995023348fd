"""What a QA round of the demo chat found in replies: a clipped title says so with "…"; the
office reading a unit's card is pointed at commands that work for the office."""

from __future__ import annotations

import re
from pathlib import Path

from tests.chat_env import bench

LONG_TITLE = "市生态环境局召开全市创模工作推进会，会议由局长主持并部署下一阶段工作"


async def test_a_clipped_title_ends_with_an_ellipsis(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        reply = await b.say("zhangsan", f"政务信息：{LONG_TITLE}\n正文一段。")
        ref = reply.split("编号")[1].split("，")[0]
        records = await b.say("zhangsan", "记录")
        line = next(x for x in records.splitlines() if ref in x)
        assert f"{LONG_TITLE[:23]}…（待审核）" in line
        withdraw = await b.say("zhangsan", "撤回")
        assert f"{LONG_TITLE[:23]}…（待审核）" in withdraw
        queue = await b.say("admin1", "待审核")
        assert f"{LONG_TITLE[:19]}…" in queue


async def test_the_office_reading_a_units_card_is_pointed_at_its_own_commands(
    database, tmp_path: Path
) -> None:
    """「得分 椒江区」 as admin ends with the commands that work for an admin about that unit (the
    liaison's 「记录」 footer answered 「您是管理员，未绑定单位」); each of them answers."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        await b.say("zhangsan", "政务信息：椒江区开展河道清理\n本周清理河道12公里。")
        card = await b.say("admin1", "得分 椒江区")
        assert "「记录」" not in card and "请联系市创模办" not in card
        assert card.rstrip().endswith("「待审核 椒江区」查看其待审核的报送。")
        commands = {"扣分原因 椒江区", "得分明细 椒江区", "待审核 椒江区"}
        assert set(re.findall(r"「([^」]+)」", card.splitlines()[-1])) == commands
        for command in sorted(commands):
            reply = await b.say("admin1", command)
            assert "椒江区" in reply and "未绑定单位" not in reply, (command, reply)
            if command != "待审核 椒江区":
                assert "「记录」" not in reply and "「得分 椒江区」" in reply
        # the liaison's card keeps the liaison's footer
        mine = await b.say("zhangsan", "我的得分")
        assert "发送「记录」查看报送明细" in mine and "「扣分原因」" in mine


async def test_notices_say_how_many_people_and_tasks_go_to_liaisons(
    database, tmp_path: Path
) -> None:
    """「通知」 goes to liaisons and leaders and says how many of each (it counted the leader 李四
    among 「4位联络员」); task notices — 布置任务 as 取消任务 — go to the liaisons, who act on
    them (布置任务 had told the leaders too, 取消任务 not)."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 3)
        reply = await b.say("admin1", "通知 请于12月10日前报送年度总结")
        assert "通知已发送给4人（联络员3人、分管领导1人）" in reply
        for user in ("zhangsan", "lisi", "wangwu", "qianba"):
            assert b.wecom.sent_texts(user)[-1].endswith("请于12月10日前报送年度总结")
        before = {user: len(b.wecom.sent_texts(user)) for user in ("zhangsan", "lisi")}
        assert "布置任务" in await b.say("admin1", "布置任务 椒江区 12月10日 报送河道整治情况")
        await b.say("admin1", "确认")  # in case it asks
        assert "报送河道整治情况" in b.wecom.sent_texts("zhangsan")[-1]
        assert len(b.wecom.sent_texts("lisi")) == before["lisi"]
        await b.say("admin1", "取消任务 K1 省里已取消此项工作")
        assert "取消" in b.wecom.sent_texts("zhangsan")[-1]
        assert len(b.wecom.sent_texts("lisi")) == before["lisi"]
