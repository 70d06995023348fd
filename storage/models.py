"""The tables. Everything that scores is append-only (see storage/ledger.py): a review, a
withdrawal, a correction or a task completion is a new row, never an update or a delete.

Timestamps are aware UTC (storage/types.py). Relationships are `lazy="raise"`: load them explicitly
with `selectinload(...)`, never by touching an attribute under async.
"""

# No `from __future__ import annotations` here: SQLModel resolves relationship annotations itself.

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, MetaData, Text, UniqueConstraint
from sqlmodel import Field, Relationship, SQLModel

from scoring.facts import SubmissionKind
from storage.types import DecimalText, UTCDateTime, utcnow

# Named constraints, so that migrations (and SQLite batch mode) can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: MetaData = SQLModel.metadata

RAISE = {"lazy": "raise"}


class UnitKind(StrEnum):
    DISTRICT = "district"
    DEPARTMENT = "department"


class Role(StrEnum):
    LIAISON = "liaison"
    LEADER = "leader"
    ADMIN = "admin"
    INSPECTOR = "inspector"  # logs 检查考评 findings (第九条); never scores


class ReviewStatus(StrEnum):
    """What a row of `submission_event` says; a submission without events is `submitted`."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class TaskStatus(StrEnum):
    """A task's state in its latest version (the task row, or its latest `task_revision`)."""

    ACTIVE = "active"
    NOT_APPLICABLE = "not_applicable"  # 责任书 状态 不适用: listed, never scored
    CANCELLED = "cancelled"  # withdrawn by the office (取消任务, or gone from a re-imported 责任书)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt


def _at(**kw: Any) -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False, **kw)


class Assessment(SQLModel, table=True):
    """分级考核 (seed 000 第一条): an assessment run by one organiser (the city's 创模办, or a
    district assessing its towns), with its own admins, scheme, units and year. Id 1 is the
    default assessment: everything that existed before assessments, and KAOHE_ADMINS's."""

    __tablename__ = "assessment"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    # the unit that runs it (None for the default one); not one of its own units
    # (a plain id, like unit.assessment_id: no foreign key between the two tables)
    organiser_unit_id: int | None = Field(default=None)
    scheme_id: str | None = Field(default=None, max_length=64)  # its units' usual scheme
    year: int | None = Field(default=None)  # the year it was set up for (None: every year)
    actor: str = Field(default="", max_length=64)
    created_at: datetime = _at()


class AssessmentAdmin(SQLModel, table=True):
    """An admin of an assessment besides the default assessment's (members with the role admin
    and KAOHE_ADMINS). One person may be a liaison in one assessment and an admin in another."""

    __tablename__ = "assessment_admin"
    __table_args__ = (UniqueConstraint("assessment_id", "userid"),)

    id: int | None = Field(default=None, primary_key=True)
    assessment_id: int = Field(foreign_key="assessment.id", index=True)
    userid: str = Field(max_length=64, index=True)
    actor: str = Field(default="", max_length=64)
    created_at: datetime = _at()


class Unit(SQLModel, table=True):
    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    kind: str = Field(max_length=20)  # UnitKind
    scheme_id: str = Field(max_length=64)
    # the assessment it is assessed in (1: the default one). A plain id, no foreign key: adding
    # one to a table with rows would make SQLite rebuild `unit` under its children's references
    assessment_id: int = Field(default=1, index=True, sa_column_kwargs={"server_default": "1"})
    created_at: datetime = _at()
    updated_at: datetime = _at()

    members: list["Member"] = Relationship(back_populates="unit", sa_relationship_kwargs=RAISE)


class Member(SQLModel, table=True):
    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    userid: str = Field(max_length=64, unique=True)  # WeCom user id
    name: str = Field(max_length=100)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    role: str = Field(max_length=20)  # Role
    # a deactivated member keeps their row (their submissions still name them) but is no longer
    # let in; replacing a liaison deactivates the old one and registers the new one
    active: bool = Field(default=True)
    created_at: datetime = _at()
    updated_at: datetime = _at()

    unit: Unit | None = Relationship(back_populates="members", sa_relationship_kwargs=RAISE)


class InboundMessage(SQLModel, table=True):
    """One row per delivered message: the idempotency record and the reply given."""

    __tablename__ = "inbound_message"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    sender: str = Field(max_length=64, index=True)
    msg_type: str = Field(max_length=40)
    received_at: datetime = _at()
    content: str = Field(default="", sa_type=Text)
    channel: str = Field(default="wecom", max_length=20)  # which channel delivered it
    reply: str | None = Field(default=None, sa_type=Text)
    replied_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Who is handling it while no reply is stored: a live process renews its claim; a claim that
    # ran out belongs to a process that died, and the recovery sweep takes the message up again.
    claimed_by: str | None = Field(default=None, max_length=40)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


class Task(SQLModel, table=True):
    """A task assigned to one unit with a due date: its first version. Completion is an admin
    CONFIRMATION entry naming the task (`admin_entry.task_id`); a change (new due date, title,
    cancellation) is a `task_revision` row, never an edit here."""

    __tablename__ = "task"
    __table_args__ = (UniqueConstraint("unit_id", "year", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    code: str | None = Field(default=None, max_length=40)  # public id ("K7"); default "K<id>"
    kind: str = Field(max_length=40)  # feedback | annual_target | key_project | assigned | ...
    title: str = Field(default="", max_length=500)
    target: str | None = Field(default=None, max_length=40)
    due: date
    year: int = Field(index=True)  # the assessment year it belongs to
    note: str = Field(default="", sa_type=Text)  # 责任书 说明
    status: str = Field(default=TaskStatus.ACTIVE.value, max_length=20)  # TaskStatus
    actor: str = Field(default="", max_length=64)
    reason: str = Field(default="", max_length=500)
    created_at: datetime = _at()


class TaskRevision(SQLModel, table=True):
    """A later version of a task, whole (kind, title, due, note, status), with who, when and why.
    The latest revision (by time, then id) is the task as it stands; the task row stays as first
    written, so every change can be shown line by line."""

    __tablename__ = "task_revision"

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    kind: str = Field(max_length=40)
    title: str = Field(default="", max_length=500)
    due: date
    note: str = Field(default="", sa_type=Text)
    status: str = Field(max_length=20)  # TaskStatus
    actor: str = Field(max_length=64)
    reason: str = Field(default="", max_length=500)
    at: datetime = _at()


class Submission(SQLModel, table=True):
    """Something a liaison sent that counts for an indicator. Its status is derived from
    `submission_event` rows (none: submitted)."""

    __tablename__ = "submission"
    __table_args__ = (Index(None, "unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    year: int  # the assessment year it counts for
    target: str = Field(max_length=40)  # indicator / target id ("C3b", "T16")
    period: str | None = Field(default=None, max_length=10)  # "2026-11", "2026-Q3", "2026"
    kind: str = Field(default=SubmissionKind.INFO.value, max_length=20)  # a SubmissionKind
    title: str = Field(default="", max_length=500)
    text: str = Field(default="", sa_type=Text)
    # [{"media_id": ..., "file": stored file reference, "name": ...}, ...]
    attachments: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    submitted_at: datetime = _at()
    sender: str = Field(default="", max_length=64)  # WeCom user id of the liaison
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    # the inbound message it came from: unique, so a message processed again (the recovery sweep
    # after a crash) finds its submission instead of logging a second one
    source_key: str | None = Field(default=None, max_length=200, unique=True, index=True)
    # 补正: the submission this one corrects (one the office returned); the chain stays readable
    corrects_id: int | None = Field(default=None, foreign_key="submission.id", index=True)
    created_at: datetime = _at()
    # storage.forms.form of the title and of the text: the month's repeat check compares these
    # (None on rows written before they were kept: their texts are compared instead)
    title_form: int | None = Field(default=None, sa_type=BigInteger)
    text_form: int | None = Field(default=None, sa_type=BigInteger)

    events: list["SubmissionEvent"] = Relationship(
        back_populates="submission", sa_relationship_kwargs=RAISE
    )


class SubmissionEvent(SQLModel, table=True):
    """A review (accepted / rejected) or a withdrawal of a submission. The latest one (by time,
    then id) is the submission's effective status."""

    __tablename__ = "submission_event"

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    status: str = Field(max_length=20)  # ReviewStatus
    actor: str = Field(max_length=64)
    reason: str = Field(default="", max_length=500)
    at: datetime = _at()

    submission: Submission | None = Relationship(
        back_populates="events", sa_relationship_kwargs=RAISE
    )


class AdminEntry(SQLModel, table=True):
    """An admin score entry (kinds: scoring.facts.EntryKind). A correction is a VOID entry naming
    the one it cancels, or a later entry; nothing is edited. A CONFIRMATION with `task_id` set
    records a task's completion (value 1) or its withdrawal (value 0)."""

    __tablename__ = "admin_entry"
    __table_args__ = (Index(None, "unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id")
    year: int
    kind: str = Field(max_length=20)  # EntryKind
    rule: str | None = Field(default=None, max_length=40)
    value: Decimal = Field(default=Decimal(1), sa_type=DecimalText, nullable=False)
    key: str | None = Field(default=None, max_length=40)
    task_id: int | None = Field(default=None, foreign_key="task.id", index=True)
    voids_id: int | None = Field(default=None, foreign_key="admin_entry.id")
    actor: str = Field(max_length=64)
    reason: str = Field(default="", max_length=500)
    at: datetime = _at()  # when it takes effect (what the engine compares with as_of)
    created_at: datetime = _at()  # when it was written


class ReminderSend(SQLModel, table=True):
    """A reminder claimed for sending; the UNIQUE key makes every reminder go out once."""

    __tablename__ = "reminder_send"
    __table_args__ = (UniqueConstraint("rule", "unit_id", "period", "stage"),)

    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=80)
    unit_id: int = Field(foreign_key="unit.id")
    period: str = Field(max_length=20)
    stage: str = Field(max_length=40)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    claimed_at: datetime = _at()


class Outbox(SQLModel, table=True):
    """A message to send, surviving restarts. Not part of the ledger: status and attempts change."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=200)  # WeCom user id(s), or "webhook"
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING.value, max_length=20)
    attempts: int = 0
    next_attempt_at: datetime = _at()
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = _at()
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConversationState(SQLModel, table=True):
    """Per-user chat state (JSON) for multi-step conversations."""

    __tablename__ = "conversation_state"

    userid: str = Field(primary_key=True, max_length=64)
    state: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _at()


class AuditLog(SQLModel, table=True):
    """Who did what and when."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    actor: str = Field(max_length=64, index=True)
    action: str = Field(max_length=60)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = _at()


class Notice(SQLModel, table=True):
    """A 通知 from the office to every liaison; with `ack_required` it carries a 签收 button."""

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    text: str = Field(default="", sa_type=Text)
    ack_required: bool = Field(default=False)
    recipients: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    actor: str = Field(max_length=64)
    at: datetime = _at()


class NoticeAck(SQLModel, table=True):
    """One person's 签收 of a notice; UNIQUE, so a second click is recorded once."""

    __tablename__ = "notice_ack"
    __table_args__ = (UniqueConstraint("notice_id", "userid"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(foreign_key="notice.id", index=True)
    userid: str = Field(max_length=64)
    at: datetime = _at()
