"""Final grades: the assessment office confirms or changes a unit's suggested grade, with a reason.

Append-only like the ledger: every confirmation or change is a new `final_grade` row with who,
when and why; the latest row (by `at`, then id) of a unit's year is its final grade. Nothing is
ever updated or deleted, so the history of a grade can be shown line by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Index, bindparam
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.scorecard import GRADES
from storage.audit import audit
from storage.db import Database
from storage.models import Unit
from storage.prepared import Prepared
from storage.types import UTCDateTime, to_utc, utcnow


class GradeError(ValueError):
    """A grade that cannot be recorded (unknown grade, no reason, no such unit)."""


def check_level(grade: str) -> None:
    """Refuse a grade that is not one of seed 000 第七条's four."""
    if grade not in GRADES:
        raise GradeError(f"等次应为{'、'.join(GRADES)}之一，实际为 {grade!r}")


class FinalGrade(SQLModel, table=True):
    """One confirmation or change of a unit's grade for a year (latest wins)."""

    __tablename__ = "final_grade"
    __table_args__ = (Index(None, "unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    year: int
    grade: str = Field(max_length=10)  # one of GRADES
    actor: str = Field(max_length=64)
    reason: str = Field(max_length=500)
    # a grade the rules (seed 000 第七条) do not allow, recorded as the office's stated exception
    exception: bool = Field(default=False)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


@dataclass(frozen=True)
class GradeView:
    """A final grade as the tally shows it."""

    unit_id: int
    year: int
    grade: str
    actor: str
    reason: str
    at: datetime
    exception: bool = False  # outside seed 000 第七条, the office's stated exception


def _view(row: FinalGrade) -> GradeView:
    assert row.id is not None
    return GradeView(row.unit_id, row.year, row.grade, row.actor, row.reason, row.at, row.exception)


async def set_final_grade(
    session: AsyncSession,
    *,
    unit_id: int,
    year: int,
    grade: str,
    actor: str,
    reason: str,
    at: datetime | None = None,
    exception: bool = False,
) -> FinalGrade:
    """Record `grade` as the unit's final grade for `year` (a new row; the caller commits).
    A reason is required, also for confirming the suggested grade as it is. `exception`: the
    grade is one seed 000 第七条 does not allow, recorded as the office's stated exception
    (handlers/grading.py checks; the tally marks it)."""
    grade = grade.strip()
    check_level(grade)
    if not reason.strip():
        raise GradeError("确认或调整等次须写明理由")
    if not actor.strip():
        raise GradeError("须注明操作人")
    if await session.get(Unit, unit_id) is None:
        raise GradeError(f"no unit with id {unit_id}")
    row = FinalGrade(
        unit_id=unit_id,
        year=year,
        grade=grade,
        actor=actor.strip(),
        reason=reason.strip(),
        at=to_utc(at) if at is not None else utcnow(),
        exception=exception,
    )
    session.add(row)
    await session.flush()
    audit(
        session,
        row.actor,
        "grade.final",
        {
            "final_grade": row.id,
            "unit_id": unit_id,
            "year": year,
            "grade": grade,
            "reason": reason,
            "exception": exception,
        },
    )
    return row


async def final_grades(
    session: AsyncSession, year: int, *, known_at: datetime | None = None
) -> dict[int, GradeView]:
    """The final grade of every unit that has one for `year`: unit id → latest row (of those
    made by `known_at`, when given)."""
    query = select(FinalGrade).where(FinalGrade.year == year)
    if known_at is not None:
        query = query.where(FinalGrade.at <= to_utc(known_at))
    rows = (await session.exec(query.order_by(col(FinalGrade.at), col(FinalGrade.id)))).all()
    return {row.unit_id: _view(row) for row in rows}  # later rows overwrite earlier ones


async def grade_history(session: AsyncSession, unit_id: int, year: int) -> list[GradeView]:
    """Every grade row of a unit's year, oldest first (the last one is in force)."""
    rows = (
        await session.exec(
            select(FinalGrade)
            .where(FinalGrade.unit_id == unit_id, FinalGrade.year == year)
            .order_by(col(FinalGrade.at), col(FinalGrade.id))
        )
    ).all()
    return [_view(row) for row in rows]


_LATEST = Prepared(
    select(FinalGrade.grade, FinalGrade.reason, FinalGrade.at, FinalGrade.exception)
    .where(FinalGrade.unit_id == bindparam("unit_id"), FinalGrade.year == bindparam("year"))
    .order_by(col(FinalGrade.at).desc(), col(FinalGrade.id).desc())
    .limit(1)
)


async def confirmed_grade(
    db: Database, unit_id: int, year: int
) -> tuple[str, str, datetime, bool] | None:
    """(grade, reason, when, confirmed as an exception) of the grade in force for the unit's
    year (the latest 定级), or None: one small read, asked with every 「我的得分」."""
    return await db.run_small(lambda conn: _LATEST.first(conn, {"unit_id": unit_id, "year": year}))
