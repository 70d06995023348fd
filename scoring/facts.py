"""Facts: what the ledger knows about one unit in one year, as plain immutable data.

The scoring engine reads nothing else. `storage/` builds these from the database; scheme authors
write them by hand in a facts file (see docs/scheme.md) to try a scheme before a year starts.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from scoring.frozen import quick_init

K = TypeVar("K", bound=Hashable)


class Status(StrEnum):
    """Effective status of a submission after every review and withdrawal in the ledger."""

    SUBMITTED = "submitted"  # logged, not yet reviewed: counts, and is listed as 待审核
    ACCEPTED = "accepted"
    REJECTED = "rejected"  # does not count
    WITHDRAWN = "withdrawn"  # does not count


COUNTING = frozenset({Status.SUBMITTED, Status.ACCEPTED})  # the statuses that count


class EntryKind(StrEnum):
    """Kinds of admin score entries."""

    POINTS = "points"  # discretionary points for a `discretionary` rule (latest entry wins)
    DEDUCTION = "deduction"  # one event for a `deduction` rule (each entry is one event)
    BONUS = "bonus"  # a quantity for a `per_unit` rule: an amount of money, a number of awards
    CONFIRMATION = "confirmation"  # done (value 1) / not done (value 0) for award, gate, checklist
    RATE = "rate"  # a measured rate 0..1 for `ratio`, `threshold`, `stepped_rate` (latest wins)
    RATING = "rating"  # a closed 测评 round's satisfaction index 0..1 for `rating` (latest wins)
    VOID = "void"  # cancels the entry named in `voids` (a correction is a new row, never an edit)


class SubmissionKind(StrEnum):
    """What a liaison sent (the ledger's `kind` column; the values are the words stored there)."""

    INFO = "info"  # 政务信息 (C3b, T16)
    FEEDBACK = "feedback"  # an answer to a feedback task (C3a)
    REPORT = "report"  # 月报、季报、年报 (T17, T23)
    EVIDENCE = "evidence"  # 佐证 of a target or task done
    PLAN = "plan"
    SUMMARY = "summary"
    OTHER = "other"


class TaskKind(StrEnum):
    """The task kinds kaohe itself knows; a scheme's rule may name others (a task's `kind` is any
    text), which is why `Task.kind` stays a string compared with these."""

    FEEDBACK = "feedback"  # 任务反馈 (C3a): answered by a FEEDBACK submission
    ANNUAL_TARGET = "annual_target"  # 年度工作指标 (W1), from the 责任书
    KEY_PROJECT = "key_project"  # 重点工程 (W2), from the 责任书
    ASSIGNED = "assigned"  # 领导交办 (T37)


# the task kinds as people name them ("无「key_project」任务" reads "无「重点工程」任务")
TASK_KIND_WORDS: dict[str, str] = {
    TaskKind.ANNUAL_TARGET: "年度工作指标",
    TaskKind.KEY_PROJECT: "重点工程",
    TaskKind.FEEDBACK: "任务反馈",
    TaskKind.ASSIGNED: "交办任务",
}


def task_kind_words(task_kind: str) -> str:
    """A task kind as people name it ("重点工程"); a kind kaohe does not know, quoted as written
    ("「inspection」")."""
    word = TASK_KIND_WORDS.get(task_kind)
    return word if word is not None else f"「{task_kind}」"


@quick_init
@dataclass(frozen=True)
class Submission:
    """Something a liaison sent that counts for an indicator (政务信息, feedback, report, evidence)."""

    id: str
    target: str  # indicator id it counts for, e.g. "C3b", "T16", "T17"
    submitted_at: datetime  # timezone-aware
    period: str | None = None  # "2026-11" (month), "2026-Q3" (quarter), "2026" (year), or None
    status: Status = Status.ACCEPTED
    kind: str = SubmissionKind.INFO  # a SubmissionKind value
    task: str | None = None  # task id, for task feedback
    title: str = ""

    @property
    def counts(self) -> bool:
        return self.status in COUNTING


@quick_init
@dataclass(frozen=True)
class Task:
    """A task assigned to the unit with a due date.

    kind: a `TaskKind` (feedback, annual_target, key_project, assigned) or any kind a scheme's
    rule names.
    """

    id: str
    kind: str
    due: date
    title: str = ""
    target: str | None = None
    completed_at: datetime | None = None  # completion confirmed by an admin (targets, projects)


@quick_init
@dataclass(frozen=True)
class AdminEntry:
    """One admin score entry. Append-only: corrections are VOID entries or later entries."""

    id: str
    kind: EntryKind
    rule: str  # rule id ("T20.3"), or a target id when that target has exactly one fitting rule
    at: datetime
    value: Decimal = Decimal(1)
    key: str | None = None  # checklist item key, when the rule has several items
    actor: str = ""
    reason: str = ""
    voids: str | None = None  # for VOID entries: the id of the entry cancelled


@quick_init
@dataclass(frozen=True)
class Facts:
    """Everything the engine needs about one unit for one assessment year."""

    unit: str
    year: int
    submissions: tuple[Submission, ...] = field(default_factory=tuple)
    tasks: tuple[Task, ...] = field(default_factory=tuple)
    entries: tuple[AdminEntry, ...] = field(default_factory=tuple)


def cancelled_by_voids(voids: Iterable[tuple[K, K]]) -> set[K]:
    """Ids cancelled by an effective VOID, from (void id, id it cancels) pairs.

    A VOID can itself be voided: an entry is cancelled when at least one of its voids is not
    cancelled. The ledger (integer row ids) and the engine (entry ids of a facts file) both ask.
    """
    voiders: dict[K, list[K]] = {}
    for void, target in voids:
        voiders.setdefault(target, []).append(void)
    memo: dict[K, bool] = {}

    def alive(key: K, depth: int = 0) -> bool:
        if key not in memo:
            memo[key] = depth < 50 and not any(alive(v, depth + 1) for v in voiders.get(key, ()))
        return memo[key]

    return {key for key in voiders if not alive(key)}
