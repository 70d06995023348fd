"""The DingTalk channel at work: its one Stream connection (held by one instance, see
bot/longconn/supervisor.py) and what happens to each robot message — recorded by the inbound
pipeline (the frame is ACKed only then), handled once, answered in-line through the message's
session webhook, or later through the outbox (the robot's one-to-one send)."""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

from bot.dingtalk import frames
from bot.dingtalk.api import DingTalkApi, DingTalkError
from bot.dingtalk.channel import DingTalkChannel, title_of
from bot.dingtalk.frames import Frame, FrameError
from bot.dingtalk.stream import Ack, DingTalkStream
from bot.inbound import InboundPipeline, Port
from bot.longconn.backoff import Backoff
from bot.longconn.supervisor import Supervisor
from bot.media_store import download_name, store_bytes
from bot.wecom.chunks import utf8_len
from bot.wecom.client import StoredMedia
from handlers.types import InboundMessage, MarkdownReply, Reply, TextReply
from reminders import texts as reminder_texts
from storage.db import Database
from storage.leases import Lease

log = logging.getLogger(__name__)

WEBHOOK_LIMIT = 4000  # bytes of text answered through the session webhook in one message
MAX_MEDIA_BYTES = 20 * 1024 * 1024
# the buttons of our action cards send their own text back: read it as the button's click
BUTTONS = {text: key for text, key in (reminder_texts.BUTTON_START, reminder_texts.BUTTON_PROGRESS)}


def as_click(msg: InboundMessage) -> InboundMessage:
    key = BUTTONS.get(msg.content.strip()) if msg.msg_type == "text" else None
    if key is None:
        return msg
    return dataclasses.replace(msg, msg_type="event", event="template_card_event", event_key=key)


def webhook_body(reply: Reply) -> dict[str, Any] | None:
    if isinstance(reply, TextReply):
        return {"msgtype": "text", "text": {"content": reply.text}}
    if isinstance(reply, MarkdownReply):
        return {
            "msgtype": "markdown",
            "markdown": {"title": title_of(reply.markdown), "text": reply.markdown},
        }
    return None


def can_inline(msg: InboundMessage, now: float) -> Any:
    def check(reply: Reply) -> bool:
        body = webhook_body(reply)
        if body is None or not msg.raw.get("session_webhook"):
            return False
        text = reply.text if isinstance(reply, TextReply) else getattr(reply, "markdown", "")
        if not text.strip() or utf8_len(text) > WEBHOOK_LIMIT:
            return False
        expires = msg.raw.get("webhook_expires", "")
        return not expires.isdigit() or int(expires) / 1000 > now + 5

    return check


class DingTalkMedia:
    """`await media(downloadCode)` → the file, kept in the media store (a `Port`'s fetch_media)."""

    def __init__(self, api: DingTalkApi, robot_code: str, media_dir: str | Path) -> None:
        self.api, self.robot_code, self.media_dir = api, robot_code, Path(media_dir)

    async def __call__(self, code: str) -> StoredMedia:
        url = await self.api.download_url(self.robot_code, code)
        async with self.api.session().get(url) as resp:
            if resp.status != 200:
                raise DingTalkError("download", resp.status, "")
            data = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > MAX_MEDIA_BYTES:
                    raise DingTalkError("download", 200, "file too large")
            kind = resp.headers.get("Content-Type", "")
            name = download_name(resp.headers)
        return await store_bytes(self.media_dir, bytes(data), name, kind)


def message_of(frame: Frame) -> InboundMessage:
    """The message a CALLBACK frame carries (FrameError when it carries none we can read)."""
    data = frame.json()
    if frame.topic == frames.TOPIC_CARD:
        return frames.parse_card_callback(frame, data)
    return as_click(frames.parse_robot_message(data))


def recorded(frame: Frame) -> str:
    """The text kept with the recorded message: the frame itself, read again in recovery."""
    return json.dumps(
        {"type": frame.type, "headers": frame.headers, "data": frame.data}, ensure_ascii=False
    )


def parse_recorded(raw: str) -> InboundMessage:
    return message_of(frames.decode(raw))


class DingTalkService:
    def __init__(
        self,
        *,
        pipeline: InboundPipeline | None,
        api: DingTalkApi,
        robot_code: str = "",
        db: Database | None,
        budget: float = 3.0,
        poll: float = 2.0,
        backoff: Backoff | None = None,
        clock: Any = time.time,
        **stream_options: Any,
    ) -> None:
        self.pipeline, self.api, self.budget, self.clock = pipeline, api, budget, clock
        self.stream = DingTalkStream(api, self.on_callback, **stream_options)
        lease = Lease(db, f"dingtalk:{api.client_id}") if db is not None else None
        self.supervisor = Supervisor(self.stream, lease, backoff=backoff, poll=poll)
        self.channel = DingTalkChannel(api, robot_code or api.client_id)
        self.answered = 0

    def port(self, media: DingTalkMedia | None) -> Port:
        """What the pipeline needs of this channel (recovery, late replies, media)."""
        return Port(frames.CHANNEL, parse_recorded, self.channel, media)

    async def start(self) -> None:
        self.supervisor.start()

    async def stop(self) -> None:
        await self.supervisor.stop()
        await self.stream.drain()

    async def on_callback(self, frame: Frame, ack: Ack) -> None:
        assert self.pipeline is not None, "attach the pipeline before starting"
        try:
            msg = message_of(frame)
        except FrameError as exc:
            log.warning("dingtalk: frame %s refused: %s", frame.message_id, exc)
            await ack()  # never deliverable: do not have it sent again and again
            return
        try:
            accepted = await self.pipeline.accept(
                msg,
                recorded(frame),
                channel=frames.CHANNEL,
                budget=self.budget,
                can_inline=can_inline(msg, self.clock()),
                on_recorded=ack,
            )
        except Exception:
            log.exception(
                "dingtalk: %s could not be recorded (not ACKed: DingTalk sends it again)", msg.key
            )
            return
        if accepted.repeat:  # answered through the webhook, or through the outbox
            log.info("dingtalk: repeat delivery of %s (answered before)", msg.key)
            return
        if accepted.reply is None:
            return
        body = webhook_body(accepted.reply)
        try:
            assert body is not None
            await self.api.webhook(msg.raw["session_webhook"], body)
            self.answered += 1
        except Exception as exc:
            log.warning(
                "dingtalk: in-line answer to %s failed (%s); sending it later", msg.key, exc
            )
            await self.pipeline.send_actively(msg, frames.CHANNEL, accepted.reply)
