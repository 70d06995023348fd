"""`gate`: the whole budget forfeited ("未完成解缴目标的不得分", "凡发现弄虚作假的不得分")."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from scoring.kinds import register
from scoring.kinds.base import ZERO, ConfirmedKind, Family, RuleResult, due_label
from scoring.kinds.fields import choice
from scoring.periods import day_label, is_due, local_date

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule


@register
class Gate(ConfirmedKind):
    """`when: missing`: forfeits unless a done confirmation is dated by the deadline; `when: event`:
    forfeits once a confirmation with value 1 records the event."""

    kind: Literal["gate"] = "gate"
    when: choice("missing", "event")  # type: ignore[valid-type]

    family: ClassVar[Family] = Family.LOSE
    title: ClassVar[str] = "一票否决（本项不得分）"
    whole_budget: ClassVar[bool] = True

    def share(self) -> Fraction | None:
        return None

    def describe(self, rule: Rule) -> str:
        return "未按期完成则本项不得分" if self.when == "missing" else "一经发现本项不得分"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        whole = budget if budget is not None else ZERO
        entries = ctx.entries.get(rule.id, [])
        what = rule.text or ctx.target_name(rule)
        if self.when == "event":
            entry = entries[-1] if entries else None
            if entry is not None and entry.value >= 1:
                text = f"{what}（{entry.id}）：本项不得分"
                return self.result(rule, whole, None, text, forfeit=True)
            return self.result(rule, ZERO, None, "无")
        due = rule.final_due(ctx.year)
        in_time = [e for e in entries if local_date(e.at) <= due]
        confirmed = in_time[-1] if in_time else None
        if confirmed is not None and confirmed.value >= 1:
            return self.result(rule, ZERO, None, f"已确认完成（{confirmed.id}）")
        if not is_due(due, ctx.as_of):
            opens = (f"{what}：待确认，{due_label(ctx, due)}",)
            return self.result(rule, ZERO, None, "待确认", pending=True, open=opens)
        text = f"截至 {day_label(due, ctx.year)} 未确认完成：本项不得分"
        return self.result(rule, whole, None, text, forfeit=True)
