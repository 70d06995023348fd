"""Scheme lint: warnings, never errors, wherever the numbers do not add up."""

import pytest

from scoring import builtin_scheme_ids, lint, load_builtin, load_scheme_text

HEAD = "id: l\nname: l\n"


def warnings(yaml_text: str) -> list[str]:
    return [str(w) for w in lint(load_scheme_text(HEAD + yaml_text))]


def test_consistent_scheme_has_no_warnings():
    assert (
        warnings(
            "total: 10\nitems:\n"
            "  - {id: A, name: a, points: 10, targets: [{id: A1, name: a, points: 4, rules: [{kind: award, points: 4}]},"
            " {id: A2, name: b, points: 6, rules: [{kind: deduction, amount: 1}]}]}\n"
        )
        == []
    )


def test_rules_short_of_an_earn_only_budget():
    out = warnings(
        "items:\n  - {id: '2', name: a, points: 6, targets: [{id: T2, name: t, rules: "
        "[{kind: award, points: 2}, {kind: award, points: 2}, {kind: award, points: 1}]}]}\n"
    )
    assert out == ["2: 规则分值合计5（T2.1(2)+T2.2(2)+T2.3(1)）少于项目2的6分，最多只能得5分"]


def test_rules_over_a_target_budget():
    out = warnings(
        "items:\n  - {id: A, name: a, points: 3, targets: [{id: T30, name: t, points: 3, rules: "
        "[{kind: award, points: 2}, {kind: award, points: 2}]}]}\n"
    )
    assert any(w.startswith("T30:") and "4" in w and "超过目标T30的3分" in w for w in out)


def test_targets_vs_item_points():
    out = warnings(
        "items:\n  - {id: '15', name: a, points: 8, targets: ["
        "{id: T29, name: a, points: 2, rules: [{kind: award, points: 2}]},"
        "{id: T30, name: b, points: 3, rules: [{kind: award, points: 3}]},"
        "{id: T31, name: c, points: 2, rules: [{kind: award, points: 2}]}]}\n"
    )
    assert out == ["15: 目标分值合计7（T29(2)+T30(3)+T31(2)）与项目15的8分不符"]


def test_shared_item_counts_its_sharers_rules():
    text = (
        "items:\n"
        "  - {id: '7', name: a, points: 10, targets: [{id: T8, name: a, rules: [{kind: ratio, points: 5}]},"
        " {id: T9, name: b, rules: [{kind: award, points: 1}]}]}\n"
        "  - {id: '8', name: b, shares: '7', targets: [{id: T10, name: c, rules: [{kind: award, points: 2}]},"
        " {id: T11, name: d, rules: [{kind: award, points: %s}]}]}\n"
    )
    assert warnings(text % 2) == []
    out = warnings(text % 1)
    assert len(out) == 1 and out[0].startswith("7:") and "9" in out[0] and "10" in out[0]


def test_items_vs_declared_total_ignores_bonus_and_sharers():
    base = (
        "items:\n"
        "  - {id: A, name: a, points: 60, targets: [{id: A1, name: a, rules: [{kind: discretionary, max: 60}]}]}\n"
        "  - {id: B, name: b, shares: A, targets: [{id: B1, name: b, rules: [{kind: deduction}]}]}\n"
        "  - {id: C, name: c, targets: [{id: C1, name: c, points: 30, rules: [{kind: discretionary, max: 30}]}]}\n"
        "  - {id: D, name: d, bonus: true, targets: [{id: D1, name: d, rules: [{kind: per_unit, points: 1}]}]}\n"
    )
    assert warnings("total: 90\n" + base) == []
    out = warnings("total: 100\n" + base)
    assert out == ["l: 项目分值合计90（A(60)+C(30)）与方案声明的总分100不符"]


def test_lint_never_changes_the_scheme():
    text = (
        HEAD
        + "total: 5\nitems:\n  - {id: A, name: a, points: 6, targets: [{id: A1, name: a, rules: [{kind: award, points: 2}]}]}\n"
    )
    scheme = load_scheme_text(text)
    again = load_scheme_text(text)
    assert len(lint(scheme)) == 2
    assert scheme == again and scheme.item("A").points == 6


def test_builtin_epb_scheme_reports_the_seed_inconsistencies():
    if "epb-district-2007" not in builtin_scheme_ids():
        pytest.skip("built-in scheme not present")
    where = {w.where for w in lint(load_builtin("epb-district-2007"))}
    assert {"2", "5", "15"} <= where  # 2+2+1 for 6, 7 for 8, 2+3+2 for 8 (seed 003)
