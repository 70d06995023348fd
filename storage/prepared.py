"""Hot statements run on the driver's own cursor: a Core statement compiled once per dialect,
its bind and result processors looked up once, each execution one driver call.

Why: on the message path a statement through `Connection.execute` costs ~20 µs of SQLAlchemy
(cache key, execution context, events, result object) around ~1–3 µs of SQLite. The statements
stay SQLAlchemy Core (the same text SQLAlchemy would send, with its type conversions); only the
per-execution machinery is skipped. They run inside the caller's transaction: the cursor belongs
to the same driver connection.

    _MONTH = Prepared(select(...).where(t.c.unit_id == bindparam("unit_id")))
    rows = _MONTH.all(conn, {"unit_id": 7})
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.util import await_only

from storage.dialects import insert_for

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the bound parameters, in the driver's positional order
    given: dict[str, Any]  # the values the statement carries itself (`values(claimed_by=None)`)
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]  # one per result column (empty: no rows)

    def __post_init__(self) -> None:
        # most statements need no conversion either way (integers and strings on both drivers):
        # then the parameters are picked in one C call and the driver's rows returned as they are
        plain = all(b is None for b in self.binds)
        object.__setattr__(self, "pick", _picker(self.names, self.given) if plain else None)
        object.__setattr__(self, "converts", any(r is not None for r in self.results))

    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None
    converts: bool = True
    asyncpg: bool = False  # PostgreSQL through asyncpg: run as asyncpg's own prepared statement


def _picker(
    names: tuple[str, ...], given: dict[str, Any]
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """The driver's positional parameters from the execution's (and the statement's own)."""
    if not names:
        return lambda _params: ()
    if len(names) == 1:
        name = names[0]
        if given:
            return lambda params: (params[name] if name in params else given[name],)
        return lambda params: (params[name],)
    get = operator.itemgetter(*names)
    if given:
        return lambda params: get({**given, **params})
    return get


class Prepared:
    """One statement, compiled for each dialect it meets. `keys`: for an INSERT or UPDATE
    without values of its own, the columns the executions give (in any order)."""

    def __init__(self, statement: ClauseElement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._compiled: dict[str, _Compiled] = {}
        self._aheads: dict[tuple[str, ...], str] = {}  # `_ahead_sql`, by the reads' SQL

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.keys)
        assert isinstance(compiled, SQLCompiler)
        if not dialect.positional or compiled.positiontup is None:
            raise ValueError(f"{dialect.name}: a positional driver is expected")
        names = tuple(compiled.positiontup)
        binds = tuple(
            compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
            for name in names
        )
        results: tuple[Processor, ...] = ()
        selected = getattr(self.statement, "selected_columns", None)
        returning = getattr(self.statement, "_returning", ())
        columns = list(selected) if selected is not None else list(returning)
        if columns:
            results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in columns
            )
        given = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and name in names
        }
        asyncpg = dialect.name == "postgresql" and dialect.driver == "asyncpg"
        return _Compiled(compiled.string, names, given, binds, results, asyncpg=asyncpg)

    def _ahead_sql(self, reads: tuple[str, ...], given: int) -> str:
        """PostgreSQL: this statement (of `given` parameters) and `reads` (SQL texts) as one:
        `first_reading_ahead`. Built once per combination."""
        sql = self._aheads.get(reads)
        if sql is not None:
            return sql
        columns, joins, offset = ["_first.*"], [], given
        for i, read in enumerate(reads):
            assert "$$" not in read  # its parameters are the only `$n` in it

            def shift(found: re.Match[str], by: int = offset) -> str:
                return f"${int(found.group(1)) + by}"

            offset += len(set(_NUMBERED.findall(read)))
            columns.append(f"_r{i}.rows")
            joins.append(
                f" LEFT JOIN LATERAL (SELECT array_agg(_q) AS rows FROM"
                f" ({_NUMBERED.sub(shift, read)}) AS _q) AS _r{i} ON true"
            )
        first = self._compiled["postgresql"].sql
        sql = self._aheads[reads] = (
            f"WITH _first AS ({first}) SELECT {', '.join(columns)}"
            f" FROM (SELECT 1) AS _one LEFT JOIN _first ON true{''.join(joins)}"
        )
        return sql

    @staticmethod
    def _args(compiled: _Compiled, params: Mapping[str, Any] | None) -> tuple[Any, ...]:
        if compiled.pick is not None:
            return compiled.pick(params or {})
        values = {**compiled.given, **params} if params else compiled.given
        return tuple(
            value if bind is None else bind(value)
            for value, bind in zip(
                (values[name] for name in compiled.names), compiled.binds, strict=True
            )
        )

    def _rows(
        self, conn: Connection, params: Mapping[str, Any] | None
    ) -> tuple[_Compiled, Sequence[Any], int]:
        """The statement's rows (as the driver gives them) and how many rows it changed."""
        compiled = self._for(conn.dialect)
        args = self._args(compiled, params)
        if compiled.asyncpg:
            found = _asyncpg_fetch(conn, compiled.sql, args)
            if found is not None:
                return compiled, found[0], found[1]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, args)
            return compiled, (cursor.fetchall() if compiled.results else ()), cursor.rowcount
        finally:
            cursor.close()

    def _row(self, compiled: _Compiled, raw: Sequence[Any]) -> tuple[Any, ...]:
        if not compiled.converts:  # the driver's row (a Record on asyncpg: made a tuple)
            return raw if type(raw) is tuple else tuple(raw)
        return tuple(
            value if convert is None or value is None else convert(value)
            for value, convert in zip(raw, compiled.results, strict=True)
        )

    def all(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[tuple]:
        """Every row, converted as SQLAlchemy would."""
        compiled, rows, _count = self._rows(conn, params)
        if not compiled.converts and (not rows or type(rows[0]) is tuple):
            return list(rows)
        return [self._row(compiled, raw) for raw in rows]

    def first(self, conn: Connection, params: Mapping[str, Any] | None = None) -> tuple | None:
        """The first row (converted), or None."""
        compiled, rows, _count = self._rows(conn, params)
        return self._row(compiled, rows[0]) if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.first(conn, params)
        return None if row is None else row[0]

    def run(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """A statement without rows; how many rows it changed."""
        return int(self._rows(conn, params)[2])


class InsertOnce:
    """`INSERT … ON CONFLICT (key) DO NOTHING RETURNING id` into `table`: the unique index
    decides, in one statement, whether the row is new. `also`: more expressions to return with
    the id (the turn's lock, storage/inbound.py). Prepared for a dialect at its first use, so a
    process serving from SQLite never builds PostgreSQL's (storage/dialects.py)."""

    def __init__(
        self, table: Any, key: str, columns: Sequence[str], also: Sequence[Any] = ()
    ) -> None:
        self.table, self.key, self.columns, self.also = table, key, list(columns), tuple(also)
        self._by_dialect: dict[str, Prepared] = {}

    def new_row(
        self, conn: Connection, values: Mapping[str, Any], reads: Sequence[Ahead] = ()
    ) -> tuple | None:
        """(the new row's id, *`also`); None when a row with this key was there already.
        `reads`: statements the caller will run next, read in the same round trip
        (`first_reading_ahead`)."""
        dialect = conn.dialect.name
        prepared = self._by_dialect.get(dialect)
        if prepared is None:
            statement = (
                insert_for(dialect)(self.table)
                .on_conflict_do_nothing(index_elements=[self.key])
                .returning(self.table.c.id, *self.also)
            )
            prepared = self._by_dialect[dialect] = Prepared(statement, self.columns)
        if reads:
            return first_reading_ahead(conn, prepared, values, reads)
        return prepared.first(conn, values)

    def new_id(self, conn: Connection, values: Mapping[str, Any]) -> int | None:
        """The new row's id; None when a row with this key was there already."""
        found = self.new_row(conn, values)
        return None if found is None else int(found[0])


_STATEMENTS = "kaohe_prepared"  # asyncpg's prepared statements of a connection, by SQL text
_COUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")


def _asyncpg_fetch(
    conn: Connection, sql: str, args: tuple[Any, ...]
) -> tuple[list[Any], int] | None:
    """PostgreSQL: the statement run as asyncpg's own prepared statement on the raw connection,
    in the transaction SQLAlchemy's asyncpg adaptation began (or begins now, as its cursor
    would); its rows and how many rows it changed. What the adaptation's cursor does, without
    its per-execution work around the driver call (its lock, its statement cache's coroutine,
    the cursor description, the rows copied into a deque): ~20 µs less per statement on the
    bench's machine. Errors are raised as the cursor raises them (the adaptation's DBAPI
    errors). None when the adaptation is not the one this was written for: then the cursor."""
    pooled = conn.connection
    adapted = pooled.dbapi_connection
    begin = getattr(adapted, "_start_transaction", None)
    translate = getattr(adapted, "_handle_exception", None)
    if begin is None or translate is None or not hasattr(adapted, "_transaction"):
        return None
    raw = pooled.driver_connection
    kept = pooled.info.get(_STATEMENTS)  # (the asyncpg connection, its statements by SQL)
    if kept is None or kept[0] is not raw:
        kept = pooled.info[_STATEMENTS] = (raw, {})
    statements: dict[str, Any] = kept[1]
    ahead = pooled.info.get(_AHEAD)
    if ahead:  # read already, in the statement before (`first_reading_ahead`)
        try:
            found_ahead = ahead.pop((sql, args), None)
        except TypeError:  # an argument that cannot be a key: not a read kept
            found_ahead = None
        if found_ahead is not None:
            return found_ahead, -1
    try:
        if adapted._transaction is None:  # type: ignore[union-attr]
            await_only(begin())  # BEGIN (nothing in autocommit mode)
        statement = statements.get(sql)
        if statement is None:
            statement = statements[sql] = await_only(raw.prepare(sql))  # type: ignore[union-attr]
        rows: list[Any] = await_only(statement.fetch(*args))
    except Exception as exc:
        from asyncpg.exceptions import (  # type: ignore[import-untyped]
            InvalidCachedStatementError,
            OutdatedSchemaCacheError,
        )

        if isinstance(exc, InvalidCachedStatementError | OutdatedSchemaCacheError):
            statements.pop(sql, None)  # the schema changed: prepared again next time
        translate(exc)
        raise  # not reached: `translate` raises
    found = _COUNT.match(statement.get_statusmsg() or "")
    return rows, int(found.group(1)) if found else -1


# A read a unit of work will make: the statement and its parameters (`first_reading_ahead`).
Ahead = tuple[Prepared, Mapping[str, Any]]
_AHEAD = "kaohe_ahead"  # rows read ahead on a connection, by (SQL text, arguments)
_NUMBERED = re.compile(r"\$(\d+)")


def first_reading_ahead(
    conn: Connection, first: Prepared, params: Mapping[str, Any], reads: Sequence[Ahead]
) -> tuple | None:
    """`first.first(conn, params)`, and on PostgreSQL (asyncpg) `reads` in the same statement
    and round trip: `first` in a WITH (it may write: an INSERT … RETURNING), each read in a
    LATERAL subquery whose rows come back as one array. Each read's rows are kept on the
    connection until a statement with its SQL and arguments is run next in this transaction,
    which takes them instead of a round trip — or until `forget_reads_ahead`, which the caller
    must call when its transaction ends. The reads see the statement's snapshot: as if run
    just before `first`'s writes, which they must not depend on. Elsewhere: `first` alone."""
    compiled = first._for(conn.dialect)
    if not compiled.asyncpg:
        return first.first(conn, params)
    parts = [(prepared._for(conn.dialect), values) for prepared, values in reads]
    sql = first._ahead_sql(tuple(c.sql for c, _ in parts), len(compiled.names))
    args = first._args(compiled, params)
    kept: dict[tuple[str, tuple[Any, ...]], list[Any]] = {}
    for part, values in parts:
        part_args = first._args(part, values)
        kept[(part.sql, part_args)] = []  # (filled from the row below)
        args += part_args
    found = _asyncpg_fetch(conn, sql, args)
    if found is None:  # not the adaptation `_asyncpg_fetch` knows: no reading ahead
        return first.first(conn, params)
    (row,) = found[0]
    width = len(compiled.results)
    for key, rows in zip(kept, row[width:], strict=True):
        kept[key] = list(rows) if rows is not None else []
    conn.connection.info[_AHEAD] = kept
    if row[0] is None:  # `first` returned no row (the first column is never NULL)
        return None
    return first._row(compiled, tuple(row[:width]))


def forget_reads_ahead(conn: Connection) -> None:
    """Drop what `first_reading_ahead` kept on the connection and was not taken."""
    conn.connection.info.pop(_AHEAD, None)


_serial = itertools.count(1)


def _say(conn: Connection, sql: str) -> None:
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
    finally:
        cursor.close()


@contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """A savepoint on the driver's cursor: the block's work is undone alone when it raises (the
    exception goes on), kept otherwise. What `Connection.begin_nested()` does at a fraction of
    its cost; SQLAlchemy's own transaction around it is untouched."""
    name = f"kaohe_{next(_serial)}"
    _say(conn, f"SAVEPOINT {name}")
    try:
        yield
    except BaseException:
        _say(conn, f"ROLLBACK TO SAVEPOINT {name}")
        _say(conn, f"RELEASE SAVEPOINT {name}")
        raise
    _say(conn, f"RELEASE SAVEPOINT {name}")
