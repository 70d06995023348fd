"""The long-connection channels from settings: which run (WECOM_BOT_ID + WECOM_BOT_SECRET for the
智能机器人, DINGTALK_CLIENT_ID + DINGTALK_CLIENT_SECRET for DingTalk), the one inbound pipeline
they share, their media downloads, and their active-send channels for the router."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.channel import DingTalkChannel
from bot.dingtalk.frames import KEY_PREFIX as DINGTALK_KEY
from bot.dingtalk.service import DingTalkMedia, DingTalkService
from bot.longconn.pipeline import InboundPipeline
from bot.settings import Settings
from bot.wecombot.channel import WeComBotChannel
from bot.wecombot.frames import KEY_PREFIX as WECOM_BOT_KEY
from bot.wecombot.media import MediaFetcher
from bot.wecombot.service import WeComBotService
from handlers.types import Handler, InboundMessage
from storage.db import Database

log = logging.getLogger(__name__)

WECOM_BOT_BUDGET = 20.0  # seconds: the bubble says 正在处理 meanwhile (streams live up to 6 min)


@dataclass
class LongConnections:
    pipeline: InboundPipeline
    wecom_bot: WeComBotChannel | None = None
    dingtalk: DingTalkChannel | None = None
    services: list[WeComBotService | DingTalkService] = field(default_factory=list)
    closers: list[Any] = field(default_factory=list)

    @property
    def enabled(self) -> bool:
        return bool(self.services)

    async def start(self) -> None:
        for service in self.services:
            await service.start()

    async def stop(self) -> None:
        for service in self.services:
            await service.stop()
        await self.pipeline.drain()
        for close in self.closers:
            await close()


def build_long_connections(
    settings: Settings,
    db: Database,
    handler: Handler,
    *,
    media_dir: str | Path,
    reply_budget: float,
) -> LongConnections:
    preparers: dict[str, Any] = {}

    async def prepare(msg: InboundMessage) -> InboundMessage:
        for prefix, fetch in preparers.items():
            if msg.key.startswith(prefix):
                return await fetch(msg)
        return msg

    pipeline = InboundPipeline(db=db, handler=handler, prepare=prepare)
    conns = LongConnections(pipeline)
    if settings.wecom_bot_enabled:
        assert settings.wecom_bot_id and settings.wecom_bot_secret
        fetcher = MediaFetcher(media_dir)
        preparers[WECOM_BOT_KEY] = fetcher
        service = WeComBotService(
            pipeline=pipeline,
            db=db,
            url=settings.wecom_bot_ws_url,
            bot_id=settings.wecom_bot_id,
            secret=settings.wecom_bot_secret,
            budget=max(reply_budget, WECOM_BOT_BUDGET),
        )
        conns.services.append(service)
        conns.wecom_bot = WeComBotChannel(service.conn)
        conns.closers.append(fetcher.close)
        log.info("WeCom 智能机器人 long connection: on (%s)", settings.wecom_bot_ws_url)
    else:
        log.info("WeCom 智能机器人 long connection: off (needs WECOM_BOT_ID, WECOM_BOT_SECRET)")
    if settings.dingtalk_enabled:
        assert settings.dingtalk_client_id and settings.dingtalk_client_secret
        api = DingTalkApi(
            client_id=settings.dingtalk_client_id,
            client_secret=settings.dingtalk_client_secret,
            api_base=settings.dingtalk_api_base,
            oapi_base=settings.dingtalk_oapi_base,
        )
        robot = settings.dingtalk_robot_code or settings.dingtalk_client_id
        preparers[DINGTALK_KEY] = DingTalkMedia(api, robot, media_dir)
        conns.services.append(
            DingTalkService(pipeline=pipeline, api=api, db=db, budget=reply_budget)
        )
        conns.dingtalk = DingTalkChannel(api, robot)
        conns.closers.append(api.close)
        log.info("DingTalk Stream: on (robot %s)", robot)
    else:
        log.info("DingTalk Stream: off (needs DINGTALK_CLIENT_ID, DINGTALK_CLIENT_SECRET)")
    return conns
