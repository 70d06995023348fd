"""The year-end tally: the workbook's numbers against the scoring engine for every unit, its sheets
and formats, the CSV, the chart, the chat summary, ranks and final grades."""

from __future__ import annotations

import csv
import random
import shutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from tally_helpers import AS_OF, RUNNING, YEAR, seed, seed_file, unit_facts

from handlers.channel import TEXT_LIMIT
from handlers.lookup import rule_ref
from scoring import Facts, load_builtin, score
from scoring.facts import Task
from storage.db import Database
from storage.facts import build_all_facts
from storage.grades import GradeError, final_grades, grade_history, set_final_grade
from tally import build_tally, rank_of, summary_text, year_tally
from tally.build import TallyUnit
from tally.excel import FIRST_ROW, HEADER_ROW, NUMBER_FORMAT, write_csv
from tally.service import end_of_day, load_tally

SCHEMES = ("chuangmo-taizhou", "epb-district-2007")


@pytest.fixture(scope="module")
def seeded(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tally") / "seeded.db"
    seed_file(path, sqlite_template)
    return path


@pytest.fixture
async def db(seeded: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    copy = tmp_path / "kaohe.db"
    shutil.copyfile(seeded, copy)
    database = Database(f"sqlite+aiosqlite:///{copy}")
    yield database
    await database.dispose()


@pytest.fixture(scope="module")
def exported(seeded: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """year_tally as of AS_OF, once for the module: (result, workbook)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    out = tmp_path_factory.mktemp("out")

    async def run():  # type: ignore[no-untyped-def]
        database = Database(f"sqlite+aiosqlite:///{seeded}")
        try:
            return await year_tally(database, YEAR, as_of=AS_OF, out_dir=out)
        finally:
            await database.dispose()

    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, run()).result()
    return result, load_workbook(result.xlsx_path)


def _f(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


async def _engine_cards(database: Database, as_of: date) -> dict[str, object]:
    """unit → score card, the way the bot scores: ledger facts + the unit's scheme."""
    async with database.session() as s:
        found = await build_all_facts(s, YEAR, known_at=end_of_day(as_of))
    return {uf.unit.name: score(load_builtin(uf.scheme_id), uf.facts, as_of) for uf in found}


def _summary_rows(ws) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    headers = [c.value for c in ws[HEADER_ROW]]
    rows = {}
    for values in ws.iter_rows(min_row=FIRST_ROW, values_only=True):
        if values[1] is None or values[0] is None or not isinstance(values[0], int):
            continue
        rows[values[1]] = dict(zip(headers, values, strict=True))
    return rows


# --- the numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", [AS_OF, RUNNING], ids=["year-end", "running"])
async def test_workbook_numbers_are_the_engines_for_every_unit(
    database: Database, tmp_path: Path, as_of: date
) -> None:
    await seed(database)
    result = await year_tally(database, YEAR, as_of=as_of, out_dir=tmp_path)
    cards = await _engine_cards(database, as_of)
    files = unit_facts()
    wb = load_workbook(result.xlsx_path)
    seen = set()
    for scheme_id in SCHEMES:
        scheme = load_builtin(scheme_id)
        ws = wb[f"汇总-{scheme_id}"]
        rows = _summary_rows(ws)
        assert set(rows) == {n for n, (_, sid, _) in files.items() if sid == scheme_id}
        columns = [i for i in scheme.items if not i.bonus and not i.shares]
        headers = [c.value for c in ws[HEADER_ROW]]
        switched = {"W1": "，无重点工程时60分", "W2": "，无重点工程时0分"}  # seed 000 第四条
        assert headers[3 : 3 + len(columns)] == [
            f"{i.id}{'、'.join([i.name] + [j.name for j in scheme.items if j.shares == i.id])}"
            f"（{i.points}分{switched.get(i.id, '')}）"
            for i in columns
        ]
        for unit, row in rows.items():
            card = cards[unit]
            values = list(row.values())
            for n, item in enumerate(columns):
                assert values[3 + n] == _f(card.item(item.id).score), (unit, item.id)
            assert row["基本分"] == float(card.base_total)
            assert row["加分"] == float(card.bonus)
            assert row["总分"] == float(card.total)
            # the items add up to the base total the sheet shows
            assert sum(Decimal(str(values[3 + n])) for n in range(len(columns))) == card.base_total
            # and the ledger path agrees with the facts file scored directly
            assert card.total == score(scheme, files[unit][2], as_of).total
            grade = card.grade
            assert row["建议等次"] == (
                "—" if grade is None else grade.level + ("（暂定）" if grade.provisional else "")
            )
            seen.add(unit)
    assert seen == set(files)


async def test_ranks_ties_and_final_grades(db: Database) -> None:
    tally = await load_tally(db, YEAR, as_of=AS_OF)
    cm = tally.scheme("chuangmo-taizhou")
    ranks = {r.unit: r.rank for r in cm.rows}
    assert ranks["椒江区"] == ranks["黄岩区"] == 2  # the same facts: the same total, the same rank
    assert ranks["路桥区"] == 4  # after a tie the next rank skips
    assert [r.rank for r in cm.rows] == sorted(r.rank for r in cm.rows)
    totals = [r.total for r in cm.rows]
    assert totals == sorted(totals, reverse=True)
    linhai = tally.row("临海市")
    assert linhai.final is not None and linhai.final.grade == "良好"  # the latest row wins
    assert linhai.card.grade is not None and linhai.card.grade.level == "不合格"
    assert linhai.grade == "良好" and linhai.confirmed
    assert not tally.row("椒江区").confirmed
    # a tally as of a day before the confirmation does not know it yet
    before = await load_tally(db, YEAR, as_of=date(2027, 1, 16))
    assert before.row("临海市").final is not None
    assert before.row("临海市").final.grade == "优秀"
    assert (await load_tally(db, YEAR, as_of=date(2027, 1, 15))).row("临海市").final is None


def test_one_rounding_rule_for_chat_workbook_and_chart() -> None:
    """`shown()` rounds once, half up, to two decimals; `fmt()` (chat, chart labels, dashboard)
    and the workbook's numbers (General format) both come from it: 71.59 everywhere."""
    from bot.dashboard.views import points
    from scoring.numbers import fmt, shown
    from tally.excel import NUMBER_FORMAT, _num

    values = [Decimal(v) for v in ("71.59", "71.6", "1.155", "-0.001", "6")]
    assert [fmt(v) for v in values] == ["71.59", "71.6", "1.16", "0", "6"]
    assert [points(v) for v in values] == [fmt(v) for v in values]  # the dashboard
    assert [_num(v) for v in values] == [71.59, 71.6, 1.16, 0.0, 6.0]
    assert [_num(v) for v in values] == [float(shown(v)) for v in values]
    assert NUMBER_FORMAT == "General"  # shows 71.59 as 71.59, 6 as 6


def test_rank_of_shares_ranks() -> None:
    d = Decimal
    assert rank_of([d("90"), d("85.5"), d("85.5"), d("70"), d("85.5")]) == [1, 2, 2, 5, 2]
    assert rank_of([]) == []
    assert rank_of([d("85.50"), d("85.5"), d("90.00")]) == [2, 2, 1]  # equal values, one rank
    rng = random.Random(7)
    totals = [d(rng.randrange(0, 2000)) / 20 for _ in range(500)]  # many ties
    by_definition = [1 + sum(1 for other in totals if other > mine) for mine in totals]
    assert rank_of(totals) == by_definition


def test_build_is_pure_and_filters_schemes() -> None:
    files = unit_facts()
    units = [TallyUnit(n, k, sid, f) for n, (k, sid, f) in files.items()]
    units.append(TallyUnit("外星局", "department", "no-such-scheme", Facts("外星局", YEAR)))
    schemes = {sid: load_builtin(sid) for sid in SCHEMES}
    one = build_tally(units, schemes, AS_OF, year=YEAR)
    two = build_tally(units, schemes, AS_OF, year=YEAR)
    assert one == two
    assert one.skipped == ("外星局（方案 no-such-scheme 不存在）",)
    only = build_tally(units, schemes, AS_OF, year=YEAR, scheme_ids=["epb-district-2007"])
    assert [s.id for s in only.schemes] == ["epb-district-2007"]
    assert {o.scheme_id for o in only.open_items} <= {"epb-district-2007"}


# --- sheets and formats --------------------------------------------------------------------------


def test_sheets_headers_frozen_panes_formats_and_print_setup(exported) -> None:  # type: ignore[no-untyped-def]
    _, wb = exported
    assert wb.sheetnames == [
        "汇总-chuangmo-taizhou",
        "汇总-epb-district-2007",
        "明细-chuangmo-taizhou",
        "明细-epb-district-2007",
        "待办事项",
        "图表",
    ]
    for ws in wb.worksheets[:5]:
        assert ws.freeze_panes in ("C3", "B3")
        assert ws.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.cell(HEADER_ROW, 1).font.bold
        for letter in ("A", "B"):
            assert ws.column_dimensions[letter].width >= 6
    summary = wb["汇总-chuangmo-taizhou"]
    assert summary.freeze_panes == "C3"
    assert "2026年度考核汇总表" in summary.cell(1, 1).value
    assert "（截至2027年1月20日）" in summary.cell(1, 1).value
    headers = [c.value for c in summary[HEADER_ROW]]
    assert headers[:3] == ["排名", "单位", "类型"]
    for name in ("基本分", "加分", "总分", "建议等次", "最终等次", "等次确认"):
        assert name in headers
    numeric = [headers.index(h) + 1 for h in headers if h.startswith(("C", "W"))] + [
        headers.index(h) + 1 for h in ("基本分", "加分", "总分")
    ]
    for r in range(FIRST_ROW, FIRST_ROW + 5):
        for col in numeric:
            cell = summary.cell(r, col)
            assert isinstance(cell.value, int | float), (r, col)
            assert cell.number_format == NUMBER_FORMAT == "General"
    assert summary.column_dimensions["B"].width >= 8  # unit names fit
    rows = _summary_rows(summary)
    assert rows["临海市"]["最终等次"] == "良好"
    assert rows["临海市"]["等次确认"] == "已确认"
    assert "复核" in rows["临海市"]["确认说明"]
    assert rows["椒江区"]["等次确认"] == "未确认"
    assert rows["市住建局"]["类型"] == "部门"
    # the chart is in the workbook
    assert len(wb["图表"]._images) == 1


def test_detail_sheet_explains_every_rule(exported) -> None:  # type: ignore[no-untyped-def]
    result, wb = exported
    tally = result.tally
    for st in tally.schemes:
        ws = wb[f"明细-{st.id}"]
        headers = [c.value for c in ws[HEADER_ROW]]
        assert headers[:3] == ["单位", "项目", "指标"] and "计分说明" in headers
        body = [r for r in ws.iter_rows(min_row=FIRST_ROW, values_only=True)]
        scheme = load_builtin(st.id)
        expected = [  # codes as the office types them back (C4a, not C4.1), as chat shows them
            (row.unit, rule_ref(scheme, rule.id), rule.explanation, float(rule.value))
            for row in st.rows
            for item in row.card.items
            for target in item.targets
            for rule in target.rules
        ]
        got = [(r[0], r[6], r[11], abs(r[9])) for r in body]
        assert got == expected
        assert ws.cell(FIRST_ROW, 10).number_format == "General"


def test_open_items_sheet(exported) -> None:  # type: ignore[no-untyped-def]
    result, wb = exported
    ws = wb["待办事项"]
    assert [c.value for c in ws[HEADER_ROW]] == ["单位", "方案", "类别", "指标", "内容"]
    rows = list(ws.iter_rows(min_row=FIRST_ROW, values_only=True))
    assert len(rows) == len(result.tally.open_items) > 0
    unreviewed = [r for r in rows if r[0] == "椒江区环保局" and r[2] == "待审核"]
    assert len(unreviewed) == 4 and all(r[3] == "T16" for r in unreviewed)  # December, unreviewed
    assert not [r for r in rows if r[0] == "路桥区环保局" and r[2] == "待审核"]
    assert any(r[0] == "路桥区" and r[2] == "待评分" and r[3] == "C2.1" for r in rows)
    assert not any(r[0] == "椒江区" and r[3] == "C2.1" for r in rows)  # scored


def test_chart_is_a_real_png(exported) -> None:  # type: ignore[no-untyped-def]
    result, _ = exported
    with Image.open(result.png_path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert 800 <= width <= 5000 and 400 <= height <= 5000
        colors = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colors is not None and len(colors) > 50  # bars, labels, lines: not blank
    from tally.chart import cjk_font

    assert cjk_font() is not None, "noto-cjk-sans-otc (a dependency) is missing"


def test_summary_text(exported) -> None:  # type: ignore[no-untyped-def]
    result, _ = exported
    text = result.summary_text
    assert len(text.encode("utf-8")) <= TEXT_LIMIT
    assert text.startswith("2026年度考核汇总，截至2027年1月20日")
    assert "1. 临海市：86.38分，良好" in text
    assert "2. 椒江区" in text and "2. 黄岩区" in text
    assert "待审核8项" in text


def test_summary_text_stays_short_with_many_units() -> None:
    scheme = load_builtin("chuangmo-taizhou")
    task = (Task("A1", "annual_target", date(YEAR, 12, 31)),)  # a year with records
    units = [
        TallyUnit(
            f"{'很长的单位名称' * 6}{n}", "department", scheme.id, Facts(f"u{n}", YEAR, tasks=task)
        )
        for n in range(300)
    ]
    tally = build_tally(units, {scheme.id: scheme}, RUNNING, year=YEAR)
    text = summary_text(tally)
    assert len(text.encode("utf-8")) <= TEXT_LIMIT
    assert text.endswith("得分图。")
    empty = build_tally(units[:3], {scheme.id: scheme}, RUNNING, year=YEAR)
    assert empty.records == 3
    nothing = [TallyUnit(u.name, u.kind, u.scheme_id, Facts(u.name, YEAR)) for u in units[:3]]
    assert summary_text(build_tally(nothing, {scheme.id: scheme}, RUNNING, year=YEAR)).startswith(
        f"{YEAR}年度没有任何考核记录"
    )


def test_csv_has_bom_and_the_same_numbers(exported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result, _ = exported
    path = write_csv(result.tally, tmp_path / "t.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:4] == ["方案", "排名", "单位", "类型"]
    by_unit = {}
    for r in rows:
        if r and r[0] == "方案":
            header = r  # each scheme's block has its own header
        elif r:
            by_unit[r[2]] = dict(zip(header, r, strict=True))
    assert [r[0] for r in rows if r].count("方案") == 2 and [] in rows
    for row in result.tally.rows:
        assert Decimal(by_unit[row.unit]["总分"]) == row.total
        assert Decimal(by_unit[row.unit]["基本分"]) == row.base_total


# --- final grades in storage ---------------------------------------------------------------------


async def test_final_grade_rows_are_appended_and_checked(db: Database) -> None:
    async with db.session() as s:
        unit_id = (await final_grades(s, YEAR)).popitem()[0]
        history = await grade_history(s, unit_id, YEAR)
        assert [g.grade for g in history] == ["优秀", "良好"]
        with pytest.raises(GradeError):
            await set_final_grade(
                s, unit_id=unit_id, year=YEAR, grade="很好", actor="a", reason="x"
            )
        with pytest.raises(GradeError):
            await set_final_grade(
                s, unit_id=unit_id, year=YEAR, grade="合格", actor="a", reason=" "
            )
        await set_final_grade(
            s,
            unit_id=unit_id,
            year=YEAR,
            grade="合格",
            actor="cmb",
            reason="再次复核",
            at=datetime(2027, 1, 18, tzinfo=UTC),
        )
        await s.commit()
    async with db.session() as s:
        assert (await final_grades(s, YEAR))[unit_id].grade == "合格"
        assert len(await grade_history(s, unit_id, YEAR)) == 3
        assert await final_grades(s, YEAR + 1) == {}


def test_nothing_to_send_is_not_listed_as_owed() -> None:
    """On 1 December: the 自查报告 sent (due 15 December) and December's 政务信息 complete. The
    open items list nothing 待报送 for them — not 「尚无到期报表」, nor the months already past
    (they can no longer be sent) — while a month still short would be listed."""
    from scoring import load_builtin, score
    from scoring.facts_file import facts_from_data
    from tally.build import open_items_of

    scheme = load_builtin("chuangmo-taizhou")
    info = [
        {"id": f"S{n}", "target": "C3b", "period": "2026-12", "submitted_at": "2026-12-01T09:00:00"}
        for n in range(4)
    ]
    report = {
        "id": "S9", "target": "C4b", "period": "2026", "kind": "report",
        "submitted_at": "2026-11-28T09:00:00",
    }  # fmt: skip
    facts = facts_from_data({"unit": "椒江区", "year": 2026, "submissions": [*info, report]})
    day = date(2026, 12, 1)
    owed = [
        i for i in open_items_of(score(scheme, facts, day), facts, day) if i.category == "待报送"
    ]
    assert not any(i.indicator.startswith(("C3b", "C4b")) for i in owed), owed
    short = facts_from_data({"unit": "椒江区", "year": 2026, "submissions": info[:3]})
    owed = open_items_of(score(scheme, short, day), short, day)
    assert [i.text for i in owed if i.indicator.startswith("C3b")] == [
        "12月工作信息：还差1篇，截止12月31日"
    ]
