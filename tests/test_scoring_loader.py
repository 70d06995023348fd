"""Scheme and facts loading: every field checked, every error named by file, path and what."""

import json
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from scoring import (
    FactsError,
    SchemeError,
    builtin_scheme_ids,
    load_builtin,
    load_facts_file,
    load_facts_text,
    load_scheme,
    load_scheme_file,
    load_scheme_text,
)
from scoring.facts import EntryKind, Status
from scoring.model import Deduction, Quota, Reports, TaskList

GOOD = """
id: demo
name: 演示方案
total: 10
grading: {excellent: 90, good: 80, required_task_kinds: [annual_target]}
items:
  - id: A
    name: 甲
    points: 10
    office: 办公室
    targets:
      - id: A1
        name: 信息
        points: 4
        rules:
          - {kind: quota, per_period: 4, points: 4, period: monthly}
      - id: A2
        name: 扣分
        office: 监察室
        points: 6
        rules:
          - {kind: deduction, amount: 0.1}
          - {id: A2-r, kind: deduction, range: [1, 3], max: 3}
          - {kind: reports, periods: [monthly, yearly], amount: 0.1, deadline: +10d}
"""


def test_good_scheme_loads_with_defaults():
    s = load_scheme_text(GOOD, "demo.yaml")
    assert s.id == "demo" and s.total == 10
    assert [r.id for r in s.rules()] == ["A1.1", "A2.1", "A2-r", "A2.3"]
    quota = s.rule("A1.1")
    assert isinstance(quota.params, Quota) and quota.params.per_period == 4
    assert quota.period == "monthly"
    assert quota.office == "办公室"  # inherited from the item
    assert s.rule("A2.1").office == "监察室"  # the target's office wins
    assert s.rule("A2.1").params == Deduction(amount=Fraction(1, 10))
    assert s.rule("A2-r").params == Deduction(range=(Fraction(1), Fraction(3)), max=Fraction(3))
    assert s.rule("A2.3").params == Reports(periods=("monthly", "yearly"), amount=Fraction(1, 10))
    assert s.rule("A2.1").period == "yearly"  # the default period
    assert s.grading is not None and s.grading.required_task_kinds == ("annual_target",)


def test_numeric_ids_are_accepted_as_text():
    s = load_scheme_text(
        """
id: n
name: n
items:
  - {id: 7, name: 七, points: 10, targets: [{id: T8, name: x, rules: [{kind: award, points: 5}]}]}
  - {id: 8, name: 八, shares: 7, targets: [{id: T10, name: y, rules: [{kind: award, points: 5}]}]}
"""
    )
    assert s.item("8").shares == "7"


BAD = """
id: Bad_Id
name: 坏方案
total: -5
colour: red
items:
  - id: A
    name: 甲
    points: 10
    targets:
      - id: A1
        name: 一
        rules:
          - {kind: award, points: 1}
          - {kind: deduction, amount: -0.1}
          - {kind: teleport, points: 1}
          - {kind: award}
          - {kind: quota, per_period: 0, points: 4, period: monthly}
          - {kind: reports, periods: [monthly, daily], deadline: 12-15}
          - {kind: award, points: "three"}
          - {kind: award, points: 1, sparkle: true}
  - id: A
    name: 重复
    targets:
      - id: B1
        name: 无分值
        rules: [{kind: award, points: 1}]
  - id: C
    name: 共用
    shares: Z
    targets:
      - {id: C1, name: c, rules: [{kind: task_list, task_kind: annual_target, points: 1, points_if_none: {task_kind: key_project}}]}
  - id: D
    name: 截止
    points: 1
    targets:
      - {id: D1, name: d, rules: [{kind: quota, per_period: 4, points: 1, period: monthly, deadline: 12-15}, {kind: award, points: 1, deadline: soon}]}
"""


def test_every_error_is_collected_with_file_path_and_what():
    with pytest.raises(SchemeError) as err:
        load_scheme_text(BAD, "bad.yaml")
    errors = err.value.errors
    text = "\n".join(errors)
    assert all(line.startswith("bad.yaml: ") for line in errors)
    expected = [
        ("bad.yaml: id:", "小写字母"),
        ("bad.yaml: total:", "不能为负数"),
        ("bad.yaml: colour:", "未知字段"),
        ("items[0].targets[0].rules[1].amount:", "应大于0"),
        ("items[0].targets[0].rules[2].kind:", "teleport"),
        ("items[0].targets[0].rules[3].points:", "缺少必填字段"),
        ("items[0].targets[0].rules[4].per_period:", "正整数"),
        ("items[0].targets[0].rules[5].periods[1]:", "daily"),
        ("items[0].targets[0].rules[5].deadline:", "MM-DD"),
        ("items[0].targets[0].rules[6].points:", "应为数字"),
        ("items[0].targets[0].rules[7].sparkle:", "未知字段"),
        ("items[1].id:", "重复"),
        ("items[1].targets[0].points:", "没有分值"),
        ("items[2].targets[0].rules[0].points_if_none.points:", "缺少必填字段"),
        ("items[2].shares:", "没有编号为 'Z' 的项目"),
        ("items[3].targets[0].rules[0].deadline:", "MM-DD"),
        ("items[3].targets[0].rules[1].deadline:", "+Nd"),
    ]
    for where, what in expected:
        assert any(where in line and what in line for line in errors), (where, what, text)
    assert len(errors) >= len(expected)


def test_yaml_syntax_and_shape_errors():
    with pytest.raises(SchemeError, match=r"x\.yaml: YAML 语法错误"):
        load_scheme_text("id: [unclosed", "x.yaml")
    with pytest.raises(SchemeError, match="应为映射"):
        load_scheme_text("- just a list", "x.yaml")
    with pytest.raises(SchemeError, match=r"items: 缺少必填字段"):
        load_scheme_text("id: a\nname: b\n", "x.yaml")


def test_shares_rules():
    base = "id: s\nname: s\nitems:\n"
    item_b = "  - {id: B, name: b, %s targets: [{id: B1, name: b1, rules: [{kind: award, points: 1}]}]}\n"
    with pytest.raises(SchemeError, match=r"items\[1\]\.shares: .*不能再有自己的 points"):
        load_scheme_text(
            base
            + "  - {id: A, name: a, points: 2, targets: [{id: A1, name: a1, rules: [{kind: award, points: 1}]}]}\n"
            + item_b % "shares: A, points: 1,"
        )
    with pytest.raises(SchemeError, match=r"没有 points，无从共用"):
        load_scheme_text(
            base
            + "  - {id: A, name: a, targets: [{id: A1, name: a1, points: 1, rules: [{kind: award, points: 1}]}]}\n"
            + item_b % "shares: A,"
        )


def test_load_scheme_file_names_the_file(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(BAD, encoding="utf-8")
    with pytest.raises(SchemeError) as err:
        load_scheme(str(path))
    assert all(str(path) in line for line in err.value.errors)
    with pytest.raises(SchemeError, match="文件不存在"):
        load_scheme_file(tmp_path / "missing.yaml")


def test_unknown_builtin_lists_the_known_ones():
    with pytest.raises(SchemeError, match="没有内置考核方案 'no-such-scheme'"):
        load_builtin("no-such-scheme")


def test_builtin_schemes_all_load():
    ids = builtin_scheme_ids()
    assert ids == sorted(ids)
    for scheme_id in ids:
        assert load_builtin(scheme_id).id == scheme_id


def test_builtin_chuangmo_has_the_40_60_switch():
    if "chuangmo-taizhou" not in builtin_scheme_ids():
        pytest.skip("built-in scheme not present")
    s = load_builtin("chuangmo-taizhou")
    params = [r.params for r in s.rules() if r.kind == "task_list"]
    assert all(isinstance(p, TaskList) and p.points_if_none is not None for p in params)


FACTS = """
unit: 椒江区
year: 2026
submissions:
  - {id: S1, target: C3b, period: 2026-11, submitted_at: 2026-11-03T09:12:00, title: 河道清理}
  - {id: S2, target: C3a, kind: feedback, task: K7, submitted_at: "2026-05-20T16:00:00+00:00"}
  - {id: S3, target: C3b, period: 2026-11, submitted_at: 2026-11-05T10:00:00, status: withdrawn}
tasks:
  - {id: K7, kind: feedback, due: 2026-05-20, title: 报送大气污染防治进展}
  - {id: A1, kind: annual_target, due: 2026-12-31, completed_at: 2026-10-30T12:00:00}
entries:
  - {id: E1, kind: confirmation, rule: C1a.1, value: 1, at: 2026-03-01T10:00:00, actor: admin1}
  - {id: E5, kind: rate, rule: T22.1, value: 0.72, at: 2026-12-01T10:00:00}
  - {id: E4, kind: void, voids: E1, at: 2026-06-02T10:00:00}
"""


def test_facts_yaml_loads_with_shanghai_times():
    facts = load_facts_text(FACTS, "f.yaml")
    assert facts.unit == "椒江区" and facts.year == 2026
    s1, s2, s3 = facts.submissions
    assert s1.submitted_at == datetime(2026, 11, 3, 9, 12, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert s2.submitted_at.utcoffset().total_seconds() == 0
    assert s3.status is Status.WITHDRAWN and not s3.counts
    assert s1.status is Status.ACCEPTED and s1.kind == "info"
    assert facts.tasks[1].completed_at.tzinfo is not None
    assert facts.entries[1].kind is EntryKind.RATE and facts.entries[1].value == Decimal("0.72")
    assert facts.entries[2].voids == "E1"


def test_facts_json_file(tmp_path):
    path = tmp_path / "f.json"
    path.write_text(
        json.dumps(
            {
                "unit": "黄岩区",
                "year": 2026,
                "submissions": [
                    {
                        "id": "S1",
                        "target": "T16",
                        "period": "2026-01",
                        "submitted_at": "2026-01-05T08:00:00",
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    facts = load_facts_file(path)
    assert facts.submissions[0].submitted_at.tzinfo == ZoneInfo("Asia/Shanghai")


def test_facts_errors_name_the_path():
    bad = """
unit: 椒江区
year: twenty
submissions:
  - {id: S1, target: C3b, submitted_at: 2026-11-03T09:12:00}
  - {id: S2, target: C3b, submitted_at: 2026-11-03T09:12:00, period: 2026-13}
  - {id: S3, target: C3b, submitted_at: 2026-11-03T09:12:00, status: lost}
  - {id: S4, target: C3b, submitted_at: yesterday}
  - {id: S1, target: C3b, submitted_at: 2026-11-03T09:12:00}
tasks:
  - {id: K1, kind: feedback, due: someday}
entries:
  - {id: E1, kind: wish, rule: C1a.1, at: 2026-03-01T10:00:00}
  - {id: E2, kind: points, rule: C2.1, at: 2026-03-01T10:00:00, value: lots}
  - {id: E3, kind: void, at: 2026-03-01T10:00:00}
"""
    with pytest.raises(FactsError) as err:
        load_facts_text(bad, "f.yaml")
    errors = err.value.errors
    for where in (
        "f.yaml: year:",
        "submissions[1].period:",
        "submissions[2].status:",
        "submissions[3].submitted_at:",
        "submissions[4].id:",
        "tasks[0].due:",
        "entries[0].kind:",
        "entries[1].value:",
        "entries[2].voids:",
    ):
        assert any(where in line for line in errors), (where, errors)
