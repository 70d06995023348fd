"""Each role can do exactly what it may; no reply ever shows another unit's data."""

from __future__ import annotations

from pathlib import Path

from handlers import texts
from storage.audit import list_audit
from storage.ledger import list_submissions
from storage.units import get_unit_by_name
from tests.chat_env import bench

LIAISON_COMMANDS = [
    "我的得分",
    "进度",
    "记录",
    "政务信息：角色测试信息",
    "反馈 K1 已办理",
    "自查报告 本单位自查情况",
    "佐证 C1a 领导小组文件",
    "报送政务信息",
    "取消",
]
ADMIN_COMMANDS = [
    "布置任务 路桥区 12月10日 角色测试任务",
    "未报 11月",
    "通过 S1",
    "退回 S1 测试退回",
    "打分 路桥区 C2 5 测试打分",
    "确认未完成 路桥区 C1b 测试",
    "任务完成 椒江区 K1 测试完成",
    "得分 椒江区",
    "汇总 2026",
    "通知 明天上午开会",
]
CITY = {"office": texts.CITY_OFFICE}  # everyone here is in the city's assessment
NOT_ADMIN = texts.NOT_ADMIN.format(**CITY)
REFUSALS = (NOT_ADMIN, texts.UNREGISTERED, texts.ADMIN_USE_UNIT, texts.NO_UNIT.format(**CITY))


def refused(reply: str) -> str | None:
    return next((r for r in REFUSALS if r in reply), None)


async def test_role_matrix(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 20)
        await b.say("zhangsan", "政务信息：椒江区机密标题甲\n椒江区的正文")  # S1
        await b.say("admin1", "布置任务 椒江区 12月10日 椒江区专属任务")  # K1 for 椒江区

        for user in ("zhangsan", "lisi", "wangwu"):
            for text in LIAISON_COMMANDS:
                assert refused(await b.say(user, text)) is None, (user, text)
            for text in ADMIN_COMMANDS:
                assert refused(await b.say(user, text)) == NOT_ADMIN, (user, text)
        for text in LIAISON_COMMANDS:
            if text == "取消":  # an admin's 取消 answers their own waiting action
                assert "当前没有待确认的操作" in await b.say("admin1", text)
                continue
            assert refused(await b.say("admin1", text)) == texts.ADMIN_USE_UNIT, text
        for text in ADMIN_COMMANDS:
            assert refused(await b.say("admin1", text)) is None, text
        for text in [*LIAISON_COMMANDS, *ADMIN_COMMANDS, "帮助"]:
            assert refused(await b.say("stranger", text)) == texts.UNREGISTERED, text
        assert "管理员命令" in await b.say("admin1", "帮助")
        assert "报送政务信息" in await b.say("wangwu", "帮助")

        # Another unit's submission or task is as good as not there.
        assert texts.WITHDRAW_UNKNOWN.format(ref="S1") == await b.say("wangwu", "撤回 S1")
        assert "没有找到本单位的任务K1" in await b.say("wangwu", "反馈 K1 越权反馈")

        # 路桥区's liaison never sees anything of 椒江区.
        for user, reply in b.replies:
            if user == "wangwu":
                assert "椒江区" not in reply and "机密标题甲" not in reply, reply
        # The stranger's messages never became submissions.
        async with database.session() as s:
            for name in ("椒江区", "路桥区"):
                unit = await get_unit_by_name(s, name)
                for view in await list_submissions(s, unit.id, 2026):
                    assert view.submission.sender != "stranger"
            # Every admin action is in the audit log under the admin's name.
            actions = {row.action for row in await list_audit(s, actor="admin1", limit=500)}
        assert {
            "task.add",
            "submission.accepted",
            "submission.rejected",
            "entry.points",
            "entry.confirmation",
            "broadcast",
        } <= actions
