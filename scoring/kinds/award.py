"""`award`: points when the office confirms a thing done ("召开环保大会得1分")."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from scoring.kinds import register
from scoring.kinds.base import ZERO, ConfirmedKind, Family, RuleResult, due_label, latest
from scoring.kinds.fields import Num
from scoring.numbers import fmt
from scoring.periods import day_label, is_due

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule


@register
class Award(ConfirmedKind):
    """`points` when confirmed done; 0 when confirmed not done or the deadline passed unconfirmed.

    A confirmation entered after the deadline still counts (the office confirms at the year-end
    check)."""

    kind: Literal["award"] = "award"
    points: Num

    family: ClassVar[Family] = Family.EARN
    title: ClassVar[str] = "完成得分"

    def max_points(self) -> Fraction:
        return self.points

    def describe(self, rule: Rule) -> str:
        return f"完成得{fmt(self.points)}分"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        due = rule.final_due(ctx.year)
        entry = latest(ctx, rule)
        if entry is not None and entry.value >= 1:
            text = f"已确认完成（{entry.id}）：{fmt(self.points)}分"
            return self.result(rule, self.points, self.points, text)
        if entry is not None:
            return self.result(rule, ZERO, self.points, f"确认未完成（{entry.id}）：0分")
        if is_due(due, ctx.as_of):
            text = f"截至{day_label(due, ctx.year)}未确认完成：0分"
            return self.result(rule, ZERO, self.points, text)
        what = rule.text or ctx.target_name(rule)
        opens = (f"{what}：待确认，{due_label(ctx, due)}",)
        return self.result(rule, ZERO, self.points, "待确认", pending=True, open=opens)
