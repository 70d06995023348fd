"""The encrypted callback end to end: WeCom's side played by wechatpy (tests/fakewecom.py), the
real storage (the `database` fixture), active sends going to the fake WeCom API."""

from __future__ import annotations

import asyncio
import base64
import logging
import struct
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from aiohttp.test_utils import TestClient, TestServer
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sqlalchemy import func
from sqlmodel import select

from bot.app import PIPELINE_KEY, create_app
from bot.wecom.callback import CallbackConfig
from bot.wecom.channel import WeComChannel
from bot.wecom.crypto import WeComCrypto, pkcs7_pad
from handlers.types import InboundMessage, MarkdownReply, Reply, TextReply, UpdateButtonReply
from storage.models import InboundMessage as InboundRow
from tests.fakewecom import AES_KEY, AGENT_ID, CORP_ID, TOKEN, FakeWeCom, WeComPeer

# Generous: the in-line answers below must not miss it on a loaded CI machine (a first message
# once took over 1 s at load 9); the slow handler waits on an event, not on time.
BUDGET = 2.0


@dataclass
class Handler:
    """Echo handler; texts starting with 慢 are slow, 坏 raises, 长 answers long, md answers markdown."""

    seen: list[InboundMessage] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, msg: InboundMessage) -> Reply | None:
        self.seen.append(msg)
        if msg.is_event:
            if msg.event == "template_card_event":
                return UpdateButtonReply(f"已处理 {msg.event_key}")
            return TextReply(f"事件 {msg.event} {msg.event_key}".strip())
        if msg.attachment:
            return TextReply(f"已收到附件 {msg.attachment}")
        if msg.attachment_error:
            return TextReply("附件下载失败")
        if msg.text.startswith("慢"):
            await asyncio.wait_for(self.release.wait(), 5)
            return TextReply("慢慢来：" + msg.text)
        if msg.text.startswith("坏"):
            raise RuntimeError("boom")
        if msg.text.startswith("长"):
            return TextReply("很长的回复。" * 300)
        if msg.text.startswith("md"):
            return MarkdownReply("**得分** 95")
        if msg.text == "沉默":
            return None
        return TextReply("你说：" + msg.text)


@dataclass
class Env:
    client: TestClient
    peer: WeComPeer
    wecom: FakeWeCom
    handler: Handler
    db: object
    app: object

    async def drain(self) -> None:
        await self.app[PIPELINE_KEY].drain()  # type: ignore[index]


async def inbound_rows(db) -> int:  # type: ignore[no-untyped-def]
    async with db.session() as s:
        return (await s.exec(select(func.count()).select_from(InboundRow))).one()


@pytest.fixture
async def env(database, tmp_path: Path) -> AsyncIterator[Env]:  # type: ignore[no-untyped-def]
    async with FakeWeCom() as wecom:
        api = wecom.client(tmp_path / "media")
        handler = Handler()
        app = create_app(
            db=database,
            handler=handler,
            callback=CallbackConfig(
                token=TOKEN,
                encoding_aes_key=AES_KEY,
                corp_id=CORP_ID,
                agent_id=AGENT_ID,
                reply_budget=BUDGET,
                max_body=8 * 1024,
            ),
            channel=WeComChannel(api),
            fetch_media=api.download_media,
        )
        async with TestClient(TestServer(app)) as client:
            yield Env(client, WeComPeer(), wecom, handler, database, app)
        await api.close()


# --- URL verification ----------------------------------------------------------------------------


async def test_url_verification(env: Env) -> None:
    reply = await env.peer.verify_url(env.client, "1288432023552776189")
    assert (reply.status, reply.body) == (200, "1288432023552776189")


async def test_url_verification_with_a_raw_plus(env: Env) -> None:
    """A '+' left unencoded by a proxy must not turn into a space."""
    ts, nonce = str(int(time.time())), "42"
    for _ in range(50):
        encrypt, sig = env.peer.encrypt("echo-with-plus", timestamp=ts, nonce=nonce)
        if "+" in encrypt:
            break
    assert "+" in encrypt
    resp = await env.client.get(
        f"/wecom/callback?msg_signature={sig}&timestamp={ts}&nonce={nonce}&echostr={encrypt}"
    )
    assert (resp.status, await resp.text()) == (200, "echo-with-plus")
    resp = await env.client.get(
        f"/wecom/callback?msg_signature={sig}&timestamp={ts}&nonce={nonce}"
        f"&echostr={quote(encrypt, safe='')}"
    )
    assert await resp.text() == "echo-with-plus"


async def test_official_get_vector(database) -> None:  # type: ignore[no-untyped-def]
    config = CallbackConfig(TOKEN, AES_KEY, CORP_ID, timestamp_window=10**10)
    app = create_app(db=database, handler=Handler(), callback=config)
    async with TestClient(TestServer(app)) as client:
        resp = await client.get(
            "/wecom/callback?msg_signature=012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb"
            "&timestamp=1476416373&nonce=47744683&echostr="
            "fsi1xnbH4yQh0%2BPJxcOdhhK6TDXkjMyhEPA7xB2TGz6b%2Bg7xyAbEkRxN%2F3cNXW9qdqjnoVzEtpbhnFyq6SVHyA%3D%3D"
        )
        assert (resp.status, await resp.text()) == (200, "1288432023552776189")
        assert resp.content_type == "text/plain"


async def test_bad_url_verification(env: Env) -> None:
    resp = await env.client.get("/wecom/callback?msg_signature=x&timestamp=1&nonce=2&echostr=abc")
    assert resp.status == 400  # timestamp far away
    ts = str(int(time.time()))
    encrypt, _ = env.peer.encrypt("x", timestamp=ts, nonce="1")
    resp = await env.client.get(
        f"/wecom/callback?msg_signature={'0' * 40}&timestamp={ts}&nonce=1"
        f"&echostr={quote(encrypt, safe='')}"
    )
    assert resp.status == 403


# --- messages ------------------------------------------------------------------------------------


async def test_text_gets_a_passive_reply_readable_by_wechatpy(env: Env) -> None:
    reply = await env.peer.send_text(env.client, user="zhangsan", content="我的得分", msg_id="m1")
    assert reply.status == 200
    assert reply.content == "你说：我的得分"
    assert reply.fields["ToUserName"] == "zhangsan"
    assert reply.fields["FromUserName"] == CORP_ID
    assert reply.fields["MsgType"] == "text"
    assert [m.key for m in env.handler.seen] == ["msg:m1"]
    assert await inbound_rows(env.db) == 1
    assert env.wecom.sent == []


async def test_four_deliveries_are_recorded_and_answered_once(env: Env) -> None:
    plain = env.peer.message_xml(
        "zhangsan", "text", {"Content": "进度", "MsgId": "CAIQg/PKxgYY2sC9tpuAgAMg9/zKaw=="}
    )
    query, body = env.peer.request(plain)
    replies = [await env.peer.post_raw(env.client, query, body) for _ in range(4)]
    assert [r.status for r in replies] == [200] * 4
    assert {r.content for r in replies} == {"你说：进度"}  # the stored reply, every time
    assert len(env.handler.seen) == 1
    assert await inbound_rows(env.db) == 1
    # A redelivery with a fresh timestamp/nonce (new ciphertext) is the same message too.
    again = await env.peer.post(env.client, plain)
    assert again.content == "你说：进度" and len(env.handler.seen) == 1


async def test_concurrent_duplicate_deliveries(env: Env) -> None:
    plain = env.peer.message_xml("lisi", "text", {"Content": "得分", "MsgId": "same"})
    query, body = env.peer.request(plain)
    replies = await asyncio.gather(*(env.peer.post_raw(env.client, query, body) for _ in range(4)))
    assert all(r.status == 200 for r in replies)
    assert len(env.handler.seen) == 1
    assert await inbound_rows(env.db) == 1


async def test_slow_handler_gets_empty_200_and_exactly_one_send(env: Env) -> None:
    plain = env.peer.message_xml("zhangsan", "text", {"Content": "慢一点", "MsgId": "slow-1"})
    query, body = env.peer.request(plain)
    first = await env.peer.post_raw(env.client, query, body)
    assert first.empty
    retry = await env.peer.post_raw(env.client, query, body)  # WeCom retries while we work
    assert retry.empty
    env.handler.release.set()
    await env.drain()
    assert env.wecom.sent_texts("zhangsan") == ["慢慢来：慢一点"]
    late = await env.peer.post_raw(env.client, query, body)  # a very late duplicate
    assert late.empty
    await env.drain()
    assert len(env.wecom.sent) == 1
    assert len(env.handler.seen) == 1


async def test_replies_that_cannot_be_passive_go_through_message_send(env: Env) -> None:
    md = await env.peer.send_text(env.client, user="u1", content="md 分数")
    long = await env.peer.send_text(env.client, user="u2", content="长")
    assert md.empty and long.empty
    await env.drain()
    assert env.wecom.sent_to("u1")[0]["markdown"]["content"] == "**得分** 95"
    parts = env.wecom.sent_texts("u2")
    assert len(parts) == 3 and "".join(parts) == "很长的回复。" * 300


async def test_no_reply_and_handler_failure(env: Env) -> None:
    silent = await env.peer.send_text(env.client, user="u", content="沉默", msg_id="s1")
    assert silent.empty
    plain = env.peer.message_xml("u", "text", {"Content": "坏了", "MsgId": "b1"})
    query, body = env.peer.request(plain)
    first = await env.peer.post_raw(env.client, query, body)
    assert "没有处理成功" in (first.content or "")  # the user is told, not left in silence
    again = await env.peer.post_raw(env.client, query, body)
    assert again.content == first.content  # the stored answer, not a second run
    assert len(env.handler.seen) == 2  # the failing one was not run again
    assert await inbound_rows(env.db) == 2


async def test_events(env: Env) -> None:
    enter = await env.peer.send_event(env.client, user="zhangsan", event="enter_agent")
    assert enter.content == "事件 enter_agent"
    click = await env.peer.send_event(env.client, user="zhangsan", event="click", EventKey="SCORE")
    assert click.content == "事件 click SCORE"
    now = int(time.time())
    a = await env.peer.click(env.client, user="admin", task_id="t1", key="accept", create_time=now)
    b = await env.peer.click(env.client, user="admin", task_id="t1", key="reject", create_time=now)
    assert a.fields["MsgType"] == "update_button"
    assert "<ReplaceName><![CDATA[已处理 accept]]></ReplaceName>" in (a.plaintext or "")
    assert "已处理 reject" in (b.plaintext or "")
    assert len(env.handler.seen) == 4  # two clicks in one second are two events
    assert await inbound_rows(env.db) == 4
    clicked = env.handler.seen[2]
    assert (clicked.event, clicked.task_id, clicked.response_code[:2]) == (
        "template_card_event",
        "t1",
        "RC",
    )


async def test_repeated_event_is_handled_once(env: Env) -> None:
    plain = env.peer.message_xml(
        "admin",
        "event",
        {"Event": "template_card_event", "EventKey": "accept", "TaskId": "t9", "ResponseCode": "R"},
    )
    replies = [await env.peer.post(env.client, plain) for _ in range(3)]
    assert {r.fields.get("MsgType") for r in replies} == {"update_button"}
    assert len(env.handler.seen) == 1


async def test_media_is_downloaded_before_the_handler_runs(env: Env, tmp_path: Path) -> None:
    media_id = env.wecom.add_media(b"%PDF-1.7 evidence", "佐证材料.pdf", "application/pdf")
    reply = await env.peer.send_media(
        env.client, user="zhangsan", msg_type="file", media_id=media_id, FileName="佐证材料.pdf"
    )
    ref = env.handler.seen[0].attachment
    assert ref and ref.endswith("佐证材料.pdf")
    assert (tmp_path / "media" / ref).read_bytes() == b"%PDF-1.7 evidence"
    assert reply.content == f"已收到附件 {ref}"
    broken = await env.peer.send_media(
        env.client, user="zhangsan", msg_type="image", media_id="gone"
    )
    assert broken.content == "附件下载失败"


# --- refusals: 4xx, nothing recorded, handler never called ---------------------------------------


def _corrupt(encrypt: str, plain: bytes) -> str:
    key = base64.b64decode(AES_KEY + "=")
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def _signed(peer: WeComPeer, encrypt: str, ts: str | None = None, nonce: str = "7") -> str:
    from bot.wecom.crypto import signature

    ts = ts or str(int(time.time()))
    return f"msg_signature={signature(TOKEN, ts, nonce, encrypt)}&timestamp={ts}&nonce={nonce}"


def _refusals(peer: WeComPeer) -> dict[str, tuple[str, bytes | str, int]]:
    good = peer.message_xml("mallory", "text", {"Content": "我的得分", "MsgId": "evil"})
    ts = str(int(time.time()))
    query, body = peer.request(good, timestamp=ts, nonce="7")
    encrypt = body.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    other_corp = WeComCrypto(TOKEN, AES_KEY, "wwother000000000")
    foreign = other_corp.encrypt(good)
    bad_pad_plain = b"R" * 16 + struct.pack(">I", 5) + b"hello" + CORP_ID.encode()
    bad_pad_plain += b"z" * (-len(bad_pad_plain) % 32) + bytes([0]) * 32
    bad_pad = _corrupt(encrypt, bad_pad_plain)
    long_len = _corrupt(
        encrypt, pkcs7_pad(b"R" * 16 + struct.pack(">I", 9999) + b"hi" + CORP_ID.encode())
    )
    hostile_inner = WeComCrypto(TOKEN, AES_KEY, CORP_ID).encrypt(
        '<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<xml><FromUserName>&b;</FromUserName><MsgType>text</MsgType><MsgId>h1</MsgId></xml>"
    )
    not_xml_inner = WeComCrypto(TOKEN, AES_KEY, CORP_ID).encrypt("just text")

    def env_of(enc: str) -> str:
        return peer.envelope(enc)

    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        f"<xml><Encrypt>{encrypt}&lol2;</Encrypt></xml>"
    )
    deep = "<xml>" + "<a>" * 500 + "</a>" * 500 + f"<Encrypt>{encrypt}</Encrypt></xml>"
    return {
        "wrong signature": (
            query.replace(query.split("&")[0], "msg_signature=" + "0" * 40),
            body,
            403,
        ),
        "signature over other nonce": (query.replace("nonce=7", "nonce=8"), body, 403),
        "old timestamp": (_signed(peer, encrypt, ts=str(int(time.time()) - 3600)), body, 400),
        "future timestamp": (_signed(peer, encrypt, ts=str(int(time.time()) + 3600)), body, 400),
        "timestamp not a number": (_signed(peer, encrypt, ts="soon"), body, 400),
        "missing signature": (f"timestamp={ts}&nonce=7", body, 400),
        "bad base64": (_signed(peer, "@@not-base64@@"), env_of("@@not-base64@@"), 400),
        "truncated ciphertext": (_signed(peer, encrypt[:-8]), env_of(encrypt[:-8]), 400),
        "bad pad": (_signed(peer, bad_pad), env_of(bad_pad), 400),
        "length beyond buffer": (_signed(peer, long_len), env_of(long_len), 400),
        "wrong corp id inside": (_signed(peer, foreign), env_of(foreign), 400),
        "wrong corp id outside": (
            query,
            peer.envelope(encrypt, to_user="wwother000000000"),
            400,
        ),
        "malformed envelope": (query, body[:-10], 400),
        "entity bomb envelope": (query, bomb, 400),
        "deeply nested envelope": (query, deep, 400),
        "hostile plaintext": (_signed(peer, hostile_inner), env_of(hostile_inner), 400),
        "plaintext not xml": (_signed(peer, not_xml_inner), env_of(not_xml_inner), 400),
        "body over limit": (query, body + " " * 9000, 413),
        "empty body": (query, b"", 400),
    }


@pytest.mark.parametrize(
    "case",
    list(_refusals(WeComPeer()).keys()),
)
async def test_refusals_change_nothing(
    env: Env, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    query, body, status = _refusals(env.peer)[case]
    with caplog.at_level(logging.WARNING, logger="bot.wecom.callback"):
        resp = await env.client.post(f"/wecom/callback?{query}", data=body)
    assert resp.status == status, await resp.text()
    assert await inbound_rows(env.db) == 0
    assert env.handler.seen == []
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refusals) == 1
    assert TOKEN not in caplog.text and AES_KEY not in caplog.text
    # …and the genuine message is still accepted afterwards.
    ok = await env.peer.send_text(env.client, user="mallory", content="我的得分", msg_id="evil")
    assert ok.content == "你说：我的得分"


async def test_streamed_oversized_body_is_refused(env: Env) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"<xml>" + b" " * 1000

    query, _ = env.peer.request(env.peer.message_xml("u", "text", {"Content": "x", "MsgId": "1"}))
    resp = await env.client.post(f"/wecom/callback?{query}", data=chunks())
    assert resp.status == 413
    assert await inbound_rows(env.db) == 0


# --- health --------------------------------------------------------------------------------------


async def test_health(env: Env) -> None:
    resp = await env.client.get("/healthz")
    assert resp.status == 200
    resp = await env.client.get("/readyz")
    assert resp.status == 200, await resp.text()


async def test_callback_not_configured(database) -> None:  # type: ignore[no-untyped-def]
    app = create_app(db=database, handler=Handler())
    async with TestClient(TestServer(app)) as client:
        assert (await client.post("/wecom/callback", data=b"<xml/>")).status == 503
        assert (await client.get("/healthz")).status == 200


class BrokenDatabase:
    """A database that cannot be reached."""

    def session(self):  # type: ignore[no-untyped-def]
        raise OSError("database is down")

    async def is_current(self) -> bool:
        raise OSError("database is down")


async def test_unrecorded_message_is_not_acknowledged() -> None:
    handler = Handler()
    config = CallbackConfig(TOKEN, AES_KEY, CORP_ID, agent_id=AGENT_ID)
    app = create_app(db=BrokenDatabase(), handler=handler, callback=config)
    async with TestClient(TestServer(app)) as client:
        reply = await WeComPeer().send_text(client, user="zhangsan", content="得分")
        assert reply.status == 503  # WeCom will deliver it again
        assert handler.seen == []
        ready = await client.get("/readyz")
        assert ready.status == 503
        assert "unreachable" in (await ready.json())["database"]
