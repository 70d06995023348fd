"""`threshold`: all the points when a rate reaches a minimum, else none."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from scoring.kinds import register
from scoring.kinds.base import ZERO, Family, RateKind, RuleResult, latest, rate_of
from scoring.kinds.fields import Num
from scoring.numbers import fmt, pct

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule


@register
class Threshold(RateKind):
    """`points` when the rate is at least `min`, else 0."""

    kind: Literal["threshold"] = "threshold"
    points: Num
    min: Num

    family: ClassVar[Family] = Family.EARN
    title: ClassVar[str] = "达标得分"

    def max_points(self) -> Fraction:
        return self.points

    def describe(self, rule: Rule) -> str:
        return f"比率达{pct(self.min)}得{fmt(self.points)}分"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        entry = latest(ctx, rule)
        if entry is None:
            return self.result(rule, ZERO, self.points, "尚未录入比率", pending=True)
        rate = rate_of(entry)
        if rate >= self.min:
            text = f"比率{pct(rate)} ≥ {pct(self.min)}：{fmt(self.points)}分"
            return self.result(rule, self.points, self.points, text)
        text = f"比率{pct(rate)}低于{pct(self.min)}，不得分"
        return self.result(rule, ZERO, self.points, text)
