"""The database: one async engine from one URL (SQLite by default, PostgreSQL at scale).

    db = Database("sqlite+aiosqlite:///./kaohe.db")   # or postgresql+asyncpg://...
    await db.upgrade()                                 # Alembic migrations to head
    async with db.session() as s: ...
    await db.dispose()

SQLite runs in WAL mode with a busy timeout and foreign keys on (set on every new connection);
PostgreSQL gets a pre-pinged, recycled connection pool for sessions, and units of work (`run`)
run on a few connections of their own, unpinged (`_Units`).

    rows = await db.run(work, *args)   # work(conn: sqlalchemy Connection, *args), one transaction

`run` is the fast path for hot statements: a synchronous unit of work in one transaction. On
SQLite it runs on a database thread with a plain sqlite3 connection — one thread hop for the
whole unit instead of a few per statement through aiosqlite; on PostgreSQL it runs on one of
`PG_UNIT_CONNECTIONS` asyncpg connections kept for units (no thread involved), run once more on
a new connection when its connection died before the COMMIT.

Group commit (PostgreSQL): units that write (`run_write`) arriving while every unit connection
is busy share the next transaction on the first connection free (up to `PG_GROUP_MAX`), its
BEGIN and its COMMIT; each caller is answered after that COMMIT. No savepoint per unit (two round
trips each): a unit that raises is answered with its error and the others run again in a new
transaction, as after a dead connection (`_pg_group`).

Group commit (SQLite): units that write (`run_write`) run on the event loop's thread in the one
open transaction; the units that arrive within `group_window` seconds of its first share it and
its one commit, each in a savepoint of its own (one that raises is rolled back alone), and each
caller is answered only after that commit, which runs on the writer thread
(storage/group_commit.py). Reads (`run`) go to a reader thread of their own (WAL: readers never
wait for the writer).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.group_commit import GroupCommit

if TYPE_CHECKING:  # Alembic (with Mako and Pygments, ~10 MB) is imported only to migrate
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 15_000
SMALL_READ_BUSY_MS = 200  # `run_small` on the event loop's thread waits no longer than this
SQLITE_CACHE_KIB = 512  # page cache per connection (PRAGMA cache_size)
MIGRATION_LOCK = 0x6B616F6865  # "kaohe": the PostgreSQL advisory lock held while migrating
PG_UNIT_CONNECTIONS = 4  # PostgreSQL: connections units of work run on (`_Units`)
PG_GROUP_MAX = 16  # PostgreSQL: units that write which may share one transaction (`_Units`)
PG_RECYCLE = 1800.0  # seconds a connection lives (the pool's `pool_recycle`)
# PostgreSQL, the units' connections: a random page read costs about what a sequential one does
# (SSDs, and the hot path's rows in memory). With the default (4.0, spinning disks) the planner
# looked a message's sender up by scanning the whole member and unit tables (a city's ~200 rows,
# a few pages each: "cheaper" than an index) and the submission's foreign key checked its unit
# the same way: ~30 us of the database's CPU a lookup more than through the unique indexes
# (bench/notes.md). Set for the connection's life, never given back to the pool.
PG_UNIT_SETTINGS = "SET random_page_cost = 1.1"


def alembic_config(url: str | None = None) -> Config:
    """Alembic configuration pointing at the migrations inside the installed package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_locations", str(MIGRATIONS / "versions"))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_REVISION = re.compile(r"^revision(?:\s*:[^=]*)?\s*=\s*(.+)$", re.MULTILINE)
_DOWN_REVISION = re.compile(r"^down_revision(?:\s*:[^=]*)?\s*=\s*(.+)$", re.MULTILINE)


def head_revisions() -> set[str]:
    """The newest revisions of the migrations, read from the version files without importing
    Alembic (the serving process checks readiness with it; Alembic itself is only loaded to
    migrate). tests/test_storage_migrations.py checks it against Alembic's own answer."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(ast.literal_eval(found.group(1).strip()))
        down = _DOWN_REVISION.search(source)
        value = ast.literal_eval(down.group(1).strip()) if down else None
        if isinstance(value, str):
            parents.add(value)
        elif value:
            parents.update(value)
    return revisions - parents


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # a small page cache per connection (SQLite's default is 2 MB each, kept for the life of
        # the pooled connection): reads come from the OS's file cache at no measurable cost
        # (a year's facts of 1,000 units read in the same CPU time), and the serving process
        # stays ~3.5 MB smaller (bench/notes.md)
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        # FULL: a commit is on disk when it returns (NORMAL may lose the last commits on a power
        # cut, and a message must not be acknowledged before it is durable); group commit
        # shares the sync among the messages that commit together
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


P = ParamSpec("P")
T = TypeVar("T")


def _sqlite_begin(conn: Connection) -> None:
    # the driver's own transaction handling is off (isolation_level=None): say BEGIN ourselves,
    # so reads of one unit of work see one snapshot and writes take the lock at once
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.info.get("write") else "BEGIN")


def _sync_sqlite_engine(url: str) -> Engine:
    """The synchronous engine `Database.run` uses on SQLite (same file, same pragmas)."""
    sync_url = make_url(url).set(drivername="sqlite+pysqlite")
    engine = create_sync_engine(
        sync_url, connect_args={"isolation_level": None, "check_same_thread": False}
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    options: dict[str, Any] = {
        "pool_size": 10,
        "max_overflow": 20,
        "pool_timeout": 30,
        "pool_recycle": PG_RECYCLE,
        "pool_pre_ping": True,
    }
    options.update(kwargs)
    return create_async_engine(url, **options)


def _pg_unit(
    conn: Connection,
    work: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    committing: list[bool],
) -> T:
    """PostgreSQL: `work` in one transaction; `committing` says the COMMIT was reached (from
    then on a lost connection leaves it unknown whether the unit's work is durable)."""
    with conn.begin():
        result = work(conn, *args, **kwargs)
        committing.append(True)
    return result


class _Slot:
    """A place for one of the connections units of work run on (None: not open yet, or dropped)."""

    __slots__ = ("born", "conn")

    def __init__(self) -> None:
        self.conn: AsyncConnection | None = None
        self.born = 0.0


def _pg_group(conn: Connection, group: list[_Write], committing: list[bool]) -> list[Any]:
    """PostgreSQL: the units of `group` in one transaction, in order, and one COMMIT; their
    results, in order. A unit that raises is answered with its error at once, the transaction
    (with the work of the units before it) rolled back, and the others run again from the
    start in a new one: no savepoint around each unit (on PostgreSQL a savepoint and its
    release are two round trips, what sharing BEGIN and COMMIT saves), and units are already
    bound to be free of outside side effects (run again after their connection died). When
    the connection itself died, the error is raised: the whole group is the caller's to run
    again. `committing` says the COMMIT was reached.

    A unit that meets a deadlock or a serialization failure in a group of several may owe it
    to the locks the units before it hold: it is run again alone once the group has committed
    (the group's callers answered first), and only an error it meets alone is its own."""
    try:
        return _pg_group_deferring(conn, group, committing)
    finally:
        conn.info.pop(_DEFERRED, None)


def _pg_group_deferring(conn: Connection, group: list[_Write], committing: list[bool]) -> list[Any]:
    left, alone = list(group), []
    results: list[Any] = []
    while left:
        failed: tuple[_Write, Exception] | None = None
        results = []
        trans = conn.begin()
        conn.info[_DEFERRED] = {}  # (a run rolled back drops what it deferred)
        try:
            for unit in left:
                try:
                    results.append(unit.work(conn, *unit.args, **unit.kwargs))
                except Exception as exc:
                    failed = (unit, exc)
                    break
            if failed is None:
                flush_deferred(conn)  # failing, it fails the group as its COMMIT would
                committing.append(True)
                trans.commit()
                break
        except BaseException:
            if trans.is_active:
                trans.rollback()
            raise
        unit, error = failed
        if _dead_sync(conn):
            raise error  # the transaction went with the connection: the group runs again
        trans.rollback()
        if len(left) > 1 and _sqlstate(error) in _CONFLICTS:
            alone.append(unit)
        elif not unit.future.done():
            unit.future.set_exception(error)
        left = [u for u in left if u is not unit]
        group[:] = left
    conn.info.pop(_DEFERRED, None)  # units run alone write at once
    if alone:
        for unit, result in zip(left, results, strict=True):  # committed: answered first
            if not unit.future.done():
                unit.future.set_result(result)
        for unit in alone:
            try:
                with conn.begin():
                    result = unit.work(conn, *unit.args, **unit.kwargs)
            except Exception as exc:
                if not unit.future.done():
                    unit.future.set_exception(exc)
            else:
                if not unit.future.done():
                    unit.future.set_result(result)
    return results


_DEFERRED = "kaohe_deferred"  # writes a group's transaction makes at its end, by their flush


def defer_write(conn: Connection, flush: Callable[[Connection, list[Any]], Any], item: Any) -> bool:
    """In a PostgreSQL group's transaction (`_pg_group`): keep `item` for `flush(conn, items)`,
    called once with the transaction's items just before its COMMIT, and True. False where
    nothing is deferred (SQLite, a unit run alone): then the caller writes at once.

    For writes whose result the unit does not need (the stored reply: one UPDATE a message,
    ~12 messages to a group): one statement for the group instead of one round trip each. A
    unit that reads what it deferred (a repeat of a message in the same group reading its
    reply) calls `flush_deferred` first. A failing flush fails the group as its COMMIT would."""
    pending: dict[Any, list[Any]] | None = conn.info.get(_DEFERRED)
    if pending is None:
        return False
    pending.setdefault(flush, []).append(item)
    return True


def flush_deferred(conn: Connection) -> None:
    """Write what `defer_write` kept on this transaction so far (nothing kept: nothing done)."""
    pending: dict[Any, list[Any]] | None = conn.info.get(_DEFERRED)
    while pending:
        flush, items = next(iter(pending.items()))
        del pending[flush]
        flush(conn, items)


_CONFLICTS = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


def _sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a driver error (the adaptation's own, or wrapped by SQLAlchemy)."""
    code = getattr(error, "sqlstate", None) or getattr(
        getattr(error, "orig", None), "sqlstate", None
    )
    return code if isinstance(code, str) else None


class _Write:
    """A unit of work that writes, waiting for its group's transaction (`_Units.run_write`)."""

    __slots__ = ("args", "future", "kwargs", "work")

    def __init__(
        self,
        work: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        future: asyncio.Future[Any],
    ) -> None:
        self.work, self.args, self.kwargs, self.future = work, args, kwargs, future


def _dead_sync(conn: Connection) -> bool:
    """`_dead` for the synchronous side of the connection (inside `run_sync`)."""
    if conn.closed or conn.invalidated:
        return True
    raw = conn.connection.driver_connection
    return raw is None or bool(raw.is_closed())


def _dead(conn: AsyncConnection) -> bool:
    """The connection is closed or invalidated, or its driver connection is (no round trip:
    asyncpg notices a closed socket by itself)."""
    if conn.closed or conn.invalidated:
        return True
    raw = conn.sync_connection.connection.driver_connection if conn.sync_connection else None
    return raw is None or bool(raw.is_closed())


class _Units:
    """PostgreSQL: the few connections units of work (`Database.run`) run on, kept checked out
    of the engine's pool for as long as they live and taken in turn (LIFO: the one used last is
    used next; one is opened only when every open one is busy). 50 senders at once wait their
    turn for `size` connections instead of opening overflow connections, each costing memory;
    a unit skips the pool's checkout and check-in (~0.2 ms of CPU) and its ping (three round
    trips: BEGIN, a query, ROLLBACK — ~0.5 ms of CPU on the bench's machine).

    No ping: a connection that died while idle (a restarted server, a killed backend) is
    usually seen closed already; one that fails during a unit is dropped and the unit run once
    more on a new connection if the COMMIT was not reached (the server rolled the transaction
    back with the connection: nothing of it is kept). A failure at or after the COMMIT is
    raised: whether the work is durable is unknown, and the caller decides (an unacknowledged
    message is delivered again and found recorded).

    Units that write share transactions while the connections are busy (`run_write`,
    `_pg_group`): under 50 senders ~12 messages to a COMMIT, two round trips a message fewer."""

    def __init__(self, engine: AsyncEngine, size: int, recycle: float) -> None:
        self.engine, self.size, self.recycle = engine, size, recycle
        self.loop = asyncio.get_running_loop()
        self.slots: asyncio.LifoQueue[_Slot] = asyncio.LifoQueue()
        for _ in range(size):
            self.slots.put_nowait(_Slot())
        self.retried = 0  # units run again after their connection died (for tests)
        self.queued: list[_Write] = []  # units that write, waiting for a group
        self.leading = 0  # leaders running groups, each on a connection (at most `size`)
        self.leaders: set[asyncio.Task[None]] = set()  # (kept referenced while they run)
        self.commits = 0  # transactions of units that write committed (for tests and the bench)

    async def run(self, work: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]) -> T:
        for attempt in (1, 2):
            slot = await self._take_slot()
            committing: list[bool] = []
            try:
                conn = await self._open(slot)
                result: T = await conn.run_sync(_pg_unit, work, args, kwargs, committing)
            except BaseException as exc:
                dead = slot.conn is None or _dead(slot.conn)
                if dead or not isinstance(exc, Exception):  # dead, or cancelled mid-unit
                    await self._drop(slot)
                self.slots.put_nowait(slot)
                if dead and attempt == 1 and not committing and isinstance(exc, Exception):
                    self.retried += 1
                    continue
                raise
            self.slots.put_nowait(slot)
            return result
        raise AssertionError("unreachable")

    async def run_write(
        self, work: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        """Group commit: `work` joins the units that wait for a transaction; a leader (at most
        one per connection) takes up to `PG_GROUP_MAX` of them into one transaction and one
        COMMIT (`_pg_group`), and each caller is answered after that COMMIT. Alone, a unit
        runs at once in a transaction of its own; units arriving while every connection is
        busy share the next. A caller that goes away before its group begins takes its unit
        with it; after that, the unit's work may be committed all the same."""
        future: asyncio.Future[T] = self.loop.create_future()
        self.queued.append(_Write(work, args, kwargs, future))
        if self.leading < self.size:
            self.leading += 1
            leader = self.loop.create_task(self._lead())
            self.leaders.add(leader)
            leader.add_done_callback(self.leaders.discard)
        return await future

    async def _lead(self) -> None:
        # counted out in the same step that finds the queue empty: a unit queued after it
        # starts a leader of its own (a task's done callbacks run only later)
        try:
            while self.queued:
                group = self.queued[:PG_GROUP_MAX]
                del self.queued[:PG_GROUP_MAX]
                await self._group(group)
        finally:
            self.leading -= 1

    async def _group(self, group: list[_Write]) -> None:
        """Run `group` (`_pg_group`) and answer its callers; once more on a new connection when
        the connection died before the COMMIT, as `run` does for one unit."""
        for attempt in (1, 2):
            group = [unit for unit in group if not unit.future.done()]
            if not group:
                return
            slot = await self._take_slot()
            committing: list[bool] = []
            try:
                conn = await self._open(slot)
                results = await conn.run_sync(_pg_group, group, committing)
            except BaseException as exc:
                dead = slot.conn is None or _dead(slot.conn)
                if dead or not isinstance(exc, Exception):
                    await self._drop(slot)
                self.slots.put_nowait(slot)
                if dead and attempt == 1 and not committing and isinstance(exc, Exception):
                    self.retried += 1
                    continue
                for unit in group:
                    if not unit.future.done():
                        unit.future.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                return
            self.slots.put_nowait(slot)
            if committing:
                self.commits += 1
            for unit, result in zip(group, results, strict=True):
                if not unit.future.done():
                    unit.future.set_result(result)
            return

    async def _open(self, slot: _Slot) -> AsyncConnection:
        conn = slot.conn
        if conn is not None and (_dead(conn) or time.monotonic() - slot.born > self.recycle):
            await self._drop(slot)
            conn = None
        if conn is None:
            conn = slot.conn = await self.engine.connect()  # pinged once by the pool
            slot.born = time.monotonic()
            raw = (await conn.get_raw_connection()).driver_connection
            if raw is not None:  # outside any transaction: for the connection's life
                await raw.execute(PG_UNIT_SETTINGS)
        return conn

    @staticmethod
    async def _drop(slot: _Slot) -> None:
        conn, slot.conn = slot.conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            if not conn.invalidated:
                await conn.invalidate()  # never back to the pool
        with contextlib.suppress(Exception):
            await conn.close()

    async def _take_slot(self) -> _Slot:
        """A free connection slot: at once when one is free (no suspension), else the first
        given back."""
        try:
            return self.slots.get_nowait()
        except asyncio.QueueEmpty:
            return await self.slots.get()

    async def close(self) -> None:
        while not self.slots.empty():
            await self._drop(self.slots.get_nowait())


def _in_transaction(
    conn: Connection,
    write: bool,
    work: Callable[..., T],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> T:
    conn.info["write"] = write
    with conn.begin():
        return work(conn, *args, **kwargs)


def _upgrade(connection: Connection, cfg: Config, revision: str) -> None:
    from alembic import command

    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)


def _current(connection: Connection) -> set[str]:
    """The revisions the database is at (Alembic's version table; none before the first
    migration), read with plain SQL."""
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


class Database:
    """Engine + session factory for one database URL."""

    def __init__(
        self,
        url: str,
        *,
        group_window: float = 0.002,
        unit_connections: int = PG_UNIT_CONNECTIONS,
        **engine_options: Any,
    ) -> None:
        self.url = url
        self.group_window = group_window  # SQLite: how long a commit waits for company
        self.unit_connections = unit_connections  # PostgreSQL: connections units run on
        self._units: _Units | None = None
        self.engine: AsyncEngine = create_engine(url, **engine_options)
        self.dialect: str = self.engine.dialect.name  # "sqlite" | "postgresql"
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._sync: Engine | None = None  # SQLite: the engine of `run`, made on first use
        self._thread: ThreadPoolExecutor | None = None  # SQLite: the reader thread
        self._writer: GroupCommit | None = None
        self._sync_lock = threading.Lock()
        self._loop_thread = threading.get_ident()  # `run_small` reads inline on this thread
        self._small_conn: Connection | None = None
        # caches of the readers above, living and dying with this database (for example the
        # score cards kept by ledger mark: handlers/scoretext.py)
        self.memo: dict[str, Any] = {}

    async def run(
        self,
        work: Callable[Concatenate[Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`work(conn, *args, **kwargs)` in one transaction, committed when it returns and
        rolled back when it raises. Reads only unless `work` writes; on SQLite a unit that
        writes should be run with `run_write` (it takes the write lock at BEGIN)."""
        return await self._run(False, work, *args, **kwargs)

    async def run_small(
        self,
        work: Callable[Concatenate[Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`run` for a read of a few rows (a sender, one unit's ledger): on SQLite it runs at
        once on the calling thread, where a hop to the reader thread would cost more than the
        read itself. WAL readers do not wait for the writer; should the file be busy all the
        same (a checkpoint), the read goes to the reader thread after all."""
        if self.dialect != "sqlite" or threading.get_ident() != self._loop_thread:
            return await self.run(work, *args, **kwargs)
        self._executor()
        try:
            conn = self._small_conn
            if conn is None:
                assert self._sync is not None
                conn = self._small_conn = self._sync.connect()
                driver = conn.connection.driver_connection
                assert driver is not None
                driver.execute(f"PRAGMA busy_timeout={SMALL_READ_BUSY_MS}")
            return _in_transaction(conn, False, work, args, kwargs)
        except OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
        return await self.run(work, *args, **kwargs)

    async def run_write(
        self,
        work: Callable[Concatenate[Connection, P], T],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """`run` for a unit of work that writes (SQLite: BEGIN IMMEDIATE, so two writers never
        deadlock upgrading a read lock)."""
        return await self._run(True, work, *args, **kwargs)

    async def _run(self, write: bool, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.dialect != "sqlite":
            units = self._units
            if units is None or units.loop is not asyncio.get_running_loop():
                units = self._units = _Units(self.engine, self.unit_connections, PG_RECYCLE)
            if write:
                return await units.run_write(work, args, kwargs)
            return await units.run(work, args, kwargs)
        if write:
            return await self._group_writer().run(work, args, kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor(), self._run_sqlite, write, work, args, kwargs
        )

    def _executor(self) -> ThreadPoolExecutor:
        if self._thread is None:
            with self._sync_lock:
                if self._thread is None:
                    self._sync = _sync_sqlite_engine(self.url)
                    self._thread = ThreadPoolExecutor(1, thread_name_prefix="kaohe-db-read")
        return self._thread

    def _group_writer(self) -> GroupCommit:
        if self._writer is None:
            self._executor()
            with self._sync_lock:
                if self._writer is None:
                    assert self._sync is not None
                    self._writer = GroupCommit(self._sync, self.group_window)
        return self._writer

    @property
    def group_commits(self) -> int:
        """Transactions of units that write committed (each for one or more units)."""
        if self._units is not None:
            return self._units.commits
        return self._writer.commits if self._writer is not None else 0

    def _run_sqlite(
        self, write: bool, work: Callable[..., T], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> T:
        assert self._sync is not None
        with self._sync.connect() as conn:
            return _in_transaction(conn, write, work, args, kwargs)

    def session(self) -> AsyncSession:
        """A new session: `async with db.session() as s:` (commit explicitly, or use
        `async with s.begin():`)."""
        return self._sessions()

    async def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to `revision` (default: head)."""
        cfg = alembic_config(self.url)
        sqlite = self.dialect == "sqlite"
        async with self.engine.connect() as conn:
            if sqlite:
                # Batch migrations rebuild a table (copy, DROP, rename) while other tables'
                # rows point at it: SQLite's documented way is foreign keys off around the
                # transaction (a no-op inside one) and a foreign_key_check before commit.
                await conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
                await conn.commit()  # ends SQLAlchemy's autobegun transaction (no SQL BEGIN yet)
            try:
                async with conn.begin():
                    # One migrator at a time, all or nothing: several instances may start together.
                    if self.dialect == "postgresql":
                        await conn.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                        )
                    elif sqlite:
                        # the driver would run DDL outside any transaction; take the lock now
                        await conn.exec_driver_sql("BEGIN IMMEDIATE")
                    await conn.run_sync(_upgrade, cfg, revision)
                    if sqlite:
                        broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                        if broken:
                            raise RuntimeError(f"migration breaks foreign keys: {broken[:5]}")
            finally:
                if sqlite:
                    await conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                    await conn.commit()

    async def current_revisions(self) -> set[str]:
        async with self.engine.connect() as conn:
            return await conn.run_sync(_current)

    async def is_current(self) -> bool:
        """The database answers and its migrations are at head."""
        return await self.current_revisions() == head_revisions()

    async def check_writable(self, timeout: float) -> None:
        """Raise unless the database takes a write within `timeout` seconds: a read-only file,
        a read-only replica or a lock held longer than that makes the instance not ready. The
        probe is an UPDATE that matches no row, rolled back: nothing changes."""
        async with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                await conn.exec_driver_sql(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            elif self.dialect == "postgresql":
                await conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{int(timeout * 1000)}ms'")
            try:
                # the table every message writes first; no row matches, but the write lock is taken
                await conn.execute(text("UPDATE inbound_message SET key = key WHERE id = -1"))
            finally:
                await conn.rollback()
                if self.dialect == "sqlite":
                    await conn.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")

    async def dispose(self) -> None:
        if self._units is not None:
            units, self._units = self._units, None
            if units.loop is asyncio.get_running_loop():
                await units.close()
        if self._small_conn is not None:
            small, self._small_conn = self._small_conn, None
            small.close()
        if self._writer is not None:
            writer, self._writer = self._writer, None
            await writer.stop()
        if self._thread is not None:
            thread, self._thread = self._thread, None
            await asyncio.get_running_loop().run_in_executor(thread, self._dispose_sync)
            thread.shutdown(wait=True)
        await self.engine.dispose()

    def _dispose_sync(self) -> None:
        if self._sync is not None:
            self._sync.dispose()
            self._sync = None

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"


async def upgrade(url: str) -> None:
    """Apply the migrations to the database at `url` (what `kaohe db upgrade` and `kaohe serve` do)."""
    db = Database(url)
    try:
        await db.upgrade()
    finally:
        await db.dispose()
