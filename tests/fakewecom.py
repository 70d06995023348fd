"""A fake WeCom for tests: the API server (tokens, sends, media, robot) and the callback peer.

`FakeWeCom` is an aiohttp server that behaves like qyapi.weixin.qq.com for the calls we make,
records everything it got, and injects failures on demand:

    async with FakeWeCom() as wecom:                      # listens on 127.0.0.1:<random>
        client = WeComClient(corp_id=wecom.corp_id, secret=wecom.secret, agent_id=wecom.agent_id,
                             api_base=wecom.url, ...)
        wecom.fail("message/send", 45009, times=2)        # busy twice, then fine
        wecom.expire_tokens()                             # every issued token now answers 42001
        wecom.gettoken_error = 60020                      # gettoken refuses (config error)
        wecom.delay("message/send", 5.0, times=1)         # one slow answer (client timeout)
        ... wecom.sent, wecom.sent_texts("zhangsan"), wecom.gettoken_calls, wecom.webhook_sent

`WeComPeer` plays WeCom's side of the callback with an independent crypto implementation
(wechatpy 1.8.18): it encrypts and signs a message, posts it, and decrypts the passive reply:

    peer = WeComPeer()                                    # the official test token/key/corp id
    reply = await peer.send_text(client, user="zhangsan", content="我的得分", msg_id="m1")
    reply.status, reply.content, reply.fields["MsgType"], reply.empty
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import xml.etree.ElementTree as ET
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
AES_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
CORP_ID = "ww1436e0e65a779aee"
AGENT_ID = 1000002
SECRET = "fake-secret-0123456789"


@dataclass
class Call:
    path: str
    query: dict[str, str]
    raw: bytes
    json: Any = None


@dataclass
class Media:
    content: bytes
    filename: str
    content_type: str = "application/octet-stream"


class FakeWeCom:
    """The WeCom API as far as kaohe uses it. All state is public, for assertions."""

    def __init__(
        self,
        *,
        corp_id: str = CORP_ID,
        secret: str = SECRET,
        agent_id: int = AGENT_ID,
        webhook_key: str = "robot-key",
        token_ttl: int = 7200,
    ) -> None:
        self.corp_id = corp_id
        self.secret = secret
        self.agent_id = agent_id
        self.webhook_key = webhook_key
        self.token_ttl = token_ttl
        self.calls: list[Call] = []
        self.sent: list[dict[str, Any]] = []  # message/send bodies actually delivered
        self.duplicates: list[dict[str, Any]] = []  # dropped by enable_duplicate_check
        self.webhook_sent: list[dict[str, Any]] = []
        self.card_updates: list[dict[str, Any]] = []
        self.uploads: dict[str, Media] = {}
        self.media: dict[str, Media] = {}
        self.tokens: list[str] = []
        self.expired: set[str] = set()
        self.gettoken_error: int | None = None
        self._failures: dict[str, deque[int]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)
        self._recent: dict[str, float] = {}
        self.directory: dict[str, str] = {}  # contacts: user id → name (user/simplelist)
        self.app = web.Application()
        for path, handler in [
            ("/cgi-bin/gettoken", self._gettoken),
            ("/cgi-bin/message/send", self._send),
            ("/cgi-bin/message/update_template_card", self._update_card),
            ("/cgi-bin/media/upload", self._upload),
            ("/cgi-bin/media/get", self._media_get),
            ("/cgi-bin/webhook/send", self._webhook),
            ("/cgi-bin/user/simplelist", self._simplelist),
        ]:
            self.app.router.add_route(
                "*", path, self._slowed(path.removeprefix("/cgi-bin/"), handler)
            )
        self.server = TestServer(self.app)

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> str:
        await self.server.start_server()
        return self.url

    async def close(self) -> None:
        await self.server.close()

    async def __aenter__(self) -> FakeWeCom:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    def client(self, media_dir: Any, **options: Any) -> Any:
        """Our WeCom API client pointed at this fake (close it when done)."""
        from bot.wecom.client import WeComClient

        return WeComClient(
            corp_id=self.corp_id,
            secret=self.secret,
            agent_id=self.agent_id,
            api_base=self.url,
            media_dir=media_dir,
            **options,
        )

    # --- failure injection ---------------------------------------------------------------------

    def fail(self, api: str, errcode: int, times: int = 1) -> None:
        """The next `times` calls of `api` (e.g. "message/send") answer `errcode`."""
        self._failures[api].extend([errcode] * times)

    def delay(self, api: str, seconds: float, times: int = 1) -> None:
        """The next `times` calls of `api` are processed but answered only after `seconds`
        (to provoke client timeouts)."""
        self._delays[api].extend([seconds] * times)

    def expire_tokens(self) -> None:
        """Every token issued so far is now expired (answers 42001)."""
        self.expired.update(self.tokens)

    def add_media(self, content: bytes, filename: str, content_type: str = "image/jpeg") -> str:
        """Make a media_id downloadable through media/get (as if a user sent a file)."""
        media_id = "M" + secrets.token_hex(12)
        self.media[media_id] = Media(content, filename, content_type)
        return media_id

    # --- queries -------------------------------------------------------------------------------

    @property
    def gettoken_calls(self) -> int:
        return sum(1 for c in self.calls if c.path == "gettoken")

    def calls_to(self, api: str) -> list[Call]:
        return [c for c in self.calls if c.path == api]

    def sent_to(self, user: str) -> list[dict[str, Any]]:
        return [m for m in self.sent if user in m.get("touser", "").split("|")]

    def sent_texts(self, user: str | None = None) -> list[str]:
        msgs = self.sent if user is None else self.sent_to(user)
        return [m["text"]["content"] for m in msgs if m.get("msgtype") == "text"]

    # --- plumbing ------------------------------------------------------------------------------

    async def _begin(self, request: web.Request, api: str) -> tuple[Call, web.Response | None]:
        raw = await request.read()
        body: Any = None
        if raw and request.content_type == "application/json":
            body = json.loads(raw.decode("utf-8"))
        call = Call(api, dict(request.query), raw, body)
        self.calls.append(call)
        if self._failures[api]:
            return call, self._error(self._failures[api].popleft())
        return call, None

    def _slowed(self, api: str, handler: Any) -> Any:
        """The call is processed at once; only the answer is late (as when WeCom is slow)."""

        async def wrapped(request: web.Request) -> web.StreamResponse:
            response = await handler(request)
            if self._delays[api]:
                await asyncio.sleep(self._delays[api].popleft())
            return response

        return wrapped

    @staticmethod
    def _error(code: int, msg: str = "injected") -> web.Response:
        return web.json_response({"errcode": code, "errmsg": msg})

    def _token_error(self, call: Call) -> web.Response | None:
        token = call.query.get("access_token")
        if not token:
            return self._error(41001, "access_token missing")
        if token in self.expired:
            return self._error(42001, "access_token expired")
        if token not in self.tokens:
            return self._error(40014, "invalid access_token")
        return None

    # --- endpoints -----------------------------------------------------------------------------

    async def _gettoken(self, request: web.Request) -> web.Response:
        call, failed = await self._begin(request, "gettoken")
        if failed:
            return failed
        if self.gettoken_error:
            return self._error(self.gettoken_error, "injected gettoken error")
        if call.query.get("corpid") != self.corp_id:
            return self._error(40013, "invalid corpid")
        if call.query.get("corpsecret") != self.secret:
            return self._error(40001, "invalid credential")
        token = "T" + secrets.token_hex(16)
        self.tokens.append(token)
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": self.token_ttl}
        )

    async def _simplelist(self, request: web.Request) -> web.Response:
        call, failed = await self._begin(request, "user/simplelist")
        if failed:
            return failed
        if (err := self._token_error(call)) is not None:
            return err
        users = [{"userid": u, "name": n, "department": [1]} for u, n in self.directory.items()]
        return web.json_response({"errcode": 0, "errmsg": "ok", "userlist": users})

    async def _send(self, request: web.Request) -> web.Response:
        call, failed = await self._begin(request, "message/send")
        if failed:
            return failed
        if (err := self._token_error(call)) is not None:
            return err
        body = call.json
        if b"\\u" in call.raw:
            return self._error(40033, "invalid charset. please check your request")
        if not isinstance(body, dict) or body.get("agentid") != self.agent_id:
            return self._error(40056, "invalid agentid")
        msgtype = body.get("msgtype")
        if msgtype in ("text", "markdown"):
            content = body.get(msgtype, {}).get("content", "")
            if not content:
                return self._error(44004, "empty content")
            if len(content.encode("utf-8")) > 2048:
                return self._error(45002, "content size out of limit")
        if body.get("enable_duplicate_check"):
            key = call.raw.decode("utf-8")
            interval = float(body.get("duplicate_check_interval", 1800))
            if time.monotonic() - self._recent.get(key, -1e9) < interval:
                self.duplicates.append(body)
                return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": "dup"})
            self._recent[key] = time.monotonic()
        self.sent.append(body)
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok", "msgid": secrets.token_hex(8)}
        if msgtype == "template_card":
            answer["response_code"] = "RC" + secrets.token_hex(8)
        return web.json_response(answer)

    async def _update_card(self, request: web.Request) -> web.Response:
        call, failed = await self._begin(request, "message/update_template_card")
        if failed:
            return failed
        if (err := self._token_error(call)) is not None:
            return err
        self.card_updates.append(call.json)
        return web.json_response({"errcode": 0, "errmsg": "ok", "invaliduser": []})

    async def _upload(self, request: web.Request) -> web.Response:
        call, failed = await self._begin(request, "media/upload")
        if failed:
            return failed
        if (err := self._token_error(call)) is not None:
            return err
        # A minimal multipart parse of the body already read (one part, field "media").
        boundary = request.headers.get("Content-Type", "").partition("boundary=")[2]
        if not boundary:
            return self._error(41005, "media data missing")
        part = call.raw.split(f"--{boundary}".encode())[1]
        head, _, content = part.partition(b"\r\n\r\n")
        content = content[: -len(b"\r\n")]
        disposition = head.decode("utf-8")
        if 'name="media"' not in disposition:
            return self._error(41005, "media data missing")
        filename = disposition.split('filename="', 1)[1].split('"', 1)[0]
        if len(content) <= 5:
            return self._error(40005, "invalid file size")
        media_id = "U" + secrets.token_hex(12)
        self.uploads[media_id] = Media(content, filename)
        return web.json_response(
            {
                "errcode": 0,
                "errmsg": "ok",
                "type": call.query.get("type", "file"),
                "media_id": media_id,
                "created_at": str(int(time.time())),
            }
        )

    async def _media_get(self, request: web.Request) -> web.Response:
        call, failed = await self._begin(request, "media/get")
        if failed:
            return failed
        if (err := self._token_error(call)) is not None:
            return err
        media = self.media.get(call.query.get("media_id", ""))
        if media is None:
            return self._error(40007, "invalid media_id")
        return web.Response(
            body=media.content,
            headers={
                "Content-Type": media.content_type,
                "Content-Disposition": f'attachment; filename="{media.filename}"',
            },
        )

    async def _webhook(self, request: web.Request) -> web.Response:
        call, failed = await self._begin(request, "webhook/send")
        if failed:
            return failed
        if call.query.get("key") != self.webhook_key:
            return self._error(93000, "invalid webhook url")
        if b"\\u" in call.raw:
            return self._error(40033, "invalid charset")
        body = call.json or {}
        markdown = body.get("markdown", {}).get("content", "")
        if body.get("msgtype") == "markdown" and len(markdown.encode("utf-8")) > 4096:
            return self._error(40058, "markdown.content exceed max length 4096")
        self.webhook_sent.append(body)
        return web.json_response({"errcode": 0, "errmsg": "ok"})


# --- the callback peer ---------------------------------------------------------------------------


@dataclass
class PeerReply:
    """What our server answered: HTTP status, body, and the decrypted passive reply (if any)."""

    status: int
    body: str
    plaintext: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return self.status == 200 and self.body == ""

    @property
    def content(self) -> str | None:
        return self.fields.get("Content")


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


class WeComPeer:
    """Plays WeCom posting to our callback; crypto by wechatpy (an independent implementation)."""

    def __init__(
        self,
        token: str = TOKEN,
        aes_key: str = AES_KEY,
        corp_id: str = CORP_ID,
        agent_id: int = AGENT_ID,
        path: str = "/wecom/callback",
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`clock` gives the messages' CreateTime (epoch seconds): a test that moves time moves
        the moment its messages are sent with it."""
        from wechatpy.enterprise.crypto import WeChatCrypto

        self.token = token
        self.aes_key = aes_key
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.path = path
        self.clock = clock
        self.crypto = WeChatCrypto(token, aes_key, corp_id)

    # --- building ------------------------------------------------------------------------------

    def message_xml(
        self, user: str, msg_type: str, fields: dict[str, str], *, create_time: int | None = None
    ) -> str:
        """Plaintext message XML in WeCom's shape (strings in CDATA, numbers bare)."""
        parts = [
            f"<ToUserName>{_cdata(self.corp_id)}</ToUserName>",
            f"<FromUserName>{_cdata(user)}</FromUserName>",
            f"<CreateTime>{create_time or int(self.clock())}</CreateTime>",
            f"<MsgType>{_cdata(msg_type)}</MsgType>",
        ]
        for name, value in fields.items():
            if value.startswith("<"):  # pre-built nested XML
                parts.append(f"<{name}>{value}</{name}>")
            else:
                parts.append(f"<{name}>{_cdata(value)}</{name}>")
        parts.append(f"<AgentID>{self.agent_id}</AgentID>")
        return "<xml>" + "".join(parts) + "</xml>"

    def encrypt(self, plaintext: str, *, timestamp: str, nonce: str) -> tuple[str, str]:
        """(Encrypt, msg_signature) for `plaintext`, by wechatpy."""
        root = ET.fromstring(self.crypto.encrypt_message(plaintext, nonce, timestamp))
        return root.findtext("Encrypt") or "", root.findtext("MsgSignature") or ""

    def envelope(self, encrypt: str, *, to_user: str | None = None) -> str:
        return (
            f"<xml><ToUserName>{_cdata(to_user or self.corp_id)}</ToUserName>"
            f"<Encrypt>{_cdata(encrypt)}</Encrypt>"
            f"<AgentID>{_cdata(str(self.agent_id))}</AgentID></xml>"
        )

    def request(
        self, plaintext: str, *, timestamp: str | None = None, nonce: str | None = None
    ) -> tuple[str, str]:
        """(query string, body) of a POST delivering `plaintext`; reuse it to redeliver."""
        timestamp = timestamp or str(int(time.time()))
        nonce = nonce or str(secrets.randbelow(10**9))
        encrypt, signature = self.encrypt(plaintext, timestamp=timestamp, nonce=nonce)
        query = f"msg_signature={signature}&timestamp={timestamp}&nonce={nonce}"
        return query, self.envelope(encrypt)

    # --- talking to the server -----------------------------------------------------------------

    async def post_raw(self, client: TestClient, query: str, body: str | bytes) -> PeerReply:
        resp = await client.post(f"{self.path}?{query}", data=body)
        text = await resp.text()
        reply = PeerReply(resp.status, text)
        if resp.status == 200 and text:
            reply.plaintext = self.decrypt_reply(text)
            reply.fields = {c.tag: c.text or "" for c in ET.fromstring(reply.plaintext)}
        return reply

    def decrypt_reply(self, envelope: str) -> str:
        """Check the reply envelope's signature and decrypt it, by wechatpy."""
        root = ET.fromstring(envelope)
        return self.crypto.decrypt_message(
            envelope,
            root.findtext("MsgSignature"),
            root.findtext("TimeStamp"),
            root.findtext("Nonce"),
        )

    async def post(self, client: TestClient, plaintext: str, **kw: str) -> PeerReply:
        query, body = self.request(plaintext, **kw)
        return await self.post_raw(client, query, body)

    async def send_text(
        self,
        client: TestClient,
        *,
        user: str,
        content: str,
        msg_id: str | None = None,
        create_time: int | None = None,
    ) -> PeerReply:
        msg_id = msg_id or secrets.token_hex(8)
        fields = {"Content": content, "MsgId": msg_id}
        xml = self.message_xml(user, "text", fields, create_time=create_time)
        return await self.post(client, xml)

    async def send_media(
        self,
        client: TestClient,
        *,
        user: str,
        msg_type: str,
        media_id: str,
        msg_id: str | None = None,
        create_time: int | None = None,
        **extra: str,
    ) -> PeerReply:
        """image / voice / video / file / link message carrying `media_id` (or `extra` fields)."""
        fields = {"MediaId": media_id, **extra, "MsgId": msg_id or secrets.token_hex(8)}
        if not media_id:
            del fields["MediaId"]
        xml = self.message_xml(user, msg_type, fields, create_time=create_time)
        return await self.post(client, xml)

    async def send_event(
        self,
        client: TestClient,
        *,
        user: str,
        event: str,
        create_time: int | None = None,
        **extra: str,
    ) -> PeerReply:
        xml = self.message_xml(user, "event", {"Event": event, **extra}, create_time=create_time)
        return await self.post(client, xml)

    async def click(
        self,
        client: TestClient,
        *,
        user: str,
        task_id: str,
        key: str,
        response_code: str | None = None,
        card_type: str = "button_interaction",
        create_time: int | None = None,
    ) -> PeerReply:
        """A template-card button click (Event=template_card_event)."""
        return await self.send_event(
            client,
            user=user,
            event="template_card_event",
            create_time=create_time,
            EventKey=key,
            TaskId=task_id,
            CardType=card_type,
            ResponseCode=response_code or "RC" + secrets.token_hex(8),
        )

    async def verify_url(self, client: TestClient, echo: str = "1288432023552776189") -> PeerReply:
        """The console's URL check: GET with an encrypted echostr; the body must be `echo`."""
        timestamp, nonce = str(int(time.time())), str(secrets.randbelow(10**9))
        encrypt, signature = self.encrypt(echo, timestamp=timestamp, nonce=nonce)
        query = (
            f"msg_signature={signature}&timestamp={timestamp}&nonce={nonce}"
            f"&echostr={quote(encrypt, safe='')}"
        )
        resp = await client.get(f"{self.path}?{query}")
        return PeerReply(resp.status, await resp.text())
