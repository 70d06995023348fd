"""Periods, due dates and the "due only after the due date" rule."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from scoring.periods import (
    due_date,
    is_due,
    local_date,
    period_bounds,
    period_kind,
    periods_of,
    valid_deadline,
)


def test_periods_of_year():
    assert periods_of(2026, "monthly")[0] == "2026-01"
    assert periods_of(2026, "monthly")[-1] == "2026-12"
    assert len(periods_of(2026, "monthly")) == 12
    assert periods_of(2026, "quarterly") == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert periods_of(2026, "yearly") == ["2026"]
    assert periods_of(2026, "once") == ["2026"]


def test_period_kind_and_bounds():
    assert period_kind("2026-11") == "monthly"
    assert period_kind("2026-13") is None
    assert period_kind("2026-Q3") == "quarterly"
    assert period_kind("2026") == "yearly"
    assert period_kind("26-1") is None
    assert period_bounds("2026-02") == (date(2026, 2, 1), date(2026, 2, 28))
    assert period_bounds("2028-02") == (date(2028, 2, 1), date(2028, 2, 29))
    assert period_bounds("2026-Q3") == (date(2026, 7, 1), date(2026, 9, 30))
    assert period_bounds("2026") == (date(2026, 1, 1), date(2026, 12, 31))


@pytest.mark.parametrize(
    ("period", "deadline", "expected"),
    [
        ("2026-10", None, date(2026, 10, 31)),
        ("2026-10", "period_end", date(2026, 10, 31)),
        ("2026-10", "+10d", date(2026, 11, 10)),  # the spec's example: October due 10 November
        ("2026-12", "+10d", date(2027, 1, 10)),
        ("2026-Q1", "+15d", date(2026, 4, 15)),
        ("2026", "12-15", date(2026, 12, 15)),
        ("2026", "02-29", date(2026, 2, 28)),
    ],
)
def test_due_date(period, deadline, expected):
    assert due_date(period, deadline) == expected


def test_valid_deadline():
    for ok in (None, "period_end", "+0d", "+10d", "12-15", "02-29"):
        assert valid_deadline(ok)
    for bad in ("10d", "+d", "13-01", "12-32", "tomorrow", "2026-12-15"):
        assert not valid_deadline(bad)


def test_is_due_only_after_the_due_date():
    due = date(2026, 11, 30)
    assert not is_due(due, date(2026, 11, 29))
    assert not is_due(due, due)  # on the due date itself it is still open
    assert is_due(due, date(2026, 12, 1))


def test_local_date_is_shanghai():
    utc_evening = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # 01:00 on 1 Dec in Shanghai
    assert local_date(utc_evening) == date(2026, 12, 1)
    assert local_date(datetime(2026, 11, 30, 23, 59, tzinfo=timezone(timedelta(hours=8)))) == date(
        2026, 11, 30
    )


def test_period_kinds_are_one_enum_with_the_scheme_words():
    from scoring.periods import PERIOD_KINDS, PeriodKind

    assert PERIOD_KINDS == ("monthly", "quarterly", "yearly", "once")
    assert period_kind("2026-11") is PeriodKind.MONTHLY
    assert period_kind("2026-Q3") is PeriodKind.QUARTERLY
    assert period_kind("2026") is PeriodKind.YEARLY
