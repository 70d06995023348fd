"""`quota`: so many items each period, shortfall deducted in proportion
(seed 003 T16 "每月完成政务信息4篇", seed 000 C3b)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal, NamedTuple

from scoring.kinds import register
from scoring.kinds.base import (
    ANY_DUE,
    ZERO,
    Delivered,
    Delivery,
    Family,
    OpenCategory,
    Owed,
    RuleKind,
    RuleResult,
    due_label,
)
from scoring.kinds.fields import Num, PosInt
from scoring.memo import per_scheme
from scoring.numbers import fmt
from scoring.periods import PeriodKind, due_date, is_due, period_bounds, period_label, periods_of

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule, Scheme

PERIOD_WORDS: dict[str, str] = {
    PeriodKind.MONTHLY: "每月",
    PeriodKind.QUARTERLY: "每季度",
    PeriodKind.YEARLY: "每年",
    PeriodKind.ONCE: "一次性",
}


def quota_noun(scheme: Scheme, rule: Rule) -> str:
    """What a quota counts: "政务信息" for the information quotas, else the target's name."""
    target = scheme.target(rule.target)
    return "政务信息" if "信息" in target.name + target.text else target.name


class _QuotaPlan(NamedTuple):
    worth: Fraction  # each period's points
    worth_text: str
    name: str  # the target's
    # per period: (period, its label, due on the day, begun by the day, "截止…")
    periods: tuple[tuple[str, str, bool, bool, str], ...]


@register
class Quota(RuleKind):
    """Each due period is worth `points / number of periods`; a period with n of `per_period`
    loses `worth × (per_period − min(n, per_period)) / per_period`."""

    kind: Literal["quota"] = "quota"
    per_period: PosInt
    points: Num

    family: ClassVar[Family] = Family.LOSE
    title: ClassVar[str] = "每期定量报送，不足按比例扣"
    delivery: ClassVar[Delivery | None] = Delivery.QUOTA
    open_category: ClassVar[OpenCategory] = OpenCategory.SUBMIT

    def max_points(self) -> Fraction:
        return self.points

    def describe(self, rule: Rule) -> str:
        return (
            f"{PERIOD_WORDS[rule.period]}{self.per_period}篇，共{fmt(self.points)}分，不足按比例扣"
        )

    def _plan(self, rule: Rule, ctx: Context) -> _QuotaPlan:
        """What the rule's periods are on `ctx.as_of` (the same for every unit): worked out once
        per scheme, rule, year and day."""

        def make() -> _QuotaPlan:
            periods = periods_of(ctx.year, rule.period)
            worth = self.points / len(periods)
            rows = []
            for period in periods:
                due = due_date(period, rule.deadline)
                started = period_bounds(period)[0] <= ctx.as_of
                rows.append(
                    (
                        period,
                        period_label(period),
                        is_due(due, ctx.as_of),
                        started,
                        due_label(ctx, due),
                    )
                )
            return _QuotaPlan(worth, fmt(worth), ctx.target_name(rule), tuple(rows))

        return per_scheme(ctx.scheme, ("quota", rule.id, ctx.year, ctx.as_of), make)

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        need = self.per_period
        plan = self._plan(rule, ctx)
        worth = plan.worth
        counts: dict[str, int] = {}
        for sub in ctx.subs_by_target.get(rule.target, []):
            if sub.period is not None:
                counts[sub.period] = counts.get(sub.period, 0) + 1
        short_n, short, due_n, opens, pending, later = 0, [], 0, [], False, 0
        name = plan.name
        for period, label, due_now, started, due_text in plan.periods:
            n = counts.get(period, 0)
            if due_now:
                due_n += 1
                if n < need:
                    short_n += need - n  # lost: worth × short_n ÷ need, one exact division below
                    short.append(f"{label}：{n}/{need}篇")
                continue
            pending, later = True, later + 1
            if started and n < need:
                opens.append(f"{label}{name}：还差{need - n}篇，{due_text}")
        # worth × short_n ÷ need and worth × later, each made once from the integers
        num, den = worth.numerator, worth.denominator
        lost = Fraction(num * short_n, den * need) if short_n else ZERO
        if due_n == 0:
            text = f"尚无到期的期次（每期{need}篇）"
        elif short:
            shown = "，".join(short)  # every short month: the count a liaison asks about
            text = f"到期{due_n}期，未完成：{shown}；每期{plan.worth_text}分按比例扣"
        else:
            text = f"到期{due_n}期均已完成（每期{need}篇）"
        return self.result(
            rule,
            lost,
            self.points,
            text,
            pending=pending,
            open=tuple(opens),
            at_stake=Fraction(num * later, den) if later else ZERO,
        )

    def owed(
        self,
        rule: Rule,
        scheme: Scheme,
        year: int,
        tasks: tuple,
        got: Delivered,
        due_between: tuple[date, date] = ANY_DUE,
    ) -> list[Owed]:
        noun = quota_noun(scheme, rule)
        lo, hi = due_between
        return [
            Owed(
                key=rule.id,
                period=period,
                delivery=Delivery.QUOTA,
                label=f"{period_label(period)}{noun}",
                due=due_date(period, rule.deadline),
                need=self.per_period,
                have=got.by_period[(rule.target, period)],
            )
            for period in periods_of(year, rule.period)
            if lo <= due_date(period, rule.deadline) <= hi
        ]
