"""Helpers for the reminder tests: a recording channel, a seeded registry, ledger writes and a
simulation loop that ticks and dispatches through days with a controllable clock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from handlers.types import Card
from reminders.clock import FixedClock
from reminders.dispatch import Dispatcher
from reminders.tick import _task_id, run_tick
from scoring.periods import TZ
from storage.db import Database
from storage.ledger import add_submission, add_task
from storage.models import Member, Unit

BUTTON_KEYS = ("start_info", "progress")


def at(day: date | str, hm: str = "10:00") -> datetime:
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return datetime.combine(day, time.fromisoformat(hm), TZ)


@dataclass(frozen=True)
class Sent:
    at: datetime
    kind: str  # card | markdown | text
    users: tuple[str, ...]
    card: Card | None = None
    markdown: str = ""


@dataclass
class RecordingChannel:
    """A `Channel` that records what it was asked to send, at the clock's time."""

    clock: FixedClock
    sent: list[Sent] = field(default_factory=list)
    fail: Callable[[str], bool] = lambda user: False  # raise for these users
    gate: Callable[[int], Awaitable[None]] | None = None  # awaited before send number n

    async def _record(self, item: Sent) -> None:
        if self.gate is not None:
            await self.gate(len(self.sent))
        if any(self.fail(u) for u in item.users):
            raise RuntimeError(f"simulated failure for {item.users}")
        self.sent.append(item)

    async def send_text(self, user: str, text: str) -> None:
        await self._record(Sent(self.clock.now(), "text", tuple(user.split("|")), markdown=text))

    async def send_markdown(self, user: str, markdown: str) -> None:
        await self._record(
            Sent(self.clock.now(), "markdown", tuple(user.split("|")), markdown=markdown)
        )

    async def send_file(self, user: str, path: str | Path) -> None:  # pragma: no cover
        raise NotImplementedError

    async def send_card(self, user: str, card: Card) -> str | None:
        await self._record(Sent(self.clock.now(), "card", tuple(user.split("|")), card=card))
        return None

    async def update_card(
        self, user: str, response_code: str, replace_name: str
    ) -> None:  # pragma: no cover
        raise NotImplementedError

    async def announce(self, markdown: str) -> None:  # pragma: no cover
        raise NotImplementedError

    def cards(self) -> list[Sent]:
        return [s for s in self.sent if s.kind == "card"]

    def card_ids(self) -> list[str]:
        return [s.card.task_id for s in self.cards() if s.card is not None]

    def digests(self, title: str = "") -> list[Sent]:
        return [s for s in self.sent if s.kind == "markdown" and title in s.markdown]


def rid(unit_id: int, key: str, period: str, stage: str) -> str:
    """The card task id a reminder carries (what the tests compare)."""
    return _task_id("rem", unit_id, key, period, stage)


async def seed(
    db: Database,
    units: dict[str, list[tuple[str, str]]],
    *,
    admins: Iterable[str] = ("admin1",),
    scheme: str = "chuangmo-taizhou",
) -> dict[str, int]:
    """Units {name: [(userid, role), ...]} and admin members; returns {name: unit id}."""
    ids: dict[str, int] = {}
    async with db.session() as s:
        for name, members in units.items():
            unit = Unit(name=name, kind="district", scheme_id=scheme)
            s.add(unit)
            await s.flush()
            assert unit.id is not None
            ids[name] = unit.id
            for userid, role in members:
                s.add(Member(userid=userid, name=userid, unit_id=unit.id, role=role))
        for userid in admins:
            s.add(Member(userid=userid, name=userid, unit_id=None, role="admin"))
        await s.commit()
    return ids


async def add_info(
    db: Database, unit_id: int, period: str, when: datetime, n: int = 1, target: str = "C3b"
) -> None:
    async with db.session() as s:
        for i in range(n):
            await add_submission(
                s,
                unit_id=unit_id,
                target=target,
                period=period,
                submitted_at=when + timedelta(minutes=i),
                title=f"信息 {period} {i}",
                kind="info" if target in ("C3b", "T16") else "report",
            )
        await s.commit()


async def new_task(db: Database, unit_id: int, code: str, due: date, title: str) -> int:
    async with db.session() as s:
        task = await add_task(
            s, unit_id=unit_id, kind="feedback", due=due, actor="admin1", title=title, code=code
        )
        await s.commit()
        assert task.id is not None
        return task.id


async def answer_task(db: Database, unit_id: int, task_id: int, when: datetime) -> None:
    async with db.session() as s:
        await add_submission(
            s, unit_id=unit_id, target="C3a", kind="feedback", task_id=task_id, submitted_at=when
        )
        await s.commit()


Event = tuple[datetime, Callable[[], Awaitable[Any]]]
TICK_TIMES = ("08:00", "09:00", "11:00", "15:00", "18:00")


async def no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


async def simulate(
    db: Database,
    channel: RecordingChannel,
    clock: FixedClock,
    first: date,
    last: date,
    *,
    events: Iterable[Event] = (),
    admins: Iterable[str] = (),
    times: Iterable[str] = TICK_TIMES,
) -> None:
    """Tick and dispatch at `times` of every day from `first` to `last`; each event runs once
    its time has come (before the tick at or after it)."""
    pending = sorted(events, key=lambda e: e[0])
    dispatcher = Dispatcher(db, channel, clock, sleep=no_sleep)
    day = first
    while day <= last:
        for hm in times:
            clock.set(at(day, hm))
            while pending and pending[0][0] <= clock.now():
                await pending.pop(0)[1]()
            await run_tick(db, clock.now(), admins=admins)
            await dispatcher.run_once()
        day += timedelta(days=1)
