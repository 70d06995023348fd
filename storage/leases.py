"""Named leases held for as long as a process keeps them: "this instance holds the bot's one
long connection".

PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`, the mechanism the reminder tick
uses in reminders/leader.py) on a connection of its own, held until released or until that
connection dies — a crashed instance's lease is freed by PostgreSQL itself, so another instance
takes it at its next try. SQLite serves one process: a process-wide table of holders per database
URL and name (two app instances in one process, as in tests, still exclude each other).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from typing import Any

from sqlalchemy import text

from storage.db import Database

log = logging.getLogger(__name__)

_LOCAL_HOLDERS: dict[tuple[str, str], str] = {}


def lease_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for `name` (the lock space is shared with the
    tick and migration locks, whose small constants a hash will not hit in practice)."""
    return int.from_bytes(
        hashlib.sha256(f"kaohe-lease:{name}".encode()).digest()[:8], "big", signed=True
    )


class Lease:
    """`await lease.acquire()` → True when this caller now holds `name`; `await lease.alive()`
    checks it is still held; `await lease.release()` gives it back."""

    def __init__(self, db: Database, name: str) -> None:
        self.db, self.name = db, name
        self.key = lease_key(name)
        self.token = secrets.token_hex(8)
        self._conn: Any = None
        self._local_id = (str(db.engine.url), name)

    @property
    def held(self) -> bool:
        if self.db.dialect == "postgresql":
            return self._conn is not None
        return _LOCAL_HOLDERS.get(self._local_id) == self.token

    async def acquire(self) -> bool:
        if self.held:
            return True
        if self.db.dialect != "postgresql":
            if self._local_id in _LOCAL_HOLDERS:
                return False
            _LOCAL_HOLDERS[self._local_id] = self.token
            return True
        conn = await self.db.engine.connect()
        try:
            got = bool(
                (
                    await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
                ).scalar()
            )
            await conn.commit()
        except Exception:
            await conn.close()
            raise
        if not got:
            await conn.close()
            return False
        self._conn = conn
        return True

    async def alive(self) -> bool:
        """Still held? On PostgreSQL: the holding connection still answers (the lock lives and
        dies with it). A lost lease is dropped, so `held` turns False."""
        if self.db.dialect != "postgresql":
            return self.held
        if self._conn is None:
            return False
        try:
            await self._conn.execute(text("SELECT 1"))
            await self._conn.commit()
            return True
        except Exception:
            log.warning("lease %s: its database connection is gone", self.name)
            await self._drop()
            return False

    async def release(self) -> None:
        if self.db.dialect != "postgresql":
            if self.held:
                del _LOCAL_HOLDERS[self._local_id]
            return
        if self._conn is None:
            return
        try:
            await self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            await self._conn.commit()
        except Exception:
            log.warning("lease %s: could not unlock; closing its connection", self.name)
        await self._drop()

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.invalidate()  # never back to the pool: the session (and lock) must end
        with contextlib.suppress(Exception):
            await conn.close()
