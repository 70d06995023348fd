"""The `Channel` (handlers/channel.py) over the 智能机器人 connection: `aibot_send_msg` to a user
(the single chat's chatid is the userid), files uploaded over the same connection first
(`aibot_upload_media_init/chunk/finish`, 512 KB chunks). Without a live connection a send raises
`ChannelError`, so the outbox tries again later."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from pathlib import Path
from typing import Any

from bot.wecom.cards import card_as_markdown, template_card
from bot.wecom.chunks import ROBOT_MARKDOWN_LIMIT, split_utf8
from bot.wecombot import frames
from bot.wecombot.connection import NotConnected, RequestFailed, WeComBotConnection
from handlers.channel import ChannelError
from handlers.types import Card

log = logging.getLogger(__name__)

CHUNK = 512 * 1024
MAX_FILE = 20 * 1024 * 1024
CONNECT_WAIT = 5.0  # seconds a send waits for a connection that is being re-established


class WeComBotChannel:
    def __init__(self, conn: WeComBotConnection, *, connect_wait: float = CONNECT_WAIT) -> None:
        self.conn = conn
        self.connect_wait = connect_wait

    async def _call(self, cmd: str, body: dict[str, Any]) -> dict[str, Any]:
        if not self.conn.subscribed.is_set():
            try:
                await asyncio.wait_for(self.conn.subscribed.wait(), self.connect_wait)
            except TimeoutError:
                raise ChannelError("企业微信智能机器人未连接") from None
        try:
            return (await self.conn.request(cmd, body)).body
        except (NotConnected, RequestFailed, TimeoutError) as exc:
            raise ChannelError(f"{cmd}: {exc or type(exc).__name__}") from exc

    async def _send(self, user: str, body: dict[str, Any]) -> None:
        for one in (u for u in user.split("|") if u):
            await self._call(frames.SEND, {"chatid": one, **body})

    async def send_text(self, user: str, text: str) -> None:
        await self.send_markdown(user, text)

    async def send_markdown(self, user: str, markdown: str) -> None:
        for piece in split_utf8(markdown, ROBOT_MARKDOWN_LIMIT):
            await self._send(user, {"msgtype": "markdown", "markdown": {"content": piece}})

    async def send_file(self, user: str, path: str | Path) -> None:
        path = Path(path)
        data = await asyncio.to_thread(path.read_bytes)
        if not data or len(data) > MAX_FILE:
            raise ChannelError(f"file {path.name}: {len(data)} bytes (1 byte to 20 MB)")
        media_id = await self.upload(data, path.name)
        await self._send(user, {"msgtype": "file", "file": {"media_id": media_id}})

    async def upload(self, data: bytes, filename: str, kind: str = "file") -> str:
        chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
        init = await self._call(
            frames.UPLOAD_INIT,
            {
                "type": kind,
                "filename": filename,
                "total_size": len(data),
                "total_chunks": len(chunks),
                "md5": hashlib.md5(data).hexdigest(),  # the integrity check WeCom asks for
            },
        )
        upload_id = str(init.get("upload_id") or "")
        if not upload_id:
            raise ChannelError("aibot_upload_media_init: no upload_id")
        for index, chunk in enumerate(chunks):
            await self._call(
                frames.UPLOAD_CHUNK,
                {
                    "upload_id": upload_id,
                    "chunk_index": index,
                    "base64_data": base64.b64encode(chunk).decode(),
                },
            )
        done = await self._call(frames.UPLOAD_FINISH, {"upload_id": upload_id})
        media_id = str(done.get("media_id") or "")
        if not media_id:
            raise ChannelError("aibot_upload_media_finish: no media_id")
        return media_id

    async def send_card(self, user: str, card: Card) -> str | None:
        if not card.buttons and not card.url:
            await self.send_markdown(user, card_as_markdown(card))
            return None
        await self._send(user, {"msgtype": "template_card", "template_card": template_card(card)})
        return None  # a click comes back as a template_card_event, answered in-line

    async def update_card(self, user: str, response_code: str, replace_name: str) -> None:
        log.info("wecom bot: cards are updated in-line only (within 5 s of the click)")

    async def announce(self, markdown: str) -> None:
        log.info("wecom bot: no group to announce to; not sent")
