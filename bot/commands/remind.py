"""`kaohe remind --dry-run --at DATETIME`: what the reminder tick would send at that moment, to
whom and why — without sending or claiming anything. (Reminders are sent by `kaohe serve`.)"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import date, datetime, time

from reminders.stages import StagePolicy
from scoring.periods import TZ


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "remind",
        help="预演截止提醒 (remind --dry-run [--at DATETIME])",
        description="列出在指定时刻会发出的截止提醒：发给谁、提醒什么、为什么。"
        "只预演，不发送、不登记；提醒由 kaohe serve 定时发送。",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="只预演，不发送、不登记（目前唯一支持的方式）"
    )
    parser.add_argument(
        "--at",
        metavar="DATETIME",
        help="时刻，如2026-11-25T09:00或2026-11-25 09:00（Asia/Shanghai；只给日期则为09:00；"
        "默认现在）",
    )
    parser.set_defaults(func=cmd_remind)


def parse_at(text: str | None) -> datetime:
    if text is None:
        return datetime.now(TZ)
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(9, 0), TZ)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"--at 应为 YYYY-MM-DD[THH:MM]，实际为「{text}」") from None
    return moment.replace(tzinfo=TZ) if moment.tzinfo is None else moment


async def dry_run(
    url: str, at: datetime, admins: frozenset[str], policy: StagePolicy | None = None
) -> list[str]:
    """The lines `kaohe remind --dry-run` prints."""
    from reminders.stages import DEFAULT_POLICY, stage_label
    from reminders.tick import is_claimed, plan
    from storage.db import Database

    db = Database(url)
    try:
        result = await plan(db, at, admins=admins, policy=policy or DEFAULT_POLICY)
        lines = [f"提醒预演：{result.now:%Y-%m-%d %H:%M}（{TZ.key}），只预演，不发送、不登记。"]
        lines += [f"说明：{note}" for note in result.notes]
        pending = 0
        for item in result.items:
            claimed = await is_claimed(db, item)
            pending += not claimed
            state = "已发过" if claimed else "将发送"
            to = "、".join(item.recipients)
            if item.kind == "reminder":
                head = f"[{state}] {item.unit_name} · {item.rule} · {item.period} · {stage_label(item.stage)} → {to}"
                body = item.payload["card"]["description"]
            else:
                head = f"[{state}] 管理员汇总（{'每日逾期' if item.kind == 'daily' else '月度'}）→ {to}"
                body = item.payload["markdown"].splitlines()[0]
            lines += [head, f"  原因：{item.reason}", f"  内容：{body}"]
        lines.append(f"共{len(result.items)}条，其中将发送{pending}条。")
        return lines
    finally:
        await db.dispose()


def cmd_remind(args: argparse.Namespace) -> int:
    from bot.settings import get_settings, reminder_policy

    if not args.dry_run:
        print("错误：目前只支持 --dry-run 预演；提醒由 kaohe serve 定时发送。", file=sys.stderr)
        return 2
    try:
        at = parse_at(args.at)
    except ValueError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    settings = get_settings()
    for line in asyncio.run(
        dry_run(settings.database_url, at, settings.admins, reminder_policy(settings))
    ):
        print(line)
    return 0
