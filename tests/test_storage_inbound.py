"""Inbound idempotency: the database's UNIQUE key decides, also under a race."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from storage.db import Database
from storage.inbound import (
    claim_marker,
    claim_unanswered,
    get_inbound,
    record_inbound,
    release_claims,
    renew_claim,
    store_reply,
)
from storage.models import InboundMessage

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


async def test_abandoned_recovery_claims_are_claimed_again(database: Database) -> None:
    """An unanswered message is claimed once; a claim whose sweep died is claimed again after
    the timeout, by one of two concurrent sweeps, and the old claimant can no longer renew it;
    an answered message never is claimed."""
    old = datetime.now(UTC) - timedelta(minutes=30)
    for key in ("lost", "answered"):
        await record_inbound(
            database, key=key, sender="zhang", msg_type="text", received_at=old, content="<xml/>"
        )
    await store_reply(database, "answered", '{"mode": "passive"}')
    now = datetime.now(UTC)
    window = {"older_than": now - timedelta(minutes=2), "newer_than": now - timedelta(days=1)}
    fresh = now - timedelta(minutes=10)

    first = await claim_unanswered(database, claimant="a", **window, abandoned_before=fresh)
    assert [m.key for m in first] == ["lost"]
    assert (await get_inbound(database, "lost")).reply == claim_marker("a")
    # the claim is fresh: nobody takes it, with or without the timeout
    assert await claim_unanswered(database, claimant="b", **window) == []
    assert await claim_unanswered(database, claimant="b", **window, abandoned_before=fresh) == []
    assert await renew_claim(database, "lost", "a")
    assert not await renew_claim(database, "lost", "b")
    # sweep "a" died eleven minutes ago: two sweeps race for its claim, one wins
    await _stamp(database, "lost", now - timedelta(minutes=11))
    results = await asyncio.gather(
        *(
            claim_unanswered(database, claimant=c, **window, abandoned_before=fresh)
            for c in ("b", "c")
        )
    )
    assert sorted(len(r) for r in results) == [0, 1]
    assert [m.key for r in results for m in r] == ["lost"]
    winner = "b" if results[0] else "c"
    assert not await renew_claim(database, "lost", "a")  # "a" woke up late: it must skip
    # a stopping sweep gives its claims back, and the next sweep takes them at once
    await release_claims(database, ["lost"], "a")  # not a's any more: nothing happens
    assert (await get_inbound(database, "lost")).reply == claim_marker(winner)
    await release_claims(database, ["lost"], winner)
    assert (await get_inbound(database, "lost")).reply is None
    again = await claim_unanswered(database, claimant="d", **window)
    assert [m.key for m in again] == ["lost"]


async def test_claims_from_before_claimants_are_taken_back(database: Database) -> None:
    """A claim written by the earlier code ('{"mode": "recovering"}', no time stamp) counts as
    abandoned: the message is handled, not left waiting forever."""
    old = datetime.now(UTC) - timedelta(minutes=30)
    await record_inbound(
        database, key="stuck", sender="zhang", msg_type="text", received_at=old, content="<xml/>"
    )
    await store_reply(database, "stuck", '{"mode": "recovering"}')
    await _stamp(database, "stuck", None)
    now = datetime.now(UTC)
    found = await claim_unanswered(
        database,
        claimant="e",
        older_than=now - timedelta(minutes=2),
        newer_than=now - timedelta(days=1),
        abandoned_before=now - timedelta(minutes=10),
    )
    assert [m.key for m in found] == ["stuck"]


async def _stamp(db: Database, key: str, at: datetime | None) -> None:
    async with db.session() as s:
        await s.exec(
            update(InboundMessage).where(col(InboundMessage.key) == key).values(replied_at=at)
        )
        await s.commit()
