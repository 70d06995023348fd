"""The outbox: messages to send, surviving restarts, safe with several instances.

A sender loop calls `claim_due()` (each row is leased to one caller by a conditional UPDATE, so
two instances never send the same row at once), sends, then `mark_sent()` or `mark_failed()`
(with a retry time, or None to give up). A lease that runs out (the process died mid-send) makes
the row due again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import audit
from storage.db import Database
from storage.models import Outbox, OutboxStatus
from storage.types import to_utc, utcnow

DEFAULT_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    recipient: str
    payload: dict[str, Any]
    attempts: int  # including the current one


def enqueue(
    session: AsyncSession,
    recipient: str,
    payload: dict[str, Any],
    *,
    not_before: datetime | None = None,
) -> Outbox:
    """Add a message to the session's transaction (flush or commit to get its id)."""
    row = Outbox(
        recipient=recipient,
        payload=payload,
        next_attempt_at=to_utc(not_before) if not_before else utcnow(),
    )
    session.add(row)
    return row


async def send_later(
    db: Database, recipient: str, payload: dict[str, Any], *, not_before: datetime | None = None
) -> int:
    async with db.session() as session:
        row = enqueue(session, recipient, payload, not_before=not_before)
        await session.commit()
        assert row.id is not None
        return row.id


async def claim_due(
    db: Database,
    *,
    now: datetime | None = None,
    limit: int = 50,
    lease: timedelta = DEFAULT_LEASE,
) -> list[OutboxItem]:
    """Lease up to `limit` due messages to this caller, oldest first."""
    now = to_utc(now) if now else utcnow()
    claimed: list[OutboxItem] = []
    async with db.session() as session:
        rows = (
            await session.exec(
                select(Outbox)
                .where(Outbox.status == OutboxStatus.PENDING.value, Outbox.next_attempt_at <= now)
                .order_by(col(Outbox.next_attempt_at), col(Outbox.id))
                .limit(limit)
            )
        ).all()
        candidates = [(r.id, r.recipient, r.payload, r.attempts, r.next_attempt_at) for r in rows]
        for row_id, recipient, payload, attempts, due_at in candidates:
            result = await session.exec(
                update(Outbox)
                .where(
                    col(Outbox.id) == row_id,
                    col(Outbox.status) == OutboxStatus.PENDING.value,
                    col(Outbox.next_attempt_at) == due_at,
                )
                .values(next_attempt_at=now + lease, attempts=Outbox.attempts + 1)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1:
                assert row_id is not None
                claimed.append(OutboxItem(row_id, recipient, payload, attempts + 1))
        await session.commit()
    return claimed


async def claim_one(
    db: Database, outbox_id: int, *, now: datetime | None = None, lease: timedelta = DEFAULT_LEASE
) -> OutboxItem | None:
    """Lease the pending row `outbox_id` to this caller now, due or not (a reply written a moment
    ago is sent at once); None when it is sent, given up, or leased by someone else."""
    now = to_utc(now) if now else utcnow()
    async with db.session() as session:
        row = await session.get(Outbox, outbox_id)
        if row is None or row.status != OutboxStatus.PENDING.value or row.next_attempt_at > now:
            return None
        result = await session.exec(
            update(Outbox)
            .where(
                col(Outbox.id) == outbox_id,
                col(Outbox.status) == OutboxStatus.PENDING.value,
                col(Outbox.next_attempt_at) == row.next_attempt_at,
            )
            .values(next_attempt_at=now + lease, attempts=Outbox.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        item = OutboxItem(outbox_id, row.recipient, row.payload, row.attempts + 1)
        await session.commit()
    return item if result.rowcount == 1 else None


async def mark_sent(db: Database, outbox_id: int, *, at: datetime | None = None) -> None:
    async with db.session() as session:
        await session.exec(
            update(Outbox)
            .where(col(Outbox.id) == outbox_id)
            .values(status=OutboxStatus.SENT.value, sent_at=to_utc(at) if at else utcnow())
        )
        await session.commit()


async def mark_failed(
    db: Database, outbox_id: int, error: str, *, retry_at: datetime | None
) -> None:
    """Record a failed attempt: due again at `retry_at`, or given up (`failed`) when None."""
    values: dict[str, Any] = {"last_error": error[:1000]}
    if retry_at is None:
        values["status"] = OutboxStatus.FAILED.value
    else:
        values["next_attempt_at"] = to_utc(retry_at)
    async with db.session() as session:
        await session.exec(update(Outbox).where(col(Outbox.id) == outbox_id).values(**values))
        await session.commit()


async def get_outbox(db: Database, outbox_id: int) -> Outbox | None:
    async with db.session() as session:
        return await session.get(Outbox, outbox_id)


async def count_by_status(db: Database) -> dict[str, int]:
    async with db.session() as session:
        rows = (
            await session.exec(select(Outbox.status, func.count()).group_by(col(Outbox.status)))
        ).all()
    return {status: n for status, n in rows}


# --- operators: look at and retry what failed (kaohe outbox list / retry) -------------------------


async def list_outbox(db: Database, *, failed_only: bool = False, limit: int = 100) -> list[Outbox]:
    """Messages not sent yet (pending and failed; only failed with `failed_only`), newest first."""
    wanted = [OutboxStatus.FAILED.value]
    if not failed_only:
        wanted.append(OutboxStatus.PENDING.value)
    async with db.session() as session:
        rows = await session.exec(
            select(Outbox)
            .where(col(Outbox.status).in_(wanted))
            .order_by(col(Outbox.id).desc())
            .limit(limit)
        )
        return list(rows.all())


async def retry_failed(
    db: Database, ids: list[int] | None, *, actor: str, now: datetime | None = None
) -> list[int]:
    """Put failed messages (the given ids, or all failed when None) back in the queue with a fresh
    set of attempts, due at once. Returns the ids retried; a pending or sent id is left alone.
    Each retry is audited."""
    now = to_utc(now) if now else utcnow()
    async with db.session() as session:
        query = select(Outbox.id).where(Outbox.status == OutboxStatus.FAILED.value)
        if ids is not None:
            query = query.where(col(Outbox.id).in_(ids))
        found = sorted(row_id for row_id in (await session.exec(query)).all() if row_id)
        if found:
            await session.exec(
                update(Outbox)
                .where(col(Outbox.id).in_(found), col(Outbox.status) == OutboxStatus.FAILED.value)
                .values(status=OutboxStatus.PENDING.value, attempts=0, next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            audit(session, actor, "outbox.retry", {"ids": found}, at=now)
        await session.commit()
    return found
