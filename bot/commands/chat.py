"""`kaohe chat --user USERID`: a local conversation in the terminal with the same handlers.

Each line typed is one text message from USERID (`/file PATH` sends a file, such as a filled
责任书 workbook); a line ending with a backslash continues the message on the next line (a title,
then its body). With `--multiline` a message is every line up to a line holding only "." (for
pasting whole articles). The reply is printed, and whatever the bot sends to others (notices,
review results) is printed by the local channel, and so is a draft left quiet past its time when
it expires (the sweep `kaohe serve` runs, here beside the prompt). `--demo` uses the demo city.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import secrets
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.inbound import InboundPipeline, Port
from bot.local_channel import LOCAL, LocalChannel, local_raw, parse_local, typed_message
from bot.settings import get_settings
from handlers.types import TextReply

log = logging.getLogger(__name__)

LOCAL_WAIT = 120.0  # seconds the terminal waits for a reply in-line (汇总 takes a few)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="在终端里以某个用户身份与机器人对话 (chat --user USERID [--demo])",
        description=(
            "本地对话：每输入一行即以该用户身份发送一条文字消息（「/file 路径」发送文件，如责任书），"
            "回复打印在终端。行末输入 \\ 表示消息未完、下一行接着写（如先写「政务信息：标题\\」，"
            "再写正文）。输入空行或 Ctrl-D 结束。"
        ),
    )
    parser.add_argument("--user", required=True, help="企业微信用户 ID（如 zhangsan）")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="使用示例城市数据库（KAOHE_DATA_DIR/kaohe-demo.db，与 serve --demo 相同）",
    )
    parser.add_argument(
        "--multiline",
        action="store_true",
        help="多行模式：每条消息写完后单独输入一行「.」发送（便于粘贴整篇文章）",
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


def read_message(stdin: TextIO, *, multiline: bool = False) -> str | None:
    """The next message typed, or None at the end (Ctrl-D; an empty line outside --multiline).
    A line ending with a backslash continues on the next line; in --multiline mode a line
    holding only "." ends the message."""
    lines: list[str] = []
    while True:
        line = stdin.readline()
        if not line:  # end of input
            return "\n".join(lines) if lines and multiline else None
        line = line.rstrip("\r\n")
        if multiline:
            if line.strip() == ".":
                return "\n".join(lines)
            lines.append(line)
            continue
        if not lines and not line.strip():
            return None
        if line.endswith("\\"):
            lines.append(line[:-1])
            continue
        lines.append(line)
        return "\n".join(lines)


async def _send_queued(pipeline: InboundPipeline) -> None:
    """What the turn queued for others (测评 cards, notices to a unit) goes out now, printed by
    the local channel: the terminal has no outbox loop running beside it."""
    dispatcher = pipeline.dispatcher
    if dispatcher is not None:
        await dispatcher.run_once()


async def _sweep(handler: Any, pipeline: InboundPipeline, seconds: float) -> None:
    """What `kaohe serve` runs beside the handler, here beside the terminal: drafts left quiet
    past their time are dropped and announced (through the outbox, printed by the local channel)
    while the user is not typing, not only at their next message."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await handler.periodic()
            await _send_queued(pipeline)
        except Exception:
            log.exception("chat: periodic handler work failed")


async def run_chat(  # type: ignore[no-untyped-def]
    user: str,
    url: str,
    *,
    demo: bool,
    stdin=sys.stdin,
    stdout=sys.stdout,
    multiline: bool = False,
    sweep_seconds: float | None = None,
    **handler_options: Any,
) -> int:
    """`handler_options` go to the handler (tests: `clock`, `conversation_ttl`)."""
    from handlers.app import make_handler

    db = await prepare_database(url, demo=demo)
    channel = LocalChannel(stdout)
    handler = make_handler(db=db, channel=channel, settings=get_settings(), **handler_options)
    pipeline = InboundPipeline(db, handler)  # the same inbound path as WeCom's callback
    pipeline.add_port(Port(LOCAL, parse_local, channel))
    seconds = sweep_seconds if sweep_seconds is not None else handler.periodic_seconds
    sweep = asyncio.create_task(_sweep(handler, pipeline, seconds))
    try:
        interactive = stdin.isatty()
        while True:
            if interactive:
                print(f"{user}> ", end="", file=stdout, flush=True)
            # read in a thread: the sweep runs while the user thinks
            text = await asyncio.to_thread(read_message, stdin, multiline=multiline)
            if text is None:
                break
            if not text.strip():
                continue
            key = f"local:{secrets.token_hex(8)}"
            msg = typed_message(user, text, key, datetime.now(UTC))
            accepted = await pipeline.accept(msg, local_raw(msg), channel=LOCAL, budget=LOCAL_WAIT)
            reply = accepted.reply
            if isinstance(reply, TextReply):
                print(reply.text, file=stdout, flush=True)
            elif reply is not None:
                print(reply, file=stdout, flush=True)
            await _send_queued(pipeline)
        if handler.deps.background:  # files still being written (汇总): let them go out
            await asyncio.gather(*handler.deps.background)
        await pipeline.drain()
    finally:
        sweep.cancel()
        # ended before the database closes: a sweep cut off inside a unit of work would otherwise
        # wait on a database thread that is gone
        with contextlib.suppress(asyncio.CancelledError):
            await sweep
        await pipeline.turns.close()
        await db.dispose()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.demo_database_url if args.demo else settings.database_url
    return asyncio.run(run_chat(args.user, url, demo=args.demo, multiline=args.multiline))
