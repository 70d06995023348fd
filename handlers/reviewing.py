"""Review decisions, one way for chat and the dashboard: the same ledger rows, the same notices.

`decide(db, ids, accepted=..., actor=..., reason=..., now=...)`:

* writes one `submission_event` per submission whose status changes (with who, when, why);
* a decision that is already in force (通过 twice, 退回 twice) is not written again and not
  announced again: it is reported as "already";
* an approved 佐证 of a task completes the task (a CONFIRMATION entry whose reason names the
  approval), so its 不合格 lifts without a second command;
* each unit's liaisons are told once per call, with every decision about their unit and the
  change of the base score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from handlers import review_texts as rt
from handlers.channel import Channel
from handlers.context import office_name
from handlers.notify import card_of, change_text, tell_unit
from handlers.texts import STATUS_NAMES, sentence
from scoring.facts import Status, SubmissionKind, TaskKind
from scoring.periods import TZ
from storage import ledger
from storage.db import Database
from storage.models import Submission, Unit


class Outcome(StrEnum):
    RECORDED = "recorded"
    ALREADY = "already"  # the same decision is in force: not written again
    UNKNOWN = "unknown"
    WITHDRAWN = "withdrawn"  # withdrawn by the liaison: nothing to review


@dataclass(frozen=True)
class TaskChoice:
    """An open task a 佐证 may be about (it named the target, not the task)."""

    task_id: int
    ref: str
    title: str


@dataclass(frozen=True)
class Decided:
    id: int
    outcome: Outcome
    unit_id: int | None = None
    unit: str = ""
    title: str = ""
    status: Status | None = None  # the status before the decision
    task: str = ""  # the task a 佐证 approval completed ("A3"), if any
    task_title: str = ""
    # open tasks of the 佐证's target when it named no task: the office is asked to confirm them
    ask: tuple[TaskChoice, ...] = ()

    @property
    def ref(self) -> str:
        return f"S{self.id}"


@dataclass
class Decision:
    accepted: bool
    reason: str
    results: list[Decided] = field(default_factory=list)

    def of(self, outcome: Outcome) -> list[Decided]:
        return [d for d in self.results if d.outcome == outcome]


def _check(view: ledger.SubmissionView | None, sid: int, accepted: bool, reason: str) -> Outcome:
    if view is None:
        return Outcome.UNKNOWN
    if view.status == Status.WITHDRAWN:
        return Outcome.WITHDRAWN
    if accepted and view.status == Status.ACCEPTED:
        return Outcome.ALREADY
    if not accepted and view.status == Status.REJECTED:
        return Outcome.ALREADY
    return Outcome.RECORDED


async def decide(
    db: Database,
    ids: Sequence[int],
    *,
    accepted: bool,
    actor: str,
    reason: str = "",
    now: datetime,
    channel: Channel | None = None,
) -> Decision:
    """Approve (accepted=True) or return the submissions `ids`; see the module doc."""
    today = now.astimezone(TZ).date()
    result = Decision(accepted, reason)
    todo: list[tuple[Submission, str]] = []
    async with db.session() as session:
        for sid in dict.fromkeys(ids):
            view = await ledger.get_submission(session, sid)
            outcome = _check(view, sid, accepted, reason)
            if view is None:
                result.results.append(Decided(sid, outcome))
                continue
            sub = view.submission
            unit = await session.get(Unit, sub.unit_id)
            name = unit.name if unit else ""
            if outcome != Outcome.RECORDED:
                result.results.append(
                    Decided(sid, outcome, sub.unit_id, name, sub.title, view.status)
                )
            else:
                todo.append((sub, name))
    units = {(sub.unit_id, sub.year) for sub, _ in todo}
    before = {key: await card_of(db, key[0], key[1], today) for key in units}
    async with db.session() as session:
        for sub, name in todo:
            assert sub.id is not None
            await ledger.review_submission(
                session, sub.id, accepted=accepted, actor=actor, reason=reason, at=now
            )
            task, task_title, ask = "", "", tuple[TaskChoice, ...]()
            if accepted and sub.kind == SubmissionKind.EVIDENCE and sub.task_id is not None:
                task, task_title = await _complete(session, sub, actor, reason, now)
            elif accepted and sub.kind == SubmissionKind.EVIDENCE:
                ask = await _open_tasks_of_target(session, sub)
            result.results.append(
                Decided(
                    sub.id,
                    Outcome.RECORDED,
                    sub.unit_id,
                    name,
                    sub.title,
                    None,
                    task,
                    task_title,
                    ask,
                )
            )
        await session.commit()
    for unit_id, year in sorted(units):
        after = await card_of(db, unit_id, year, today)
        lines = [rt.NOTICE_HEAD.format(office=office_name())]
        for d in result.of(Outcome.RECORDED):
            if d.unit_id != unit_id:
                continue
            if accepted:
                lines.append(rt.NOTICE_ACCEPTED.format(ref=d.ref, title=d.title))
            else:
                lines.append(
                    rt.NOTICE_REJECTED.format(ref=d.ref, title=d.title, reason=sentence(reason))
                )
            if d.task:
                lines.append(rt.NOTICE_TASK.format(task=d.task, title=d.task_title))
        change = change_text(before[(unit_id, year)], after)
        if change:
            lines.append(change)
        await tell_unit(db, unit_id, "\n".join(lines), now=now, channel=channel)
    return result


async def _complete(
    session: ledger.AsyncSession, sub: Submission, actor: str, reason: str, now: datetime
) -> tuple[str, str]:
    """Complete the task a 佐证 is about (unless it already is): (task ref, title) or ('', '')."""
    assert sub.task_id is not None and sub.id is not None
    views = await ledger.list_tasks(session, sub.unit_id, sub.year)
    view = next((v for v in views if v.task.id == sub.task_id), None)
    if view is None or view.completed_at is not None:
        return "", ""
    why = f"佐证{ledger.submission_ref(sub.id)}审核通过" + (f"：{reason}" if reason else "")
    await ledger.complete_task(session, sub.task_id, actor=actor, reason=why, at=now)
    return view.ref, view.task.title


async def _open_tasks_of_target(
    session: ledger.AsyncSession, sub: Submission
) -> tuple[TaskChoice, ...]:
    """The unit's open tasks of the 佐证's target (a 佐证 that named an indicator, not a task)."""
    views = await ledger.list_tasks(session, sub.unit_id, sub.year)
    return tuple(
        TaskChoice(v.task.id, v.ref, v.task.title)
        for v in views
        if v.task.id is not None
        and v.completed_at is None
        and v.task.kind != TaskKind.FEEDBACK
        and related(v.task.target or "", sub.target)
    )


def related(a: str, b: str) -> bool:
    """Whether two indicator ids are one and the same or one within the other: W1 (an item),
    W1a (its target), W1a.1 (a rule of it); not W1 and W10."""
    short, long = sorted((a.upper(), b.upper()), key=len)
    if not short or not long.startswith(short):
        return False
    return len(long) == len(short) or not long[len(short)].isdigit()


def summary(decision: Decision) -> str:
    """The reply to the office: what was recorded, what was already so, what was not found."""
    lines: list[str] = []
    done = decision.of(Outcome.RECORDED)
    if done and decision.accepted:
        lines.append(rt.DONE_ACCEPTED.format(count=len(done), refs="、".join(d.ref for d in done)))
    for d in done:
        if not decision.accepted:
            lines.append(
                rt.DONE_REJECTED.format(
                    ref=d.ref, unit=d.unit, title=d.title, reason=sentence(decision.reason)
                )
            )
        if d.task:
            lines.append(
                rt.DONE_TASK.format(ref=d.ref, unit=d.unit, task=d.task, title=d.task_title)
            )
        for choice in d.ask:
            lines.append(
                rt.DONE_ASK_TASK.format(ref=d.ref, unit=d.unit, task=choice.ref, title=choice.title)
            )
    already = decision.of(Outcome.ALREADY)
    if already:
        status = STATUS_NAMES[Status.ACCEPTED if decision.accepted else Status.REJECTED]
        lines.append(rt.DONE_ALREADY.format(refs="、".join(d.ref for d in already), status=status))
    withdrawn = decision.of(Outcome.WITHDRAWN)
    if withdrawn:
        lines.append(rt.DONE_WITHDRAWN.format(refs="、".join(d.ref for d in withdrawn)))
    unknown = decision.of(Outcome.UNKNOWN)
    if unknown:
        lines.append(rt.DONE_UNKNOWN.format(refs="、".join(d.ref for d in unknown)))
    if done:
        lines.append(rt.DONE_TOLD)
    return "\n".join(lines)
