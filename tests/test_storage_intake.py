"""`storage.intake.month_items`: each item's status is the one the ledger gives (its latest review
event by time, then id; none: submitted), on both databases, ties and late reviews included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from scoring.facts import Status
from storage.db import Database
from storage.forms import form
from storage.intake import month_items
from storage.ledger import (
    add_submission,
    latest_statuses,
    review_submission,
    withdraw_submission,
)
from storage.models import SubmissionEvent
from storage.units import upsert_unit

AT = datetime(2026, 11, 3, 1, 12, tzinfo=UTC)


async def test_month_items_status_is_the_ledgers(database: Database) -> None:
    async with database.session() as s:
        unit, _ = await upsert_unit(s, "椒江区", "district", "chuangmo-taizhou", actor="cmb")
        await s.commit()
        assert unit.id is not None
        ids = []
        for n in range(5):
            sub = await add_submission(
                s,
                unit_id=unit.id,
                target="C3b",
                period="2026-11",
                title=f"第{n}条",
                text="正文 原样",
                submitted_at=AT + timedelta(minutes=n),
                source_key=f"k{n}",
            )
            ids.append(sub.id)
        await s.commit()
        later = AT + timedelta(hours=2)
        # 0: none (submitted); 1: rejected, then accepted later; 2: accepted, then rejected at
        # the same moment (the later event wins the tie); 3: withdrawn; 4: accepted, then a
        # review dated earlier written afterwards (time decides, not the order of writing)
        await review_submission(s, ids[1], accepted=False, actor="a", at=AT + timedelta(hours=1))
        await review_submission(s, ids[1], accepted=True, actor="a", at=later)
        await review_submission(s, ids[2], accepted=True, actor="a", at=later)
        await review_submission(s, ids[2], accepted=False, actor="a", at=later)
        await withdraw_submission(s, ids[3], actor="u", at=later)
        await review_submission(s, ids[4], accepted=True, actor="a", at=later)
        await review_submission(s, ids[4], accepted=False, actor="a", at=AT + timedelta(hours=1))
        await s.commit()
        events = (await s.exec(select(SubmissionEvent))).all()
    expected = latest_statuses([(e.submission_id, e.at, e.id, e.status) for e in events])

    def read(conn):  # type: ignore[no-untyped-def]
        return month_items(conn, unit.id, 2026, "C3b", "2026-11")

    items = await database.run(read)
    assert [i.id for i in items] == ids  # oldest first
    got = {i.id: i.status for i in items}
    assert got == {sid: expected.get(sid, Status.SUBMITTED) for sid in ids}
    assert [got[i] for i in ids] == [
        Status.SUBMITTED,
        Status.ACCEPTED,
        Status.REJECTED,
        Status.WITHDRAWN,
        Status.ACCEPTED,
    ]
    assert items[0].title == "第0条" and items[0].source_key == "k0"
    # the forms the repeat check compares, kept with the row (storage/forms.py)
    assert (items[0].title_form, items[0].text_form) == (form("第0条"), form("正文 原样"))
    assert form("正文　原样！") == form("正文 原样") != form("正文 原件")
