"""`kaohe chat --user USERID`: a local conversation in the terminal with the same handlers.

Each line typed is one text message from USERID (`/file PATH` sends a file, such as a filled
责任书 workbook); the reply is printed, and whatever the bot sends
to others (notices, review results) is printed by the local channel. `--demo` uses the demo city.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from datetime import UTC, datetime

from bot.inbound import InboundPipeline, Port
from bot.local_channel import LOCAL, LocalChannel, local_raw, parse_local, typed_message
from bot.settings import get_settings
from handlers.types import TextReply

LOCAL_WAIT = 120.0  # seconds the terminal waits for a reply in-line (汇总 takes a few)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="在终端里以某个用户身份与机器人对话 (chat --user USERID [--demo])",
        description="本地对话：每输入一行即以该用户身份发送一条文字消息（「/file 路径」发送文件，如责任书），回复打印在终端。输入空行或 Ctrl-D 结束。",
    )
    parser.add_argument("--user", required=True, help="企业微信用户 ID（如 zhangsan）")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="使用示例城市数据库（KAOHE_DATA_DIR/kaohe-demo.db，与 serve --demo 相同）",
    )
    parser.set_defaults(func=cmd_chat)


async def prepare_database(url: str, *, demo: bool):  # type: ignore[no-untyped-def]
    from bot.demo import seed_demo, seeded
    from storage.db import Database

    db = Database(url)
    await db.upgrade()
    if demo and not await seeded(db):
        await seed_demo(db, datetime.now(UTC))
    return db


async def run_chat(user: str, url: str, *, demo: bool, stdin=sys.stdin, stdout=sys.stdout) -> int:  # type: ignore[no-untyped-def]
    from handlers.app import make_handler

    db = await prepare_database(url, demo=demo)
    channel = LocalChannel(stdout)
    handler = make_handler(db=db, channel=channel, settings=get_settings())
    pipeline = InboundPipeline(db, handler)  # the same inbound path as WeCom's callback
    pipeline.add_port(Port(LOCAL, parse_local, channel))
    try:
        interactive = stdin.isatty()
        while True:
            if interactive:
                print(f"{user}> ", end="", file=stdout, flush=True)
            line = stdin.readline()
            if not line or not line.strip():
                break
            key = f"local:{secrets.token_hex(8)}"
            msg = typed_message(user, line.rstrip("\n"), key, datetime.now(UTC))
            accepted = await pipeline.accept(msg, local_raw(msg), channel=LOCAL, budget=LOCAL_WAIT)
            reply = accepted.reply
            if isinstance(reply, TextReply):
                print(reply.text, file=stdout, flush=True)
            elif reply is not None:
                print(reply, file=stdout, flush=True)
        if handler.deps.background:  # files still being written (汇总): let them go out
            await asyncio.gather(*handler.deps.background)
        await pipeline.drain()
    finally:
        await pipeline.turns.close()
        await db.dispose()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.demo_database_url if args.demo else settings.database_url
    return asyncio.run(run_chat(args.user, url, demo=args.demo))
