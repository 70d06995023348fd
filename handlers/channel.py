"""The one way handlers and reminders talk to people: a small async `Channel` interface.

Defined here, beside its users, and implemented in `bot/` (WeCom, local chat), so that `handlers/`
and `reminders/` never import `bot/` (see DESIGN.md, dependency rule).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Section:
    """Lines of a reply that may be shortened: `items` most important first; when some are left
    out, `more` (with {n}) says how many. `title` is shown while any item is."""

    items: Sequence[str]
    title: str | None = None
    more: str = "……（其余{n}行略）"
    most: int | None = None


def fit_sections(
    head: Sequence[str],
    sections: Sequence[Section],
    tail: Sequence[str] = (),
    *,
    limit: int = TEXT_LIMIT,
) -> str:
    """`head`, the sections and `tail` joined by newlines within `limit` bytes. The one way long
    replies (score cards, digests, summaries) are shortened: head and tail are kept whole; items
    are dropped from the end of the last section first, then of the one before, and each
    section says how many of its items were left out. Only a text whose fixed lines alone are
    too long is cut, after its last whole sentence that fits."""
    kept = [len(s.items) if s.most is None else min(s.most, len(s.items)) for s in sections]
    sizes = [[utf8_len(i) + 1 for i in s.items] for s in sections]

    # a `more` note's size: its text without {n}, plus the digits of n (ASCII, a byte each)
    bare = [utf8_len(s.more.replace("{n}", "")) + 1 for s in sections]

    def note(i: int, k: int) -> int:
        left = len(sections[i].items) - k
        return bare[i] + len(str(left)) if left > 0 else 0

    total = sum(utf8_len(line) + 1 for line in [*head, *tail]) - 1
    for i, (s, k, sz) in enumerate(zip(sections, kept, sizes, strict=True)):
        total += sum(sz[:k]) + note(i, k)
        total += utf8_len(s.title) + 1 if s.title is not None and s.items else 0
    for i in reversed(range(len(sections))):
        while total > limit and kept[i] > 0:
            k = kept[i]
            total += note(i, k - 1) - note(i, k) - sizes[i][k - 1]
            kept[i] = k - 1
    lines = list(head)
    for s, k in zip(sections, kept, strict=True):
        if s.title is not None and s.items:
            lines.append(s.title)
        lines.extend(s.items[:k])
        if k < len(s.items):
            lines.append(s.more.format(n=len(s.items) - k))
    text = "\n".join([*lines, *tail])
    return cut_sentences(text, limit)


def clip(text: str, most: int) -> str:
    """`text` cut to at most `most` characters, with "…" where it was cut (titles, previews)."""
    return text if len(text) <= most else text[: most - 1] + "…"


def fit_lines(
    head: Sequence[str],
    items: Sequence[str],
    tail: Sequence[str] = (),
    *,
    limit: int = TEXT_LIMIT,
    most: int | None = None,
    more: str = "……（其余{n}行略）",
) -> str:
    """`fit_sections` with one section: `head`, as many of `items` as fit (at most `most`), a
    `more` line saying how many were left out, and `tail`."""
    return fit_sections(head, [Section(items, more=more, most=most)], tail, limit=limit)


_SENTENCE_END = "。；！？!?\n"


def cut_sentences(text: str, limit: int = TEXT_LIMIT) -> str:
    """`text` cut after its last whole sentence (or line) within `limit` bytes, with "……" when
    something was left out; on a character boundary only when no sentence ends in time."""
    if utf8_len(text) <= limit:
        return text
    room = text.encode("utf-8")[: limit - utf8_len("……")].decode("utf-8", errors="ignore")
    end = max(room.rfind(ch) for ch in _SENTENCE_END)
    return (room[: end + 1] if end > 0 else room).rstrip("\n") + "……"


def fit_text(text: str, limit: int = TEXT_LIMIT) -> str:
    """A reply of several lines within `limit` bytes: whole lines, the last ones dropped first."""
    return fit_lines((), text.split("\n"), limit=limit)
