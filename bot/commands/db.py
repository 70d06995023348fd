"""`kaohe db upgrade|current`: apply the database migrations / show where the database is."""

from __future__ import annotations

import argparse
import asyncio
import sys

from bot.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "db",
        help="数据库：迁移到最新版本 (db upgrade|current)",
        description="数据库（KAOHE_DATABASE_URL）：执行迁移、查看当前版本。",
    )
    sub = parser.add_subparsers(dest="db_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=lambda args: _usage(parser))
    p_up = sub.add_parser(
        "upgrade",
        help="执行数据库迁移到最新版本（可重复执行）",
        description="把 KAOHE_DATABASE_URL 指向的数据库迁移到最新版本；已是最新时什么也不做。",
    )
    p_up.set_defaults(func=cmd_upgrade)
    p_cur = sub.add_parser(
        "current",
        help="查看数据库当前版本与代码中的最新版本",
        description="查看数据库的迁移版本；不是最新时退出码为 1。",
    )
    p_cur.set_defaults(func=cmd_current)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from storage.db import head_revisions, upgrade

    url = get_settings().database_url
    try:
        asyncio.run(upgrade(url))
    except Exception as exc:
        print(
            f"错误：数据库迁移失败（{_safe_url(url)}）：{type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 1
    print(f"数据库已是最新版本 {', '.join(sorted(head_revisions()))}（{_safe_url(url)}）")
    return 0


def cmd_current(args: argparse.Namespace) -> int:
    from storage.db import Database, head_revisions

    url = get_settings().database_url

    async def current() -> set[str]:
        db = Database(url)
        try:
            return await db.current_revisions()
        finally:
            await db.dispose()

    try:
        revisions = asyncio.run(current())
    except Exception as exc:
        print(
            f"错误：无法连接数据库（{_safe_url(url)}）：{type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return 1
    heads = head_revisions()
    print(
        f"数据库版本：{', '.join(sorted(revisions)) or '（未迁移）'}；最新版本：{', '.join(sorted(heads))}"
    )
    if revisions != heads:
        print("请运行 kaohe db upgrade", file=sys.stderr)
        return 1
    return 0
