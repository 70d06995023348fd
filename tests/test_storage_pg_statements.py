"""The message path's statements merged on PostgreSQL write what the separate statements write
on SQLite: a 政务信息 submission and its audit row come from one statement there (the audit row
inserted from the submission's RETURNING); the rows are the same on both databases, and a
replay of the message writes neither again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Connection

from storage.db import Database
from storage.intake import Logged, add_info
from storage.models import AuditLog, Submission
from storage.units import upsert_unit

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
