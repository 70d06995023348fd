"""`kaohe calendar set|unset|show`: the work-day calendar the reminders use.

The statutory holidays come from the chinesecalendar package; when the State Council publishes
next year's notice before the package has it, the office enters the days itself:
`kaohe calendar set 2027-02-06 workday 调休`, `kaohe calendar set 2027-10-01 holiday 国庆节`.
Each change is audited (storage/workdays.py); `show` lists the days that are not ordinary.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, timedelta

from bot.settings import get_settings

KINDS = {"workday": True, "holiday": False}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "calendar",
        help="工作日日历：录入调休、节假日，查看某年 (calendar set|unset|show)",
        description="提醒所用的工作日日历：法定节假日来自 chinesecalendar，管理员可逐日调整。",
    )
    sub = parser.add_subparsers(dest="calendar_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))
    p_set = sub.add_parser(
        "set",
        help="把某天设为工作日（workday）或放假（holiday）",
        description="例：kaohe calendar set 2027-02-06 workday 调休；"
        "kaohe calendar set 2027-10-01 holiday 国庆节",
    )
    p_set.add_argument("day", metavar="DATE", help="日期 YYYY-MM-DD")
    p_set.add_argument("kind", choices=sorted(KINDS), help="workday 上班 / holiday 放假")
    p_set.add_argument("reason", nargs="*", help="说明（如 调休、国庆节）")
    p_set.add_argument("--actor", default="cli", help="记入审计日志的操作人（默认 cli）")
    p_set.set_defaults(func=cmd_set)
    p_unset = sub.add_parser("unset", help="取消对某天的调整，恢复法定日历")
    p_unset.add_argument("day", metavar="DATE", help="日期 YYYY-MM-DD")
    p_unset.add_argument("--actor", default="cli", help="记入审计日志的操作人（默认 cli）")
    p_unset.set_defaults(func=cmd_unset)
    p_show = sub.add_parser("show", help="列出某年的节假日、调休上班日和手工调整")
    p_show.add_argument("year", type=int, metavar="YEAR")
    p_show.set_defaults(func=cmd_show)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        print(f"错误：日期 {text!r} 应为 YYYY-MM-DD，如2027-02-06", file=sys.stderr)
        return None


def cmd_set(args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.workdays import set_override

    day = _day(args.day)
    if day is None:
        return 2
    reason = " ".join(args.reason).strip()

    async def run() -> None:
        db = Database(get_settings().database_url)
        try:
            async with db.session() as session:
                await set_override(session, day, KINDS[args.kind], actor=args.actor, reason=reason)
                await session.commit()
        finally:
            await db.dispose()

    asyncio.run(run())
    state = "上班" if KINDS[args.kind] else "放假"
    print(f"已设置：{day.isoformat()} {state}{f'（{reason}）' if reason else ''}")
    return 0


def cmd_unset(args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.workdays import remove_override

    day = _day(args.day)
    if day is None:
        return 2

    async def run() -> bool:
        db = Database(get_settings().database_url)
        try:
            async with db.session() as session:
                removed = await remove_override(session, day, actor=args.actor)
                await session.commit()
                return removed
        finally:
            await db.dispose()

    if asyncio.run(run()):
        print(f"已取消{day.isoformat()}的调整，恢复法定日历")
        return 0
    print(f"{day.isoformat()}没有手工调整，无需取消", file=sys.stderr)
    return 1


def year_lines(year: int, overrides: dict[date, tuple[bool, str]]) -> list[str]:
    """The year's days that are not ordinary (holidays on weekdays, working weekends, every
    manual change), one line each, and a first line on where the statutory data comes from."""
    import chinese_calendar

    from reminders.calendar import WorkCalendar, holidays_known

    version = getattr(chinese_calendar, "__version__", "?")
    if holidays_known(year):
        head = f"{year}年：法定节假日来自 chinesecalendar {version}"
    else:
        head = f"{year}年：chinesecalendar {version}没有该年的放假安排，未调整的日子按周一至周五上班计算"
    calendar = WorkCalendar({day: flag for day, (flag, _) in overrides.items()})
    lines = [head]
    day = date(year, 1, 1)
    while day.year == year:
        working = calendar.is_workday(day)
        if day in overrides or working != (day.weekday() < 5):
            state = "上班" if working else "放假"
            line = f"{day.isoformat()} {calendar.describe(day)}：{state}"
            if day in overrides:
                reason = overrides[day][1]
                line += f"（手工调整{f'：{reason}' if reason else ''}）"
            lines.append(line)
        day += timedelta(days=1)
    if len(lines) == 1:
        lines.append("（没有节假日或调休记录）")
    return lines


def cmd_show(args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.workdays import list_override_reasons

    async def run() -> dict[date, tuple[bool, str]]:
        db = Database(get_settings().database_url)
        try:
            return await list_override_reasons(db, date(args.year, 1, 1), date(args.year, 12, 31))
        finally:
            await db.dispose()

    for line in year_lines(args.year, asyncio.run(run())):
        print(line)
    return 0
