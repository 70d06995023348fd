"""A server process for the callback benchmark: `python -m bench.server --app real|bare ...`.

* `real`: the kaohe app as `kaohe serve` builds it around the callback — `bot.app.create_app` with
  the real chat handler (`handlers.app.make_handler`), real storage at `--database`, the WeCom
  callback with our crypto; no active channel (every reply in the benchmark is passive).
* `crypto`: verify, decrypt, parse and an encrypted reply with our crypto, storing nothing;
* `bare`: an aiohttp app whose POST /wecom/callback reads the body and answers a fixed 200;
* `peer` and `limit`: the same durable work as kaohe done the common way (wechatpy + SQLAlchemy
  ORM, one commit per message) and the cheapest way (plain SQL, group commit): bench/peers.py.

Both are started the same way (`web.run_app`, same host, same logging) so the ratio of their
throughputs measures our pipeline, not the server plumbing.
"""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"
AGENT_ID = 1000002
BARE_BODY = b"<xml><ok>1</ok></xml>"


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def bare_app() -> web.Application:
    async def callback(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=BARE_BODY, content_type="application/xml")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/wecom/callback", callback)
    return app


def crypto_app() -> web.Application:
    """Our WeCom crypto and XML only, storing nothing: verify, decrypt, parse, answer an encrypted
    passive reply (what DESIGN.md's "minimal handler" reference does with wechatpy)."""
    import secrets
    import time

    from bot.wecom.callback import raw_query
    from bot.wecom.crypto import WeComCrypto
    from bot.wecom.messages import envelope_xml, parse_envelope, parse_message, text_reply_xml

    crypto = WeComCrypto(TOKEN, AES_KEY, CORP_ID)

    async def callback(request: web.Request) -> web.Response:
        params = raw_query(request)
        envelope = parse_envelope(await request.read())
        plain = crypto.verify_and_decrypt(
            params["msg_signature"], params["timestamp"], params["nonce"], envelope.encrypt
        )
        msg = parse_message(plain, corp_id=CORP_ID)
        now = int(time.time())
        reply = text_reply_xml(msg.sender, CORP_ID, now, "已登记")
        timestamp, nonce = str(now), str(secrets.randbelow(10**10))
        encrypt, signature = crypto.encrypt_envelope(reply, timestamp, nonce)
        return web.Response(
            text=envelope_xml(encrypt, signature, timestamp, nonce), content_type="application/xml"
        )

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_post("/wecom/callback", callback)
    return app


def real_app(database_url: str, pool_size: int = 0) -> web.Application:
    from bot.app import create_app
    from bot.wecom.callback import CallbackConfig
    from handlers.app import make_handler
    from storage.db import Database

    # pool_size > 0 is an experiment (see docs/benchmarks.md); 0 keeps the engine as kaohe serve has it
    options = {"pool_size": pool_size, "max_overflow": 0} if pool_size else {}
    db = Database(database_url, **options)
    handler = make_handler(db=db, channel=None)
    app = create_app(
        db=db,
        handler=handler,
        callback=CallbackConfig(
            token=TOKEN, encoding_aes_key=AES_KEY, corp_id=CORP_ID, agent_id=AGENT_ID
        ),
    )

    async def close(_app: web.Application) -> None:
        await db.dispose()

    app.on_cleanup.append(close)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--app", choices=["real", "crypto", "bare", "peer", "limit"], required=True)
    parser.add_argument("--database", default="", help="database URL (real app)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default="WARNING")
    parser.add_argument("--pool-size", type=int, default=0, help="experiment: engine pool size")
    parser.add_argument("--profile", default="", help="write a pyinstrument HTML profile here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(logging, args.log_level.upper(), logging.WARNING))
    if args.app == "real":
        from bot.app import serving

        app = serving(real_app(args.database, args.pool_size))  # as `kaohe serve` runs it
    elif args.app in ("peer", "limit"):
        from bench import peers

        app = (peers.peer_app if args.app == "peer" else peers.limit_app)(args.database)
    else:
        app = crypto_app() if args.app == "crypto" else bare_app()
    if not args.profile:
        web.run_app(app, host=args.host, port=args.port, print=None)
        return 0
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="disabled")
    profiler.start()
    try:
        web.run_app(app, host=args.host, port=args.port, print=None)
    finally:
        profiler.stop()
        with open(args.profile, "w", encoding="utf-8") as out:
            out.write(profiler.output_html())
        with open(args.profile + ".txt", "w", encoding="utf-8") as out:
            out.write(profiler.output_text(unicode=True, show_all=False))
        with open(args.profile + ".flat.txt", "w", encoding="utf-8") as out:
            out.write(profiler.output_text(unicode=True, flat=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
