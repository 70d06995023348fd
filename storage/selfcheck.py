"""The 自查 checklist (seed 000 第十一条): one line per target of a unit's 责任书 (its annual targets
and key projects; a unit without a 责任书 lists its scheme's targets), each marked 完成 / 部分完成 /
未完成 with evidence (text, files).

Append-only like the ledger: a mark is a new `selfcheck_entry` row and the latest mark of a line
counts, so a liaison can change a line until the self-check deadline; a file is a row of its own
(kind `file`) naming the line. Nothing here scores: the office reads the checklist beside the
scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.model import Scheme
from storage.audit import audit
from storage.charter_file import KIND_LABELS, CharterKind
from storage.ledger import list_tasks
from storage.types import UTCDateTime, to_utc, utcnow


class Mark(StrEnum):
    DONE = "done"
    PARTLY = "partly"
    NOT = "not"


MARK_LABELS = {Mark.DONE: "完成", Mark.PARTLY: "部分完成", Mark.NOT: "未完成"}


class SelfCheckEntry(SQLModel, table=True):
    __tablename__ = "selfcheck_entry"
    __table_args__ = (Index(None, "unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    year: int
    line: str = Field(max_length=40)  # a 责任书 task code ("K3") or a scheme target id ("T5")
    kind: str = Field(default="mark", max_length=10)  # mark | file
    mark: str | None = Field(default=None, max_length=10)  # Mark (kind mark)
    evidence: str = Field(default="", sa_type=Text)  # as the liaison wrote it
    attachment: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    actor: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    source_key: str | None = Field(default=None, max_length=200, unique=True)


class SelfCheckError(ValueError):
    """A mark that cannot be recorded (unknown line, unknown mark)."""


@dataclass(frozen=True)
class Line:
    """One line of the checklist: what is checked, and where it comes from."""

    key: str  # K3 / T5
    title: str
    source: str  # 年度工作指标 / 重点工程 / 考核指标


@dataclass
class LineState:
    line: Line
    mark: SelfCheckEntry | None = None  # the latest mark
    files: list[SelfCheckEntry] = field(default_factory=list)

    @property
    def label(self) -> str:
        return MARK_LABELS[Mark(self.mark.mark)] if self.mark and self.mark.mark else "未填"


@dataclass(frozen=True)
class Checklist:
    unit_id: int
    year: int
    lines: list[LineState]

    def find(self, key: str) -> LineState | None:
        """A line by its key (K3, t5) or its number in the list (1-based)."""
        if key.isdigit():
            n = int(key)
            return self.lines[n - 1] if 1 <= n <= len(self.lines) else None
        return next((s for s in self.lines if s.line.key.upper() == key.upper()), None)

    @property
    def filled(self) -> int:
        return sum(s.mark is not None for s in self.lines)

    def count(self, mark: Mark) -> int:
        return sum(s.mark is not None and s.mark.mark == mark.value for s in self.lines)


async def checklist_lines(
    session: AsyncSession, unit_id: int, year: int, scheme: Scheme
) -> list[Line]:
    """The unit's 责任书 targets and projects that count this year; without any, its scheme's
    targets."""
    views = await list_tasks(session, unit_id, year)
    charter = [v for v in views if v.task.kind in {k.value for k in CharterKind}]
    order = {CharterKind.ANNUAL_TARGET.value: 0, CharterKind.KEY_PROJECT.value: 1}
    charter.sort(key=lambda v: (order[v.task.kind], v.task.code or "", v.task.id or 0))
    if charter:
        return [Line(v.ref, v.task.title, KIND_LABELS[CharterKind(v.task.kind)]) for v in charter]
    return [Line(t.id, t.name, "考核指标") for t in scheme.targets_by_id.values()]


async def entries_of(
    session: AsyncSession, unit_ids: Sequence[int], year: int
) -> list[SelfCheckEntry]:
    query = (
        select(SelfCheckEntry)
        .where(col(SelfCheckEntry.unit_id).in_(list(unit_ids)), SelfCheckEntry.year == year)
        .order_by(col(SelfCheckEntry.at), col(SelfCheckEntry.id))
    )
    return list(await session.exec(query))


def assemble(
    unit_id: int, year: int, lines: list[Line], rows: Sequence[SelfCheckEntry]
) -> Checklist:
    states = {line.key: LineState(line) for line in lines}
    for row in rows:
        state = states.get(row.line)
        if state is None or row.unit_id != unit_id:
            continue  # a line no longer in the 责任书 keeps its rows, unlisted
        if row.kind == "file":
            state.files.append(row)
        else:
            state.mark = row  # rows come oldest first: the latest wins
    return Checklist(unit_id, year, list(states.values()))


async def checklist(session: AsyncSession, unit_id: int, year: int, scheme: Scheme) -> Checklist:
    lines = await checklist_lines(session, unit_id, year, scheme)
    return assemble(unit_id, year, lines, await entries_of(session, [unit_id], year))


async def _done(session: AsyncSession, source_key: str | None) -> SelfCheckEntry | None:
    if source_key is None:
        return None
    query = select(SelfCheckEntry).where(SelfCheckEntry.source_key == source_key)
    return (await session.exec(query)).first()


async def mark_line(
    session: AsyncSession,
    sheet: Checklist,
    key: str,
    mark: Mark,
    *,
    evidence: str,
    actor: str,
    at: datetime | None = None,
    source_key: str | None = None,
) -> tuple[SelfCheckEntry, SelfCheckEntry | None]:
    """Mark a line (the caller commits and checks the deadline); returns the new row and the
    mark it replaces. A message handled again finds the row it wrote."""
    state = sheet.find(key)
    if state is None:
        raise SelfCheckError(f"自查清单中没有“{key}”")
    done = await _done(session, source_key)
    if done is not None:
        return done, None
    row = SelfCheckEntry(
        unit_id=sheet.unit_id,
        year=sheet.year,
        line=state.line.key,
        kind="mark",
        mark=Mark(mark).value,
        evidence=evidence,
        actor=actor,
        at=to_utc(at) if at else utcnow(),
        source_key=source_key,
    )
    session.add(row)
    await session.flush()
    audit(session, actor, "selfcheck.mark", {"unit_id": sheet.unit_id, "line": row.line})
    before, state.mark = state.mark, row
    return row, before


async def add_file(
    session: AsyncSession,
    sheet: Checklist,
    key: str,
    attachment: dict[str, Any],
    *,
    actor: str,
    at: datetime | None = None,
    source_key: str | None = None,
) -> SelfCheckEntry:
    state = sheet.find(key)
    if state is None:
        raise SelfCheckError(f"自查清单中没有“{key}”")
    done = await _done(session, source_key)
    if done is not None:
        return done
    row = SelfCheckEntry(
        unit_id=sheet.unit_id,
        year=sheet.year,
        line=state.line.key,
        kind="file",
        attachment=attachment,
        actor=actor,
        at=to_utc(at) if at else utcnow(),
        source_key=source_key,
    )
    session.add(row)
    await session.flush()
    state.files.append(row)
    return row


__all__ = [
    "MARK_LABELS",
    "Checklist",
    "Line",
    "LineState",
    "Mark",
    "SelfCheckEntry",
    "SelfCheckError",
    "add_file",
    "assemble",
    "checklist",
    "checklist_lines",
    "entries_of",
    "mark_line",
]
