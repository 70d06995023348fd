"""测评意见 (seed 000 第八条): rounds in which each district's leaders rate the city departments.

Append-only like the ledger. A round is one row (who opened it, when, the scale, the raters and
the departments as they stood at opening); each answer is a new `rating_answer` row and the
latest one of a rater for a department counts, so a rater can change their mind until the round
is closed; closing is one `rating_close` row (unique per round) written in the same transaction
as the results — one admin entry per department, holding only the round's aggregate, so the
score never learns who rated what.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.facts import EntryKind
from scoring.satisfaction import Scale, answers_of
from storage import ledger, scope
from storage.audit import audit
from storage.types import UTCDateTime, to_utc, utcnow


class RatingError(ValueError):
    """A rating action that cannot be taken (closed round, unknown department, bad answer)."""


class RatingRound(SQLModel, table=True):
    __tablename__ = "rating_round"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    # the assessment it belongs to (分级考核): each organiser runs its own rounds
    assessment_id: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    scale: str = Field(max_length=10)  # scoring.satisfaction.Scale
    due: date
    # who rates and whom, fixed when the round opens: [{"userid": ..., "unit_id": ...}], [unit ids]
    raters: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    departments: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    actor: str = Field(max_length=64)
    reason: str = Field(default="", max_length=500)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class RatingAnswer(SQLModel, table=True):
    """One answer of a rater about a department; the latest one of the pair counts."""

    __tablename__ = "rating_answer"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="rating_round.id", index=True)
    rater: str = Field(max_length=64)
    unit_id: int = Field(foreign_key="unit.id")  # the department rated
    answer: str = Field(max_length=10)  # one of CHOICES or SCORES
    comment: str = Field(default="", sa_type=Text)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # the inbound message it came from: a message handled again finds its answer
    source_key: str | None = Field(default=None, max_length=200, unique=True)


class RatingClose(SQLModel, table=True):
    __tablename__ = "rating_close"
    __table_args__ = (UniqueConstraint("round_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="rating_round.id")
    actor: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


def round_ref(round_id: int) -> str:
    return f"R{round_id}"


@dataclass(frozen=True)
class RoundView:
    round: RatingRound
    closed: RatingClose | None
    # (rater, department) → latest answer
    answers: dict[tuple[str, int], RatingAnswer] = field(default_factory=dict)

    @property
    def id(self) -> int:
        assert self.round.id is not None
        return self.round.id

    @property
    def ref(self) -> str:
        return round_ref(self.id)

    @property
    def is_open(self) -> bool:
        return self.closed is None

    @property
    def rater_ids(self) -> list[str]:
        return [r["userid"] for r in self.round.raters]

    def rater_unit(self, userid: str) -> int | None:
        return next((r["unit_id"] for r in self.round.raters if r["userid"] == userid), None)

    def missing_of(self, userid: str) -> list[int]:
        """The departments `userid` has not rated yet."""
        return [d for d in self.round.departments if (userid, d) not in self.answers]

    def answers_for(self, unit_id: int) -> list[str]:
        """The counting answers about a department (who gave them is not part of the result)."""
        return sorted(a.answer for (_, d), a in self.answers.items() if d == unit_id)

    def counts_for(self, unit_id: int) -> Counter[str]:
        return Counter(self.answers_for(unit_id))


async def open_round(
    session: AsyncSession,
    *,
    year: int,
    scale: Scale,
    due: date,
    raters: list[tuple[str, int | None]],
    departments: list[int],
    actor: str,
    reason: str = "",
    at: datetime | None = None,
) -> RatingRound:
    """Open a round (the caller commits). One open round per year at a time."""
    if not raters:
        raise RatingError("没有测评人")
    if not departments:
        raise RatingError("没有被测评的部门")
    if await current_round(session, year) is not None:
        raise RatingError(f"{year}年度已有进行中的测评")
    row = RatingRound(
        year=year,
        assessment_id=scope.current() or scope.DEFAULT_ASSESSMENT,
        scale=scale.value,
        due=due,
        raters=[{"userid": u, "unit_id": unit} for u, unit in raters],
        departments=list(departments),
        actor=actor,
        reason=reason,
        at=to_utc(at) if at else utcnow(),
    )
    session.add(row)
    await session.flush()
    audit(session, actor, "rating.open", {"round": row.id, "year": year, "scale": scale.value})
    return row


async def _view(session: AsyncSession, row: RatingRound) -> RoundView:
    closed = (await session.exec(select(RatingClose).where(RatingClose.round_id == row.id))).first()
    answers: dict[tuple[str, int], RatingAnswer] = {}
    rows = await session.exec(
        select(RatingAnswer)
        .where(RatingAnswer.round_id == row.id)
        .order_by(col(RatingAnswer.at), col(RatingAnswer.id))
    )
    for answer in rows:
        if closed is None or answer.at <= closed.at:
            answers[(answer.rater, answer.unit_id)] = answer  # later rows win
    return RoundView(row, closed, answers)


async def get_round(session: AsyncSession, round_id: int) -> RoundView | None:
    row = await session.get(RatingRound, round_id)
    if row is None or scope.current() not in (None, row.assessment_id):
        return None
    return await _view(session, row)


async def list_rounds(session: AsyncSession, year: int | None = None) -> list[RoundView]:
    query = select(RatingRound).order_by(col(RatingRound.id))
    if scope.current() is not None:  # each assessment runs its own rounds
        query = query.where(RatingRound.assessment_id == scope.current())
    if year is not None:
        query = query.where(RatingRound.year == year)
    return [await _view(session, row) for row in await session.exec(query)]


async def current_round(session: AsyncSession, year: int | None = None) -> RoundView | None:
    """The open round (of `year`, when given), the latest first."""
    for view in reversed(await list_rounds(session, year)):
        if view.is_open:
            return view
    return None


async def open_rounds_of(session: AsyncSession, userid: str) -> list[RoundView]:
    """The open rounds in which `userid` rates."""
    return [v for v in await list_rounds(session) if v.is_open and userid in v.rater_ids]


async def answer(
    session: AsyncSession,
    view: RoundView,
    *,
    rater: str,
    unit_id: int,
    value: str,
    comment: str = "",
    at: datetime | None = None,
    source_key: str | None = None,
) -> tuple[RatingAnswer, RatingAnswer | None]:
    """Record an answer; returns it and the answer it replaces (None: the first)."""
    if source_key is not None:
        done = (
            await session.exec(select(RatingAnswer).where(RatingAnswer.source_key == source_key))
        ).first()
        if done is not None:
            return done, None
    if not view.is_open:
        raise RatingError(f"测评{view.ref}已结束")
    if rater not in view.rater_ids:
        raise RatingError(f"{rater}不是测评{view.ref}的测评人")
    if unit_id not in view.round.departments:
        raise RatingError(f"该部门不在测评{view.ref}之列")
    if value not in answers_of(view.round.scale):
        raise RatingError(f"测评结果应为{'、'.join(answers_of(view.round.scale))}之一")
    before = view.answers.get((rater, unit_id))
    row = RatingAnswer(
        round_id=view.id,
        rater=rater,
        unit_id=unit_id,
        answer=value,
        comment=comment,
        at=to_utc(at) if at else utcnow(),
        source_key=source_key,
    )
    session.add(row)
    await session.flush()
    view.answers[(rater, unit_id)] = row
    return row, before


@dataclass(frozen=True)
class DepartmentResult:
    unit_id: int
    counts: Counter[str]
    value: Decimal | None  # the rule's satisfaction index, None when nobody rated
    rule: str | None  # the rating rule it was entered under, None when the scheme has none
    entry_id: int | None


async def close_round(
    session: AsyncSession,
    view: RoundView,
    *,
    actor: str,
    results: dict[int, tuple[str | None, Decimal | None, str]],
    at: datetime | None = None,
) -> list[DepartmentResult]:
    """Close the round and enter each department's result: `results` maps a department to (the
    rating rule of its scheme, the index the rule computes from the answers, the reason text).
    Written in the caller's transaction, so the close and the entries stand or fall together."""
    if not view.is_open:
        raise RatingError(f"测评{view.ref}已结束")
    moment = to_utc(at) if at else utcnow()
    session.add(RatingClose(round_id=view.id, actor=actor, at=moment))
    out = []
    for unit_id in view.round.departments:
        rule, value, reason = results.get(unit_id, (None, None, ""))
        entry_id = None
        if rule is not None and value is not None:
            entry = await ledger.add_entry(
                session,
                unit_id=unit_id,
                year=view.round.year,
                kind=EntryKind.RATING,
                rule=rule,
                value=value,
                actor=actor,
                reason=reason,
                key=view.ref,
                at=moment,
            )
            entry_id = entry.id
        out.append(DepartmentResult(unit_id, view.counts_for(unit_id), value, rule, entry_id))
    await session.flush()
    audit(session, actor, "rating.close", {"round": view.id}, at=moment)
    return out
