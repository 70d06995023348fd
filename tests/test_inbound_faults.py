"""The inbound pipeline under faults: every message ends with exactly one answer.

Through the real callback (encryption by wechatpy), the real storage and the fake WeCom API:
a database stall past WeCom's patience, a retry while the first delivery is still handled, a
process killed during an active send, a WeCom outage longer than the client's retries, a crash
recovered within seconds; one user's messages one at a time and in order (also across two
instances on PostgreSQL); the send time taken from the message, bounded by receipt.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import ClientTimeout
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import update
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from bot.app import PIPELINE_KEY, create_app
from bot.inbound import InboundPipeline, Port
from bot.local_channel import LocalChannel
from bot.wecom.callback import CallbackConfig
from bot.wecom.channel import WeComChannel
from bot.wecom.client import WeComClient
from handlers.types import InboundMessage, Reply, TextReply
from reminders.clock import FixedClock
from storage.db import Database
from storage.inbound import get_inbound, record_inbound
from storage.models import Outbox, OutboxStatus
from tests.fakewecom import AES_KEY, AGENT_ID, CORP_ID, TOKEN, FakeWeCom, WeComPeer

BUDGET = 0.6


@dataclass
class Recorder:
    """Echo handler that notes each message, how many of one user run at once, and their order;
    texts starting with 慢 take 0.3 s, 长 answers too long for a passive reply."""

    seen: list[InboundMessage] = field(default_factory=list)
    running: dict[str, int] = field(default_factory=dict)
    most_at_once: int = 0

    async def __call__(self, msg: InboundMessage) -> Reply | None:
        self.running[msg.sender] = self.running.get(msg.sender, 0) + 1
        self.most_at_once = max(self.most_at_once, self.running[msg.sender])
        try:
            self.seen.append(msg)
            await asyncio.sleep(0.3 if msg.text.startswith("慢") else 0.02)
            if msg.text.startswith("长"):
                return TextReply("很长的回复。" * 300)
            return TextReply(f"收到：{msg.text or msg.attachment or msg.msg_type}")
        finally:
            self.running[msg.sender] -= 1


@dataclass
class Env:
    client: TestClient
    peer: WeComPeer
    wecom: FakeWeCom
    handler: Recorder
    db: Database
    pipeline: InboundPipeline
    api: WeComClient

    def answers(self, user: str, passive: list[str | None]) -> list[str]:
        """Everything the user got: passive replies plus texts sent actively."""
        return [p for p in passive if p] + self.wecom.sent_texts(user)


@pytest.fixture
async def env(database: Database, tmp_path: Path) -> AsyncIterator[Env]:
    async with FakeWeCom() as wecom:
        api = wecom.client(tmp_path / "media", max_retries=2)
        handler = Recorder()
        app = create_app(
            db=database,
            handler=handler,
            callback=CallbackConfig(TOKEN, AES_KEY, CORP_ID, AGENT_ID, reply_budget=BUDGET),
            channel=WeComChannel(api),
            fetch_media=api.download_media,
        )
        async with TestClient(TestServer(app)) as client:
            yield Env(client, WeComPeer(), wecom, handler, database, app[PIPELINE_KEY], api)
        await api.close()


async def _hold_write_lock(db: Database, seconds: float, held: asyncio.Event | None = None) -> None:
    """Stall the database: another connection holds its write lock for `seconds` (`held` is set
    once it has it, so a test on a loaded machine does not post before the stall begins)."""
    held = held or asyncio.Event()
    loop = asyncio.get_running_loop()
    if db.dialect == "sqlite":
        path = make_url(db.url).database
        assert path

        def hold() -> None:
            conn = sqlite3.connect(path, timeout=5, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            loop.call_soon_threadsafe(held.set)
            time.sleep(seconds)
            conn.execute("ROLLBACK")
            conn.close()

        await asyncio.to_thread(hold)
    else:
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("LOCK TABLE inbound_message IN EXCLUSIVE MODE")
            held.set()
            await asyncio.sleep(seconds)
            await conn.rollback()


async def test_a_database_stall_past_the_budget_still_answers_once(env: Env) -> None:
    """WeCom gives up on a delivery stuck behind a stalled database and delivers again: the
    message is handled once and answered once (actively, since in-line was too late)."""
    held = asyncio.Event()
    stall = asyncio.ensure_future(_hold_write_lock(env.db, 1.5, held))
    await asyncio.wait_for(held.wait(), 10)
    plain = env.peer.message_xml("u1", "text", {"Content": "卡住的消息", "MsgId": "stall-1"})
    query, body = env.peer.request(plain)
    first = asyncio.ensure_future(env.peer.post_raw(env.client, query, body))
    await asyncio.sleep(0.3)
    retry = asyncio.ensure_future(env.peer.post_raw(env.client, query, body))
    replies = await asyncio.gather(first, retry)
    await stall
    await env.pipeline.drain()
    assert all(r.status == 200 for r in replies)
    assert env.answers("u1", [r.content for r in replies]) == ["收到：卡住的消息"]
    assert len(env.handler.seen) == 1


async def test_a_retry_while_the_first_is_handled_gets_the_stored_reply(env: Env) -> None:
    """The first delivery's connection is dropped by WeCom; the retry arriving meanwhile waits
    for the stored reply and carries it in-line: one answer, nothing sent twice."""
    plain = env.peer.message_xml("u2", "text", {"Content": "慢一点", "MsgId": "r-1"})
    query, body = env.peer.request(plain)
    with pytest.raises(asyncio.TimeoutError):
        await env.client.post(
            f"/wecom/callback?{query}", data=body, timeout=ClientTimeout(total=0.1)
        )
    retry = await env.peer.post_raw(env.client, query, body)
    await env.pipeline.drain()
    # in-line with the retry when it was ready within the retry's budget, else sent actively
    assert env.answers("u2", [retry.content]) == ["收到：慢一点"]
    assert len(env.handler.seen) == 1


async def test_a_reply_cut_off_by_a_killed_process_is_sent_after_restart(
    database: Database, tmp_path: Path
) -> None:
    """kill -9 during an active send leaves the reply stored with its outbox row leased to the
    dead process; once the lease runs out the restarted server sends it, once."""
    async with FakeWeCom() as wecom:
        api = wecom.client(tmp_path / "m", max_retries=0, timeout=0.2)
        app = create_app(
            db=database,
            handler=Recorder(),
            callback=CallbackConfig(TOKEN, AES_KEY, CORP_ID, AGENT_ID, reply_budget=BUDGET),
            channel=WeComChannel(api),
        )
        wecom.delay("message/send", 1.0)  # the send hangs: the process "dies" meanwhile
        async with TestClient(TestServer(app)) as client:
            answer = await WeComPeer().send_text(client, user="u3", content="长回复", msg_id="k-1")
            assert answer.empty  # too long to go in-line: through the outbox
            await app[PIPELINE_KEY].drain()
        async with database.session() as s:
            row = (await s.exec(select(Outbox))).one()
            # what a killed process leaves: pending, leased, the lease run out by now
            assert row.status == OutboxStatus.PENDING.value
            await s.exec(
                update(Outbox)
                .where(col(Outbox.id) == row.id)
                .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
            )
            await s.commit()
        sends_before = len(wecom.sent_texts("u3"))
        restarted = create_app(db=database, handler=Recorder(), callback=app_config(),
                               channel=WeComChannel(api))  # fmt: skip
        async with TestClient(TestServer(restarted)) as client:
            await wait_until(lambda: len(wecom.sent_texts("u3")) > sends_before)
            again = await WeComPeer().send_text(client, user="u3", content="长回复", msg_id="k-1")
            assert again.empty
            await restarted[PIPELINE_KEY].drain()
        # the part WeCom took before the "crash" is not delivered twice: sends carry
        # enable_duplicate_check, and the resend comes within its interval
        assert "".join(wecom.sent_texts("u3")) == "很长的回复。" * 300
        assert len(wecom.duplicates) == sends_before == 1
        async with database.session() as s:
            assert (await s.exec(select(Outbox.status))).one() == OutboxStatus.SENT.value
        await api.close()


def app_config() -> CallbackConfig:
    return CallbackConfig(TOKEN, AES_KEY, CORP_ID, AGENT_ID, reply_budget=BUDGET)


async def wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_a_wecom_outage_longer_than_the_client_retries_loses_nothing(env: Env) -> None:
    """message/send fails for longer than the client's own retries: the reply waits in the
    outbox and goes out once WeCom is back."""
    env.wecom.fail("message/send", -1, times=6)  # system busy, again and again
    answer = await env.peer.send_text(env.client, user="u4", content="长消息", msg_id="o-1")
    assert answer.empty
    await env.pipeline.drain()
    assert env.wecom.sent_texts("u4") == []
    async with env.db.session() as s:
        row = (await s.exec(select(Outbox))).one()
        assert row.status == OutboxStatus.PENDING.value and row.last_error
    dispatcher = env.pipeline.dispatcher
    assert dispatcher is not None
    dispatcher.clock = FixedClock(datetime.now(UTC) + timedelta(hours=1))
    for _ in range(4):  # WeCom recovers after the injected failures
        await dispatcher.run_once()
        dispatcher.clock.advance(timedelta(hours=1))
    assert "".join(env.wecom.sent_texts("u4")) == "很长的回复。" * 300


async def test_a_message_left_by_a_dead_process_is_answered_within_seconds(
    database: Database, tmp_path: Path
) -> None:
    """Recorded, claimed by a process that died, never answered: the sweep of the restarted
    server takes it up as soon as the claim runs out (20 s by default; here 0.5 s)."""
    peer = WeComPeer()
    xml = peer.message_xml("u5", "text", {"Content": "断电前", "MsgId": "d-1"})
    await record_inbound(
        database,
        key="msg:d-1",
        sender="u5",
        msg_type="text",
        received_at=datetime.now(UTC),
        content=xml,
        claimed_by="dead",
        claimed_until=datetime.now(UTC) + timedelta(seconds=0.5),
    )
    channel = LocalChannel(None)
    app = create_app(db=database, handler=Recorder(), callback=app_config(), channel=channel)
    app[PIPELINE_KEY].recover_every = 0.1
    started = time.monotonic()
    async with TestClient(TestServer(app)):
        await wait_until(lambda: channel.messages_for("u5"), timeout=5)
    assert time.monotonic() - started < 3
    assert [s.content for s in channel.messages_for("u5")] == ["收到：断电前"]
    row = await get_inbound(database, "msg:d-1")
    assert row is not None and row.reply and row.claimed_by is None


async def test_one_users_messages_run_one_at_a_time_in_order(env: Env) -> None:
    """Three images sent at once (and a text) are handled one after another, in the order
    they arrived, each with its media; another user is not held up."""
    ids = [env.wecom.add_media(f"img{n}".encode(), f"p{n}.jpg") for n in range(3)]
    sends = []
    for n, media_id in enumerate(ids):
        sends.append(
            asyncio.ensure_future(
                env.peer.send_media(
                    env.client, user="u6", msg_type="image", media_id=media_id, msg_id=f"i-{n}"
                )
            )
        )
        await asyncio.sleep(0.01)
    other = asyncio.ensure_future(env.peer.send_text(env.client, user="u7", content="你好"))
    await asyncio.gather(*sends, other)
    await env.pipeline.drain()
    mine = [m for m in env.handler.seen if m.sender == "u6"]
    assert [m.msg_id for m in mine] == ["i-0", "i-1", "i-2"]
    assert all(m.attachment for m in mine)
    assert env.handler.most_at_once == 1


async def test_two_instances_take_turns_for_one_user(database: Database) -> None:
    """Two pipelines on one database (two instances): one user's messages split between them
    never run at the same time."""
    if database.dialect != "postgresql":
        pytest.skip("several instances share a PostgreSQL database")
    handler = Recorder()
    one, two = InboundPipeline(database, handler), InboundPipeline(database, handler)
    for p in (one, two):
        p.add_port(Port("local", lambda raw: None, LocalChannel(None)))  # type: ignore[arg-type,return-value]
    now = datetime.now(UTC)
    msgs = [
        InboundMessage(key=f"t-{n}", sender="u8", msg_type="text", created_at=now, content="慢")
        for n in range(4)
    ]
    await asyncio.gather(
        *(
            (one if n % 2 else two).accept(m, "{}", channel="local", budget=5)
            for n, m in enumerate(msgs)
        )
    )
    assert len(handler.seen) == 4 and handler.most_at_once == 1
    for p in (one, two):
        await p.stop()


# --- the send time ---------------------------------------------------------------------------


SHANGHAI_MIDNIGHT = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 2026-12-01 00:00 in Shanghai


@pytest.mark.parametrize(
    ("sent", "received", "expected"),
    [
        # sent at 23:59:50 on 30 November, handled after midnight: stays on the 30th
        (
            SHANGHAI_MIDNIGHT - timedelta(seconds=10),
            SHANGHAI_MIDNIGHT + timedelta(seconds=5),
            SHANGHAI_MIDNIGHT - timedelta(seconds=10),
        ),
        # a create time in the future is not believed: the receipt time
        (
            SHANGHAI_MIDNIGHT + timedelta(hours=1),
            SHANGHAI_MIDNIGHT,
            SHANGHAI_MIDNIGHT,
        ),
        # nor one from long before receipt (beyond the 10-minute window)
        (
            SHANGHAI_MIDNIGHT - timedelta(hours=2),
            SHANGHAI_MIDNIGHT,
            SHANGHAI_MIDNIGHT,
        ),
    ],
)
async def test_the_send_time_is_the_create_time_bounded_by_receipt(
    database: Database, sent: datetime, received: datetime, expected: datetime
) -> None:
    handler = Recorder()
    pipeline = InboundPipeline(database, handler, now=lambda: received)
    msg = InboundMessage(key="st-1", sender="u9", msg_type="text", created_at=sent, content="x")
    await pipeline.accept(msg, "{}", channel="local", budget=5)
    assert handler.seen[0].created_at == expected
    await pipeline.stop()


async def test_an_implausible_create_time_is_refused(env: Env) -> None:
    xml = env.peer.message_xml("u1", "text", {"Content": "x", "MsgId": "ct"}, create_time=10**17)
    answer = await env.peer.post(env.client, xml)
    assert answer.status == 400
    assert env.handler.seen == []


# --- readiness -------------------------------------------------------------------------------


async def test_readyz_is_not_ready_while_writes_are_blocked(env: Env) -> None:
    assert (await env.client.get("/readyz")).status == 200
    held = asyncio.Event()
    stall = asyncio.ensure_future(_hold_write_lock(env.db, BUDGET * 3, held))
    await asyncio.wait_for(held.wait(), 10)
    resp = await env.client.get("/readyz")
    assert resp.status == 503 and "refuses writes" in (await resp.json())["database"]
    await stall
    assert (await env.client.get("/readyz")).status == 200


async def test_readyz_is_not_ready_on_a_read_only_database(
    sqlite_template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "ro.db"
    path.write_bytes(sqlite_template.read_bytes())
    db = Database(f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true")
    app = create_app(db=db, handler=Recorder())
    async with TestClient(TestServer(app)) as client:
        resp = await client.get("/readyz")
        assert resp.status == 503
        assert "refuses writes" in (await resp.json())["database"]
    await db.dispose()
