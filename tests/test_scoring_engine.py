"""The engine: budgets, the 40/60 switch, shared items, bonus, totals, grade, card rendering."""

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from scoring import facts_from_data, load_scheme_text, render_text, score, to_dict

YEAR_END = date(2027, 1, 20)

CHUANGMO_W = """
id: w
name: 年度工作指标
grading: {excellent: 90, good: 80, required_task_kinds: [annual_target, key_project]}
items:
  - id: W1
    name: 年度工作指标
    points: 40
    targets:
      - {id: W1a, name: 年度工作指标, rules: [{id: W1.1, kind: task_list, task_kind: annual_target, points: 40, points_if_none: {task_kind: key_project, points: 60}}]}
  - id: W2
    name: 重点工程
    points: 20
    targets:
      - {id: W2a, name: 重点工程, rules: [{id: W2.1, kind: task_list, task_kind: key_project, points: 20, points_if_none: {task_kind: key_project, points: 0}}]}
"""


def facts(submissions=(), tasks=(), entries=(), year=2026):
    return facts_from_data(
        {
            "unit": "椒江区",
            "year": year,
            "submissions": list(submissions),
            "tasks": list(tasks),
            "entries": list(entries),
        }
    )


def entry(eid, kind, rule, value=1, at="2026-03-01T10:00:00", **kw):
    return {"id": eid, "kind": kind, "rule": rule, "value": value, "at": at, **kw}


def tasks_of(kind, n_done, n_total):
    return [
        {
            "id": f"{kind}{i}",
            "kind": kind,
            "due": "2026-12-31",
            **({"completed_at": "2026-11-01T10:00:00"} if i < n_done else {}),
        }
        for i in range(n_total)
    ]


# ---- the 40/60 switch ----------------------------------------------------------------------


def test_with_key_projects_targets_are_worth_40_and_projects_20():
    s = load_scheme_text(CHUANGMO_W)
    card = score(
        s, facts(tasks=tasks_of("annual_target", 2, 4) + tasks_of("key_project", 2, 4)), YEAR_END
    )
    assert card.item("W1").score == 20 and card.item("W1").max == 40
    assert card.item("W2").score == 10 and card.item("W2").max == 20
    assert card.base_total == 30 and card.base_max == 60


def test_without_key_projects_targets_are_worth_60_and_projects_0():
    s = load_scheme_text(CHUANGMO_W)
    card = score(s, facts(tasks=tasks_of("annual_target", 2, 4)), YEAR_END)
    assert card.item("W1").score == 30 and card.item("W1").max == 60
    assert card.item("W2").score == 0 and card.item("W2").max == 0
    assert card.base_max == 60
    assert "60" in card.rule("W1.1").explanation


# ---- budgets -------------------------------------------------------------------------------


def scheme_one(target_rules: str, points: float = 10):
    return load_scheme_text(
        f"id: b\nname: b\nitems:\n  - {{id: I, name: 项目, points: {points}, targets: [{{id: T, name: 目标, rules: [{target_rules}]}}]}}\n"
    )


def test_earn_only_budget_is_capped_at_its_points():
    s = scheme_one("{kind: award, points: 1.5}, {kind: award, points: 1.5}", points=2)
    f = facts(entries=[entry("E1", "confirmation", "T.1"), entry("E2", "confirmation", "T.2")])
    card = score(s, f, YEAR_END)
    assert card.rule("T.1").value + card.rule("T.2").value == 3
    assert card.item("I").score == 2


def test_lose_budget_subtracts_losses_and_what_earn_rules_did_not_earn():
    s = scheme_one("{kind: award, points: 2}, {kind: deduction, amount: 4}", points=10)
    card = score(s, facts(entries=[entry("D1", "deduction", "T.2")]), YEAR_END)
    assert card.item("I").score == 4  # 10 − 4 lost − 2 not earned


def test_lose_budget_floors_at_zero_and_never_exceeds_points():
    s = scheme_one("{kind: deduction, amount: 4}", points=10)
    card = score(s, facts(entries=[entry(f"D{n}", "deduction", "T.1") for n in range(3)]), YEAR_END)
    assert card.item("I").score == 0
    s = scheme_one("{kind: award, points: 12}, {kind: deduction, amount: 1}", points=10)
    card = score(s, facts(entries=[entry("E", "confirmation", "T.1")]), YEAR_END)
    assert card.item("I").score == 10


SHARED = """
id: sh
name: 共用
items:
  - id: "7"
    name: 环境法制建设
    points: 10
    targets:
      - {id: T8, name: 执法, rules: [{kind: ratio, points: 5}]}
      - {id: T9, name: 公开, rules: [{kind: award, points: 1}]}
  - id: "8"
    name: 环境科技建设
    shares: "7"
    targets:
      - {id: T10, name: 循环经济, rules: [{kind: award, points: 2}]}
      - {id: T11, name: ISO14000, rules: [{kind: award, points: 2}]}
  - id: "9"
    name: 混合
    points: 10
    targets:
      - {id: T12, name: 有分值, points: 4, rules: [{kind: award, points: 4}]}
      - {id: T13, name: 无分值, rules: [{kind: award, points: 6}]}
"""


def test_shared_items_score_as_one_budget():
    s = load_scheme_text(SHARED)
    f = facts(
        entries=[
            entry("R", "rate", "T8.1", value=0.8),
            entry("A", "confirmation", "T9.1"),
            entry("B", "confirmation", "T10.1"),
        ]
    )
    card = score(s, f, YEAR_END)
    assert card.item("7").score == 7 and card.item("7").max == 10  # 4 + 1 + 2 of the merged 10
    assert card.item("8").score is None and card.item("8").shares == "7"
    assert card.target("T10").score is None
    assert card.base_max == 20


def test_item_mixing_pointed_and_unpointed_targets_keeps_the_remainder():
    s = load_scheme_text(SHARED)
    card = score(s, facts(entries=[entry("A", "confirmation", "T13.1")]), YEAR_END)
    assert card.item("9").score == 6 and card.item("9").max == 10
    assert card.target("T12").score == 0 and card.target("T12").points == 4
    budgets = {b.id: b.points for b in card.budgets}
    assert budgets["T12"] == 4 and budgets["9"] == 6


def test_totals_add_up_from_rounded_budgets():
    s = load_scheme_text(
        "id: r\nname: r\nitems:\n"
        "  - {id: A, name: a, points: 1, targets: [{id: A1, name: a, rules: [{kind: ratio, points: 1}]}]}\n"
        "  - {id: B, name: b, points: 1, targets: [{id: B1, name: b, rules: [{kind: ratio, points: 1}]}]}\n"
        "  - {id: C, name: c, points: 1, targets: [{id: C1, name: c, rules: [{kind: ratio, points: 1}]}]}\n"
    )
    rate = 0.335  # 0.335 each: the exact sum 1.005 would round to 1.01; the shown parts add to 1.02
    f = facts(entries=[entry(x, "rate", f"{x}1.1", value=rate) for x in "ABC"])
    card = score(s, f, YEAR_END)
    assert [i.score for i in card.items] == [Decimal("0.34")] * 3
    assert card.base_total == Decimal("1.02") == sum(i.score for i in card.items)


# ---- bonus ---------------------------------------------------------------------------------

BONUS = """
id: bn
name: 加分
items:
  - {id: A, name: 基本, points: 10, targets: [{id: A1, name: a, rules: [{kind: discretionary, max: 10}]}]}
  - id: B
    name: 加分项目
    bonus: true
    targets:
      - id: T38
        name: 一流水平
        rules:
          - {kind: per_unit, points: 0.2, unit_size: 100000}
          - {kind: per_unit, points: 2}
"""


def test_bonus_is_reported_apart_and_uncapped():
    s = load_scheme_text(BONUS)
    f = facts(
        entries=[
            entry("P", "points", "A1.1", value=9),
            entry("M", "bonus", "T38.1", value=300000),
            entry("H1", "bonus", "T38.2"),
            entry("H2", "bonus", "T38.2"),
            entry("H3", "bonus", "T38.2"),
            entry("H4", "bonus", "T38.2"),
            entry("H5", "bonus", "T38.2"),
            entry("H6", "bonus", "T38.2"),
        ]
    )
    card = score(s, f, YEAR_END)
    assert card.base_total == 9 and card.base_max == 10
    assert card.bonus == Decimal("12.6")  # 0.6 + 6 × 2, more than any base item
    assert card.total == Decimal("21.6")
    assert card.item("B").bonus and card.item("B").max is None


# ---- entries matched by target, unmatched ones reported ------------------------------------


def test_entry_naming_a_target_with_one_fitting_rule_is_accepted():
    s = scheme_one("{kind: award, points: 2}, {kind: deduction, amount: 1}", points=10)
    card = score(s, facts(entries=[entry("D", "deduction", "T")]), YEAR_END)
    assert card.rule("T.2").value == 1 and not card.notes


def test_unusable_entries_are_listed_in_notes():
    s = scheme_one("{kind: deduction, amount: 1}, {kind: deduction, amount: 2}", points=10)
    f = facts(
        entries=[
            entry("X1", "deduction", "T"),
            entry("X2", "deduction", "NOPE"),
            entry("X3", "rate", "T.1", value=0.5),
        ]
    )
    card = score(s, f, YEAR_END)
    assert card.item("I").score == 10
    notes = "\n".join(card.notes)
    assert "X1" in notes and "2条" in notes
    assert "X2" in notes and "NOPE" in notes
    assert "X3" in notes and "不接收" in notes


# ---- grade ---------------------------------------------------------------------------------

GRADED = """
id: g
name: 等次
grading: {excellent: 90, good: 80, required_task_kinds: [annual_target]}
items:
  - {id: A, name: a, points: 100, targets: [{id: A1, name: a, rules: [{kind: discretionary, max: 100}]}]}
"""


@pytest.mark.parametrize(
    ("points", "level"),
    [(100, "优秀"), (90, "优秀"), (89.99, "良好"), (80, "良好"), (79.99, "合格"), (0, "合格")],
)
def test_grade_thresholds_are_inclusive(points, level):
    s = load_scheme_text(GRADED)
    card = score(s, facts(entries=[entry("P", "points", "A1.1", value=points)]), YEAR_END)
    assert card.grade.level == level
    assert not card.grade.provisional


def test_overdue_required_task_not_completed_is_unqualified_whatever_the_score():
    s = load_scheme_text(GRADED)
    tasks = [{"id": "K1", "kind": "annual_target", "due": "2026-12-31", "title": "污水处理率达85%"}]
    card = score(s, facts(tasks=tasks, entries=[entry("P", "points", "A1.1", value=95)]), YEAR_END)
    assert card.grade.level == "不合格" and "K1" in card.grade.reason
    # not yet overdue: graded on the score, provisionally
    early = score(
        s, facts(tasks=tasks, entries=[entry("P", "points", "A1.1", value=95)]), date(2026, 12, 31)
    )
    assert early.grade.level == "优秀" and early.grade.provisional
    done = [dict(tasks[0], completed_at="2027-01-05T09:00:00")]
    card = score(s, facts(tasks=done, entries=[entry("P", "points", "A1.1", value=95)]), YEAR_END)
    assert card.grade.level == "优秀"
    other_kind = [dict(tasks[0], kind="feedback")]
    card = score(
        s, facts(tasks=other_kind, entries=[entry("P", "points", "A1.1", value=95)]), YEAR_END
    )
    assert card.grade.level == "优秀"


def test_grade_is_provisional_while_something_is_pending():
    s = load_scheme_text(GRADED)
    card = score(s, facts(), YEAR_END)
    assert card.pending and card.grade.provisional and "暂定" in card.grade.reason


def test_no_grading_no_grade():
    s = scheme_one("{kind: award, points: 1}", points=1)
    assert score(s, facts(), YEAR_END).grade is None


# ---- purity and rendering ------------------------------------------------------------------


def test_score_is_deterministic_and_does_not_change_inputs():
    s = load_scheme_text(CHUANGMO_W)
    f = facts(tasks=tasks_of("annual_target", 1, 3))
    before = (replace(f), s)
    assert score(s, f, date(2026, 6, 1)) == score(s, f, date(2026, 6, 1))
    assert before == (f, s)


def test_text_and_json_rendering():
    s = load_scheme_text(BONUS)
    card = score(s, facts(entries=[entry("M", "bonus", "T38.1", value=300000)]), date(2026, 10, 1))
    text = render_text(card)
    assert "椒江区2026年度" in text and "基本分0/10，加分0.6，合计0.6" in text
    assert "A1.1 0：尚未评分（待定）" in text
    assert "待办（1）" in text
    data = json.loads(json.dumps(to_dict(card), ensure_ascii=False))
    assert data["bonus"] == 0.6 and data["base_max"] == 10 and data["as_of"] == "2026-10-01"
    assert data["items"][1]["targets"][0]["rules"][0]["value"] == 0.6
    assert data["open"] == ["a：待考核部门评分"]


# ---- the budget arithmetic on integer pairs gives what Fraction's operators give ---------------


def _reference_combine(points, results):  # the engine's rule as written with Fractions
    from fractions import Fraction

    from scoring.kinds import Family

    zero = Fraction(0)
    earned = lost = zero
    has_lose = False
    for r in results:
        if r.forfeit:
            return zero
        if r.family == Family.EARN:
            earned += r.value
        elif r.family == Family.LOSE:
            lost += r.value
            has_lose = True
    if points is None:
        return max(zero, earned - lost)
    if not has_lose:
        return min(earned, points)
    unearned = sum(
        (r.max - r.value for r in results if r.family == Family.EARN and r.max is not None), zero
    )
    return min(points, max(zero, points - lost - unearned))


def _reference_stake(r):
    from fractions import Fraction

    from scoring.kinds import Family

    zero = Fraction(0)
    if not r.pending:
        return zero
    if r.at_stake is not None:
        return max(zero, r.at_stake)
    if r.family == Family.EARN and r.max is not None:
        return max(zero, r.max - r.value)
    return zero


def _reference_open_and_credited(points, value, results):
    from fractions import Fraction

    from scoring.kinds import Family

    zero = Fraction(0)
    if points is None:
        return zero, zero
    pending = [r for r in results if r.pending]
    if not pending:
        return zero, min(zero, value)
    earn = sum((_reference_stake(r) for r in pending if r.family == Family.EARN), zero)
    lose = sum((_reference_stake(r) for r in pending if r.family == Family.LOSE), zero)
    return min(earn, max(zero, points - value)), min(lose, value)


def test_budget_arithmetic_on_integer_pairs_equals_fractions() -> None:
    """`engine._combine`, `_open_and_credited` and `_stake` work on (numerator, denominator)
    pairs; on 20,000 random budgets (thirds, sevenths, negative and zero values, forfeits,
    budgets without points) they give exactly what the same rules give with Fractions, and
    `round2_of` rounds a pair as `round2` rounds its Fraction."""
    import random
    from fractions import Fraction

    from scoring import engine
    from scoring.kinds import Family, RuleResult
    from scoring.numbers import round2, round2_of

    rng = random.Random(13)

    def q(lo: int = -3, hi: int = 40) -> Fraction:
        return Fraction(rng.randint(lo * 12, hi * 12), rng.choice([1, 2, 3, 4, 7, 12, 100]))

    for _ in range(20000):
        results = [
            RuleResult(
                f"R{i}",
                "x",
                rng.choice([Family.EARN, Family.LOSE]),
                q(),
                rng.choice([None, q(0)]),
                "",
                pending=rng.random() < 0.4,
                forfeit=rng.random() < 0.03,
                at_stake=rng.choice([None, None, q()]),
            )
            for i in range(rng.randint(0, 5))
        ]
        points = rng.choice([None, q(0)])
        got = engine._combine(points, results)
        want = _reference_combine(points, results)
        assert Fraction(*got) == want and round2_of(*got) == round2(want)
        for r in results:
            assert Fraction(*engine._stake(r)) == _reference_stake(r)
        value = rng.choice([want, q()])
        pair = (value.numerator, value.denominator)
        opened, credited = engine._open_and_credited(points, pair, results)
        want_open, want_credited = _reference_open_and_credited(points, value, results)
        assert (Fraction(*opened), Fraction(*credited)) == (want_open, want_credited)
        assert round2_of(*opened) == round2(want_open)
