"""The reminder scheduler, started by `kaohe serve` (bot/app.py):

* every `tick_minutes` (default 5): the tick (reminders/tick.py) — on PostgreSQL only on the
  instance holding the tick lock (reminders/leader.py) — then the outbox dispatcher;
* every `dispatch_seconds` (default 30): the dispatcher alone, for retries and other instances'
  claims.

APScheduler 3.11 `AsyncIOScheduler` with an explicit time zone, coalescing, at most one instance
of each job and a misfire grace time. The tick decides from the data what is due, so a missed or
coalesced run loses nothing. Time comes from the injected clock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from datetime import timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from handlers.channel import Channel
from reminders.clock import Clock, SystemClock
from reminders.dispatch import Dispatcher, DispatchResult
from reminders.leader import TickLock
from reminders.stages import DEFAULT_POLICY, StagePolicy
from reminders.tick import TickResult, run_tick
from storage.db import Database

log = logging.getLogger(__name__)


class ReminderScheduler:
    def __init__(
        self,
        db: Database,
        channel: Channel,
        *,
        admins: Iterable[str] = (),
        clock: Clock | None = None,
        policy: StagePolicy = DEFAULT_POLICY,
        timezone: str = "Asia/Shanghai",
        tick_minutes: float = 5,
        dispatch_seconds: float = 30,
        dispatcher: Dispatcher | None = None,
        on_tick: Callable[[TickResult], None] | None = None,
        on_dispatch: Callable[[DispatchResult], None] | None = None,
    ) -> None:
        """`on_tick` / `on_dispatch` see each result (the server counts them for /metrics)."""
        self.db, self.channel = db, channel
        self.admins = tuple(admins)
        self.clock = clock or SystemClock()
        self.policy = policy
        self.timezone = ZoneInfo(timezone)
        self.tick_minutes, self.dispatch_seconds = tick_minutes, dispatch_seconds
        self.dispatcher = dispatcher or Dispatcher(db, channel, self.clock, policy=policy)
        self.lock = TickLock(db)
        self.on_tick, self.on_dispatch = on_tick, on_dispatch
        self.scheduler: AsyncIOScheduler | None = None

    async def tick(self) -> TickResult | None:
        """One tick if this instance is the leader (None otherwise)."""
        async with self.lock.hold() as leader:
            if not leader:
                log.debug("reminder tick skipped: another instance holds the tick lock")
                return None
            result = await run_tick(
                self.db, self.clock.now(), admins=self.admins, policy=self.policy
            )
        if self.on_tick is not None:
            self.on_tick(result)
        return result

    async def tick_and_dispatch(self) -> None:
        try:
            await self.tick()
        except Exception:
            log.exception("reminder tick failed")
        await self.dispatch()

    async def dispatch(self) -> None:
        try:
            result = await self.dispatcher.run_once()
            if self.on_dispatch is not None:
                self.on_dispatch(result)
        except Exception:
            log.exception("outbox dispatch failed")

    def start(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(
            timezone=self.timezone,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 120},
        )
        soon = self.clock.now().astimezone(self.timezone) + timedelta(seconds=10)
        scheduler.add_job(
            self.tick_and_dispatch,
            IntervalTrigger(minutes=self.tick_minutes, timezone=self.timezone),
            id="reminder-tick",
            name="reminder tick",
            next_run_time=soon,
        )
        scheduler.add_job(
            self.dispatch,
            IntervalTrigger(seconds=self.dispatch_seconds, timezone=self.timezone),
            id="outbox-dispatch",
            name="outbox dispatch",
        )
        scheduler.start()
        self.scheduler = scheduler
        log.info(
            "reminders: on (tick every %s min, office hours %s-%s %s, %d configured admins)",
            self.tick_minutes,
            f"{self.policy.office_start:%H:%M}",
            f"{self.policy.office_end:%H:%M}",
            self.timezone.key,
            len(self.admins),
        )
        return scheduler

    async def stop(self) -> None:
        """Stop scheduling; a tick or dispatch in flight is cancelled (its claims are whole
        transactions, and a send cut short is sent again when its outbox lease runs out)."""
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=False)  # AsyncIOScheduler: takes effect on the loop's next turn
            for _ in range(3):
                await asyncio.sleep(0)


_current: ReminderScheduler | None = None


def start(
    db: Database,
    channel: Channel,
    *,
    admins: Iterable[str] = (),
    timezone: str = "Asia/Shanghai",
    clock: Clock | None = None,
    policy: StagePolicy = DEFAULT_POLICY,
    on_tick: Callable[[TickResult], None] | None = None,
    on_dispatch: Callable[[DispatchResult], None] | None = None,
) -> ReminderScheduler:
    """Start the process's reminder scheduler (call from within the running event loop)."""
    global _current
    if _current is not None:
        raise RuntimeError("the reminder scheduler is already running")
    _current = ReminderScheduler(
        db,
        channel,
        admins=admins,
        timezone=timezone,
        clock=clock,
        policy=policy,
        on_tick=on_tick,
        on_dispatch=on_dispatch,
    )
    _current.start()
    return _current


async def stop() -> None:
    """Stop the process's reminder scheduler, if one is running."""
    global _current
    running, _current = _current, None
    if running is not None:
        await running.stop()
