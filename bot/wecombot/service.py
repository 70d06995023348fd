"""The WeCom 智能机器人 channel at work: its one connection (held by one instance, see
bot/longconn/supervisor.py) and what happens to each push — recorded and handled by the inbound
pipeline, answered in-line on the push's req_id, or later through the outbox (aibot_send_msg)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp

from bot.inbound import InboundPipeline, Port
from bot.longconn import texts
from bot.longconn.backoff import Backoff
from bot.longconn.supervisor import Supervisor
from bot.wecombot import frames
from bot.wecombot.channel import WeComBotChannel
from bot.wecombot.connection import WeComBotConnection
from bot.wecombot.frames import Frame, FrameError
from bot.wecombot.media import MediaFetcher
from bot.wecombot.responder import Stream, can_inline, respond
from handlers.types import InboundMessage, TextReply
from storage.db import Database
from storage.leases import Lease

log = logging.getLogger(__name__)

ANSWERED_EVENTS = frozenset({"enter_chat", "template_card_event"})
EVENT_BUDGET = 3.0  # seconds: welcome and card updates must go out within WeCom's 5 s


class WeComBotService:
    def __init__(
        self,
        *,
        pipeline: InboundPipeline | None,
        db: Database | None,
        url: str,
        bot_id: str,
        secret: str,
        budget: float = 20.0,
        working_after: float = 1.5,
        poll: float = 2.0,
        backoff: Backoff | None = None,
        session: aiohttp.ClientSession | None = None,
        **conn_options: Any,
    ) -> None:
        self.pipeline = pipeline
        self.budget, self.working_after = budget, working_after
        self.conn = WeComBotConnection(
            url=url,
            bot_id=bot_id,
            secret=secret,
            on_push=self.on_push,
            session=session,
            **conn_options,
        )
        lease = Lease(db, f"wecom-bot:{bot_id}") if db is not None else None
        self.supervisor = Supervisor(self.conn, lease, backoff=backoff, poll=poll)
        self.channel = WeComBotChannel(self.conn)
        self._in_hand: dict[str, Stream] = {}  # the bubble of each message being answered here
        self.answered = 0

    def port(self, media: MediaFetcher | None) -> Port:
        """What the pipeline needs of this channel (recovery, late replies, media)."""
        return Port(frames.CHANNEL, frames.parse_recorded, self.channel, media)

    async def start(self) -> None:
        self.supervisor.start()

    async def stop(self) -> None:
        await self.supervisor.stop()
        await self.conn.close()

    async def on_push(self, frame: Frame) -> None:
        try:
            msg = frames.parse_push(frame)
        except FrameError as exc:
            log.warning("wecom bot: push %s refused: %s", frame.req_id, exc)
            return
        if msg.is_event and msg.event not in ANSWERED_EVENTS:
            log.info("wecom bot: event %s of %s not handled", msg.event, msg.sender)
            return
        # A frame delivered again while its first is in hand here shares the first's bubble
        # (same req_id): whichever of the two gets the answer shows it there, once.
        first = self._in_hand.get(msg.key)
        owner = first is None
        if first is not None and first.req_id == frame.req_id:
            stream = first
        else:
            stream = Stream(self.conn, frame.req_id)
        if owner:
            self._in_hand[msg.key] = stream
        try:
            await self._answer(msg, frame, stream, owner)
        finally:
            if owner:
                self._in_hand.pop(msg.key, None)

    async def _answer(self, msg: InboundMessage, frame: Frame, stream: Stream, owner: bool) -> None:
        assert self.pipeline is not None, "attach the pipeline before starting"
        working = (
            asyncio.ensure_future(self._working(stream)) if owner and not msg.is_event else None
        )
        try:
            accepted = await self.pipeline.accept(
                msg,
                frames.recorded(frame),
                channel=frames.CHANNEL,
                budget=EVENT_BUDGET if msg.is_event else self.budget,
                can_inline=can_inline(msg),
            )
        except Exception:
            log.exception("wecom bot: %s could not be recorded", msg.key)
            return
        finally:
            if working is not None:
                await self._settle(working, stream)
        if accepted.repeat:  # its answer went out in-line (WeCom took it) or through the outbox
            log.info("wecom bot: repeat delivery of %s (answered before)", msg.key)
            if owner and stream.started:  # the other delivery may still answer in this bubble
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stream.finished.wait(), self.budget)
                await self._quietly(stream, texts.LATER)
            return
        if accepted.reply is not None:
            try:
                await respond(self.conn, msg, accepted.reply, stream)
                self.answered += 1
            except Exception as exc:
                log.warning(
                    "wecom bot: in-line answer to %s failed (%s); sending it later", msg.key, exc
                )
                await self.pipeline.send_actively(msg, frames.CHANNEL, accepted.reply)
            return
        if msg.event == "enter_chat" and accepted.reply is None:
            with contextlib.suppress(Exception):
                await respond(self.conn, msg, TextReply(texts.WELCOME), stream)
            return
        await self._quietly(stream, texts.LATER)

    async def _working(self, stream: Stream) -> None:
        await asyncio.sleep(self.working_after)
        await stream.show(texts.WORKING, finish=False)

    async def _settle(self, working: asyncio.Task[None], stream: Stream) -> None:
        """Cancel the 正在处理 bubble if it is not out yet; otherwise let its frame finish."""
        if not stream.sending and not working.done():
            working.cancel()
        with contextlib.suppress(BaseException):
            await working

    async def _quietly(self, stream: Stream, text: str) -> None:
        """Close a started bubble that will not carry the answer."""
        if stream.started and not stream.finished.is_set():
            with contextlib.suppress(Exception):
                await stream.show(text, finish=True)
