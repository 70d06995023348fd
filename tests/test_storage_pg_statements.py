"""The message path's statements merged on PostgreSQL write what the separate statements write
on SQLite: a 政务信息 submission and its audit row come from one statement there (the audit row
inserted from the submission's RETURNING); the rows are the same on both databases, and a
replay of the message writes neither again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from bench import seed
from bot.inbound import InboundPipeline
from handlers.app import make_handler
from handlers.types import InboundMessage, TextReply
from storage.conversation import InfoDraft, set_state
from storage.db import Database
from storage.inbound import record_and_handle
from storage.intake import _MONTH, Logged, add_info, month_items, month_items_ahead
from storage.models import AuditLog, Submission
from storage.prepared import _STATEMENTS
from storage.sender import _MEMBER_STATE, member_state_ahead, member_state_scopes_of
from storage.units import upsert_unit
from tests.test_storage_pg_units import _values

AT = datetime(2026, 11, 3, 1, 12, tzinfo=UTC)
_a = AuditLog.__table__  # type: ignore[attr-defined]
_s = Submission.__table__  # type: ignore[attr-defined]


async def _unit(db: Database) -> int:
    async with db.session() as s:
        unit, _ = await upsert_unit(s, "椒江区", "district", "chuangmo-taizhou", actor="cmb")
        await s.commit()
    assert unit.id is not None
    return unit.id


def _add(conn: Connection, unit_id: int, key: str, sender: str) -> Logged:
    return add_info(
        conn,
        unit_id=unit_id,
        year=2026,
        target="C3b",
        period="2026-11",
        title="河道保洁",
        text="本周完成河道清淤3公里。",
        attachments=(),
        submitted_at=AT,
        sender=sender,
        source_key=key,
    )


async def test_a_submission_and_its_audit_row_on_both_databases(database: Database) -> None:
    unit_id = await _unit(database)
    first = await database.run_write(_add, unit_id, "m1", "zhang")
    anonymous = await database.run_write(_add, unit_id, "m2", "")
    again = await database.run_write(_add, unit_id, "m1", "zhang")  # the message handled again
    assert (first.new, anonymous.new, again.new) == (True, True, False)
    assert again.id == first.id and again.title == "河道保洁"

    def rows(conn: Connection) -> tuple[list, list]:
        audits = conn.execute(
            select(_a.c.actor, _a.c.action, _a.c.detail, _a.c.at)
            .where(_a.c.action == "submission.add")
            .order_by(_a.c.id)
        ).all()
        created = conn.execute(select(_s.c.id, _s.c.created_at).order_by(_s.c.id)).all()
        return [tuple(r) for r in audits], [tuple(r) for r in created]

    audits, created = await database.run(rows)
    assert [c[0] for c in created] == [first.id, anonymous.id]
    assert audits == [
        (
            actor,
            "submission.add",
            {
                "submission": sub_id,
                "unit_id": unit_id,
                "target": "C3b",
                "period": "2026-11",
                "corrects": None,
            },
            at,  # the audit's time is the submission's creation time
        )
        for actor, (sub_id, at) in zip(("zhang", "system"), created, strict=True)
    ]


@pytest.fixture
def pg(database: Database) -> Database:
    if database.dialect != "postgresql":
        pytest.skip("PostgreSQL: statements merged there (SQLite has no INSERT in a WITH)")
    return database


async def test_on_postgresql_the_audit_row_comes_in_the_submissions_statement(
    pg: Database,
) -> None:
    """One statement, not two: both rows carry the same command id of their transaction."""
    unit_id = await _unit(pg)

    def add_and_read(conn: Connection) -> tuple[int, int]:
        logged = _add(conn, unit_id, "m1", "zhang")
        sub = conn.execute(
            text("SELECT cmin::text::int FROM submission WHERE id = :i"), {"i": logged.id}
        )
        audit = conn.execute(text("SELECT cmin::text::int FROM audit_log ORDER BY id DESC LIMIT 1"))
        return sub.scalar_one(), audit.scalar_one()

    submission_command, audit_command = await pg.run_write(add_and_read)
    assert submission_command == audit_command


# --- reads ahead: the handler's first reads in the message's record statement -----------------


def _alone(conn: Connection) -> set[str]:
    """The statements prepared on this connection: those that went to the server alone."""
    kept = conn.connection.info.get(_STATEMENTS)
    return set(kept[1]) if kept else set()


@pytest.fixture
async def one(pg: Database) -> AsyncIterator[Database]:
    """The database with one unit connection (every unit on the same connection)."""
    db = Database(pg.url, unit_connections=1)
    yield db
    await db.dispose()


async def test_reads_ahead_give_the_rows_of_the_reads_without_their_own_round_trip(
    one: Database,
) -> None:
    (unit_id, _, _), _ = await seed.register_units(one, 1, 2)
    user = seed.liaison_id(1)
    await set_state(one, user, InfoDraft(title="草稿"))
    await one.run_write(_add, unit_id, "s1", user)
    reads = (member_state_ahead(user), month_items_ahead(unit_id, 2026, "C3b", "2026-11"))

    def read(conn: Connection) -> tuple[Any, ...]:
        return (member_state_scopes_of(conn, user), month_items(conn, *_MONTH_ARGS(unit_id)))

    def handle(conn: Connection) -> tuple[Any, set[str]]:
        return read(conn), _alone(conn)

    record, (ahead, alone) = await record_and_handle(
        one, handle, turn=True, reads=reads, **_values("m1", user)
    )
    assert record.new
    assert ahead == await one.run(read)  # the same rows, converted the same way
    assert ahead[0][1] == InfoDraft(title="草稿") and len(ahead[1]) == 1
    sqls = {reads[0][0]._for(one.engine.dialect).sql, reads[1][0]._for(one.engine.dialect).sql}
    assert not sqls & alone  # neither read went to the server on its own


def _MONTH_ARGS(unit_id: int) -> tuple[int, int, str, str]:
    return unit_id, 2026, "C3b", "2026-11"


async def test_reads_ahead_not_taken_are_forgotten_with_the_unit(one: Database) -> None:
    """A repeat delivery (its handler does not run) and a guess that was wrong (other
    parameters): what was read ahead and not taken is not given to a later unit, which reads
    what is there by then."""
    (unit_id, _, _), _ = await seed.register_units(one, 1, 2)
    user = seed.liaison_id(1)
    await record_and_handle(one, lambda c: None, turn=True, **_values("m1", user))
    reads = (member_state_ahead(user), month_items_ahead(unit_id + 1, 2026, "C3b", "2026-11"))
    repeat, handled = await record_and_handle(
        one, lambda c: "run", turn=True, reads=reads, **_values("m1", user)
    )
    assert not repeat.new and handled is None

    def wrong_guess(conn: Connection) -> list[Any]:
        items = month_items(conn, *_MONTH_ARGS(unit_id))  # not the unit read ahead
        _add(conn, unit_id, "s2", user)  # a write while a read ahead is still kept
        return items

    await one.run_write(_add, unit_id, "s1", user)
    record, items = await record_and_handle(
        one, wrong_guess, turn=True, reads=reads, **_values("m2", user)
    )
    assert record.new and [i.source_key for i in items] == ["s1"]
    await one.run_write(
        lambda c: c.execute(text("UPDATE member SET name = '改名' WHERE userid = :u"), {"u": user})
    )
    member, _state, _scopes, _waiting = await one.run(member_state_scopes_of, user)
    assert member is not None and member.name == "改名"


async def test_a_liaisons_second_item_reads_member_and_month_in_its_record(
    one: Database,
) -> None:
    """The pipeline on PostgreSQL: the first 政务信息 item of a liaison reads the member ahead
    (the month's items on their own: their unit is not known yet); from the second on, both
    are read in the record's statement."""
    await seed.register_units(one, 1, 2)
    user = seed.liaison_id(1)
    pipeline = InboundPipeline(one, make_handler(db=one))
    try:
        for n in (1, 2):
            msg = InboundMessage(
                key=f"i{n}",
                sender=user,
                msg_type="text",
                created_at=datetime.now(UTC),
                content=f"政务信息：第{n}篇进展\n正文{n}，关于河道保洁。",
            )
            answer = await pipeline.accept(msg, "<xml/>", channel="wecom", budget=5.0)
            assert isinstance(answer.reply, TextReply) and f"第{n}篇" in answer.reply.text
            member_sql = _MEMBER_STATE._for(one.engine.dialect).sql
            month_sql = _MONTH._for(one.engine.dialect).sql
            alone = await one.run(_alone)
            assert member_sql not in alone
            assert (month_sql in alone) == (n == 1)
            if n == 1:  # forget it was prepared: the second item must not prepare it again

                def forget(conn: Connection, sql: str = month_sql) -> None:
                    conn.connection.info[_STATEMENTS][1].pop(sql)

                await one.run(forget)
    finally:
        await pipeline.stop()
