"""When a deadline is reminded: stages on working days, within office hours.

Default stages of a deadline reminded on day R (its due date, or the working day before it when
the due date is not a working day):

| stage | day | to |
| --- | --- | --- |
| `before3` | 3 working days before R | the unit's liaisons |
| `before1` | the working day before R | the unit's liaisons |
| `dayof` | R, from the start of office hours | the unit's liaisons |
| `overdue` | the first working day after the due date | the unit's liaisons |
| `escalate` | `escalate_after` working days after the due date (default 3) | the unit's leaders |

plus a daily digest of missed deadlines to the admins (reminders/tick.py).

Only the *current* stage of a deadline is sent: the latest one whose day has come. So after
downtime the tick catches up with the one reminder that is still useful and skips the ones it
supersedes (a "3 days before" whose deadline has passed is never sent); an `overdue` reminder
more than `overdue_window` working days late is stale and skipped too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from reminders.calendar import WorkCalendar
from reminders.deadlines import Deadline


@dataclass(frozen=True)
class StagePolicy:
    before_workdays: tuple[int, ...] = (3, 1)  # working days before the reminder day
    day_of: bool = True  # the morning of the reminder day
    overdue: bool = True  # after the deadline is missed (liaisons)
    overdue_window: int = 3  # working days after the deadline an overdue reminder is still useful
    digest: bool = True  # daily digest of missed deadlines to admins
    digest_window_days: int = 31  # missed deadlines listed in the digest: due within these days
    monthly_summary: bool = True  # to admins on the first working day of each month
    # an item this many working days overdue is also sent, once, to the unit's leaders (督办);
    # 0: never (KAOHE_ESCALATE_AFTER_WORKDAYS)
    escalate_after: int = 3
    office_start: time = time(8, 30)
    office_end: time = time(17, 30)

    def in_office_hours(self, moment: datetime) -> bool:
        """`moment` is local (Asia/Shanghai) time."""
        return self.office_start <= moment.time() < self.office_end


DEFAULT_POLICY = StagePolicy()


def stage_name(n: int) -> str:
    return f"before{n}"


def schedule(
    deadline: Deadline, calendar: WorkCalendar, policy: StagePolicy
) -> list[tuple[str, date]]:
    """The stages of a deadline and their days, in order; of stages falling on one day the later
    (closer to the deadline) wins."""
    stages: list[tuple[str, date]] = [
        (stage_name(n), calendar.add_workdays(deadline.remind_on, -n))
        for n in sorted(set(policy.before_workdays), reverse=True)
        if n > 0
    ]
    if policy.day_of:
        stages.append(("dayof", deadline.remind_on))
    if policy.overdue:
        stages.append(("overdue", calendar.next_workday(deadline.due)))
    by_day: dict[date, str] = {}
    for name, day in stages:
        by_day[day] = name  # later stages overwrite earlier ones on the same day
    return sorted(((name, day) for day, name in by_day.items()), key=lambda s: s[1])


def current_stage(
    deadline: Deadline, today: date, calendar: WorkCalendar, policy: StagePolicy
) -> tuple[str, date] | None:
    """The stage to send on `today` (a working day), or None: not yet, or stale. It depends on
    the deadline's two days alone: remembered per calendar (a tick asks it of every unit's
    deadlines, most of them sharing their days)."""
    key = ("stage", deadline.remind_on, deadline.due, today, policy)
    memo = calendar.memo
    if key in memo:
        return memo[key]  # type: ignore[return-value]
    found = memo[key] = _current_stage(deadline, today, calendar, policy)
    return found


def _current_stage(
    deadline: Deadline, today: date, calendar: WorkCalendar, policy: StagePolicy
) -> tuple[str, date] | None:
    # cheap bounds first (a working day is never more than ~3 calendar days on, even around the
    # Spring Festival and National Day weeks): most deadlines of a year are far from today
    ahead = max((n for n in policy.before_workdays if n > 0), default=0)
    if today < deadline.remind_on - timedelta(days=3 * ahead + 14):
        return None
    if today > deadline.due + timedelta(days=3 * policy.overdue_window + 14):
        return None
    current: tuple[str, date] | None = None
    for name, day in schedule(deadline, calendar, policy):
        if day <= today:
            current = (name, day)
    if current is None:
        return None
    name, day = current
    if name == "overdue" and today > calendar.add_workdays(deadline.due, policy.overdue_window):
        return None
    return current


STAGE_LABELS = {"dayof": "截止当日", "overdue": "已逾期"}


def stage_label(stage: str) -> str:
    if stage.startswith("before"):
        return f"截止前{stage[6:]}个工作日"
    return STAGE_LABELS.get(stage, stage)
