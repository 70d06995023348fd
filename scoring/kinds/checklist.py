"""`checklist`: a list of things to confirm, points off for each one missing."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from scoring.facts import AdminEntry
from scoring.kinds import register
from scoring.kinds.base import ZERO, ConfirmedKind, Family, RuleResult, due_label
from scoring.kinds.fields import Ident, Num, Text, refuse
from scoring.numbers import fmt
from scoring.periods import is_due

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule


class ChecklistItem(BaseModel):
    """One thing to confirm; entries name it by `key`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Ident
    name: Text


@register
class Checklist(ConfirmedKind):
    """`points − per_missing × (items not confirmed done)`, at least 0."""

    kind: Literal["checklist"] = "checklist"
    points: Num
    items: tuple[ChecklistItem, ...] = Field(min_length=1)
    per_missing: Num

    family: ClassVar[Family] = Family.EARN
    title: ClassVar[str] = "逐项确认，缺项扣分"

    @field_validator("items")
    @classmethod
    def _keys_unique(cls, items: tuple[ChecklistItem, ...]) -> tuple[ChecklistItem, ...]:
        keys = [i.key for i in items]
        for key in keys:
            if keys.count(key) > 1:
                raise refuse("键重复", key)
        return items

    def max_points(self) -> Fraction:
        return self.points

    def describe(self, rule: Rule) -> str:
        n = len(self.items)
        return f"{n}项共{fmt(self.points)}分，每缺一项扣{fmt(self.per_missing)}分"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        latest: dict[str, AdminEntry] = {}
        for entry in ctx.entries.get(rule.id, []):
            if entry.key is not None:
                latest[entry.key] = entry
        missing = [i for i in self.items if i.key not in latest or latest[i.key].value < 1]
        earned = max(ZERO, self.points - self.per_missing * len(missing))
        done = len(self.items) - len(missing)
        text = f"已完成{done}/{len(self.items)}项"
        if missing:
            names = "、".join(i.name for i in missing)
            text += f"，缺{len(missing)}项（{names}），每项扣{fmt(self.per_missing)}分"
        due = rule.final_due(ctx.year)
        if missing and not is_due(due, ctx.as_of):
            opens = tuple(f"{i.name}：待确认，{due_label(ctx, due)}" for i in missing)
            return self.result(rule, earned, self.points, text, pending=True, open=opens)
        return self.result(rule, earned, self.points, text)
