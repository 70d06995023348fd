"""Admin digests (daily overdue list, monthly summary): each goes out once per admin and key.

Digests are not about one unit, so they cannot use `reminder_send` (keyed by unit); they get their
own claim table with the same guarantee: the claim row (UNIQUE kind + key + recipient) and its
outbox row are written in one transaction, and only the caller that wins the insert queues it.
"""

# No `from __future__ import annotations` here: SQLModel resolves annotations itself.

from datetime import datetime
from typing import Any

from sqlalchemy import UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, SQLModel, select

from storage.db import Database
from storage.models import _at
from storage.outbox import enqueue


class DigestSend(SQLModel, table=True):
    """An admin digest claimed for sending."""

    __tablename__ = "digest_send"
    __table_args__ = (UniqueConstraint("kind", "key", "recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # "daily" | "monthly"
    key: str = Field(max_length=40)  # "2026-11-23" (day) | "2026-10" (month summarised)
    recipient: str = Field(max_length=64)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    claimed_at: datetime = _at()


async def claim_digest(
    db: Database,
    kind: str,
    key: str,
    recipient: str,
    outbox_payload: dict[str, Any],
    *,
    not_before: datetime | None = None,
) -> bool:
    """True when this call claimed the digest (and queued it); False when claimed before."""
    async with db.session() as session:
        message = enqueue(session, recipient, outbox_payload, not_before=not_before)
        await session.flush()
        session.add(DigestSend(kind=kind, key=key, recipient=recipient, outbox_id=message.id))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
    return True


async def digest_sent(db: Database, kind: str, key: str, recipient: str) -> bool:
    """Whether the digest was claimed already (for dry runs)."""
    async with db.session() as session:
        found = (
            await session.exec(
                select(DigestSend.id).where(
                    DigestSend.kind == kind,
                    DigestSend.key == key,
                    DigestSend.recipient == recipient,
                )
            )
        ).first()
    return found is not None
