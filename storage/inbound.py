"""The idempotency record of inbound messages, and who is handling each one.

`record_inbound` inserts the message under its unique key and relies on the database's UNIQUE
constraint: of two concurrent deliveries of one message exactly one gets `new=True`; the other
(and every later retry) gets `new=False` with the reply stored so far (None if not yet stored).

The process that records a message claims it (`claimed_by`, `claimed_until`) and renews the claim
while its handler runs; `store_reply` ends the claim. A message with no reply whose claim ran out
was lost with its process: `claim_unanswered` hands it to exactly one recovery sweep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.models import InboundMessage
from storage.outbox import enqueue
from storage.types import to_utc, utcnow


@dataclass(frozen=True)
class InboundRecord:
    id: int
    new: bool
    reply: str | None


async def record_inbound(
    db: Database,
    *,
    key: str,
    sender: str,
    msg_type: str,
    received_at: datetime,
    content: str,
    channel: str = "wecom",
    claimed_by: str | None = None,
    claimed_until: datetime | None = None,
) -> InboundRecord:
    """Record a delivered message durably (committed before returning), claimed by the caller."""
    row = InboundMessage(
        key=key,
        sender=sender,
        msg_type=msg_type,
        received_at=to_utc(received_at),
        content=content,
        channel=channel,
        claimed_by=claimed_by,
        claimed_until=to_utc(claimed_until) if claimed_until else None,
    )
    async with db.session() as session:
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
        else:
            assert row.id is not None
            return InboundRecord(id=row.id, new=True, reply=None)
    found = await stored_reply(db, key)
    if found is None:  # the IntegrityError was not about the key: let the caller see it
        raise RuntimeError(f"inbound message {key!r} could not be recorded")
    return found


async def stored_reply(db: Database, key: str) -> InboundRecord | None:
    """The record of `key` with the reply stored so far (None: no such message)."""
    async with db.session() as session:
        found = (
            await session.exec(
                select(InboundMessage.id, InboundMessage.reply).where(InboundMessage.key == key)
            )
        ).one_or_none()
    if found is None:
        return None
    row_id, reply = found
    assert row_id is not None
    return InboundRecord(id=row_id, new=False, reply=reply)


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
    async with db.session() as session:
        await session.exec(
            update(InboundMessage)
            .where(col(InboundMessage.key) == key)
            .values(reply=reply, replied_at=utcnow(), claimed_by=None, claimed_until=None)
        )
        row = enqueue(session, outbox[0], outbox[1]) if outbox else None
        await session.commit()
    return row.id if row is not None else None


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
