"""The `kaohe` command line: one entry point, one module per command group under `bot/commands/`."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

# Each module exposes `register(subparsers)`, adding its commands with `set_defaults(func=...)`.
# `func(args) -> int` returns the exit code.
COMMAND_MODULES = [
    "bot.commands.db",
    "bot.commands.units",
    "bot.commands.assessments",
    "bot.commands.scheme",
    "bot.commands.score",
    "bot.commands.serve",
    "bot.commands.health",
    "bot.commands.calendar",
    "bot.commands.outbox",
    "bot.commands.tally",
    "bot.commands.report",
    "bot.commands.targets",
    "bot.commands.remind",
    "bot.commands.chat",
]


def invoked_as() -> str:
    """How to run `kaohe` again as the user just did, so printed hints work when pasted:
    `kaohe` when it is on PATH, else the path used (`.venv/bin/kaohe`), else `python -m bot`."""
    argv0 = Path(sys.argv[0])
    if argv0.name == "kaohe":
        on_path = shutil.which("kaohe")
        if on_path and Path(on_path).resolve() == argv0.resolve():
            return "kaohe"
        return str(argv0)
    return f"{_short(sys.executable)} -m bot"


def _short(path: str) -> str:
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kaohe", description="kaohe 创模目标责任考核机器人")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


NOT_MIGRATED = (
    "错误：数据库尚未初始化或版本过旧（缺少数据表）。请先运行 kaohe db upgrade，"
    "或检查 KAOHE_DATABASE_URL / KAOHE_DATA_DIR 是否指向正确的数据库。"
)


def _missing_tables(exc: BaseException) -> bool:
    """A command met a database without kaohe's tables (never migrated, or another file): SQLite's
    "no such table", PostgreSQL's undefined table; raised by SQLAlchemy or, on the paths that use
    the driver's cursor, by the driver itself."""
    seen: BaseException | None = exc
    for _ in range(4):
        if seen is None:
            return False
        text = str(seen)
        if "no such table" in text or type(seen).__name__.startswith("UndefinedTable"):
            return True
        if "relation" in text and "does not exist" in text:
            return True
        seen = getattr(seen, "orig", None) or seen.__cause__
    return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not _missing_tables(exc):
            raise
        print(NOT_MIGRATED, file=sys.stderr)
        return 1
    except BrokenPipeError:
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
