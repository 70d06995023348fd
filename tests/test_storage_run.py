"""`Database.run`: a synchronous unit of work in one transaction (one hop to the database
thread on SQLite), committed when it returns, rolled back when it raises; and the readers built
on it see exactly what the ORM paths see."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from scoring import load_facts_file
from storage.conversation import InfoDraft, state_to_json
from storage.db import Database
from storage.facts import build_all_facts, read_facts, unit_year_facts
from storage.models import ConversationState, Member, Unit
from storage.sender import member_and_state, member_and_state_of
from storage.types import utcnow
from tests.ledger_writer import write_facts

DATA = Path(__file__).parent / "data"
_state = ConversationState.__table__  # type: ignore[attr-defined]
DRAFT = InfoDraft(title="标题")


def _put(conn: Connection, userid: str, fail: bool) -> int:
    conn.execute(
        insert(_state).values(userid=userid, state=state_to_json(DRAFT), updated_at=utcnow())
    )
    if fail:
        raise RuntimeError("the unit of work fails after its write")
    return len(conn.execute(select(_state.c.userid)).all())


async def test_run_commits_or_rolls_back_as_a_whole(database: Database) -> None:
    assert await database.run_write(_put, "a", False) == 1
    with pytest.raises(RuntimeError):
        await database.run_write(_put, "b", True)
    _member, state = await member_and_state(database, "a")
    assert state == DRAFT
    assert (await member_and_state(database, "b")) == (None, None)  # rolled back
    async with database.session() as s:  # the async engine sees the committed row too
        assert (await s.get(ConversationState, "a")) is not None


async def test_concurrent_units_of_work_all_commit(database: Database) -> None:
    await asyncio.gather(*(database.run_write(_put, f"u{i}", False) for i in range(20)))
    assert len(await database.run(lambda c: c.execute(select(_state.c.userid)).all())) == 20


async def test_member_and_state_joins_the_unit(database: Database) -> None:
    async with database.session() as s:
        unit = Unit(name="椒江区", kind="district", scheme_id="chuangmo-taizhou")
        s.add(unit)
        await s.flush()
        s.add(Member(userid="zhang", name="张三", unit_id=unit.id, role="liaison"))
        s.add(Member(userid="li", name="李四", role="admin"))
        await s.commit()
    member, state = await member_and_state(database, "zhang")
    assert member is not None and state is None
    assert (member.name, member.role, member.unit_name, member.scheme_id) == (
        "张三",
        "liaison",
        "椒江区",
        "chuangmo-taizhou",
    )
    loner, _ = await member_and_state(database, "li")
    assert loner is not None and loner.unit_id is None and loner.unit_name is None


async def test_read_facts_equals_the_session_path(database: Database) -> None:
    facts = load_facts_file(DATA / "facts-chuangmo-jiaojiang-2026.yaml")
    unit_id, written = await write_facts(database, facts, scheme_id="chuangmo-taizhou")
    await write_facts(database, facts, scheme_id="chuangmo-taizhou", name="路桥区")
    async with database.session() as s:
        via_session = await build_all_facts(s, 2026)
    assert len(via_session) == 2
    assert await read_facts(database, 2026) == via_session
    assert await read_facts(database, 2026, unit_ids=[unit_id]) == [
        uf for uf in via_session if uf.unit.id == unit_id
    ]
    found = await unit_year_facts(database, unit_id, 2026)
    for part in ("submissions", "tasks", "entries"):  # the facts as written, in the ledger's order
        assert sorted(getattr(found, part), key=lambda x: x.id) == sorted(
            getattr(written, part), key=lambda x: x.id
        )
    with pytest.raises(LookupError):
        await unit_year_facts(database, unit_id + 1000, 2026)


async def test_a_small_read_sees_what_the_writer_committed(database: Database) -> None:
    await database.run_write(_put, "a", False)
    _member, state = await database.run_small(member_and_state_of, "a")
    assert state == DRAFT


async def test_a_small_read_of_a_busy_file_goes_to_the_reader_thread(database: Database) -> None:
    """SQLite: `run_small` reads on the event loop's thread; when the file is busy there (a
    checkpoint: SQLITE_BUSY after a short wait) the read is made again on the reader thread.
    Other errors are the caller's."""
    import threading

    if database.dialect != "sqlite":
        pytest.skip("SQLite: PostgreSQL reads on its pool's connections, on the loop's thread")

    from sqlalchemy.exc import OperationalError

    await database.run_write(_put, "a", False)
    loop_thread = threading.get_ident()
    threads: list[bool] = []

    def read(conn: Connection, error: str) -> object:
        threads.append(threading.get_ident() == loop_thread)
        if threads[-1]:
            raise OperationalError("SELECT …", {}, Exception(error))
        return member_and_state_of(conn, "a")[1]

    assert await database.run_small(read, "database is locked") == DRAFT
    assert threads == [True, False]
    with pytest.raises(OperationalError, match="no such table"):
        await database.run_small(read, "no such table: member")


# --- group commit (SQLite: storage/group_commit.py) ----------------------------------------------


def _sqlite_only(database: Database) -> None:
    if database.dialect != "sqlite":
        pytest.skip(
            "SQLite's group commit (window, writer thread); PostgreSQL's: test_storage_pg_units"
        )


def _orphan(conn: Connection) -> None:
    """A write the database refuses only at COMMIT (a deferred foreign key to no unit)."""
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    conn.execute(
        insert(Member.__table__).values(  # type: ignore[attr-defined]
            userid="ghost",
            name="无此单位",
            unit_id=999_999,
            role="liaison",
            created_at=utcnow(),
            updated_at=utcnow(),
        )
    )


async def test_the_first_unit_of_a_group_failing_undoes_only_itself(database: Database) -> None:
    _sqlite_only(database)
    database.group_window = 0.2  # the three arrive together: one transaction
    results = await asyncio.gather(
        *(database.run_write(_put, f"f{i}", i == 0) for i in range(3)), return_exceptions=True
    )
    assert isinstance(results[0], RuntimeError) and results[1:] == [1, 2]
    assert (await member_and_state(database, "f0")) == (None, None)
    assert (await member_and_state(database, "f2"))[1] == DRAFT


async def test_a_commit_that_fails_fails_every_unit_of_its_group(database: Database) -> None:
    """Callers are answered only after the commit: when it fails, each gets the error and none
    of their work is kept; the next unit gets a new transaction."""
    _sqlite_only(database)
    database.group_window = 0.2
    units = [database.run_write(_put, f"g{i}", False) for i in range(3)]
    results = await asyncio.gather(database.run_write(_orphan), *units, return_exceptions=True)
    assert all(isinstance(r, Exception) and "FOREIGN KEY" in str(r) for r in results), results
    for i in range(3):
        assert (await member_and_state(database, f"g{i}")) == (None, None)
    assert database.group_commits == 0
    assert await database.run_write(_put, "after", False) == 1
    assert database.group_commits == 1


async def test_a_write_waiting_for_another_writers_lock_leaves_the_loop_free(
    database: Database,
) -> None:
    """The writer's BEGIN IMMEDIATE waits on the writer thread, not on the event loop: a session
    of the same process holding the write lock can finish (on the loop) and the write then
    goes through."""
    _sqlite_only(database)
    async with database.session() as s:
        await s.exec(
            insert(_state).values(userid="held", state=state_to_json(DRAFT), updated_at=utcnow())
        )  # the session's connection now holds the write lock
        write = asyncio.ensure_future(database.run_write(_put, "waits", False))
        ticks = 0
        for _ in range(10):
            await asyncio.sleep(0.01)
            ticks += 1
        assert ticks == 10 and not write.done()
        await s.commit()
    assert await asyncio.wait_for(write, 10) == 2


async def test_a_begin_that_times_out_leaves_the_writer_usable(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds the write lock past the busy timeout: that write fails with the
    lock error, and the next one, once the lock is free, goes through on a fresh connection."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    import storage.db

    _sqlite_only(database)
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_MS", 50)
    other = sqlite3.connect(database.url.split("///", 1)[1], isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError, match="locked"):
        await database.run_write(_put, "blocked", False)
    other.execute("ROLLBACK")
    other.close()
    assert await database.run_write(_put, "after", False) == 1


async def test_a_year_is_read_with_the_collector_paused(database: Database) -> None:
    """On SQLite `read_facts` is a synchronous unit of work (no await inside): the cyclic
    collector does not run while the year's rows are read and made facts (it would, every 700
    rows, go over the rows read so far: ~90,000 rows for a year of 1,000 units), and it is on
    again afterwards. The facts are those the session path reads."""
    import gc

    facts = load_facts_file(DATA / "facts-chuangmo-jiaojiang-2026.yaml")
    for n in range(60):  # rows enough for several collections, were the collector on
        await write_facts(database, facts, scheme_id="chuangmo-taizhou", name=f"单位{n}")
    async with database.session() as s:
        via_session = await build_all_facts(s, 2026)
    started: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    assert gc.isenabled()
    gc.callbacks.append(seen)
    try:
        found = await read_facts(database, 2026)
    finally:
        gc.callbacks.remove(seen)
    assert found == via_session
    if database.dialect == "sqlite":
        assert len(started) <= 1, started  # at most the one after the pause, over what it kept
    assert gc.isenabled()
