"""The 责任书: template → filled file → import → W1/W2 as seed 000's worked example; the same file
twice; a changed file as ledger rows; a bad file; the workbook sent in chat and confirmed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import func, select

from handlers.scoretext import unit_card
from handlers.targets import import_charter
from storage import ledger
from storage.charter_file import CharterFileError, read_charter, write_template
from storage.models import Task, TaskRevision
from storage.units import get_unit_by_name
from tests.chat_env import bench, seed

YEAR = 2026
DONE_AT = datetime(YEAR, 9, 1, tzinfo=UTC)  # before every due date below
A_TITLES = ["城区污水管网改造", "黑臭水体整治", "餐饮油烟治理", "扬尘管控"]
P_TITLES = ["第二污水处理厂扩建", "垃圾焚烧发电厂", "椒江河道综合整治", "工业园区集中供热"]


def fill(template: Path, out: Path, rows: list[list[object]]) -> Path:
    """What the office does: open the template, type rows under the example, save."""
    wb = load_workbook(template)
    ws = wb.worksheets[0]
    for row in rows:
        ws.append(row)
    wb.save(out)
    return out


def charter_rows() -> list[list[object]]:
    rows: list[list[object]] = []
    for n, title in enumerate(A_TITLES, start=1):
        rows.append(["椒江区", "年度工作指标", f"A{n}", title, None, None, None])
    for n, title in enumerate(P_TITLES, start=1):
        rows.append(["椒江区", "重点工程", f"P{n}", title, date(YEAR, 11, 30), None, None])
    rows.append(["路桥区", "年度工作指标", "A1", "农村生活污水治理", "2026-10-31", None, None])
    rows.append(["路桥区", "年度工作指标", "A2", "工业固废规范处置", None, None, None])
    rows.append(["路桥区", "年度工作指标", "A3", "海域污染治理", None, "本区无海岸线", "不适用"])
    return rows


def write_csv(path: Path, header: str, rows: list[list[object]], encoding: str) -> Path:
    body = "\n".join(",".join("" if c is None else str(c) for c in r) for r in rows)
    path.write_text(f"{header}\n{body}", encoding=encoding)
    return path


async def counts(db) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        tasks = (await s.exec(select(func.count()).select_from(Task))).one()
        revs = (await s.exec(select(func.count()).select_from(TaskRevision))).one()
    return tasks, revs


async def complete(db, unit: str, refs: list[str]) -> None:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        u = await get_unit_by_name(s, unit)
        views = {v.ref: v for v in await ledger.list_tasks(s, u.id, YEAR)}
        for ref in refs:
            await ledger.complete_task(
                s, views[ref].task.id, actor="admin1", reason="已验收", at=DONE_AT
            )
        await s.commit()


async def card(db, unit: str):  # type: ignore[no-untyped-def]
    async with db.session() as s:
        u = await get_unit_by_name(s, unit)
    return await unit_card(db, u.id, u.scheme_id, YEAR, date(YEAR + 1, 1, 10))


def test_template_has_header_lists_example_and_help(tmp_path: Path) -> None:
    path = write_template(tmp_path / "责任书.xlsx", 2027, ["椒江区", "路桥区"])
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    assert ws.title == "责任书2027"
    assert [c.value for c in ws[1]] == ["单位", "类别", "编号", "名称", "截止日期", "说明", "状态"]
    assert str(ws["A2"].value).startswith("（示例）")
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"年度工作指标,重点工程"' in formulas
    assert "'单位列表'!$A$1:$A$2" in formulas
    assert [c.value for c in wb["单位列表"]["A"]] == ["椒江区", "路桥区"]
    assert "填写说明" in wb.sheetnames and "2027" in wb["填写说明"]["A1"].value
    # The untouched template imports as "no rows" (the example row is ignored), not as a task.
    with pytest.raises(CharterFileError, match="没有任何任务行"):
        read_charter(path, 2027)


async def test_import_scores_w1_w2_as_the_worked_example(database, tmp_path: Path) -> None:
    await seed(database)
    template = write_template(tmp_path / "t.xlsx", YEAR, ["椒江区", "路桥区"])
    filled = fill(template, tmp_path / "责任书2026.xlsx", charter_rows())

    plan, applied = await import_charter(
        database, filled, YEAR, actor="cmb", reason="导入", apply=True
    )
    assert applied is not None and (applied.added, applied.changed) == (11, 0)
    jiaojiang = next(u for u in plan.units if u.unit == "椒江区")
    assert (jiaojiang.targets, jiaojiang.projects) == (4, 4)

    # seed 000 第四条: four targets, two completed → 20; four projects, two completed → 10.
    await complete(database, "椒江区", ["A1", "A3", "P2", "P4"])
    c = await card(database, "椒江区")
    assert c.rule("W1.1").value == Decimal(20) and c.rule("W1.1").max == Decimal(40)
    assert c.rule("W2.1").value == Decimal(10) and c.rule("W2.1").max == Decimal(20)
    # 路桥区 has no key project: its targets carry 60; the 不适用 row does not count.
    await complete(database, "路桥区", ["A1"])
    c = await card(database, "路桥区")
    assert c.rule("W1.1").max == Decimal(60)
    assert c.rule("W1.1").value == Decimal(30)  # 1 of 2 counted targets × 30
    # ... and its W2 is settled at 0, not "任务尚未下达" waiting forever
    assert c.rule("W2.1").max == 0 and not c.rule("W2.1").pending
    assert not any("任务尚未下达" in line for line in c.open)

    # Default due date: 12-31 of the year; a due date written as text is read.
    async with database.session() as s:
        u = await get_unit_by_name(s, "路桥区")
        views = {v.ref: v for v in await ledger.list_tasks(s, u.id, YEAR, include_inactive=True)}
    assert views["A1"].task.due == date(YEAR, 10, 31)
    assert views["A2"].task.due == date(YEAR, 12, 31)
    assert views["A3"].task.status == "not_applicable" and views["A3"].task.note == "本区无海岸线"

    # The same file again changes nothing.
    before = await counts(database)
    plan, applied = await import_charter(
        database, filled, YEAR, actor="cmb", reason="再导入", apply=True
    )
    assert plan.to_apply == [] and applied is None
    assert await counts(database) == before


async def test_changed_file_is_applied_as_ledger_rows(database, tmp_path: Path) -> None:
    await seed(database)
    rows = charter_rows()
    first = write_csv(
        tmp_path / "v1.csv", "单位,类别,编号,名称,截止日期,说明,状态", rows, "utf-8-sig"
    )
    await import_charter(database, first, YEAR, actor="cmb", reason="v1", apply=True)
    await complete(database, "椒江区", ["P4"])

    # v2: A2 re-titled, P1 re-dated, A4 and P4 gone, A5 new (English header, plain UTF-8).
    v2 = [r for r in rows if not (r[0] == "椒江区" and r[2] in ("A4", "P4"))]
    v2 = [list(r) for r in v2]
    for r in v2:
        if r[0] == "椒江区" and r[2] == "A2":
            r[3] = "黑臭水体整治（含城郊）"
        if r[0] == "椒江区" and r[2] == "P1":
            r[4] = "2026-12-20"
    v2.append(["椒江区", "年度工作指标", "A5", "新增指标", None, None, None])
    second = write_csv(tmp_path / "v2.csv", "unit,kind,ref,title,due,note,status", v2, "utf-8")
    tasks_before, _ = await counts(database)
    plan, _ = await import_charter(database, second, YEAR, actor="cmb", reason="v2", apply=False)
    kinds = {(c.kind.value, c.ref): c.fields for c in plan.changes}
    assert kinds == {
        ("changed", "A2"): ("名称",),
        ("changed", "P1"): ("截止日期",),
        ("added", "A5"): (),
        ("withdrawn", "A4"): (),
        ("kept_done", "P4"): (),  # confirmed complete: never withdrawn by an import
    }
    assert await counts(database) == (tasks_before, 0)  # a preview writes nothing

    _, applied = await import_charter(
        database, second, YEAR, actor="cmb", reason="v2 调整", apply=True
    )
    assert applied is not None and (applied.added, applied.changed, applied.withdrawn) == (1, 2, 1)
    async with database.session() as s:
        u = await get_unit_by_name(s, "椒江区")
        first_rows = {t.code: t for t in (await s.exec(select(Task).where(Task.unit_id == u.id)))}
        revs = (await s.exec(select(TaskRevision))).all()
        now = {v.ref: v for v in await ledger.list_tasks(s, u.id, YEAR)}
    # The first versions stand as written; the changes are revisions with who and why.
    assert first_rows["A2"].title == "黑臭水体整治" and first_rows["P1"].due == date(YEAR, 11, 30)
    assert {(r.actor, r.reason.startswith("v2 调整")) for r in revs} == {("cmb", True)}
    assert now["A2"].task.title == "黑臭水体整治（含城郊）"
    assert now["P1"].task.due == date(YEAR, 12, 20)
    assert "A4" not in now and "P4" in now and "A5" in now
    c = await card(database, "椒江区")
    assert c.rule("W1.1").max == Decimal(40)
    assert "共4项，已完成0项，每项10分" in c.rule("W1.1").explanation  # A1 A2 A3 A5 (A4 withdrawn)
    assert "共4项，已完成1项，每项5分" in c.rule("W2.1").explanation  # P1 P2 P3, P4 kept and done
    # Importing v2 again: nothing.
    plan, applied = await import_charter(
        database, second, YEAR, actor="cmb", reason="x", apply=True
    )
    assert [c.kind.value for c in plan.changes] == ["kept_done"] and applied is None


async def test_bad_file_names_every_row_and_applies_nothing(database, tmp_path: Path) -> None:
    await seed(database)
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "单位,类别,编号,名称,截止日期\n"
        "椒江区,年度工作指标,A1,好的一行,\n"
        "椒江区,年度指标,A2,类别不对,\n"
        "椒江区,年度工作指标,A1,重复编号,\n"
        "椒江区,重点工程,P1,日期不对,2026-13-01\n"
        "椒江区,重点工程,P2,跨年,2027-01-05\n",
        encoding="utf-8",
    )
    with pytest.raises(CharterFileError) as err:
        await import_charter(database, bad, YEAR, actor="cmb", reason="x", apply=True)
    text = "\n".join(err.value.errors)
    assert len(err.value.errors) == 4
    assert "第3行：类别应为" in text and "第4行：编号A1与第2行重复" in text
    assert "第5行：截止日期「2026-13-01」无法识别" in text and "第6行：截止日期2027-01-05" in text

    unknown = tmp_path / "unknown.csv"
    unknown.write_text(
        "单位,类别,编号,名称\n椒江区,年度工作指标,A1,好\n三门县,年度工作指标,A1,未登记\n"
        "黄岩区环保局,重点工程,P1,方案无此类任务\n",
        encoding="utf-8",
    )
    with pytest.raises(CharterFileError) as err:
        await import_charter(database, unknown, YEAR, actor="cmb", reason="x", apply=True)
    text = "\n".join(err.value.errors)
    assert "第3行：单位「三门县」未登记" in text
    assert "第4行：黄岩区环保局的考核方案 epb-district-2007 没有「重点工程」" in text
    assert await counts(database) == (0, 0)


async def test_workbook_sent_in_chat_and_confirmed(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(YEAR, 1, 10)
        template = write_template(tmp_path / "t.xlsx", YEAR, ["椒江区", "路桥区"])
        content = fill(template, tmp_path / "f.xlsx", charter_rows()).read_bytes()
        media = b.wecom.add_media(content, "2026年责任书.xlsx", "application/vnd.ms-excel")
        answer = await b.peer.send_media(
            b.client, user="admin1", msg_type="file", media_id=media, FileName="2026年责任书.xlsx"
        )
        preview = answer.content or ""
        assert "按2026年度核对" in preview, preview
        assert "椒江区：年度工作指标4项，重点工程4项" in preview
        assert "路桥区：年度工作指标2项，重点工程0项，不适用1项" in preview
        assert "新增11项" in preview and "回复「确认」" in preview
        assert await counts(database) == (0, 0)  # nothing before 确认

        reply = await b.say("admin1", "确认")
        assert "已导入2026年度责任书：新增11项" in reply
        assert any("年度工作指标4项，重点工程4项" in t for t in b.wecom.sent_texts("zhangsan"))
        assert await counts(database) == (11, 0)
        assert "当前没有待确认的操作" in await b.say("admin1", "确认")

        # The liaison sees the 责任书 with its deadlines; the admin sees any unit's.
        mine = await b.say("zhangsan", "我的任务")
        assert "A1 [年度工作指标] 城区污水管网改造（截止12月31日）" in mine
        assert "P1 [重点工程] 第二污水处理厂扩建（截止11月30日）" in mine
        assert "路桥区" not in mine
        listed = await b.say("admin1", "责任书 路桥区")
        assert "A3 [年度工作指标] 海域污染治理（不适用；本区无海岸线）" in listed
        assert "只能查看本单位" in await b.say("wangwu", "责任书 椒江区")

        # The same workbook again: nothing to do, nothing waits for 确认.
        media = b.wecom.add_media(content, "2026年责任书.xlsx", "application/vnd.ms-excel")
        answer = await b.peer.send_media(
            b.client, user="admin1", msg_type="file", media_id=media, FileName="2026年责任书.xlsx"
        )
        assert "完全一致，无需导入" in (answer.content or "")
        assert "当前没有待确认的操作" in await b.say("admin1", "确认")


def test_charter_tasks_are_reminded_until_confirmed() -> None:
    from reminders.calendar import WorkCalendar
    from reminders.deadlines import deadlines_for
    from reminders.texts import owed_text
    from scoring import Facts, load_builtin
    from scoring.facts import Task as FactTask

    tasks = (
        FactTask("A1", "annual_target", date(YEAR, 6, 30), "城区污水管网改造"),
        FactTask("P1", "key_project", date(YEAR, 12, 31), "污水厂扩建", completed_at=DONE_AT),
    )
    found = {
        d.key: d
        for d in deadlines_for(
            load_builtin("chuangmo-taizhou"), Facts("椒江区", YEAR, tasks=tasks), WorkCalendar()
        )
        if d.kind == "target"
    }
    assert set(found) == {"W1.1@A1", "W2.1@P1"}
    assert not found["W1.1@A1"].done and found["W2.1@P1"].done
    assert found["W1.1@A1"].due == date(YEAR, 6, 30)
    assert "城区污水管网改造」尚未确认完成" in owed_text(found["W1.1@A1"], WorkCalendar())
