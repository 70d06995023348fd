"""Per-user conversation state (JSON) for the chat layer's multi-step dialogues."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col

from storage.db import Database
from storage.models import ConversationState
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
