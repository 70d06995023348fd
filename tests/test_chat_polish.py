"""What the QA round of the demo chat found in the wording of replies: a clipped title says so
with "…"."""

from __future__ import annotations

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
