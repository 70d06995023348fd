"""The aiohttp application: health routes, the WeCom callback, and the process lifecycle.

`create_app` takes ready-made parts (tests use it directly); `build_app` makes those parts from
`Settings` — database, WeCom clients and channel, handler — and says in the log what is missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot import logsetup, metrics
from bot.channel_router import ChannelRouter
from bot.dashboard import add_dashboard
from bot.inbound import InboundPipeline, MediaFetcher, Port
from bot.longconn.wiring import build_long_connections
from bot.settings import Settings, reminder_policy
from bot.wecom.callback import CHANNEL, CallbackConfig, WeComCallback
from bot.wecom.channel import WeComChannel
from bot.wecom.client import WebhookClient, WeComClient
from handlers.channel import Channel
from handlers.types import Handler, InboundMessage, Reply, TextReply

log = logging.getLogger(__name__)

DB_KEY = web.AppKey("db", Any)
CALLBACK_KEY = web.AppKey("wecom_callback", Any)
CHANNEL_KEY = web.AppKey("channel", Any)
PIPELINE_KEY = web.AppKey("inbound_pipeline", InboundPipeline)
BUDGET_KEY = web.AppKey("reply_budget", float)
MAINTENANCE_KEY = web.AppKey("maintenance", asyncio.Task)

HandlerFactory = Callable[..., Handler]


# --- front page, metrics, request log -----------------------------------------------------------


async def index(request: web.Request) -> web.Response:
    """A short page naming the service, for whoever opens the bare address in a browser."""
    body = (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        "<title>kaohe 考核机器人</title></head><body>"
        "<h1>kaohe 考核机器人</h1>"
        "<p>企业微信创模目标责任考核机器人。 A WeCom bot for target-responsibility assessment.</p>"
        "<ul><li><a href='/healthz'>/healthz</a> 运行状态 liveness</li>"
        "<li><a href='/readyz'>/readyz</a> 就绪状态 readiness</li>"
        "<li><a href='/metrics'>/metrics</a> 监控指标 Prometheus metrics</li></ul>"
        "</body></html>"
    )
    return web.Response(text=body, content_type="text/html")


async def metrics_page(request: web.Request) -> web.Response:
    """Prometheus text format; the outbox numbers are read from the database now."""
    try:
        await metrics.refresh_from_db(request.app[DB_KEY])
    except Exception as exc:  # still serve the in-process numbers
        log.warning("metrics: database numbers not read (%s)", type(exc).__name__)
    body, content_type = metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": content_type})


def _callback_outcome(status: int, bound: str | None) -> str:
    if bound:
        return bound
    if status < 300:
        return "ok"
    if status in (400, 403, 405, 413):
        return "refused"
    if status == 503:
        return "unavailable"
    return "error"


@web.middleware
async def request_log(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """One log line per request with its context (message key and user id once known); the
    callback's outcome counted for /metrics. Health and metrics polls are logged at DEBUG."""
    started = time.perf_counter()
    with logsetup.request_context() as context:
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            elapsed = time.perf_counter() - started
            if request.path == "/wecom/callback":
                outcome = _callback_outcome(status, context.pop("outcome", None))
                metrics.count_callback(outcome)
            quiet = request.path in ("/healthz", "/readyz", "/metrics")
            level = logging.DEBUG if quiet else logging.INFO
            if log.isEnabledFor(level):  # (the context's copy is per request)
                log.log(
                    level,
                    "%s %s %s %.0fms",
                    request.method,
                    request.path,
                    status,
                    elapsed * 1000,
                    extra={"context": dict(context)},
                )


class TimedHandler:
    """The handler, measured for /metrics, with the message's key and sender in the log context.
    Other attributes are the wrapped handler's (e.g. `handler.deps`)."""

    def __init__(self, handler: Handler) -> None:
        self.wrapped = handler

    async def __call__(self, msg: InboundMessage) -> Reply | None:
        logsetup.bind(key=msg.key, user=msg.sender)
        started = time.perf_counter()
        try:
            return await self.wrapped(msg)
        except Exception:
            metrics.HANDLER_FAILURES.inc()
            raise
        finally:
            metrics.HANDLER_SECONDS.observe(time.perf_counter() - started)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


# --- health --------------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """The process is up and serving (no dependencies checked)."""
    return web.json_response({"status": "ok"})


async def migration_state(db: Any) -> tuple[bool, str]:
    """(current?, detail): the database answers and its Alembic revision is the newest head."""
    if await db.is_current():
        return True, "migrations current"
    return False, f"migrations pending (database at {sorted(await db.current_revisions())})"


async def readyz(request: web.Request) -> web.Response:
    """Ready to take traffic: database reachable, migrations current and writes accepted within
    the reply budget (503 otherwise)."""
    db = request.app[DB_KEY]
    try:
        ok, detail = await migration_state(db)
    except Exception as exc:
        log.warning("readyz: database check failed: %s", type(exc).__name__)
        return web.json_response(
            {"status": "unavailable", "database": f"unreachable ({type(exc).__name__})"},
            status=503,
        )
    if ok:
        try:
            await db.check_writable(request.app[BUDGET_KEY])
        except Exception as exc:
            log.warning("readyz: database refuses writes: %s", exc)
            ok, detail = False, f"refuses writes ({type(exc).__name__})"
    body = {"status": "ok" if ok else "unavailable", "database": detail}
    if ok:
        from bot.maintenance import holiday_status
        from scoring.periods import TZ

        gap = await holiday_status(db, datetime.now(TZ).date())
        if gap:
            body["holidays"] = gap  # a detail, not a reason to take the instance out of service
    return web.json_response(body, status=200 if ok else 503)


# --- assembly ------------------------------------------------------------------------------------


async def freeze_startup_objects(_app: web.Application) -> None:
    """The last start-up step: everything alive once the app has started (modules, schemes,
    phrasing tables, the app itself) is moved out of the cyclic collector's reach, so its full
    collections no longer walk them while requests wait: they made the callback's latency tail
    (p99 117–165 → 71–90 ms with 50 senders back to back; docs/benchmarks.md). What is made
    while serving is collected as before."""
    gc.collect()
    gc.freeze()


def serving(app: web.Application) -> web.Application:
    """The app as a serving process runs it (`kaohe serve`, the bench's server): with
    `freeze_startup_objects` as its last start-up step. Not for apps made in tests: many apps in
    one process would each collect and freeze."""
    app.on_startup.append(freeze_startup_objects)
    return app


def create_app(
    *,
    db: Any,
    handler: Handler,
    callback: CallbackConfig | None = None,
    channel: Channel | None = None,
    fetch_media: MediaFetcher | None = None,
    upgrade_on_start: bool = False,
    now: Callable[[], datetime] | None = None,
) -> web.Application:
    """The web app from ready parts. Without `callback`, /wecom/callback answers 503. `now` is
    the assessment clock the pipeline stamps receipt with (tests move it)."""
    app = web.Application(middlewares=[request_log])
    app[DB_KEY] = db
    app[CHANNEL_KEY] = channel
    app[BUDGET_KEY] = callback.reply_budget if callback is not None else 3.0
    timed = TimedHandler(handler)
    pipeline = InboundPipeline(db, timed, now=now) if now else InboundPipeline(db, timed)
    app[PIPELINE_KEY] = pipeline
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_page)
    if callback is not None:
        wecom = WeComCallback(callback, pipeline)
        pipeline.add_port(Port(CHANNEL, wecom.parse, channel, fetch_media))
        wecom.add_routes(app)
        app[CALLBACK_KEY] = wecom
    else:

        async def not_configured(request: web.Request) -> web.Response:
            return web.Response(status=503, text="WeCom callback is not configured")

        app.router.add_route("*", "/wecom/callback", not_configured)

    async def start_pipeline(_app: web.Application) -> None:
        await pipeline.start()

    async def stop_pipeline(_app: web.Application) -> None:
        await pipeline.stop()

    if upgrade_on_start:

        async def upgrade(_app: web.Application) -> None:
            if await db.is_current():  # checked without Alembic, which then stays unloaded
                return
            log.info("applying database migrations")
            await db.upgrade()

        app.on_startup.append(upgrade)
    app.on_startup.append(start_pipeline)  # after the migrations
    app.on_cleanup.append(stop_pipeline)
    return app


async def not_ready_handler(msg: InboundMessage) -> Reply | None:
    """Used when no handler could be loaded: say so instead of staying silent."""
    return TextReply("考核机器人正在部署中，暂时无法处理消息，请稍后再试。")


def run_periodically(
    work: Callable[[], Awaitable[None]], seconds: float
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context running `work` every `seconds` while the app serves (the handler's
    periodic part, e.g. announcing expired drafts); a failing run is logged, the next one runs."""

    async def context(_app: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                await asyncio.sleep(seconds)
                try:
                    await work()
                except Exception:
                    log.exception("periodic handler work failed")

        task = asyncio.create_task(loop())
        yield
        task.cancel()

    return context


def build_app(
    settings: Settings,
    *,
    handler_factory: HandlerFactory | None = None,
    media_dir: str | Path | None = None,
    reply_budget: float | None = None,
    upgrade_on_start: bool = True,
) -> web.Application:
    """Everything from settings. `handler_factory(db=..., channel=..., settings=...)` makes the
    message handler; missing WeCom settings are logged and the rest still starts."""
    from storage.db import Database

    db = Database(settings.database_url)
    missing = settings.missing_wecom()
    if missing:
        log.warning("WeCom not fully configured, missing: %s", ", ".join(missing))

    # the long connections (智能机器人, DingTalk); sends go to each user's platform
    longconn = build_long_connections(
        settings,
        db,
        media_dir=media_dir if media_dir is not None else settings.media_dir,
        reply_budget=reply_budget if reply_budget is not None else settings.reply_budget,
    )

    client: WeComClient | None = None
    webhook: WebhookClient | None = None
    channel: WeComChannel | None = None
    secret = settings.secret("wecom_secret")
    if settings.wecom_corp_id and secret and settings.wecom_agent_id is not None:
        client = WeComClient(
            corp_id=settings.wecom_corp_id,
            secret=secret,
            agent_id=settings.wecom_agent_id,
            api_base=settings.wecom_api_base,
            media_dir=media_dir if media_dir is not None else settings.media_dir,
        )
        webhook_key = settings.secret("wecom_webhook_key")
        if webhook_key:
            webhook = WebhookClient(webhook_key, api_base=settings.wecom_api_base)
        channel = WeComChannel(client, webhook)
        log.info("WeCom active sending: on (agent %s)", settings.wecom_agent_id)
    elif longconn.enabled:
        log.info("WeCom app sending: off; sends go through the long connection(s)")
    else:
        log.warning(
            "WeCom active sending: OFF (needs WECOM_CORP_ID, WECOM_SECRET, WECOM_AGENT_ID); "
            "late replies and reminders cannot be delivered"
        )

    callback: CallbackConfig | None = None
    token, aes_key = settings.secret("wecom_token"), settings.secret("wecom_encoding_aes_key")
    if token and aes_key and settings.wecom_corp_id:
        callback = CallbackConfig(
            token=token,
            encoding_aes_key=aes_key,
            corp_id=settings.wecom_corp_id,
            agent_id=settings.wecom_agent_id,
            reply_budget=reply_budget if reply_budget is not None else settings.reply_budget,
        )
        log.info("WeCom callback: on at /wecom/callback")
    else:
        log.warning(
            "WeCom callback: OFF (needs WECOM_TOKEN, WECOM_ENCODING_AES_KEY, WECOM_CORP_ID); "
            "/wecom/callback answers 503"
        )

    routed: Channel | None = channel
    if longconn.enabled:
        routed = ChannelRouter(wecom=channel or longconn.wecom_bot, dingtalk=longconn.dingtalk)
    if callback is None and not longconn.enabled:
        log.warning("no channel receives messages: configure the callback or a long connection")

    handler: Handler = not_ready_handler
    if handler_factory is not None:
        handler = handler_factory(db=db, channel=routed, settings=settings)
    else:
        log.warning("no message handler loaded: every message gets a 'not ready' answer")

    app = create_app(
        db=db,
        handler=handler,
        callback=callback,
        channel=channel,
        fetch_media=client.download_media if client is not None else None,
        upgrade_on_start=upgrade_on_start,
    )
    add_dashboard(app, db, settings, routed)  # /dashboard: admins' session (bot/dashboard/)
    periodic = getattr(handler, "periodic", None)
    if periodic is not None and routed is not None:  # e.g. drafts that expire are announced
        seconds = float(getattr(handler, "periodic_seconds", 60.0))
        app.cleanup_ctx.append(run_periodically(periodic, seconds))
    if longconn.enabled:
        longconn.attach(app[PIPELINE_KEY])
        assert routed is not None
        app[PIPELINE_KEY].route_others(routed)
        app.on_startup.append(lambda _app: longconn.start())
        app.on_cleanup.insert(0, lambda _app: longconn.stop())  # stop receiving first

    if routed is not None:
        from reminders import scheduler as reminder_scheduler

        async def start_reminders(_app: web.Application) -> None:
            reminder_scheduler.start(
                db,
                routed,
                admins=settings.admins,
                policy=reminder_policy(settings),
                timezone=settings.timezone,
                on_tick=metrics.count_tick,
                on_dispatch=metrics.count_dispatch,
            )

        async def stop_reminders(_app: web.Application) -> None:
            await reminder_scheduler.stop()

        app.on_startup.append(start_reminders)
        app.on_cleanup.append(stop_reminders)  # before `close` disposes of the database
    else:
        log.warning("reminders: OFF (no channel to send them through)")

    async def start_maintenance(app_: web.Application) -> None:
        from bot.maintenance import daily_loop

        app_[MAINTENANCE_KEY] = asyncio.ensure_future(
            daily_loop(
                db,
                media_dir=Path(media_dir) if media_dir is not None else settings.media_dir,
                retention_years=settings.retention_years,
            )
        )

    async def stop_maintenance(app_: web.Application) -> None:
        task = app_.get(MAINTENANCE_KEY)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.on_startup.append(start_maintenance)
    app.on_cleanup.insert(0, stop_maintenance)

    async def close(_app: web.Application) -> None:
        for part in (client, webhook):
            if part is not None:
                await part.close()
        await db.dispose()

    app.on_cleanup.append(close)
    return app
