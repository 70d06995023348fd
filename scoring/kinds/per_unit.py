"""`per_unit`: points per unit of a quantity the office enters ("每10万元加0.2分")."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from scoring.facts import EntryKind
from scoring.kinds import register
from scoring.kinds.base import ZERO, Family, RuleKind, RuleResult, Verb
from scoring.kinds.fields import Num, PosNum
from scoring.numbers import fmt, to_fraction

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule


@register
class PerUnit(RuleKind):
    """`points × floor((Σ quantity − baseline) / unit_size)`, at least 0, capped at `max`."""

    kind: Literal["per_unit"] = "per_unit"
    points: Num
    unit_size: PosNum = Fraction(1)
    baseline: Num = Fraction(0)
    max: Num | None = None

    family: ClassVar[Family] = Family.EARN
    title: ClassVar[str] = "按数量计分（加分）"
    accepts: ClassVar[EntryKind | None] = EntryKind.BONUS
    verbs: ClassVar[tuple[Verb, ...]] = (Verb("加分"),)
    has_deadline: ClassVar[bool] = False

    def max_points(self) -> Fraction | None:
        return self.max

    def describe(self, rule: Rule) -> str:
        size = f"每{fmt(self.unit_size)}" if self.unit_size != 1 else "每个"
        cap = f"，最多{fmt(self.max)}分" if self.max is not None else ""
        return f"{size}加{fmt(self.points)}分{cap}"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        entries = ctx.entries.get(rule.id, [])
        total = sum((to_fraction(e.value) for e in entries), ZERO)
        units = max(0, math.floor((total - self.baseline) / self.unit_size))
        earned = self.points * units
        if self.max is not None:
            earned = min(earned, self.max)
        size = "" if self.unit_size == 1 else f"每{fmt(self.unit_size)}"
        base = f"，基数{fmt(self.baseline)}" if self.baseline else ""
        cap = f"，上限{fmt(self.max)}分" if self.max is not None else ""
        text = f"累计{fmt(total)}（{len(entries)}条）{base}，{size or '每个'}计{fmt(self.points)}分，可计{units}个{cap}"
        return self.result(rule, earned, self.max, text)
