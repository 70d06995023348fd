"""`kaohe serve`: run the web app (WeCom callback, /, /healthz, /readyz, /metrics) on
KAOHE_HOST:KAOHE_PORT, and the long connections that are configured (WeCom 智能机器人:
WECOM_BOT_*; DingTalk: DINGTALK_*).

Every setting is checked first: one that cannot work stops the start with a line naming it
(exit code 2) instead of a server that looks ready and answers wrongly. Migrations are applied at
start. Without WeCom settings it still starts and logs what is missing. The message handler comes
from `--handler MODULE:FACTORY` (default KAOHE_HANDLER), called as
`factory(db=..., channel=..., settings=...)`.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from aiohttp import web
from pydantic import ValidationError

from bot.settings import Problem, Settings, get_settings, load_factory

log = logging.getLogger("kaohe.serve")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="运行机器人服务：企业微信回调和/或长连接 (serve [--host H] [--port P] [--demo [--reset]])",
        description=(
            "运行 Web 服务：/wecom/callback、/healthz、/readyz、/metrics；并按配置运行长连接"
            "（企业微信智能机器人 WECOM_BOT_ID/WECOM_BOT_SECRET，钉钉 Stream "
            "DINGTALK_CLIENT_ID/DINGTALK_CLIENT_SECRET），无需公网 IP。"
            "启动时先检查全部设置，再自动执行数据库迁移。"
        ),
    )
    parser.add_argument("--host", help="监听地址（默认 KAOHE_HOST）")
    parser.add_argument("--port", type=int, help="监听端口（默认 KAOHE_PORT）")
    parser.add_argument(
        "--handler",
        default=None,
        metavar="MODULE:FACTORY",
        help="消息处理器工厂（默认 KAOHE_HANDLER）",
    )
    parser.add_argument(
        "--media-dir", default=None, help="用户发送的附件保存目录（默认 KAOHE_DATA_DIR/media）"
    )
    parser.add_argument(
        "--reply-budget",
        type=float,
        default=None,
        help="被动回复的时间预算（秒，默认3），超时改为主动发送",
    )
    parser.add_argument("--log-level", default="INFO", help="日志级别（默认 INFO；DEBUG 更详细）")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="使用示例城市（KAOHE_DATA_DIR/kaohe-demo.db，首次启动时生成一年的示例数据）",
    )
    parser.add_argument(
        "--reset", action="store_true", help="与 --demo 一起用：删除示例城市的数据库，重新生成"
    )
    parser.set_defaults(func=cmd_serve)


def load_settings(handler: str | None = None) -> tuple[Settings | None, list[Problem]]:
    """The settings and what is wrong with them (also the type errors pydantic finds)."""
    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = str(error["loc"][0]) if error["loc"] else "?"
            problems.append(Problem(name, f"取值无效（{error['msg']}）", error["msg"]))
        return None, problems
    if handler:
        settings = settings.model_copy(update={"handler": handler})
    return settings, settings.problems()


def reset_demo(settings: Settings) -> Path:
    """Remove the demo city's database file (it is made again on start)."""
    path = settings.data_dir / "kaohe-demo.db"
    for extra in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    return path


def cmd_serve(args: argparse.Namespace) -> int:
    from bot import logsetup

    settings, problems = load_settings(args.handler)
    if args.demo:  # the demo city has its own database: files left by an older version don't matter
        problems = [p for p in problems if p.name != "KAOHE_DATA_DIR"]
    if problems or settings is None:
        for problem in problems:
            print(problem, file=sys.stderr)
        print(
            "kaohe serve 未启动 / not started: 请修正以上设置 / fix the settings above",
            file=sys.stderr,
        )
        return 2
    if args.reset and not args.demo:
        print("--reset 只能与 --demo 一起使用 / --reset only works with --demo", file=sys.stderr)
        return 2
    logsetup.configure(args.log_level, settings.log_format)
    for warning in settings.warnings():
        log.warning("%s", warning)
    from bot.app import build_app, serving
    from bot.cli import invoked_as

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if args.demo:
        from bot.commands.chat import prepare_database

        if args.reset:
            log.info("demo city reset: %s removed", reset_demo(settings))
        url = settings.demo_database_url
        settings = settings.model_copy(update={"database_url_raw": url})

        async def prepare_demo() -> None:
            db = await prepare_database(url, demo=True)
            await db.dispose()

        asyncio.run(prepare_demo())
    app = build_app(
        settings,
        handler_factory=load_factory(settings.handler),
        media_dir=args.media_dir,
        reply_budget=args.reply_budget,
        upgrade_on_start=True,
    )
    host = args.host or settings.host
    port = args.port or settings.port
    log.info("kaohe serving on http://%s:%s (data in %s)", host, port, settings.data_dir.resolve())
    if args.demo:
        print(
            f"示例城市已就绪 / demo city ready: http://{host}:{port}/\n"
            f"在另一个终端试用 / try it in another terminal:\n"
            f"  {invoked_as()} chat --demo --user zhangsan   # 联络员 a liaison\n"
            f"  {invoked_as()} chat --demo --user admin      # 管理员 the admin",
            flush=True,
        )
    web.run_app(serving(app), host=host, port=port, print=None)
    return 0
