"""A kaohe callback server (bench/server.py's real app) that, with `--die-after-store`, kills
its own process (SIGKILL: no cleanup, no answer) right after the first reply is committed —
the moment between "stored" and "answered" that a crash or power cut can hit: after the
message's one transaction (recorded, handled, reply stored), or after the reply's own store on
the record-first path."""

from __future__ import annotations

import argparse
import os
import signal

from aiohttp import web

import bot.inbound
from bench.server import healthz, real_app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--die-after-store", action="store_true")
    args = parser.parse_args()
    if args.die_after_store:
        store = bot.inbound.store_reply

        async def store_then_die(*a, **kw):  # type: ignore[no-untyped-def]
            result = await store(*a, **kw)
            os.kill(os.getpid(), signal.SIGKILL)
            return result

        bot.inbound.store_reply = store_then_die  # type: ignore[assignment]
        in_one = bot.inbound.record_and_handle

        async def commit_then_die(*a, **kw):  # type: ignore[no-untyped-def]
            record, handled = await in_one(*a, **kw)
            if handled is not None:
                os.kill(os.getpid(), signal.SIGKILL)
            return record, handled

        bot.inbound.record_and_handle = commit_then_die  # type: ignore[assignment]
    app = real_app(args.database)
    assert healthz  # the same /healthz the bench servers answer
    web.run_app(app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
