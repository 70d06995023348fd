"""The one way handlers and reminders talk to people: a small async `Channel` interface.

Defined here, beside its users, and implemented in `bot/` (WeCom, local chat), so that `handlers/`
and `reminders/` never import `bot/` (see DESIGN.md, dependency rule).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from handlers.types import (
    Button,
    Card,
    CardReply,
    FileReply,
    MarkdownReply,
    Reply,
    TextReply,
    UpdateButtonReply,
)


class ChannelError(Exception):
    """A message could not be delivered (after the channel's own retries)."""


@runtime_checkable
class Channel(Protocol):
    async def send_text(self, user: str, text: str) -> None:
        """Send plain text; long text is split by the channel, never truncated."""

    async def send_markdown(self, user: str, markdown: str) -> None:
        """Send markdown (WeCom's subset: headings, bold, links, <font color>)."""

    async def send_file(self, user: str, path: str | Path) -> None:
        """Send a local file as an attachment."""

    async def send_card(self, user: str, card: Card) -> str | None:
        """Send an interactive card; returns the code needed to update it later, if any."""

    async def update_card(self, user: str, response_code: str, replace_name: str) -> None:
        """Grey out the buttons of a sent or clicked card with `replace_name`."""

    async def announce(self, markdown: str) -> None:
        """Post markdown to the group (WeCom group robot); a no-op when none is configured."""


async def deliver(channel: Channel, user: str, reply: Reply, *, response_code: str = "") -> None:
    """Send one handler reply through `channel` (used when a reply cannot go back in-line)."""
    if isinstance(reply, TextReply):
        await channel.send_text(user, reply.text)
    elif isinstance(reply, MarkdownReply):
        await channel.send_markdown(user, reply.markdown)
    elif isinstance(reply, CardReply):
        await channel.send_card(user, reply.card)
    elif isinstance(reply, FileReply):
        if reply.text:
            await channel.send_text(user, reply.text)
        await channel.send_file(user, reply.path)
    elif isinstance(reply, UpdateButtonReply):
        if response_code:
            await channel.update_card(user, response_code, reply.replace_name)
    else:  # pragma: no cover - exhaustive
        raise TypeError(f"unknown reply {reply!r}")


# --- replies as data (stored with the message, sent later through the outbox) ----------------


def reply_to_data(reply: Reply) -> dict[str, Any]:
    """A reply as JSON-able data: what is stored with its message and put in its outbox row."""
    if isinstance(reply, TextReply):
        return {"type": "text", "text": reply.text}
    if isinstance(reply, MarkdownReply):
        return {"type": "markdown", "markdown": reply.markdown}
    if isinstance(reply, UpdateButtonReply):
        return {"type": "update_button", "replace_name": reply.replace_name}
    if isinstance(reply, FileReply):
        return {"type": "file", "path": reply.path, "text": reply.text}
    if isinstance(reply, CardReply):
        card = reply.card
        return {
            "type": "card",
            "card": {
                "title": card.title,
                "description": card.description,
                "task_id": card.task_id,
                "url": card.url,
                "buttons": [{"text": b.text, "key": b.key, "style": b.style} for b in card.buttons],
            },
        }
    raise TypeError(f"unknown reply {reply!r}")  # pragma: no cover - exhaustive


def reply_from_data(data: dict[str, Any]) -> Reply:
    """The inverse of `reply_to_data` (ValueError for data it cannot read)."""
    kind = data.get("type")
    if kind == "text":
        return TextReply(str(data["text"]))
    if kind == "markdown":
        return MarkdownReply(str(data["markdown"]))
    if kind == "update_button":
        return UpdateButtonReply(str(data["replace_name"]))
    if kind == "file":
        return FileReply(str(data["path"]), str(data.get("text", "")))
    if kind == "card":
        c = data["card"]
        buttons = tuple(
            Button(str(b["text"]), str(b["key"]), int(b.get("style", 1)))
            for b in c.get("buttons", [])
        )
        return CardReply(
            Card(
                title=str(c.get("title", "")),
                description=str(c.get("description", "")),
                task_id=str(c.get("task_id", "")),
                buttons=buttons,
                url=str(c.get("url", "")),
            )
        )
    raise ValueError(f"unknown reply type {kind!r}")
