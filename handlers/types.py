"""What a chat channel hands to the handlers, and what the handlers hand back.

Plain dataclasses, so that `handlers/` can work with messages and replies without knowing WeCom or
aiohttp (the channel lives in `bot/`). A handler is `async (InboundMessage) -> Reply | None`; `None`
means "nothing to say".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# --- inbound -------------------------------------------------------------------------------------

MESSAGE_TYPES = frozenset({"text", "image", "voice", "video", "file", "location", "link", "event"})


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    scale: int | None = None
    label: str = ""


@dataclass(frozen=True)
class Link:
    title: str = ""
    description: str = ""
    url: str = ""
    pic_url: str = ""


@dataclass(frozen=True)
class SelectedItem:
    """One answered question of a vote/multiple-choice template card."""

    question_key: str
    option_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class InboundMessage:
    """One message or event from a user, already verified and decrypted.

    `key` is the channel's unique delivery key (WeCom: the MsgId string for messages, a digest of the
    whole event for events); the same key is never handled twice. `attachment` is a stored file
    reference (relative path under the media directory) when the channel downloaded the media.
    """

    key: str
    sender: str
    msg_type: str
    created_at: datetime
    msg_id: str | None = None
    agent_id: int | None = None
    content: str = ""
    media_id: str | None = None
    pic_url: str = ""
    media_format: str = ""
    thumb_media_id: str | None = None
    file_name: str = ""
    location: Location | None = None
    link: Link | None = None
    event: str | None = None
    event_key: str = ""
    task_id: str = ""
    card_type: str = ""
    response_code: str = ""
    selected_items: tuple[SelectedItem, ...] = ()
    attachment: str | None = None
    attachment_error: str | None = None
    raw: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_event(self) -> bool:
        return self.msg_type == "event"

    @property
    def text(self) -> str:
        """The text the user typed ('' for non-text messages)."""
        return self.content if self.msg_type == "text" else ""


# --- cards ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Button:
    """A callback button: a click comes back as a template_card_event with EventKey = `key`."""

    text: str
    key: str
    style: int = 1  # 1..4


@dataclass(frozen=True)
class Card:
    """An interactive card with up to six buttons (WeCom: template_card / button_interaction).

    `task_id` must be unique per app and only use [0-9A-Za-z_-@] (≤128 bytes); a click carries it back.
    Without buttons it is a plain notice card.
    """

    title: str
    description: str = ""
    task_id: str = ""
    buttons: tuple[Button, ...] = ()
    url: str = ""  # where a tap on the card body leads (optional)


# --- replies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextReply:
    text: str


@dataclass(frozen=True)
class MarkdownReply:
    markdown: str


@dataclass(frozen=True)
class CardReply:
    card: Card


@dataclass(frozen=True)
class FileReply:
    path: str
    text: str = ""  # optional text sent before the file


@dataclass(frozen=True)
class UpdateButtonReply:
    """Answer to a card click: grey out the clicked card's buttons with this text."""

    replace_name: str


Reply = TextReply | MarkdownReply | CardReply | FileReply | UpdateButtonReply
Handler = Callable[[InboundMessage], Awaitable[Reply | None]]
# A message's handling as a synchronous unit of work on a database connection (a SQLAlchemy
# `Connection`), run inside the message's own transaction: what a handler offers through
# `in_one(msg)` for messages that touch only the database (bot/inbound.py).
UnitOfWork = Callable[[Any], Reply | None]


@dataclass(frozen=True, slots=True)
class ReadsFirst:
    """A unit of work and the reads it makes first, each (statement, parameters) of
    `storage.prepared` (`Ahead`): the pipeline may make them in the message's own record
    statement (PostgreSQL: one round trip for the record and the reads)."""

    work: UnitOfWork
    reads: tuple[Any, ...]

    def __call__(self, conn: Any) -> Reply | None:
        return self.work(conn)


class Defer(Exception):
    """Raised by a unit of work that leaves the message to the asynchronous handler after all
    (what it wrote is rolled back with the transaction; the message is recorded on its own)."""
