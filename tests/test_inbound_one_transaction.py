"""A message whose handling touches only the database (a 政务信息 item in one message) is
recorded, handled and answered in ONE transaction committed before the answer; the guarantees
of the record-first path hold: recorded before acknowledged, never handled twice, the reply
stored for retries, one user's messages in order, a failing handler leaves the record and an
error reply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, insert
from sqlalchemy.engine import Connection
from sqlmodel import select

import handlers.app
from bench import seed
from bot.inbound import HANDLER_FAILED, Accepted, InboundPipeline
from handlers.app import make_handler
from handlers.types import InboundMessage, TextReply
from storage.conversation import InfoDraft, get_state, set_state, state_to_json
from storage.db import Database
from storage.inbound import get_inbound
from storage.models import AuditLog, ConversationState, Submission
from storage.types import utcnow

_state = ConversationState.__table__  # type: ignore[attr-defined]


def set_state_in(conn: Connection, userid: str) -> None:
    conn.execute(
        insert(_state).values(userid=userid, state=state_to_json(InfoDraft()), updated_at=utcnow())
    )


ITEM = "政务信息：河道保洁专项行动进展\n本周完成河道清淤3公里，整改排口2处。"


def _msg(key: str, user: str, text: str) -> InboundMessage:
    return InboundMessage(
        key=key, sender=user, msg_type="text", created_at=datetime.now(UTC), content=text
    )


@pytest.fixture
async def pipeline(database: Database) -> AsyncIterator[InboundPipeline]:
    await seed.register_units(database, 1, 2)
    found = InboundPipeline(database, make_handler(db=database))
    yield found
    await found.stop()


async def _accept(pipeline: InboundPipeline, msg: InboundMessage) -> Accepted:
    return await pipeline.accept(msg, f"<xml>{msg.key}</xml>", channel="wecom", budget=5.0)


async def _count(db: Database, model: Any, *where: Any) -> int:
    async with db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model).where(*where))).one())


def _text(accepted: Accepted) -> str:
    assert isinstance(accepted.reply, TextReply)
    return accepted.reply.text


def _commits(db: Database) -> list[int]:
    """Counts the commits of the database's engines (the unit-of-work path and the sessions)."""
    seen = [0]

    def count(_conn: Any) -> None:
        seen[0] += 1

    engines = [db.engine.sync_engine]
    if db.dialect == "sqlite":
        db._executor()  # the unit-of-work engine, made on first use
        assert db._sync is not None
        engines.append(db._sync)
    for engine in engines:
        event.listen(engine, "commit", count)
    return seen


async def test_an_item_is_recorded_handled_and_stored_in_one_commit(
    database: Database, pipeline: InboundPipeline
) -> None:
    user = seed.liaison_id(1)
    commits = _commits(database)
    accepted = await _accept(pipeline, _msg("m1", user, ITEM))
    assert commits[0] == 1
    assert not accepted.repeat and "已登记" in _text(accepted)
    assert pipeline.stats["one_transaction"] == 1
    row = await get_inbound(database, "m1")
    assert row is not None and row.reply and "已登记" in row.reply
    assert row.claimed_by is None and row.replied_at is not None
    assert await _count(database, Submission, Submission.source_key == "m1") == 1
    assert await _count(database, AuditLog) == 1
    again = await _accept(pipeline, _msg("m1", user, ITEM))  # WeCom's retry: the stored reply
    assert again.repeat and _text(again) == _text(accepted)
    assert await _count(database, Submission) == 1


async def test_concurrent_deliveries_of_one_message_are_handled_once(
    database: Database, pipeline: InboundPipeline
) -> None:
    msg = _msg("dup", seed.liaison_id(1), ITEM)
    answers = await asyncio.gather(*(_accept(pipeline, msg) for _ in range(12)))
    assert sum(not a.repeat for a in answers) == 1
    assert {_text(a) for a in answers} == {_text(answers[0])}  # every one the stored reply
    assert await _count(database, Submission) == 1
    assert await _count(database, AuditLog) == 1


async def test_a_failing_handler_keeps_the_record_and_an_error_reply(
    database: Database, pipeline: InboundPipeline, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_info_in = handlers.app.log_info_in

    def log_then_fail(conn: Connection, *args: Any) -> Any:
        log_info_in(conn, *args)  # the submission and its audit row are written...
        raise RuntimeError("the handler fails after writing")  # ...and rolled back

    monkeypatch.setattr(handlers.app, "log_info_in", log_then_fail)
    accepted = await _accept(pipeline, _msg("f1", seed.liaison_id(1), ITEM))
    assert _text(accepted) == HANDLER_FAILED
    assert pipeline.stats["handler_failed"] == 1
    row = await get_inbound(database, "f1")
    assert row is not None and row.reply and HANDLER_FAILED in row.reply
    assert await _count(database, Submission) == 0
    assert await _count(database, AuditLog) == 0
    again = await _accept(pipeline, _msg("f1", seed.liaison_id(1), ITEM))
    assert again.repeat and _text(again) == HANDLER_FAILED  # handled once, not again


async def test_a_message_of_a_draft_is_handled_the_usual_way(
    database: Database, pipeline: InboundPipeline
) -> None:
    user = seed.liaison_id(1)
    await set_state(database, user, InfoDraft())
    accepted = await _accept(pipeline, _msg("d1", user, ITEM))
    assert pipeline.stats["one_transaction"] == 0  # deferred: the draft takes the text
    assert "已登记" not in _text(accepted)
    state = await get_state(database, user)
    assert isinstance(state, InfoDraft) and state.title == "河道保洁专项行动进展"
    assert await _count(database, Submission) == 0


async def test_one_users_messages_stay_in_order_across_both_paths(
    database: Database, pipeline: InboundPipeline
) -> None:
    """「报送政务信息」 opens a draft (the record-first path); the item right behind it waits
    for its turn and goes into the draft, instead of being logged on its own first."""
    user = seed.liaison_id(2)
    first, second = await asyncio.gather(
        _accept(pipeline, _msg("o1", user, "报送政务信息")),
        _accept(pipeline, _msg("o2", user, ITEM)),
    )
    assert "已登记" not in _text(second)
    state = await get_state(database, user)
    assert isinstance(state, InfoDraft) and state.title == "河道保洁专项行动进展"
    assert await _count(database, Submission) == 0
    assert first.reply is not None


async def test_the_item_counts_toward_the_month(
    database: Database, pipeline: InboundPipeline
) -> None:
    user = seed.liaison_id(1)
    one = await _accept(pipeline, _msg("c1", user, "政务信息：第一篇\n正文一，关于河道保洁。"))
    two = await _accept(pipeline, _msg("c2", user, "政务信息：第二篇\n正文二，关于排口整改。"))
    assert "第1篇" in _text(one) and "第2篇" in _text(two)


async def test_group_commit_under_concurrent_duplicates(
    database: Database, pipeline: InboundPipeline
) -> None:
    """Many messages, each delivered three times at once: deliveries arriving together share
    commits (SQLite), every message is logged once, and every delivery of it gets its reply."""
    await seed.register_units(database, 3, 20)
    msgs = [
        _msg(f"g{i}", seed.liaison_id(i + 1), f"政务信息：第{i}号进展\n正文{i}，关于河道保洁。")
        for i in range(20)
    ]
    deliveries = [m for m in msgs for _ in range(3)]
    answers = await asyncio.gather(*(_accept(pipeline, m) for m in deliveries))
    by_key: dict[str, set[str]] = {}
    for msg, answer in zip(deliveries, answers, strict=True):
        by_key.setdefault(msg.key, set()).add(_text(answer))
    assert all(len(texts) == 1 for texts in by_key.values())  # one reply per message
    assert all(f"第{i}号进展" in next(iter(by_key[f"g{i}"])) for i in range(20))
    assert sum(not a.repeat for a in answers) == 20
    assert await _count(database, Submission) == 20
    assert await _count(database, AuditLog) == 20
    if database.dialect == "sqlite":
        assert database.group_commits < 20  # they shared commits


def _write(conn: Connection, userid: str, fail: bool) -> str:
    set_state_in(conn, userid)
    if fail:
        raise RuntimeError("this unit fails")
    return userid


async def test_a_failing_unit_in_a_group_is_rolled_back_alone(database: Database) -> None:
    results = await asyncio.gather(
        *(database.run_write(_write, f"w{i}", i == 3) for i in range(8)), return_exceptions=True
    )
    assert isinstance(results[3], RuntimeError)
    assert [r for i, r in enumerate(results) if i != 3] == [f"w{i}" for i in range(8) if i != 3]
    for i in range(8):
        assert (await get_state(database, f"w{i}") is None) == (i == 3)


async def test_a_user_whose_turn_another_instance_holds_is_recorded_then_handled_in_turn(
    database: Database, pipeline: InboundPipeline
) -> None:
    """PostgreSQL: another instance has the user's turn (its session-level advisory lock). The
    message is recorded (committed) but not handled in the one transaction; it is handled once,
    the usual way, when the turn comes free."""
    if database.dialect != "postgresql":
        pytest.skip("the turn of another instance: an advisory lock on PostgreSQL")
    from sqlalchemy import text

    from storage.turns import TURN_LOCK_CLASS, user_key

    user = seed.liaison_id(1)
    params = {"c": TURN_LOCK_CLASS, "k": user_key(user)}
    async with database.engine.connect() as other:  # the other instance's turn
        await other.execute(text("SELECT pg_advisory_lock(:c, :k)"), params)
        accepting = asyncio.ensure_future(_accept(pipeline, _msg("t1", user, ITEM)))
        for _ in range(200):
            row = await get_inbound(database, "t1")
            if row is not None:
                break
            await asyncio.sleep(0.02)
        assert row is not None and row.reply is None  # recorded, not yet handled
        assert await _count(database, Submission) == 0
        await other.execute(text("SELECT pg_advisory_unlock(:c, :k)"), params)
        await other.commit()
        accepted = await accepting
    assert pipeline.stats["one_transaction"] == 0
    assert "已登记" in _text(accepted)
    assert await _count(database, Submission) == 1
