"""Reminder sends: each (rule, unit, period, stage) goes out once, across restarts and instances.

`claim_reminder` inserts the send row (UNIQUE on rule, unit, period, stage) and its outbox row in
one transaction: the caller that wins the insert owns the reminder, the outbox delivers it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.dialects import insert_for
from storage.models import ReminderSend
from storage.outbox import enqueue
from storage.types import to_utc, utcnow


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
                rule=rule,
                unit_id=unit_id,
                period=period,
                stage=stage,
                outbox_id=message.id,
                claimed_at=to_utc(not_before) if not_before is not None else utcnow(),
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


Claim = tuple[str, int, str, str]  # (rule, unit id, period, stage)


async def claim_reminders(
    db: Database,
    claims: Sequence[Claim],
    payload_of: Callable[[list[Claim]], dict[str, Any]],
    *,
    recipient: str,
    now: datetime,
) -> tuple[list[Claim], int | None]:
    """Claim every free one of `claims` (INSERT … ON CONFLICT DO NOTHING, one statement each)
    together with ONE outbox row whose payload `payload_of` builds from the claims won: several
    deadlines of a unit go out as one message, each still claimed under its own key. (the claims
    won, the outbox row's id); nothing is written when none was free."""
    make = insert_for(db.dialect)
    table = ReminderSend.__table__  # type: ignore[attr-defined]
    won: list[Claim] = []
    async with db.session() as session:
        message = enqueue(session, recipient, {}, not_before=now)
        await session.flush()
        for rule, unit_id, period, stage in claims:
            statement = (
                make(table)
                .values(
                    rule=rule,
                    unit_id=unit_id,
                    period=period,
                    stage=stage,
                    outbox_id=message.id,
                    claimed_at=to_utc(now),
                )
                .on_conflict_do_nothing(index_elements=["rule", "unit_id", "period", "stage"])
                .returning(table.c.id)
            )
            if (await session.exec(statement)).scalar() is not None:
                won.append((rule, unit_id, period, stage))
        if not won:
            await session.rollback()
            return [], None
        message.payload = payload_of(won)
        await session.commit()
        return won, message.id
