"""PostgreSQL: the units' connections plan with a random page costing about what a sequential
one does (`storage.db.PG_UNIT_SETTINGS`), so a message's sender is looked up through the unique
indexes, not by scanning a city's ~200 members and units (what the default 4.0 chose)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.sender import member_state_ahead


@pytest.fixture
def pg(database: Database) -> Database:
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL: the planner's settings of the units' connections")
    return database


def _city(conn: Connection) -> None:
    conn.execute(
        text(
            "INSERT INTO unit (name, kind, scheme_id, created_at, updated_at)"
            " SELECT 'unit ' || n, 'department', 's', now(), now()"
            " FROM generate_series(1, 200) AS n"
        )
    )
    conn.execute(
        text(
            "INSERT INTO member (userid, name, unit_id, role, created_at, updated_at, active)"
            " SELECT 'u' || id, 'm', id, 'liaison', now(), now(), true FROM unit"
        )
    )


def _plan(conn: Connection, userid: str) -> list[Any]:
    """The plan of the sender's statement (the record's read ahead), with its parameters."""
    prepared, params = member_state_ahead(userid)
    compiled = prepared._for(conn.dialect)
    args = prepared._args(compiled, params)
    return [row[0] for row in conn.exec_driver_sql("EXPLAIN " + compiled.sql, args)]


async def test_a_units_connection_finds_a_sender_through_the_indexes(pg: Database) -> None:
    await pg.run_write(_city)
    async with pg.engine.connect() as conn:
        await conn.execute(text("ANALYZE unit"))
        await conn.execute(text("ANALYZE member"))
        await conn.commit()
    assert await pg.run(lambda c: c.execute(text("SHOW random_page_cost")).scalar()) == "1.1"
    plan = "\n".join(await pg.run(_plan, "u1"))
    assert "Seq Scan on member" not in plan and "Seq Scan on unit" not in plan, plan
