"""`gate`: the budget forfeited ("未完成解缴目标的不得分", "凡发现弄虚作假的不得分")."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from scoring.kinds import register
from scoring.kinds.base import ZERO, ConfirmedKind, Family, Option, RuleResult, due_label
from scoring.kinds.fields import choice, reading
from scoring.numbers import fmt
from scoring.periods import day_label, is_due, known_by

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule

Forfeit = choice("budget", "share")
ConfirmBy = choice("deadline", "any_time")


@register
class Gate(ConfirmedKind):
    """`when: missing`: forfeits unless a done confirmation is dated by the deadline; `when: event`:
    forfeits once a confirmation with value 1 records the event. What is forfeited, and whether the
    confirmation has a deadline at all, are 口径 (`forfeit`, `confirm_by`)."""

    kind: Literal["gate"] = "gate"
    when: choice("missing", "event")  # type: ignore[valid-type]
    forfeit: Forfeit = reading(  # type: ignore[valid-type]
        "budget",
        "「不得分」的范围",
        {
            "budget": "整个分值格（共用该格分值的目标一并不得分）",
            "share": "只扣本目标的份额（分值格按共用它的目标数平分）",
        },
    )
    confirm_by: ConfirmBy = reading(  # type: ignore[valid-type]
        "deadline",
        "完成情况的确认期限（when: missing）",
        {
            "deadline": "须在截止日前确认完成，逾期未确认即不得分",
            "any_time": "不设期限：何时确认都算，确认前为待定、不扣分",
        },
    )

    family: ClassVar[Family] = Family.LOSE
    title: ClassVar[str] = "一票否决（本项不得分）"
    whole_budget: ClassVar[bool] = True

    def share(self) -> Fraction | None:
        return None

    def options(self) -> list[Option]:
        return [o for o in super().options() if o.name != "confirm_by" or self.when == "missing"]

    def describe(self, rule: Rule) -> str:
        what = "本项不得分" if self.forfeit == "budget" else "扣本目标的份额"
        if self.when == "event":
            return f"一经发现{what}"
        if self.confirm_by == "any_time":
            return f"确认未完成则{what}（不设确认期限）"
        return f"未按期完成则{what}"

    def _lost(self, rule: Rule, ctx: Context, budget: Fraction | None) -> tuple[Fraction, str]:
        """What is forfeited, and how it is said."""
        whole = budget if budget is not None else ZERO
        if self.forfeit == "budget":
            return whole, "本项不得分"
        n = _targets_sharing(rule, ctx)
        part = whole / n
        return part, f"扣本目标份额{fmt(whole)}/{n} = {fmt(part)}分"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        entries = ctx.entries.get(rule.id, [])
        what = rule.text or ctx.target_name(rule)
        whole = self.forfeit == "budget"
        if self.when == "event":
            entry = entries[-1] if entries else None
            if entry is not None and entry.value >= 1:
                lost, said = self._lost(rule, ctx, budget)
                return self.result(rule, lost, None, f"{what}（{entry.id}）：{said}", forfeit=whole)
            return self.result(rule, ZERO, None, "无")
        due = rule.final_due(ctx.year)
        if self.confirm_by == "any_time":
            confirmed = entries[-1] if entries else None
            if confirmed is not None and confirmed.value >= 1:
                return self.result(rule, ZERO, None, f"已确认完成（{confirmed.id}）")
            if confirmed is not None:
                lost, said = self._lost(rule, ctx, budget)
                text = f"确认未完成（{confirmed.id}）：{said}"
                return self.result(rule, lost, None, text, forfeit=whole)
            opens = (f"{what}：待确认（不设期限）",)
            return self.result(rule, ZERO, None, "待确认", pending=True, open=opens)
        in_time = [e for e in entries if known_by(e.at, due)]
        confirmed = in_time[-1] if in_time else None
        if confirmed is not None and confirmed.value >= 1:
            return self.result(rule, ZERO, None, f"已确认完成（{confirmed.id}）")
        if not is_due(due, ctx.as_of):
            opens = (f"{what}：待确认，{due_label(ctx, due)}",)
            return self.result(rule, ZERO, None, "待确认", pending=True, open=opens)
        lost, said = self._lost(rule, ctx, budget)
        text = f"截至{day_label(due, ctx.year)}未确认完成：{said}"
        return self.result(rule, lost, None, text, forfeit=whole)


def _targets_sharing(rule: Rule, ctx: Context) -> int:
    """How many targets draw on the points cell of `rule` (1 for a target with its own points)."""
    from scoring.budgets import scheme_budgets

    for budget in scheme_budgets(ctx.scheme):
        if any(r.id == rule.id for r in budget.rules):
            return len({r.target for r in budget.rules})
    return 1
