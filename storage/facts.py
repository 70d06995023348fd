"""The bridge to scoring: `scoring.facts.Facts` of a unit's year, built from the ledger.

* submissions with their effective status (latest review / withdrawal; none: submitted);
* tasks with `completed_at` from the latest non-voided CONFIRMATION entry naming the task;
* admin entries (not the task confirmations) as `AdminEntry`, VOID entries naming `E<id>`.

`known_at` (optional, aware) leaves out reviews, withdrawals, task confirmations and voids made
after it, so a past score can be reproduced as it was known then; the engine itself ignores
submissions, entries and completions dated after its `as_of`.

All units of a year are built with four statements in total (cost linear in the ledger's rows),
built once at import (SQLAlchemy Core, bound parameters) and run as one synchronous unit of work:
on SQLite one hop to the database thread (`Database.run`), not a few per statement.
"""

from __future__ import annotations

import gc
import threading
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Select, String, bindparam, cast, func, literal_column, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel.ext.asyncio.session import AsyncSession

from scoring.facts import AdminEntry as FactEntry
from scoring.facts import EntryKind, Facts
from scoring.facts import Submission as FactSubmission
from scoring.facts import Task as FactTask
from storage import scope
from storage.db import Database
from storage.ledger import (
    _task_confirmations,
    entry_ref,
    latest_statuses,
    submission_ref,
    task_completion,
)
from storage.models import AdminEntry, Submission, SubmissionEvent, Task, TaskRevision, Unit
from storage.prepared import Prepared
from storage.tasks import SCORED, latest_revision
from storage.types import utc_from_sqlite_text

_PAUSES = threading.Lock()
_paused = 0  # pauses in force (threads may overlap: the collector comes back after the last)
_was_enabled = False  # as the first of them found it


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a whole year is scored (or its workbook
    written).

    Only around synchronous code that ends on its own, on the event loop's thread or in a worker
    thread (the tally's workbook): never across an `await` (nor around work handed to a database
    thread), where every other request of the server would run with the collector off for as
    long as the wait. Meanwhile the rest of the process keeps freeing by reference counting; only
    cycles wait for the end of the pause. Pauses may overlap (threads): the collector is back,
    as the first found it, when the last one ends.

    Facts and score cards of every unit are tens of small objects per submission, and a
    workbook's cells a tuple each, all kept until the end: the collector would re-scan that
    growing heap again and again (about 30 % of a 5,000-unit tally, and what made its cost grow
    faster than the units; a third of the 1,000-unit workbook; bench/notes.md). None of it forms
    cycles that need collecting meanwhile; reference counting still frees the rest.
    """
    global _paused, _was_enabled
    with _PAUSES:
        if _paused == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _PAUSES:
            _paused -= 1
            if _paused == 0 and _was_enabled:
                gc.enable()


class UnitRow(NamedTuple):
    """The fields of a unit the facts' readers use (not an ORM object: cheaper to build)."""

    id: int
    name: str
    kind: str
    scheme_id: str


@dataclass(frozen=True)
class UnitFacts:
    unit: UnitRow
    facts: Facts

    @property
    def scheme_id(self) -> str:
        return self.unit.scheme_id


class Window(NamedTuple):
    """What a reader of a few weeks needs (`facts_of`): the periods whose submissions it counts,
    and the due dates (inclusive) of the tasks it looks at."""

    periods: frozenset[str]
    due_from: date
    due_to: date


class _Rev(NamedTuple):
    """A task revision as `latest_revision` reads it."""

    id: int
    at: datetime
    kind: str
    title: str
    due: date
    status: str


# --- statements, built once (bound parameters: :year, and :unit_ids when only some units) -------

_u, _s, _e = Unit.__table__.c, Submission.__table__.c, SubmissionEvent.__table__.c  # type: ignore[attr-defined]
_t, _r, _a = Task.__table__.c, TaskRevision.__table__.c, AdminEntry.__table__.c  # type: ignore[attr-defined]
_task_code = Task.__table__.alias("task_code")  # type: ignore[attr-defined]


def _statements(which: str, by_period: bool = False) -> tuple[Select[Any], ...]:
    """The four reads of a year's facts: units; submissions with their events (an outer join,
    one row per event) and their task's code; tasks with their revisions; admin entries.
    Column selects: scoring never reads the texts or attachments, and ORM objects cost ~5x more
    to build."""
    ids: Any = bindparam("unit_ids", expanding=True)
    one: Any = bindparam("unit_id")
    year: Any = bindparam("year")
    units = select(_u.id, _u.name, _u.kind, _u.scheme_id).order_by(_u.name)
    # one unit's tasks: SQLite (no statistics) took the year's index, reading every task of
    # the year to keep the unit's (163 µs for 200 units' year, and growing with the units,
    # against 11 µs by the unit's index); `year + 0` is served by no index, so the unit's is
    task_year = (_t.year + literal_column("0") == year) if which == "one" else (_t.year == year)
    subs = (
        select(
            _s.id,
            _s.unit_id,
            _s.target,
            _s.submitted_at,
            _s.period,
            _s.kind,
            _s.task_id,
            _s.title,
            _task_code.c.code,
            _e.at,
            _e.id,
            _e.status,
        )
        .outerjoin(SubmissionEvent.__table__, _e.submission_id == _s.id)  # type: ignore[attr-defined]
        .outerjoin(_task_code, _task_code.c.id == _s.task_id)
        .where(_s.year == year)
        .order_by(_s.submitted_at, _s.id)
    )
    tasks = (
        select(
            _t.id,
            _t.unit_id,
            _t.code,
            _t.kind,
            _t.title,
            _t.target,
            _t.due,
            _t.status,
            _r.id,
            _r.at,
            _r.kind,
            _r.title,
            _r.due,
            _r.status,
        )
        .outerjoin(TaskRevision.__table__, _r.task_id == _t.id)  # type: ignore[attr-defined]
        .where(task_year)
        .order_by(_t.id)
    )
    entries = (
        select(
            _a.id,
            _a.unit_id,
            _a.kind,
            _a.rule,
            _a.value,
            _a.key,
            _a.task_id,
            _a.voids_id,
            _a.actor,
            _a.reason,
            _a.at,
        )
        .where(_a.year == year)
        .order_by(_a.at, _a.id)
    )
    if which == "one":  # a plain parameter: an expanding IN is re-rendered at every execution
        units, subs = units.where(_u.id == one), subs.where(_s.unit_id == one)
        tasks, entries = tasks.where(_t.unit_id == one), entries.where(_a.unit_id == one)
    elif which == "some":
        units, subs = units.where(_u.id.in_(ids)), subs.where(_s.unit_id.in_(ids))
        tasks, entries = tasks.where(_t.unit_id.in_(ids)), entries.where(_a.unit_id.in_(ids))
    if by_period:  # the tick's window: see `facts_of`
        periods: Any = bindparam("periods", expanding=True)
        lo: Any = bindparam("due_from")
        hi: Any = bindparam("due_to")
        # a task whose due date, first or revised, falls in the window (a superset of the tasks
        # due there as they stand: the reader keeps those whose current due date is in it)
        revised = select(_r.task_id).where(_r.due.between(lo, hi))
        window_tasks = select(_t.id).where(
            _t.year == year, or_(_t.due.between(lo, hi), _t.id.in_(revised))
        )
        tasks = tasks.where(_t.id.in_(window_tasks))
        subs = subs.where(or_(_s.period.in_(periods), _s.task_id.in_(window_tasks)))
        # the confirmations of those tasks (their completion) and every void (a void can cancel
        # a confirmation, or another void): no other entry
        entries = entries.where(or_(_a.task_id.in_(window_tasks), _a.kind == EntryKind.VOID.value))
    return units, subs, tasks, entries


_STATEMENTS = {
    (which, by_period): _statements(which, by_period)
    for which in ("all", "some", "one")
    for by_period in (False, True)
}


async def build_facts(
    session: AsyncSession, unit: Unit | int, year: int, *, known_at: datetime | None = None
) -> Facts:
    """Facts of one unit (a `Unit` or its id) for one year."""
    unit_id = unit if isinstance(unit, int) else unit.id
    assert unit_id is not None
    found = await build_all_facts(session, year, unit_ids=[unit_id], known_at=known_at)
    if not found:
        raise LookupError(f"no unit with id {unit_id}")
    return found[0].facts


async def build_all_facts(
    session: AsyncSession,
    year: int,
    *,
    unit_ids: list[int] | None = None,
    known_at: datetime | None = None,
) -> list[UnitFacts]:
    """Facts of every unit (or of `unit_ids`) for one year, units by name; every unit is those
    of the current assessment (storage/scope.py)."""
    if unit_ids is None:
        unit_ids = await scope.unit_ids_in_scope(session)
    return await session.run_sync(
        lambda s: facts_of(s.connection(), year, unit_ids=unit_ids, known_at=known_at)
    )


async def unit_year_facts(db: Database, unit_id: int, year: int) -> Facts:
    """Facts of one unit for one year in one unit of work of its own (LookupError: no unit)."""
    found = await read_facts(db, year, unit_ids=[unit_id])
    if not found:
        raise LookupError(f"no unit with id {unit_id}")
    return found[0].facts


async def read_facts(
    db: Database,
    year: int,
    *,
    unit_ids: list[int] | None = None,
    known_at: datetime | None = None,
    window: Window | None = None,
) -> list[UnitFacts]:
    """`build_all_facts` in one unit of work of its own (one thread hop on SQLite); `window`
    as in `facts_of`."""
    return await db.run(facts_of, year, unit_ids=unit_ids, known_at=known_at, window=window)


def facts_of(
    conn: Connection,
    year: int,
    *,
    unit_ids: list[int] | None = None,
    known_at: datetime | None = None,
    window: Window | None = None,
) -> list[UnitFacts]:
    """Facts of every unit (or of `unit_ids`) for one year, units by name: four statements,
    whatever the number of units (cost linear in the ledger's rows).

    With `window`, partial facts for a reader that looks at a few weeks alone (the reminder tick):
    the submissions of the window's periods, the tasks whose due date (first or revised) is in
    the window with their answers and confirmations, and no score entries; never for scoring a
    year."""
    params: dict[str, Any] = {"year": year}
    if unit_ids is None:
        which = "all"
    elif len(unit_ids) == 1:
        which, params["unit_id"] = "one", unit_ids[0]
    else:
        which, params["unit_ids"] = "some", list(unit_ids)
    if window is not None:
        params["periods"] = sorted(window.periods)
        params["due_from"], params["due_to"] = window.due_from, window.due_to
    units: Sequence[Any]
    subs: Sequence[Any]
    task_rows: Sequence[Any]
    entries: Sequence[Any]
    raw = conn.dialect.name == "sqlite"
    if raw and not conn.dialect.is_async:
        # pysqlite (a unit of work on a database thread, `Database.run`): no await anywhere, so
        # the collector is paused over the reads too; their rows (one per submission and
        # event: ~90,000 for a year of 1,000 units) would otherwise set it going every 700 of
        # them, each pass over the rows read so far (~0.2 s of a 1,000-unit tally)
        with collector_paused():
            units, subs, task_rows, entries = _sqlite_rows(conn, which, params, window is not None)
            subs, task_rows, entries = _sqlite_typed(subs, task_rows, entries)
            return _facts(year, known_at, units, subs, task_rows, entries, window is None)
    if raw:
        units, subs, task_rows, entries = _sqlite_rows(conn, which, params, window is not None)
    else:
        units_q, subs_q, tasks_q, entries_q = _STATEMENTS[which, window is not None]
        units = conn.execute(units_q, params).all()
        subs = conn.execute(subs_q, params).all()
        task_rows = conn.execute(tasks_q, params).all()
        entries = conn.execute(entries_q, params).all()
    # the rows are read (on aiosqlite, the awaits are behind): tens of objects per submission
    # from here on, all kept
    with collector_paused():
        if raw:
            subs, task_rows, entries = _sqlite_typed(subs, task_rows, entries)
        return _facts(year, known_at, units, subs, task_rows, entries, window is None)


def _facts(
    year: int,
    known_at: datetime | None,
    units: Sequence[Any],
    subs: Sequence[Any],
    task_rows: Sequence[Any],
    entries: Sequence[Any],
    score_entries: bool = True,
) -> list[UnitFacts]:
    status_of = latest_statuses(((r[0], r[9], r[10], r[11]) for r in subs), known_at)
    subs_of: dict[int, list[FactSubmission]] = defaultdict(list)
    last_sid = None
    for sid, unit_id, target, submitted_at, period, kind, task_id, title, code, *_ in subs:
        if sid == last_sid:  # the same submission again, with its next event
            continue
        last_sid = sid
        subs_of[unit_id].append(
            FactSubmission(
                id=submission_ref(sid),
                target=target,
                submitted_at=submitted_at,
                period=period,
                status=status_of[sid],
                kind=kind,
                task=(code or f"K{task_id}") if task_id is not None else None,
                title=title,
            )
        )

    entries_of: dict[int, list[Any]] = defaultdict(list)
    for e in entries:
        entries_of[e.unit_id].append(e)
    confirmations = {
        unit_id: _task_confirmations(rows, known_at) for unit_id, rows in entries_of.items()
    }
    tasks_of: dict[int, list[tuple[date, int, FactTask]]] = defaultdict(list)
    for task_id, rows in groupby(task_rows, key=itemgetter(0)):
        versions = list(rows)
        _, unit_id, code, kind, title, target, due, status = versions[0][:8]
        revs: list[Any] = [_Rev(*r[8:]) for r in versions if r[8] is not None]  # duck-typed
        rev = latest_revision(revs, known_at)
        if rev is not None:  # the task as it stood: re-dated, cancelled, 不适用
            kind, title, due, status = rev.kind, rev.title, rev.due, rev.status
        if status not in SCORED:
            continue
        done = confirmations.get(unit_id, {}).get(task_id, [])
        fact = FactTask(
            id=code or f"K{task_id}",
            kind=kind,
            due=due,
            title=title,
            target=target,
            completed_at=task_completion(done, known_at),
        )
        tasks_of[unit_id].append((due, task_id, fact))

    result: list[UnitFacts] = []
    for unit_id, name, kind, scheme_id in units:
        result.append(
            UnitFacts(
                UnitRow(unit_id, name, kind, scheme_id),
                Facts(
                    unit=name,
                    year=year,
                    submissions=tuple(subs_of.get(unit_id, ())),
                    tasks=tuple(f for *_, f in sorted(tasks_of.get(unit_id, ()))),
                    entries=tuple(_fact_entries(entries_of.get(unit_id, []), known_at))
                    if score_entries
                    else (),
                ),
            )
        )
    return result


# --- SQLite: the same four statements on the driver's cursor ---------------------------------------


class _EntryRow(NamedTuple):
    """An admin entry's columns as `_statements` selects them (read by name)."""

    id: int
    unit_id: int
    kind: str
    rule: str | None
    value: Decimal
    key: str | None
    task_id: int | None
    voids_id: int | None
    actor: str
    reason: str
    at: datetime


_SQLITE: dict[tuple[str, bool], tuple[SQLCompiler, ...]] = {}


def _sqlite_statements(
    conn: Connection, which: str, windowed: bool = False
) -> tuple[SQLCompiler, ...]:
    """The four statements of `which` (of a window: `facts_of`) compiled for SQLite, once."""
    found = _SQLITE.get((which, windowed))
    if found is None:
        found = tuple(
            _sql_compiler(q.compile(dialect=conn.dialect)) for q in _STATEMENTS[which, windowed]
        )
        _SQLITE[which, windowed] = found
    return found


def _sql_compiler(compiled: Any) -> SQLCompiler:
    assert isinstance(compiled, SQLCompiler)
    return compiled


def _sqlite_rows(
    conn: Connection, which: str, params: dict[str, Any], windowed: bool = False
) -> tuple[Sequence[Any], Sequence[Any], Sequence[Any], Sequence[Any]]:
    """The rows of the four statements, run on the driver's own cursor: SQLAlchemy's execution
    and row processing cost more than the reads (a unit's first 「我的得分」, a year's tally);
    the few typed columns are converted by `_sqlite_typed`. Some units: their ids expanded
    into the statement (`unit_id IN (?, ?, …)`), as SQLAlchemy does. Not `storage.prepared`:
    it has no expanding parameters, and its conversion per column of every row cost about three
    times the few typed columns converted here on a year's ~150,000 rows. A window's
    statements (the reminder tick's) likewise: their periods expanded, their two days bound as
    SQLAlchemy's SQLite `Date` stores them (ISO text)."""
    if windowed:
        params = {k: v.isoformat() if type(v) is date else v for k, v in params.items()}
    cursor = conn.connection.cursor()
    try:
        rows: list[Sequence[Any]] = []
        for compiled in _sqlite_statements(conn, which, windowed):
            if which == "some" or windowed:
                state = compiled.construct_expanded_state(params)
                sql, values = state.statement, state.positional_parameters
            else:
                sql = compiled.string
                values = tuple(params[name] for name in compiled.positiontup or ())
            cursor.execute(sql, values)
            rows.append(cursor.fetchall())
    finally:
        cursor.close()
    return rows[0], rows[1], rows[2], rows[3]


def _sqlite_typed(
    subs: Sequence[Any], task_rows: Sequence[Any], entries: Sequence[Any]
) -> tuple[list[Any], list[Any], list[Any]]:
    """The typed columns of `_sqlite_rows`'s rows converted, as SQLAlchemy would."""
    ts, day = utc_from_sqlite_text, date.fromisoformat
    subs = [
        (i, u, target, ts(at), period, kind, task, title, code, ts(e_at) if e_at else None, e, st)
        for i, u, target, at, period, kind, task, title, code, e_at, e, st in subs
    ]
    task_rows = [
        (*r[:6], day(r[6]), r[7], r[8], ts(r[9]) if r[9] else None, r[10], r[11], day(r[12]) if r[12] else None, r[13])
        for r in task_rows
    ]  # fmt: skip
    entries = [
        _EntryRow(i, u, kind, rule, Decimal(value), key, task, voids, actor, reason, _at(at))
        for i, u, kind, rule, value, key, task, voids, actor, reason, at in entries
    ]
    return subs, task_rows, entries


def _at(text: str) -> datetime:
    moment = utc_from_sqlite_text(text)
    assert moment is not None  # a NOT NULL column
    return moment


def _fact_entries(rows: list[Any], known_at: datetime | None) -> list[FactEntry]:
    """Score entries as the engine sees them: task confirmations (and their voids) are left out,
    they are the tasks' completion."""
    out: list[FactEntry] = []
    for e in rows:
        assert e.id is not None
        if e.task_id is not None:
            continue
        if known_at is not None and e.kind == EntryKind.VOID.value and e.at > known_at:
            continue
        out.append(
            FactEntry(
                id=entry_ref(e.id),
                kind=EntryKind(e.kind),
                rule=e.rule or "",
                at=e.at,
                value=e.value,
                key=e.key,
                actor=e.actor,
                reason=e.reason,
                voids=entry_ref(e.voids_id) if e.voids_id is not None else None,
            )
        )
    return out


# --- the ledger mark of a unit's year: what a reader may keep a score by -------------------------


class LedgerMark(NamedTuple):
    """How many rows of each kind a unit's year has in the ledger and the sum of their ids
    ("count/sum"), with the unit's name and scheme: the same mark, the same facts. The ledger is
    append-only (nothing that scores is updated in place or deleted; DESIGN.md "The ledger"),
    so any change to the facts adds a row and changes the mark."""

    unit: str | None  # None: no such unit
    scheme_id: str | None
    submissions: str
    events: str
    tasks: str
    revisions: str
    entries: str


def _mark_statement() -> Select[Any]:
    one: Any = bindparam("unit_id")
    year: Any = bindparam("year")
    sub = (_s.unit_id == one, _s.year == year)
    task = (_t.unit_id == one, _t.year == year)
    counted: list[Any] = []
    for idc, where, joined in (
        (_s.id, sub, None),
        (_e.id, sub, SubmissionEvent.__table__.join(Submission.__table__)),  # type: ignore[attr-defined]
        (_t.id, task, None),
        (_r.id, task, TaskRevision.__table__.join(Task.__table__)),  # type: ignore[attr-defined]
        (_a.id, (_a.unit_id == one, _a.year == year), None),
    ):
        # count and sum, not max: SQLite answers max(id) by walking the whole table backwards
        mark = cast(func.count(idc), String) + "/" + cast(func.coalesce(func.sum(idc), 0), String)
        q = select(mark)
        if joined is not None:
            q = q.select_from(joined)
        counted.append(q.where(*where).scalar_subquery())
    unit = select(_u.name).where(_u.id == one).scalar_subquery()
    scheme = select(_u.scheme_id).where(_u.id == one).scalar_subquery()
    return select(unit, scheme, *counted)


_MARK = _mark_statement()


_MARK_PREPARED = Prepared(_MARK)  # on the driver's cursor (storage/prepared.py)


def ledger_mark_of(conn: Connection, unit_id: int, year: int) -> LedgerMark:
    row = _MARK_PREPARED.first(conn, {"unit_id": unit_id, "year": year})
    assert row is not None  # scalar subqueries: always one row
    return LedgerMark(*row)


async def unit_year_facts_unless(
    db: Database, unit_id: int, year: int, known: LedgerMark | None
) -> tuple[LedgerMark, Facts | None]:
    """The unit's ledger mark for the year, and its facts unless the mark is still `known`
    (None: nothing changed since), in one unit of work (LookupError: no unit)."""

    def work(conn: Connection) -> tuple[LedgerMark, Facts | None]:
        mark = ledger_mark_of(conn, unit_id, year)
        if mark.unit is None:
            raise LookupError(f"no unit with id {unit_id}")
        if mark == known:
            return mark, None
        return mark, facts_of(conn, year, unit_ids=[unit_id])[0].facts

    return await db.run_small(work)


_UNIT_BY_NAME = select(Unit.__table__.c.id).where(Unit.__table__.c.name == bindparam("name"))  # type: ignore[attr-defined]


async def unit_facts(
    db: Database, unit_name: str, year: int, *, known_at: datetime | None = None
) -> UnitFacts:
    """Facts of the unit named `unit_name` (LookupError if there is none)."""

    def work(conn: Connection) -> list[UnitFacts]:
        unit_id = conn.execute(_UNIT_BY_NAME, {"name": unit_name}).scalar()
        if unit_id is None:
            raise LookupError(f"no unit named {unit_name!r}")
        return facts_of(conn, year, unit_ids=[unit_id], known_at=known_at)

    return (await db.run(work))[0]
