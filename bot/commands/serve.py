"""`kaohe serve`: run the web app (WeCom callback, /healthz, /readyz) on KAOHE_HOST:KAOHE_PORT.

Migrations are applied at start. Without WeCom settings it still starts and logs what is missing.
The message handler comes from `--handler MODULE:FACTORY` (default `handlers.app:make_handler`),
called as `factory(db=..., channel=..., settings=...)`.
"""

from __future__ import annotations

import argparse
import importlib
import logging

from aiohttp import web

from bot.settings import get_settings

log = logging.getLogger("kaohe.serve")

DEFAULT_HANDLER = "handlers.app:make_handler"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="运行企业微信回调服务 (serve [--host H] [--port P])",
        description="运行 Web 服务：/wecom/callback、/healthz、/readyz。启动时自动执行数据库迁移。",
    )
    parser.add_argument("--host", help="监听地址（默认 KAOHE_HOST）")
    parser.add_argument("--port", type=int, help="监听端口（默认 KAOHE_PORT）")
    parser.add_argument(
        "--handler",
        default=None,
        metavar="MODULE:FACTORY",
        help=f"消息处理器工厂（默认 {DEFAULT_HANDLER}）",
    )
    parser.add_argument(
        "--media-dir",
        default=None,
        help="用户发送的附件保存目录（默认 KAOHE_MEDIA_DIR 或 ./media）",
    )
    parser.add_argument(
        "--reply-budget",
        type=float,
        default=None,
        help="被动回复的时间预算（秒，默认 3），超时改为主动发送",
    )
    parser.add_argument("--log-level", default="INFO", help="日志级别（默认 INFO）")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="使用示例城市（SQLite 文件 kaohe-demo.db，首次启动时生成一年的示例数据）",
    )
    parser.set_defaults(func=cmd_serve)


def load_factory(spec: str):  # type: ignore[no-untyped-def]
    """`module:attr` → the handler factory, or None (logged) when it cannot be imported."""
    module_name, _, attr = spec.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attr or "make_handler")
    except (ImportError, AttributeError) as exc:
        log.warning("handler %s not available (%s)", spec, exc)
        return None


def cmd_serve(args: argparse.Namespace) -> int:
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from bot.app import build_app

    settings = get_settings()
    if args.demo:
        import asyncio

        from bot.commands.chat import DEMO_URL, prepare_database

        settings = settings.model_copy(update={"database_url": DEMO_URL})

        async def prepare_demo() -> None:
            db = await prepare_database(DEMO_URL, demo=True)
            await db.dispose()

        asyncio.run(prepare_demo())
        log.info(
            "demo city ready in kaohe-demo.db; try it locally: kaohe chat --demo --user zhangsan"
        )
    app = build_app(
        settings,
        handler_factory=load_factory(args.handler or settings.handler),
        media_dir=args.media_dir or settings.media_dir,
        reply_budget=args.reply_budget if args.reply_budget is not None else settings.reply_budget,
        upgrade_on_start=True,
    )
    host = args.host or settings.host
    port = args.port or settings.port
    log.info("kaohe serving on http://%s:%s", host, port)
    web.run_app(app, host=host, port=port, print=None)
    return 0
