"""Corrections are ledger rows: cancel, re-date, void an entry, void a submission; a command sent
twice is recorded once; a past due date or a second assignment is asked about; numbers never skip."""

from __future__ import annotations

import asyncio
import re
from datetime import date
from pathlib import Path

from sqlmodel import func, select

from storage import ledger
from storage.models import AdminEntry, Task, TaskRevision
from storage.units import get_unit_by_name
from tests.chat_env import bench


async def _count(db, model) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def _tasks(db, unit: str, *, all_: bool = False):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        u = await get_unit_by_name(s, unit)
        return {v.ref: v for v in await ledger.list_tasks(s, u.id, 2026, include_inactive=all_)}


async def test_cancel_and_redate_are_revisions_and_liaisons_are_told(
    database, tmp_path: Path
) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 2)
        assert "K1" in await b.say("admin1", "布置任务 椒江区,路桥区 12月10日 报送大气污染防治进展")
        assert "K2" in await b.say("admin1", "布置任务 椒江区 12月15日 报送水质月报")
        # Numbers do not skip: one number for a task given to two units, then the next one.
        assert set(await _tasks(database, "椒江区")) == {"K1", "K2"}

        assert "请写明理由" in await b.say("admin1", "取消任务 K1")
        reply = await b.say("admin1", "取消任务 K1 省里已取消此项工作")
        assert "已取消椒江区、路桥区的任务K1" in reply
        assert any("【任务取消】" in m and "K1" in m for m in b.wecom.sent_texts("zhangsan"))
        assert any("【任务取消】" in m for m in b.wecom.sent_texts("wangwu"))
        assert "已经取消，未重复记录" in await b.say("admin1", "取消任务 K1 省里已取消此项工作")
        assert await _count(database, TaskRevision) == 2  # one per unit, once

        left = await _tasks(database, "椒江区")
        assert set(left) == {"K2"}  # a cancelled task is no longer listed, owed or scored
        cancelled = (await _tasks(database, "椒江区", all_=True))["K1"]
        assert cancelled.task.status == "cancelled"
        async with database.session() as s:
            first = await s.get(Task, cancelled.task.id)
        assert first.status == "active"  # the task row stands as first written

        reply = await b.say("admin1", "改期 K2 12月20日 等待省厅数据")
        assert "截止日期改为12月20日" in reply
        assert any("【任务改期】" in m for m in b.wecom.sent_texts("zhangsan"))
        assert (await _tasks(database, "椒江区"))["K2"].task.due == date(2026, 12, 20)
        assert "未重复记录" in await b.say("admin1", "改期 K2 12月20日 等待省厅数据")
        assert "进度" and "12月20日" in await b.say("zhangsan", "进度")

        # A date already past is asked about, and only 确认 writes it.
        revs = await _count(database, TaskRevision)
        reply = await b.say("admin1", "改期 K2 10月1日 补录")
        assert "已经过去" in reply and "确认" in reply
        assert "10月1日已经过去" in reply and "2026-" not in reply  # days as 10月1日
        assert await _count(database, TaskRevision) == revs
        assert "已取消，未作任何改动" in await b.say("admin1", "取消")
        assert (await _tasks(database, "椒江区"))["K2"].task.due == date(2026, 12, 20)
        await b.say("admin1", "改期 K2 10月1日 补录")
        assert "截止日期改为10月1日" in await b.say("admin1", "确认")


async def test_past_due_and_double_assignment_ask_first(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 20)
        reply = await b.say("admin1", "布置任务 椒江区 11月1日 补报十月数据")
        assert "已经过去" in reply and "确认" in reply
        assert "截止日期11月1日已经过去（今天是11月20日）" in reply
        assert await _count(database, Task) == 0
        assert "已向1个单位布置任务K1" in await b.say("admin1", "确认")

        await b.say("admin1", "布置任务 椒江区 12月10日 报送进展")
        reply = await b.say("admin1", "布置任务 椒江区 12月10日 报送进展")
        assert "今年已有同名任务「报送进展」" in reply
        assert await _count(database, Task) == 2
        assert "已取消" in await b.say("admin1", "取消")
        assert await _count(database, Task) == 2
        # The next number follows on: K3, not K4.
        assert "K3" in await b.say("admin1", "布置任务 路桥区 12月10日 另一项")


async def test_same_command_twice_and_voids(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 20)
        await b.say("admin1", "布置任务 椒江区 12月10日 报送进展")
        assert "已确认椒江区完成任务K1" in await b.say("admin1", "任务完成 椒江区 K1 已验收")
        assert "未重复记录" in await b.say("admin1", "任务完成 椒江区 K1 已验收")
        assert await _count(database, AdminEntry) == 1

        assert "已为椒江区记录" in await b.say("admin1", "打分 椒江区 C2 6 网络健全")
        reply = await b.say("admin1", "打分 椒江区 C2 6 网络健全")
        assert "已为椒江区记录过同样的一条（E2" in reply and "确认" in reply
        assert await _count(database, AdminEntry) == 2
        assert "已取消" in await b.say("admin1", "取消")
        assert await _count(database, AdminEntry) == 2

        # 撤销 E2: a VOID row, the score goes back; twice is once; not someone else's entry.
        assert "请写明理由" in await b.say("admin1", "撤销 E2")
        reply = await b.say("admin1", "撤销 E2 误打")
        assert "已撤销椒江区的记录E2（评分 工作网络建设（C2a）6；" in reply
        assert re.search(
            r"得分已重新计算：椒江区基本分[\d.]+→[\d.]+（工作网络建设（C2a）6→0）", reply
        )
        assert any("【评分更正】" in m and "E2" in m for m in b.wecom.sent_texts("zhangsan"))
        assert "已经撤销，未重复记录" in await b.say("admin1", "撤销 E2 误打")
        async with database.session() as s:
            rows = (await s.exec(select(AdminEntry).order_by(AdminEntry.id))).all()
        assert [(r.kind, r.voids_id, r.actor, r.reason) for r in rows[2:]] == [
            ("void", 2, "admin1", "误打")
        ]
        async with database.session() as s:
            await ledger.add_entry(
                s, unit_id=rows[1].unit_id, year=2026, kind="points", rule="C4.1",
                actor="other-admin", value=1, reason="别人的",
            )  # fmt: skip
            await s.commit()
        assert "只能由录入人本人撤销" in await b.say("admin1", "撤销 E4 不对")

        # 作废 S1: a submission logged by mistake stops counting; the liaison is told.
        await b.say("zhangsan", "政务信息：发错的一条\n正文")
        reply = await b.say("admin1", "作废 S1 与创模工作无关")
        assert "已作废椒江区的报送S1" in reply
        assert any("已被市创模办作废" in m for m in b.wecom.sent_texts("zhangsan"))
        assert "未重复记录" in await b.say("admin1", "作废 S1 与创模工作无关")
        async with database.session() as s:
            view = await ledger.get_submission(s, 1)
        assert view.status.value == "withdrawn"
        # A liaison cannot void; their own 撤回 still works as before.
        assert "仅限市创模办管理员" in await b.say("zhangsan", "作废 S1 不要了")


async def test_tally_of_a_year_without_records_says_so_and_sends_no_file(
    database, tmp_path: Path
) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 11, 20)
        reply = await b.say("admin1", "汇总 2025")
        assert "2025年度没有任何考核记录" in reply and "合格" not in reply
        await b.say("zhangsan", "政务信息：一条\n正文")
        reply = await b.say("admin1", "汇总 2026")
        assert "2026年度考核汇总" in reply
        for _ in range(200):  # the workbook and the chart go out after the reply
            if len(b.wecom.uploads) >= 2:
                break
            await asyncio.sleep(0.05)
        names = sorted(m.filename for m in b.wecom.uploads.values())
        assert len(names) == 2 and all("2026" in n for n in names), names  # none for 2025


async def test_a_charter_number_means_this_years_task_first(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 12, 10)  # next year's 责任书 already set up
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            for year in (2026, 2027):
                await ledger.add_task(
                    s, unit_id=unit.id, kind="annual_target", due=date(year, 12, 31),
                    actor="cmb", title=f"{year} 指标", code="A1", year=year,
                )  # fmt: skip
            await s.commit()
        assert "「2026 指标」" in await b.say("admin1", "取消任务 椒江区 A1 指标调整")
        async with database.session() as s:
            left = {v.task.year for v in await ledger.list_tasks(s, unit.id, 2027)}
        assert left == {2027}
