"""`kaohe outbox list [--failed]` and `kaohe outbox retry ID…|--all-failed`: the messages waiting
to be sent and those given up after the last attempt (e.g. a user who left the company, WeCom down
for hours). A retried message gets a fresh set of attempts and goes out with the next dispatch
(every 30 s while `kaohe serve` runs); each retry is audited."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime

from bot.settings import get_settings
from scoring.periods import TZ

STATUS_NAMES = {"pending": "待发送", "failed": "已放弃", "sent": "已发送"}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "outbox",
        help="待发送与发送失败的消息：列出、重发 (outbox list [--failed] | outbox retry ID|--all-failed)",
        description="发件箱：提醒、汇总等主动消息。发送多次失败后放弃的消息可在此重发。",
    )
    sub = parser.add_subparsers(dest="outbox_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))
    p_list = sub.add_parser("list", help="列出未发出的消息（最新的在前）")
    p_list.add_argument("--failed", action="store_true", help="只列出已放弃的消息")
    p_list.add_argument("--limit", type=int, default=100, help="最多列出几条（默认100）")
    p_list.set_defaults(func=cmd_list)
    p_retry = sub.add_parser("retry", help="把已放弃的消息重新放回发送队列")
    p_retry.add_argument(
        "ids", nargs="*", type=int, metavar="ID", help="消息编号（见 outbox list）"
    )
    p_retry.add_argument("--all-failed", action="store_true", help="重发全部已放弃的消息")
    p_retry.add_argument("--actor", default="cli", help="记入审计日志的操作人（默认 cli）")
    p_retry.set_defaults(func=cmd_retry)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _when(moment: datetime | None) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if moment else "-"


def cmd_list(args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.outbox import list_outbox

    async def run():  # type: ignore[no-untyped-def]
        db = Database(get_settings().database_url)
        try:
            return await list_outbox(db, failed_only=args.failed, limit=args.limit)
        finally:
            await db.dispose()

    rows = asyncio.run(run())
    if not rows:
        print("没有已放弃的消息" if args.failed else "没有待发送或已放弃的消息")
        return 0
    print("编号\t状态\t尝试\t收件人\t类型\t创建时间\t下次尝试\t最后错误")
    for row in rows:
        kind = str(row.payload.get("type", "?"))
        print(
            f"{row.id}\t{STATUS_NAMES.get(row.status, row.status)}\t{row.attempts}\t"
            f"{row.recipient}\t{kind}\t{_when(row.created_at)}\t"
            f"{_when(row.next_attempt_at) if row.status == 'pending' else '-'}\t"
            f"{(row.last_error or '-')[:120]}"
        )
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.outbox import retry_failed

    if bool(args.ids) == bool(args.all_failed):
        print("请给出消息编号，或用 --all-failed 重发全部已放弃的消息（二选一）", file=sys.stderr)
        return 2

    async def run() -> list[int]:
        db = Database(get_settings().database_url)
        try:
            return await retry_failed(db, None if args.all_failed else args.ids, actor=args.actor)
        finally:
            await db.dispose()

    retried = asyncio.run(run())
    missing = sorted(set(args.ids) - set(retried))
    if retried:
        print(f"已重新排队{len(retried)}条：{', '.join(map(str, retried))}（服务运行时30秒内发送）")
    else:
        print("没有可重发的消息")
    if missing:
        print(f"以下编号不是已放弃的消息，未处理：{', '.join(map(str, missing))}", file=sys.stderr)
        return 1
    return 0
