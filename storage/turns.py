"""One user's messages one at a time, across every instance: a per-user turn.

Inside a process an `asyncio.Lock` per user queues the messages in arrival order (asyncio locks
are FIFO). Across instances (PostgreSQL) the process then takes a session-level advisory lock
keyed by the user on ONE dedicated connection of its own, so waiting for a turn never holds a
connection of the pool that handlers need. SQLite has one writer process, so the local lock is
the whole story there.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database

TURN_LOCK_CLASS = 0x6B68  # "kh": first half of the two-int advisory lock key
POLL = 0.02  # seconds between tries while another instance has the user's turn


def user_key(user: str) -> int:
    """A stable signed 32-bit key for `user` (the same in every process)."""
    digest = hashlib.blake2b(user.encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class UserTurns:
    """`async with turns.turn(user):` — exclusive, in arrival order within the process."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._local: dict[str, tuple[asyncio.Lock, int]] = {}
        self._conn: AsyncConnection | None = None
        self._conn_lock = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def turn(self, user: str) -> AsyncIterator[None]:
        lock, users = self._local.get(user, (asyncio.Lock(), 0))
        self._local[user] = (lock, users + 1)
        try:
            async with lock:
                if self.db.dialect != "postgresql":
                    yield
                    return
                key = user_key(user)
                await self._acquire(key)
                try:
                    yield
                finally:
                    await self._release(key)
        finally:
            lock, users = self._local[user]
            if users <= 1:
                del self._local[user]
            else:
                self._local[user] = (lock, users - 1)

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
