"""Working days in mainland China: weekends, public holidays and make-up working days (调休).

The statutory calendar comes from the `chinesecalendar` package (`chinese_calendar`); admins can
override single days (storage/workdays.py). For a year the package has no data for, the calendar
falls back to "Monday to Friday" and logs a loud warning once per year — it never crashes: a
reminder on a holiday is better than no reminder.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from datetime import date, timedelta

import chinese_calendar

log = logging.getLogger(__name__)

WEEKDAYS = "一二三四五六日"
_warned_years: set[int] = set()


@functools.lru_cache(maxsize=4096)
def _statutory(day: date) -> tuple[bool, str | None]:
    """(is a working day, holiday name or None) by the package, or by weekday as a fallback."""
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "WORK-DAY CALENDAR: chinesecalendar %s has no holiday data for %s; reminders "
                "treat Monday-Friday as working days that year. Upgrade chinesecalendar or set "
                "the holidays as work-day overrides.",
                getattr(chinese_calendar, "__version__", "?"),
                day.year,
            )
        return day.weekday() < 5, None
    return (not on_holiday), name


@functools.lru_cache(maxsize=64)
def holidays_known(year: int) -> bool:
    """Whether the installed chinesecalendar has the State Council's holidays for `year`."""
    try:
        chinese_calendar.get_holiday_detail(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


NOTICE_FROM_MONTH = 12  # the State Council publishes next year's holidays in November/December


def holiday_data_gap(today: date) -> int | None:
    """A year whose holidays the installed data lacks and that matters now: this year, or from
    1 December next year. None when both are known."""
    if not holidays_known(today.year):
        return today.year
    if today.month >= NOTICE_FROM_MONTH and not holidays_known(today.year + 1):
        return today.year + 1
    return None


class WorkCalendar:
    """Statutory calendar plus admin overrides ({day: is_workday})."""

    def __init__(self, overrides: Mapping[date, bool] | None = None) -> None:
        self.overrides = dict(overrides or {})
        self._known: dict[date, bool] = {}
        self._added: dict[tuple[date, int], date] = {}
        self._before: dict[date, date] = {}
        self._after: dict[date, date] = {}
        # answers others work out from this calendar alone (reminders.stages: a deadline's
        # stage on a day), kept with it: a tick asks the same few questions for every unit
        self.memo: dict[object, object] = {}

    def is_workday(self, day: date) -> bool:
        known = self._known.get(day)
        if known is None:
            known = self.overrides[day] if day in self.overrides else _statutory(day)[0]
            self._known[day] = known
        return known

    def describe(self, day: date) -> str:
        """ "周一", or "周六，调休上班", "周四，国庆节放假", "周日，休息日"."""
        weekday = f"周{WEEKDAYS[day.weekday()]}"
        working = self.is_workday(day)
        if day in self.overrides:
            return (
                weekday
                if working == (day.weekday() < 5)
                else (f"{weekday}，调整为工作日" if working else f"{weekday}，放假")
            )
        _, name = _statutory(day)
        if working:
            return f"{weekday}，调休上班" if day.weekday() >= 5 else weekday
        if name:
            return f"{weekday}，{HOLIDAY_NAMES.get(name, name)}放假"
        return f"{weekday}，休息日"

    def workday_on_or_before(self, day: date) -> date:
        found = self._before.get(day)
        if found is None:
            found = day
            while not self.is_workday(found):
                found -= timedelta(days=1)
            self._before[day] = found
        return found

    def workday_on_or_after(self, day: date) -> date:
        found = self._after.get(day)
        if found is None:
            found = day
            while not self.is_workday(found):
                found += timedelta(days=1)
            self._after[day] = found
        return found

    def previous_workday(self, day: date) -> date:
        """The last working day strictly before `day`."""
        return self.workday_on_or_before(day - timedelta(days=1))

    def next_workday(self, day: date) -> date:
        """The first working day strictly after `day`."""
        return self.workday_on_or_after(day + timedelta(days=1))

    def workdays_after(self, start: date, end: date) -> int:
        """Working days after `start` up to `end` (inclusive; 0 when `end` is not after
        `start`). Remembered per calendar."""
        key = ("after", start, end)
        found = self.memo.get(key)
        if found is None:
            n, day = 0, start
            while day < end:
                day = self.next_workday(day)
                if day <= end:
                    n += 1
            found = self.memo[key] = n
        return found  # type: ignore[return-value]

    def add_workdays(self, day: date, n: int) -> date:
        """`n` working days after (n > 0) or before (n < 0) `day`; `day` itself need not work.
        Remembered per calendar (a tick asks the same few questions for every unit)."""
        found = self._added.get((day, n))
        if found is None:
            step = self.next_workday if n > 0 else self.previous_workday
            found = day
            for _ in range(abs(n)):
                found = step(found)
            self._added[(day, n)] = found
        return found

    def first_workday_of_month(self, year: int, month: int) -> date:
        return self.workday_on_or_after(date(year, month, 1))


HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
