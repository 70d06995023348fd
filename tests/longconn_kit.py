"""What the long-connection channel tests share: a handler that echoes and counts."""

from __future__ import annotations

import asyncio

from handlers.types import InboundMessage, Reply, TextReply, UpdateButtonReply


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
