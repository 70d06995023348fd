"""A fake WeCom 智能机器人 long-connection server (aiohttp), for tests.

It speaks the frames of PROTOCOL.md: answers `aibot_subscribe` (853000 for a wrong id/secret),
`ping`, `aibot_respond_msg` / `_welcome_msg` / `_update_msg`, `aibot_send_msg`, the three upload
commands; pushes messages and events; serves encrypted media over HTTP (AES-256-CBC, IV = key[:16],
PKCS#7 to 32 bytes — encrypted here with `openssl`-compatible parameters through `cryptography`).
Like WeCom, it keeps one connection per bot: a newer subscription gets a `disconnected_event`
pushed to the older one, which is closed `displace_close_after` seconds later. Injectable faults:
`drop()` (server closes the live socket), `mute_pings`, `answer_delay`, `fail(cmd, errcode)`,
`push(..., twice=True)` (a duplicate frame).

    async with FakeWeComBot() as fake:          # ws://127.0.0.1:<port>/ws
        ...; req_id = await fake.push_text("zhangsan", "我的得分")
        frames = await fake.replies(req_id)      # everything answered on that req_id
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BOT_ID = "aib-test-bot"
BOT_SECRET = "aib-test-secret"


def encrypt_media(plain: bytes, aeskey: str) -> bytes:
    key = base64.b64decode(aeskey)
    pad = 32 - len(plain) % 32
    data = plain + bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return enc.update(data) + enc.finalize()


def new_aeskey() -> str:
    return base64.b64encode(os.urandom(32)).decode()


@dataclass
class Conn:
    ws: web.WebSocketResponse
    subscribed: bool = False
    got: list[dict[str, Any]] = field(default_factory=list)
    pushed: dict[str, str] = field(default_factory=dict)  # req_id -> what was pushed on it


class FakeWeComBot:
    def __init__(self, *, bot_id: str = BOT_ID, secret: str = BOT_SECRET) -> None:
        self.bot_id, self.secret = bot_id, secret
        self.conns: list[Conn] = []
        self.frames: list[dict[str, Any]] = []  # every frame any client sent
        self.by_req: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)
        self.sent: list[dict[str, Any]] = []  # aibot_send_msg bodies delivered
        self.delivered: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)  # answers taken
        self.uploads: dict[str, bytes] = {}  # media_id -> file
        self.media: dict[str, tuple[bytes, str]] = {}  # path -> (ciphertext, filename)
        self.displaced: list[Conn] = []
        self.mute_pings = False
        self.answer_delay = 0.0
        self.displace_close_after = 0.2
        self._fail: dict[str, list[int]] = defaultdict(list)
        self._uploading: dict[str, list[bytes]] = {}
        self._changed = asyncio.Condition()
        self.app = web.Application()
        self.app.router.add_get("/ws", self._ws)
        self.app.router.add_get("/media/{name}", self._media)
        self.server = TestServer(self.app)

    async def __aenter__(self) -> FakeWeComBot:
        await self.server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        for conn in list(self.conns):
            await conn.ws.close()
        await self.server.close()

    @property
    def ws_url(self) -> str:
        return str(self.server.make_url("/ws"))

    @property
    def live(self) -> list[Conn]:
        return [c for c in self.conns if c.subscribed and not c.ws.closed]

    def fail(self, cmd: str, errcode: int, times: int = 1) -> None:
        self._fail[cmd].extend([errcode] * times)

    # --- serving -------------------------------------------------------------------------------

    async def _media(self, request: web.Request) -> web.Response:
        found = self.media.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404)
        data, filename = found
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if filename else {}
        return web.Response(body=data, headers=headers, content_type="application/octet-stream")

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = Conn(ws)
        self.conns.append(conn)
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            conn.got.append(frame)
            self.frames.append(frame)
            req_id = frame.get("headers", {}).get("req_id", "")
            self.by_req[req_id].append(frame)
            answer = await self._answer(conn, frame)
            if answer is None:
                continue
            if answer["errcode"] == 0 and frame.get("cmd", "").startswith("aibot_respond"):
                self.delivered[req_id].append(frame)
            if self.answer_delay:
                await asyncio.sleep(self.answer_delay)
            if not ws.closed:
                await ws.send_json({"headers": {"req_id": req_id}, **answer})
            async with self._changed:
                self._changed.notify_all()
        return ws

    async def _answer(self, conn: Conn, frame: dict[str, Any]) -> dict[str, Any] | None:
        cmd = frame.get("cmd", "")
        body = frame.get("body") or {}
        if cmd == "ping":
            return None if self.mute_pings else {"errcode": 0, "errmsg": "ok"}
        if self._fail.get(cmd):
            code = self._fail[cmd].pop(0)
            return {"errcode": code, "errmsg": "injected"}
        if cmd == "aibot_subscribe":
            if body.get("bot_id") != self.bot_id or body.get("secret") != self.secret:
                return {"errcode": 853000, "errmsg": "invalid bot_id or secret"}
            for old in self.live:
                self.displaced.append(old)
                await old.ws.send_json(self._event_frame("disconnected_event", "sys"))
                asyncio.get_running_loop().call_later(
                    self.displace_close_after, lambda ws=old.ws: asyncio.ensure_future(ws.close())
                )
                old.subscribed = False
            conn.subscribed = True
            return {"errcode": 0, "errmsg": "ok"}
        if not conn.subscribed:
            return {"errcode": 40001, "errmsg": "not subscribed"}
        if cmd == "aibot_send_msg":
            self.sent.append(body)
            return {"errcode": 0, "errmsg": "ok"}
        if cmd == "aibot_upload_media_init":
            upload_id = "up-" + secrets.token_hex(4)
            self._uploading[upload_id] = []
            return {"errcode": 0, "errmsg": "ok", "body": {"upload_id": upload_id}}
        if cmd == "aibot_upload_media_chunk":
            self._uploading[body["upload_id"]].append(base64.b64decode(body["base64_data"]))
            return {"errcode": 0, "errmsg": "ok"}
        if cmd == "aibot_upload_media_finish":
            media_id = "media-" + secrets.token_hex(4)
            self.uploads[media_id] = b"".join(self._uploading.pop(body["upload_id"]))
            return {"errcode": 0, "errmsg": "ok", "body": {"media_id": media_id}}
        req_id = frame.get("headers", {}).get("req_id", "")
        pushed = conn.pushed.get(req_id)
        allowed = {
            "message": {"aibot_respond_msg"},
            "enter_chat": {"aibot_respond_welcome_msg"},
            "template_card_event": {"aibot_respond_update_msg"},
        }.get(pushed or "", set())
        if cmd not in allowed:  # a req_id of another (dead) connection, or the wrong answer kind
            return {"errcode": 846605, "errmsg": "invalid req_id"}
        return {"errcode": 0, "errmsg": "ok"}

    # --- pushing -------------------------------------------------------------------------------

    def _event_frame(self, kind: str, user: str, **detail: Any) -> dict[str, Any]:
        event: dict[str, Any] = {"eventtype": kind}
        if detail:
            event[kind] = detail
        return {
            "cmd": "aibot_event_callback",
            "headers": {"req_id": "evt-" + secrets.token_hex(6)},
            "body": {
                "msgid": "ev-" + secrets.token_hex(8),
                "create_time": int(time.time()),
                "aibotid": self.bot_id,
                "from": {"userid": user},
                "msgtype": "event",
                "event": event,
            },
        }

    async def wait_live(self, timeout: float = 5.0) -> Conn:
        deadline = time.monotonic() + timeout
        while not self.live:
            if time.monotonic() > deadline:
                raise TimeoutError("no subscribed connection")
            await asyncio.sleep(0.01)
        return self.live[-1]

    async def push(self, frame: dict[str, Any], *, twice: bool = False) -> str:
        conn = await self.wait_live()
        body = frame["body"]
        kind = body["event"]["eventtype"] if body.get("msgtype") == "event" else "message"
        conn.pushed[frame["headers"]["req_id"]] = kind
        await conn.ws.send_json(frame)
        if twice:
            await conn.ws.send_json(frame)
        return str(frame["headers"]["req_id"])

    def message(
        self, user: str, msgtype: str, part: dict[str, Any], *, msgid: str | None = None
    ) -> dict[str, Any]:
        return {
            "cmd": "aibot_msg_callback",
            "headers": {"req_id": "req-" + secrets.token_hex(6)},
            "body": {
                "msgid": msgid or "msg-" + secrets.token_hex(8),
                "aibotid": self.bot_id,
                "chattype": "single",
                "from": {"userid": user},
                "create_time": int(time.time()),
                "response_url": "https://example.invalid/aibot/response",
                "msgtype": msgtype,
                msgtype: part,
            },
        }

    async def push_text(
        self, user: str, content: str, *, msgid: str | None = None, twice: bool = False
    ) -> str:
        return await self.push(
            self.message(user, "text", {"content": content}, msgid=msgid), twice=twice
        )

    async def push_event(self, user: str, kind: str, **detail: Any) -> str:
        return await self.push(self._event_frame(kind, user, **detail))

    def host_media(self, plain: bytes, filename: str = "") -> dict[str, str]:
        """Encrypt `plain` under a fresh key and serve it: {"url", "aeskey"} for a push."""
        aeskey = new_aeskey()
        name = secrets.token_hex(6)
        self.media[name] = (encrypt_media(plain, aeskey), filename)
        return {"url": str(self.server.make_url(f"/media/{name}")), "aeskey": aeskey}

    async def drop(self) -> None:
        """The server closes every live connection (a network cut, a server restart)."""
        for conn in list(self.live):
            await conn.ws.close()

    # --- reading what the bot did --------------------------------------------------------------

    async def wait(self, predicate: Any, timeout: float = 5.0) -> None:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(until(), timeout)

    def answers(self, req_id: str) -> list[dict[str, Any]]:
        """The in-line answers WeCom took on `req_id` (refused ones are not shown to users)."""
        return list(self.delivered.get(req_id, []))

    def final_text(self, req_id: str) -> str | None:
        """The content of the finished stream (or welcome text) answered on `req_id`."""
        for f in reversed(self.answers(req_id)):
            body = f.get("body", {})
            if body.get("msgtype") == "stream" and body["stream"].get("finish"):
                return str(body["stream"].get("content", ""))
            if f["cmd"] == "aibot_respond_welcome_msg":
                return str(body["text"]["content"])
        return None

    async def reply_to(self, req_id: str, timeout: float = 10.0) -> str:
        await self.wait(lambda: self.final_text(req_id) is not None, timeout)
        return self.final_text(req_id) or ""

    def sent_to(self, user: str) -> list[str]:
        out = []
        for body in self.sent:
            if body.get("chatid") != user:
                continue
            if body.get("msgtype") == "markdown":
                out.append(body["markdown"]["content"])
            elif body.get("msgtype") == "template_card":
                out.append(body["template_card"]["main_title"]["title"])
            elif body.get("msgtype") == "file":
                out.append(f"file:{body['file']['media_id']}")
        return out
