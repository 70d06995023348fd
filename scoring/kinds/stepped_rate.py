"""`stepped_rate`: points off per step a rate falls below its minimum ("达标率每低5%扣0.1分")."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from scoring.kinds import register
from scoring.kinds.base import ZERO, Family, RateKind, RuleResult, latest, rate_of
from scoring.kinds.fields import Num, PosNum
from scoring.numbers import fmt, pct

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule


@register
class SteppedRate(RateKind):
    """loss = `amount × floor((min − rate) / step)` when rate < min; pending until a rate is in."""

    kind: Literal["stepped_rate"] = "stepped_rate"
    min: Num
    step: PosNum
    amount: Num

    family: ClassVar[Family] = Family.LOSE
    title: ClassVar[str] = "比率每低一档扣分"

    def share(self) -> Fraction | None:
        return None

    def describe(self, rule: Rule) -> str:
        return f"低于{pct(self.min)}时每低{pct(self.step)}扣{fmt(self.amount)}分"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        entry = latest(ctx, rule)
        if entry is None:
            return self.result(rule, ZERO, None, "尚未录入比率", pending=True)
        rate = rate_of(entry)
        if rate >= self.min:
            return self.result(rule, ZERO, None, f"比率{pct(rate)} ≥ {pct(self.min)}，不扣分")
        steps = math.floor((self.min - rate) / self.step)
        text = (
            f"比率{pct(rate)}低于{pct(self.min)}，"
            f"每低{pct(self.step)}扣{fmt(self.amount)}分，共扣{steps}次"
        )
        return self.result(rule, self.amount * steps, None, text)
