"""Scheme lint: every place the numbers do not add up, as warnings. Never changes the scheme.

Source documents are not always consistent with themselves (seed 003's item 2 promises 2+2+1 for a
6-point cell); the product must say so clearly instead of silently fixing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from scoring.budgets import scheme_budgets
from scoring.kinds import Family
from scoring.model import Scheme
from scoring.numbers import fmt

ZERO = Fraction(0)


@dataclass(frozen=True)
class LintWarning:
    where: str  # the ids concerned, e.g. "2" or "C1a"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def lint(scheme: Scheme) -> list[LintWarning]:
    """Warnings for rules vs their budget, targets vs their item, items vs the declared total."""
    warnings: list[LintWarning] = []
    warnings += _rules_vs_budgets(scheme)
    warnings += _targets_vs_items(scheme)
    warnings += _items_vs_total(scheme)
    return warnings


def _rules_vs_budgets(scheme: Scheme) -> list[LintWarning]:
    out = []
    for budget in scheme_budgets(scheme):
        if budget.points is None:
            continue
        rules = budget.rules
        shares = [r for r in rules if r.params.share() is not None]
        declared = sum((r.params.share() or ZERO for r in shares), ZERO)
        ids = "+".join(f"{r.id}({fmt(r.params.share())})" for r in shares)
        has_lose = any(r.family == Family.LOSE for r in rules)
        label = "目标" if budget.id in scheme.targets_by_id else "项目"
        for r in rules:
            p = r.params
            pin = getattr(p, "points_if_none", None)
            if pin is not None and pin.points != budget.points and len(rules) > 1:
                out.append(
                    LintWarning(
                        r.id,
                        f"无「{pin.task_kind}」任务时本预算改按{fmt(pin.points)}分计，"
                        f"与{label}{budget.id}的{fmt(budget.points)}分不同，同预算的其他规则仍按原分值",
                    )
                )
        if declared > budget.points:
            out.append(
                LintWarning(
                    budget.id,
                    f"规则分值合计{fmt(declared)}（{ids}）超过{label}{budget.id}的{fmt(budget.points)}分",
                )
            )
        elif not has_lose and declared < budget.points:
            out.append(
                LintWarning(
                    budget.id,
                    f"规则分值合计{fmt(declared)}（{ids or '无'}）少于{label}{budget.id}的"
                    f"{fmt(budget.points)}分，最多只能得{fmt(declared)}分",
                )
            )
    return out


def _targets_vs_items(scheme: Scheme) -> list[LintWarning]:
    out = []
    sharers: dict[str, list[str]] = {}
    for item in scheme.items:
        if item.shares:
            sharers.setdefault(item.shares, []).append(item.id)
    for item in scheme.items:
        if item.points is None or item.shares is not None:
            continue
        group = [scheme.item(i) for i in [item.id, *sharers.get(item.id, [])]]
        targets = [t for i in group for t in i.targets]
        pointed = [t for t in targets if t.points is not None]
        carved = sum((t.points or ZERO for t in pointed), ZERO)
        names = "、".join(i.id for i in group)
        ids = "+".join(f"{t.id}({fmt(t.points)})" for t in pointed)
        if len(pointed) == len(targets) and carved != item.points:
            out.append(
                LintWarning(
                    names,
                    f"目标分值合计{fmt(carved)}（{ids}）与项目{names}的{fmt(item.points)}分不符",
                )
            )
        elif pointed and len(pointed) < len(targets) and carved >= item.points:
            out.append(
                LintWarning(
                    names,
                    f"有分值的目标合计{fmt(carved)}（{ids}）已达项目{names}的"
                    f"{fmt(item.points)}分，未标分值的目标没有剩余分值",
                )
            )
    return out


def column_total(scheme: Scheme) -> tuple[Fraction, str]:
    """The points column of the source added up (each points cell once; bonus items apart), and
    the sum written out ("1(2)+2(6)+…")."""
    parts = []
    for item in scheme.items:
        if item.bonus or item.shares is not None:
            continue
        if item.points is not None:
            parts.append((item.id, item.points))
        else:
            parts.append((item.id, sum((t.points or ZERO for t in item.targets), ZERO)))
    total = sum((p for _, p in parts), ZERO)
    return total, "+".join(f"{i}({fmt(p)})" for i, p in parts)


def reachable(scheme: Scheme) -> Fraction:
    """The most a unit can score: per budget its points, or what its rules can give when they can
    give less (an earn-only budget whose rules claim less than the cell)."""
    out = ZERO
    for budget in scheme_budgets(scheme):
        if budget.bonus or budget.points is None:
            continue
        if any(r.family == Family.LOSE for r in budget.rules):
            out += budget.points
        else:
            claimed = sum((r.params.share() or ZERO for r in budget.rules), ZERO)
            out += min(budget.points, claimed)
    return out


def _items_vs_total(scheme: Scheme) -> list[LintWarning]:
    if scheme.total is None:
        return []
    total, ids = column_total(scheme)
    if total == scheme.total:
        return []
    return [
        LintWarning(
            scheme.id,
            f"项目分值合计{fmt(total)}（{ids}）与方案声明的总分{fmt(scheme.total)}不符",
        )
    ]
