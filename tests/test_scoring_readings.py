"""口径: every named option gives its documented result for each of its choices, and `scheme
check` lists the options and notes of both built-in schemes. Expected scores are worked by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

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
        "T17.2：说明——原文未给月报截止日期",
        "T17.3：说明",
        "T23.1：说明",
        "T30：说明",
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
        "C3b.1：说明——原文只说「及时报送工作信息6分」",
    ):
        assert where in out, where


def test_scheme_show_ends_with_the_readings(capsys):
    assert main(["scheme", "show", "epb-district-2007"]) == 0
    out = capsys.readouterr().out
    assert "口径" in out and out.rstrip().endswith("未被扣分即得")
