"""`storage.prepared`: a statement run on the driver's cursor gives what SQLAlchemy's own
execution gives (same rows, same Python types: aware UTC datetimes, decoded JSON), takes the
values a statement carries itself, and a driver-level savepoint undoes only its own block."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.models import AuditLog, InboundMessage
from storage.prepared import Prepared, savepoint

_a = AuditLog.__table__  # type: ignore[attr-defined]
_in = InboundMessage.__table__  # type: ignore[attr-defined]
AT = datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)
DETAIL = {"submission": 7, "text": "河道保洁 “专项” 行动", "nested": [1, None, {"a": "b"}]}

_AUDIT = Prepared(insert(_a), ["actor", "action", "detail", "at"])
_BY_ACTOR = select(_a.c.id, _a.c.actor, _a.c.detail, _a.c.at).where(
    _a.c.actor == bindparam("actor")
)
_PREPARED_BY_ACTOR = Prepared(_BY_ACTOR)
# a statement that carries values of its own (None) besides the bound ones
_CLEAR = Prepared(
    update(_in)
    .where(_in.c.key == bindparam("k"))
    .values(reply=bindparam("reply"), claimed_by=None, claimed_until=None)
)


def _write_and_read(conn: Connection) -> tuple[list, list]:
    _AUDIT.run(conn, {"actor": "张三", "action": "test", "detail": DETAIL, "at": AT})
    _AUDIT.run(conn, {"actor": "李四", "action": "test", "detail": {}, "at": AT})
    ours = _PREPARED_BY_ACTOR.all(conn, {"actor": "张三"})
    theirs = [tuple(row) for row in conn.execute(_BY_ACTOR, {"actor": "张三"})]
    return ours, theirs


async def test_rows_and_types_are_sqlalchemys(database: Database) -> None:
    ours, theirs = await database.run_write(_write_and_read)
    assert ours == theirs and len(ours) == 1
    _id, actor, detail, at = ours[0]
    assert actor == "张三" and detail == DETAIL
    assert at == AT and at.tzinfo is not None and at.utcoffset().total_seconds() == 0


def _claimed_then_cleared(conn: Connection) -> tuple[int, tuple | None]:
    conn.execute(
        insert(_in).values(
            key="m1",
            sender="zhang",
            msg_type="text",
            received_at=AT,
            content="<xml/>",
            channel="wecom",
            claimed_by="instance-a",
            claimed_until=AT,
        )
    )
    changed = _CLEAR.run(conn, {"k": "m1", "reply": "{}"})
    row = conn.execute(
        select(_in.c.reply, _in.c.claimed_by, _in.c.claimed_until).where(_in.c.key == "m1")
    ).first()
    return changed, tuple(row) if row else None


async def test_values_a_statement_carries_are_sent(database: Database) -> None:
    assert await database.run_write(_claimed_then_cleared) == (1, ("{}", None, None))


def _nested(conn: Connection) -> list[str]:
    _AUDIT.run(conn, {"actor": "outer", "action": "kept", "detail": {}, "at": AT})
    with pytest.raises(RuntimeError), savepoint(conn):
        _AUDIT.run(conn, {"actor": "inner", "action": "undone", "detail": {}, "at": AT})
        raise RuntimeError("the block fails after its write")
    with savepoint(conn), savepoint(conn):
        _AUDIT.run(conn, {"actor": "nested", "action": "kept", "detail": {}, "at": AT})
    return [row[0] for row in conn.execute(select(_a.c.actor).order_by(_a.c.id))]


async def test_a_failed_savepoint_undoes_only_its_block(database: Database) -> None:
    assert await database.run_write(_nested) == ["outer", "nested"]
    # and the transaction around it committed
    actors = await database.run(lambda c: [r[0] for r in c.execute(select(_a.c.actor))])
    assert sorted(actors) == ["nested", "outer"]


def test_a_missing_parameter_is_refused_before_the_driver() -> None:
    from sqlalchemy.dialects import sqlite

    class _Conn:  # only what a statement reads before the driver
        dialect = sqlite.dialect()

    with pytest.raises(KeyError):
        _PREPARED_BY_ACTOR.all(_Conn(), {})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "moment",
    [
        AT,
        datetime(2026, 11, 30, 8, 15, 30, tzinfo=UTC),  # no microseconds
        datetime(2026, 1, 1, 7, 59, 59, 999999, tzinfo=timezone(timedelta(hours=8))),
        datetime(1, 1, 1, 0, 0, tzinfo=UTC),
        datetime(9999, 12, 31, 10, 0, 0, 1, tzinfo=timezone(timedelta(hours=-5))),
    ],
)
def test_sqlite_timestamps_are_written_as_sqlalchemy_writes_them(moment: datetime) -> None:
    """UTCDateTime's one-call SQLite bind gives SQLAlchemy's own text (its DATETIME processor
    after our UTC conversion): the stored text orders and compares as before."""
    from sqlalchemy.dialects import sqlite
    from sqlalchemy.types import TypeDecorator

    from storage.types import UTCDateTime

    dialect = sqlite.dialect()
    kind = UTCDateTime().dialect_impl(dialect)
    theirs = TypeDecorator.bind_processor(kind, dialect)  # what it was without the override
    assert theirs is not None
    ours = kind.bind_processor(dialect)
    assert ours is not theirs
    assert ours(moment) == theirs(moment)
    assert ours(None) is None
    with pytest.raises(ValueError, match="naive"):
        ours(moment.replace(tzinfo=None))
