"""The long-connection channels from settings: which run (WECOM_BOT_ID + WECOM_BOT_SECRET for the
智能机器人, DINGTALK_CLIENT_ID + DINGTALK_CLIENT_SECRET for DingTalk), their media downloads,
their active-send channels for the router, and their ports on the app's one inbound pipeline."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.channel import DingTalkChannel
from bot.dingtalk.service import DingTalkMedia, DingTalkService
from bot.inbound import InboundPipeline, Port
from bot.settings import Settings
from bot.wecombot.channel import WeComBotChannel
from bot.wecombot.media import MediaFetcher
from bot.wecombot.service import WeComBotService
from storage.db import Database

log = logging.getLogger(__name__)

WECOM_BOT_BUDGET = 20.0  # seconds: the bubble says 正在处理 meanwhile (streams live up to 6 min)


@dataclass
class LongConnections:
    services: list[WeComBotService | DingTalkService] = field(default_factory=list)
    ports: list[Port] = field(default_factory=list)
    wecom_bot: WeComBotChannel | None = None
    dingtalk: DingTalkChannel | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.services)

    def attach(self, pipeline: InboundPipeline) -> None:
        """Hand every message to `pipeline`, which reads, fetches and sends through our ports."""
        for service in self.services:
            service.pipeline = pipeline
        for port in self.ports:
            pipeline.add_port(port)

    async def start(self) -> None:
        for service in self.services:
            await service.start()

    async def stop(self) -> None:
        for service in self.services:
            await service.stop()
        for close in self.closers:
            await close()


def build_long_connections(
    settings: Settings, db: Database, *, media_dir: str | Path, reply_budget: float
) -> LongConnections:
    conns = LongConnections()
    if settings.wecom_bot_enabled:
        bot_secret = settings.secret("wecom_bot_secret")
        assert settings.wecom_bot_id and bot_secret
        fetcher = MediaFetcher(media_dir)
        bot = WeComBotService(
            pipeline=None,
            db=db,
            url=settings.wecom_bot_ws_url,
            bot_id=settings.wecom_bot_id,
            secret=bot_secret,
            budget=max(reply_budget, WECOM_BOT_BUDGET),
        )
        conns.services.append(bot)
        conns.ports.append(bot.port(fetcher))
        conns.wecom_bot = bot.channel
        conns.closers.append(fetcher.close)
        log.info("WeCom 智能机器人 long connection: on (%s)", settings.wecom_bot_ws_url)
    else:
        log.info("WeCom 智能机器人 long connection: off (needs WECOM_BOT_ID, WECOM_BOT_SECRET)")
    if settings.dingtalk_enabled:
        app_secret = settings.secret("dingtalk_client_secret")
        assert settings.dingtalk_client_id and app_secret
        api = DingTalkApi(
            client_id=settings.dingtalk_client_id,
            client_secret=app_secret,
            api_base=settings.dingtalk_api_base,
            oapi_base=settings.dingtalk_oapi_base,
        )
        robot = settings.dingtalk_robot_code or settings.dingtalk_client_id
        ding = DingTalkService(pipeline=None, api=api, db=db, robot_code=robot, budget=reply_budget)
        conns.services.append(ding)
        conns.ports.append(ding.port(DingTalkMedia(api, robot, media_dir)))
        conns.dingtalk = ding.channel
        conns.closers.append(api.close)
        log.info("DingTalk Stream: on (robot %s)", robot)
    else:
        log.info("DingTalk Stream: off (needs DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET)")
    return conns
