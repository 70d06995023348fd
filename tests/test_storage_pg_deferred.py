"""PostgreSQL: the replies stored by the units of one group's transaction are written together,
in one statement just before its COMMIT (`storage.db.defer_write`), not one round trip each.
What a retry reads is the same: a repeat of a message in the same group finds its reply, and
every reply is there after the COMMIT; a unit that fails takes its kept-back reply with it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.inbound import (
    InboundRecord,
    record_and_handle,
    store_reply,
    store_reply_in,
    stored_reply,
)
from storage.models import InboundMessage
from tests.test_storage_pg_units import _gated, _values

_in = InboundMessage.__table__  # type: ignore[attr-defined]


@pytest.fixture
async def one(database: Database) -> Any:
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL: a group's transaction")
    db = Database(database.url, unit_connections=1)
    yield db
    await db.dispose()


def _reply_now(conn: Connection, key: str) -> str | None:
    """The reply as this transaction sees it, read without `storage.inbound`."""
    return conn.execute(select(_in.c.reply).where(_in.c.key == key)).scalar_one_or_none()


async def _record(db: Database, key: str, handle: Any) -> tuple[InboundRecord, Any]:
    values = _values(key)
    return await record_and_handle(db, handle, **values)


async def test_a_groups_replies_are_written_at_its_end_and_a_repeat_reads_its_reply(
    one: Database,
) -> None:
    seen: dict[str, str | None] = {}

    def answer(key: str) -> Any:
        def handle(conn: Connection) -> str:
            store_reply_in(conn, key, f"reply to {key}")
            return key

        return handle

    def look(conn: Connection) -> None:  # a later unit of the group, another message
        seen["a"] = _reply_now(conn, "a")
        store_reply_in(conn, "c", "reply to c")

    results = await _gated(
        one,
        [
            _record(one, "a", answer("a")),
            _record(one, "b", answer("b")),
            _record(one, "c", look),
            _record(one, "a", answer("a")),  # a repeat of "a": its reply, not a second run
        ],
    )
    first, again = results[0], results[3]
    assert first[0].new and first[1] == "a"
    assert not again[0].new and again[0].reply == "reply to a" and again[1] is None
    assert seen["a"] is None  # kept back until the group's end
    for key in ("a", "b", "c"):
        found = await stored_reply(one, key)
        assert found is not None and found.reply == f"reply to {key}"
    rows = await one.run(
        lambda c: c.execute(
            select(_in.c.key, _in.c.claimed_by, _in.c.replied_at).order_by(_in.c.key)
        ).all()
    )
    assert [(r[0], r[1]) for r in rows] == [("a", None), ("b", None), ("c", None)]
    assert all(r[2] is not None for r in rows)


async def test_a_failing_unit_takes_its_kept_back_reply_with_it(one: Database) -> None:
    def answer(key: str, fail: bool = False) -> Any:
        def handle(conn: Connection) -> str:
            store_reply_in(conn, key, f"reply to {key}")
            if fail:
                raise RuntimeError("the handler failed after storing its reply")
            return key

        return handle

    results = await _gated(
        one,
        [
            _record(one, "x", answer("x")),
            _record(one, "bad", answer("bad", fail=True)),
            _record(one, "y", answer("y")),
        ],
    )
    assert isinstance(results[1], RuntimeError)
    assert await stored_reply(one, "bad") is None  # nothing of it was kept
    for key in ("x", "y"):
        found = await stored_reply(one, key)
        assert found is not None and found.reply == f"reply to {key}"


async def test_a_reply_stored_alone_is_written_at_once(one: Database) -> None:
    await _record(one, "k", lambda conn: None)
    await store_reply(one, "k", "late reply")
    found = await stored_reply(one, "k")
    assert found is not None and found.reply == "late reply"
