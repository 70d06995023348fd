"""检查考评 (seed 000 第九条): inspection findings, the unit's 申辩, and the office's decision.

Append-only. A finding is one `inspection` row (unit, target, what was found, the deduction it
proposes under a named rule, the day the unit's answer window ends); everything after it is an
`inspection_event` row with who, when and why: evidence (a photo), the unit's appeal (申辩), the
office's confirmation — written together with the deduction entry in the ledger — or its drop.
A finding's state is its latest decision (none: open).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.facts import EntryKind
from storage import ledger, scope
from storage.audit import audit
from storage.types import DecimalText, UTCDateTime, to_utc, utcnow


class EventKind(StrEnum):
    EVIDENCE = "evidence"  # a photo or file added to the finding
    APPEAL = "appeal"  # the unit's 申辩
    CONFIRMED = "confirmed"  # the office upholds it (and enters the deduction, if any)
    DROPPED = "dropped"  # the office drops it


class State(StrEnum):
    OPEN = "待处理"
    CONFIRMED = "已确认"
    DROPPED = "已撤销"


class InspectionError(ValueError):
    """An inspection action that cannot be taken (decided already, window still open...)."""


class Inspection(SQLModel, table=True):
    __tablename__ = "inspection"
    __table_args__ = (Index(None, "unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int
    unit_id: int = Field(foreign_key="unit.id")
    target: str = Field(max_length=40)  # the indicator / target checked ("T20", "C4")
    rule: str | None = Field(default=None, max_length=40)  # the rule a deduction is made under
    amount: Decimal | None = Field(default=None, sa_type=DecimalText)  # points to deduct
    finding: str = Field(sa_type=Text)  # what was found, byte for byte as written
    found_on: date
    respond_by: date  # the last day of the unit's 申辩 window
    actor: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    source_key: str | None = Field(default=None, max_length=200, unique=True)


class InspectionEvent(SQLModel, table=True):
    __tablename__ = "inspection_event"

    id: int | None = Field(default=None, primary_key=True)
    inspection_id: int = Field(foreign_key="inspection.id", index=True)
    kind: str = Field(max_length=20)  # EventKind
    actor: str = Field(max_length=64)
    text: str = Field(default="", sa_type=Text)
    attachment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    entry_id: int | None = Field(default=None, foreign_key="admin_entry.id")
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    source_key: str | None = Field(default=None, max_length=200, unique=True)


def inspection_ref(inspection_id: int) -> str:
    return f"J{inspection_id}"


@dataclass(frozen=True)
class InspectionView:
    row: Inspection
    events: tuple[InspectionEvent, ...]

    @property
    def id(self) -> int:
        assert self.row.id is not None
        return self.row.id

    @property
    def ref(self) -> str:
        return inspection_ref(self.id)

    def _of(self, *kinds: EventKind) -> list[InspectionEvent]:
        return [e for e in self.events if e.kind in kinds]

    @property
    def decision(self) -> InspectionEvent | None:
        decisions = self._of(EventKind.CONFIRMED, EventKind.DROPPED)
        return decisions[-1] if decisions else None

    @property
    def state(self) -> State:
        decision = self.decision
        if decision is None:
            return State.OPEN
        return State.CONFIRMED if decision.kind == EventKind.CONFIRMED else State.DROPPED

    @property
    def appeals(self) -> list[InspectionEvent]:
        return self._of(EventKind.APPEAL)

    @property
    def evidence(self) -> list[InspectionEvent]:
        return self._of(EventKind.EVIDENCE)


async def add_inspection(
    session: AsyncSession,
    *,
    year: int,
    unit_id: int,
    target: str,
    finding: str,
    found_on: date,
    respond_by: date,
    actor: str,
    rule: str | None = None,
    amount: Decimal | None = None,
    at: datetime | None = None,
    source_key: str | None = None,
) -> tuple[Inspection, bool]:
    """Log a finding (the caller commits); returns it and whether it is new (a message handled
    again finds the finding it logged)."""
    if source_key is not None:
        done = (
            await session.exec(select(Inspection).where(Inspection.source_key == source_key))
        ).first()
        if done is not None:
            return done, False
    if not finding.strip():
        raise InspectionError("请写明检查发现的问题")
    if amount is not None and (amount <= 0 or rule is None):
        raise InspectionError("扣分须大于0，并指明扣分所依据的细则")
    row = Inspection(
        year=year,
        unit_id=unit_id,
        target=target,
        rule=rule,
        amount=amount,
        finding=finding,
        found_on=found_on,
        respond_by=respond_by,
        actor=actor,
        at=to_utc(at) if at else utcnow(),
        source_key=source_key,
    )
    session.add(row)
    await session.flush()
    audit(session, actor, "inspection.add", {"inspection": row.id, "unit_id": unit_id})
    return row, True


async def get_inspection(session: AsyncSession, inspection_id: int) -> InspectionView | None:
    row = await session.get(Inspection, inspection_id)
    if row is None or not await scope.visible(session, row.unit_id):
        return None
    events = await session.exec(
        select(InspectionEvent)
        .where(InspectionEvent.inspection_id == inspection_id)
        .order_by(col(InspectionEvent.at), col(InspectionEvent.id))
    )
    return InspectionView(row, tuple(events))


async def list_inspections(
    session: AsyncSession, *, year: int, unit_id: int | None = None
) -> list[InspectionView]:
    query = select(Inspection).where(Inspection.year == year).order_by(col(Inspection.id))
    if unit_id is not None:
        query = query.where(Inspection.unit_id == unit_id)
    rows = list(await session.exec(scope.narrow(query, Inspection.unit_id)))
    if not rows:
        return []
    events: dict[int, list[InspectionEvent]] = {}
    found = await session.exec(
        select(InspectionEvent)
        .where(col(InspectionEvent.inspection_id).in_([r.id for r in rows]))
        .order_by(col(InspectionEvent.at), col(InspectionEvent.id))
    )
    for event in found:
        events.setdefault(event.inspection_id, []).append(event)
    return [InspectionView(r, tuple(events.get(r.id or 0, ()))) for r in rows]


async def add_event(
    session: AsyncSession,
    view: InspectionView,
    kind: EventKind,
    *,
    actor: str,
    text: str = "",
    attachment: dict[str, Any] | None = None,
    at: datetime | None = None,
    source_key: str | None = None,
) -> tuple[InspectionEvent, bool]:
    """Add evidence or an appeal (the caller commits); decisions go through `decide`."""
    if source_key is not None:
        done = (
            await session.exec(
                select(InspectionEvent).where(InspectionEvent.source_key == source_key)
            )
        ).first()
        if done is not None:
            return done, False
    if kind in (EventKind.CONFIRMED, EventKind.DROPPED):
        raise InspectionError("decisions are made with decide()")
    if view.state != State.OPEN:
        raise InspectionError(f"检查{view.ref} {view.state.value}")
    row = InspectionEvent(
        inspection_id=view.id,
        kind=kind.value,
        actor=actor,
        text=text,
        attachment=attachment or {},
        at=to_utc(at) if at else utcnow(),
        source_key=source_key,
    )
    session.add(row)
    await session.flush()
    audit(session, actor, f"inspection.{kind.value}", {"inspection": view.id})
    return row, True


async def decide(
    session: AsyncSession,
    view: InspectionView,
    *,
    confirm: bool,
    actor: str,
    reason: str,
    today: date,
    at: datetime | None = None,
) -> InspectionEvent:
    """Confirm (entering the deduction under its rule, in the same transaction) or drop a finding.
    Before its window ends a finding can be confirmed only once the unit has answered; it can be
    dropped at any time."""
    if view.state != State.OPEN:
        raise InspectionError(f"检查{view.ref} {view.state.value}")
    if confirm and today <= view.row.respond_by and not view.appeals:
        raise InspectionError(f"申辩期至{view.row.respond_by.isoformat()}")
    if not confirm and not reason.strip():
        raise InspectionError("撤销须写明理由")
    moment = to_utc(at) if at else utcnow()
    entry_id = None
    if confirm and view.row.amount is not None and view.row.rule is not None:
        entry = await ledger.add_entry(
            session,
            unit_id=view.row.unit_id,
            year=view.row.year,
            kind=EntryKind.DEDUCTION,
            rule=view.row.rule,
            value=view.row.amount,
            actor=actor,
            reason=f"检查{view.ref}：{view.row.finding}"[:500],
            at=moment,
        )
        entry_id = entry.id
    row = InspectionEvent(
        inspection_id=view.id,
        kind=(EventKind.CONFIRMED if confirm else EventKind.DROPPED).value,
        actor=actor,
        text=reason,
        entry_id=entry_id,
        at=moment,
    )
    session.add(row)
    await session.flush()
    audit(session, actor, f"inspection.{row.kind}", {"inspection": view.id, "entry": entry_id})
    return row
