"""Describe a scheme for people: a readable Chinese tree and a JSON-able dict (`kaohe scheme show`)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from scoring.budgets import scheme_budgets
from scoring.facts import TASK_KIND_WORDS
from scoring.model import Rule, Scheme, Target
from scoring.numbers import fmt


def base_max(scheme: Scheme) -> Fraction:
    """The scheme's maximum base score: the sum of its non-bonus budgets."""
    return sum(
        (b.points or Fraction(0) for b in scheme_budgets(scheme) if not b.bonus), Fraction(0)
    )


def describe_rule(rule: Rule) -> str:
    """How a rule scores, in a few Chinese words (its kind says)."""
    return rule.params.describe(rule)


def _when(rule: Rule) -> str:
    if not rule.params.has_deadline or rule.deadline in (None, "period_end"):
        return ""
    return f"（截止{rule.deadline}）"


def render_scheme(scheme: Scheme) -> str:
    """The scheme as an indented Chinese tree with points."""
    bonus = [i for i in scheme.items if i.bonus]
    head = [f"{scheme.id}  {scheme.name}"]
    if scheme.source:
        head.append(f"来源：{scheme.source}")
    total = f"声明总分{fmt(scheme.total)}，" if scheme.total is not None else ""
    extra = f"；加分项目{'、'.join(i.id for i in bonus)}另计" if bonus else ""
    head.append(f"{total}基本分满分{fmt(base_max(scheme))}{extra}")
    if scheme.grading is not None:
        g = scheme.grading
        req = "、".join(TASK_KIND_WORDS.get(k, k) for k in g.required_task_kinds)
        sign = ">" if g.lines == "above" else "≥"
        head.append(
            f"等次：优秀{sign}{fmt(g.excellent)}，良好{sign}{fmt(g.good)}，否则合格"
            + (f"；「{req}」任务逾期未完成为不合格" if req else "")
        )
    lines = [*head, ""]
    for item in scheme.items:
        pts = f"  {fmt(item.points)}分" if item.points is not None else ""
        note = f"（与{item.shares}共用分值）" if item.shares else ""
        note += "（加分项目）" if item.bonus else ""
        office = f" · {item.office}" if item.office else ""
        lines.append(f"{item.id} {item.name}{pts}{note}{office}")
        for target in item.targets:
            tp = f"  {fmt(target.points)}分" if target.points is not None else ""
            lines.append(f"  {target.id} {target.name}{tp}")
            for rule in target.rules:
                lines.append(f"    {rule.id} [{rule.kind}] {describe_rule(rule)}{_when(rule)}")
    return "\n".join(lines)


def _n(value: Fraction | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value.denominator == 1 else float(value)


def _params(rule: Rule) -> dict[str, Any]:
    return rule.params.model_dump(mode="json", exclude={"kind"})


def scheme_to_dict(scheme: Scheme) -> dict[str, Any]:
    """The validated scheme as plain data, with every default filled in and the maximum."""
    g = scheme.grading
    return {
        "id": scheme.id,
        "name": scheme.name,
        "source": scheme.source,
        "total": _n(scheme.total),
        "max": _n(base_max(scheme)),
        "grading": None
        if g is None
        else {
            "excellent": _n(g.excellent),
            "good": _n(g.good),
            "required_task_kinds": list(g.required_task_kinds),
            "lines": g.lines,
            "unfinished_allowed": g.unfinished_allowed,
        },
        "items": [
            {
                "id": i.id,
                "name": i.name,
                "points": _n(i.points),
                "office": i.office,
                "bonus": i.bonus,
                "shares": i.shares,
                "targets": [
                    {
                        "id": t.id,
                        "name": t.name,
                        "text": t.text,
                        "points": _n(t.points),
                        "office": t.office,
                        "reading": reading_data(t),
                        "rules": [
                            {
                                "id": r.id,
                                "kind": r.kind,
                                "family": r.family,
                                "text": r.text,
                                "period": r.period,
                                "deadline": r.deadline,
                                "office": r.office,
                                "reading": reading_data(r),
                                "params": _params(r),
                                "summary": describe_rule(r),
                            }
                            for r in t.rules
                        ],
                    }
                    for t in i.targets
                ],
            }
            for i in scheme.items
        ],
    }


def reading_data(node: Rule | Target) -> str | dict[str, Any]:
    """The `reading` of a rule or target as the scheme file writes it: a note, or a mapping with
    the field it is about and its choices."""
    alt = node.alternatives
    if alt is None:
        return node.reading
    data: dict[str, Any] = {"about": alt.about, "label": alt.label}
    if alt.note:
        data["note"] = alt.note
    data["choices"] = dict(alt.choices)
    return data
