"""The one inbound path every channel uses (WeCom callback, local chat, long connections).

A channel only speaks its protocol and hands over a verified `InboundMessage` with its raw text.
From there, the same guarantees for all:

1. record the message under its unique key, claimed by this process, before anything else — only
   a recorded message may be acknowledged; a repeat delivery is never handled again;
2. stamp it with the moment the user sent it (the channel's create time, bounded by our receipt);
3. handle one user's messages one at a time, in arrival order (`storage.turns`), media fetched
   meanwhile;
4. store the reply; a reply that cannot go back in-line (over the budget, too long, not in-line
   kind) is stored together with its outbox row in one transaction, then sent at once; the
   outbox retries it across crashes and outages;
5. recover: a message whose claim ran out without a reply (its process died) is handled again by
   exactly one sweep and answered actively.

A repeat delivery that arrives while the first is still being handled waits, within its own
budget, for the stored reply; an in-line reply is stored before it is returned, so a delivery
WeCom gave up on is answered by the retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from handlers.channel import Channel, reply_from_data, reply_to_data
from handlers.types import (
    Defer,
    Handler,
    InboundMessage,
    ReadsFirst,
    Reply,
    TextReply,
    UnitOfWork,
)
from reminders.clock import SystemClock
from reminders.dispatch import Dispatcher
from storage.db import Database
from storage.inbound import (
    InboundRecord,
    claim_unanswered,
    record_and_handle,
    record_inbound,
    release_claims,
    renew_claim,
    store_reply,
    store_reply_in,
    stored_reply,
)
from storage.outbox import claim_one
from storage.turns import Turn, TurnTaken, UserTurns

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

log = logging.getLogger(__name__)

MEDIA_TYPES = frozenset({"image", "voice", "video", "file"})
HANDLER_FAILED = (
    "抱歉，刚才这条消息没有处理成功。请稍后再发一次；如仍不行，请联系创模办的工作人员。"
)
STOP_GRACE = 10.0  # seconds handlers in progress may take to finish at shutdown
# a reply being sent is leased this long: if the process dies mid-send, the outbox sends it again
SEND_LEASE = timedelta(seconds=30)


class ReplyMode(StrEnum):
    """How a stored reply went out (the `mode` of the stored JSON). The recovery claim is not a
    mode: it lives in its own columns (`claimed_by`, `claimed_until`; migration 0005)."""

    INLINE = "inline"  # returned in the delivery's response; a repeat delivery gets it again
    ACTIVE = "active"  # through the outbox (message/send or the channel's equivalent)
    NONE = "none"  # nothing to say
    UNREADABLE = "unreadable"  # a recorded message that no longer parses
    PASSIVE = "passive"  # INLINE as written before 0005: {"mode": "passive", "type": ..., ...}


class _HandlerFailed(Exception):
    """The handler raised inside the message's transaction (its cause): the transaction is
    undone and the message recorded again with the error reply."""


class _Stored(Protocol):
    ref: str


MediaFetcher = Callable[[str], Awaitable[_Stored]]
Parser = Callable[[str], InboundMessage]


@dataclass(frozen=True)
class Port:
    """What the pipeline needs of a channel: how to re-read a recorded message (recovery), how
    to send actively (late replies), how to fetch media."""

    name: str
    parse: Parser
    channel: Channel | None = None
    fetch_media: MediaFetcher | None = None


@dataclass(frozen=True)
class Accepted:
    """The outcome of one delivery: answer `reply` in-line when `inline`, else nothing."""

    repeat: bool
    reply: Reply | None = None

    @property
    def inline(self) -> bool:
        return self.reply is not None


@dataclass(frozen=True)
class _Handled:
    """A message handled in its own transaction: the reply stored, whether it goes in-line,
    the outbox row that sends it otherwise, whether the handler failed."""

    reply: Reply | None
    inline: bool
    outbox_id: int | None
    failed: bool


@dataclass
class _InFlight:
    """One message being handled; decides at most once whether the reply goes in-line. Its
    first delivery waits for it, and so does a repeat delivery arriving meanwhile (WeCom gave up
    on the first): the reply goes in-line while any of them still waits within its budget."""

    deadline: float  # monotonic time until which the latest waiting delivery waits
    can_inline: Callable[[Reply], bool]
    waiting: int = 1  # deliveries still waiting for the reply
    done: asyncio.Event = field(default_factory=asyncio.Event)
    inline: Reply | None = None

    async def wait(self, deadline: float) -> Reply | None:
        """Wait until `deadline` for the reply; the in-line reply, or None (it goes actively)."""
        self.deadline = max(self.deadline, deadline)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.done.wait(), max(deadline - time.monotonic(), 0))
        except asyncio.CancelledError:  # the delivery was given up: it waits no more
            if not self.done.is_set() and self.inline is None:
                self.waiting -= 1
            raise
        if not self.done.is_set() and self.inline is None:
            self.waiting -= 1  # too late for this delivery
            return None
        await self.done.wait()  # the in-line reply was chosen: it is being stored
        return self.inline


def stored_json(reply: Reply | None, mode: ReplyMode) -> str:
    data: dict[str, Any] = {"mode": mode}
    if reply is not None:
        data["reply"] = reply_to_data(reply)
    return json.dumps(data, ensure_ascii=False)


def inline_of(stored: str | None) -> Reply | None:
    """The in-line reply stored for a message (what a repeat delivery is answered with)."""
    if not stored:
        return None
    try:
        data = json.loads(stored)
        if data.get("mode") not in (ReplyMode.INLINE, ReplyMode.PASSIVE):
            return None
        return reply_from_data(data.get("reply", data))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    return None


class InboundPipeline:
    def __init__(
        self,
        db: Database,
        handler: Handler,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        wall: Callable[[], datetime] = lambda: datetime.now(UTC),
        lease: float = 20.0,
        recover_every: float = 5.0,
        recover_window: float = 24 * 3600.0,
        sent_window: float = 600.0,
        dispatcher: Dispatcher | None = None,
    ) -> None:
        self.db = db
        self.handler = handler
        self.now = now  # the assessment clock: receipt time, the bound of a message's own time
        self.wall = wall  # real time, for claims (leases between live processes)
        self.lease = lease  # seconds a claim lasts unless renewed (recovery ~lease after a crash)
        self.recover_every, self.recover_window = recover_every, recover_window
        self.sent_window = sent_window  # how far before receipt a create time is believed
        self.instance = secrets.token_hex(8)
        self.turns = UserTurns(db)
        self.ports: dict[str, Port] = {}
        self.stats: Counter[str] = Counter()
        self._dispatcher = dispatcher
        self.default_channel: Channel | None = None
        self._inflight: dict[str, _InFlight] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = asyncio.Event()
        self._recovery: asyncio.Task[None] | None = None

    # --- wiring ----------------------------------------------------------------------------

    def add_port(self, port: Port) -> None:
        self.ports[port.name] = port
        self._dispatcher = None  # rebuilt with the new channel

    @property
    def dispatcher(self) -> Dispatcher | None:
        if self._dispatcher is None:
            channels = {n: p.channel for n, p in self.ports.items() if p.channel is not None}
            if not channels:
                return None
            default = self.default_channel or next(iter(channels.values()))
            self._dispatcher = Dispatcher(self.db, default, SystemClock(), channels=channels)
        return self._dispatcher

    def route_others(self, channel: Channel) -> None:
        """Rows naming no port (reminders, notices) go through `channel` — with several
        platforms, the router that picks each user's (bot/channel_router.py)."""
        self.default_channel = channel
        self._dispatcher = None

    async def start(self) -> None:
        """Claim at once what dead processes left unanswered (before the first delivery is
        taken), then handle it and sweep every `recover_every` seconds in the background."""
        self._stopping.clear()
        try:
            claimed = await self._claim()
        except Exception:
            log.exception("inbound: startup sweep failed; the next sweep will retry")
            claimed = []
        self._recovery = asyncio.ensure_future(self._recovery_loop(claimed))

    async def stop(self) -> None:
        """Stop sweeping; let handlers in progress finish and store their replies (up to
        `STOP_GRACE` seconds); give back what was not begun."""
        self._stopping.set()
        if self._recovery is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._recovery, STOP_GRACE)
        await self.drain(STOP_GRACE)
        await self.turns.close()

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for replies still being produced or sent in the background."""
        while self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                log.warning("inbound: %d background replies still running", len(pending))
                return

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- one delivery ----------------------------------------------------------------------

    def sent_at(self, created: datetime, received: datetime) -> datetime:
        """The moment the user sent it: the channel's create time when it is plausible (not
        after receipt, not more than `sent_window` before it), else the receipt time."""
        if received - timedelta(seconds=self.sent_window) <= created <= received:
            return created
        if created > received + timedelta(seconds=5) or created < received - timedelta(
            seconds=self.sent_window
        ):
            log.info(
                "inbound: create time %s out of bounds (received %s), using receipt time",
                created.isoformat(),
                received.isoformat(),
            )
        return received

    async def accept(
        self,
        msg: InboundMessage,
        raw: str,
        *,
        channel: str,
        budget: float,
        can_inline: Callable[[Reply], bool] = lambda _reply: True,
        started: float | None = None,
        on_recorded: Callable[[], Awaitable[None]] | None = None,
    ) -> Accepted:
        """Record, handle and answer one delivery. Raises when the message could not be
        recorded (then it must not be acknowledged). `budget` counts from `started` (monotonic;
        default now): the time the channel may still wait for an in-line reply. `on_recorded`
        runs once the message is recorded (new or repeat): where a channel acknowledges a frame
        apart from answering it (DingTalk's ACK)."""
        started = time.monotonic() if started is None else started
        deadline = started + budget
        received = self.now()
        turn = self.turns.reserve(msg.sender)  # its place in the user's queue: arrival order
        sent = self.sent_at(msg.created_at, received)
        if sent != msg.created_at:  # (a copy of the message costs more than the check)
            msg = replace(msg, created_at=sent)
        work = self._unit_of(msg, turn)
        # recorded and taken in hand even if this delivery is given up meanwhile (the caller
        # cancelled: its connection dropped): a retry finds it in hand, or its stored reply
        admitted = self._spawn(
            self._admit(msg, raw, channel, received, turn, work, deadline, can_inline)
        )
        record, handled, flight = await asyncio.shield(admitted)
        if on_recorded is not None:
            await on_recorded()
        if not record.new:
            self.stats["repeat"] += 1
            log.info("inbound: repeat delivery of %s", msg.key)
            return Accepted(True, await self._repeat_reply(msg.key, record.reply, deadline))
        self.stats["accepted"] += 1
        if handled is not None:  # recorded, handled and its reply stored in one commit
            self.stats["one_transaction"] += 1
            self.stats["handler_failed"] += handled.failed
            if handled.inline:
                self.stats["inline"] += 1
                return Accepted(False, handled.reply)
            if handled.outbox_id is not None:
                self.stats["late"] += 1
                self._spawn(self._send_now(handled.outbox_id))
            return Accepted(False, None)
        assert flight is not None
        reply = await flight.wait(deadline)
        if reply is None and not flight.done.is_set():
            self.stats["late"] += 1
            log.info("inbound: %s over the %.1fs budget, replying later", msg.key, budget)
        return Accepted(False, reply)

    async def _admit(
        self,
        msg: InboundMessage,
        raw: str,
        channel: str,
        received: datetime,
        turn: Turn,
        work: UnitOfWork | None,
        deadline: float,
        can_inline: Callable[[Reply], bool],
    ) -> tuple[InboundRecord, _Handled | None, _InFlight | None]:
        """Record the delivery (and handle it, when it can be in the same transaction); a new
        message not handled yet is put in hand: its handling starts in the user's turn."""
        try:
            if work is None:
                record, handled = await self._record(msg, raw, channel, received), None
            else:
                record, handled = await self._record_and_handle(
                    msg, raw, channel, received, work, deadline, can_inline
                )
        except BaseException:
            turn.release()
            raise
        if not record.new or handled is not None:
            turn.release()
            return record, handled, None
        flight = _InFlight(deadline, can_inline)
        self._inflight[msg.key] = flight
        self._spawn(self._run(msg, channel, flight, turn))
        return record, None, flight

    def _unit_of(self, msg: InboundMessage, turn: Turn) -> UnitOfWork | None:
        """The handler's unit of work for `msg` when the handler only touches the database for
        it and no earlier message of the user is still in hand (its turn is free)."""
        in_one = getattr(self.handler, "in_one", None)
        if in_one is None or msg.msg_type in MEDIA_TYPES:
            return None
        if turn.ahead is not None and not turn.ahead.done():
            return None
        work: UnitOfWork | None = in_one(msg)
        return work

    async def _record_and_handle(
        self,
        msg: InboundMessage,
        raw: str,
        channel: str,
        received: datetime,
        work: UnitOfWork,
        deadline: float,
        can_inline: Callable[[Reply], bool],
    ) -> tuple[InboundRecord, _Handled | None]:
        """Record the message, handle it and store its reply (with its outbox row when it does
        not go in-line) in one transaction on the database's thread. If the handler fails, or
        defers (the message needs more than the database), or another instance has the user's
        turn, nothing of that transaction is kept: the message is recorded again on its own —
        with the error reply when the handler failed, or to be handled as usual (handling None).
        (No savepoint around the handler: on PostgreSQL it costs two round trips per message,
        and the failing path is the rare one.)"""

        def handle(conn: Connection) -> _Handled:
            try:
                reply = work(conn)
            except Defer:
                raise
            except Exception as exc:
                raise _HandlerFailed from exc
            return self._answer(conn, msg, channel, reply, deadline, can_inline, failed=False)

        def failed(conn: Connection) -> _Handled:
            reply = TextReply(HANDLER_FAILED)
            return self._answer(conn, msg, channel, reply, deadline, can_inline, failed=True)

        values = self._values(msg, raw, channel, received)
        reads = work.reads if isinstance(work, ReadsFirst) else ()
        try:  # the record takes the user's turn (TurnTaken: another instance has it)
            return await record_and_handle(self.db, handle, turn=True, reads=reads, **values)
        except (Defer, TurnTaken):
            return await record_inbound(self.db, **values), None
        except _HandlerFailed as exc:
            log.error("inbound: handler failed for %s", msg.key, exc_info=exc.__cause__)
            return await record_and_handle(self.db, failed, **values)

    def _answer(
        self,
        conn: Connection,
        msg: InboundMessage,
        channel: str,
        reply: Reply | None,
        deadline: float,
        can_inline: Callable[[Reply], bool],
        *,
        failed: bool,
    ) -> _Handled:
        """Store the reply in the message's transaction: in-line when the delivery still waits
        and can carry it, else with its outbox row."""
        if reply is None:
            store_reply_in(conn, msg.key, stored_json(None, ReplyMode.NONE))
            return _Handled(None, False, None, failed)
        if time.monotonic() < deadline and can_inline(reply):
            store_reply_in(conn, msg.key, stored_json(reply, ReplyMode.INLINE))
            return _Handled(reply, True, None, failed)
        stored = stored_json(reply, ReplyMode.ACTIVE)
        outbox = store_reply_in(conn, msg.key, stored, self._outbox(msg, channel, reply))
        return _Handled(reply, False, outbox, failed)

    async def _record(
        self, msg: InboundMessage, raw: str, channel: str, received: datetime
    ) -> InboundRecord:
        return await record_inbound(self.db, **self._values(msg, raw, channel, received))

    def _values(
        self, msg: InboundMessage, raw: str, channel: str, received: datetime
    ) -> dict[str, Any]:
        return {
            "key": msg.key,
            "sender": msg.sender,
            "msg_type": msg.msg_type,
            "received_at": received,
            "content": raw,
            "channel": channel,
            "claimed_by": self.instance,
            "claimed_until": self.wall() + timedelta(seconds=self.lease),
        }

    async def send_actively(self, msg: InboundMessage, channel: str, reply: Reply) -> None:
        """An in-line reply the channel could not deliver after all (its connection dropped
        between the answer and its sending): stored anew with its outbox row and sent actively."""
        outbox_id = await self._store(msg, channel, reply, None)
        if outbox_id is not None:
            await self._send_now(outbox_id)

    async def _repeat_reply(self, key: str, stored: str | None, deadline: float) -> Reply | None:
        """The in-line reply for a repeat delivery. While the message is still being handled
        here, this delivery joins the wait (the reply may go in-line with it); handled by
        another instance, the stored reply is polled for within the budget."""
        flight = self._inflight.get(key)
        if stored is None and flight is not None and not flight.done.is_set():
            flight.waiting += 1
            return await flight.wait(deadline)
        while stored is None:  # read at least once: it may have been stored since recording
            found = await stored_reply(self.db, key)
            stored = found.reply if found else None
            if stored is not None or time.monotonic() >= deadline:
                break
            await asyncio.sleep(min(0.05, max(deadline - time.monotonic(), 0)))
        return inline_of(stored)

    async def _run(
        self, msg: InboundMessage, channel: str, flight: _InFlight | None, turn: Turn
    ) -> None:
        """Handle `msg` in its user's turn and store (and, when not in-line, send) the reply."""
        port = self.ports.get(channel)
        download = None
        if port and port.fetch_media and msg.media_id and msg.msg_type in MEDIA_TYPES:
            download = asyncio.ensure_future(self._fetch(port.fetch_media, msg))
        renewal = asyncio.ensure_future(self._renew(msg.key))
        try:
            async with turn:
                if download is not None:
                    msg = await download
                reply = await self._handle(msg)
                outbox_id = await self._store(msg, channel, reply, flight)
            if outbox_id is not None:  # sent outside the turn: an outage holds up nobody
                await self._send_now(outbox_id)
        except Exception:
            log.exception("inbound: %s could not be finished; the recovery sweep will", msg.key)
        finally:
            turn.release()
            renewal.cancel()
            if flight is not None:
                flight.done.set()
                self._inflight.pop(msg.key, None)

    async def _fetch(self, fetch: MediaFetcher, msg: InboundMessage) -> InboundMessage:
        assert msg.media_id is not None
        try:
            stored = await fetch(msg.media_id)
            return replace(msg, attachment=stored.ref)
        except Exception as exc:
            log.warning("inbound: media of %s not downloaded: %s", msg.key, exc)
            return replace(msg, attachment_error=str(exc)[:200])

    async def _handle(self, msg: InboundMessage) -> Reply | None:
        try:
            return await self.handler(msg)
        except Exception:
            log.exception("inbound: handler failed for %s", msg.key)
            self.stats["handler_failed"] += 1
            return TextReply(HANDLER_FAILED)

    async def _renew(self, key: str) -> None:
        """Keep the claim alive while a long handler runs (most finish before the first renewal)."""
        while True:
            await asyncio.sleep(self.lease / 3)
            until = self.wall() + timedelta(seconds=self.lease)
            if not await renew_claim(self.db, key, self.instance, until):
                return

    async def _store(
        self, msg: InboundMessage, channel: str, reply: Reply | None, flight: _InFlight | None
    ) -> int | None:
        """Store the reply: in-line when the delivery still waits for it and can carry it,
        else with its outbox row (whose id is returned, to send it now)."""
        if reply is None:
            await store_reply(self.db, msg.key, stored_json(None, ReplyMode.NONE))
            return None
        if (
            flight is not None
            and flight.waiting > 0
            and time.monotonic() < flight.deadline
            and flight.can_inline(reply)
        ):
            flight.inline = reply  # decided: the waiting delivery returns it once it is stored
            await store_reply(self.db, msg.key, stored_json(reply, ReplyMode.INLINE))
            self.stats["inline"] += 1
            return None
        return await store_reply(
            self.db,
            msg.key,
            stored_json(reply, ReplyMode.ACTIVE),
            outbox=self._outbox(msg, channel, reply),
        )

    @staticmethod
    def _outbox(msg: InboundMessage, channel: str, reply: Reply) -> tuple[str, dict[str, Any]]:
        """The outbox row (recipient, payload) of a reply sent actively."""
        payload: dict[str, Any] = {
            "type": "reply",
            "channel": channel,
            "key": msg.key,
            "reply": reply_to_data(reply),
        }
        if msg.response_code:
            payload["response_code"] = msg.response_code
        return msg.sender, payload

    async def _send_now(self, outbox_id: int) -> None:
        """Try the reply's outbox row at once; a failure leaves it to the outbox's retries."""
        dispatcher = self.dispatcher
        if dispatcher is None:
            log.error(
                "inbound: no channel to send outbox row %s; it waits in the outbox", outbox_id
            )
            return
        item = await claim_one(self.db, outbox_id, lease=SEND_LEASE)
        if item is None:
            return
        result = await dispatcher.send_one(item)
        self.stats["active"] += result.sent
        self.stats["send_failed"] += result.retried + result.gave_up

    # --- recovery --------------------------------------------------------------------------

    async def _recovery_loop(self, claimed: list[Any] | None) -> None:
        while not self._stopping.is_set():
            try:
                if claimed is not None:  # the start's sweep: its claims, and no second sweep
                    await self._recover(claimed)
                    claimed = None
                else:
                    await self.recover()
                dispatcher = self.dispatcher
                if dispatcher is not None:
                    await dispatcher.run_once()
            except Exception:
                log.exception("inbound: recovery sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.recover_every)

    async def recover(self) -> int:
        """Handle again every recorded message whose claim ran out without a reply (its process
        died), and answer it actively. Returns how many were handled."""
        return await self._recover(await self._claim())

    async def _claim(self) -> list[Any]:
        wall = self.wall()
        return await claim_unanswered(
            self.db,
            claimant=self.instance,
            now=wall,
            until=wall + timedelta(seconds=self.lease),
            newer_than=self.now() - timedelta(seconds=self.recover_window),
        )

    async def _recover(self, rows: list[Any]) -> int:
        handled = 0
        for i, row in enumerate(rows):
            if self._stopping.is_set():  # give the rest back for the next start
                await release_claims(self.db, [r.key for r in rows[i:]], self.instance)
                break
            port = self.ports.get(row.channel)
            try:
                if port is None:
                    raise ValueError(f"no channel {row.channel!r} to read it")
                msg = port.parse(row.content)
            except Exception as exc:
                log.error("inbound: recorded message %s cannot be read again: %s", row.key, exc)
                await store_reply(self.db, row.key, stored_json(None, ReplyMode.UNREADABLE))
                continue
            log.warning("inbound: recovering %s (no reply was stored)", row.key)
            self.stats["recovered"] += 1
            handled += 1
            msg = replace(msg, created_at=self.sent_at(msg.created_at, row.received_at))
            await self._run(msg, row.channel, None, self.turns.reserve(msg.sender))
        return handled
