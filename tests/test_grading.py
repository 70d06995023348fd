"""Final grades checked against seed 000 第七条: 定级 above what the score allows is refused unless
stated as an exception; an exception is recorded as such and marked in the workbook."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import load_workbook

from storage import ledger
from storage.grades import grade_history
from storage.units import get_unit_by_name
from tally.service import year_tally
from tests.chat_env import bench


async def test_grades_are_checked_and_exceptions_marked(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            await ledger.add_task(
                s, unit_id=unit.id, kind="annual_target", due=date(2026, 10, 31),
                actor="cmb", title="城区污水管网改造", code="A1",
            )  # fmt: skip
            await s.commit()
        b.clock.set(2027, 1, 10)  # the assessment of 2026, in January 2027 (第十一条)

        # A1 was due and not completed: 不合格 whatever the score (第七条).
        reply = await b.say("admin1", "定级 椒江区 合格 工作量大")
        assert "未记录" in reply and "年度任务逾期未完成：A1" in reply
        assert "最高可评「不合格」" in reply and "定级 椒江区 合格 例外 理由" in reply
        assert "请写明定级理由" in await b.say("admin1", "定级 椒江区 合格")

        reply = await b.say("admin1", "定级 椒江区 合格 例外 省里同意延期，经领导小组研究")
        assert "已按例外确定椒江区2026年度等次为「合格」" in reply
        # Below what the score allows is the group's judgement: recorded as a normal grade.
        reply = await b.say("admin1", "定级 路桥区 不合格 例外 暗访发现问题")
        assert "已确定路桥区2026年度等次为「不合格」" in reply and "无需按例外处理" in reply
        assert "提前定级" not in reply  # January: the year is over
        # 良好 needs 80: 路桥区 has far less.
        assert "最高可评「合格」" in await b.say("admin1", "定级 路桥区 良好 表现不错")

        async with database.session() as s:
            history = await grade_history(s, unit.id, 2026)
        assert [(g.grade, g.exception, g.actor) for g in history] == [("合格", True, "admin1")]

        result = await year_tally(database, 2026, as_of=date(2027, 1, 10), out_dir=tmp_path)
        ws = load_workbook(result.xlsx_path)["汇总-chuangmo-taizhou"]
        headers = [c.value for c in ws[2]]
        rows = {
            r[1]: dict(zip(headers, r, strict=True))
            for r in ws.iter_rows(min_row=3, values_only=True)
        }
        assert rows["椒江区"]["最终等次"] == "合格（例外）"
        assert rows["椒江区"]["确认说明"].startswith("【例外】admin1")
        assert rows["路桥区"]["最终等次"] == "不合格"
        # chat's 汇总 says what the workbook says
        assert "椒江区：" in result.summary_text
        line = next(x for x in result.summary_text.split("\n") if "椒江区：" in x)
        assert line.endswith("分，合格（例外）"), line
        assert "分，合格（例外）" in await b.say("admin1", "汇总 2026")
        # and so does the unit's card
        assert "【已确定等次】2026年度：合格（例外）（" in await b.say("zhangsan", "我的得分 2026")


async def test_a_confirmed_grade_stands_above_the_score_card(database, tmp_path: Path) -> None:
    """After 定级 the unit's 「我的得分」 and the admin's 「得分 路桥区」 lead with the grade the
    office confirmed (the card's 建议等次 stays below it, for reference); before it, none."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 12, 20)
        await b.say("wangwu", "政务信息：河道保洁进展\n本周完成清淤3公里。")  # a record of the year
        assert "已确定等次" not in await b.say("wangwu", "我的得分")
        reply = await b.say("admin1", "定级 路桥区 不合格 例外 暗访发现问题")
        assert "已确定路桥区2026年度等次为「不合格」" in reply
        assert "2026年度尚未结束，此为提前定级" in reply  # said when the year is not over
        for user, text in (("wangwu", "我的得分"), ("admin1", "得分 路桥区")):
            card = await b.say(user, text)
            first, second = card.split("\n")[:2]
            assert "路桥区2026年度得分" in first
            assert second.startswith(
                "【已确定等次】2026年度：不合格（12月20日确定，理由：暗访发现问题）"
            )
            assert "建议等次" in card


async def test_a_grade_word_it_does_not_know_gets_how_to_write_it(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        for text in ("定级 路桥区 很好 理由", "定级", "定级：椒江区"):
            reply = await b.say("admin1", text)
            assert "优秀、良好、合格、不合格之一" in reply and "定级 椒江区 良好 按建议" in reply
            assert "没有听懂" not in reply
        assert "请写明定级理由" in await b.say("admin1", "定级 路桥区 合格")  # still the real one
