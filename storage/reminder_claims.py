"""Which reminders and digests were claimed already, in bulk (one query per kind), so that a
tick over many units does not ask once per reminder. Claiming itself stays with
`storage.reminders.claim_reminder` and `storage.reminder_digests.claim_digest`: this is only a
shortcut past rows that are certainly taken."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlmodel import col, select

from storage.db import Database
from storage.models import ReminderSend
from storage.reminder_digests import DigestSend


async def claimed_reminders(db: Database, periods: Iterable[str]) -> set[tuple[str, int, str, str]]:
    """(rule, unit id, period, stage) of every claimed reminder for these periods."""
    wanted = sorted(set(periods))
    if not wanted:
        return set()
    async with db.session() as session:
        rows = (
            await session.exec(
                select(
                    ReminderSend.rule, ReminderSend.unit_id, ReminderSend.period, ReminderSend.stage
                ).where(col(ReminderSend.period).in_(wanted))
            )
        ).all()
    return {(rule, unit_id, period, stage) for rule, unit_id, period, stage in rows}


async def claimed_digests(db: Database, keys: Iterable[str]) -> set[tuple[str, str, str]]:
    """(kind, key, recipient) of every claimed digest with these keys."""
    wanted = sorted(set(keys))
    if not wanted:
        return set()
    async with db.session() as session:
        rows = (
            await session.exec(
                select(DigestSend.kind, DigestSend.key, DigestSend.recipient).where(
                    col(DigestSend.key).in_(wanted)
                )
            )
        ).all()
    return {(kind, key, recipient) for kind, key, recipient in rows}


async def claimed_since(
    db: Database, periods: Iterable[str], since: datetime
) -> set[tuple[str, int, str]]:
    """(rule, unit id, period) of every reminder of these periods claimed at or after `since`,
    whatever its stage: a deadline reminded today is not chased again today."""
    wanted = sorted(set(periods))
    if not wanted:
        return set()
    async with db.session() as session:
        rows = (
            await session.exec(
                select(ReminderSend.rule, ReminderSend.unit_id, ReminderSend.period).where(
                    col(ReminderSend.period).in_(wanted), col(ReminderSend.claimed_at) >= since
                )
            )
        ).all()
    return {(rule, unit_id, period) for rule, unit_id, period in rows}
