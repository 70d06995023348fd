"""The detail sheet (明细) states for every row the points and the score of the points cell its rule
draws on — the target's own, or the one its item's targets share — as the unit's own card has them:
W1 of a unit without key projects is worth 60 (seed 000 第四条：如无重点工程则总分60分), and the
summary's header says so beside the 40."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from tally_helpers import AS_OF, YEAR, unit_facts

from scoring import load_builtin
from scoring.facts import TaskKind
from tally import build_tally
from tally.build import TallyUnit
from tally.excel import FIRST_ROW, HEADER_ROW, write_workbook

CM = "chuangmo-taizhou"
EPB = "epb-district-2007"


def _workbook(tmp_path: Path):  # type: ignore[no-untyped-def]
    files = unit_facts()
    cm = files["椒江区"][2]
    # a department: the same year, annual targets A1–A4 (A1–A3 done), no key projects
    dept = replace(
        cm, unit="市生态环境局", tasks=tuple(t for t in cm.tasks if t.kind != TaskKind.KEY_PROJECT)
    )
    units = [
        TallyUnit("椒江区", "district", CM, cm),
        TallyUnit("市生态环境局", "department", CM, dept),
        TallyUnit("路桥区环保局", "district", EPB, files["路桥区环保局"][2]),
    ]
    schemes = {CM: load_builtin(CM), EPB: load_builtin(EPB)}
    tally = build_tally(units, schemes, AS_OF, year=YEAR)
    return load_workbook(write_workbook(tally, tmp_path / "t.xlsx"))


def _table(ws) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    headers = [c.value for c in ws[HEADER_ROW]]
    return [
        dict(zip(headers, values, strict=True))
        for values in ws.iter_rows(min_row=FIRST_ROW, values_only=True)
        if values[1] is not None
    ]


def test_every_detail_row_has_its_cells_points_and_score(tmp_path: Path) -> None:
    wb = _workbook(tmp_path)
    for scheme_id in (CM, EPB):
        rows = _table(wb[f"明细-{scheme_id}"])
        assert rows
        for row in rows:
            assert isinstance(row["指标得分"], int | float), row
            if row["项目"] == "18加分项目":  # uncapped bonus: no points, and the sheet says so
                assert row["指标分值"] is None and row["分值说明"] == "加分项目，不设分值上限"
            else:
                assert isinstance(row["指标分值"], int | float), row
                assert 0 <= row["指标得分"] <= row["指标分值"], row


def test_w1_without_key_projects_is_worth_60_on_both_sheets(tmp_path: Path) -> None:
    wb = _workbook(tmp_path)
    summary = wb[f"汇总-{CM}"]
    headers = [c.value for c in summary[HEADER_ROW]]
    assert "W1年度工作指标（40分，无重点工程时60分）" in headers
    assert "W2重点工程（20分，无重点工程时0分）" in headers
    totals = {r["单位"]: r for r in _table(summary) if isinstance(r["排名"], int)}
    w1 = "W1年度工作指标（40分，无重点工程时60分）"
    w2 = "W2重点工程（20分，无重点工程时0分）"
    assert totals["市生态环境局"][w1] == 45  # 3 of 4 targets × 15
    assert totals["椒江区"][w1] == 30  # 3 of 4 targets × 10
    assert totals["市生态环境局"][w2] == 0 and totals["椒江区"][w2] == 10
    detail = {
        (r["单位"], r["细则编号"]): r for r in _table(wb[f"明细-{CM}"]) if r["单位"] is not None
    }
    dept_w1 = detail[("市生态环境局", "W1a")]
    assert (dept_w1["指标分值"], dept_w1["指标得分"], dept_w1["上限"]) == (60, 45, 60)
    assert dept_w1["分值说明"] == "无重点工程，按60分计（方案40分）"
    assert (
        dept_w1["计分说明"]
        == "共4项，已完成3项，每项15分（无重点工程任务，本项按60分计）；未按期完成：A4"
    )
    dept_w2 = detail[("市生态环境局", "W2a")]
    assert (dept_w2["指标分值"], dept_w2["指标得分"]) == (0, 0)
    assert dept_w2["分值说明"] == "无重点工程，按0分计（方案20分）"
    district_w1 = detail[("椒江区", "W1a")]
    assert (district_w1["指标分值"], district_w1["指标得分"], district_w1["分值说明"]) == (
        40,
        30,
        "",
    )
    # a shared cell: C2a and C2b draw on C2's 8 points; each row says so, with the same score
    c2a, c2b = detail[("椒江区", "C2a")], detail[("椒江区", "C2b")]
    assert (c2a["指标分值"], c2a["指标得分"]) == (c2b["指标分值"], c2b["指标得分"]) == (8, 7)
    assert c2a["分值说明"] == "与C2b共用C2工作网络建设的8分"
    assert totals["椒江区"]["C2工作网络建设（8分）"] == 7


def test_detail_cells_add_up_to_the_summary(tmp_path: Path) -> None:
    """Each points cell counted once, a unit's cells give its summary's 基本分 and 加分."""
    wb = _workbook(tmp_path)
    for scheme_id in (CM, EPB):
        summary = {r["单位"]: r for r in _table(wb[f"汇总-{scheme_id}"]) if r["排名"]}
        cells: dict[str, dict[tuple[str, str], Decimal]] = {}
        for r in _table(wb[f"明细-{scheme_id}"]):
            if r["单位"] is None:
                continue
            # the cell: the target's own, or the item's shared one (named in 分值说明)
            note = str(r["分值说明"] or "")
            key = note.split("共用")[1] if "共用" in note else str(r["指标"])
            bonus = r["项目"] == "18加分项目"
            score = Decimal(str(r["指标得分"]))
            cells.setdefault(str(r["单位"]), {})[(key, "bonus" if bonus else "base")] = score
        for unit, found in cells.items():
            base = sum((v for (_, kind), v in found.items() if kind == "base"), Decimal(0))
            bonus = sum((v for (_, kind), v in found.items() if kind == "bonus"), Decimal(0))
            assert base == Decimal(str(summary[unit]["基本分"])), unit
            assert bonus == Decimal(str(summary[unit]["加分"])), unit
