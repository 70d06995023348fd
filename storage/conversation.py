"""Per-user conversation state (JSON) for the chat layer's multi-step dialogues."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select

from storage.db import Database
from storage.models import ConversationState
from storage.outbox import enqueue
from storage.types import utcnow


async def get_state(db: Database, userid: str) -> dict[str, Any] | None:
    """The user's state, or None when there is none."""
    async with db.session() as session:
        row = await session.get(ConversationState, userid)
        return dict(row.state) if row is not None else None


async def set_state(db: Database, userid: str, state: dict[str, Any]) -> None:
    """Replace the user's state (an upsert, safe under concurrent writers)."""
    insert = pg_insert if db.dialect == "postgresql" else sqlite_insert
    now = utcnow()
    statement = insert(ConversationState).values(userid=userid, state=state, updated_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[col(ConversationState.userid)],
        set_={"state": statement.excluded.state, "updated_at": statement.excluded.updated_at},
    )
    async with db.session() as session:
        await session.exec(statement)
        await session.commit()


async def clear_state(db: Database, userid: str) -> None:
    async with db.session() as session:
        await session.exec(delete(ConversationState).where(col(ConversationState.userid) == userid))
        await session.commit()


async def list_states(db: Database) -> list[tuple[str, dict[str, Any], datetime]]:
    """Every user's state with the time it was last written (drafts are few: one per user)."""
    async with db.session() as session:
        rows = await session.exec(select(ConversationState))
        return [(row.userid, dict(row.state), row.updated_at) for row in rows.all()]


async def clear_state_if(
    db: Database, userid: str, updated_at: datetime, *, notice: dict[str, Any] | None = None
) -> bool:
    """Drop the user's state only if it was not written since `updated_at`, and queue `notice`
    (an outbox payload) for the user in the same transaction; True if dropped. Of several
    sweeps, or a sweep and the user's next message, exactly one acts on it, and its notice
    survives a crash or an outage like any outbox message."""
    async with db.session() as session:
        result = await session.exec(
            delete(ConversationState).where(
                col(ConversationState.userid) == userid,
                col(ConversationState.updated_at) == updated_at,
            )
        )
        if not result.rowcount:
            await session.rollback()
            return False
        if notice is not None:
            enqueue(session, userid, notice)
        await session.commit()
        return True
