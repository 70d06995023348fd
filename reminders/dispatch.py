"""Sending the outbox through the `Channel`: leased rows, retries with backoff, pacing.

Each row is leased to one dispatcher (storage.outbox.claim_due), sent, and marked sent right away;
a failed send is due again after a growing pause (`next_attempt_at`) and given up after
`max_attempts`. A dispatcher that dies mid-batch leaves its leased rows to run out; the next
dispatcher (here or on another instance) sends them then. Sends are paced (`pace` seconds apart)
to stay within WeCom's rate limits. Time comes from the injected clock; `sleep` is injectable too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from handlers.channel import Channel, deliver, reply_from_data
from handlers.types import Button, Card
from reminders.clock import Clock, local
from reminders.stages import DEFAULT_POLICY, StagePolicy
from reminders.tick import load_calendar
from scoring.periods import TZ
from storage.db import Database
from storage.outbox import DEFAULT_LEASE, OutboxItem, claim_due, mark_failed, mark_sent

log = logging.getLogger(__name__)


class PayloadError(ValueError):
    """An outbox payload this dispatcher cannot send (never retried)."""


@dataclass
class DispatchResult:
    sent: int = 0
    retried: int = 0
    gave_up: int = 0


def card_of(data: dict[str, Any]) -> Card:
    return Card(
        title=str(data.get("title", "")),
        description=str(data.get("description", "")),
        task_id=str(data.get("task_id", "")),
        buttons=tuple(Button(text=b["text"], key=b["key"]) for b in data.get("buttons", [])),
        url=str(data.get("url", "")),
    )


def is_reply(payload: dict[str, Any]) -> bool:
    """A chat reply that could not go back in-line (as opposed to a reminder or a notice)."""
    return payload.get("type") == "reply"


async def send_payload(channel: Channel, recipient: str, payload: dict[str, Any]) -> None:
    """Send one outbox payload: {"type": "card"|"markdown"|"text", "to": [user ids], ...}, or a
    chat reply {"type": "reply", "reply": reply_to_data(...), "response_code": ...}."""
    to = payload.get("to") or [recipient]
    user = "|".join(str(u) for u in to)  # WeCom's touser takes several ids joined by "|"
    kind = payload.get("type")
    if kind == "reply":
        try:
            reply = reply_from_data(payload["reply"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PayloadError(f"unreadable reply: {exc}") from None
        await deliver(channel, user, reply, response_code=str(payload.get("response_code", "")))
    elif kind == "card":
        await channel.send_card(user, card_of(payload["card"]))
    elif kind == "markdown":
        await channel.send_markdown(user, str(payload["markdown"]))
    elif kind == "text":
        await channel.send_text(user, str(payload["text"]))
    else:
        raise PayloadError(f"unknown outbox payload type {kind!r}")


class Dispatcher:
    def __init__(
        self,
        db: Database,
        channel: Channel,
        clock: Clock,
        *,
        batch: int = 20,
        pace: float = 0.1,
        max_attempts: int = 6,
        backoff: timedelta = timedelta(minutes=1),
        max_backoff: timedelta = timedelta(hours=1),
        lease: timedelta = DEFAULT_LEASE,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        policy: StagePolicy | None = DEFAULT_POLICY,
        channels: Mapping[str, Channel] | None = None,
        reply_attempts: int = 30,
        reply_backoff: timedelta = timedelta(seconds=5),
        reply_max_backoff: timedelta = timedelta(minutes=5),
    ) -> None:
        self.db, self.channel, self.clock = db, channel, clock
        # a payload naming its channel ("channel": "wecom_bot") goes out through that one
        self.channels = dict(channels or {})
        # chat replies are retried soon and for long (hours), at any time of day: someone waits
        self.reply_attempts, self.reply_backoff = reply_attempts, reply_backoff
        self.reply_max_backoff = reply_max_backoff
        self.batch, self.pace, self.max_attempts = batch, pace, max_attempts
        self.backoff, self.max_backoff, self.lease = backoff, max_backoff, lease
        self.sleep = sleep
        self.policy = policy  # office hours for retries (None: retry at any time)

    def retry_delay(self, attempts: int) -> timedelta:
        return min(self.backoff * 2 ** max(attempts - 1, 0), self.max_backoff)

    async def retry_time(self, attempts: int) -> datetime:
        """When to try again: after the backoff, moved into the next office hours of a working
        day (a reminder retried at night would wake people up)."""
        moment = local(self.clock.now() + self.retry_delay(attempts))
        policy = self.policy
        if policy is None:
            return moment
        calendar = await load_calendar(self.db, moment.date())
        day = moment.date()
        if moment.time() >= policy.office_end:
            day += timedelta(days=1)
        day = calendar.workday_on_or_after(day)
        start = datetime.combine(day, policy.office_start, TZ)
        return max(moment, start)

    async def run_once(self) -> DispatchResult:
        """Send everything due now, batch by batch, until nothing is due."""
        result = DispatchResult()
        first = True
        while True:
            items = await claim_due(
                self.db, now=self.clock.now(), limit=self.batch, lease=self.lease
            )
            if not items:
                return result
            for item in items:
                if not first and self.pace > 0:
                    await self.sleep(self.pace)
                first = False
                await self._send(item, result)

    def channel_for(self, payload: dict[str, Any]) -> Channel:
        name = payload.get("channel")
        if name and name in self.channels:
            return self.channels[name]
        return self.channel

    async def send_one(self, item: OutboxItem) -> DispatchResult:
        """Send one leased row now (a reply written a moment ago), with the usual bookkeeping."""
        result = DispatchResult()
        await self._send(item, result)
        return result

    async def _retry_at(self, item: OutboxItem) -> datetime | None:
        """When to try `item` again; None: give up."""
        if is_reply(item.payload):
            if item.attempts >= self.reply_attempts:
                return None
            delay = self.reply_backoff * 2 ** max(item.attempts - 1, 0)
            return self.clock.now() + min(delay, self.reply_max_backoff)
        if item.attempts >= self.max_attempts:
            return None
        return await self.retry_time(item.attempts)

    async def _send(self, item: OutboxItem, result: DispatchResult) -> None:
        try:
            await send_payload(self.channel_for(item.payload), item.recipient, item.payload)
        except asyncio.CancelledError:
            raise
        except PayloadError as exc:
            log.error("outbox %s: %s; given up", item.id, exc)
            await mark_failed(self.db, item.id, str(exc), retry_at=None)
            result.gave_up += 1
            return
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            retry_at = await self._retry_at(item)
            if retry_at is None:
                log.error(
                    "outbox %s: attempt %d failed (%s); given up", item.id, item.attempts, error
                )
                await mark_failed(self.db, item.id, error, retry_at=None)
                result.gave_up += 1
            else:
                log.warning("outbox %s: attempt %d failed (%s); retry at %s", item.id,
                            item.attempts, error, retry_at)  # fmt: skip
                await mark_failed(self.db, item.id, error, retry_at=retry_at)
                result.retried += 1
            return
        await mark_sent(self.db, item.id, at=self.clock.now())
        result.sent += 1
