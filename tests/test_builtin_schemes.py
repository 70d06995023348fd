"""The two built-in schemes against their seeds, and two realistic facts files scored by hand.

Every expected number here was computed by hand from the seed rules (the computation is written
beside it), not read off the engine: these tests are an independent check of `scoring.score`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from scoring import builtin_scheme_ids, lint, load_builtin, load_facts_file, score
from scoring.model import (
    Award,
    Checklist,
    Deduction,
    Discretionary,
    Gate,
    OnTime,
    PerUnit,
    Quota,
    Ratio,
    Reports,
    SteppedRate,
    TaskList,
    Threshold,
)

DATA = Path(__file__).parent / "data"
F = Fraction


def D(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture(scope="module")
def chuangmo():
    return load_builtin("chuangmo-taizhou")


@pytest.fixture(scope="module")
def epb():
    return load_builtin("epb-district-2007")


# ---- loading ---------------------------------------------------------------------------------


def test_both_builtin_schemes_load():
    ids = builtin_scheme_ids()
    assert "chuangmo-taizhou" in ids
    assert "epb-district-2007" in ids
    for scheme_id in ("chuangmo-taizhou", "epb-district-2007"):
        assert load_builtin(scheme_id).id == scheme_id


# ---- chuangmo-taizhou (seed 000 第四条, 第七条, 第十一条) -----------------------------------------


def test_chuangmo_items_and_points_are_the_design_ids(chuangmo):
    assert chuangmo.total == 100
    assert [(i.id, i.name, i.points) for i in chuangmo.items] == [
        ("C1", "组织领导", 10),
        ("C2", "工作网络建设", 8),
        ("C3", "任务反馈和信息报送", 12),
        ("C4", "档案资料", 10),
        ("W1", "年度工作指标", 40),
        ("W2", "重点工程", 20),
    ]
    assert sum(i.points for i in chuangmo.items) == 100  # 10 + 8 + 12 + 10 + 40 + 20
    pointed = {t.id: t.points for t in chuangmo.targets_by_id.values() if t.points is not None}
    assert pointed == {"C1a": 4, "C1b": 3, "C1c": 3, "C3a": 6, "C3b": 6}
    assert chuangmo.grading is not None
    assert chuangmo.grading.excellent == 90
    assert chuangmo.grading.good == 80
    assert chuangmo.grading.required_task_kinds == ("annual_target", "key_project")


def test_chuangmo_rules(chuangmo):
    r = chuangmo.rule
    assert r("C1a.1").params == Award(points=F(4))
    assert r("C1b.1").params == Award(points=F(3))
    assert r("C1c.1").params == Award(points=F(3))
    assert r("C2.1").params == Discretionary(max=F(8))
    assert r("C3a.1").params == OnTime(task_kind="feedback", points=F(6))
    assert r("C3b.1").params == Quota(per_period=4, points=F(6))
    assert (r("C3b.1").period, r("C3b.1").deadline) == ("monthly", "period_end")
    assert r("C4.1").params == Discretionary(max=F(10))
    w1, w2 = r("W1.1").params, r("W2.1").params
    assert isinstance(w1, TaskList) and isinstance(w2, TaskList)
    assert (w1.task_kind, w1.points) == ("annual_target", 40)
    assert (w1.points_if_none.task_kind, w1.points_if_none.points) == ("key_project", 60)
    assert (w2.task_kind, w2.points) == ("key_project", 20)
    assert (w2.points_if_none.task_kind, w2.points_if_none.points) == ("key_project", 0)
    # 第十一条: 自查报告 and 年度工作总结, due 12-15, with no points of their own.
    for rule_id in ("C4b.1", "C4c.1"):
        assert r(rule_id).params == Reports(periods=("yearly",), amount=None)
        assert r(rule_id).deadline == "12-15"
        assert r(rule_id).item == "C4"


def test_chuangmo_lints_clean(chuangmo):
    assert lint(chuangmo) == []


# ---- epb-district-2007 (seed 003) ------------------------------------------------------------

# 序号 -> (分值 or None for a merged cell, shares, 负责指导部门)
EPB_ITEMS = {
    "1": (2, None, "办公室"),
    "2": (6, None, "综合处"),
    "3": (4, None, "创模办"),
    "4": (10, None, "生态处、综合处"),
    "5": (8, None, "生态处"),
    "6": (10, None, "开发处"),
    "7": (10, None, "法规科技处"),
    "8": (None, "7", "法规科技处"),
    "9": (6, None, "机关党委"),
    "10": (None, "9", "机关党委"),
    "11": (6, None, "监察室"),
    "12": (4, None, "调研室"),
    "13": (14, None, "环监局"),
    "14": (6, None, "辐射站"),
    "15": (8, None, "宣教中心"),
    "16": (6, None, "信息中心"),
    "17": (10, None, "局领导"),
    "18": (None, None, "综合处"),
}
# 序号 -> its 环保目标 numbers
EPB_TARGETS = {
    "1": [1],
    "2": [2],
    "3": [3],
    "4": [4],
    "5": [5],
    "6": [6, 7],
    "7": [8, 9],
    "8": [10, 11],
    "9": [12],
    "10": [13],
    "11": [14, 15],
    "12": [16],
    "13": list(range(17, 26)),
    "14": [26, 27, 28],
    "15": [29, 30, 31],
    "16": [32, 33, 34, 35, 36],
    "17": [37],
    "18": [38],
}


def test_epb_items_targets_and_points(epb):
    assert [i.id for i in epb.items] == [str(n) for n in range(1, 19)]
    for item in epb.items:
        points, shares, office = EPB_ITEMS[item.id]
        assert (item.points, item.shares, item.office) == (points, shares, office), item.id
        assert [t.id for t in item.targets] == [f"T{n}" for n in EPB_TARGETS[item.id]], item.id
        assert item.bonus == (item.id == "18")
    assert sorted(epb.targets_by_id, key=lambda t: int(t[1:])) == [f"T{n}" for n in range(1, 39)]
    # Only item 15's targets carry their own (bracketed) points: (2), (3), (2).
    pointed = {t.id: t.points for t in epb.targets_by_id.values() if t.points is not None}
    assert pointed == {"T29": 2, "T30": 3, "T31": 2}
    # The base items as written add up to 110 (the seed declares no total, so neither do we).
    assert epb.total is None
    assert sum(i.points or 0 for i in epb.items if not i.bonus) == 110
    assert all(t.text for t in epb.targets_by_id.values())
    assert all(r.text for r in epb.rules())


def test_epb_rules_as_written(epb):
    r = epb.rule
    # item 1: 召开环保大会得1分，出台政府文件得1分
    assert [x.params for x in epb.target("T1").rules] == [Award(F(1)), Award(F(1))]
    # item 2: 2 + 2 + 1 (of 6)
    assert [x.params for x in epb.target("T2").rules] == [Award(F(2)), Award(F(2)), Award(F(1))]
    assert r("T4.2").params == Award(F(6))
    assert r("T5.1").params == Award(F(7))
    assert r("T6.1").params == Deduction(amount=F(1))
    assert [x.params for x in epb.target("T7").rules] == [
        Award(F(2)),
        Deduction(amount=F(4)),
        Deduction(amount=F(2)),
    ]
    assert r("T8.1").params == Ratio(points=F(5))
    assert r("T14.1").params == Discretionary(max=F(3))
    assert r("T15.1").params == Deduction(range=(F(1), F(3)))  # 扣1－3分
    assert r("T16.1").params == Quota(per_period=4, points=F(4))
    assert r("T16.1").period == "monthly"
    assert r("T16.1").office == "调研室"
    t17 = [x.params for x in epb.target("T17").rules]
    assert t17 == [
        Gate(when="missing"),  # 未完成解缴目标的不得分
        Reports(periods=("monthly",), amount=F(1, 10)),
        Reports(periods=("quarterly", "yearly"), amount=F(1, 10)),
        Deduction(amount=F(1, 10)),  # 报表质量差
    ]
    assert [x.params for x in epb.target("T18").rules] == [
        Deduction(amount=F(2, 10)),
        Deduction(amount=F(1, 10)),
    ]
    # T20: one rule per kind of event, in the seed's order; T20.5 is 逾期上报有关材料.
    assert [x.params.amount for x in epb.target("T20").rules] == [
        F(2, 10),
        F(1, 10),
        F(1, 10),
        F(2, 10),
        F(1, 10),
        F(2, 10),
        F(1, 10),
    ]
    assert "逾期上报有关材料" in r("T20.5").text
    assert [x.params.amount for x in epb.target("T21").rules] == [
        F(2, 10),
        F(1, 10),
        F(2, 10),
        F(1, 10),
        F(2, 10),
        F(5, 10),
        F(5, 10),
    ]
    assert r("T22.1").params == SteppedRate(min=F(8, 10), step=F(5, 100), amount=F(1, 10))
    assert r("T22.2").params == Gate(when="event")  # 凡发现弄虚作假的不得分
    assert r("T24.1").params == Ratio(points=F(1), cutoff=F(6, 10))
    for target_id, points, count in (("T26", 1, 2), ("T27", 3, 6), ("T28", 2, 4)):
        (rule,) = epb.target(target_id).rules
        assert isinstance(rule.params, Checklist)
        assert rule.params.points == points
        assert rule.params.per_missing == F(1, 2)
        assert len(rule.params.items) == count  # 共N分，每少一项扣0.5分: N = count × 0.5
        assert count * F(1, 2) == points
    assert [x.params.points for x in epb.target("T29").rules] == [F(1, 2), F(1, 2), F(1)]
    assert [x.params.points for x in epb.target("T30").rules] == [F(1, 2), F(1, 2), F(1), F(2)]
    assert [x.params.points for x in epb.target("T31").rules] == [F(2)]
    assert r("T32.1").params == Award(F(2))
    assert r("T33.1").params == Threshold(points=F(1), min=F(8, 10))
    assert r("T37.1").params == OnTime(task_kind="assigned", points=F(10))
    assert [x.params for x in epb.target("T38").rules] == [
        PerUnit(points=F(2, 10), unit_size=F(100000)),  # 每10万元加0.2分
        Threshold(points=F(1), min=F(11, 10)),  # 超过计划指标10%以上加1分
        PerUnit(points=F(1, 10), baseline=F(1)),  # 在完成1个规划环评的基础上，每超过一个加0.1分
        PerUnit(points=F(1)),  # 示范建设每个加1分
        PerUnit(points=F(2)),  # 省委、省政府表彰每项加2分
        PerUnit(points=F(1)),  # 市委、市政府表彰每项加1分
        PerUnit(points=F(1, 2), max=F(1, 2)),  # 省环保厅表彰加0.5分
        PerUnit(points=F(2, 10), max=F(2, 10)),  # 省环保厅部门表彰加0.2分
    ]


def test_epb_lint_reports_the_seeds_mismatches(epb):
    found = {w.where: w.message for w in lint(epb)}
    assert set(found) == {"2", "5", "15", "T30"}
    assert "5" in found["2"] and "6" in found["2"]  # 2 + 2 + 1 = 5 of 6
    assert "7" in found["5"] and "8" in found["5"]  # 7 of 8
    assert "7" in found["15"] and "8" in found["15"]  # (2) + (3) + (2) = 7 of 8
    assert "4" in found["T30"] and "3" in found["T30"]  # 0.5 + 0.5 + 1 + 2 = 4 of (3)


# ---- 椒江区 2026 under chuangmo-taizhou, scored by hand ----------------------------------------


def budgets(card) -> dict[str, Decimal]:
    return {b.id: b.score for b in card.budgets}


def test_jiaojiang_2026_year_end(chuangmo):
    facts = load_facts_file(DATA / "facts-chuangmo-jiaojiang-2026.yaml")
    card = score(chuangmo, facts, date(2027, 1, 15))
    assert budgets(card) == {
        # C1a 领导机制: confirmed (E02) -> 4
        "C1a": D("4.00"),
        # C1b 年度工作方案: confirmed not done (E03), later done (E04); latest wins -> 3
        "C1b": D("3.00"),
        # C1c 固定联络员: confirmed (E01) -> 3
        "C1c": D("3.00"),
        # C2 工作网络建设: 6.5 (E05), then 7 (E06); latest wins -> 7
        "C2": D("7.00"),
        # C3a 任务反馈: 8 tasks due, K3 late (05-06 for 04-30), K6 never answered:
        #   6 - 6 × 2/8 = 4.5
        "C3a": D("4.50"),
        # C3b 工作信息: counting items Jan 4, Feb 3, Mar 4, Apr 5→4, May 4, Jun 4, Jul 3 (rejected
        #   S27), Aug 2, Sep 4, Oct 3 (withdrawn S36), Nov 4, Dec 4 (S46 待审核 counts);
        #   missing 1 + 1 + 2 + 1 = 5; each month 6/12 = 0.5, each item 0.5/4 = 0.125;
        #   6 - 5 × 0.125 = 5.375 -> 5.38 (half up)
        "C3b": D("5.38"),
        # C4: C4.1 8.5 (E07); E08 (9) voided by E09, so E07 is the latest -> 8.5;
        #   C4b 自查报告 on time, C4c 总结 late (12-18 > 12-15) but without amount: 10 - 0 - (10 - 8.5)
        "C4": D("8.50"),
        # W1: annual targets A1, A2, A3 done by 12-31, A4 not: 40 × 3/4 = 30 (the unit has key
        #   projects, so no 60 switch)
        "W1": D("30.00"),
        # W2: key projects P1 done, P2 not: 20 × 1/2 = 10
        "W2": D("10.00"),
    }
    # 4 + 3 + 3 + 7 + 4.5 + 5.38 + 8.5 + 30 + 10 = 75.38
    assert card.base_total == D("75.38")
    assert card.base_max == D("100.00")
    assert card.bonus == D("0.00")
    assert card.total == D("75.38")
    assert [(i.id, i.score) for i in card.items] == [
        ("C1", D("10.00")),  # 4 + 3 + 3
        ("C2", D("7.00")),
        ("C3", D("9.88")),  # 4.5 + 5.38
        ("C4", D("8.50")),
        ("W1", D("30.00")),
        ("W2", D("10.00")),
    ]
    # 第七条: A4 and P2 overdue and not completed -> 不合格 whatever the score.
    assert card.grade is not None
    assert card.grade.level == "不合格"
    assert not card.grade.provisional
    assert "A4" in card.grade.reason and "P2" in card.grade.reason
    # The late 年度工作总结 costs nothing but is listed.
    assert card.rule("C4c.1").value == 0
    assert "迟报" in card.rule("C4c.1").explanation
    assert card.rule("C4b.1").value == 0


def test_jiaojiang_2026_running_score_on_1_july(chuangmo):
    facts = load_facts_file(DATA / "facts-chuangmo-jiaojiang-2026.yaml")
    card = score(chuangmo, facts, date(2026, 7, 1))
    assert budgets(card) == {
        # entries known by 07-01: E01, E02, E03/E04 -> C1 = 4 + 3 + 3
        "C1a": D("4.00"),
        "C1b": D("3.00"),
        "C1c": D("3.00"),
        # C2.1 not yet entered (E05 is from December): 0, pending
        "C2": D("0.00"),
        # C3a: due tasks K1..K5 (K5 due 06-30 < 07-01), K3 late: 6 - 6 × 1/5 = 4.8
        "C3a": D("4.80"),
        # C3b: due months Jan..Jun, only Feb short by 1: 6 - 0.125 = 5.875 -> 5.88
        "C3b": D("5.88"),
        # C4.1 not yet entered: 10 - 0 - (10 - 0) = 0; the two reports are not due till 12-15
        "C4": D("0.00"),
        # W1: A1 completed 06-30 (by as_of), A2/A3 only later: 40 × 1/4 = 10
        "W1": D("10.00"),
        # W2: P1 completed only on 11-28: 0
        "W2": D("0.00"),
    }
    # 10 + 0 + 4.8 + 5.88 + 0 + 10 + 0 = 30.68
    assert card.base_total == D("30.68")
    assert card.pending
    assert card.grade is not None
    assert card.grade.provisional
    assert card.grade.level == "合格"  # nothing overdue yet; 30.68 < 80
    assert card.rule("C2.1").pending
    assert card.rule("C3b.1").pending  # July .. December still to come


# ---- 路桥区环保局 2007 under epb-district-2007, scored by hand ------------------------------------


def test_luqiao_2007_year_end(epb):
    facts = load_facts_file(DATA / "facts-epb-luqiao-2007.yaml")
    card = score(epb, facts, date(2008, 1, 31))
    assert budgets(card) == {
        # 1: T1.1 + T1.2 confirmed: 1 + 1
        "1": D("2.00"),
        # 2: T2.1 2 + T2.2 2, T2.3 confirmed not done 0 (of the rules' 5, in a 6-point cell)
        "2": D("4.00"),
        # 3: T3.1 confirmed: 4
        "3": D("4.00"),
        # 4: T4.1 2 + T4.2 6; T4.3 never confirmed and its deadline (12-31) passed: 0
        "4": D("8.00"),
        # 5: T5.1 confirmed: 7 (of 8)
        "5": D("7.00"),
        # 6: 10 - T6.1 one case × 1 - T7.3 (B012 voided by B013) 0 - (T7.1 2 - 2 earned) = 9
        "6": D("9.00"),
        # 7 (+ 8, one merged 10; earn rules only): T8.1 5 × 0.9 = 4.5, T9.1 1, T10.1 2, T11.1 0
        #   = 7.5
        "7": D("7.50"),
        # 9 (+ 10, one merged 6): T12.1 3 + T13.1 3
        "9": D("6.00"),
        # 11: 6 - T15.1 (range 1-3, entered 1) 1 - (T14.1 3 - 2.5 entered) = 4.5
        "11": D("4.50"),
        # 12: 政务信息 Jan 4, Feb 2, Mar 4, Apr 4, May 4, Jun 3 (X22 rejected), Jul 4, Aug 4, Sep 4,
        #   Oct 5→4, Nov 4, Dec 4: missing 2 + 1 = 3; each month 4/12, each item 1/12;
        #   4 - 3/12 = 3.75
        "12": D("3.75"),
        # 13 (one 14 for T17..T25): gate T17.1 confirmed (解缴目标 met), T22.2 no event;
        #   losses: T17.2 May report late 0.1, T17.3 none, T17.4 报表质量差 0.1, T18.2 0.1,
        #   T20.3 0.1, T20.5 0.1, T21.2 0.1, T22.1 rate 0.72 -> floor((0.8-0.72)/0.05) = 1 step
        #   × 0.1 = 0.1; T23.1 Q3 late but no amount: 0; sum 0.7;
        #   T24.1 earns 1 × 0.75 (above the 0.6 cut-off), so 0.25 not earned;
        #   14 - 0.7 - 0.25 = 13.05
        "13": D("13.05"),
        # 14 (one 6; checklists): T26 2/2 -> 1; T27 5/6 -> 3 - 0.5 = 2.5; T28 3/4 (no 定期上报)
        #   -> 2 - 0.5 = 1.5; 1 + 2.5 + 1.5 = 5
        "14": D("5.00"),
        # 15: targets are their own budgets: T29 0.5 + 0.5 + 1 = 2; T30 0.5 + 0.5 + 1 + 2 = 4,
        #   capped at its (3); T31 2
        "T29": D("2.00"),
        "T30": D("3.00"),
        "T31": D("2.00"),
        # 16: T32 2 + T33 (rate 0.85 >= 0.8) 1 + T34 1 + T35 (confirmed not done) 0 + T36 1 = 5
        "16": D("5.00"),
        # 17: 5 assigned tasks due, L3 completed 09-07 for 08-31: 10 - 10 × 1/5 = 8
        "17": D("8.00"),
        # 18 (bonus): T38.1 300000 + 150000 = 450000 -> floor(4.5) = 4 × 0.2 = 0.8;
        #   T38.2 rate 1.15 >= 1.1 -> 1; T38.3 3 规划环评, baseline 1 -> (3 - 1) × 0.1 = 0.2;
        #   T38.5 B058 voided -> 0; T38.6 1 × 1 = 1; T38.7 1 × 0.5 = 0.5; 0.8+1+0.2+1+0.5 = 3.5
        "18": D("3.50"),
    }
    # 2 + 4 + 4 + 8 + 7 + 9 + 7.5 + 6 + 4.5 + 3.75 + 13.05 + 5 + (2 + 3 + 2) + 5 + 8 = 93.8
    assert card.base_total == D("93.80")
    # 110 as written, less item 15's 8 which its targets carve as 2 + 3 + 2 = 7: 109
    assert card.base_max == D("109.00")
    assert card.bonus == D("3.50")
    assert card.total == D("97.30")  # 93.8 + 3.5
    assert card.grade is None  # seed 003 has no grading
    assert card.item("8").score is None  # shares item 7's cell
    assert card.item("15").score == D("7.00")
    assert card.rule("T22.1").value == D("0.10")
    assert card.rule("T17.2").value == D("0.10")
    assert card.rule("T23.1").value == 0 and "迟报" in card.rule("T23.1").explanation


def test_luqiao_2007_running_score_on_1_july(epb):
    facts = load_facts_file(DATA / "facts-epb-luqiao-2007.yaml")
    card = score(epb, facts, date(2007, 7, 1))
    found = budgets(card)
    # 12: months due Jan..Jun (Jun due 06-30): missing Feb 2 + Jun 1 = 3: 4 - 3/12 = 3.75
    assert found["12"] == D("3.75")
    # T17.2: monthly reports due Jan..May (May due 06-10, June not till 07-10); May late -> 0.1
    assert card.rule("T17.2").value == D("0.10")
    assert card.rule("T17.2").pending
    # 17: L1, L2 due and on time (L2 completed on its due day); L3..L5 not yet due: 10
    assert found["17"] == D("10.00")
    # 18: only B054 (300000) known: 3 × 0.2 = 0.6
    assert found["18"] == D("0.60")
