"""`rating`: the districts' 测评意见 of a city department (seed 000 第八条), as points lost.

The office closes a 测评 round and enters, per department, one RATING entry holding the round's
satisfaction index (scoring/satisfaction.py: the mean weight of 满意 / 基本满意 / 不满意, or the
mean score / 10) and its counts in the reason — the aggregate only, so the score never carries who
rated what. The rule loses `points × (1 − index)`; with 基本满意 weighted 1 that is a deduction per
不满意 share. A unit nobody rated loses nothing.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import model_validator
from pydantic_core import PydanticCustomError

from scoring.facts import EntryKind
from scoring.kinds import register
from scoring.kinds.base import ZERO, Family, RuleKind, RuleResult, latest, rate_of
from scoring.kinds.fields import Num, Share, choice
from scoring.numbers import fmt, pct
from scoring.satisfaction import DEFAULT_WEIGHTS, Scale

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule

Choice = Literal["满意", "基本满意", "不满意"]


@register
class Rating(RuleKind):
    """Loses `points × (1 − index)` of the latest closed round (latest entry wins)."""

    kind: Literal["rating"] = "rating"
    points: Num
    scale: choice(*Scale) = Scale.CHOICE.value  # type: ignore[valid-type]
    weights: dict[Choice, Share] | None = None

    family: ClassVar[Family] = Family.LOSE
    title: ClassVar[str] = "测评意见"
    accepts: ClassVar[EntryKind | None] = EntryKind.RATING  # written when a round is closed
    has_deadline: ClassVar[bool] = False

    @model_validator(mode="after")
    def _weights_for_choices(self) -> Rating:
        if self.weights is not None and self.scale != Scale.CHOICE:
            raise PydanticCustomError(
                "kaohe", "只有 scale: choice（满意/基本满意/不满意）才有 weights"
            )
        return self

    def choice_weights(self) -> dict[str, Fraction]:
        """The weight of each answer: the defaults, with the scheme's own over them."""
        weights: dict[str, Fraction] = dict(DEFAULT_WEIGHTS)
        for answer, weight in (self.weights or {}).items():
            weights[answer] = weight
        return weights

    def max_points(self) -> Fraction:
        return self.points

    def share(self) -> Fraction | None:
        return None  # it takes points from its budget; it claims none of its own

    def describe(self, rule: Rule) -> str:
        how = "满意度" if self.scale == Scale.CHOICE else "平均分/10"
        return f"各区测评，按（1 − {how}）× {fmt(self.points)}分扣分"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        entry = latest(ctx, rule)
        if entry is None:
            return self.result(rule, ZERO, self.points, "无测评结果")
        index = min(rate_of(entry), Fraction(1))
        lost = self.points * (1 - index)
        text = f"{entry.reason or '测评结果'}，满意度{pct(index)}（{entry.id}）：扣{fmt(lost)}分"
        return self.result(rule, lost, self.points, text)
