"""What each unit owes and by when, from its scheme and its ledger facts (pure: no I/O, no clock).

Deadlines come from the rules a liaison can act on:

* `quota` rules (seed 000 C3b, seed 003 T16: four 政务信息 a month): one deadline per period, owed
  while fewer than `per_period` items counting for that period came in;
* `on_time` rules (C3a 任务反馈): one deadline per task of the rule's `task_kind`, owed while no
  counting submission answers the task and it is not confirmed complete;
* `reports` rules (monthly / quarterly / annual reports, the self-check report and annual summary
  due 12-15, seed 000 第十一条): one deadline per period, owed while no counting submission for the
  period came in.

A deadline on a non-working day keeps its real date (shown as such) and is reminded on the working
day before (`remind_on`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from reminders.calendar import WorkCalendar
from scoring.facts import Facts
from scoring.model import OnTime, Quota, Reports, Rule, Scheme
from scoring.periods import due_date, local_date, period_label, periods_of

TASK_TITLE_MAX = 24  # a task's title as reminders quote it


@dataclass(frozen=True)
class Deadline:
    """One thing a unit must deliver by `due`, with how much of it has come in."""

    key: str  # the claim's rule key: the rule id, or "<rule id>@<task ref>" for a task
    period: str  # the claim's period: "2026-11", "2026-Q3", "2026", or the task's due date
    rule_id: str
    target_id: str
    kind: str  # "quota" | "task" | "report"
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


def quota_noun(scheme: Scheme, rule: Rule) -> str:
    """What a quota counts: "政务信息" for the information quotas, else the target's name."""
    target = scheme.target(rule.target)
    return "政务信息" if "信息" in target.name + target.text else target.name


def deadlines_for(
    scheme: Scheme, facts: Facts, calendar: WorkCalendar, now: datetime | None = None
) -> list[Deadline]:
    """Every deadline of the unit's year under `scheme`, with what came in by `now` (all of the
    facts when None), sorted by due date."""
    year = facts.year
    known = [s for s in facts.submissions if s.counts and (now is None or s.submitted_at <= now)]
    by_period: Counter[tuple[str, str]] = Counter(
        (s.target, s.period) for s in known if s.period is not None
    )
    answered = {s.task for s in known if s.task is not None}
    out: list[Deadline] = []

    def add(rule: Rule, key: str, period: str, kind: str, label: str, due: date, need: int,
            have: int) -> None:  # fmt: skip
        out.append(
            Deadline(
                key=key,
                period=period,
                rule_id=rule.id,
                target_id=rule.target,
                kind=kind,
                label=label,
                due=due,
                remind_on=calendar.workday_on_or_before(due),
                need=need,
                have=min(have, need),
            )
        )

    for rule in scheme.rules():
        params = rule.params
        target = scheme.target(rule.target)
        if isinstance(params, Quota):
            noun = quota_noun(scheme, rule)
            for period in periods_of(year, rule.period):
                add(
                    rule,
                    rule.id,
                    period,
                    "quota",
                    f"{period_label(period)}{noun}",
                    due_date(period, rule.deadline),
                    params.per_period,
                    by_period[(rule.target, period)],
                )
        elif isinstance(params, Reports):
            for kind in params.periods:
                for period in periods_of(year, kind):
                    add(
                        rule,
                        rule.id,
                        period,
                        "report",
                        f"{period_label(period)}{target.name}",
                        due_date(period, rule.deadline),
                        1,
                        1 if by_period[(rule.target, period)] else 0,
                    )
        elif isinstance(params, OnTime):
            for task in facts.tasks:
                if task.kind != params.task_kind:
                    continue
                completed = task.completed_at is not None and (
                    now is None or task.completed_at <= now
                )
                done = task.id in answered or completed
                title = task.title or task.id
                if len(title) > TASK_TITLE_MAX:
                    title = title[: TASK_TITLE_MAX - 1] + "…"
                add(
                    rule,
                    f"{rule.id}@{task.id}",
                    task.due.isoformat(),
                    "task",
                    f"{target.name}“{title}”",
                    task.due,
                    1,
                    1 if done else 0,
                )
    out.sort(key=lambda d: (d.due, d.rule_id, d.period, d.key))
    return out


def due_in(deadlines: list[Deadline], first: date, last: date) -> list[Deadline]:
    """The deadlines due between `first` and `last` (inclusive)."""
    return [d for d in deadlines if first <= d.due <= last]


__all__ = ["Deadline", "deadlines_for", "due_in", "local_date", "quota_noun"]
