"""口径: every named option gives its documented result for each of its choices, and `scheme
check` lists the options and notes of both built-in schemes. Expected scores are worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import yaml

from bot.cli import main
from scoring import facts_from_data, load_builtin, load_scheme_text, score
from scoring.readings import readings, totals_line

YEAR_END = date(2027, 1, 20)

# Item 13 of seed 003 in small: two targets share one 14-point cell; G forfeits, D deducts.
SHARED_CELL = """
id: cell
name: 共用分值格
items:
  - id: "13"
    name: 环境监察
    points: 14
    targets:
      - id: G
        name: 解缴目标
        rules: [{kind: gate, when: %s, deadline: 12-31 %s}]
      - id: D
        name: 报表质量
        rules: [{kind: deduction, amount: 1}]
"""


def _facts(entries=(), tasks=(), submissions=()):
    return facts_from_data(
        {
            "unit": "椒江区",
            "year": 2026,
            "entries": list(entries),
            "tasks": list(tasks),
            "submissions": list(submissions),
        }
    )


def _entry(eid, rule, value=1, at="2026-06-01T10:00:00", kind="confirmation"):
    return {"id": eid, "kind": kind, "rule": rule, "value": value, "at": at}


@pytest.mark.parametrize(
    ("forfeit", "expected"),
    [
        ("", Decimal("0.00")),  # default budget: the whole cell, D's targets with it
        (", forfeit: budget", Decimal("0.00")),
        (", forfeit: share", Decimal("6.00")),  # 14 − 14/2 for G − 1 for D's one event
    ],
)
def test_gate_forfeits_the_cell_or_the_targets_share(forfeit, expected):
    scheme = load_scheme_text(SHARED_CELL % ("event", forfeit))
    facts = _facts([_entry("E1", "G.1"), _entry("E2", "D.1", kind="deduction")])
    card = score(scheme, facts, YEAR_END)
    assert card.item("13").score == expected
    assert (scheme.rule("G.1").params.forfeit == "share") == ("share" in forfeit)


@pytest.mark.parametrize(
    ("confirm_by", "confirmed_at", "expected", "pending"),
    [
        ("", None, Decimal("0.00"), False),  # deadline passed unconfirmed: forfeit
        ("", "2027-01-10T10:00:00", Decimal("0.00"), False),  # confirmed too late
        ("", "2026-12-20T10:00:00", Decimal("14.00"), False),
        (", confirm_by: any_time", None, Decimal("14.00"), True),  # no deadline: still open
        (", confirm_by: any_time", "2027-01-10T10:00:00", Decimal("14.00"), False),
    ],
)
def test_gate_with_or_without_a_confirmation_deadline(confirm_by, confirmed_at, expected, pending):
    scheme = load_scheme_text(SHARED_CELL % ("missing", confirm_by))
    entries = [_entry("E1", "G.1", at=confirmed_at)] if confirmed_at else []
    card = score(scheme, _facts(entries), YEAR_END)
    assert card.item("13").score == expected
    assert card.rule("G.1").pending is pending


def test_gate_not_confirmed_done_without_deadline_forfeits_once_confirmed_not_done():
    scheme = load_scheme_text(SHARED_CELL % ("missing", ", confirm_by: any_time"))
    card = score(scheme, _facts([_entry("E1", "G.1", value=0)]), YEAR_END)
    assert card.item("13").score == Decimal("0.00")


ON_TIME = """
id: t37
name: 领导交办
items:
  - id: "17"
    name: 其他工作
    points: 10
    targets:
      - id: T37
        name: 完成领导交办的其它工作任务
        rules: [{kind: on_time, task_kind: assigned, points: 10 %s}]
"""


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        ("", Decimal("7.50")),  # proportional: 10 − 10 × 1/4
        (", count: proportional", Decimal("7.50")),
        (", count: all_or_nothing", Decimal("0.00")),  # one late task loses all 10
    ],
)
def test_on_time_proportional_or_all_or_nothing(count, expected):
    tasks = [
        {"id": f"K{n}", "kind": "assigned", "due": f"2026-0{n}-20", "completed_at": done}
        for n, done in (
            (3, "2026-03-18T10:00:00"),
            (4, "2026-04-20T10:00:00"),
            (5, "2026-05-25T10:00:00"),  # late
            (6, "2026-06-01T10:00:00"),
        )
    ]
    card = score(load_scheme_text(ON_TIME % count), _facts(tasks=tasks), YEAR_END)
    assert card.item("17").score == expected


GRADED = """
id: graded
name: 等次
grading: {excellent: 90, good: 80, required_task_kinds: [annual_target] %s}
items:
  - id: A
    name: 甲
    points: 100
    targets:
      - {id: A1, name: 酌情, rules: [{kind: discretionary, max: 100}]}
"""


@pytest.mark.parametrize(
    ("lines", "points", "level"),
    [
        ("", 80, "良好"),  # inclusive (default): 80 is 良好
        ("", 90, "优秀"),
        (", lines: above", 80, "合格"),  # above: 80 is not "80以上"
        (", lines: above", 90, "良好"),
        (", lines: above", 90.5, "优秀"),
    ],
)
def test_grade_lines_inclusive_or_above(lines, points, level):
    scheme = load_scheme_text(GRADED % lines)
    card = score(scheme, _facts([_entry("E1", "A1.1", value=points, kind="points")]), YEAR_END)
    assert card.grade is not None and card.grade.level == level


@pytest.mark.parametrize(
    ("allowed", "level"),
    [("", "不合格"), (", unfinished_allowed: 0", "不合格"), (", unfinished_allowed: 1", "优秀")],
)
def test_one_unfinished_annual_target_fails_unless_tolerated(allowed, level):
    scheme = load_scheme_text(GRADED % allowed)
    tasks = [
        {"id": "A1", "kind": "annual_target", "due": "2026-12-31"},  # never completed
        {
            "id": "A2",
            "kind": "annual_target",
            "due": "2026-12-31",
            "completed_at": "2026-11-01T10:00:00",
        },
    ]
    card = score(scheme, _facts([_entry("E1", "A1.1", value=95, kind="points")], tasks), YEAR_END)
    assert card.grade is not None and card.grade.level == level
    if allowed.endswith("1"):
        assert "在容许的1项以内" in card.grade.reason


def test_options_written_in_the_file_are_not_marked_default():
    default = {str(r) for r in readings(load_scheme_text(SHARED_CELL % ("event", "")))}
    written = {
        str(r) for r in readings(load_scheme_text(SHARED_CELL % ("event", ", forfeit: budget")))
    }
    assert any(line.startswith("G.1：「不得分」的范围") and "（默认）" in line for line in default)
    assert any(
        line.startswith("G.1：「不得分」的范围") and "（默认）" not in line for line in written
    )


def test_bad_option_names_path_and_choices():
    from scoring import SchemeError

    with pytest.raises(SchemeError) as err:
        load_scheme_text(SHARED_CELL % ("event", ", forfeit: half"), "cell.yaml")
    assert any(
        "items[0].targets[0].rules[0].forfeit: 应为 budget / share 之一" in line
        for line in err.value.errors
    )


def test_epb_totals_side_by_side():
    assert totals_line(load_builtin("epb-district-2007")) == (
        "未声明总分，分值列合计110，满分（各分值格合计）109，规则可得107"
    )


def test_scheme_check_lists_the_readings_of_epb(capsys):
    assert main(["scheme", "check", "epb-district-2007"]) == 0
    out = capsys.readouterr().out
    section = out.split("口径")[1]
    for where in (
        "T17.1：「不得分」的范围",
        "T17.1：完成情况的确认期限",
        "T22.2：「不得分」的范围",
        "T17.2：月报截止 [deadline]（原文未给月报截止日期）——+10d（月末后10天）；可改为+15d",
        "T17.3：季报、年报截止 [deadline]（原文未给季报、年报截止日期）——+15d（期末后15天）；可改为+10d",
        "T23.1：季报、年报截止 [deadline]",
        "T30：目标分值 [points]（原文分值写作(3)，而细则0.5+0.5+1+2=4）——3（按原文取3分",
        "T37.1：「按时……得N分」",
        "6：未分配的分值——10分中8分",
        "11：未分配的分值——6分中3分",
        "13：未分配的分值——14分中13分",
    ):
        assert where in section, where
    assert "分值列合计110，满分（各分值格合计）109，规则可得107" in out


def test_scheme_check_lists_the_readings_of_chuangmo(capsys):
    assert main(["scheme", "check", "chuangmo-taizhou"]) == 0
    out = capsys.readouterr().out
    for where in (
        "等次：“90分以上”“80以上”是否含本数 [lines]——inclusive",
        "等次：「完成年度工作任务」可容许的逾期未完成项数",
        "C3a.1：「按时……得N分」",
        "C3b.1：每月工作信息篇数 [per_period]（原文只说「及时报送工作信息6分」",
        "——4（每月4篇，取自seed 003目标16）；可改为N（每月N篇，由创模办另定）",
    ):
        assert where in out, where


def test_scheme_show_ends_with_the_readings(capsys):
    assert main(["scheme", "show", "epb-district-2007"]) == 0
    out = capsys.readouterr().out
    assert "口径" in out and out.rstrip().endswith("未被扣分即得")


# ---- 口径 written as choices on a rule or target (`reading: {about: …, choices: …}`) ----------


def _builtin_with(scheme_id, target_id, field, value, rule=None):
    """A built-in scheme with one field of a target (or of its `rule`-th rule) set to `value`:
    what the office does to switch a 口径 with choices."""
    from scoring.loader import SCHEMES_DIR, scheme_from_data

    data = yaml.safe_load((SCHEMES_DIR / f"{scheme_id}.yaml").read_text(encoding="utf-8"))
    node = next(t for i in data["items"] for t in i["targets"] if str(t["id"]) == target_id)
    if rule is not None:
        node = node["rules"][rule - 1]
    assert isinstance(node.get("reading"), dict) and node["reading"]["about"] == field
    node[field] = value
    return scheme_from_data(data, f"{scheme_id}.yaml")


def _sub(sid, target, period, at, kind="report"):
    return {"id": sid, "target": target, "period": period, "submitted_at": at, "kind": kind}


# T17 of seed 003 by 1 May 2026: the reports of January and February 5 days after the month, March's
# on day 12 after it (12 April); the Q1 report on 5 April. The T17.1 gate is still pending (due 15
# January 2027), T23 loses nothing (no amount), T24's ratio (1 point) is not entered yet and earns
# nothing: item 13 is 14 − 1 = 13 less the late monthly reports × 0.1.
T17_REPORTS = [
    _sub("M1", "T17", "2026-01", "2026-02-05T10:00:00"),
    _sub("M2", "T17", "2026-02", "2026-03-05T10:00:00"),
    _sub("M3", "T17", "2026-03", "2026-04-12T10:00:00"),
    _sub("Q1", "T17", "2026-Q1", "2026-04-05T10:00:00"),
]


@pytest.mark.parametrize(
    ("deadline", "late", "missing", "expected"),
    [
        (None, 1, 0, Decimal("12.90")),  # built-in +10d: March due 10 April, sent the 12th: late
        ("+10d", 1, 0, Decimal("12.90")),
        ("+15d", 0, 0, Decimal("13.00")),  # due 15 April: on time
        # each month due on its last day: January to March late, April (due 30 April) missing
        ("period_end", 3, 1, Decimal("12.60")),
    ],
)
def test_t17_monthly_report_deadline_is_a_choice(deadline, late, missing, expected):
    scheme = (
        load_builtin("epb-district-2007")
        if deadline is None
        else _builtin_with("epb-district-2007", "T17", "deadline", deadline, rule=2)
    )
    card = score(scheme, _facts(submissions=T17_REPORTS), date(2026, 5, 1))
    assert card.item("13").score == expected
    rule = card.rule("T17.2")
    assert rule.value == Decimal("0.1") * (late + missing)
    assert (f"迟报{late}次" in rule.explanation) is bool(late)
    assert card.rule("T17.3").value == Decimal("0.00")  # Q1 on 5 April: on time under +15d


@pytest.mark.parametrize(
    ("deadline", "expected"), [("+15d", Decimal("13.00")), ("+10d", Decimal("12.90"))]
)
def test_t17_quarterly_report_deadline_is_a_choice(deadline, expected):
    scheme = _builtin_with("epb-district-2007", "T17", "deadline", deadline, rule=3)
    subs = [*T17_REPORTS[:2], _sub("M3", "T17", "2026-03", "2026-04-08T10:00:00")]
    subs.append(_sub("Q1", "T17", "2026-Q1", "2026-04-12T10:00:00"))  # day 12 after the quarter
    card = score(scheme, _facts(submissions=subs), date(2026, 5, 1))
    assert card.item("13").score == expected


@pytest.mark.parametrize(("deadline", "late"), [("+15d", False), ("+10d", True)])
def test_t23_report_deadline_is_a_choice_listed_not_deducted(deadline, late):
    scheme = _builtin_with("epb-district-2007", "T23", "deadline", deadline, rule=1)
    subs = [_sub("Q1", "T23", "2026-Q1", "2026-04-12T10:00:00")]
    card = score(scheme, _facts(submissions=subs), date(2026, 5, 1))
    rule = card.rule("T23.1")
    assert ("迟报1次" in rule.explanation) is late
    assert rule.value == Decimal("0.00")  # T23.1 has no amount: a late report is only listed


def _t30_awards():
    return [_entry(f"E{n}", f"T30.{n}") for n in range(1, 5)]  # 0.5 + 0.5 + 1 + 2 = 4 awarded


@pytest.mark.parametrize(
    ("points", "t30", "item_max"),
    [
        (None, Decimal("3.00"), Decimal("7.00")),  # as written (3): 4 awarded, capped at 3
        (3, Decimal("3.00"), Decimal("7.00")),
        (4, Decimal("4.00"), Decimal("8.00")),  # read as (4): item 15 = 2 + 4 + 2 = its 8
    ],
)
def test_t30_points_three_as_written_or_four_as_its_rules_add_up(points, t30, item_max):
    scheme = (
        load_builtin("epb-district-2007")
        if points is None
        else _builtin_with("epb-district-2007", "T30", "points", points)
    )
    card = score(scheme, _facts(_t30_awards()), YEAR_END)
    item = card.item("15")
    assert item.score == t30  # T29 and T31 earned nothing
    assert item.max == item_max
    assert next(t for t in item.targets if t.id == "T30").score == t30


# C3b of seed 000 on 1 February 2026: two 政务信息 items in January (due at the month's end). Each
# month is worth 6/12 = 0.5; a month short of its quota loses 0.5 × (quota − 2) / quota.
@pytest.mark.parametrize(
    ("quota", "lost"),
    [
        (None, Decimal("0.25")),  # built-in 4: 0.5 × 2/4
        (4, Decimal("0.25")),
        (2, Decimal("0.00")),  # two a month: January complete
        (6, Decimal("0.33")),  # 0.5 × 4/6 = 1/3
    ],
)
def test_c3b_quota_per_month_is_a_choice(quota, lost):
    scheme = (
        load_builtin("chuangmo-taizhou")
        if quota is None
        else _builtin_with("chuangmo-taizhou", "C3b", "per_period", quota, rule=1)
    )
    subs = [_sub(f"I{n}", "C3b", "2026-01", f"2026-01-1{n}T10:00:00", "info") for n in (1, 2)]
    card = score(scheme, _facts(submissions=subs), date(2026, 2, 1))
    assert card.rule("C3b.1").value == lost
    assert card.item("C3").score == Decimal("12.00") - lost  # C3a's 6 untouched (no tasks)


def test_a_value_outside_the_choices_is_refused_with_its_path():
    from scoring import SchemeError

    with pytest.raises(SchemeError) as err:
        _builtin_with("epb-district-2007", "T17", "deadline", "+20d", rule=2)
    line = next(e for e in err.value.errors if "+20d" in e)
    assert "items[12].targets[0].rules[1].deadline: deadline 为 +20d" in line
    assert "+10d / +15d / period_end" in line and "reading.choices" in line


def test_a_quota_outside_listed_choices_is_taken_when_n_is_a_choice():
    scheme = _builtin_with("chuangmo-taizhou", "C3b", "per_period", 5, rule=1)
    (line,) = [str(r) for r in readings(scheme) if r.where == "C3b.1"]
    assert "——5（每月5篇，由创模办另定）；可改为4（每月4篇" in line


CHOICE_ON = """
id: choice
name: 口径
items:
  - id: A
    name: 甲
    points: 4
    targets:
      - id: A1
        name: 月报
        rules:
          - {kind: reports, periods: [monthly], period: monthly, deadline: +10d, amount: 0.1,
             reading: %s}
"""


@pytest.mark.parametrize(
    ("reading", "problem"),
    [
        (
            "{about: cutoff, label: 截止, choices: {+10d: 十天, +15d: 十五天}}",
            "rules[0].reading.about: 没有字段 'cutoff' 可选（可写：deadline、period、periods、amount）",
        ),
        ("{about: deadline, label: 截止, choices: {+10d: 十天}}", "至少列出两种可选的口径"),
        ("{about: deadline, choices: {+10d: 十天, +5d: 五天}}", "reading.label: 缺少必填字段"),
        (
            "{about: deadline, label: 截止, choices: {+10d: 十天, +5d: 五天}, why: x}",
            "reading.why: 未知字段（允许：about, choices, label, note）",
        ),
    ],
)
def test_a_reading_with_choices_is_checked(reading, problem):
    from scoring import SchemeError

    with pytest.raises(SchemeError) as err:
        load_scheme_text(CHOICE_ON % reading, "c.yaml")
    assert any(problem in line for line in err.value.errors), err.value.errors


def test_a_reading_with_choices_goes_through_the_table():
    from scoring.describe import reading_data
    from scoring.loader import scheme_from_data
    from scoring.table import scheme_data, scheme_table

    scheme = load_builtin("epb-district-2007")
    table = scheme_table(scheme)
    (row,) = [r for r in table.rows if r.get("目标编号") == "T30"]
    assert row["目标口径"].startswith("{about: points, label: 目标分值")
    back = scheme_from_data(*scheme_data(table, "back", "t.xlsx"))
    for where in ("T17.2", "T17.3", "T23.1"):
        assert back.rule(where).alternatives == scheme.rule(where).alternatives is not None
    assert reading_data(back.target("T30")) == reading_data(scheme.target("T30"))
