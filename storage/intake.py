"""Logging a 政务信息 item as one synchronous unit of work (`Database.run_write`, or inside the
inbound message's own transaction): SQLAlchemy Core statements built once, bound parameters.

Three statements in all: the unit's items of the month, each with its status (for the repeat
check and the quota count; the status a subquery, one row per item), the submission (`INSERT … ON
CONFLICT (source_key) DO NOTHING`: the unique index decides whether the message was logged before,
no pre-check), and its audit row. On PostgreSQL the submission and its audit row are one
statement (`_ADD_AUDITED`: the audit row is inserted from the submission's RETURNING; one round
trip less). The unit is not looked up: the foreign key guarantees it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import bindparam, case, func, insert, literal_column, select
from sqlalchemy.engine import Connection

from scoring.facts import Status, SubmissionKind
from storage.dialects import insert_for
from storage.forms import form
from storage.models import AuditLog, Submission, SubmissionEvent
from storage.prepared import Ahead, InsertOnce, Prepared
from storage.types import to_utc, utcnow

_s = Submission.__table__  # type: ignore[attr-defined]
_e = SubmissionEvent.__table__  # type: ignore[attr-defined]
_a = AuditLog.__table__  # type: ignore[attr-defined]


class MonthItem(NamedTuple):
    """One submission of a unit's month for one target, with its effective status now. (A
    tuple: a busy unit's month has dozens, made for every new item.) Its text is read only for
    a row without forms (logged before they were kept): the forms say what the check needs."""

    id: int
    title: str
    source_key: str | None
    unit_id: int
    status: Status
    title_form: int
    text_form: int


# each item's effective status is its latest review event (by time, then id), as
# storage.ledger.latest_statuses has it; none: submitted
_LATEST = (
    select(_e.c.status)
    .where(_e.c.submission_id == _s.c.id)
    .order_by(_e.c.at.desc(), _e.c.id.desc())
    .limit(1)
    .scalar_subquery()
)
_MONTH = Prepared(
    select(
        _s.c.id,
        _s.c.title,
        _s.c.source_key,
        _s.c.unit_id,
        _LATEST,
        _s.c.title_form,
        _s.c.text_form,
        case((_s.c.text_form.is_(None), _s.c.text), else_=None),
    )
    .where(
        _s.c.unit_id == bindparam("unit_id"),
        _s.c.year == bindparam("year"),
        _s.c.target == bindparam("target"),
        _s.c.period == bindparam("period"),
    )
    .order_by(_s.c.submitted_at, _s.c.id)
)
_BY_SOURCE = Prepared(
    select(_s.c.id, _s.c.title, _s.c.unit_id).where(_s.c.source_key == bindparam("key"))
)
_AUDIT = Prepared(insert(_a), ("actor", "action", "detail", "at"))
_COLUMNS = [
    "unit_id",
    "year",
    "target",
    "period",
    "kind",
    "title",
    "text",
    "attachments",
    "submitted_at",
    "sender",
    "task_id",
    "source_key",
    "corrects_id",
    "created_at",
    "title_form",
    "text_form",
]


# a message handled again (the recovery sweep after a crash) finds its submission by source key
_INSERT = InsertOnce(_s, "source_key", _COLUMNS)
_ADD_ACTION = "submission.add"


@cache
def _add_audited() -> Prepared:
    """PostgreSQL: `_INSERT` and its audit row in one statement — the submission inserted in a
    CTE whose RETURNING feeds the audit row's INSERT, so the audit row exists exactly when the
    submission is new. The same row `add_info` writes on SQLite: the actor (the sender, or
    "system"), the action, the detail (built by `json_build_object`: the same keys, in the same
    order, the JSON's spacing PostgreSQL's) and the submission's creation time."""
    added = (
        insert_for("postgresql")(_s)
        .values({name: bindparam(name) for name in _COLUMNS})
        .on_conflict_do_nothing(index_elements=["source_key"])
        .returning(_s.c.id, _s.c.unit_id, _s.c.target, _s.c.period, _s.c.sender, _s.c.created_at)
        .cte("added")
    )
    detail = func.json_build_object(
        literal_column("'submission'"),
        added.c.id,
        literal_column("'unit_id'"),
        added.c.unit_id,
        literal_column("'target'"),
        added.c.target,
        literal_column("'period'"),
        added.c.period,
        literal_column("'corrects'"),
        literal_column("NULL"),
    )
    actor = func.coalesce(
        func.nullif(added.c.sender, literal_column("''")), literal_column("'system'")
    )
    audited = (
        insert(_a)
        .from_select(
            ["actor", "action", "detail", "at"],
            select(
                actor.label("actor"),
                literal_column(f"'{_ADD_ACTION}'").label("action"),
                detail.label("detail"),
                added.c.created_at,
            ),
        )
        .cte("audited")
    )
    return Prepared(select(added.c.id).add_cte(audited))


def month_items_ahead(unit_id: int, year: int, target: str, period: str) -> Ahead:
    """The read of `month_items`, to be read ahead (`first_reading_ahead`)."""
    return _MONTH, {"unit_id": unit_id, "year": year, "target": target, "period": period}


def month_items(
    conn: Connection, unit_id: int, year: int, target: str, period: str
) -> list[MonthItem]:
    """The unit's submissions of `period` for `target`, oldest first, each with its status."""
    rows = _MONTH.all(conn, {"unit_id": unit_id, "year": year, "target": target, "period": period})
    return [
        MonthItem(
            r[0],
            r[1],
            r[2],
            r[3],
            _STATUS[r[4]] if r[4] else Status.SUBMITTED,
            form(r[1]) if r[5] is None else r[5],
            form(r[7] or "") if r[6] is None else r[6],
        )
        for r in rows
    ]


_STATUS = {s.value: s for s in Status}


@dataclass(frozen=True)
class Logged:
    id: int
    title: str
    new: bool  # False: the message had been logged before (a replay); nothing was written


class LoggedElsewhere(ValueError):
    """The message was logged before for another unit."""


def add_info(
    conn: Connection,
    *,
    unit_id: int,
    year: int,
    target: str,
    period: str,
    title: str,
    text: str,
    attachments: Sequence[dict[str, Any]],
    submitted_at: datetime,
    sender: str,
    source_key: str,
    forms: tuple[int, int] | None = None,
) -> Logged:
    """Log one 政务信息 submission with its audit row, once per `source_key` (a message handled
    again returns what it logged the first time). `forms`: the title's and the text's
    (storage.forms.form), when the caller has them already."""
    now = utcnow()
    values = {
        "unit_id": unit_id,
        "year": year,
        "target": target,
        "period": period,
        "kind": SubmissionKind.INFO.value,
        "title": title,
        "text": text,
        "attachments": [dict(a) for a in attachments],
        "submitted_at": to_utc(submitted_at),
        "sender": sender,
        "task_id": None,
        "source_key": source_key,
        "corrects_id": None,
        "created_at": now,
        "title_form": forms[0] if forms else form(title),
        "text_form": forms[1] if forms else form(text),
    }
    if conn.dialect.name == "postgresql":
        inserted = _add_audited().scalar(conn, values)  # built at its first use
    else:
        inserted = _INSERT.new_id(conn, values)
    if inserted is None:
        found = _BY_SOURCE.first(conn, {"key": source_key})
        assert found is not None  # the insert met its source key
        if found[2] != unit_id:
            raise LoggedElsewhere(f"message {source_key} was logged for unit {found[2]}")
        return Logged(found[0], found[1], new=False)
    if conn.dialect.name == "postgresql":
        return Logged(inserted, title, new=True)  # its audit row came with it
    detail = {
        "submission": inserted,
        "unit_id": unit_id,
        "target": target,
        "period": period,
        "corrects": None,
    }
    _AUDIT.run(
        conn,
        {"actor": sender or "system", "action": _ADD_ACTION, "detail": detail, "at": now},
    )
    return Logged(inserted, title, new=True)
