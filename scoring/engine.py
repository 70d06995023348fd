"""`score(scheme, facts, as_of)`: pure and deterministic, a score card out.

Rules are evaluated against the facts known on `as_of`; each budget combines its rules per
docs/scheme.md ("Budgets"); budgets are rounded once, and the totals are sums of rounded budgets so
the breakdown always adds up to what the user sees.

The arithmetic is exact throughout. A budget's sums are worked out on the rationals' integer
numerators and denominators and made a `Fraction` once (`Fraction`'s operators cost a few
microseconds each: type dispatch and a gcd per step); a `Fraction` is kept in lowest terms, so the
same value is the same `Fraction` either way. What a card's layout needs of the scheme (its
budgets, which rules act on a whole budget, each rule's fixed fields) is worked out once per
scheme (`_Layout`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction

from scoring.budgets import Budget, scheme_budgets
from scoring.context import Context, build_context
from scoring.facts import Facts
from scoring.grade import suggest_grade
from scoring.kinds import Family, RuleResult
from scoring.model import Item, Rule, Scheme, Target
from scoring.numbers import round2, round2_of
from scoring.scorecard import BudgetLine, ItemLine, RuleLine, ScoreCard, TargetLine

ZERO = Fraction(0)
CENTS_ZERO = Decimal("0.00")  # the start of the two-decimal sums (made once, not per sum)
EARN, LOSE = Family.EARN, Family.LOSE


def _exact_sum(values: list[Fraction]) -> Fraction:
    """The exact sum of rationals, on their integers: one `Fraction` made at the end."""
    n, d = 0, 1
    for v in values:
        vn, vd = v.numerator, v.denominator
        if vd == d:
            n += vn
        else:
            n, d = n * vd + vn * d, d * vd
    return Fraction(n, d) if d != 1 else Fraction(n)


# A budget's arithmetic is on (numerator, denominator) pairs of ints, denominator > 0, not
# necessarily in lowest terms: compared by cross-multiplying, made a `Fraction` (or rounded by
# `round2_of`) once at the end, which gives the very value the `Fraction` operators give.
Pair = tuple[int, int]
NOTHING: Pair = (0, 1)


def _fraction(pair: Pair) -> Fraction:
    return Fraction(pair[0], pair[1])


def _combine(points: Fraction | None, results: list[RuleResult]) -> Pair:
    """A budget's score from its rules' results (earn-only cap; lose: floor 0, 扣完为止)."""
    en, ed, ln, ld = 0, 1, 0, 1  # earned, lost
    has_lose = False
    for r in results:
        if r.forfeit:
            return NOTHING
        family = r.family
        if family == EARN:
            v = r.value
            vn, vd = v.numerator, v.denominator
            if vd == ed:
                en += vn
            else:
                en, ed = en * vd + vn * ed, ed * vd
        elif family == LOSE:
            has_lose = True
            v = r.value
            vn, vd = v.numerator, v.denominator
            if vd == ld:
                ln += vn
            else:
                ln, ld = ln * vd + vn * ld, ld * vd
    if points is None:  # max(0, earned − lost)
        n = en * ld - ln * ed
        return (n, ed * ld) if n > 0 else NOTHING
    pn, pd = points.numerator, points.denominator
    if not has_lose:  # min(earned, points)
        return (en, ed) if en * pd <= pn * ed else (pn, pd)
    # min(points, max(0, points − lost − Σ(max − value) over the earn rules with a maximum))
    for r in results:
        if r.family == EARN and r.max is not None:
            m, v = r.max, r.value
            mn, md, vn, vd = m.numerator, m.denominator, v.numerator, v.denominator
            on, od = mn * vd - vn * md, md * vd  # this rule's max − value
            ln, ld = ln * od + on * ld, ld * od
    xn, xd = pn * ld - ln * pd, pd * ld
    if xn <= 0:
        return NOTHING
    return (pn, pd) if xn * pd >= pn * xd else (xn, xd)


def combine(points: Fraction | None, results: list[RuleResult]) -> Fraction:
    """A budget's score from its rules' results (earn-only cap; lose: floor 0, 扣完为止)."""
    return _fraction(_combine(points, results))


def _budget_points(budget: Budget, results: list[RuleResult]) -> Fraction | None:
    switched = [r.switched_max for r in results if r.switched_max is not None]
    return _exact_sum(switched) if switched else budget.points


def evaluate(rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
    """Evaluate one rule; `budget` is its budget's points (a gate forfeits all of them)."""
    return rule.params.evaluate(rule, ctx, budget)


def _stake(result: RuleResult) -> Pair:
    if not result.pending:
        return NOTHING
    held = result.at_stake
    if held is not None:
        n = held.numerator
        return (n, held.denominator) if n > 0 else NOTHING
    if result.family == EARN and result.max is not None:
        m, v = result.max, result.value
        n = m.numerator * v.denominator - v.numerator * m.denominator
        return (n, m.denominator * v.denominator) if n > 0 else NOTHING
    return NOTHING


def stake(result: RuleResult) -> Fraction:
    """What a pending rule can still move (`RuleResult.at_stake`, earn's default `max − value`)."""
    return _fraction(_stake(result))


def _open_and_credited(
    points: Fraction | None, value: Pair, results: list[RuleResult]
) -> tuple[Pair, Pair]:
    """Of a budget: the points not yet assessed (still to be given), and those counted in its
    score for periods not yet due."""
    if points is None:
        return NOTHING, NOTHING
    vn, vd = value
    en, ed, ln, ld = 0, 1, 0, 1  # at stake: earn, lose
    pending = False
    for r in results:
        if not r.pending:  # nothing at stake
            continue
        pending = True
        family = r.family
        if family == EARN:
            sn, sd = _stake(r)
            en, ed = (en + sn, ed) if sd == ed else (en * sd + sn * ed, ed * sd)
        elif family == LOSE:
            sn, sd = _stake(r)
            ln, ld = (ln + sn, ld) if sd == ld else (ln * sd + sn * ld, ld * sd)
    if not pending:  # what the lines below give with nothing at stake: min(0, value)
        return NOTHING, (value if vn < 0 else NOTHING)
    pn, pd = points.numerator, points.denominator
    rn, rd = pn * vd - vn * pd, pd * vd  # room: max(0, points − value)
    if rn < 0:
        rn = 0
    open_ = (en, ed) if en * rd <= rn * ed else (rn, rd)  # min(earn, room)
    credited = (ln, ld) if ln * vd <= vn * ld else value  # min(lose, value)
    return open_, credited


def _dec(value: Fraction | None) -> Decimal | None:
    return None if value is None else round2(value)


@dataclass(frozen=True)
class _BudgetPlan:
    budget: Budget
    first: tuple[Rule, ...]  # scored first: every rule but those acting on the whole budget
    whole: tuple[Rule, ...]  # scored on the budget's points after any switch (a gate)
    rule_ids: tuple[str, ...]


@dataclass(frozen=True)
class _Layout:
    """What every card of a scheme shares, worked out once per scheme."""

    budgets: tuple[_BudgetPlan, ...]
    # per item: the item, and per target the target and its rules
    items: tuple[tuple[Item, tuple[tuple[Target, tuple[Rule, ...]], ...]], ...]
    rule_order: tuple[str, ...]  # every rule of the scheme, in scheme order


def _layout(scheme: Scheme) -> _Layout:
    made: _Layout | None = scheme.__dict__.get("_engine_layout")
    if made is None:
        plans = []
        for b in scheme_budgets(scheme):
            first = tuple(r for r in b.rules if not r.params.whole_budget)
            whole = tuple(r for r in b.rules if r.params.whole_budget)
            plans.append(_BudgetPlan(b, first, whole, tuple(r.id for r in b.rules)))
        items = tuple(
            (item, tuple((t, tuple(t.rules)) for t in item.targets)) for item in scheme.items
        )
        made = _Layout(tuple(plans), items, tuple(r.id for r in scheme.rules()))
        scheme.__dict__["_engine_layout"] = made  # as functools.cached_property keeps its values
    return made


def _score_budget(
    plan: _BudgetPlan, ctx: Context
) -> tuple[Fraction | None, Pair, list[RuleResult]]:
    # Kinds that act on the whole budget (a gate) see its points after any points_if_none switch.
    budget = plan.budget
    results = [r.params.evaluate(r, ctx, budget.points) for r in plan.first]
    points = _budget_points(budget, results)
    if plan.whole:
        by_id = {r.rule_id: r for r in results}
        for rule in plan.whole:
            by_id[rule.id] = rule.params.evaluate(rule, ctx, points)
        results = [by_id[i] for i in plan.rule_ids]
    return points, _combine(points, results), results


def score(scheme: Scheme, facts: Facts, as_of: date) -> ScoreCard:
    """Score one unit's facts against a scheme as of a date."""
    layout = _layout(scheme)
    ctx = build_context(scheme, facts, as_of)
    results: dict[str, RuleResult] = {}
    budget_lines: list[BudgetLine] = []
    own: dict[str, BudgetLine] = {}
    of_item: dict[str, list[BudgetLine]] = {}
    for plan in layout.budgets:
        budget = plan.budget
        points, value, rule_results = _score_budget(plan, ctx)
        for r in rule_results:
            results[r.rule_id] = r
        open_, credited = _open_and_credited(points, value, rule_results)
        if points is None:
            maxima = [r.max for r in rule_results if r.family == EARN]
            known = [m for m in maxima if m is not None]
            display_max = None if len(known) < len(maxima) else _exact_sum(known)
        else:
            display_max = points
        line = BudgetLine(
            budget.id,
            budget.item,
            None if display_max is None else round2(display_max),
            round2_of(*value),
            plan.rule_ids,
            budget.bonus,
            round2_of(*open_),
            round2_of(*credited),
        )
        budget_lines.append(line)
        own[budget.id] = line
        of_item.setdefault(line.item, []).append(line)
    items: list[ItemLine] = []
    any_pending = False
    for item, targets_of in layout.items:
        targets = []
        item_pending = False
        for target, rules in targets_of:
            rule_lines = []
            for rule in rules:
                r = results[rule.id]
                pending = r.pending
                if pending:
                    item_pending = True
                rule_lines.append(
                    RuleLine(
                        rule.id,
                        rule.kind,
                        r.family,
                        rule.text,
                        round2(r.value),
                        None if r.max is None else round2(r.max),
                        r.explanation,
                        pending,
                        r.open,
                        round2_of(*_stake(r)) if pending else CENTS_ZERO_STAKE,
                    )
                )
            b = own.get(target.id) if target.points is not None else None
            targets.append(
                TargetLine(
                    target.id,
                    target.name,
                    b.points if b else None,
                    b.score if b else None,
                    tuple(rule_lines),
                )
            )
        mine = of_item.get(item.id, [])
        score_ = sum((b.score for b in mine), CENTS_ZERO) if mine else None
        item_max = [b.points for b in mine if b.points is not None]
        max_ = None if not mine or len(item_max) < len(mine) else sum(item_max, CENTS_ZERO)
        if item_pending:
            any_pending = True
        items.append(
            ItemLine(
                item.id,
                item.name,
                item.office,
                item.bonus,
                item.shares,
                score_,
                max_,
                item_pending,
                tuple(targets),
            )
        )
    base = [b for b in budget_lines if not b.bonus]
    base_total = sum((b.score for b in base), CENTS_ZERO)
    base_max = sum((b.points or CENTS_ZERO for b in base), CENTS_ZERO)
    bonus = sum((b.score for b in budget_lines if b.bonus), CENTS_ZERO)
    pending = any_pending or any(r.pending for r in results.values())
    grade = (
        suggest_grade(scheme.grading, facts, as_of, base_total, pending=pending)
        if scheme.grading is not None
        else None
    )
    opens = tuple(o for rule_id in layout.rule_order for o in results[rule_id].open)
    return ScoreCard(
        scheme.id,
        scheme.name,
        facts.unit,
        facts.year,
        as_of,
        tuple(items),
        tuple(budget_lines),
        base_total,
        base_max,
        bonus,
        base_total + bonus,
        grade,
        pending,
        opens,
        tuple(ctx.notes),
        sum((b.open for b in base), CENTS_ZERO),
        sum((b.credited for b in base), CENTS_ZERO),
    )


CENTS_ZERO_STAKE = round2(ZERO)  # a rule with nothing pending has nothing at stake
