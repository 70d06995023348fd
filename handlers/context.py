"""What an intent function gets: the dependencies, who is asking, and when.

`now` is the moment the user sent the message (the channel's create time, never later than the
injectable clock's time of handling): what a message logs is stamped with it, and its period and
on-time status follow from it, however late it is handled (a message sent at 23:59:50 and handled
after midnight counts in its own day). `received` is the clock's time of handling. Everything is in
Asia/Shanghai for people and aware UTC in storage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from handlers.channel import Channel
from handlers.texts import CITY_OFFICE
from handlers.types import InboundMessage
from scoring import load_scheme
from scoring.loader import builtin_scheme_ids, load_builtin
from scoring.model import Scheme
from scoring.periods import TZ
from storage.conversation import ChatState
from storage.db import Database
from storage.models import Role

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class ChatDeps:
    """Long-lived parts shared by every message."""

    db: Database
    channel: Channel | None = None
    clock: Clock = system_clock
    admins: frozenset[str] = frozenset()
    conversation_ttl: timedelta = timedelta(minutes=30)
    work_dir: str = "out"  # where exported files (tally workbooks, charts) are written
    media_dir: str = (
        "media"  # where the channel keeps the files users send (InboundMessage.attachment)
    )
    dashboard_secret: str | None = None  # signs the dashboard links admins get ("看板")
    public_url: str | None = None  # where the dashboard is reached from outside
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    # 分级考核: assessment id → the office that runs it ("路桥区创模办"), read once per process
    # (an assessment's organiser is set when it is added and never changes)
    offices: dict[int, str] = field(default_factory=dict)


_OFFICE: ContextVar[str | None] = ContextVar("kaohe_office", default=None)


def office_name() -> str:
    """The office that runs the assessment of the turn in hand, as replies name it: 市创模办, or
    路桥区创模办 in 路桥区's own assessment of its towns (set by `office_scope` for each turn;
    the city's outside a turn)."""
    return _OFFICE.get() or CITY_OFFICE


@contextmanager
def office_scope(name: str) -> Iterator[None]:
    token = _OFFICE.set(name)
    try:
        yield
    finally:
        _OFFICE.reset(token)


class Unregistered(StrEnum):
    """Who writes without being an active member (an admin by KAOHE_ADMINS is let in anyway)."""

    UNKNOWN = "unknown"  # no member with this user id
    INACTIVE = "inactive"  # a deactivated member


@dataclass(frozen=True)
class Sender:
    userid: str
    name: str
    role: Role | Unregistered
    unit_id: int | None = None
    unit_name: str | None = None
    scheme_id: str | None = None
    assessment_id: int = 1  # the assessment this turn is about (分级考核; storage/scope.py)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_inspector(self) -> bool:
        return self.role == Role.INSPECTOR


@dataclass
class Ctx:
    deps: ChatDeps
    sender: Sender
    msg: InboundMessage
    now: datetime  # aware: when the user sent the message (bounded by `received`)
    state: ChatState | None = None  # the user's 政务信息 draft, if one is open
    notices: list[str] = field(default_factory=list)  # said before the reply (e.g. expiry)
    received: datetime | None = None  # aware: when the message was handled (the clock)

    @property
    def db(self) -> Database:
        return self.deps.db

    @cached_property
    def today(self) -> date:
        return self.now.astimezone(TZ).date()

    @property
    def year(self) -> int:
        return self.today.year

    @cached_property
    def scheme(self) -> Scheme:
        assert self.sender.scheme_id is not None
        return scheme_of(self.sender.scheme_id)

    def later(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` after the reply (files that take longer than the reply budget)."""
        task = asyncio.ensure_future(work)
        self.deps.background.add(task)
        task.add_done_callback(self.deps.background.discard)

    async def send_file(self, userid: str, path: str | Path) -> None:
        if self.deps.channel is None:
            log.info("no channel: file %s for %s not sent", path, userid)
            return
        try:
            await self.deps.channel.send_file(userid, path)
        except Exception:
            log.exception("sending %s to %s failed", path, userid)

    async def tell(self, userid: str, text: str) -> None:
        """Best-effort notice to another user (the reply to the sender is the return value)."""
        if self.deps.channel is None or not userid:
            log.info("no channel: notice to %s not sent", userid)
            return
        try:
            await self.deps.channel.send_text(userid, text)
        except Exception:
            log.exception("notice to %s failed", userid)


def sent_at(msg: InboundMessage, received: datetime) -> datetime:
    """When the user sent `msg`: its create time, but never later than its handling (a clock
    ahead of ours must not date an item into the future). The channel bounds it from below."""
    created = msg.created_at
    if created is None:
        return received
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return min(created, received)


def scheme_of(scheme_id: str) -> Scheme:
    """The unit's scheme: a built-in one by id from the loader's cache without touching the
    disk (every message asks), else the scheme file at that path."""
    if scheme_id in _builtin_ids():
        return load_builtin(scheme_id)
    return load_scheme(scheme_id)


@cache
def _builtin_ids() -> frozenset[str]:
    return frozenset(builtin_scheme_ids())
