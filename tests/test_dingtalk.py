"""The DingTalk Stream channel against a fake gateway: ticket, ACK after recording, pings,
disconnect and silent sockets, session-webhook answers, duplicates and redeliveries, media,
active sends, one connection across instances."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.channel import DingTalkChannel
from bot.dingtalk.frames import decode
from bot.dingtalk.service import DingTalkMedia, DingTalkService, parse_recorded, recorded
from bot.inbound import InboundPipeline
from bot.longconn.backoff import Backoff
from handlers.types import Button, Card
from storage.db import Database
from storage.inbound import get_inbound
from storage.outbox import count_by_status
from tests.fakedingtalk import CLIENT_ID, CLIENT_SECRET, ROBOT_CODE, FakeDingTalk
from tests.longconn_kit import Echo, recorded_by_dead_process

TOPIC = "/v1.0/im/bot/messages/get"


def make(
    fake: FakeDingTalk, db: Database, handler: Any, tmp_path: Path, **options: Any
) -> DingTalkService:
    api = DingTalkApi(
        client_id=CLIENT_ID,
        client_secret=options.pop("secret", CLIENT_SECRET),
        api_base=fake.url,
        oapi_base=fake.url,
    )
    pipeline = InboundPipeline(db, handler)
    options.setdefault("budget", 2.0)
    svc = DingTalkService(
        pipeline=pipeline, api=api, db=db, poll=0.1, backoff=Backoff(0.05, 0.2), **options
    )
    pipeline.add_port(svc.port(DingTalkMedia(api, ROBOT_CODE, tmp_path / "media")))
    return svc


@asynccontextmanager
async def running(
    db: Database, tmp_path: Path, handler: Any, **options: Any
) -> AsyncIterator[tuple[FakeDingTalk, DingTalkService]]:
    async with FakeDingTalk() as fake:
        svc = make(fake, db, handler, tmp_path, **options)
        await svc.start()
        try:
            await fake.wait_live()
            yield fake, svc
        finally:
            await svc.stop()
            await svc.api.close()
            assert svc.pipeline is not None
            await svc.pipeline.stop()


async def say(fake: FakeDingTalk, staff: str, text: str, **kw: Any) -> tuple[str, dict[str, Any]]:
    data = fake.robot_message(staff, "text", {"content": text}, msg_id=kw.pop("msg_id", None))
    return await fake.push("CALLBACK", TOPIC, data, **kw), data


async def test_text_is_acked_once_recorded_and_answered_through_the_session_webhook(
    database: Database, tmp_path: Path
) -> None:
    handler = Echo()
    async with running(database, tmp_path, handler) as (fake, _svc):
        mid, data = await say(fake, "dd001", "我的得分", msg_id="msgA", twice=True)
        await fake.wait(lambda: bool(fake.answered(data)))
        await asyncio.sleep(0.2)
        assert fake.answered(data) == ["收到：我的得分"]  # the duplicate frame is not answered
        assert len(handler.seen) == 1 and handler.seen[0].sender == "dingtalk:dd001"
        assert fake.acks[mid] and fake.acks[mid][0]["code"] == 200
        row = await get_inbound(database, "dingtalk:msgA")
        assert row is not None and row.channel == "dingtalk"
        again = parse_recorded(row.content)  # what recovery reads after a crash
        assert (again.key, again.sender, again.content) == (
            "dingtalk:msgA",
            "dingtalk:dd001",
            "我的得分",
        )


async def test_a_frame_not_recorded_is_not_acked_and_comes_again(tmp_path: Path) -> None:
    broken = Database(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")  # no tables: cannot record
    try:
        async with running(broken, tmp_path, Echo()) as (fake, _svc):
            fake.redeliver_after = 0.2
            mid, _ = await say(fake, "dd001", "我的得分")
            await fake.wait(lambda: fake.delivered[mid] >= 3, timeout=5)
            assert not fake.acks[mid]
    finally:
        await broken.dispose()


async def test_slow_ack_redeliveries_are_handled_once(database: Database, tmp_path: Path) -> None:
    handler = Echo()
    async with running(database, tmp_path, handler) as (fake, _svc):
        fake.redeliver_after, fake.ack_delay = 0.1, 0.5  # sent again before our ACK arrives
        mid, data = await say(fake, "dd002", "进度")
        await fake.wait(lambda: bool(fake.answered(data)))
        await asyncio.sleep(0.3)
        assert fake.delivered[mid] >= 2
        assert fake.answered(data) == ["收到：进度"] and len(handler.seen) == 1


async def test_ping_is_acked_with_its_data(database: Database, tmp_path: Path) -> None:
    async with running(database, tmp_path, Echo()) as (fake, _svc):
        mid = await fake.ping()
        await fake.wait(lambda: bool(fake.acks[mid]))
        assert '"opaque"' in fake.acks[mid][0]["data"]


async def test_disconnect_makes_a_new_connection_with_a_new_ticket(
    database: Database, tmp_path: Path
) -> None:
    async with running(database, tmp_path, Echo()) as (fake, svc):
        await fake.disconnect()
        await fake.wait(lambda: len(fake.opened) == 2 and len(fake.live) == 1, timeout=5)
        _, data = await say(fake, "dd003", "帮助")
        await fake.wait(lambda: bool(fake.answered(data)))
        assert svc.stream.connections == 2


async def test_silent_socket_is_taken_for_dead(database: Database, tmp_path: Path) -> None:
    async with running(database, tmp_path, Echo(), idle_timeout=0.3) as (fake, _svc):
        await fake.wait(lambda: len(fake.opened) >= 2, timeout=5)  # nothing heard → reconnected


async def test_dropped_connection_mid_conversation_loses_nothing(
    database: Database, tmp_path: Path
) -> None:
    """The socket dies while the handler works, and the webhook is down: the answer still reaches
    the user — through the outbox and the robot's one-to-one send."""
    handler = Echo(delay=0.4)
    async with running(database, tmp_path, handler) as (fake, svc):
        fake.webhook_status = 503
        mid, _data = await say(fake, "dd004", "政务信息：断线时报送")
        await fake.wait(lambda: bool(fake.acks[mid]))
        await fake.drop()
        await fake.wait(lambda: fake.sent_to("dd004") == ["收到：政务信息：断线时报送"], timeout=10)
        await svc.stream.drain()
        assert await count_by_status(database) == {"sent": 1}
        assert len(handler.seen) == 1


async def test_picture_is_downloaded_into_the_media_store(
    database: Database, tmp_path: Path
) -> None:
    picture = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 30
    async with running(database, tmp_path, Echo()) as (fake, _svc):
        data = fake.robot_message("dd005", "picture", {"downloadCode": fake.host_file(picture)})
        await fake.push("CALLBACK", TOPIC, data)
        await fake.wait(lambda: bool(fake.answered(data)))
        ref = fake.answered(data)[0].removeprefix("附件：")
        assert (tmp_path / "media" / ref).read_bytes() == picture


async def test_card_button_text_comes_back_as_its_click(database: Database, tmp_path: Path) -> None:
    handler = Echo()
    async with running(database, tmp_path, handler) as (fake, _svc):
        _, data = await say(fake, "dd006", "立即报送")
        await fake.wait(lambda: bool(fake.answered(data)))
        assert fake.answered(data) == ["按钮：start_info"]


async def test_channel_sends_text_cards_and_files(tmp_path: Path) -> None:
    report = tmp_path / "汇总.xlsx"
    report.write_bytes(b"PK" + bytes(1000))
    async with FakeDingTalk() as fake:
        api = DingTalkApi(
            client_id=CLIENT_ID, client_secret=CLIENT_SECRET, api_base=fake.url, oapi_base=fake.url
        )
        channel = DingTalkChannel(api, ROBOT_CODE)
        try:
            await channel.send_text("dingtalk:a1|dingtalk:b2", "请于本周五前报送")
            card = Card(
                "11月政务信息未报",
                "请尽快报送",
                "rem-1",
                (Button("立即报送", "start_info"), Button("查看进度", "progress")),
            )
            await channel.send_card("dingtalk:a1", card)
            await channel.send_file("dingtalk:a1", report)
        finally:
            await api.close()
        assert fake.sent[0]["userIds"] == ["a1", "b2"] and fake.sent[0]["robotCode"] == ROBOT_CODE
        action = fake.sent[1]
        assert action["msgKey"] == "sampleActionCard2"
        assert action["msgParam"]["actionURL1"].startswith(
            "dtmd://dingtalkclient/sendMessage?content="
        )
        file_send = fake.sent[2]
        assert file_send["msgKey"] == "sampleFile"
        assert fake.uploads[file_send["msgParam"]["mediaId"]] == report.read_bytes()
        assert api.token_calls == 1  # one token for all of it


async def test_two_instances_hold_one_connection_and_take_over(
    database: Database, tmp_path: Path
) -> None:
    handler = Echo()
    async with FakeDingTalk() as fake:
        first, second = (
            make(fake, database, handler, tmp_path),
            make(fake, database, handler, tmp_path),
        )
        await first.start()
        await second.start()
        try:
            await fake.wait_live()
            await asyncio.sleep(0.5)
            assert len(fake.opened) == 1
            leader, other = (
                (first, second) if first.supervisor.leading.is_set() else (second, first)
            )
            assert not other.supervisor.leading.is_set()
            _, data = await say(fake, "dd007", "我的得分", msg_id="lead1")
            await fake.wait(lambda: bool(fake.answered(data)))
            await leader.stop()
            await asyncio.wait_for(other.supervisor.leading.wait(), 10.0)
            await fake.wait(lambda: len(fake.live) == 1, timeout=10)
            await fake.push("CALLBACK", TOPIC, data)  # the same message again, to the new holder
            _, data2 = await say(fake, "dd007", "进度", msg_id="lead2")
            await fake.wait(lambda: bool(fake.answered(data2)))
            await other.pipeline.drain()
            assert fake.answered(data) == ["收到：我的得分"]
            assert [m.key for m in handler.seen] == ["dingtalk:lead1", "dingtalk:lead2"]
        finally:
            for svc in (first, second):
                await svc.stop()
                assert svc.pipeline is not None
                await svc.pipeline.stop()
            await first.api.close()
            await second.api.close()


async def test_wrong_secret_keeps_retrying_without_a_connection(
    database: Database, tmp_path: Path
) -> None:
    async with FakeDingTalk() as fake:
        svc = make(fake, database, Echo(), tmp_path, secret="wrong")
        await svc.start()
        try:
            await asyncio.sleep(0.5)
            assert not fake.sockets and not fake.opened
            assert svc.supervisor.connects >= 2  # tried again, with backoff
        finally:
            await svc.stop()
            await svc.api.close()


async def test_message_of_a_dead_process_is_recovered_and_sent(
    database: Database, tmp_path: Path
) -> None:
    """Recorded (and ACKed) by an instance that died before answering: the sweep reads the frame
    again, handles it once, and the robot's one-to-one send carries the answer."""
    handler = Echo()
    async with running(database, tmp_path, handler) as (fake, svc):
        data = fake.robot_message(
            "dd008", "text", {"content": "政务信息：断电前发的"}, msg_id="dead1"
        )
        _, text = fake.frame("CALLBACK", TOPIC, data)
        await recorded_by_dead_process(
            database, "dingtalk:dead1", "dingtalk:dd008", "dingtalk", recorded(decode(text))
        )
        assert svc.pipeline is not None
        assert await svc.pipeline.recover() == 1
        await fake.wait(lambda: fake.sent_to("dd008") == ["收到：政务信息：断电前发的"])
        assert await svc.pipeline.recover() == 0
        assert [m.key for m in handler.seen] == ["dingtalk:dead1"]
