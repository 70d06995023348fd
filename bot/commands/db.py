"""`kaohe db upgrade|current|backup`: apply the database migrations, show where the database is,
copy a SQLite database to one consistent file while the server runs (`VACUUM INTO`)."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

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
        description="查看数据库的迁移版本；不是最新时退出码为1。",
    )
    p_cur.set_defaults(func=cmd_current)
    p_backup = sub.add_parser(
        "backup",
        help="把 SQLite 数据库备份到一个文件（服务运行时也可以）",
        description="SQLite：用 VACUUM INTO 写出一个一致的副本。PostgreSQL 请用 pg_dump。"
        "恢复：停止服务，把备份文件复制为数据库文件（默认 KAOHE_DATA_DIR/kaohe.db），再启动。",
    )
    p_backup.add_argument("file", metavar="FILE", help="备份文件（不能已存在）")
    p_backup.set_defaults(func=cmd_backup)


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
    print(f"数据库已是最新版本{', '.join(sorted(head_revisions()))}（{_safe_url(url)}）")
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


def restore_note(backup: Path, target: str) -> str:
    return (
        f"恢复方法 / to restore: 停止服务 stop kaohe serve；"
        f"cp {backup} {target}（同时删除旧的{target}-wal、{target}-shm）；再启动 start it again"
    )


def backup_sqlite(source: Path, backup: Path) -> None:
    """A consistent copy of a live SQLite database (readers and writers may go on meanwhile)."""
    with closing(sqlite3.connect(source)) as conn:
        conn.execute("VACUUM INTO ?", (str(backup),))


def cmd_backup(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    url = get_settings().database_url
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("sqlite"):
        print(
            f"PostgreSQL 数据库（{_safe_url(url)}）请用 pg_dump 备份，例如 / back it up with pg_dump:\n"
            f"  pg_dump --format=custom --file=kaohe.dump '<同一数据库的连接串 the same database>'\n"
            "恢复 / restore: pg_restore --clean --dbname=... kaohe.dump",
            file=sys.stderr,
        )
        return 2
    source = Path(parsed.database or "")
    backup = Path(args.file)
    if not source.is_file():
        print(f"错误：数据库文件{source}不存在", file=sys.stderr)
        return 1
    if backup.exists():
        print(f"错误：{backup}已存在，请换一个文件名（不会覆盖）", file=sys.stderr)
        return 1
    backup.parent.mkdir(parents=True, exist_ok=True)
    try:
        backup_sqlite(source, backup)
    except sqlite3.Error as exc:
        print(f"错误：备份失败：{exc}", file=sys.stderr)
        return 1
    print(f"已备份{source} → {backup}（{backup.stat().st_size:,}字节）")
    print(restore_note(backup, str(source)))
    return 0
