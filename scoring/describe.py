"""Describe a scheme for people: a readable Chinese tree and a JSON-able dict (`kaohe scheme show`)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from scoring.budgets import scheme_budgets
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
    Rule,
    Scheme,
    SteppedRate,
    TaskList,
    Threshold,
)
from scoring.numbers import fmt, pct

PERIOD_WORDS = {"monthly": "每月", "quarterly": "每季度", "yearly": "每年", "once": "一次性"}
REPORT_WORDS = {"monthly": "月报", "quarterly": "季报", "yearly": "年报"}


def base_max(scheme: Scheme) -> Fraction:
    """The scheme's maximum base score: the sum of its non-bonus budgets."""
    return sum(
        (b.points or Fraction(0) for b in scheme_budgets(scheme) if not b.bonus), Fraction(0)
    )


def describe_rule(rule: Rule) -> str:
    """How a rule scores, in a few Chinese words."""
    p = rule.params
    if isinstance(p, Award):
        return f"完成得 {fmt(p.points)} 分"
    if isinstance(p, Discretionary):
        return f"酌情给分，最高 {fmt(p.max)} 分"
    if isinstance(p, Ratio):
        cut = f"，低于 {pct(p.cutoff)} 不得分" if p.cutoff is not None else ""
        return f"完成率 × {fmt(p.points)} 分{cut}"
    if isinstance(p, Threshold):
        return f"比率达 {pct(p.min)} 得 {fmt(p.points)} 分"
    if isinstance(p, Checklist):
        return f"{len(p.items)} 项共 {fmt(p.points)} 分，每缺一项扣 {fmt(p.per_missing)} 分"
    if isinstance(p, TaskList):
        alt = ""
        if p.points_if_none is not None:
            alt = f"（无「{p.points_if_none.task_kind}」任务时 {fmt(p.points_if_none.points)} 分）"
        return f"「{p.task_kind}」任务等权，按完成数计，共 {fmt(p.points)} 分{alt}"
    if isinstance(p, PerUnit):
        size = f"每 {fmt(p.unit_size)} " if p.unit_size != 1 else "每个"
        cap = f"，最多 {fmt(p.max)} 分" if p.max is not None else ""
        return f"{size}加 {fmt(p.points)} 分{cap}"
    if isinstance(p, Quota):
        return f"{PERIOD_WORDS[rule.period]} {p.per_period} 篇，共 {fmt(p.points)} 分，不足按比例扣"
    if isinstance(p, OnTime):
        return f"「{p.task_kind}」任务按时完成，共 {fmt(p.points)} 分，未按时按比例扣"
    if isinstance(p, Deduction):
        if p.amount is not None:
            text = f"每次扣 {fmt(p.amount)} 分"
        elif p.range is not None:
            text = f"每次扣 {fmt(p.range[0])}–{fmt(p.range[1])} 分"
        else:
            text = "按扣分记录扣分"
        return text + (f"，最多扣 {fmt(p.max)} 分" if p.max is not None else "")
    if isinstance(p, Reports):
        kinds = "、".join(REPORT_WORDS[k] for k in p.periods)
        if p.amount is None:
            return f"{kinds}迟报、漏报列出（不单独扣分）"
        return f"{kinds}迟报、漏报每次扣 {fmt(p.amount)} 分"
    if isinstance(p, SteppedRate):
        return f"低于 {pct(p.min)} 时每低 {pct(p.step)} 扣 {fmt(p.amount)} 分"
    if isinstance(p, Gate):
        return "未按期完成则本项不得分" if p.when == "missing" else "一经发现本项不得分"
    return rule.kind


def _when(rule: Rule) -> str:
    if rule.kind in ("task_list", "on_time", "deduction", "per_unit"):
        return ""
    if rule.deadline in (None, "period_end"):
        return ""
    return f"（截止 {rule.deadline}）"


def render_scheme(scheme: Scheme) -> str:
    """The scheme as an indented Chinese tree with points."""
    bonus = [i for i in scheme.items if i.bonus]
    head = [f"{scheme.id}  {scheme.name}"]
    if scheme.source:
        head.append(f"来源：{scheme.source}")
    total = f"声明总分 {fmt(scheme.total)}，" if scheme.total is not None else ""
    extra = f"；加分项目 {'、'.join(i.id for i in bonus)} 另计" if bonus else ""
    head.append(f"{total}基本分满分 {fmt(base_max(scheme))}{extra}")
    if scheme.grading is not None:
        g = scheme.grading
        req = "、".join(g.required_task_kinds)
        head.append(
            f"等次：优秀 ≥ {fmt(g.excellent)}，良好 ≥ {fmt(g.good)}，否则合格"
            + (f"；「{req}」任务逾期未完成为不合格" if req else "")
        )
    lines = [*head, ""]
    for item in scheme.items:
        pts = f"  {fmt(item.points)} 分" if item.points is not None else ""
        note = f"（与 {item.shares} 共用分值）" if item.shares else ""
        note += "（加分项目）" if item.bonus else ""
        office = f" · {item.office}" if item.office else ""
        lines.append(f"{item.id} {item.name}{pts}{note}{office}")
        for target in item.targets:
            tp = f"  {fmt(target.points)} 分" if target.points is not None else ""
            lines.append(f"  {target.id} {target.name}{tp}")
            for rule in target.rules:
                lines.append(f"    {rule.id} [{rule.kind}] {describe_rule(rule)}{_when(rule)}")
    return "\n".join(lines)


def _n(value: Fraction | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value.denominator == 1 else float(value)


def _params(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in vars(rule.params).items():
        if isinstance(value, Fraction):
            out[key] = _n(value)
        elif isinstance(value, tuple):
            out[key] = [
                _n(v) if isinstance(v, Fraction) else (vars(v) if hasattr(v, "__dict__") else v)
                for v in value
            ]
        elif value is not None and hasattr(value, "__dict__"):
            out[key] = {k: _n(v) if isinstance(v, Fraction) else v for k, v in vars(value).items()}
        else:
            out[key] = value
    return out


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
                        "rules": [
                            {
                                "id": r.id,
                                "kind": r.kind,
                                "family": r.family,
                                "text": r.text,
                                "period": r.period,
                                "deadline": r.deadline,
                                "office": r.office,
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
