"""INTERIM: the channel-agnostic inbound path as the long-connection channels need it, until the
shared `bot/inbound.py` lands (same contract: `accept(msg, raw, channel=, budget=, can_inline=)`
→ `Accepted(repeat, reply, inline)`; then this module goes and the channels import that one).

What `accept` guarantees, in order:
1. the message is recorded under `msg.key` (durably) before anything else; a repeat returns
   `repeat=True` with the stored in-line reply, and is never handled again;
2. `on_recorded` runs (DingTalk ACKs its frame there: acknowledged only once recorded);
3. one user's messages are handled one at a time, in arrival order;
4. a reply ready within `budget` seconds that `can_inline` accepts is stored as in-line and
   returned with `inline=True` (the channel sends it); any other reply is stored and written to
   the outbox with its `channel`, for the dispatcher to send (also when it is ready only later).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.wecom.callback import _passive_reply as stored_inline_reply
from bot.wecom.callback import reply_to_json
from handlers.types import (
    CardReply,
    FileReply,
    Handler,
    InboundMessage,
    MarkdownReply,
    Reply,
    TextReply,
)
from storage.db import Database
from storage.inbound import record_inbound, store_reply
from storage.outbox import send_later

log = logging.getLogger(__name__)

Prepare = Callable[[InboundMessage], Awaitable[InboundMessage]]


@dataclass(frozen=True)
class Accepted:
    repeat: bool
    reply: Reply | None
    inline: bool


def outbox_payload(reply: Reply, recipient: str, channel: str) -> dict[str, Any] | None:
    """The outbox payload of a reply not sent in-line (reminders/dispatch.py reads it)."""
    base: dict[str, Any] = {"to": [recipient], "channel": channel}
    if isinstance(reply, TextReply):
        return {**base, "type": "text", "text": reply.text}
    if isinstance(reply, MarkdownReply):
        return {**base, "type": "markdown", "markdown": reply.markdown}
    if isinstance(reply, FileReply):
        return {**base, "type": "text", "text": reply.text} if reply.text else None
    if isinstance(reply, CardReply):
        card = reply.card
        return {
            **base,
            "type": "card",
            "card": {
                "title": card.title,
                "description": card.description,
                "task_id": card.task_id,
                "url": card.url,
                "buttons": [{"text": b.text, "key": b.key} for b in card.buttons],
            },
        }
    return None  # a card update is only meaningful in-line


class InboundPipeline:
    def __init__(
        self,
        *,
        db: Database,
        handler: Handler,
        prepare: Prepare | None = None,
        kick: Callable[[], Any] | None = None,
        send_file: Callable[[str, str], Awaitable[None]] | None = None,
    ) -> None:
        self.db, self.handler, self.prepare = db, handler, prepare
        self.kick = kick  # wakes the outbox dispatcher after a row was written
        self.send_file = send_file
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task[Any]] = set()

    async def accept(
        self,
        msg: InboundMessage,
        raw: str,
        *,
        channel: str,
        budget: float,
        can_inline: Callable[[Reply], bool],
        on_recorded: Callable[[], Awaitable[None]] | None = None,
    ) -> Accepted:
        record = await record_inbound(
            self.db,
            key=msg.key,
            sender=msg.sender,
            msg_type=msg.msg_type,
            received_at=datetime.now(UTC),
            content=raw,
        )
        if on_recorded is not None:
            await on_recorded()
        if not record.new:
            return Accepted(True, stored_inline_reply(record.reply), False)
        task = self._spawn(self._handle(msg))
        done, _ = await asyncio.wait({task}, timeout=budget)
        if not done:
            self._spawn(self._later(msg, task, channel))
            return Accepted(False, None, False)
        reply = task.result()
        if reply is None:
            await store_reply(self.db, msg.key, reply_to_json(None, "none"))
            return Accepted(False, None, False)
        if can_inline(reply):
            await store_reply(self.db, msg.key, reply_to_json(reply, "passive"))
            return Accepted(False, reply, True)
        await self.send_later(msg, reply, channel=channel)
        return Accepted(False, reply, False)

    async def send_later(self, msg: InboundMessage, reply: Reply, *, channel: str) -> None:
        """Store `reply` as sent actively and write its outbox row (also the fallback when an
        in-line send failed: the connection dropped between the answer and its sending)."""
        await store_reply(self.db, msg.key, reply_to_json(reply, "active"))
        payload = outbox_payload(reply, msg.sender, channel)
        if payload is not None:
            await send_later(self.db, msg.sender, payload)
            if self.kick is not None:
                self.kick()
        if isinstance(reply, FileReply) and self.send_file is not None:
            try:
                await self.send_file(msg.sender, reply.path)
            except Exception:
                log.exception("sending file %s to %s failed", reply.path, msg.sender)

    async def _handle(self, msg: InboundMessage) -> Reply | None:
        async with self._locks[msg.sender]:
            if self.prepare is not None:
                msg = await self.prepare(msg)
            try:
                return await self.handler(msg)
            except Exception:
                log.exception("handler failed for %s", msg.key)
                return None

    async def _later(
        self, msg: InboundMessage, task: asyncio.Task[Reply | None], channel: str
    ) -> None:
        reply = await task
        if reply is None:
            await store_reply(self.db, msg.key, reply_to_json(None, "none"))
            return
        await self.send_later(msg, reply, channel=channel)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for messages still being handled (shutdown, tests)."""
        while self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                log.warning("%d inbound messages still being handled", len(pending))
                return
