"""One live connection per bot across instances, kept up with reconnects.

The supervisor takes the bot's lease (storage/leases.py: a PostgreSQL advisory lock, held on its
own connection) before it connects; an instance without the lease tries again every `poll`
seconds, so when the holder dies (its database session ends, and the lock with it) another
instance connects within seconds. While it holds the lease it keeps the connection up: a
connection that ends is opened again after a backoff pause with jitter (reset once a connection
stayed up for `stable_after` seconds). If the lease is lost (the database connection behind it
broke), the connection is closed at once — a newer connection elsewhere may be taking over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Protocol

from bot.longconn.backoff import Backoff
from storage.leases import Lease

log = logging.getLogger(__name__)


class Connection(Protocol):
    name: str

    async def run(self, halt: asyncio.Event) -> None:
        """Connect and serve until the connection ends or `halt` is set; raise on failure."""

    def pause_hint(self) -> float | None:
        """A pause the protocol asks for before the next attempt (None: the usual backoff)."""


async def _wait(event: asyncio.Event, timeout: float) -> bool:
    """True when `event` was set within `timeout` seconds."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), timeout)
    return event.is_set()


class Supervisor:
    def __init__(
        self,
        conn: Connection,
        lease: Lease | None,
        *,
        backoff: Backoff | None = None,
        poll: float = 2.0,
        stable_after: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conn, self.lease = conn, lease
        self.backoff = backoff or Backoff()
        self.poll, self.stable_after, self.clock = poll, stable_after, clock
        self.leading = asyncio.Event()  # set while this instance holds the lease
        self.connects = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> asyncio.Task[None]:
        if self._task is None:
            self._task = asyncio.ensure_future(self.run())
        return self._task

    async def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout)
            except (TimeoutError, asyncio.CancelledError):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                got = self.lease is None or await self.lease.acquire()
            except Exception:
                log.exception("%s: could not ask for the connection lease", self.conn.name)
                got = False
            if not got:
                await _wait(self._stop, self.poll)
                continue
            log.info("%s: this instance holds the connection", self.conn.name)
            self.leading.set()
            try:
                await self._lead()
            finally:
                self.leading.clear()
                if self.lease is not None:
                    with contextlib.suppress(Exception):
                        await self.lease.release()
        log.info("%s: stopped", self.conn.name)

    async def _lead(self) -> None:
        halt = asyncio.Event()
        watcher = asyncio.ensure_future(self._watch(halt))
        try:
            while not halt.is_set():
                started = self.clock()
                self.connects += 1
                try:
                    await self.conn.run(halt)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("%s: connection failed: %s", self.conn.name, exc)
                if halt.is_set():
                    break
                if self.clock() - started >= self.stable_after:
                    self.backoff.reset()
                pause = self.conn.pause_hint()
                delay = pause if pause is not None else self.backoff.next()
                log.info("%s: reconnecting in %.1f s", self.conn.name, delay)
                await _wait(halt, delay)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _watch(self, halt: asyncio.Event) -> None:
        """Set `halt` when the supervisor stops or the lease is lost."""
        while not await _wait(self._stop, self.poll):
            if self.lease is not None and not await self.lease.alive():
                log.error("%s: lease lost; closing the connection", self.conn.name)
                break
        halt.set()
