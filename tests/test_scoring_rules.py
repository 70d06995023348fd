"""Each rule kind at its edges: zero, exact, over, floor, cap; pending and open items."""

from datetime import date
from decimal import Decimal

import pytest

from scoring import facts_from_data, load_scheme_text, score

YEAR_END = date(2027, 1, 20)


def one_rule(rule: str, points: float | None = 10, target: str = "T", name: str = "政务信息"):
    """A scheme with one item I and one target holding the given rule(s) (YAML flow mappings)."""
    pts = f"points: {points}, " if points is not None else ""
    return load_scheme_text(
        f"id: t\nname: 测试\nitems:\n  - {{id: I, name: 项目, points: 100, targets: [\n"
        f"      {{id: {target}, name: {name}, {pts}rules: [{rule}]}}]}}\n",
        "t.yaml",
    )


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


def entry(eid, kind, rule="T.1", value=1, at="2026-03-01T10:00:00", **kw):
    return {"id": eid, "kind": kind, "rule": rule, "value": value, "at": at, **kw}


def run(scheme, f, as_of=YEAR_END):
    card = score(scheme, f, as_of)
    return card, card.rule("T.1"), card.target("T").score


# ---- award ---------------------------------------------------------------------------------


def test_award_confirmed_done_gives_its_points():
    s = one_rule("{kind: award, points: 4}", points=4)
    _, rule, target = run(s, facts(entries=[entry("E1", "confirmation")]))
    assert (rule.value, target, rule.pending) == (Decimal("4.00"), Decimal("4.00"), False)
    assert "E1" in rule.explanation


def test_award_confirmed_not_done_and_latest_wins():
    s = one_rule("{kind: award, points: 4}", points=4)
    f = facts(
        entries=[
            entry("E1", "confirmation"),
            entry("E2", "confirmation", value=0, at="2026-04-01T00:00:00"),
        ]
    )
    _, rule, target = run(s, f, date(2026, 6, 1))
    assert target == 0 and not rule.pending and "确认未完成" in rule.explanation


def test_award_unconfirmed_is_pending_until_the_deadline_then_zero():
    s = one_rule("{kind: award, points: 4, deadline: 12-15}", points=4, name="领导机制")
    _, rule, _ = run(s, facts(), date(2026, 12, 15))  # on the due date: still open
    assert rule.pending and rule.value == 0
    assert rule.open == ("领导机制：待确认，截止12月15日",)
    _, rule, target = run(s, facts(), date(2026, 12, 16))
    assert not rule.pending and target == 0 and "未确认" in rule.explanation


def test_award_void_restores_the_earlier_entry_and_a_voided_void_cancels_nothing():
    s = one_rule("{kind: award, points: 4}", points=4)
    base = [
        entry("E1", "confirmation"),
        entry("E2", "confirmation", value=0, at="2026-04-01T00:00:00"),
    ]
    void = entry("V1", "void", voids="E2", at="2026-04-02T00:00:00")
    assert run(s, facts(entries=[*base, void]))[2] == 4
    unvoid = entry("V2", "void", voids="V1", at="2026-04-03T00:00:00")
    assert run(s, facts(entries=[*base, void, unvoid]))[2] == 0


def test_entries_after_as_of_are_not_known_yet():
    s = one_rule("{kind: award, points: 4}", points=4)
    f = facts(entries=[entry("E1", "confirmation", at="2026-06-02T08:00:00")])
    assert run(s, f, date(2026, 6, 1))[2] == 0
    assert run(s, f, date(2026, 6, 2))[2] == 4


# ---- discretionary -------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(0, "0.00"), (6.5, "6.50"), (8, "8.00")])
def test_discretionary_within_range(value, expected):
    s = one_rule("{kind: discretionary, max: 8}", points=8)
    _, rule, target = run(s, facts(entries=[entry("E1", "points", value=value)]))
    assert target == Decimal(expected) and not rule.pending


def test_discretionary_out_of_range_is_not_counted_and_earlier_valid_entry_stands():
    s = one_rule("{kind: discretionary, max: 8}", points=8)
    _, rule, target = run(s, facts(entries=[entry("E1", "points", value=9)]))
    assert target == 0 and rule.pending and "E1=9" in rule.explanation
    f = facts(
        entries=[
            entry("E1", "points", value=5),
            entry("E2", "points", value=9, at="2026-05-01T00:00:00"),
        ]
    )
    assert run(s, f)[2] == 5


def test_discretionary_pending_until_entered():
    s = one_rule("{kind: discretionary, max: 8}", points=8)
    _, rule, _ = run(s, facts())
    assert rule.pending and rule.value == 0 and "尚未评分" in rule.explanation


# ---- ratio / threshold ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "expected"),
    [(0, "0.00"), (0.59, "0.00"), (0.6, "0.60"), (0.75, "0.75"), (1, "1.00"), (1.3, "1.00")],
)
def test_ratio_with_cutoff(rate, expected):
    s = one_rule("{kind: ratio, points: 1, cutoff: 0.6}", points=1)
    assert run(s, facts(entries=[entry("E1", "rate", value=rate)]))[2] == Decimal(expected)


def test_ratio_pending_without_rate():
    s = one_rule("{kind: ratio, points: 5}", points=5)
    _, rule, target = run(s, facts())
    assert rule.pending and target == 0


@pytest.mark.parametrize(("rate", "expected"), [(0.79, 0), (0.8, 1), (0.95, 1)])
def test_threshold_inclusive(rate, expected):
    s = one_rule("{kind: threshold, points: 1, min: 0.8}", points=1)
    assert run(s, facts(entries=[entry("E1", "rate", value=rate)]))[2] == expected


# ---- checklist -----------------------------------------------------------------------------

CHECK = "{kind: checklist, points: 1, per_missing: 0.5, items: [{key: a, name: 专职人员}, {key: b, name: 持证上岗}]}"


def test_checklist_each_missing_item_costs_per_missing():
    s = one_rule(CHECK, points=1)
    assert run(s, facts())[2] == 0
    one = facts(entries=[entry("E1", "confirmation", key="a")])
    _, rule, target = run(s, one)
    assert target == Decimal("0.5") and "持证上岗" in rule.explanation
    both = facts(
        entries=[entry("E1", "confirmation", key="a"), entry("E2", "confirmation", key="b")]
    )
    assert run(s, both)[2] == 1


def test_checklist_floor_at_zero_and_pending_open_items():
    s = one_rule(
        "{kind: checklist, points: 1, per_missing: 0.5, items: [{key: a, name: 甲}, {key: b, name: 乙}, {key: c, name: 丙}]}",
        points=1,
    )
    _, rule, target = run(s, facts(), date(2026, 6, 1))
    assert target == 0 and rule.pending
    assert rule.open == (
        "甲：待确认，截止12月31日",
        "乙：待确认，截止12月31日",
        "丙：待确认，截止12月31日",
    )


# ---- per_unit ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amounts", "expected"),
    [
        ([], "0"),
        ([90000], "0"),
        ([100000], "0.2"),
        ([250000], "0.4"),
        ([200000, 100000], "0.6"),
        ([10**7], "1"),
    ],
)
def test_per_unit_counts_whole_units_and_caps(amounts, expected):
    s = load_scheme_text(
        "id: t\nname: t\nitems:\n  - {id: I, name: 加分, bonus: true, targets: [{id: T, name: 资金, rules: "
        "[{kind: per_unit, points: 0.2, unit_size: 100000, max: 1}]}]}\n"
    )
    f = facts(entries=[entry(f"E{n}", "bonus", value=a) for n, a in enumerate(amounts)])
    card = score(s, f, YEAR_END)
    assert card.bonus == Decimal(expected)


def test_per_unit_baseline():
    s = one_rule("{kind: per_unit, points: 0.1, baseline: 1}", points=10)
    f = facts(entries=[entry("E1", "bonus", value=1), entry("E2", "bonus", value=3)])
    assert run(s, f)[1].value == Decimal("0.30")  # 4 plans, the first one is the baseline


# ---- task_list -----------------------------------------------------------------------------


def tasks_of(kind, n_done, n_total, due="2026-12-31", completed="2026-10-30T12:00:00"):
    return [
        {
            "id": f"{kind}{i}",
            "kind": kind,
            "due": due,
            "title": f"任务{i}",
            **({"completed_at": completed} if i < n_done else {}),
        }
        for i in range(n_total)
    ]


def test_task_list_seed_example_four_targets_two_done_is_20():
    s = one_rule("{kind: task_list, task_kind: annual_target, points: 40}", points=40)
    _, rule, target = run(s, facts(tasks=tasks_of("annual_target", 2, 4)))
    assert target == 20 and "共4项，已完成2项，每项10分" in rule.explanation and not rule.pending


def test_task_list_seed_example_four_projects_two_done_is_10():
    s = one_rule("{kind: task_list, task_kind: key_project, points: 20}", points=20)
    assert run(s, facts(tasks=tasks_of("key_project", 2, 4)))[2] == 10


def test_task_list_late_completion_scores_nothing_and_pending_before_due():
    s = one_rule("{kind: task_list, task_kind: annual_target, points: 40}", points=40)
    late = facts(
        tasks=tasks_of("annual_target", 1, 1, due="2026-06-30", completed="2026-07-01T09:00:00")
    )
    _, rule, target = run(s, late)
    assert target == 0 and "未按期完成" in rule.explanation
    waiting = facts(tasks=tasks_of("annual_target", 1, 2))
    _, rule, target = run(s, waiting, date(2026, 11, 1))
    assert target == 20 and rule.pending and rule.open == ("annual_target1 任务1：截止12月31日",)


def test_task_list_without_tasks_is_zero_of_zero_and_pending():
    s = one_rule("{kind: task_list, task_kind: annual_target, points: 40}", points=40)
    _, rule, target = run(s, facts())
    assert target == 0 and rule.max == 0 and rule.pending and "尚未下达" in rule.explanation


# ---- quota ---------------------------------------------------------------------------------

QUOTA = "{kind: quota, per_period: 4, points: 6, period: monthly}"


def monthly(counts: dict[int, int], target="T", status="accepted"):
    subs = []
    for month, n in counts.items():
        for k in range(n):
            subs.append(
                {
                    "id": f"S{month}-{k}-{status}",
                    "target": target,
                    "period": f"2026-{month:02d}",
                    "submitted_at": f"2026-{month:02d}-05T09:00:00",
                    "status": status,
                }
            )
    return subs


def test_quota_full_year_is_full_marks_and_extra_items_add_nothing():
    s = one_rule(QUOTA, points=6)
    _, rule, target = run(s, facts(submissions=monthly({m: 6 for m in range(1, 13)})))
    assert target == 6 and rule.value == 0 and not rule.pending


def test_quota_shortfall_in_proportion():
    s = one_rule(QUOTA, points=6)
    counts = {m: 4 for m in range(1, 13)} | {11: 3}
    _, rule, target = run(s, facts(submissions=monthly(counts)))
    assert rule.value == Decimal("0.13")  # 6/12 × 1/4 = 0.125, shown rounded
    assert target == Decimal("5.88")
    assert "11月：3/4篇" in rule.explanation


def test_quota_nothing_at_all_floors_at_zero():
    s = one_rule(QUOTA, points=6)
    assert run(s, facts())[2] == 0


def test_quota_running_score_counts_only_due_months_and_lists_the_open_one():
    s = one_rule(QUOTA, points=6)
    f = facts(submissions=monthly({m: 4 for m in range(1, 11)} | {11: 1}))
    _, rule, target = run(s, f, date(2026, 11, 30))  # November is due only after the 30th
    assert target == 6 and rule.pending
    assert rule.open == ("11月政务信息：还差3篇，截止11月30日",)
    _, rule, target = run(s, f, date(2026, 12, 1))
    assert target == Decimal("5.63")  # 6 − 0.5 × 3/4
    assert rule.open == ("12月政务信息：还差4篇，截止12月31日",)


def test_quota_withdrawn_and_rejected_do_not_count_submitted_does():
    s = one_rule(QUOTA, points=6)
    full = {m: 4 for m in range(1, 13)}
    assert run(s, facts(submissions=monthly(full, status="withdrawn")))[2] == 0
    assert run(s, facts(submissions=monthly(full, status="rejected")))[2] == 0
    assert run(s, facts(submissions=monthly(full, status="submitted")))[2] == 6


# ---- on_time -------------------------------------------------------------------------------


def test_on_time_loses_in_proportion_of_late_due_tasks():
    s = one_rule("{kind: on_time, task_kind: feedback, points: 6}", points=6, name="任务反馈")
    f = facts(
        tasks=[
            {"id": "K1", "kind": "feedback", "due": "2026-03-10", "title": "甲"},
            {"id": "K2", "kind": "feedback", "due": "2026-04-10", "title": "乙"},
            {
                "id": "K3",
                "kind": "feedback",
                "due": "2026-05-10",
                "title": "丙",
                "completed_at": "2026-05-09T10:00:00",
            },
            {"id": "K4", "kind": "feedback", "due": "2026-12-20", "title": "丁"},
        ],
        submissions=[
            {"id": "S1", "target": "T", "task": "K1", "submitted_at": "2026-03-10T23:00:00"},
            {"id": "S2", "target": "T", "task": "K2", "submitted_at": "2026-04-11T08:00:00"},
        ],
    )
    _, rule, target = run(s, f, date(2026, 6, 1))
    assert rule.value == 2 and target == 4  # 6 × 1 late / 3 due
    assert "K2" in rule.explanation and rule.pending
    assert rule.open == ("K4 丁：截止12月20日",)


def test_on_time_no_due_tasks_loses_nothing():
    s = one_rule("{kind: on_time, task_kind: feedback, points: 6}", points=6)
    assert run(s, facts())[2] == 6


# ---- deduction -----------------------------------------------------------------------------


def test_deduction_fixed_amount_per_event_with_void():
    s = one_rule("{kind: deduction, amount: 0.1}", points=1)
    events = [entry(f"E{n}", "deduction", value=5) for n in range(3)]  # the value is ignored
    _, rule, target = run(s, facts(entries=events))
    assert rule.value == Decimal("0.30") and target == Decimal("0.70")
    assert "扣分3次，每次0.1分" in rule.explanation
    void = entry("V", "void", voids="E0", at="2026-03-02T00:00:00")
    assert run(s, facts(entries=[*events, void]))[2] == Decimal("0.80")


def test_deduction_range_ignores_values_outside():
    s = one_rule("{kind: deduction, range: [1, 3]}", points=3)
    f = facts(entries=[entry("E1", "deduction", value=2), entry("E2", "deduction", value=5)])
    _, rule, target = run(s, f)
    assert rule.value == 2 and target == 1 and "E2=5" in rule.explanation


def test_deduction_open_amount_and_cap():
    s = one_rule("{kind: deduction, max: 0.2}", points=1)
    f = facts(
        entries=[
            entry("E1", "deduction", value=0.15, reason="逾期"),
            entry("E2", "deduction", value=0.15),
        ]
    )
    _, rule, target = run(s, f)
    assert rule.value == Decimal("0.20") and target == Decimal("0.80")


def test_deduction_floor_at_zero():
    s = one_rule("{kind: deduction, amount: 0.5}", points=1)
    f = facts(entries=[entry(f"E{n}", "deduction") for n in range(3)])
    _, rule, target = run(s, f)
    assert rule.value == Decimal("1.50") and target == 0  # 扣完为止


# ---- reports -------------------------------------------------------------------------------


def test_reports_late_and_missing_each_cost_the_amount():
    s = one_rule(
        "{kind: reports, periods: [monthly], amount: 0.1, deadline: +10d}", points=1, name="排污费"
    )
    f = facts(
        submissions=[
            {"id": "S1", "target": "T", "period": "2026-01", "submitted_at": "2026-02-05T09:00:00"},
            {"id": "S2", "target": "T", "period": "2026-02", "submitted_at": "2026-03-12T09:00:00"},
        ]
    )
    _, rule, target = run(s, f, date(2026, 4, 15))
    assert rule.value == Decimal("0.20") and target == Decimal("0.80")
    assert "迟报1次" in rule.explanation and "漏报1次" in rule.explanation
    assert rule.open == ("排污费 4月月报：截止5月10日",)


def test_reports_without_amount_list_but_cost_nothing():
    s = one_rule("{kind: reports, periods: [quarterly, yearly]}", points=1)
    _, rule, target = run(s, facts())
    assert target == 1 and "漏报5次" in rule.explanation


# ---- stepped_rate --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "lost"),
    [(0.9, "0"), (0.8, "0"), (0.79, "0"), (0.75, "0.1"), (0.72, "0.1"), (0.7, "0.2"), (0, "1.6")],
)
def test_stepped_rate_exact_steps(rate, lost):
    s = one_rule("{kind: stepped_rate, min: 0.8, step: 0.05, amount: 0.1}", points=1)
    _, rule, target = run(s, facts(entries=[entry("E1", "rate", value=rate)]))
    assert rule.value == Decimal(lost)
    assert target == max(Decimal(0), 1 - Decimal(lost))


def test_stepped_rate_pending_until_entered():
    s = one_rule("{kind: stepped_rate, min: 0.8, step: 0.05, amount: 0.1}", points=1)
    _, rule, target = run(s, facts())
    assert rule.pending and target == 1


# ---- gate ----------------------------------------------------------------------------------

GATE = "{kind: gate, when: missing}, {kind: award, points: 5}"


def test_gate_missing_forfeits_the_whole_budget_after_the_deadline():
    s = one_rule(GATE, points=5)
    award = entry("A", "confirmation", rule="T.2")
    _, rule, target = run(s, facts(entries=[award]))
    assert target == 0 and rule.value == 5 and "不得分" in rule.explanation
    in_time = facts(entries=[award, entry("G", "confirmation", at="2026-12-30T10:00:00")])
    assert run(s, in_time)[2] == 5
    too_late = facts(entries=[award, entry("G", "confirmation", at="2027-01-02T10:00:00")])
    assert run(s, too_late)[2] == 0


def test_gate_missing_is_pending_before_the_deadline():
    s = one_rule(GATE, points=5)
    _, rule, target = run(
        s, facts(entries=[entry("A", "confirmation", rule="T.2")]), date(2026, 6, 1)
    )
    assert rule.pending and target == 5


def test_gate_event_and_its_void():
    s = one_rule("{kind: gate, when: event}, {kind: discretionary, max: 5}", points=5)
    points = entry("P", "points", rule="T.2", value=4)
    fraud = entry("F", "confirmation", reason="弄虚作假")
    assert run(s, facts(entries=[points]))[2] == 4
    assert run(s, facts(entries=[points, fraud]))[2] == 0
    void = entry("V", "void", voids="F", at="2026-03-05T00:00:00")
    assert run(s, facts(entries=[points, fraud, void]))[2] == 4
