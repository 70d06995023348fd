"""Answering one push in-line, on the push's own req_id (PROTOCOL.md "What the bot sends"):

- a message: a `stream` reply. Stream frames are snapshots of one bubble: when the answer takes
  longer than `working_after` seconds the bubble first says 正在处理 and the answer replaces it;
  a long answer is shown growing in snapshots (`stream_step` bytes each) and finished whole.
- `enter_chat`: `aibot_respond_welcome_msg` (text), within WeCom's 5 s;
- `template_card_event`: `aibot_respond_update_msg` (the clicked card, buttons replaced), in 5 s.
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from bot.wecom.chunks import split_utf8, utf8_len
from bot.wecombot import frames
from bot.wecombot.connection import WeComBotConnection
from handlers.types import InboundMessage, MarkdownReply, Reply, TextReply, UpdateButtonReply

WELCOME_EVENTS = frozenset({"enter_chat"})
CARD_EVENTS = frozenset({"template_card_event"})


def reply_text(reply: Reply) -> str | None:
    if isinstance(reply, TextReply):
        return reply.text
    if isinstance(reply, MarkdownReply):
        return reply.markdown
    return None


def can_inline(msg: InboundMessage) -> Any:
    """What may be answered in-line to `msg` (everything else goes out with aibot_send_msg)."""

    def check(reply: Reply) -> bool:
        if msg.event in CARD_EVENTS:
            return isinstance(reply, UpdateButtonReply)
        text = reply_text(reply)
        if text is None or not text.strip():
            return False
        return utf8_len(text) <= frames.STREAM_LIMIT

    return check


def updated_card(msg: InboundMessage, replace_name: str) -> dict[str, Any]:
    """The clicked card again, its buttons replaced by one greyed-out button saying what was done."""
    return {
        "card_type": "button_interaction",
        "main_title": {"title": replace_name},
        "task_id": msg.task_id,
        "button_list": [{"text": replace_name, "style": 2, "key": f"done-{msg.task_id}"[:128]}],
    }


class Stream:
    """One stream bubble answering one message."""

    def __init__(self, conn: WeComBotConnection, req_id: str, *, step: int = 2048) -> None:
        self.conn, self.req_id, self.step = conn, req_id, step
        self.id = "kaohe-" + secrets.token_hex(8)
        self.started = False  # a frame of this bubble went out
        self.sending = False  # a frame is on its way (not to be cancelled half-sent)
        self.finished = asyncio.Event()  # its last frame went out: nothing more to show

    async def show(self, content: str, *, finish: bool) -> None:
        if self.finished.is_set():
            return
        self.sending = True
        body = {
            "msgtype": "stream",
            "stream": {"id": self.id, "finish": finish, "content": content},
        }
        await self.conn.request(frames.RESPOND, body, req_id=self.req_id)
        self.started = True
        if finish:
            self.finished.set()

    async def answer(self, text: str) -> None:
        """The whole answer; a long one grows in snapshots before the final frame."""
        pieces = split_utf8(text, self.step) if utf8_len(text) > self.step else [text]
        shown = ""
        for piece in pieces[:-1]:
            shown += piece
            await self.show(shown, finish=False)
        await self.show(text, finish=True)


async def respond(
    conn: WeComBotConnection, msg: InboundMessage, reply: Reply, stream: Stream
) -> None:
    """Send `reply` in-line on the push's req_id (raises when the connection cannot)."""
    req_id = msg.raw.get("req_id", "")
    if msg.event in WELCOME_EVENTS:
        text = reply_text(reply) or ""
        body = {"msgtype": "text", "text": {"content": text}}
        await conn.request(frames.RESPOND_WELCOME, body, req_id=req_id)
    elif msg.event in CARD_EVENTS and isinstance(reply, UpdateButtonReply):
        body = {
            "response_type": "update_template_card",
            "userids": [msg.sender],
            "template_card": updated_card(msg, reply.replace_name),
        }
        await conn.request(frames.RESPOND_UPDATE, body, req_id=req_id)
    else:
        await stream.answer(reply_text(reply) or "")
