"""The office's review queue: what waits for review, oldest first, and one item's whole story.

A submission waits while its effective status (storage.ledger.latest_statuses) is `submitted`.
The queue is computed from one outer-join select of (submission, event) rows, then only the
page asked for is loaded; the 补正 chain is `submission.corrects_id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.facts import Status
from storage import scope
from storage.ledger import latest_statuses
from storage.models import Submission, SubmissionEvent, Task, Unit


@dataclass(frozen=True)
class QueueItem:
    submission: Submission
    unit: str

    @property
    def ref(self) -> str:
        return f"S{self.submission.id}"


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int  # waiting items matching the filter
    offset: int


async def waiting_ids(
    session: AsyncSession,
    *,
    unit_id: int | None = None,
    target: str | None = None,
    year: int | None = None,
) -> list[int]:
    """Ids of the submissions waiting for review, oldest first (by send time, then id)."""
    query = select(  # type: ignore[call-overload]  # 5 columns: past sqlmodel's overloads
        Submission.id,
        Submission.submitted_at,
        SubmissionEvent.at,
        SubmissionEvent.id,
        SubmissionEvent.status,
    ).outerjoin(SubmissionEvent, col(SubmissionEvent.submission_id) == col(Submission.id))
    if unit_id is not None:
        query = query.where(Submission.unit_id == unit_id)
    query = scope.narrow(query, Submission.unit_id)
    if target is not None:
        query = query.where(col(Submission.target).ilike(target))
    if year is not None:
        query = query.where(Submission.year == year)
    rows = (await session.exec(query)).all()
    sent = {sid: at for sid, at, *_ in rows}
    statuses = latest_statuses((sid, at, eid, st) for sid, _, at, eid, st in rows)
    waiting = [sid for sid, status in statuses.items() if status == Status.SUBMITTED]
    return sorted(waiting, key=lambda sid: (sent[sid], sid))


async def load_items(session: AsyncSession, ids: list[int]) -> list[QueueItem]:
    """The submissions `ids` with their unit names, in the order given."""
    if not ids:
        return []
    rows = (
        await session.exec(
            select(Submission, Unit.name)
            .join(Unit, col(Unit.id) == col(Submission.unit_id))
            .where(col(Submission.id).in_(ids))
        )
    ).all()
    found = {sub.id: QueueItem(sub, name) for sub, name in rows}
    return [found[i] for i in ids if i in found]


async def review_queue(
    session: AsyncSession,
    *,
    unit_id: int | None = None,
    target: str | None = None,
    offset: int = 0,
    limit: int = 10,
) -> QueuePage:
    """One page of the queue (oldest first)."""
    ids = await waiting_ids(session, unit_id=unit_id, target=target)
    offset = max(0, min(offset, max(len(ids) - 1, 0)))
    return QueuePage(await load_items(session, ids[offset : offset + limit]), len(ids), offset)


async def history(session: AsyncSession, submission_id: int) -> list[SubmissionEvent]:
    """Every review and withdrawal of a submission, in order."""
    rows = await session.exec(
        select(SubmissionEvent)
        .where(SubmissionEvent.submission_id == submission_id)
        .order_by(col(SubmissionEvent.at), col(SubmissionEvent.id))
    )
    return list(rows.all())


async def corrections_of(session: AsyncSession, submission_id: int) -> list[Submission]:
    """The 补正 sent for a submission (newest last)."""
    rows = await session.exec(
        select(Submission)
        .where(Submission.corrects_id == submission_id)
        .order_by(col(Submission.submitted_at), col(Submission.id))
    )
    return list(rows.all())


async def task_of(session: AsyncSession, submission: Submission) -> Task | None:
    return await session.get(Task, submission.task_id) if submission.task_id else None


_STORED_PREFIX = re.compile(r"^[0-9a-f]{8,40}-")


def attachment_name(attachment: dict[str, object]) -> str:
    """The name to show for an attachment: its name (else its stored file's), without the digest
    prefix the channel adds to keep names apart ("3f2a…-方案.pdf" → "方案.pdf")."""
    name = Path(str(attachment.get("name") or attachment.get("file") or "")).name
    return _STORED_PREFIX.sub("", name) or "附件"
