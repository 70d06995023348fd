"""Reminder claims (exactly one winner, also under a race) and the outbox that delivers them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.conversation import InfoDraft, ReviewPage, clear_state, get_state, set_state
from storage.db import Database
from storage.models import Outbox, ReminderSend, Unit
from storage.outbox import (
    claim_due,
    count_by_status,
    get_outbox,
    mark_failed,
    mark_sent,
    send_later,
)
from storage.reminders import claim_reminder, reminder_sent

PAYLOAD = {"touser": "zhang", "msgtype": "text", "text": {"content": "11 月政务信息还差 1 篇"}}


async def _unit(db: Database, name: str = "椒江区") -> int:
    async with db.session() as s:
        unit = Unit(name=name, kind="district", scheme_id="chuangmo-taizhou")
        s.add(unit)
        await s.commit()
        assert unit.id is not None
        return unit.id


async def _count(db: Database, model: type) -> int:
    async with db.session() as s:
        return (await s.exec(select(func.count()).select_from(model))).one()


async def test_claim_once(database: Database) -> None:
    unit = await _unit(database)
    assert not await reminder_sent(database, "C3b.1", unit, "2026-11", "T-3")
    assert await claim_reminder(database, "C3b.1", unit, "2026-11", "T-3", PAYLOAD)
    assert not await claim_reminder(database, "C3b.1", unit, "2026-11", "T-3", PAYLOAD)
    assert await reminder_sent(database, "C3b.1", unit, "2026-11", "T-3")
    assert await claim_reminder(database, "C3b.1", unit, "2026-11", "T-1", PAYLOAD)  # other stage
    assert await _count(database, ReminderSend) == 2
    assert await _count(database, Outbox) == 2  # the loser's outbox row was rolled back
    async with database.session() as s:
        outbox = (await s.exec(select(Outbox))).all()
    assert {o.recipient for o in outbox} == {"zhang"} and outbox[0].payload == PAYLOAD


async def test_concurrent_claims_one_winner(database: Database) -> None:
    unit = await _unit(database)
    for n in range(5):
        period = f"2026-{n + 1:02d}"
        results = await asyncio.gather(
            *(claim_reminder(database, "C3b.1", unit, period, "due", PAYLOAD) for _ in range(3))
        )
        assert sorted(results) == [False, False, True]
    assert await _count(database, ReminderSend) == 5
    assert await _count(database, Outbox) == 5


async def test_database_refuses_a_second_send_row(database: Database) -> None:
    unit = await _unit(database)
    async with database.session() as s:
        s.add(ReminderSend(rule="r", unit_id=unit, period="2026", stage="s"))
        await s.commit()
    async with database.session() as s:
        s.add(ReminderSend(rule="r", unit_id=unit, period="2026", stage="s"))
        with pytest.raises(IntegrityError):
            await s.commit()


async def test_outbox_lease_retry_and_sent(database: Database) -> None:
    now = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    first = await send_later(database, "zhang", {"n": 1}, not_before=now - timedelta(minutes=1))
    later = await send_later(database, "li", {"n": 2}, not_before=now + timedelta(hours=1))
    claimed = await claim_due(database, now=now)
    assert [(c.id, c.attempts) for c in claimed] == [(first, 1)]
    assert await claim_due(database, now=now) == []  # leased: nobody else takes it
    await mark_failed(database, first, "errcode 45009", retry_at=now + timedelta(minutes=2))
    assert await claim_due(database, now=now + timedelta(minutes=1)) == []
    again = await claim_due(database, now=now + timedelta(minutes=2))
    assert [(c.id, c.attempts) for c in again] == [(first, 2)]
    await mark_sent(database, first, at=now + timedelta(minutes=2))
    row = await get_outbox(database, first)
    assert row is not None and row.status == "sent" and row.sent_at is not None
    assert row.last_error == "errcode 45009"
    # the lease runs out when a sender dies mid-send: the row is due again
    leased = await claim_due(database, now=now + timedelta(hours=1), lease=timedelta(minutes=5))
    assert [c.id for c in leased] == [later]
    retaken = await claim_due(database, now=now + timedelta(hours=1, minutes=6))
    assert [(c.id, c.attempts) for c in retaken] == [(later, 2)]
    await mark_failed(database, later, "gave up", retry_at=None)
    assert await count_by_status(database) == {"sent": 1, "failed": 1}


async def test_concurrent_outbox_claims_do_not_overlap(database: Database) -> None:
    now = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    ids = {await send_later(database, "u", {"n": n}, not_before=now) for n in range(10)}
    batches = await asyncio.gather(*(claim_due(database, now=now, limit=10) for _ in range(3)))
    taken = [item.id for batch in batches for item in batch]
    assert sorted(taken) == sorted(ids)  # each exactly once


async def test_conversation_state(database: Database) -> None:
    assert await get_state(database, "zhang") is None
    await set_state(database, "zhang", InfoDraft(title="标题"))
    await set_state(database, "zhang", InfoDraft(title="标题", body="正文"))
    assert await get_state(database, "zhang") == InfoDraft(title="标题", body="正文")
    pages = [ReviewPage(ids=(n,), offset=n) for n in range(4)]
    await asyncio.gather(*(set_state(database, "li", page) for page in pages))
    assert await get_state(database, "li") in pages
    await clear_state(database, "zhang")
    assert await get_state(database, "zhang") is None
