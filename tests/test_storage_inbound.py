"""Inbound idempotency: the database's UNIQUE key decides, also under a race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.db import Database
from storage.inbound import (
    claim_unanswered,
    get_inbound,
    record_inbound,
    release_claims,
    renew_claim,
    store_reply,
)
from storage.models import InboundMessage
from storage.outbox import get_outbox

AT = datetime(2026, 11, 3, 9, 12, tzinfo=timezone(timedelta(hours=8)))


async def _count(db: Database) -> int:
    async with db.session() as s:
        return (await s.exec(select(func.count()).select_from(InboundMessage))).one()


async def test_first_is_new_repeat_gets_stored_reply(database: Database) -> None:
    first = await record_inbound(
        database, key="7310", sender="zhang", msg_type="text", received_at=AT, content="<xml/>"
    )
    assert first.new and first.reply is None
    again = await record_inbound(
        database, key="7310", sender="zhang", msg_type="text", received_at=AT, content="<xml/>"
    )
    assert not again.new and again.id == first.id and again.reply is None
    await store_reply(database, "7310", '{"text": "已收到"}')
    third = await record_inbound(
        database, key="7310", sender="zhang", msg_type="text", received_at=AT, content="<xml/>"
    )
    assert (third.new, third.reply) == (False, '{"text": "已收到"}')
    assert await _count(database) == 1
    row = await get_inbound(database, "7310")
    assert row is not None and row.received_at == AT and row.received_at.tzinfo == UTC
    assert row.replied_at is not None and row.replied_at.tzinfo is not None


async def test_database_refuses_second_insert_of_a_key(database: Database) -> None:
    async with database.session() as s:
        s.add(InboundMessage(key="k1", sender="a", msg_type="text", received_at=AT))
        await s.commit()
    async with database.session() as s:
        s.add(InboundMessage(key="k1", sender="b", msg_type="text", received_at=AT))
        with pytest.raises(IntegrityError):
            await s.commit()


async def test_two_concurrent_deliveries_one_new(database: Database) -> None:
    for n in range(5):
        key = f"race-{n}"
        results = await asyncio.gather(
            *(
                record_inbound(
                    database, key=key, sender="li", msg_type="text", received_at=AT, content=""
                )
                for _ in range(2)
            )
        )
        assert sorted(r.new for r in results) == [False, True]
        assert results[0].id == results[1].id
    assert await _count(database) == 5


async def test_naive_time_is_refused(database: Database) -> None:
    with pytest.raises(ValueError):
        await record_inbound(
            database,
            key="x",
            sender="li",
            msg_type="text",
            received_at=datetime(2026, 1, 1),
            content="",
        )


async def test_claims_run_out_and_are_taken_once(database: Database) -> None:
    """A message is claimed by the process that records it; while the claim runs nobody else
    takes it; once it ran out (the process died) one of two racing sweeps wins it, the old
    claimant can no longer renew it; an answered message is never claimed."""
    now = datetime.now(UTC)
    for key in ("lost", "answered"):
        await record_inbound(
            database,
            key=key,
            sender="zhang",
            msg_type="text",
            received_at=now - timedelta(seconds=30),
            content="<xml/>",
            claimed_by="a",
            claimed_until=now + timedelta(seconds=20),
        )
    await store_reply(database, "answered", '{"mode": "inline"}')
    answered = await get_inbound(database, "answered")
    assert answered is not None and answered.claimed_by is None  # the reply ends the claim
    window = {"newer_than": now - timedelta(days=1), "until": now + timedelta(seconds=60)}

    assert await claim_unanswered(database, claimant="b", now=now, **window) == []
    assert await renew_claim(database, "lost", "a", now + timedelta(seconds=40))
    assert not await renew_claim(database, "lost", "b", now + timedelta(seconds=40))
    # "a" died: a minute later its claim has run out; two sweeps race, one wins
    later = now + timedelta(minutes=1)
    results = await asyncio.gather(
        *(
            claim_unanswered(database, claimant=c, now=later, **window | {"until": later})
            for c in ("b", "c")
        )
    )
    assert sorted(len(r) for r in results) == [0, 1]
    assert [m.key for r in results for m in r] == ["lost"]
    winner = "b" if results[0] else "c"
    assert not await renew_claim(database, "lost", "a", later)  # "a" woke up late: it must skip
    # a stopping sweep gives its claims back, and the next sweep takes them at once
    await release_claims(database, ["lost"], "a")  # not a's any more: nothing happens
    assert (await get_inbound(database, "lost")).claimed_by == winner
    await release_claims(database, ["lost"], winner)
    again = await claim_unanswered(database, claimant="d", now=now, **window)
    assert [m.key for m in again] == ["lost"]


async def test_a_reply_stored_with_its_outbox_row_in_one_transaction(database: Database) -> None:
    await record_inbound(
        database, key="k1", sender="zhang", msg_type="text", received_at=AT, content="<xml/>"
    )
    outbox_id = await store_reply(
        database, "k1", '{"mode": "active"}', outbox=("zhang", {"type": "reply", "x": 1})
    )
    assert outbox_id is not None
    row = await get_outbox(database, outbox_id)
    assert row is not None and row.recipient == "zhang" and row.payload["x"] == 1
