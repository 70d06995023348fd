"""Work-day calendar, deadlines and stages: pure, no database."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest

from reminders import calendar as calendar_module
from reminders.calendar import WorkCalendar
from reminders.deadlines import deadlines_for
from reminders.stages import DEFAULT_POLICY, StagePolicy, current_stage, schedule
from reminders.texts import owed_text, reminder_description
from scoring import load_builtin
from scoring.facts import Facts, Status, Submission, Task
from scoring.periods import TZ

CAL = WorkCalendar()
SCHEME = load_builtin("chuangmo-taizhou")


def at(day: str, hm: str = "10:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{hm}").replace(tzinfo=TZ)


def test_package_covers_2026() -> None:
    assert chinese_calendar.is_workday(date(2026, 10, 1)) is False


def test_national_day_week_and_make_up_saturday() -> None:
    for d in range(1, 8):
        assert not CAL.is_workday(date(2026, 10, d))
    assert CAL.is_workday(date(2026, 10, 8))
    assert CAL.is_workday(date(2026, 10, 10))  # Saturday, 调休上班
    assert CAL.describe(date(2026, 10, 10)) == "周六，调休上班"
    assert CAL.describe(date(2026, 10, 4)) == "周日，国庆节放假"
    assert CAL.describe(date(2026, 11, 30)) == "周一"
    assert CAL.describe(date(2026, 11, 29)) == "周日，休息日"
    assert CAL.previous_workday(date(2026, 10, 8)) == date(2026, 9, 30)
    assert CAL.workday_on_or_before(date(2026, 10, 4)) == date(2026, 9, 30)
    assert CAL.next_workday(date(2026, 9, 30)) == date(2026, 10, 8)
    assert CAL.add_workdays(date(2026, 10, 10), -3) == date(2026, 9, 30)
    assert CAL.first_workday_of_month(2026, 11) == date(2026, 11, 2)
    assert CAL.first_workday_of_month(2026, 10) == date(2026, 10, 8)


def test_overrides_win() -> None:
    cal = WorkCalendar({date(2026, 11, 30): False, date(2026, 11, 29): True})
    assert not cal.is_workday(date(2026, 11, 30)) and cal.is_workday(date(2026, 11, 29))
    assert cal.describe(date(2026, 11, 30)) == "周一，放假"
    assert cal.describe(date(2026, 11, 29)) == "周日，调整为工作日"


def test_year_without_data_falls_back_to_weekends_and_warns_once(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(calendar_module, "_warned_years", set())
    calendar_module._statutory.cache_clear()
    with caplog.at_level(logging.WARNING, logger="reminders.calendar"):
        assert CAL.is_workday(date(2099, 1, 2)) is True  # a Friday
        assert CAL.is_workday(date(2099, 1, 3)) is False  # a Saturday
        assert CAL.previous_workday(date(2099, 1, 5)) == date(2099, 1, 2)
    warnings = [r for r in caplog.records if "2099" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def _facts(submissions=(), tasks=()) -> Facts:  # type: ignore[no-untyped-def]
    return Facts(unit="椒江区", year=2026, submissions=tuple(submissions), tasks=tuple(tasks))


def _info(n: int, period: str, day: str, status: Status = Status.ACCEPTED) -> Submission:
    return Submission(
        id=f"S{period}{n}", target="C3b", period=period, submitted_at=at(day), status=status
    )


def test_monthly_quota_owed_and_text() -> None:
    subs = [_info(i, "2026-11", f"2026-11-0{i + 2}") for i in range(3)]
    subs.append(_info(9, "2026-11", "2026-11-06", Status.WITHDRAWN))
    found = {(d.key, d.period): d for d in deadlines_for(SCHEME, _facts(subs), CAL)}
    nov = found[("C3b.1", "2026-11")]
    assert (nov.have, nov.need, nov.owed, nov.due) == (3, 4, 1, date(2026, 11, 30))
    assert owed_text(nov, CAL) == "11月政务信息已报3/4篇，还差1篇，截止11月30日（周一）"
    # what came in after `now` does not count yet
    early = {
        (d.key, d.period): d
        for d in deadlines_for(SCHEME, _facts(subs), CAL, at("2026-11-03", "12:00"))
    }
    assert early[("C3b.1", "2026-11")].have == 2
    # December: the self-check report and the annual summary, 15 December (seed 000 第十一条)
    assert found[("C4b.1", "2026")].due == date(2026, 12, 15)
    assert found[("C4c.1", "2026")].label == "2026年度工作总结"
    assert not found[("C4b.1", "2026")].done


def test_task_feedback_deadline_on_a_holiday() -> None:
    task = Task(id="K7", kind="feedback", due=date(2026, 10, 4), title="国庆值守情况")
    answered = Task(id="K8", kind="feedback", due=date(2026, 10, 4), title="已答复")
    done = Submission(
        id="S1", target="C3a", kind="feedback", task="K8", submitted_at=at("2026-09-28")
    )
    found = {d.key: d for d in deadlines_for(SCHEME, _facts([done], [task, answered]), CAL)}
    d = found["C3a.1@K7"]
    assert d.period == "2026-10-04" and d.remind_on == date(2026, 9, 30) and not d.done
    assert found["C3a.1@K8"].done
    assert schedule(d, CAL, DEFAULT_POLICY) == [
        ("before3", date(2026, 9, 24)),  # 25th: 中秋节
        ("before1", date(2026, 9, 29)),
        ("dayof", date(2026, 9, 30)),
        ("overdue", date(2026, 10, 8)),
    ]
    text = reminder_description("椒江区", d, "dayof", date(2026, 9, 30), CAL)
    assert "截止10月4日（周日，国庆节放假）" in text
    assert "截止日为非工作日，请于今天（周三）下班前报送" in text


def test_current_stage_catches_up_and_skips_stale() -> None:
    task = Task(id="K1", kind="feedback", due=date(2026, 11, 20))
    (d,) = [x for x in deadlines_for(SCHEME, _facts(tasks=[task]), CAL) if x.kind == "task"]
    assert current_stage(d, date(2026, 11, 16), CAL, DEFAULT_POLICY) is None
    assert current_stage(d, date(2026, 11, 17), CAL, DEFAULT_POLICY) == (
        "before3",
        date(2026, 11, 17),
    )
    # down on the 17th: on the 18th the "3 days before" is still useful, caught up
    assert current_stage(d, date(2026, 11, 18), CAL, DEFAULT_POLICY)[0] == "before3"  # type: ignore[index]
    # after the deadline, only the overdue stage, and only within its window
    assert current_stage(d, date(2026, 11, 23), CAL, DEFAULT_POLICY)[0] == "overdue"  # type: ignore[index]
    assert current_stage(d, date(2026, 11, 26), CAL, DEFAULT_POLICY) is None
    policy = StagePolicy(before_workdays=(5, 2), overdue=False)
    assert [s for s, _ in schedule(d, CAL, policy)] == ["before5", "before2", "dayof"]


def test_office_hours() -> None:
    assert DEFAULT_POLICY.in_office_hours(at("2026-11-25", "08:30"))
    assert not DEFAULT_POLICY.in_office_hours(at("2026-11-25", "08:29"))
    assert not DEFAULT_POLICY.in_office_hours(at("2026-11-25", "17:30"))
    assert datetime(2026, 11, 25, 1, 0, tzinfo=UTC).astimezone(TZ).hour == 9


def test_long_titles_are_clipped_for_cards() -> None:
    from reminders.texts import TITLE_MAX, daily_digest, reminder_title

    task = Task(id="K1", kind="feedback", due=date(2026, 11, 20), title="关于" + "很长" * 30)
    (d,) = [x for x in deadlines_for(SCHEME, _facts(tasks=[task]), CAL) if x.kind == "task"]
    title = reminder_title(d, "before3")
    assert len(title) == TITLE_MAX and title.endswith("…") and title.startswith("截止提醒：")
    digest = daily_digest(date(2026, 11, 23), [(f"单位{i}", d) for i in range(100)], CAL)
    assert "项未列出" in digest and "共100项" in digest
    assert len(digest.encode()) < 4096
    short = daily_digest(date(2026, 11, 23), [(f"单位{i}", d) for i in range(3)], CAL)
    assert "未列出" not in short and short.count("- **") == 3


def test_remembered_answers_match_the_days_counted_one_by_one() -> None:
    """The calendar keeps its answers (a tick asks the same few for every unit): kept or not,
    they are the days counted one by one, around the National Day week and an override."""
    cal = WorkCalendar({date(2026, 10, 10): False})
    days = [date(2026, 9, 20) + timedelta(days=n) for n in range(60)]

    def late(start: date, end: date) -> int:
        n, day = 0, start
        while day < end:
            day += timedelta(days=1)
            while not cal.is_workday(day):
                day += timedelta(days=1)
            if day <= end:
                n += 1
        return n

    for _ in range(2):  # worked out, then remembered
        for start in days:
            before = start
            while not cal.is_workday(before):
                before -= timedelta(days=1)
            assert cal.workday_on_or_before(start) == before
            for end in days[::3]:
                assert cal.workdays_after(start, end) == late(start, end)
    d = next(
        x for x in deadlines_for(SCHEME, Facts(unit="甲", year=2026), cal) if x.due.month == 10
    )
    stages = [current_stage(d, day, cal, DEFAULT_POLICY) for day in days]
    assert [current_stage(d, day, cal, DEFAULT_POLICY) for day in days] == stages
    assert stages == [stages_fresh(d, day) for day in days]
    assert {s[0] for s in stages if s is not None} >= {"dayof", "overdue"}


def stages_fresh(d: object, day: date) -> object:
    """The stage worked out on a calendar that has remembered nothing."""
    return current_stage(d, day, WorkCalendar({date(2026, 10, 10): False}), DEFAULT_POLICY)  # type: ignore[arg-type]


def test_days_left_in_a_reminder_are_working_days() -> None:
    """「距截止还有N个工作日」 counts the working days after today up to the deadline (the day
    to remind on, a working day itself): a weekend between is not counted."""
    nov = next(
        d
        for d in deadlines_for(SCHEME, Facts(unit="甲", year=2026), CAL)
        if d.key == "C3b.1" and d.period == "2026-11"
    )
    friday = reminder_description("椒江区", nov, "ahead1", date(2026, 11, 27), CAL)
    assert "距截止还有1个工作日" in friday  # Friday 27th → Monday 30th
    wednesday = reminder_description("椒江区", nov, "ahead3", date(2026, 11, 25), CAL)
    assert "距截止还有3个工作日" in wednesday
    sep = next(
        d
        for d in deadlines_for(SCHEME, Facts(unit="甲", year=2026), CAL)
        if d.key == "C3b.1" and d.period == "2026-09"
    )
    # September's items are due 30 September (a Wednesday): from Monday the 28th, two days
    assert "距截止还有2个工作日" in reminder_description(
        "椒江区", sep, "ahead2", date(2026, 9, 28), CAL
    )
