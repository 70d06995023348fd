"""`score(scheme, facts, as_of)`: pure and deterministic, a score card out.

Rules are evaluated against the facts known on `as_of`; each budget combines its rules per
docs/scheme.md ("Budgets"); budgets are rounded once, and the totals are sums of rounded budgets so
the breakdown always adds up to what the user sees.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from scoring.budgets import Budget, scheme_budgets
from scoring.context import Context, build_context
from scoring.facts import Facts
from scoring.grade import suggest_grade
from scoring.kinds import Family, RuleResult
from scoring.model import Rule, Scheme
from scoring.numbers import round2
from scoring.scorecard import BudgetLine, ItemLine, RuleLine, ScoreCard, TargetLine

ZERO = Fraction(0)
CENTS_ZERO = Decimal("0.00")  # the start of the two-decimal sums (made once, not per sum)


def combine(points: Fraction | None, results: list[RuleResult]) -> Fraction:
    """A budget's score from its rules' results (earn-only cap; lose: floor 0, 扣完为止)."""
    earned = lost = ZERO
    has_lose = False
    for r in results:  # one pass: Fraction sums are the cost here
        if r.forfeit:
            return ZERO
        if r.family == Family.EARN:
            earned += r.value
        elif r.family == Family.LOSE:
            lost += r.value
            has_lose = True
    if points is None:
        return max(ZERO, earned - lost)
    if not has_lose:
        return min(earned, points)
    unearned = sum(
        (r.max - r.value for r in results if r.family == Family.EARN and r.max is not None), ZERO
    )
    return min(points, max(ZERO, points - lost - unearned))


def _budget_points(budget: Budget, results: list[RuleResult]) -> Fraction | None:
    switched = [r.switched_max for r in results if r.switched_max is not None]
    return sum(switched, ZERO) if switched else budget.points


def evaluate(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    """Evaluate one rule; `budget` is its budget's points (a gate forfeits all of them)."""
    return rule.params.evaluate(rule, ctx, budget)


def _score_budget(
    budget: Budget, ctx: Context
) -> tuple[Fraction | None, Fraction, list[RuleResult]]:
    # Kinds that act on the whole budget (a gate) see its points after any points_if_none switch.
    first = [r for r in budget.rules if not r.params.whole_budget]
    others = [evaluate(r, ctx, budget.points) for r in first]
    points = _budget_points(budget, others)
    by_id = {r.rule_id: r for r in others}
    for rule in budget.rules:
        if rule.params.whole_budget:
            by_id[rule.id] = evaluate(rule, ctx, points)
    results = [by_id[r.id] for r in budget.rules]
    return points, combine(points, results), results


def stake(result: RuleResult) -> Fraction:
    """What a pending rule can still move (`RuleResult.at_stake`, earn's default `max − value`)."""
    if not result.pending:
        return ZERO
    if result.at_stake is not None:
        return max(ZERO, result.at_stake)
    if result.family == Family.EARN and result.max is not None:
        return max(ZERO, result.max - result.value)
    return ZERO


def _open_and_credited(
    points: Fraction | None, value: Fraction, results: list[RuleResult]
) -> tuple[Fraction, Fraction]:
    """Of a budget: the points not yet assessed (still to be given), and those counted in its
    score for periods not yet due."""
    if points is None:
        return ZERO, ZERO
    pending = [r for r in results if r.pending]  # the others have nothing at stake
    if not pending:  # what the lines below give with nothing at stake, without the arithmetic
        return ZERO, min(ZERO, value)
    earn = lose = ZERO
    for r in pending:
        if r.family == Family.EARN:
            earn += stake(r)
        elif r.family == Family.LOSE:
            lose += stake(r)
    open_ = min(earn, max(ZERO, points - value))
    return open_, min(lose, value)


def _dec(value: Fraction | None) -> Decimal | None:
    return None if value is None else round2(value)


def score(scheme: Scheme, facts: Facts, as_of: date) -> ScoreCard:
    """Score one unit's facts against a scheme as of a date."""
    ctx = build_context(scheme, facts, as_of)
    results: dict[str, RuleResult] = {}
    budget_lines: list[BudgetLine] = []
    for budget in scheme_budgets(scheme):
        points, value, rule_results = _score_budget(budget, ctx)
        results.update((r.rule_id, r) for r in rule_results)
        open_, credited = _open_and_credited(points, value, rule_results)
        if points is None:
            maxima = [r.max for r in rule_results if r.family == Family.EARN]
            known = [m for m in maxima if m is not None]
            display_max = None if len(known) < len(maxima) else sum(known, ZERO)
        else:
            display_max = points
        budget_lines.append(
            BudgetLine(
                id=budget.id,
                item=budget.item,
                points=_dec(display_max),
                score=round2(value),
                rules=tuple(r.id for r in budget.rules),
                bonus=budget.bonus,
                open=round2(open_),
                credited=round2(credited),
            )
        )
    own = {b.id: b for b in budget_lines}
    of_item: dict[str, list[BudgetLine]] = {}
    for line in budget_lines:
        of_item.setdefault(line.item, []).append(line)
    items: list[ItemLine] = []
    for item in scheme.items:
        targets = []
        for target in item.targets:
            rule_lines = tuple(
                RuleLine(
                    id=rule.id,
                    kind=rule.kind,
                    family=rule.family,
                    text=rule.text,
                    value=round2(r.value),
                    max=_dec(r.max),
                    explanation=r.explanation,
                    pending=r.pending,
                    open=r.open,
                    stake=round2(stake(r)),
                )
                for rule in target.rules
                for r in (results[rule.id],)
            )
            b = own.get(target.id) if target.points is not None else None
            targets.append(
                TargetLine(
                    id=target.id,
                    name=target.name,
                    points=b.points if b else None,
                    score=b.score if b else None,
                    rules=rule_lines,
                )
            )
        mine = of_item.get(item.id, [])
        score_ = sum((b.score for b in mine), CENTS_ZERO) if mine else None
        item_max = [b.points for b in mine if b.points is not None]
        max_ = None if not mine or len(item_max) < len(mine) else sum(item_max, CENTS_ZERO)
        pending = any(r.pending for t in targets for r in t.rules)
        items.append(
            ItemLine(
                id=item.id,
                name=item.name,
                office=item.office,
                bonus=item.bonus,
                shares=item.shares,
                score=score_,
                max=max_,
                pending=pending,
                targets=tuple(targets),
            )
        )
    base = [b for b in budget_lines if not b.bonus]
    base_total = sum((b.score for b in base), CENTS_ZERO)
    base_max = sum((b.points or CENTS_ZERO for b in base), CENTS_ZERO)
    bonus = sum((b.score for b in budget_lines if b.bonus), CENTS_ZERO)
    pending = any(r.pending for r in results.values())
    grade = (
        suggest_grade(scheme.grading, facts, as_of, base_total, pending=pending)
        if scheme.grading is not None
        else None
    )
    opens = tuple(o for r in scheme.rules() for o in results[r.id].open)
    return ScoreCard(
        scheme_id=scheme.id,
        scheme_name=scheme.name,
        unit=facts.unit,
        year=facts.year,
        as_of=as_of,
        items=tuple(items),
        budgets=tuple(budget_lines),
        base_total=base_total,
        base_max=base_max,
        bonus=bonus,
        total=base_total + bonus,
        grade=grade,
        pending=pending,
        open=opens,
        notes=tuple(ctx.notes),
        open_points=sum((b.open for b in base), CENTS_ZERO),
        credited=sum((b.credited for b in base), CENTS_ZERO),
    )
