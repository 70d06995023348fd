"""`reports`: monthly, quarterly and yearly reports, points off for each late or missing one
(seed 003 T17, T23)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, field_validator

from scoring.kinds import register
from scoring.kinds.base import (
    ANY_DUE,
    ZERO,
    Delivered,
    Delivery,
    Family,
    OpenCategory,
    Owed,
    RuleKind,
    RuleResult,
    due_label,
)
from scoring.kinds.fields import Num, choice, refuse
from scoring.numbers import fmt
from scoring.periods import (
    PeriodKind,
    due_date,
    is_due,
    local_date,
    period_bounds,
    period_label,
    periods_of,
)

if TYPE_CHECKING:
    from scoring.context import Context
    from scoring.model import Rule, Scheme

REPORT_WORDS: dict[str, str] = {
    PeriodKind.MONTHLY: "月报",
    PeriodKind.QUARTERLY: "季报",
    PeriodKind.YEARLY: "年报",
}
ReportPeriod = choice(*REPORT_WORDS)


@register
class Reports(RuleKind):
    """Each due report that is missing or late loses `amount`; without `amount` they are listed and
    the loss is left to a `deduction` entry."""

    kind: Literal["reports"] = "reports"
    periods: tuple[ReportPeriod, ...] = Field(min_length=1)  # type: ignore[valid-type]
    amount: Num | None = None

    family: ClassVar[Family] = Family.LOSE
    title: ClassVar[str] = "报表迟报、漏报扣分"
    delivery: ClassVar[Delivery | None] = Delivery.REPORT
    open_category: ClassVar[OpenCategory] = OpenCategory.SUBMIT

    @field_validator("periods")
    @classmethod
    def _once_each(cls, periods: tuple[str, ...]) -> tuple[str, ...]:
        for p in periods:
            if periods.count(p) > 1:
                raise refuse("报表周期重复", p)
        return periods

    def period_kinds(self, rule: Rule) -> tuple[str, ...]:
        return self.periods

    def share(self) -> Fraction | None:
        return None

    def describe(self, rule: Rule) -> str:
        kinds = "、".join(REPORT_WORDS[k] for k in self.periods)
        if self.amount is None:
            return f"{kinds}迟报、漏报列出（不单独扣分）"
        return f"{kinds}迟报、漏报每次扣{fmt(self.amount)}分"

    def evaluate(self, rule: Rule, ctx: Context, budget: Fraction | None) -> RuleResult:
        first: dict[str, date] = {}
        for sub in ctx.subs_by_target.get(rule.target, []):
            if sub.period is not None:
                day = local_date(sub.submitted_at)
                first[sub.period] = min(day, first.get(sub.period, day))
        late, missing, opens, pending, due_n, later = [], [], [], False, 0, 0
        for kind in self.periods:
            for period in periods_of(ctx.year, kind):
                due = due_date(period, rule.deadline)
                got = first.get(period)
                if kind != PeriodKind.YEARLY:
                    label = f"{period_label(period)}{REPORT_WORDS[kind]}"
                else:
                    label = "年报" if len(self.periods) > 1 else ""
                if is_due(due, ctx.as_of):
                    due_n += 1
                    label = label or "年度"
                    if got is None:
                        missing.append(label)
                    elif got > due:
                        late.append(label)
                else:
                    pending, later = True, later + (got is None)
                    if got is None and period_bounds(period)[0] <= ctx.as_of:
                        what = " ".join(part for part in (ctx.target_name(rule), label) if part)
                        opens.append(f"{what}：{due_label(ctx, due)}")
        events = len(late) + len(missing)
        lost = self.amount * events if self.amount is not None else ZERO
        parts = []
        if late:
            parts.append(f"迟报{len(late)}次（{'、'.join(late)}）")
        if missing:
            parts.append(f"漏报{len(missing)}次（{'、'.join(missing)}）")
        if not due_n:
            text = "尚无到期报表"
        elif not parts:
            text = "到期报表均按时上报"
        elif self.amount is not None:
            text = f"{'、'.join(parts)}，每次扣{fmt(self.amount)}分"
        else:
            text = f"{'、'.join(parts)}，扣分以扣分记录为准"
        stake = self.amount * later if self.amount is not None else ZERO
        return self.result(
            rule, lost, None, text, pending=pending, open=tuple(opens), at_stake=stake
        )

    def owed(
        self,
        rule: Rule,
        scheme: Scheme,
        year: int,
        tasks: tuple,
        got: Delivered,
        due_between: tuple[date, date] = ANY_DUE,
    ) -> list[Owed]:
        name = scheme.target(rule.target).name
        lo, hi = due_between
        return [
            Owed(
                key=rule.id,
                period=period,
                delivery=Delivery.REPORT,
                label=_owed_label(period, name),
                due=due_date(period, rule.deadline),
                need=1,
                have=1 if got.by_period[(rule.target, period)] else 0,
            )
            for kind in self.periods
            for period in periods_of(year, kind)
            if lo <= due_date(period, rule.deadline) <= hi
        ]


def _owed_label(period: str, name: str) -> str:
    """ "11月月报", "2026年度工作总结" (not "2026年度年度工作总结")."""
    head = period_label(period)
    if head.endswith("年度") and name.startswith("年度"):
        name = name[len("年度") :]
    return head + name
