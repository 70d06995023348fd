"""Reminder sends: each (rule, unit, period, stage) goes out once, across restarts and instances.

`claim_reminder` inserts the send row (UNIQUE on rule, unit, period, stage) and its outbox row in
one transaction: the caller that wins the insert owns the reminder, the outbox delivers it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.models import ReminderSend
from storage.outbox import enqueue


async def claim_reminder(
    db: Database,
    rule: str,
    unit_id: int,
    period: str,
    stage: str,
    outbox_payload: dict[str, Any],
    *,
    recipient: str | None = None,
    not_before: datetime | None = None,
) -> bool:
    """True when this call claimed the reminder (and queued it); False when it was claimed before.

    `recipient` defaults to the payload's "recipient" or "touser" field.
    """
    to = recipient or outbox_payload.get("recipient") or outbox_payload.get("touser") or ""
    async with db.session() as session:
        message = enqueue(session, str(to), outbox_payload, not_before=not_before)
        await session.flush()
        session.add(
            ReminderSend(
                rule=rule, unit_id=unit_id, period=period, stage=stage, outbox_id=message.id
            )
        )
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            return False
    return True


async def reminder_sent(db: Database, rule: str, unit_id: int, period: str, stage: str) -> bool:
    """Whether the reminder was claimed already (for dry runs; claiming is what decides)."""
    async with db.session() as session:
        found = (
            await session.exec(
                select(ReminderSend.id).where(
                    ReminderSend.rule == rule,
                    ReminderSend.unit_id == unit_id,
                    ReminderSend.period == period,
                    ReminderSend.stage == stage,
                )
            )
        ).first()
    return found is not None
