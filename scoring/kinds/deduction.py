"""`deduction`: points off per event the office records ("每次扣0.1分 … 扣完为止")."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import field_validator, model_validator
from pydantic_core import PydanticCustomError

from scoring.facts import AdminEntry, EntryKind
from scoring.kinds import register
from scoring.kinds.base import ZERO, Family, RuleKind, RuleResult, Verb
from scoring.kinds.fields import Num, PosNum
from scoring.numbers import fmt, to_fraction

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule


@register
class Deduction(RuleKind):
    """Each entry is one event: `amount` fixed per event, or the entry's value within `range`, or
    any positive value; `max` caps the rule's loss."""

    kind: Literal["deduction"] = "deduction"
    amount: PosNum | None = None
    range: tuple[Num, Num] | None = None
    max: Num | None = None

    family: ClassVar[Family] = Family.LOSE
    title: ClassVar[str] = "按次扣分"
    accepts: ClassVar[EntryKind | None] = EntryKind.DEDUCTION
    verbs: ClassVar[tuple[Verb, ...]] = (Verb("扣分"),)
    has_deadline: ClassVar[bool] = False

    @field_validator("range")
    @classmethod
    def _ordered(cls, bounds: tuple[Fraction, Fraction] | None) -> tuple[Fraction, Fraction] | None:
        if bounds is not None and bounds[0] > bounds[1]:
            raise PydanticCustomError(
                "kaohe", "下限{lo}大于上限{hi}", {"lo": fmt(bounds[0]), "hi": fmt(bounds[1])}
            )
        return bounds

    @model_validator(mode="after")
    def _one_way(self) -> Deduction:
        if self.amount is not None and self.range is not None:
            raise PydanticCustomError("kaohe", "amount 与 range 只能写一个")
        return self

    def max_points(self) -> Fraction | None:
        return self.max

    def share(self) -> Fraction | None:
        return None  # `max` caps what it takes; it claims no points of its own

    def describe(self, rule: Rule) -> str:
        if self.amount is not None:
            text = f"每次扣{fmt(self.amount)}分"
        elif self.range is not None:
            text = f"每次扣{fmt(self.range[0])}–{fmt(self.range[1])}分"
        else:
            text = "按扣分记录扣分"
        return text + (f"，最多扣{fmt(self.max)}分" if self.max is not None else "")

    def default_entry(self) -> Decimal | None:
        if self.amount is None:
            return None
        return Decimal(self.amount.numerator) / Decimal(self.amount.denominator)

    def entry_problem(self, value: Decimal) -> str | None:
        if self.range is not None and not self.range[0] <= value <= self.range[1]:
            return f"该项每次扣{fmt(self.range[0])}–{fmt(self.range[1])}分"
        if value == 0:
            return "扣分应大于0"
        return None

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        counted: list[tuple[AdminEntry, Fraction]] = []
        ignored: list[str] = []
        for entry in ctx.entries.get(rule.id, []):
            value = to_fraction(entry.value)
            if self.amount is not None:
                counted.append((entry, self.amount))
            elif value <= 0 or (
                self.range is not None and not self.range[0] <= value <= self.range[1]
            ):
                ignored.append(f"{entry.id}={fmt(value)}")
            else:
                counted.append((entry, value))
        lost = sum((v for _, v in counted), ZERO)
        capped = self.max is not None and lost > self.max
        if self.max is not None and lost > self.max:
            lost = self.max
        if not counted:
            text = "无扣分记录"
        elif self.amount is not None:
            text = f"扣分{len(counted)}次，每次{fmt(self.amount)}分"
        else:
            detail = "；".join(f"{e.reason or e.id} {fmt(v)}" for e, v in counted)
            text = f"扣分{len(counted)}次共{fmt(sum((v for _, v in counted), ZERO))}分：{detail}"
        if capped:
            text += f"（本项最多扣{fmt(self.max)}分）"
        if ignored:
            bounds = f"{fmt(self.range[0])}–{fmt(self.range[1])}" if self.range else "正数"
            text += f"；超出范围（{bounds}）未计入：{'、'.join(ignored)}"
        return self.result(rule, lost, self.max, text)
