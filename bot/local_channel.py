"""A `Channel` for the local chat and for tests: prints to a stream and keeps what it sent."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from handlers.types import Card, InboundMessage

LOCAL = "local"  # the inbound pipeline's name for the terminal channel


def local_raw(msg: InboundMessage) -> str:
    """What the pipeline records of a typed message (and reads back when recovering it)."""
    return json.dumps(
        {
            "key": msg.key,
            "sender": msg.sender,
            "at": msg.created_at.isoformat(),
            "text": msg.content,
            **({"file": msg.attachment} if msg.msg_type == "file" else {}),
        },
        ensure_ascii=False,
    )


def parse_local(raw: str) -> InboundMessage:
    data = json.loads(raw)
    path = data.get("file")
    return InboundMessage(
        key=data["key"],
        sender=data["sender"],
        msg_type="file" if path else "text",
        created_at=datetime.fromisoformat(data["at"]),
        content=data["text"],
        attachment=path,
        file_name=Path(path).name if path else "",
    )


def typed_message(user: str, line: str, key: str, now: datetime) -> InboundMessage:
    """A line typed in the local chat: text, or `/file PATH` to send a file (a 责任书 workbook)."""
    if line.startswith("/file "):
        path = Path(line.removeprefix("/file ").strip()).expanduser().resolve()
        return InboundMessage(
            key=key,
            sender=user,
            msg_type="file",
            created_at=now,
            attachment=str(path),
            file_name=path.name,
        )
    return InboundMessage(key=key, sender=user, msg_type="text", created_at=now, content=line)


@dataclass(frozen=True)
class Sent:
    kind: str  # text | markdown | file | card | card_update | announce
    user: str
    content: Any


class LocalChannel:
    """Everything "sent" is appended to `sent` and, when a stream is given, printed to it."""

    def __init__(self, stream: TextIO | None = sys.stdout) -> None:
        self.stream = stream
        self.sent: list[Sent] = []
        self._cards = 0

    def _emit(self, kind: str, user: str, content: Any, shown: str) -> None:
        self.sent.append(Sent(kind, user, content))
        if self.stream is not None:
            target = f" → {user}" if user else ""
            print(f"[{kind}{target}]\n{shown}", file=self.stream, flush=True)

    def messages_for(self, user: str) -> list[Sent]:
        return [s for s in self.sent if s.user == user]

    async def send_text(self, user: str, text: str) -> None:
        self._emit("text", user, text, text)

    async def send_markdown(self, user: str, markdown: str) -> None:
        self._emit("markdown", user, markdown, markdown)

    async def send_file(self, user: str, path: str | Path) -> None:
        self._emit("file", user, str(path), f"(file) {path}")

    async def send_card(self, user: str, card: Card) -> str | None:
        self._cards += 1
        buttons = "  ".join(f"[{b.text}] ({b.key})" for b in card.buttons)
        shown = "\n".join(x for x in (card.title, card.description, buttons) if x)
        self._emit("card", user, card, shown)
        return f"local-card-{self._cards}"

    async def update_card(self, user: str, response_code: str, replace_name: str) -> None:
        self._emit("card_update", user, (response_code, replace_name), f"(card) {replace_name}")

    async def announce(self, markdown: str) -> None:
        self._emit("announce", "", markdown, markdown)
