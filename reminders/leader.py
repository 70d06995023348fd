"""Only one instance runs the reminder tick at a time.

PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) taken on a dedicated connection
for the length of one tick and released after it; an instance that does not get it skips the tick
(the claims would make a second tick harmless anyway: this only saves the work). SQLite: one
process, an in-process lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from storage.db import Database

log = logging.getLogger(__name__)

TICK_LOCK = 0x6B616F6801  # "kaoh" + 1: the reminder tick


class TickLock:
    def __init__(self, db: Database, key: int = TICK_LOCK) -> None:
        self.db, self.key = db, key
        self._local = asyncio.Lock()

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[bool]:
        """`async with lock.hold() as leader:` — True when this instance runs the tick."""
        if self._local.locked():
            yield False
            return
        async with self._local:
            if self.db.dialect != "postgresql":
                yield True
                return
            async with self.db.engine.connect() as conn:
                got = bool(
                    (
                        await conn.execute(
                            text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
                        )
                    ).scalar()
                )
                await conn.commit()
                try:
                    yield got
                finally:
                    if got:
                        try:
                            await conn.execute(
                                text("SELECT pg_advisory_unlock(:key)"), {"key": self.key}
                            )
                            await conn.commit()
                        except Exception:  # the connection is gone, and the lock with it
                            log.warning("could not release the reminder tick lock", exc_info=True)
                            await conn.invalidate()
