"""One user's messages one at a time, across every instance: a per-user turn.

Inside a process each message takes its place in its user's queue the moment it arrives, before
anything is awaited (so a slower database insert cannot reorder two messages). Across instances (PostgreSQL) the process then takes a session-level advisory lock
keyed by the user on ONE dedicated connection of its own, so waiting for a turn never holds a
connection of the pool that handlers need. A message handled in its own one transaction takes
the transaction-level form of that lock in its record's statement (`turn_lock`; storage.inbound).
SQLite has one writer process, so the local lock is the whole story there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from typing import Any

from sqlalchemy import Boolean, func, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

TURN_LOCK_CLASS = 0x6B68  # "kh": first half of the two-int advisory lock key
POLL = 0.02  # seconds between tries while another instance has the user's turn


def user_key(user: str) -> int:
    """A stable signed 32-bit key for `user` (the same in every process)."""
    digest = hashlib.blake2b(user.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class TurnTaken(Exception):
    """Another instance has the user's turn: the transaction that tried to take it keeps
    nothing (storage.inbound.record_and_handle with `turn=True`)."""


def turn_lock(c: Any, k: Any) -> Any:
    """The SQL expression that takes a user's turn across instances for the rest of the
    transaction, if no other instance has it: the transaction-level form of the advisory lock
    `Turn` takes (they exclude each other). `c`, `k`: TURN_LOCK_CLASS and `user_key(user)`."""
    return func.pg_try_advisory_xact_lock(c, k, type_=Boolean)


class Turn:
    """A place in one user's queue, taken the moment a message arrives (`UserTurns.reserve`),
    before anything is awaited: `async with turn:` waits for the messages ahead of it."""

    def __init__(self, turns: UserTurns, user: str, ahead: asyncio.Future[None] | None) -> None:
        self.turns, self.user, self.ahead = turns, user, ahead
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._locked_key: int | None = None

    async def __aenter__(self) -> Turn:
        if self.ahead is not None:
            await asyncio.shield(self.ahead)
        if self.turns.db.dialect == "postgresql":
            key = user_key(self.user)
            await self.turns._acquire(key)
            self._locked_key = key
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._locked_key is not None:
            await self.turns._release(self._locked_key)
            self._locked_key = None
        self.release()

    def release(self) -> None:
        """Let the next message of the user go (also for a turn that is never entered)."""
        if not self.done.done():
            self.done.set_result(None)
        if self.turns._last.get(self.user) is self.done:
            del self.turns._last[self.user]


class UserTurns:
    """One queue per user: `turn = turns.reserve(user)` at arrival, `async with turn:` to run."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._last: dict[str, asyncio.Future[None]] = {}  # the newest turn of each user
        self._conn: AsyncConnection | None = None
        self._conn_lock = asyncio.Lock()

    def reserve(self, user: str) -> Turn:
        turn = Turn(self, user, self._last.get(user))
        self._last[user] = turn.done
        return turn

    async def _execute(self, sql: str, key: int) -> Any:
        async with self._conn_lock:
            if self._conn is None or self._conn.closed:
                self._conn = await self.db.engine.connect()
                await self._conn.execution_options(isolation_level="AUTOCOMMIT")
            try:
                result = await self._conn.execute(text(sql), {"c": TURN_LOCK_CLASS, "k": key})
                return result.scalar()
            except Exception:
                # a broken connection drops its locks with it: start afresh next time
                with contextlib.suppress(Exception):
                    await self._conn.close()
                self._conn = None
                raise

    async def _acquire(self, key: int) -> None:
        while not await self._execute("SELECT pg_try_advisory_lock(:c, :k)", key):
            await asyncio.sleep(POLL)

    async def _release(self, key: int) -> None:
        with contextlib.suppress(Exception):
            await self._execute("SELECT pg_advisory_unlock(:c, :k)", key)

    async def close(self) -> None:
        async with self._conn_lock:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    await self._conn.close()
                self._conn = None
