"""The idempotency record of inbound messages.

`record_inbound` inserts the message under its unique key and relies on the database's UNIQUE
constraint: of two concurrent deliveries of one message exactly one gets `new=True`; the other
(and every later retry) gets `new=False` with the reply stored so far (None if not yet stored).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from storage.db import Database
from storage.models import InboundMessage
from storage.types import to_utc, utcnow


@dataclass(frozen=True)
class InboundRecord:
    id: int
    new: bool
    reply: str | None


async def record_inbound(
    db: Database, *, key: str, sender: str, msg_type: str, received_at: datetime, content: str
) -> InboundRecord:
    """Record a delivered message durably (committed before returning)."""
    row = InboundMessage(
        key=key, sender=sender, msg_type=msg_type, received_at=to_utc(received_at), content=content
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
    async with db.session() as session:
        found = (
            await session.exec(
                select(InboundMessage.id, InboundMessage.reply).where(InboundMessage.key == key)
            )
        ).one_or_none()
    if found is None:  # the IntegrityError was not about the key: let the caller see it
        raise RuntimeError(f"inbound message {key!r} could not be recorded")
    return InboundRecord(id=found.id, new=False, reply=found.reply)


async def store_reply(db: Database, key: str, reply: str) -> None:
    """Store the reply given to the message `key` (what a retried delivery will get)."""
    async with db.session() as session:
        await session.exec(
            update(InboundMessage)
            .where(InboundMessage.key == key)
            .values(reply=reply, replied_at=utcnow())
        )
        await session.commit()


async def get_inbound(db: Database, key: str) -> InboundMessage | None:
    async with db.session() as session:
        return (
            await session.exec(select(InboundMessage).where(InboundMessage.key == key))
        ).one_or_none()


RECOVERING = '{"mode": "recovering"'  # the start of every claim marker (older ones are exactly
# '{"mode": "recovering"}', from before claims carried their claimant)


def claim_marker(claimant: str) -> str:
    """What a claimed message holds as its reply while `claimant` (one recovery sweep) handles it."""
    return json.dumps({"mode": "recovering", "claimant": claimant})


def _claimed() -> ColumnElement[bool]:
    return col(InboundMessage.reply).startswith(RECOVERING, autoescape=True)


async def claim_unanswered(
    db: Database,
    *,
    claimant: str,
    older_than: datetime,
    newer_than: datetime,
    abandoned_before: datetime | None = None,
    limit: int = 50,
) -> list[InboundMessage]:
    """Messages recorded between the two times that never got a reply stored (the process died
    while handling them), each claimed for re-processing by exactly one caller: the claim is a
    conditional UPDATE, so two instances sweeping together never both win a row.

    A claim is itself a reply-to-come (`claim_marker(claimant)`, stamped in `replied_at`, renewed
    by `renew_claim` as each message is taken up); one stamped before `abandoned_before` (or not
    at all) belongs to a sweep that died or was cut off, and is claimed again."""
    claimable = col(InboundMessage.reply).is_(None)
    if abandoned_before is not None:
        claimable = or_(
            claimable,
            and_(
                _claimed(),
                or_(
                    col(InboundMessage.replied_at).is_(None),
                    col(InboundMessage.replied_at) < to_utc(abandoned_before),
                ),
            ),
        )
    async with db.session() as session:
        rows = (
            await session.exec(
                select(InboundMessage)
                .where(
                    claimable,
                    InboundMessage.received_at < to_utc(older_than),
                    InboundMessage.received_at > to_utc(newer_than),
                )
                .order_by(col(InboundMessage.id))
                .limit(limit)
            )
        ).all()
        claimed: list[InboundMessage] = []
        for row in rows:
            result = await session.exec(
                update(InboundMessage)
                .where(col(InboundMessage.id) == row.id, claimable)
                .values(reply=claim_marker(claimant), replied_at=utcnow())
            )
            if result.rowcount == 1:
                claimed.append(row)
        await session.commit()
    return claimed


async def renew_claim(db: Database, key: str, claimant: str) -> bool:
    """Stamp the claim anew just before handling the message; False when the claim is no longer
    `claimant`'s (answered meanwhile, or taken over after it looked abandoned): then skip it."""
    async with db.session() as session:
        result = await session.exec(
            update(InboundMessage)
            .where(
                col(InboundMessage.key) == key,
                col(InboundMessage.reply) == claim_marker(claimant),
            )
            .values(replied_at=utcnow())
        )
        await session.commit()
    return result.rowcount == 1


async def release_claims(db: Database, keys: list[str], claimant: str) -> None:
    """Give back claims not handled (the sweep is stopping): the next sweep takes them at once."""
    if not keys:
        return
    async with db.session() as session:
        await session.exec(
            update(InboundMessage)
            .where(
                col(InboundMessage.key).in_(keys),
                col(InboundMessage.reply) == claim_marker(claimant),
            )
            .values(reply=None, replied_at=None)
        )
        await session.commit()
