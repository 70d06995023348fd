"""`kaohe health`: ask the running server's /healthz (the container's HEALTHCHECK uses it, so the
image needs no curl). Exit code 0 when it answers 200, 1 otherwise."""

from __future__ import annotations

import argparse
import sys
import urllib.error
import urllib.request

from bot.settings import get_settings


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "health",
        help="检查本机运行中的服务是否正常 (health [--url URL])",
        description="请求 http://127.0.0.1:KAOHE_PORT/healthz；正常时退出码为0，否则为1。",
    )
    parser.add_argument("--url", default=None, help="要检查的地址（默认本机 /healthz）")
    parser.add_argument("--timeout", type=float, default=4.0, help="超时秒数（默认4）")
    parser.set_defaults(func=cmd_health)


def cmd_health(args: argparse.Namespace) -> int:
    url = args.url or f"http://127.0.0.1:{get_settings().port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=args.timeout) as resp:
            ok = resp.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"不正常 / unhealthy: {url}: {exc}", file=sys.stderr)
        return 1
    print(f"{'正常 / ok' if ok else '不正常 / unhealthy'}: {url}")
    return 0 if ok else 1
