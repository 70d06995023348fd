"""Our small `Card` (handlers/types.py) → WeCom's template_card JSON (PROTOCOL.md §5.1)."""

from __future__ import annotations

import re
import secrets
from typing import Any

from handlers.types import Card

_TASK_ID_RE = re.compile(r"[0-9A-Za-z_\-@]{1,128}")


def new_task_id() -> str:
    return "kaohe-" + secrets.token_hex(10)


def template_card(card: Card) -> dict[str, Any]:
    """A button_interaction card (≤6 buttons), or a text_notice card that opens `card.url`."""
    if len(card.buttons) > 6:
        raise ValueError("a card has at most 6 buttons")
    task_id = card.task_id or new_task_id()
    if not _TASK_ID_RE.fullmatch(task_id):
        raise ValueError(f"task_id {task_id!r} may only use [0-9A-Za-z_-@], ≤128 bytes")
    body: dict[str, Any] = {"main_title": {"title": card.title}, "task_id": task_id}
    if card.description:
        body["sub_title_text"] = card.description
    if card.url:
        body["card_action"] = {"type": 1, "url": card.url}
    if card.buttons:
        body["card_type"] = "button_interaction"
        body["button_list"] = [
            {"text": b.text, "style": b.style, "key": b.key} for b in card.buttons
        ]
    else:
        if not card.url:
            raise ValueError("a card without buttons needs a url")
        body["card_type"] = "text_notice"
    return body


def card_as_markdown(card: Card) -> str:
    """What to send instead when a card cannot be a card (no buttons and no url)."""
    lines = [f"**{card.title}**"]
    if card.description:
        lines.append(card.description)
    return "\n".join(lines)
