"""Split long text into pieces of at most N UTF-8 bytes without breaking a character.

WeCom truncates (passive reply) or rejects (message/send, 45002) text over 2048 bytes, and robot
markdown over 4096 bytes; counting characters instead of bytes is the classic bug with Chinese text.
"""

from __future__ import annotations

from handlers.channel import ROBOT_MARKDOWN_LIMIT, TEXT_LIMIT, utf8_len

__all__ = ["ROBOT_MARKDOWN_LIMIT", "TEXT_LIMIT", "split_utf8", "utf8_len"]


def split_utf8(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of ≤ `limit` bytes each, cut after a newline when one lies in the second half of a
    piece (so lines stay whole), otherwise at a character boundary. Empty text gives []."""
    if limit < 4:
        raise ValueError("limit must leave room for one UTF-8 character")
    pieces: list[str] = []
    rest = text
    while rest:
        data = rest.encode("utf-8")
        if len(data) <= limit:
            pieces.append(rest)
            break
        cut = limit
        while cut > 0 and (data[cut] & 0xC0) == 0x80:  # step back off a continuation byte
            cut -= 1
        head = data[:cut].decode("utf-8")
        newline = head.rfind("\n")
        if newline >= 0 and utf8_len(head[: newline + 1]) > limit // 2:
            head = head[: newline + 1]
        pieces.append(head)
        rest = rest[len(head) :]
    return [p for p in pieces if p.strip()] or ([text] if text.strip() else [])
