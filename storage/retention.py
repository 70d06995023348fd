"""Retention of what users sent: the plaintext of inbound messages older than the cut-off is
blanked (the row stays: it is the idempotency record of that WeCom message, and its stored reply
still answers a late retry). The ledger is not touched: submissions are the assessment record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select

from storage.db import Database
from storage.models import InboundMessage
from storage.types import to_utc

PURGED = ""


async def purge_inbound_plaintext(db: Database, before: datetime) -> int:
    """Blank the content of inbound messages received before `before`; returns how many."""
    cutoff = to_utc(before)
    async with db.session() as session:
        result = await session.exec(
            update(InboundMessage)
            .where(col(InboundMessage.received_at) < cutoff, col(InboundMessage.content) != PURGED)
            .values(content=PURGED)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        return int(result.rowcount or 0)


async def count_inbound_with_plaintext(db: Database, before: datetime) -> int:
    async with db.session() as session:
        return (
            await session.exec(
                select(func.count())
                .select_from(InboundMessage)
                .where(
                    col(InboundMessage.received_at) < to_utc(before),
                    col(InboundMessage.content) != PURGED,
                )
            )
        ).one()
