"""`ratio`: points in proportion to a completion rate, none below a cut-off
("低于60%不得分，其余按完成比例")."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from scoring.kinds import register
from scoring.kinds.base import ZERO, Family, RateKind, RuleResult, latest, rate_of
from scoring.kinds.fields import Num, Share
from scoring.numbers import fmt, pct

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule


@register
class Ratio(RateKind):
    """`points × rate` (at most `points`); 0 below `cutoff`."""

    kind: Literal["ratio"] = "ratio"
    points: Num
    cutoff: Share | None = None

    family: ClassVar[Family] = Family.EARN
    title: ClassVar[str] = "按完成率得分"

    def max_points(self) -> Fraction:
        return self.points

    def describe(self, rule: Rule) -> str:
        cut = f"，低于{pct(self.cutoff)}不得分" if self.cutoff is not None else ""
        return f"完成率 × {fmt(self.points)}分{cut}"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        entry = latest(ctx, rule)
        if entry is None:
            return self.result(rule, ZERO, self.points, "尚未录入完成率", pending=True)
        rate = rate_of(entry)
        if self.cutoff is not None and rate < self.cutoff:
            text = f"完成率{pct(rate)}低于{pct(self.cutoff)}，不得分"
            return self.result(rule, ZERO, self.points, text)
        earned = self.points * min(rate, Fraction(1))
        return self.result(
            rule, earned, self.points, f"完成率{pct(rate)}，按比例得分（满分{fmt(self.points)}分）"
        )
