"""A message recorded by a process that died before replying is handled again, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from bot.app import PIPELINE_KEY, create_app
from bot.wecom.callback import CallbackConfig
from handlers.types import InboundMessage, TextReply
from storage.inbound import get_inbound, record_inbound
from storage.ledger import add_submission, list_submissions
from storage.units import get_unit_by_name
from tests.chat_env import bench
from tests.fakewecom import AES_KEY, CORP_ID, TOKEN, WeComPeer


async def _recorded(database, clock, msg_id: str, content: str, *, minutes_ago: float = 10) -> None:  # type: ignore[no-untyped-def]
    """A text from zhangsan, recorded `minutes_ago` ago by a process (that then died), its claim
    lasting 20 s from then."""
    xml = WeComPeer(TOKEN, AES_KEY, CORP_ID).message_xml(
        "zhangsan", "text", {"Content": content, "MsgId": msg_id}
    )
    await record_inbound(
        database,
        key=f"msg:{msg_id}",
        sender="zhangsan",
        msg_type="text",
        received_at=clock() - timedelta(minutes=minutes_ago),
        content=xml,
        claimed_by="dead-process",
        claimed_until=datetime.now(UTC) - timedelta(minutes=minutes_ago, seconds=-20),
    )


async def test_unanswered_message_is_recovered_exactly_once(database, tmp_path: Path) -> None:
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 5, 6)
        # The dead process recorded it ten minutes ago and never stored a reply.
        await _recorded(database, b.clock, "m-1", "政务信息：断电前发的\n正文")
        # A fresh message (its handler's claim still running) is left alone.
        await _recorded(database, b.clock, "m-2", "政务信息：断电前发的\n正文", minutes_ago=0)
        pipeline = b.app[PIPELINE_KEY]  # type: ignore[index]
        counts = await asyncio.gather(pipeline.recover(), pipeline.recover())
        assert sorted(counts) == [0, 1]
        assert await pipeline.recover() == 0
        sent = b.wecom.sent_texts("zhangsan")
        assert len(sent) == 1 and "已登记5月第1篇政务信息" in sent[0]
        assert (await get_inbound(database, "msg:m-1")).reply  # the reply is stored now
        assert (await get_inbound(database, "msg:m-2")).reply is None
        # WeCom's retry of the recovered message is answered without handling it again.
        answer = await b.peer.send_text(
            b.client, user="zhangsan", content="政务信息：断电前发的\n正文", msg_id="m-1"
        )
        assert answer.status == 200
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            assert len(await list_submissions(s, unit.id, 2026)) == 1


async def test_crash_after_the_submission_was_logged_counts_it_once(database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The process logged the submission, then died before storing the reply: the recovery
    sweep handles the message again, finds the submission it made, and answers with it."""
    async with bench(database, tmp_path) as b:
        b.clock.set(2026, 5, 6)
        await _recorded(database, b.clock, "m-9", "政务信息：写入后断电\n正文")
        async with database.session() as s:
            unit = await get_unit_by_name(s, "椒江区")
            logged = await add_submission(
                s,
                unit_id=unit.id,
                target="C3b",
                period="2026-05",
                submitted_at=datetime(2026, 5, 6, 2, tzinfo=UTC),
                title="写入后断电",
                source_key="msg:m-9",
            )
            await s.commit()
        pipeline = b.app[PIPELINE_KEY]  # type: ignore[index]
        assert await pipeline.recover() == 1
        sent = b.wecom.sent_texts("zhangsan")
        assert len(sent) == 1 and "已登记5月第1篇政务信息" in sent[0]
        assert f"S{logged.id}" in sent[0]
        async with database.session() as s:
            assert len(await list_submissions(s, unit.id, 2026)) == 1


async def test_shutdown_lets_a_recovery_sweep_finish(database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Stopping the server while the startup sweep is handling a message waits for that one (its
    reply is stored, not cut off halfway) and gives the messages not yet begun back, unclaimed,
    for the next start."""
    started = asyncio.Event()

    async def slow_handler(msg: InboundMessage) -> TextReply:
        started.set()
        await asyncio.sleep(0.3)
        return TextReply("处理完毕：" + msg.text)

    for n in (1, 2):
        await _recorded(database, lambda: datetime.now(UTC), f"m-s{n}", f"停机前的消息{n}")
    app = create_app(
        db=database, handler=slow_handler, callback=CallbackConfig(TOKEN, AES_KEY, CORP_ID)
    )
    client = TestClient(TestServer(app))
    await client.start_server()
    await asyncio.wait_for(started.wait(), 5)
    await client.close()  # on_cleanup: the sweep in progress is let finish
    first = await get_inbound(database, "msg:m-s1")
    assert (
        first is not None and first.reply is not None and "处理完毕：停机前的消息1" in first.reply
    )
    second = await get_inbound(database, "msg:m-s2")
    assert second is not None and second.reply is None  # released, not left claimed
    assert second.claimed_by is None
