"""Time for reminders: always from an injectable clock, never read directly from the wall.

`SystemClock` is the one place in reminders/ that asks the operating system for the time; tests
and `kaohe remind --at` use `FixedClock`, which they move by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from scoring.periods import TZ


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved (`set`, `advance`). Naive times are Asia/Shanghai."""

    def __init__(self, moment: datetime) -> None:
        self._now = _aware(moment)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = _aware(moment)

    def advance(self, delta: timedelta) -> None:
        self._now += delta


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=TZ) if moment.tzinfo is None else moment


def local(moment: datetime) -> datetime:
    """The instant in the assessment time zone (Asia/Shanghai)."""
    return _aware(moment).astimezone(TZ)
