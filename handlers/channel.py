"""The one way handlers and reminders talk to people: a small async `Channel` interface.

Defined here, beside its users, and implemented in `bot/` (WeCom, local chat), so that `handlers/`
and `reminders/` never import `bot/` (see DESIGN.md, dependency rule).
"""

from __future__ import annotations

from collections.abc import Sequence
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


# ---- what fits in one message ------------------------------------------------------------------

# Bytes of UTF-8 in one message (wecom/PROTOCOL.md): an app's text or markdown (longer is cut or
# refused, 45002), and a group robot's markdown.
TEXT_LIMIT = 2048
ROBOT_MARKDOWN_LIMIT = 4096


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def fit_lines(
    head: Sequence[str],
    items: Sequence[str],
    tail: Sequence[str] = (),
    *,
    limit: int = TEXT_LIMIT,
    most: int | None = None,
    more: str = "……（其余{n}行略）",
) -> str:
    """`head`, as many of `items` as fit (at most `most`), a `more` line saying how many were left
    out, and `tail`, joined by newlines within `limit` bytes. The one way long replies, digests and
    summaries are shortened: whole lines are kept, and the reader is told what was left out."""
    whole = "\n".join([*head, *items, *tail])
    if utf8_len(whole) <= limit and (most is None or len(items) <= most):
        return whole
    fixed = sum(utf8_len(line) + 1 for line in [*head, *tail])
    kept: list[str] = []
    for n, item in enumerate(items):
        note = more.format(n=len(items) - n)
        room = limit - fixed - utf8_len(note) - 1
        if (most is not None and n >= most) or sum(utf8_len(k) + 1 for k in kept) + utf8_len(
            item
        ) + 1 > room:
            text = "\n".join([*head, *kept, note, *tail])
            break
        kept.append(item)
    else:  # no items, and head and tail alone are too long
        text = "\n".join([*head, *kept, *tail])
    data = text.encode("utf-8")
    if len(data) > limit:  # a single line longer than the limit: cut on a character boundary
        text = data[: limit - 3].decode("utf-8", errors="ignore") + "…"
    return text
