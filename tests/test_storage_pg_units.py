"""PostgreSQL: units of work run on a few connections kept out of the pool, without a ping at
checkout. A connection that dies is replaced, and a unit whose connection died before its
COMMIT is run once more (nothing of the first try was kept); a unit that fails on a live
connection is not run again. A new message takes its sender's turn in its record's statement:
across two Database instances (two serving processes) one user's turn is held by one at a
time. Hot statements run as asyncpg's prepared statements and fail as the cursor fails."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.inbound import InboundRecord, record_and_handle, record_inbound
from storage.models import AuditLog, InboundMessage
from storage.prepared import Prepared
from storage.turns import TurnTaken

_a = AuditLog.__table__  # type: ignore[attr-defined]
_in = InboundMessage.__table__  # type: ignore[attr-defined]
_AUDIT = Prepared(_a.insert(), ["actor", "action", "detail", "at"])
_KEYS = Prepared(select(_in.c.key))


@pytest.fixture
def pg(database: Database) -> Database:
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL: its units' connections, their turn lock")
    return database


def _values(key: str, sender: str = "zhang") -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "key": key,
        "sender": sender,
        "msg_type": "text",
        "received_at": now,
        "content": f"<xml>{key}</xml>",
        "channel": "wecom",
        "claimed_by": "test",
        "claimed_until": now,
    }


def _audit(conn: Connection, actor: str) -> None:
    _AUDIT.run(conn, {"actor": actor, "action": "test", "detail": {}, "at": datetime.now(UTC)})


async def _count(db: Database, *where: Any) -> int:
    return int(
        await db.run(
            lambda c: c.execute(select(func.count()).select_from(_a).where(*where)).scalar()
        )
    )


async def _other_backends(db: Database) -> list[int]:
    """The database's backends other than the asking connection's."""
    rows = await db.run(
        lambda c: c.execute(
            text(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).all()
    )
    return [r[0] for r in rows]


async def test_a_unit_whose_connection_dies_before_commit_runs_once_more(pg: Database) -> None:
    """The handler's statement kills its own backend (as a server restart would): the record
    and the handler's row of that try are gone with the transaction; the unit runs again on a
    new connection; the message is recorded once and handled once."""
    tries: list[int] = []

    def handle(conn: Connection) -> str:
        tries.append(1)
        _audit(conn, "handled")
        if len(tries) == 1:
            conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return "ok"

    record, result = await record_and_handle(pg, handle, turn=True, **_values("m1"))
    assert record.new and result == "ok"
    assert len(tries) == 2
    assert pg._units is not None and pg._units.retried == 1
    assert await _count(pg, _a.c.actor == "handled") == 1
    again, nothing = await record_and_handle(pg, handle, turn=True, **_values("m1"))
    assert not again.new and nothing is None  # never handled twice
    assert len(tries) == 2


async def test_connections_killed_while_idle_are_replaced(pg: Database) -> None:
    """Every connection of the units killed from outside (no ping at checkout): the next units
    run on new connections, each message recorded once."""
    await asyncio.gather(*(record_inbound(pg, **_values(f"w{i}")) for i in range(6)))
    killer = Database(pg.url)
    try:
        victims = await _other_backends(killer)
        assert victims
        await killer.run(
            lambda c: [
                c.execute(text("SELECT pg_terminate_backend(:p)"), {"p": p}) for p in victims
            ]
        )
    finally:
        await killer.dispose()
    found = await asyncio.gather(*(record_inbound(pg, **_values(f"k{i}")) for i in range(6)))
    assert all(isinstance(r, InboundRecord) and r.new for r in found)
    keys = await pg.run(lambda c: {k for (k,) in _KEYS.all(c)})
    assert keys == {f"w{i}" for i in range(6)} | {f"k{i}" for i in range(6)}


async def test_a_unit_that_fails_on_a_live_connection_is_not_run_again(pg: Database) -> None:
    tries: list[int] = []

    def fail(conn: Connection) -> None:
        tries.append(1)
        _audit(conn, "failed")
        raise RuntimeError("the unit's own error")

    with pytest.raises(RuntimeError):
        await pg.run_write(fail)
    assert len(tries) == 1
    assert await _count(pg, _a.c.actor == "failed") == 0


async def test_a_driver_error_is_the_cursors_and_the_connection_goes_on(pg: Database) -> None:
    """A statement run as asyncpg's prepared statement raises the DBAPI error SQLAlchemy's
    cursor raises (a duplicate key: IntegrityError); the transaction is rolled back and the
    same connection serves the next unit."""
    insert = Prepared(_in.insert(), list(_values("x")))

    def twice(conn: Connection) -> None:
        insert.run(conn, _values("dup"))
        insert.run(conn, _values("dup"))

    with pytest.raises(pg.engine.dialect.dbapi.IntegrityError):  # type: ignore[union-attr]
        await pg.run_write(twice)
    await pg.run_write(lambda c: insert.run(c, _values("after")))
    keys = await pg.run(lambda c: {k for (k,) in _KEYS.all(c)})
    assert keys == {"after"}


async def test_one_users_turn_is_held_by_one_instance_at_a_time(pg: Database) -> None:
    """Two Database instances on one database (two serving processes). While A's message holds
    its sender's turn (its transaction is still open), B's new message of the same user raises
    TurnTaken and keeps nothing; another user's message goes through; once A has committed,
    B's message is recorded and handled."""
    a, b = pg, Database(pg.url)
    gate = Database(pg.url)  # holds a lock A's handler waits for, keeping A's turn open
    try:
        gate_conn = await gate.engine.connect()
        await gate_conn.execute(text("SELECT pg_advisory_lock(4242)"))

        def wait_at_gate(conn: Connection) -> str:
            conn.execute(text("SELECT pg_advisory_xact_lock(4242)"))
            _audit(conn, "a")
            return "a"

        first = asyncio.ensure_future(
            record_and_handle(a, wait_at_gate, turn=True, **_values("a1"))
        )
        for _ in range(500):  # until A waits at the gate, holding the turn
            waiting = await gate_conn.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND objid = 4242 AND NOT granted"
                )
            )
            if waiting.scalar():
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("A never reached the gate")

        def handle_b(conn: Connection) -> str:
            _audit(conn, "b")
            return "b"

        with pytest.raises(TurnTaken):
            await record_and_handle(b, handle_b, turn=True, **_values("b1"))
        other, done = await record_and_handle(b, handle_b, turn=True, **_values("o1", "li"))
        assert other.new and done == "b"
        await gate_conn.execute(text("SELECT pg_advisory_unlock(4242)"))
        await gate_conn.commit()
        await gate_conn.close()
        record, result = await first
        assert record.new and result == "a"
        later, handled = await record_and_handle(b, handle_b, turn=True, **_values("b1"))
        assert later.new and handled == "b"  # nothing of the refused try was kept
        assert await _count(pg, _a.c.actor == "a") == 1
        assert await _count(pg, _a.c.actor == "b") == 2
    finally:
        await b.dispose()
        await gate.dispose()


# --- group commit: units that write share a transaction while the connections are busy --------


async def _gated(db: Database, units: list[Any], meanwhile: Any = None) -> list[Any]:
    """`units` (coroutines of `db.run_write`) queued while the one unit connection of `db` is
    held by a unit waiting at a gate, then let go together: they run as one group.
    `meanwhile(futures)` runs before the gate opens."""
    gate = await asyncpg_connection(db)
    await gate.execute("SELECT pg_advisory_lock(4243)")

    def wait_at_gate(conn: Connection) -> None:
        conn.execute(text("SELECT pg_advisory_xact_lock(4243)"))

    first = asyncio.ensure_future(db.run_write(wait_at_gate))
    for _ in range(500):
        waiting = await gate.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"
            " AND objid = 4243 AND NOT granted"
        )
        if waiting:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the first unit never reached the gate")
    queued = [asyncio.ensure_future(u) for u in units]
    await asyncio.sleep(0.05)
    assert db._units is not None and len(db._units.queued) == len(units)
    if meanwhile is not None:
        meanwhile(queued)
    commits = db.group_commits
    await gate.execute("SELECT pg_advisory_unlock(4243)")
    await gate.close()
    await first
    results = await asyncio.gather(*queued, return_exceptions=True)
    assert db.group_commits == commits + 2  # the gate's unit, then all the others at once
    return results


async def asyncpg_connection(db: Database) -> Any:
    import asyncpg  # type: ignore[import-untyped]

    url = db.engine.url.set(drivername="postgresql")
    return await asyncpg.connect(url.render_as_string(hide_password=False))


@pytest.fixture
async def one(pg: Database) -> Any:
    db = Database(pg.url, unit_connections=1)
    yield db
    await db.dispose()


async def test_units_that_write_share_one_commit_while_the_connection_is_busy(
    one: Database,
) -> None:
    def write(conn: Connection, actor: str) -> str:
        _audit(conn, actor)
        return actor

    results = await _gated(one, [one.run_write(write, f"u{i}") for i in range(8)])
    assert results == [f"u{i}" for i in range(8)]
    assert await _count(one, _a.c.actor.like("u%")) == 8


async def test_a_failing_unit_of_a_group_keeps_nothing_and_the_others_run_again(
    one: Database,
) -> None:
    """The third unit writes, then raises: its caller gets its error and nothing of it is
    kept; the transaction is rolled back and the other units run again in a new one (the two
    before it twice in all), each kept once. A unit whose statement fails (a duplicate key)
    fails alone too."""
    tries: list[str] = []
    insert = Prepared(_in.insert(), list(_values("x")))

    def write(conn: Connection, actor: str) -> str:
        tries.append(actor)
        _audit(conn, actor)
        if actor == "bad":
            raise RuntimeError("the unit's own error")
        if actor == "dup":
            insert.run(conn, _values("taken"))
        return actor

    await one.run_write(lambda c: insert.run(c, _values("taken")))
    names = ["a", "b", "bad", "c", "dup", "d"]
    results = await _gated(one, [one.run_write(write, n) for n in names])
    assert results[:2] == ["a", "b"] and results[3] == "c" and results[5] == "d"
    assert isinstance(results[2], RuntimeError)
    assert isinstance(results[4], one.engine.dialect.dbapi.IntegrityError)  # type: ignore[union-attr]
    assert tries.count("a") == 3 and tries.count("bad") == 1 and tries.count("d") == 1
    for kept in ("a", "b", "c", "d"):
        assert await _count(one, _a.c.actor == kept) == 1
    assert await _count(one, _a.c.actor.in_(["bad", "dup"])) == 0


async def test_a_group_whose_connection_dies_before_commit_runs_once_more(
    one: Database,
) -> None:
    """A unit of the group kills its own backend: the group's work is gone with the
    transaction and the whole group runs again on a new connection, each unit kept once."""
    tries: list[str] = []

    def write(conn: Connection, actor: str) -> str:
        tries.append(actor)
        _audit(conn, actor)
        if actor == "k" and tries.count("k") == 1:
            conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return actor

    results = await _gated(one, [one.run_write(write, n) for n in ("x", "k", "y")])
    assert results == ["x", "k", "y"]
    assert one._units is not None and one._units.retried == 1
    assert tries == ["x", "k", "x", "k", "y"]
    for actor in ("x", "k", "y"):
        assert await _count(one, _a.c.actor == actor) == 1


async def test_a_unit_whose_caller_went_away_before_its_group_is_not_run(
    one: Database,
) -> None:
    tries: list[str] = []

    def write(conn: Connection, actor: str) -> str:
        tries.append(actor)
        _audit(conn, actor)
        return actor

    units = [one.run_write(write, "gone"), one.run_write(write, "kept")]
    results = await _gated(one, units, meanwhile=lambda queued: queued[0].cancel())
    assert isinstance(results[0], asyncio.CancelledError) and results[1] == "kept"
    assert tries == ["kept"]
    assert await _count(one, _a.c.actor == "gone") == 0


@pytest.mark.timeout(30)
async def test_units_written_one_after_another_each_find_a_leader(one: Database) -> None:
    """A unit queued just as the last leader found the queue empty gets a leader of its own
    (it once waited forever: the leader was counted out only by its task's done callback)."""

    def write(conn: Connection, actor: str) -> str:
        _audit(conn, actor)
        return actor

    for i in range(3):  # awaited directly: the caller resumes before the leader's task is done
        assert await one.run_write(write, f"s{i}") == f"s{i}"


async def test_a_unit_deadlocked_in_a_group_is_run_again_alone(one: Database) -> None:
    """Unit 1 of the group updates row A, unit 2 waits for row B, held by another session
    which then waits for A: a deadlock that unit 2 meets only because of unit 1's lock. The
    server aborts the group's statement (the other session waits longer before it checks);
    unit 1 runs again and commits, then unit 2 alone, and both callers get their results."""
    await record_inbound(one, **_values("A"))
    await record_inbound(one, **_values("B"))
    update = "UPDATE inbound_message SET claimed_by = :by WHERE key = :key"

    def claim(conn: Connection, key: str, by: str) -> str:
        conn.execute(text(update), {"by": by, "key": key})
        _audit(conn, by)  # kept once per unit, however often it ran
        return by

    other = await asyncpg_connection(one)
    await other.execute("SET deadlock_timeout = '30s'")
    await other.execute("BEGIN")
    await other.execute("UPDATE inbound_message SET claimed_by = 'other' WHERE key = 'B'")

    async def cross() -> None:
        for _ in range(500):  # until unit 2 waits for B
            waiting = await other.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted"
            )
            if waiting:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError("unit 2 never waited")
        await other.execute("UPDATE inbound_message SET claimed_by = 'other' WHERE key = 'A'")
        await other.execute("COMMIT")

    crossing = asyncio.ensure_future(cross())
    units = [one.run_write(claim, "A", "u1"), one.run_write(claim, "B", "u2")]
    results = await _gated(one, units)
    await crossing
    await other.close()
    assert results == ["u1", "u2"]
    claimed = await one.run(
        lambda c: dict(c.execute(text("SELECT key, claimed_by FROM inbound_message")).all())
    )
    # B: unit 2 ran after the other session committed. A: after the group's rollback, unit 1's
    # rerun and the other session's waiting UPDATE race for the row (under load either wins)
    assert claimed["B"] == "u2" and claimed["A"] in ("u1", "other")
    # each unit committed exactly once: its audit row is there, and only once
    assert [await _count(one, _a.c.actor == who) for who in ("u1", "u2")] == [1, 1]
