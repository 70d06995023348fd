"""The audit log: who did what and when. Written in the same transaction as the change."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditLog
from storage.types import to_utc, utcnow


def audit(
    session: AsyncSession,
    actor: str,
    action: str,
    detail: dict[str, Any] | None = None,
    *,
    at: datetime | None = None,
) -> AuditLog:
    """Add an audit row to the session (committed with the caller's transaction)."""
    row = AuditLog(
        actor=actor, action=action, detail=detail or {}, at=to_utc(at) if at else utcnow()
    )
    session.add(row)
    return row


async def list_audit(
    session: AsyncSession, *, actor: str | None = None, action: str | None = None, limit: int = 100
) -> list[AuditLog]:
    """Newest first."""
    query = select(AuditLog)
    if actor is not None:
        query = query.where(AuditLog.actor == actor)
    if action is not None:
        query = query.where(AuditLog.action == action)
    query = query.order_by(col(AuditLog.id).desc()).limit(limit)
    return list((await session.exec(query)).all())
