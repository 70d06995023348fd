"""What each unit owes and by when, from its scheme and its ledger facts (pure: no I/O, no clock).

Each rule's kind says what the unit must send for it (`RuleKind.owed`, scoring/kinds/): a quota's
items per period (seed 000 C3b, seed 003 T16: four 政务信息 a month), one answer per task of an
on-time rule (C3a 任务反馈), one report per period of a reports rule (monthly / quarterly / annual
reports, the self-check report and annual summary due 12-15, seed 000 第十一条). This module adds
when to remind: a deadline on a non-working day keeps its real date (shown as such) and is
reminded on the working day before (`remind_on`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime

from reminders.calendar import WorkCalendar
from scoring.facts import Facts
from scoring.frozen import quick_init
from scoring.kinds import ANY_DUE, Delivered, Delivery
from scoring.model import Scheme


@quick_init  # a tick builds ~15 a unit
@dataclass(frozen=True)
class Deadline:
    """One thing a unit must deliver by `due`, with how much of it has come in."""

    key: str  # the claim's rule key: the rule id, or "<rule id>@<task ref>" for a task
    period: str  # the claim's period: "2026-11", "2026-Q3", "2026", or the task's due date
    rule_id: str
    target_id: str
    kind: Delivery  # quota | task | report
    label: str  # "11 月政务信息", "任务反馈“报送大气污染防治进展”", "2026 年度自查报告"
    due: date
    remind_on: date  # `due`, or the last working day before it when `due` is not a working day
    need: int
    have: int

    @property
    def owed(self) -> int:
        return max(self.need - self.have, 0)

    @property
    def done(self) -> bool:
        return self.owed == 0


def deadlines_for(
    scheme: Scheme,
    facts: Facts,
    calendar: WorkCalendar,
    now: datetime | None = None,
    *,
    due_between: tuple[date, date] | None = None,
) -> list[Deadline]:
    """Every deadline of the unit's year under `scheme` (only those due between the two days of
    `due_between`, inclusive, when given), with what came in by `now` (all of the facts when
    None), sorted by due date."""
    lo, hi = due_between or ANY_DUE
    if now is not None:  # compared in UTC, as the ledger's times are: no zone lookups per row
        now = now.astimezone(UTC)
    known = [s for s in facts.submissions if s.counts and (now is None or s.submitted_at <= now)]
    got = Delivered(
        by_period=Counter((s.target, s.period) for s in known if s.period is not None),
        answered=frozenset(s.task for s in known if s.task is not None),
        completed=frozenset(
            t.id
            for t in facts.tasks
            if t.completed_at is not None and (now is None or t.completed_at <= now)
        ),
    )
    out = [
        Deadline(
            key=owed.key,
            period=owed.period,
            rule_id=rule.id,
            target_id=rule.target,
            kind=owed.delivery,
            label=owed.label,
            due=owed.due,
            remind_on=calendar.workday_on_or_before(owed.due),
            need=owed.need,
            have=min(owed.have, owed.need),
        )
        for rule in scheme.rules()
        for owed in rule.params.owed(rule, scheme, facts.year, facts.tasks, got, (lo, hi))
    ]
    out.sort(key=lambda d: (d.due, d.rule_id, d.period, d.key))
    return out


def due_in(deadlines: list[Deadline], first: date, last: date) -> list[Deadline]:
    """The deadlines due between `first` and `last` (inclusive)."""
    return [d for d in deadlines if first <= d.due <= last]


__all__ = ["Deadline", "deadlines_for", "due_in"]
