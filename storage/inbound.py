"""The idempotency record of inbound messages, and who is handling each one.

`record_inbound` inserts the message under its unique key and relies on the database's UNIQUE
constraint: of two concurrent deliveries of one message exactly one gets `new=True`; the other
(and every later retry) gets `new=False` with the reply stored so far (None if not yet stored).

The process that records a message claims it (`claimed_by`, `claimed_until`) and renews the claim
while its handler runs; `store_reply` ends the claim. A message with no reply whose claim ran out
was lost with its process: `claim_unanswered` hands it to exactly one recovery sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Integer, bindparam, insert, or_, text, update
from sqlalchemy.engine import Connection
from sqlmodel import col, select

from storage.db import Database, defer_write, flush_deferred
from storage.models import InboundMessage, Outbox
from storage.prepared import Ahead, InsertOnce, Prepared, forget_reads_ahead
from storage.turns import TURN_LOCK_CLASS, TurnTaken, turn_lock, user_key
from storage.types import to_utc, utcnow

T = TypeVar("T")


@dataclass(frozen=True)
class InboundRecord:
    id: int
    new: bool
    reply: str | None


_in = InboundMessage.__table__  # type: ignore[attr-defined]
_out = Outbox.__table__  # type: ignore[attr-defined]
_STORED = Prepared(select(_in.c.id, _in.c.reply).where(_in.c.key == bindparam("key")))
_STORE_REPLY = Prepared(
    update(_in)
    .where(_in.c.key == bindparam("k"))
    .values(
        reply=bindparam("reply"), replied_at=bindparam("at"), claimed_by=None, claimed_until=None
    )
)
_ENQUEUE = insert(_out).returning(_out.c.id)


_COLUMNS = [
    "key",
    "sender",
    "msg_type",
    "received_at",
    "content",
    "channel",
    "claimed_by",
    "claimed_until",
]
# the first of two deliveries of a message is the one whose row is new
_RECORD = InsertOnce(_in, "key", _COLUMNS)


def _record(conn: Connection, values: dict[str, Any]) -> InboundRecord | None:
    inserted = _RECORD.new_id(conn, values)
    if inserted is not None:
        return InboundRecord(id=inserted, new=True, reply=None)
    return _stored(conn, values["key"])


def _stored(conn: Connection, key: str) -> InboundRecord | None:
    flush_deferred(conn)  # (a reply of this transaction still kept back: written first)
    found = _STORED.first(conn, {"key": key})
    return InboundRecord(id=found[0], new=False, reply=found[1]) if found else None


# PostgreSQL: the record that also takes its sender's turn (the advisory lock in RETURNING)
_RECORD_IN_TURN = InsertOnce(
    _in,
    "key",
    _COLUMNS,
    also=[turn_lock(bindparam("c", type_=Integer), bindparam("k", type_=Integer))],
)


def _record_in_turn(
    conn: Connection, values: dict[str, Any], reads: tuple[Ahead, ...] = ()
) -> InboundRecord | None:
    """`_record`, and for a new message its sender's turn taken in the same statement
    (PostgreSQL: one round trip instead of two); TurnTaken when another instance has the turn.
    `reads`: the handler's first reads, made in the same statement on PostgreSQL
    (`first_reading_ahead`). On SQLite (one writer process) just `_record`."""
    if conn.dialect.name != "postgresql":
        return _record(conn, values)
    row = _RECORD_IN_TURN.new_row(
        conn, {**values, "c": TURN_LOCK_CLASS, "k": user_key(values["sender"])}, reads
    )
    if row is None:  # recorded before: a repeat, nothing to take
        return _stored(conn, values["key"])
    if not row[1]:
        raise TurnTaken(values["sender"])
    return InboundRecord(id=int(row[0]), new=True, reply=None)


async def record_inbound(db: Database, **values: Any) -> InboundRecord:
    """Record a delivered message durably (committed before returning), claimed by the caller:
    one statement built once (and, for a repeat, one read), one transaction, one hop. `values`:
    the message's columns as `_values` takes them (key, sender, msg_type, received_at, content,
    channel, claimed_by, claimed_until)."""
    found = await db.run_write(_record, _values(**values))
    if found is None:  # neither inserted nor there: let the caller see it
        raise RuntimeError(f"inbound message {values['key']!r} could not be recorded")
    return found


def _values(
    *,
    key: str,
    sender: str,
    msg_type: str,
    received_at: datetime,
    content: str,
    channel: str = "wecom",
    claimed_by: str | None = None,
    claimed_until: datetime | None = None,
) -> dict[str, Any]:
    return {
        "key": key,
        "sender": sender,
        "msg_type": msg_type,
        "received_at": to_utc(received_at),
        "content": content,
        "channel": channel,
        "claimed_by": claimed_by,
        "claimed_until": to_utc(claimed_until) if claimed_until else None,
    }


def _record_and_handle(
    conn: Connection,
    values: dict[str, Any],
    handle: Callable[[Connection], T],
    turn: bool,
    reads: tuple[Ahead, ...],
) -> tuple[InboundRecord, T | None]:
    try:  # `reads` are read ahead only in the turn-taking record (on PostgreSQL)
        found = _record_in_turn(conn, values, reads) if turn else _record(conn, values)
        if found is None:
            raise RuntimeError(f"inbound message {values['key']!r} could not be recorded")
        return found, (handle(conn) if found.new else None)
    finally:
        if reads and turn:
            forget_reads_ahead(conn)


async def record_and_handle(
    db: Database,
    handle: Callable[[Connection], T],
    *,
    turn: bool = False,
    reads: tuple[Ahead, ...] = (),
    **values: Any,
) -> tuple[InboundRecord, T | None]:
    """Record a delivered message (as `record_inbound`) and, when it is new, run
    `handle(conn)` in the same transaction — one commit for the message, its handling and its
    stored reply (`handle` stores it with `store_reply_in`). Returns the record and what
    `handle` returned (None for a repeat delivery). Nothing is committed when `handle` raises.
    `turn`: a new message also takes its sender's turn across instances for the transaction
    (storage.turns), in the record's own statement; when another instance has it,
    `TurnTaken` is raised and nothing is committed. `reads`: the statements `handle` runs
    first, with their parameters; with `turn` on PostgreSQL they are read in the record's
    own statement, and `handle` running them gets their rows without a round trip."""
    return await db.run_write(_record_and_handle, _values(**values), handle, turn, reads)


async def stored_reply(db: Database, key: str) -> InboundRecord | None:
    """The record of `key` with the reply stored so far (None: no such message)."""
    return await db.run_small(_stored, key)


def store_reply_in(
    conn: Connection, key: str, reply: str, outbox: tuple[str, dict[str, Any]] | None = None
) -> int | None:
    """`store_reply` inside the caller's transaction. In a PostgreSQL group's transaction a
    reply without an outbox row is written with the group's other replies, in one statement
    just before its COMMIT (`storage.db.defer_write`): a round trip a message fewer."""
    now = utcnow()
    if outbox is None and defer_write(conn, _store_replies, (key, reply, now)):
        return None
    _STORE_REPLY.run(conn, {"k": key, "reply": reply, "at": now})
    if outbox is None:
        return None
    row = Outbox(recipient=outbox[0], payload=outbox[1], next_attempt_at=now)  # its defaults
    values = {c.name: getattr(row, c.name) for c in _out.c if c.name != "id"}
    return int(conn.execute(_ENQUEUE, values).scalar_one())


# PostgreSQL: the replies of a group's transaction, stored as `_STORE_REPLY` stores one
_STORE_REPLIES = Prepared(
    text(
        "UPDATE inbound_message AS m SET reply = v.reply, replied_at = v.at,"
        " claimed_by = NULL, claimed_until = NULL"
        " FROM unnest(CAST(:keys AS VARCHAR[]), CAST(:replies AS TEXT[]),"
        " CAST(:ats AS TIMESTAMPTZ[])) AS v(key, reply, at)"
        " WHERE m.key = v.key"
    )
)


def _store_replies(conn: Connection, items: list[tuple[str, str, datetime]]) -> None:
    keys, replies, ats = zip(*items, strict=True)
    _STORE_REPLIES.run(conn, {"keys": list(keys), "replies": list(replies), "ats": list(ats)})


async def store_reply(
    db: Database,
    key: str,
    reply: str,
    *,
    outbox: tuple[str, dict[str, Any]] | None = None,
) -> int | None:
    """Store the reply given to the message `key` (what a retried delivery will get) and end its
    claim; with `outbox=(recipient, payload)` the reply's outbox row is written in the same
    transaction, so a reply stored for active sending is never lost. Returns the outbox row id."""
    return await db.run_write(store_reply_in, key, reply, outbox)


async def get_inbound(db: Database, key: str) -> InboundMessage | None:
    async with db.session() as session:
        return (
            await session.exec(select(InboundMessage).where(InboundMessage.key == key))
        ).one_or_none()


async def renew_claim(db: Database, key: str, claimant: str, until: datetime) -> bool:
    """Extend `claimant`'s claim on an unanswered message; False when it is no longer theirs
    (answered meanwhile, or taken over after the claim ran out): then stop handling it."""
    async with db.session() as session:
        result = await session.exec(
            update(InboundMessage)
            .where(
                col(InboundMessage.key) == key,
                col(InboundMessage.claimed_by) == claimant,
                col(InboundMessage.reply).is_(None),
            )
            .values(claimed_until=to_utc(until))
        )
        await session.commit()
    return result.rowcount == 1


async def claim_unanswered(
    db: Database,
    *,
    claimant: str,
    now: datetime,
    until: datetime,
    newer_than: datetime,
    limit: int = 50,
) -> list[InboundMessage]:
    """Messages recorded after `newer_than` that have no reply and whose claim ran out before
    `now` (their process died while handling them), each claimed for `claimant` until `until`.
    The claim is a conditional UPDATE, so two instances sweeping together never both win a row."""
    now = to_utc(now)
    claimable = (
        col(InboundMessage.reply).is_(None),
        or_(col(InboundMessage.claimed_until).is_(None), col(InboundMessage.claimed_until) < now),
    )
    async with db.session() as session:
        rows = (
            await session.exec(
                select(InboundMessage)
                .where(*claimable, InboundMessage.received_at > to_utc(newer_than))
                .order_by(col(InboundMessage.id))
                .limit(limit)
            )
        ).all()
        claimed: list[InboundMessage] = []
        for row in rows:
            result = await session.exec(
                update(InboundMessage)
                .where(col(InboundMessage.id) == row.id, *claimable)
                .values(claimed_by=claimant, claimed_until=to_utc(until))
            )
            if result.rowcount == 1:
                claimed.append(row)
        await session.commit()
    return claimed


async def release_claims(db: Database, keys: list[str], claimant: str) -> None:
    """Give back claims not handled (the process is stopping): the next sweep takes them at once."""
    if not keys:
        return
    async with db.session() as session:
        await session.exec(
            update(InboundMessage)
            .where(col(InboundMessage.key).in_(keys), col(InboundMessage.claimed_by) == claimant)
            .values(claimed_by=None, claimed_until=None)
        )
        await session.commit()
