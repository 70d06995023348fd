"""分级考核 (seed 000 第一条): several assessments in one deployment, as a thin layer.

Every unit belongs to one assessment (`unit.assessment_id`; the default one, id 1, holds whatever
existed before). The assessment a message or a dashboard request is about is the *scope*, a
context variable set by the chat handler and the dashboard guard for the time of one turn; the
repositories that list "all units" (units, members, facts for the tally, the review queue,
inspections, 测评 rounds) read it and see only that assessment's units, and the lookups by number
(S12, E36, K7, J3, R2) find nothing outside it. Without a scope (the reminder tick, the command
line) everything is visible, as before.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

DEFAULT_ASSESSMENT = 1

_current: ContextVar[int | None] = ContextVar("kaohe_assessment", default=None)


def current() -> int | None:
    """The assessment of the turn in hand (None: no scope, everything visible)."""
    return _current.get()


def enter(assessment_id: int | None) -> None:
    """Set the scope for the rest of this task (a chat turn or a dashboard request runs in a task
    of its own, so the scope ends with it)."""
    _current.set(assessment_id)


@contextmanager
def scoped(assessment_id: int | None) -> Iterator[None]:
    token = _current.set(assessment_id)
    try:
        yield
    finally:
        _current.reset(token)


def filter_units(query: Any, unit_table: Any) -> Any:
    """`query` narrowed to the units of the current assessment (unchanged without a scope)."""
    scope = current()
    if scope is None:
        return query
    return query.where(unit_table.assessment_id == scope)


async def unit_ids_in_scope(session: AsyncSession) -> list[int] | None:
    """The ids of the current assessment's units; None without a scope."""
    from storage.models import Unit

    scope = current()
    if scope is None:
        return None
    rows = await session.exec(select(Unit.id).where(Unit.assessment_id == scope))
    return [i for i in rows if i is not None]


async def visible(session: AsyncSession, unit_id: int | None) -> bool:
    """Whether a unit's records may be shown in the current scope."""
    from storage.models import Unit

    scope = current()
    if scope is None:
        return True
    if unit_id is None:
        return False
    found = await session.exec(select(Unit.assessment_id).where(col(Unit.id) == unit_id))
    return found.first() == scope


def in_scope(unit_id_column: Any) -> Any:
    """A WHERE clause keeping rows whose unit is in the current assessment; None without a
    scope (then nothing is filtered)."""
    from storage.models import Unit

    scope = current()
    if scope is None:
        return None
    return col(unit_id_column).in_(select(Unit.id).where(Unit.assessment_id == scope))


def narrow(query: Any, unit_id_column: Any) -> Any:
    """`query` with only rows whose unit is in the current assessment."""
    clause = in_scope(unit_id_column)
    return query if clause is None else query.where(clause)
