"""`discretionary`: points the office gives within a maximum ("酌情给分")."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from scoring.facts import EntryKind
from scoring.kinds import register
from scoring.kinds.base import ZERO, Family, RuleKind, RuleResult, Verb
from scoring.kinds.fields import Num
from scoring.numbers import fmt, to_fraction

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule


@register
class Discretionary(RuleKind):
    """The latest entry within 0..max wins; an entry outside it is named and not counted."""

    kind: Literal["discretionary"] = "discretionary"
    max: Num

    family: ClassVar[Family] = Family.EARN
    title: ClassVar[str] = "酌情给分"
    accepts: ClassVar[EntryKind | None] = EntryKind.POINTS
    verbs: ClassVar[tuple[Verb, ...]] = (Verb("打分"), Verb("评分"))

    def max_points(self) -> Fraction:
        return self.max

    def describe(self, rule: Rule) -> str:
        return f"酌情给分，最高{fmt(self.max)}分"

    def entry_problem(self, value: Decimal) -> str | None:
        return f"超过该项最高分{fmt(self.max)}" if value > self.max else None

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        ignored: list[str] = []
        for entry in reversed(ctx.entries.get(rule.id, [])):
            value = to_fraction(entry.value)
            if ZERO <= value <= self.max:
                note = f"（另有超出范围的录入{'、'.join(ignored)}未计入）" if ignored else ""
                text = f"酌情给分{fmt(value)}/{fmt(self.max)}（{entry.id}）{note}"
                return self.result(rule, value, self.max, text)
            ignored.append(f"{entry.id}={fmt(value)}")
        note = f"（录入{'、'.join(ignored)}超出0–{fmt(self.max)}，未计入）" if ignored else ""
        what = rule.text or ctx.target_name(rule)
        opens = (f"{what}：待考核部门评分",)
        return self.result(rule, ZERO, self.max, f"尚未评分{note}", pending=True, open=opens)
