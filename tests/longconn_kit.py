"""What the long-connection channel tests share: a handler that echoes and counts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from handlers.types import InboundMessage, Reply, TextReply, UpdateButtonReply
from storage.db import Database
from storage.inbound import record_inbound


class Echo:
    """Answers what it got (optionally slowly) and keeps every message it saw."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.seen: list[InboundMessage] = []

    async def __call__(self, msg: InboundMessage) -> Reply | None:
        self.seen.append(msg)
        if self.delay:
            await asyncio.sleep(self.delay)
        if msg.event == "template_card_event" and msg.key.startswith("wecom_bot:"):
            return UpdateButtonReply("已处理")
        if msg.event == "template_card_event":
            return TextReply(f"按钮：{msg.event_key}")
        if msg.is_event:
            return None
        if msg.attachment:
            return TextReply(f"附件：{msg.attachment}")
        return TextReply(f"收到：{msg.content}")


async def recorded_by_dead_process(
    db: Database, key: str, sender: str, channel: str, raw: str
) -> None:
    """A text recorded five minutes ago by an instance that died before answering (its claim
    ran out four minutes ago)."""
    await record_inbound(
        db,
        key=key,
        sender=sender,
        msg_type="text",
        received_at=datetime.now(UTC) - timedelta(minutes=5),
        content=raw,
        channel=channel,
        claimed_by="dead-process",
        claimed_until=datetime.now(UTC) - timedelta(minutes=4),
    )
