"""The ledger: submissions, their reviews and withdrawals, tasks and admin score entries.

Append-only: every function here adds rows; there is no update and no delete. A submission's
status is the latest of its `submission_event` rows (none: submitted); a task's completion is the
latest CONFIRMATION entry naming it; a wrong entry is cancelled by a VOID entry. Each write also
adds an audit row, in the caller's transaction.

Functions take an `AsyncSession` and flush (ids are set) but do not commit, so that several
writes can share one transaction:

    async with db.session() as s:
        sub = await add_submission(s, unit_id=..., year=2026, target="C3b", ...)
        await s.commit()

Public ids, as scoring facts and score cards show them: submissions `S<id>`, entries `E<id>`,
tasks their `code` or `K<id>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.facts import EntryKind, Status, SubmissionKind, cancelled_by_voids
from scoring.periods import TZ
from storage import scope
from storage.audit import audit
from storage.forms import form
from storage.models import (
    AdminEntry,
    ReviewStatus,
    Submission,
    SubmissionEvent,
    Task,
    TaskStatus,
    Unit,
)
from storage.tasks import SCORED, current_tasks, next_task_code
from storage.types import to_utc, utcnow


class LedgerError(ValueError):
    """A ledger write that cannot be made (unknown submission, entry of another unit...)."""


def submission_ref(submission_id: int) -> str:
    return f"S{submission_id}"


def entry_ref(entry_id: int) -> str:
    return f"E{entry_id}"


def task_ref(task: Task) -> str:
    return task.code or f"K{task.id}"


def _when(at: datetime | None) -> datetime:
    return to_utc(at) if at is not None else utcnow()


def year_of(period: str | None, moment: datetime) -> int:
    """The assessment year: the period's year, else the local (Asia/Shanghai) year of `moment`."""
    if period:
        return int(period[:4])
    return to_utc(moment).astimezone(TZ).year


async def _unit(session: AsyncSession, unit_id: int) -> Unit:
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise LedgerError(f"no unit with id {unit_id}")
    return unit


# --- submissions ---------------------------------------------------------------------------------


async def add_submission(
    session: AsyncSession,
    *,
    unit_id: int,
    target: str,
    submitted_at: datetime,
    sender: str = "",
    year: int | None = None,
    period: str | None = None,
    kind: str = SubmissionKind.INFO,
    title: str = "",
    text: str = "",
    attachments: Sequence[dict[str, Any]] = (),
    task_id: int | None = None,
    source_key: str | None = None,
    corrects_id: int | None = None,
) -> Submission:
    """Log a submission (status: submitted until reviewed). `attachments`: dicts such as
    {"media_id": ..., "file": stored file reference, "name": ...}.

    Idempotent per `source_key` (the inbound message): a message processed again returns the
    submission it already logged, so a replay after a crash never counts twice."""
    if source_key is not None:
        logged = await submission_by_source(session, source_key)
        if logged is not None:
            if logged.unit_id != unit_id:
                raise LedgerError(f"message {source_key} was logged for unit {logged.unit_id}")
            return logged
    await _unit(session, unit_id)
    if task_id is not None:
        task = await session.get(Task, task_id)
        if task is None or task.unit_id != unit_id:
            raise LedgerError(f"task {task_id} is not a task of unit {unit_id}")
    row = Submission(
        unit_id=unit_id,
        year=year if year is not None else year_of(period, submitted_at),
        target=target,
        period=period,
        kind=kind,
        title=title,
        text=text,
        attachments=[dict(a) for a in attachments],
        submitted_at=to_utc(submitted_at),
        sender=sender,
        task_id=task_id,
        source_key=source_key,
        corrects_id=corrects_id,
        title_form=form(title),
        text_form=form(text),
    )
    session.add(row)
    await session.flush()
    audit(
        session,
        sender or "system",
        "submission.add",
        {
            "submission": row.id,
            "unit_id": unit_id,
            "target": target,
            "period": period,
            "corrects": corrects_id,
        },
    )
    return row


async def submission_by_source(session: AsyncSession, source_key: str) -> Submission | None:
    """The submission logged from the inbound message (or conversation) `source_key`, if any."""
    return (
        await session.exec(select(Submission).where(Submission.source_key == source_key))
    ).first()


async def _event(
    session: AsyncSession,
    submission_id: int,
    status: ReviewStatus,
    actor: str,
    reason: str,
    at: datetime | None,
) -> SubmissionEvent:
    if await session.get(Submission, submission_id) is None:
        raise LedgerError(f"no submission with id {submission_id}")
    row = SubmissionEvent(
        submission_id=submission_id, status=status.value, actor=actor, reason=reason, at=_when(at)
    )
    session.add(row)
    await session.flush()
    audit(
        session,
        actor,
        f"submission.{status.value}",
        {"submission": submission_id, "reason": reason, "event": row.id},
    )
    return row


async def review_submission(
    session: AsyncSession,
    submission_id: int,
    *,
    accepted: bool,
    actor: str,
    reason: str = "",
    at: datetime | None = None,
) -> SubmissionEvent:
    """An admin's review: accepted or rejected (a later review overrides an earlier one)."""
    status = ReviewStatus.ACCEPTED if accepted else ReviewStatus.REJECTED
    return await _event(session, submission_id, status, actor, reason, at)


async def withdraw_submission(
    session: AsyncSession,
    submission_id: int,
    *,
    actor: str,
    reason: str = "",
    at: datetime | None = None,
) -> SubmissionEvent:
    return await _event(session, submission_id, ReviewStatus.WITHDRAWN, actor, reason, at)


def effective_status(events: Iterable[SubmissionEvent], known_at: datetime | None = None) -> Status:
    """The latest event (by time, then id) known at `known_at`; none: submitted."""
    rows = ((0, e.at, e.id, e.status) for e in events)
    return latest_statuses(rows, known_at).get(0, Status.SUBMITTED)


_STATUS = {s.value: s for s in Status}


def latest_statuses(
    rows: Iterable[tuple[int, datetime | None, int | None, str | None]],
    known_at: datetime | None = None,
) -> dict[int, Status]:
    """Effective status per submission from (submission id, event time, event id, event status)
    rows, as a column select or an outer join gives them (a row without an event: submitted):
    the latest event by time, then id, made by `known_at`."""
    latest: dict[int, tuple[datetime, int, str]] = {}
    statuses: dict[int, Status] = {}
    for sid, at, eid, status in rows:
        statuses.setdefault(sid, Status.SUBMITTED)
        if at is None or status is None or (known_at is not None and at > known_at):
            continue
        seen = latest.get(sid)
        if seen is None or (at, eid or 0) > (seen[0], seen[1]):
            latest[sid] = (at, eid or 0, status)
            statuses[sid] = _STATUS[status]
    return statuses


async def count_submissions(
    session: AsyncSession,
    unit_id: int,
    year: int,
    *,
    target: str,
    period: str,
    statuses: frozenset[Status] = frozenset({Status.SUBMITTED, Status.ACCEPTED}),
) -> int:
    """How many of a unit's submissions for one target and period are in `statuses` now (one
    query: what a liaison's quota count needs after each 政务信息)."""
    rows = await session.exec(
        select(Submission.id, SubmissionEvent.at, SubmissionEvent.id, SubmissionEvent.status)
        .outerjoin(SubmissionEvent, col(SubmissionEvent.submission_id) == col(Submission.id))
        .where(
            Submission.unit_id == unit_id,
            Submission.year == year,
            Submission.target == target,
            Submission.period == period,
        )
    )
    found = latest_statuses(rows.all())  # type: ignore[arg-type]
    return sum(1 for status in found.values() if status in statuses)


@dataclass(frozen=True)
class SubmissionView:
    submission: Submission
    status: Status

    @property
    def ref(self) -> str:
        assert self.submission.id is not None
        return submission_ref(self.submission.id)


async def accepted_by(session: AsyncSession, submission_id: int) -> str | None:
    """Who approved the submission last (the actor of its latest 通过), if anyone."""
    row = (
        await session.exec(
            select(SubmissionEvent.actor)
            .where(
                SubmissionEvent.submission_id == submission_id,
                SubmissionEvent.status == ReviewStatus.ACCEPTED,
            )
            .order_by(col(SubmissionEvent.at).desc(), col(SubmissionEvent.id).desc())
        )
    ).first()
    return row


async def get_submission(session: AsyncSession, submission_id: int) -> SubmissionView | None:
    row = await session.get(Submission, submission_id)
    if row is None or not await scope.visible(session, row.unit_id):
        return None
    events = (
        await session.exec(
            select(SubmissionEvent).where(SubmissionEvent.submission_id == submission_id)
        )
    ).all()
    return SubmissionView(row, effective_status(events))


async def list_submissions(
    session: AsyncSession,
    unit_id: int,
    year: int,
    *,
    target: str | None = None,
    period: str | None = None,
    known_at: datetime | None = None,
) -> list[SubmissionView]:
    """A unit's submissions of a year with their effective status, oldest first."""
    query = select(Submission).where(Submission.unit_id == unit_id, Submission.year == year)
    if target is not None:
        query = query.where(Submission.target == target)
    if period is not None:
        query = query.where(Submission.period == period)
    rows = list(
        (await session.exec(query.order_by(col(Submission.submitted_at), col(Submission.id)))).all()
    )
    events = await _events_of(session, [r.id for r in rows if r.id is not None])
    return [SubmissionView(r, effective_status(events.get(r.id or 0, []), known_at)) for r in rows]


async def _events_of(
    session: AsyncSession, submission_ids: list[int]
) -> dict[int, list[SubmissionEvent]]:
    found: dict[int, list[SubmissionEvent]] = {}
    for start in range(0, len(submission_ids), 500):
        chunk = submission_ids[start : start + 500]
        rows = (
            await session.exec(
                select(SubmissionEvent).where(col(SubmissionEvent.submission_id).in_(chunk))
            )
        ).all()
        for row in rows:
            found.setdefault(row.submission_id, []).append(row)
    return found


# --- tasks ---------------------------------------------------------------------------------------


async def add_task(
    session: AsyncSession,
    *,
    unit_id: int,
    kind: str,
    due: date,
    actor: str,
    title: str = "",
    target: str | None = None,
    code: str | None = None,
    year: int | None = None,
    note: str = "",
    status: TaskStatus = TaskStatus.ACTIVE,
    reason: str = "",
) -> Task:
    """Assign a task to a unit. `code` is its public id (unique per unit and year; default the
    next `K<n>`, storage.tasks.next_task_code)."""
    await _unit(session, unit_id)
    row = Task(
        unit_id=unit_id,
        kind=kind,
        due=due,
        title=title,
        target=target,
        code=code or await next_task_code(session),
        year=year if year is not None else due.year,
        note=note,
        status=TaskStatus(status).value,
        actor=actor,
        reason=reason,
    )
    session.add(row)
    await session.flush()
    audit(
        session,
        actor,
        "task.add",
        {"task": row.id, "code": code, "unit_id": unit_id, "kind": kind, "due": due.isoformat()},
    )
    return row


async def complete_task(
    session: AsyncSession,
    task_id: int,
    *,
    actor: str,
    done: bool = True,
    reason: str = "",
    at: datetime | None = None,
) -> AdminEntry:
    """Confirm a task done (or, with done=False, not done after all): a CONFIRMATION entry."""
    task = await session.get(Task, task_id)
    if task is None:
        raise LedgerError(f"no task with id {task_id}")
    return await _add_entry(
        session,
        unit_id=task.unit_id,
        year=task.year,
        kind=EntryKind.CONFIRMATION,
        rule=None,
        value=Decimal(1 if done else 0),
        actor=actor,
        reason=reason,
        at=at,
        task_id=task_id,
    )


@dataclass(frozen=True)
class TaskView:
    """A task as it stands now (its latest revision applied) and when it was completed."""

    task: Task
    completed_at: datetime | None

    @property
    def ref(self) -> str:
        return task_ref(self.task)

    @property
    def status(self) -> TaskStatus:
        return TaskStatus(self.task.status)

    @property
    def scored(self) -> bool:
        return self.task.status in SCORED


def task_completion(
    entries: Iterable[AdminEntry], known_at: datetime | None = None
) -> datetime | None:
    """When a task was completed, from its confirmation entries (voided ones already removed):
    the latest confirmation wins; value 1 → its time, value 0 → not completed."""
    latest: AdminEntry | None = None
    for entry in entries:
        if known_at is not None and entry.at > known_at:
            continue
        if latest is None or (entry.at, entry.id or 0) > (latest.at, latest.id or 0):
            latest = entry
    return latest.at if latest is not None and latest.value != 0 else None


async def list_tasks(
    session: AsyncSession,
    unit_id: int,
    year: int,
    *,
    known_at: datetime | None = None,
    include_inactive: bool = False,
) -> list[TaskView]:
    """A unit's tasks of a year as they stand (by due date); cancelled and 不适用 tasks only
    with `include_inactive`."""
    rows = (
        await session.exec(select(Task).where(Task.unit_id == unit_id, Task.year == year))
    ).all()
    tasks = await current_tasks(session, rows, known_at)
    if not include_inactive:
        tasks = [t for t in tasks if t.status in SCORED]
    tasks.sort(key=lambda t: (t.due, t.id or 0))
    entries = await list_entries(session, unit_id, year)
    done = _task_confirmations(entries)
    return [TaskView(t, task_completion(done.get(t.id or 0, []), known_at)) for t in tasks]


def _cancelled(entries: Iterable[AdminEntry], known_at: datetime | None = None) -> set[int]:
    """Ids of entries cancelled by an effective VOID (a VOID can itself be voided), counting only
    voids made by `known_at`."""
    return cancelled_by_voids(
        (e.id or 0, e.voids_id)
        for e in entries
        if e.kind == EntryKind.VOID.value
        and e.voids_id is not None
        and (known_at is None or e.at <= known_at)
    )


def _task_confirmations(
    entries: Sequence[AdminEntry], known_at: datetime | None = None
) -> dict[int, list[AdminEntry]]:
    cancelled = _cancelled(entries, known_at)
    found: dict[int, list[AdminEntry]] = {}
    for e in entries:
        if (
            e.task_id is not None
            and e.kind == EntryKind.CONFIRMATION.value
            and e.id not in cancelled
        ):
            found.setdefault(e.task_id, []).append(e)
    return found


# --- admin entries -------------------------------------------------------------------------------


async def _add_entry(
    session: AsyncSession,
    *,
    unit_id: int,
    year: int,
    kind: EntryKind,
    rule: str | None,
    value: Decimal,
    actor: str,
    reason: str,
    at: datetime | None,
    key: str | None = None,
    task_id: int | None = None,
    voids_id: int | None = None,
) -> AdminEntry:
    row = AdminEntry(
        unit_id=unit_id,
        year=year,
        kind=kind.value,
        rule=rule,
        value=value,
        key=key,
        task_id=task_id,
        voids_id=voids_id,
        actor=actor,
        reason=reason,
        at=_when(at),
    )
    session.add(row)
    await session.flush()
    audit(
        session,
        actor,
        f"entry.{kind.value}",
        {
            "entry": row.id,
            "unit_id": unit_id,
            "year": year,
            "rule": rule,
            "value": str(value),
            "key": key,
            "task": task_id,
            "voids": voids_id,
            "reason": reason,
        },
    )
    return row


async def add_entry(
    session: AsyncSession,
    *,
    unit_id: int,
    year: int,
    kind: EntryKind | str,
    rule: str,
    actor: str,
    value: Decimal | int | str = 1,
    reason: str = "",
    key: str | None = None,
    at: datetime | None = None,
) -> AdminEntry:
    """An admin score entry: points, deduction, bonus, confirmation or rate for a rule (or a
    target with exactly one fitting rule). To cancel one, use `void_entry`."""
    kind = EntryKind(kind)
    if kind == EntryKind.VOID:
        raise LedgerError("use void_entry() to cancel an entry")
    if not rule:
        raise LedgerError("an entry names the rule it is for")
    number = Decimal(str(value))
    if not number.is_finite():
        raise LedgerError(f"not a number: {value!r}")
    await _unit(session, unit_id)
    return await _add_entry(
        session,
        unit_id=unit_id,
        year=year,
        kind=kind,
        rule=rule,
        value=number,
        actor=actor,
        reason=reason,
        at=at,
        key=key,
    )


async def void_entry(
    session: AsyncSession,
    entry_id: int,
    *,
    actor: str,
    reason: str,
    at: datetime | None = None,
) -> AdminEntry:
    """Cancel entry `entry_id` with a VOID entry (the original row stays). Voiding a VOID entry
    restores the entry it cancelled."""
    target = await session.get(AdminEntry, entry_id)
    if target is None:
        raise LedgerError(f"no entry with id {entry_id}")
    return await _add_entry(
        session,
        unit_id=target.unit_id,
        year=target.year,
        kind=EntryKind.VOID,
        rule=target.rule,
        value=Decimal(1),
        actor=actor,
        reason=reason,
        at=at,
        task_id=target.task_id,
        voids_id=entry_id,
    )


async def list_entries(session: AsyncSession, unit_id: int, year: int) -> list[AdminEntry]:
    """All entries of a unit's year (voids and task confirmations included), oldest first."""
    return list(
        (
            await session.exec(
                select(AdminEntry)
                .where(AdminEntry.unit_id == unit_id, AdminEntry.year == year)
                .order_by(col(AdminEntry.at), col(AdminEntry.id))
            )
        ).all()
    )


async def recent_same_entry(
    session: AsyncSession,
    *,
    unit_id: int,
    year: int,
    kind: EntryKind,
    rule: str,
    value: Decimal,
    actor: str,
    reason: str,
    since: datetime,
) -> AdminEntry | None:
    """The latest live entry identical to this one written by `actor` since `since`: what the
    same command sent twice would duplicate."""
    entries = await list_entries(session, unit_id, year)
    cancelled = _cancelled(entries)
    for e in reversed(entries):
        if (
            e.id not in cancelled
            and e.task_id is None
            and e.kind == kind.value
            and e.rule == rule
            and e.value == value
            and e.actor == actor
            and e.reason == reason
            and e.created_at >= to_utc(since)
        ):
            return e
    return None
