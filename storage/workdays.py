"""Work-day overrides set by admins, on top of the statutory calendar (reminders/calendar.py).

An override says that one day is a working day (e.g. an extra 调休 the package does not know) or a
day off (e.g. a local holiday). The latest write for a day wins; removing it returns the day to the
statutory calendar. Registry data, not ledger data: each change is audited.
"""

# No `from __future__ import annotations` here: SQLModel resolves annotations itself.

from datetime import date, datetime

from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.audit import audit
from storage.db import Database
from storage.models import _at
from storage.types import utcnow


class WorkdayOverride(SQLModel, table=True):
    """One day whose working status an admin has set by hand."""

    __tablename__ = "workday_override"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(unique=True)
    is_workday: bool
    reason: str = Field(default="", max_length=200)
    actor: str = Field(default="", max_length=64)
    updated_at: datetime = _at()


async def set_override(
    session: AsyncSession, day: date, is_workday: bool, *, actor: str, reason: str = ""
) -> WorkdayOverride:
    """Make `day` a working day (True) or a day off (False), whatever the statutory calendar says."""
    row = (await session.exec(select(WorkdayOverride).where(WorkdayOverride.day == day))).first()
    if row is None:
        row = WorkdayOverride(day=day, is_workday=is_workday, reason=reason, actor=actor)
    else:
        row.is_workday, row.reason, row.actor, row.updated_at = is_workday, reason, actor, utcnow()
    session.add(row)
    await session.flush()
    audit(
        session,
        actor,
        "workday.set",
        {"day": day.isoformat(), "is_workday": is_workday, "reason": reason},
    )
    return row


async def remove_override(session: AsyncSession, day: date, *, actor: str) -> bool:
    """Return `day` to the statutory calendar. True when there was an override."""
    row = (await session.exec(select(WorkdayOverride).where(WorkdayOverride.day == day))).first()
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    audit(session, actor, "workday.remove", {"day": day.isoformat()})
    return True


async def list_overrides(
    db: Database, start: date | None = None, end: date | None = None
) -> dict[date, bool]:
    """Overrides between `start` and `end` (inclusive, both optional): {day: is_workday}."""
    query = select(col(WorkdayOverride.day), col(WorkdayOverride.is_workday))
    if start is not None:
        query = query.where(col(WorkdayOverride.day) >= start)
    if end is not None:
        query = query.where(col(WorkdayOverride.day) <= end)
    async with db.session() as session:
        rows = (await session.exec(query)).all()
    return {day: bool(flag) for day, flag in rows}


async def list_override_reasons(
    db: Database, start: date, end: date
) -> dict[date, tuple[bool, str]]:
    """Overrides between `start` and `end` (inclusive) with their reasons: {day: (workday, why)}."""
    query = select(WorkdayOverride).where(
        col(WorkdayOverride.day) >= start, col(WorkdayOverride.day) <= end
    )
    async with db.session() as session:
        rows = (await session.exec(query)).all()
    return {row.day: (bool(row.is_workday), row.reason) for row in rows}
