"""Periods of an assessment year and when each is due (docs/scheme.md, "Periods and deadlines").

Period strings are the ones liaisons and the ledger use: "2026-11" (month), "2026-Q3" (quarter),
"2026" (year). A period is due once `as_of` is *after* its due date; on the due date it is still open.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")


class PeriodKind(StrEnum):
    """How often a rule is due (a rule's `period`, a report's kind); the values are the words a
    scheme file writes."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"
    ONCE = "once"  # one period, the year


PERIOD_KINDS = tuple(k.value for k in PeriodKind)

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
_PLUS_DAYS = re.compile(r"^\+(\d+)d$")
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")

# The functions of a period string are pure and asked the same questions for every unit (a tally
# or a reminder tick of 1,000 units): their answers are cached.
_cached = lru_cache(maxsize=8192)


def periods_of(year: int, kind: str) -> list[str]:
    """All periods of `kind` in `year`, in order ("once" is the year)."""
    if kind == PeriodKind.MONTHLY:
        return [f"{year}-{m:02d}" for m in range(1, 13)]
    if kind == PeriodKind.QUARTERLY:
        return [f"{year}-Q{q}" for q in range(1, 5)]
    if kind in (PeriodKind.YEARLY, PeriodKind.ONCE):
        return [str(year)]
    raise ValueError(f"unknown period kind {kind!r}")


@_cached
def period_kind(period: str) -> PeriodKind | None:
    """MONTHLY, QUARTERLY or YEARLY for a valid period string, else None."""
    if (m := _MONTH.match(period)) and 1 <= int(m.group(2)) <= 12:
        return PeriodKind.MONTHLY
    if _QUARTER.match(period):
        return PeriodKind.QUARTERLY
    if _YEAR.match(period):
        return PeriodKind.YEARLY
    return None


@_cached
def period_bounds(period: str) -> tuple[date, date]:
    """First and last day of a period string."""
    kind = period_kind(period)
    year = int(period[:4])
    if kind == PeriodKind.MONTHLY:
        month = int(period[5:7])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if kind == PeriodKind.QUARTERLY:
        q = int(period[-1])
        first, last = 3 * q - 2, 3 * q
        return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])
    if kind == PeriodKind.YEARLY:
        return date(year, 1, 1), date(year, 12, 31)
    raise ValueError(f"not a period: {period!r}")


def valid_deadline(deadline: str | None) -> bool:
    """Whether `deadline` is absent, "period_end", "+Nd" or a real "MM-DD"."""
    if deadline is None or deadline == "period_end" or _PLUS_DAYS.match(deadline):
        return True
    if m := _MONTH_DAY.match(deadline):
        try:
            date(2000, int(m.group(1)), int(m.group(2)))  # 2000 is a leap year: 02-29 allowed
        except ValueError:
            return False
        return True
    return False


def is_month_day(deadline: str | None) -> bool:
    return bool(deadline and _MONTH_DAY.match(deadline))


@_cached
def due_date(period: str, deadline: str | None = None) -> date:
    """The day a period is due under a rule's `deadline` ("period_end", "+Nd", "MM-DD")."""
    _, last = period_bounds(period)
    if deadline is None or deadline == "period_end":
        return last
    if m := _PLUS_DAYS.match(deadline):
        return last + timedelta(days=int(m.group(1)))
    if m := _MONTH_DAY.match(deadline):
        month, day = int(m.group(1)), int(m.group(2))
        year = int(period[:4])
        day = min(day, calendar.monthrange(year, month)[1])  # 02-29 in a common year -> 02-28
        return date(year, month, day)
    raise ValueError(f"bad deadline {deadline!r}")


def is_due(due: date, as_of: date) -> bool:
    """A period (or task) is due once `as_of` is after its due date."""
    return as_of > due


def end_of_day(day: date) -> datetime:
    """The last instant of `day` in the assessment time zone: what was known "as of" that day."""
    return datetime.combine(day + timedelta(days=1), time(0), TZ) - timedelta(microseconds=1)


def local_date(moment: datetime) -> date:
    """Calendar day of an instant in the assessment time zone (naive means Asia/Shanghai)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(TZ).date()


@_cached
def _last_instant_utc(day: date) -> datetime:
    return end_of_day(day).astimezone(UTC)


def known_by(moment: datetime, day: date) -> bool:
    """`local_date(moment) <= day`, without converting `moment` to the assessment time zone: an
    aware moment is compared with the last instant of `day` (in UTC, as the ledger's moments:
    a plain comparison); a naive one is a local time already."""
    if moment.tzinfo is None:
        return moment.date() <= day
    return moment <= _last_instant_utc(day)


@_cached
def period_label(period: str) -> str:
    """Chinese label: "11 月", "第 3 季度", "2026 年度"."""
    kind = period_kind(period)
    if kind == PeriodKind.MONTHLY:
        return f"{int(period[5:7])}月"
    if kind == PeriodKind.QUARTERLY:
        return f"第{period[-1]}季度"
    return f"{period}年度"


def day_label(day: date, year: int | None = None) -> str:
    """ "12 月 31 日", with the year when it differs from the assessment year."""
    text = f"{day.month}月{day.day}日"
    return text if year is None or day.year == year else f"{day.year}年{text}"
