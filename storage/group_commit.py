"""Group commit for SQLite: the writes of many callers share one transaction and one commit.

A unit of work that writes (`Database.run_write`) runs on the event loop's own thread, at once,
inside the transaction that is open; the units that arrive within `window` seconds of its first
share it, each after the first in a savepoint of its own (a unit that raises is undone alone;
the first, alone in the transaction then, undoes the transaction). Every caller is answered only
after the commit. The two steps that can wait — BEGIN IMMEDIATE, which may wait for another
writer's lock, and COMMIT, which waits for the disk — run on the writer thread, once per
transaction; while they run, the loop serves on, and the units that arrive meanwhile wait for
the next transaction.

Why on the loop's thread: a unit is a few SQLite statements around Python (the chat handler's),
which holds the GIL wherever it runs. On a thread of its own it cost every message two thread
hops and the GIL passed back and forth at every statement, for no work done in parallel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import Connection, Engine, RootTransaction

from storage.prepared import savepoint

T = TypeVar("T")


class GroupCommit:
    """The SQLite writer: one connection, used by the loop's thread for the units and by the
    writer thread for BEGIN and COMMIT, never by both at once."""

    MAX_BATCH = 128

    def __init__(self, engine: Engine, window: float) -> None:
        self.engine, self.window = engine, window
        self.thread = ThreadPoolExecutor(1, thread_name_prefix="kaohe-db-write")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.conn: Connection | None = None
        self.txn: RootTransaction | None = None  # the open transaction
        self.waiting: list[asyncio.Future[None]] = []  # one per unit done in it, set at commit
        self.busy: asyncio.Future[None] | None = None  # BEGIN or COMMIT on the writer thread
        self.timer: asyncio.TimerHandle | None = None
        self.wanted = False  # units wait for the commit: begin the next transaction right after
        self.commits = 0  # transactions committed (for tests and the bench)

    async def run(self, work: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        loop = self._bind()
        while self.txn is None or len(self.waiting) >= self.MAX_BATCH:
            if self.busy is not None:
                self.wanted = True
                await asyncio.shield(self.busy)
            elif self.txn is None:
                await self._begin(loop)
            else:
                self._commit()
        conn, first = self.conn, not self.waiting
        assert conn is not None
        try:
            if first:
                value = work(conn, *args, **kwargs)
            else:
                with savepoint(conn):
                    value = work(conn, *args, **kwargs)
        except BaseException:
            if first:  # nothing else is in the transaction: undo it
                self._rollback()
            raise
        done: asyncio.Future[None] = loop.create_future()
        self.waiting.append(done)
        await done
        return value

    def _bind(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self.loop is not loop:
            if self.txn is not None or self.busy is not None:
                raise RuntimeError("the database's writer is in use by another event loop")
            self.loop = loop
        return loop

    async def _begin(self, loop: asyncio.AbstractEventLoop) -> None:
        self.busy = busy = loop.create_future()
        try:
            self._opened(await loop.run_in_executor(self.thread, self._begin_there))
        finally:
            self.busy = None
            busy.set_result(None)

    def _opened(self, txn: RootTransaction | None) -> None:
        """A transaction is open: it commits `window` seconds from now, with the units that
        joined it by then."""
        self.txn = txn
        if txn is not None and self.loop is not None:
            self.timer = self.loop.call_later(self.window, self._commit)

    def _begin_there(self) -> RootTransaction:
        if self.conn is None:
            self.conn = self.engine.connect()
            self.conn.info["write"] = True  # storage.db's `begin` listener: BEGIN IMMEDIATE
        try:
            return self.conn.begin()
        except Exception:  # e.g. another writer held the lock past the busy timeout: start
            self._drop_connection()  # the next transaction on a fresh connection
            raise

    def _commit(self) -> None:
        """Commit the open transaction on the writer thread; its units' callers are answered
        when it is durable (or all get the error: then none of their work is)."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        txn, waiting = self.txn, self.waiting
        if txn is None or self.busy is not None or self.loop is None:
            return
        self.txn, self.waiting, self.wanted = None, [], False
        self.busy = busy = self.loop.create_future()
        committed = self.loop.run_in_executor(self.thread, self._commit_there, txn)

        def answer(outcome: asyncio.Future[RootTransaction | None]) -> None:
            error = outcome.exception()
            if error is None:
                self.commits += 1
                self._opened(outcome.result())
            else:
                self._drop_connection()
            for done in waiting:
                if not done.done():
                    if error is None:
                        done.set_result(None)
                    else:
                        done.set_exception(error)
            self.busy = None
            busy.set_result(None)

        committed.add_done_callback(answer)

    def _commit_there(self, txn: RootTransaction) -> RootTransaction | None:
        """COMMIT; then, when units are already waiting, BEGIN the next transaction in the
        same hop (under load, one hop per transaction instead of two)."""
        txn.commit()
        if not self.wanted:
            return None
        try:
            return self._begin_there()
        except Exception:  # the next unit begins on its own, and sees the error if it lasts
            return None

    def _rollback(self) -> None:
        txn, self.txn = self.txn, None
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if txn is not None:
            try:
                txn.rollback()
            except Exception:
                self._drop_connection()

    def _drop_connection(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()

    async def stop(self) -> None:
        """Commit what is open, wait for the writer thread, close the connection."""
        if self.txn is not None and self.busy is None:
            self._commit()
        while self.busy is not None:
            await asyncio.shield(self.busy)
        conn, self.conn = self.conn, None
        if conn is not None:
            await asyncio.get_running_loop().run_in_executor(self.thread, conn.close)
        self.thread.shutdown(wait=True)
