"""The WeCom 智能机器人 long connection against a fake server: subscribe, heartbeat, reconnect,
in-line stream answers, duplicates, media decryption, events, active sends, one connection per
bot across instances."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.inbound import InboundPipeline
from bot.longconn.backoff import Backoff
from bot.wecombot.channel import WeComBotChannel
from bot.wecombot.connection import SubscribeRefused, WeComBotConnection
from bot.wecombot.frames import decode, parse_recorded, recorded
from bot.wecombot.media import MediaError, MediaFetcher, decrypt_media
from bot.wecombot.service import WeComBotService
from handlers.types import InboundMessage, Reply, TextReply
from storage.db import Database
from storage.inbound import get_inbound
from storage.outbox import count_by_status
from tests.fakewecombot import BOT_ID, BOT_SECRET, FakeWeComBot
from tests.longconn_kit import Echo, recorded_by_dead_process

# AES-256-CBC, key = bytes 0..31, IV = key[:16], 32 bytes of text padded with a whole 32-byte
# block of 0x20 — made with `openssl enc -aes-256-cbc -nopad` (an independent implementation).
KAT_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
KAT_CIPHER = bytes.fromhex(
    "6609b38b1628f44170d4f771102d36714b1e5e892001a221441aeab326611508"
    "c44851a937981a011c455cc31fab98561304264ad445ea7fc6903f9f8c2c6b46"
)


def test_media_known_answer() -> None:
    assert decrypt_media(KAT_CIPHER, KAT_KEY) == "考核 媒体解密 known answer".encode()


def test_media_wrong_key_or_damage_is_refused() -> None:
    other = base64.b64encode(bytes(range(1, 33))).decode()
    with pytest.raises(MediaError):
        decrypt_media(KAT_CIPHER, other)
    with pytest.raises(MediaError):
        decrypt_media(KAT_CIPHER[:-5], KAT_KEY)
    with pytest.raises(MediaError):
        decrypt_media(KAT_CIPHER, "not base64!")


def test_backoff_grows_with_jitter_and_caps() -> None:
    b = Backoff(1.0, 30.0, rand=lambda: 1.0)
    assert [b.next() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    low = Backoff(1.0, 30.0, rand=lambda: 0.0)
    assert [low.next() for _ in range(3)] == [0.5, 1, 2]
    b.reset()
    assert b.next() == 1


async def wait_until(predicate: Any, timeout: float) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


@asynccontextmanager
async def running(
    db: Database, tmp_path: Path, handler: Any, **options: Any
) -> AsyncIterator[tuple[FakeWeComBot, WeComBotService]]:
    async with FakeWeComBot() as fake:
        svc = service(fake, db, handler, tmp_path, **options)
        await svc.start()
        try:
            yield fake, svc
        finally:
            await svc.stop()
            assert svc.pipeline is not None
            await svc.pipeline.stop()
            media = svc.pipeline.ports["wecom_bot"].fetch_media
            assert isinstance(media, MediaFetcher)
            await media.close()


def service(
    fake: FakeWeComBot,
    db: Database,
    handler: Any,
    tmp_path: Path,
    *,
    secret: str = BOT_SECRET,
    budget: float = 2.0,
    **options: Any,
) -> WeComBotService:
    pipeline = InboundPipeline(db, handler)
    options.setdefault("heartbeat", 5.0)
    options.setdefault("displaced_pause", 0.3)
    svc = WeComBotService(
        pipeline=pipeline,
        db=db,
        url=fake.ws_url,
        bot_id=BOT_ID,
        secret=secret,
        budget=budget,
        working_after=0.3,
        poll=0.1,
        backoff=Backoff(0.05, 0.2),
        **options,
    )
    pipeline.add_port(svc.port(MediaFetcher(tmp_path / "media")))
    return svc


async def test_text_is_answered_in_line_once_even_when_delivered_twice(
    database: Database, tmp_path: Path
) -> None:
    handler = Echo(delay=0.6)  # slow enough for the 正在处理 bubble
    async with running(database, tmp_path, handler) as (fake, svc):
        req = await fake.push_text("zhangsan", "我的得分", msgid="m-1", twice=True)
        assert await fake.reply_to(req) == "收到：我的得分"
        await svc.pipeline.drain()
        await svc.conn.drain()
        streams = [f["body"]["stream"] for f in fake.answers(req)]
        assert len({s["id"] for s in streams}) == 1  # one bubble: the duplicate gets none
        assert [s["finish"] for s in streams] == [False, True]
        assert len(handler.seen) == 1
        row = await get_inbound(database, "wecom_bot:m-1")
        assert row is not None and row.channel == "wecom_bot"
        again = parse_recorded(row.content)  # what recovery reads after a crash
        assert (again.key, again.sender, again.content) == ("wecom_bot:m-1", "zhangsan", "我的得分")


async def test_wrong_secret_is_refused_and_waits(database: Database, tmp_path: Path) -> None:
    async with FakeWeComBot() as fake:
        conn = WeComBotConnection(url=fake.ws_url, bot_id=BOT_ID, secret="wrong", on_push=Echo())
        with pytest.raises(SubscribeRefused):
            await conn.run(asyncio.Event())
        assert conn.pause_hint() == conn.refused_pause
        assert not fake.live
        await conn.close()


async def test_silent_server_is_detected_by_heartbeat_and_reconnected(
    database: Database, tmp_path: Path
) -> None:
    async with running(database, tmp_path, Echo(), heartbeat=0.2, request_timeout=0.2) as (
        fake,
        svc,
    ):
        first = await fake.wait_live()
        fake.mute_pings = True  # the socket stays open, but nothing answers the heartbeat
        await wait_until(lambda: first.ws.closed, timeout=10)  # closed by the client
        await wait_until(lambda: svc.conn.subscribes >= 2, timeout=10)  # and reconnected
        assert [f["cmd"] for f in first.got].count("ping") >= 2
        fake.mute_pings = False
        svc.conn.heartbeat, svc.conn.request_timeout = 30.0, 5.0  # calm from here on
        req = await fake.push_text("zhangsan", "帮助")
        assert await fake.reply_to(req) == "收到：帮助"


async def test_dropped_connection_mid_answer_loses_nothing(
    database: Database, tmp_path: Path
) -> None:
    """The server drops the socket while the handler works: the answer cannot go in-line on the
    dead req_id, so it goes through the outbox and aibot_send_msg on the next connection."""
    handler = Echo(delay=0.5)
    async with running(database, tmp_path, handler, budget=2.0) as (fake, svc):
        req = await fake.push_text("zhangsan", "政务信息：断线测试", msgid="m-drop")
        await asyncio.sleep(0.1)
        await fake.drop()
        await fake.wait(
            lambda: fake.sent_to("zhangsan") == ["收到：政务信息：断线测试"], timeout=10
        )
        assert fake.final_text(req) is None  # never shown in-line on the dead req_id
        await svc.conn.drain()
        assert await count_by_status(database) == {"sent": 1}
        assert len(handler.seen) == 1


async def test_slow_answer_shows_working_then_replaces_it(
    database: Database, tmp_path: Path
) -> None:
    async with running(database, tmp_path, Echo(delay=0.8)) as (fake, _svc):
        req = await fake.push_text("lisi", "进度")
        assert await fake.reply_to(req) == "收到：进度"
        streams = [f["body"]["stream"] for f in fake.answers(req)]
        assert streams[0]["finish"] is False and streams[0]["content"] == "正在处理，请稍候…"
        assert len({s["id"] for s in streams}) == 1  # one bubble, replaced


async def test_image_is_downloaded_decrypted_and_stored(database: Database, tmp_path: Path) -> None:
    picture = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    async with running(database, tmp_path, Echo()) as (fake, _svc):
        frame = fake.message("zhangsan", "image", fake.host_media(picture))
        req = await fake.push(frame)
        answer = await fake.reply_to(req)
        ref = answer.removeprefix("附件：")
        assert (tmp_path / "media" / ref).read_bytes() == picture


async def test_damaged_media_reaches_the_handler_as_an_error(
    database: Database, tmp_path: Path
) -> None:
    handler = Echo()
    async with running(database, tmp_path, handler) as (fake, _svc):
        media = fake.host_media(b"file body")
        media["aeskey"] = base64.b64encode(bytes(32)).decode()  # not the key it was sealed with
        await fake.reply_to(await fake.push(fake.message("zhangsan", "file", media)))
        assert handler.seen[0].attachment is None and handler.seen[0].attachment_error


async def test_enter_chat_gets_a_welcome_and_a_card_click_an_update(
    database: Database, tmp_path: Path
) -> None:
    async with running(database, tmp_path, Echo()) as (fake, _svc):
        req = await fake.push_event("zhangsan", "enter_chat")
        assert "帮助" in await fake.reply_to(req)
        assert fake.answers(req)[0]["cmd"] == "aibot_respond_welcome_msg"
        req = await fake.push_event(
            "zhangsan", "template_card_event", card_type="button_interaction",
            event_key="start_info", task_id="rem-1",
        )  # fmt: skip
        await fake.wait(lambda: bool(fake.answers(req)))
        update = fake.answers(req)[0]
        assert update["cmd"] == "aibot_respond_update_msg"
        assert update["body"]["template_card"]["task_id"] == "rem-1"
        assert update["body"]["template_card"]["button_list"][0]["text"] == "已处理"


async def test_channel_sends_text_cards_and_files(database: Database, tmp_path: Path) -> None:
    from handlers.types import Button, Card

    report = tmp_path / "汇总.xlsx"
    report.write_bytes(b"PK" + bytes(700 * 1024))  # two upload chunks
    async with running(database, tmp_path, Echo()) as (fake, svc):
        channel = WeComBotChannel(svc.conn)
        await channel.send_text("zhangsan|lisi", "请于本周五前报送")
        card = Card("11月政务信息未报", "请尽快报送", "rem-2", (Button("立即报送", "start_info"),))
        await channel.send_card("zhangsan", card)
        await channel.send_file("admin1", report)
        assert fake.sent_to("zhangsan") == ["请于本周五前报送", "11月政务信息未报"]
        assert fake.sent_to("lisi") == ["请于本周五前报送"]
        media_id = fake.sent_to("admin1")[0].removeprefix("file:")
        assert fake.uploads[media_id] == report.read_bytes()


async def test_two_instances_hold_one_connection_and_take_over(
    database: Database, tmp_path: Path
) -> None:
    handler = Echo()
    async with FakeWeComBot() as fake:
        first = service(fake, database, handler, tmp_path)
        second = service(fake, database, handler, tmp_path)
        await first.start()
        await second.start()
        try:
            await fake.wait_live()
            await asyncio.sleep(0.5)
            assert len(fake.conns) == 1 and not fake.displaced  # only the leader connected
            assert first.supervisor.leading.is_set() != second.supervisor.leading.is_set()
            leader, other = (
                (first, second) if first.supervisor.leading.is_set() else (second, first)
            )
            req = await fake.push_text("zhangsan", "我的得分", msgid="m-lead")
            assert await fake.reply_to(req) == "收到：我的得分"
            await leader.stop()  # the leader goes away
            await asyncio.wait_for(other.supervisor.leading.wait(), 10.0)
            await fake.wait(lambda: len(fake.live) == 1, timeout=10)
            again = await fake.push_text("zhangsan", "我的得分", msgid="m-lead")  # redelivered
            req2 = await fake.push_text("zhangsan", "进度", msgid="m-next")
            assert await fake.reply_to(req2) == "收到：进度"
            await other.pipeline.drain()
            assert fake.final_text(again) is None
            assert [m.key for m in handler.seen] == ["wecom_bot:m-lead", "wecom_bot:m-next"]
        finally:
            for svc in (first, second):
                await svc.stop()
                assert svc.pipeline is not None
                await svc.pipeline.stop()


async def test_long_answer_grows_in_snapshots_of_one_bubble(
    database: Database, tmp_path: Path
) -> None:
    text = "\n".join(f"第{i}行：椒江区政务信息报送情况良好。" for i in range(300))  # ~13 KB

    async def long_handler(msg: InboundMessage) -> Reply:
        return TextReply(text)

    async with running(database, tmp_path, long_handler) as (fake, _svc):
        req = await fake.push_text("admin1", "记录")
        assert await fake.reply_to(req) == text
        streams = [f["body"]["stream"] for f in fake.answers(req)]
        assert len({s["id"] for s in streams}) == 1  # one bubble
        if streams[0]["content"] == "正在处理，请稍候…":  # a loaded machine passed working_after
            streams = streams[1:]
        shown = [s["content"] for s in streams]
        assert len(streams) > 3
        assert all(b.startswith(a) for a, b in itertools.pairwise(shown))  # growing
        assert [s["finish"] for s in streams] == [False] * (len(streams) - 1) + [True]


async def test_message_of_a_dead_process_is_recovered_and_sent(
    database: Database, tmp_path: Path
) -> None:
    """Recorded by an instance that died before answering: the sweep reads the recorded frame
    again, handles it once, and sends the answer with aibot_send_msg."""
    handler = Echo()
    async with running(database, tmp_path, handler) as (fake, svc):
        frame = fake.message(
            "zhangsan", "text", {"content": "政务信息：断电前发的"}, msgid="m-dead"
        )
        await recorded_by_dead_process(
            database,
            "wecom_bot:m-dead",
            "zhangsan",
            "wecom_bot",
            recorded(decode(json.dumps(frame))),
        )
        assert svc.pipeline is not None
        assert await svc.pipeline.recover() == 1
        await fake.wait(lambda: fake.sent_to("zhangsan") == ["收到：政务信息：断电前发的"])
        assert await svc.pipeline.recover() == 0
        assert [m.key for m in handler.seen] == ["wecom_bot:m-dead"]
