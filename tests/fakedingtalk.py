"""A fake DingTalk for tests (aiohttp): the Stream gateway and the HTTP APIs the channel uses.

- `POST /v1.0/gateway/connections/open` checks the client id/secret and hands out a one-time
  ticket; `GET /connect?ticket=…` is the WebSocket;
- on it the fake pushes CALLBACK frames (robot messages), SYSTEM `ping` (expects an ACK echoing
  the data) and SYSTEM `disconnect`; every frame is kept until ACKed and delivered again after
  `redeliver_after` seconds without an ACK (DingTalk's retry); `ack_delay` makes ACKs slow;
- `POST /v1.0/oauth2/accessToken`, `/v1.0/robot/oToMessages/batchSend`,
  `/v1.0/robot/messageFiles/download` (+ `GET /files/{name}`), `POST /media/upload`, and the
  session webhooks `POST /webhook/{id}`.
Faults: `drop()` (the socket closes with no word), `disconnect()` (SYSTEM disconnect first),
`push(..., twice=True)` (a duplicate frame), `webhook_status` (the session webhook fails),
`silent = True` (no pings, nothing).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import defaultdict
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

CLIENT_ID = "dingtest0001"
CLIENT_SECRET = "dd-secret-0123456789"
ROBOT_CODE = "dingtest0001"


class FakeDingTalk:
    def __init__(self, *, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> None:
        self.client_id, self.secret = client_id, secret
        self.tickets: set[str] = set()
        self.opened: list[dict[str, Any]] = []  # connections/open bodies
        self.sockets: list[web.WebSocketResponse] = []
        self.acks: defaultdict[str, list[dict[str, Any]]] = defaultdict(list)  # messageId -> ACKs
        self.unacked: dict[str, str] = {}  # messageId -> frame text
        self.delivered: defaultdict[str, int] = defaultdict(int)  # messageId -> times sent
        self.sent: list[dict[str, Any]] = []  # batchSend bodies
        self.webhook_posts: list[tuple[str, dict[str, Any]]] = []
        self.uploads: dict[str, bytes] = {}
        self.files: dict[str, bytes] = {}
        self.tokens: set[str] = set()
        self.redeliver_after = 1.0
        self.ack_delay = 0.0
        self.webhook_status = 200
        self.silent = False
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/v1.0/gateway/connections/open", self._open)
        app.router.add_get("/connect", self._ws)
        app.router.add_post("/v1.0/oauth2/accessToken", self._token)
        app.router.add_post("/v1.0/robot/oToMessages/batchSend", self._batch)
        app.router.add_post("/v1.0/robot/messageFiles/download", self._download)
        app.router.add_get("/files/{name}", self._file)
        app.router.add_post("/media/upload", self._upload)
        app.router.add_post("/webhook/{id}", self._webhook)
        self.server = TestServer(app)
        self._redeliver: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakeDingTalk:
        await self.server.start_server()
        self._redeliver = asyncio.ensure_future(self._redeliver_loop())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._redeliver is not None:
            self._redeliver.cancel()
        for ws in list(self.sockets):
            await ws.close()
        await self.server.close()

    @property
    def url(self) -> str:
        return str(self.server.make_url("")).rstrip("/")

    @property
    def live(self) -> list[web.WebSocketResponse]:
        return [ws for ws in self.sockets if not ws.closed]

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def wait(self, predicate: Any, timeout: float = 5.0) -> None:
        async def until() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(until(), timeout)

    # --- gateway -------------------------------------------------------------------------------

    async def _open(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("clientId") != self.client_id or body.get("clientSecret") != self.secret:
            return web.json_response(
                {"code": "InvalidAuthentication", "message": "bad credentials"}, status=401
            )
        self.opened.append(body)
        ticket = secrets.token_urlsafe(12) + "+/="
        self.tickets.add(ticket)
        return web.json_response(
            {"endpoint": str(self.server.make_url("/connect")), "ticket": ticket}
        )

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self.tickets:
            return web.Response(status=403, text="bad ticket")
        self.tickets.discard(ticket)  # one connection per ticket
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await self._notify()
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            mid = data.get("headers", {}).get("messageId", "")
            if self.ack_delay:  # the ACK is slow to reach the gateway
                await asyncio.sleep(self.ack_delay)
            self.acks[mid].append(data)
            self.unacked.pop(mid, None)
            await self._notify()
        return ws

    async def _redeliver_loop(self) -> None:
        sent_at: dict[str, float] = {}
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            for mid, text in list(self.unacked.items()):
                first = sent_at.setdefault(mid, now)
                if now - first >= self.redeliver_after and self.live and not self.silent:
                    sent_at[mid] = now
                    await self._send(text, mid)

    async def _send(self, text: str, mid: str) -> None:
        ws = self.live[-1]
        self.delivered[mid] += 1
        await ws.send_str(text)
        await self._notify()

    async def wait_live(self, timeout: float = 5.0) -> None:
        await self.wait(lambda: bool(self.live), timeout)

    def frame(
        self, kind: str, topic: str, data: dict[str, Any] | str, mid: str | None = None
    ) -> tuple[str, str]:
        mid = mid or secrets.token_hex(8)
        text = json.dumps(
            {
                "specVersion": "1.0",
                "type": kind,
                "headers": {
                    "appId": "app-1",
                    "connectionId": "c-1",
                    "contentType": "application/json",
                    "messageId": mid,
                    "time": str(int(time.time() * 1000)),
                    "topic": topic,
                },
                "data": data if isinstance(data, str) else json.dumps(data, ensure_ascii=False),
            },
            ensure_ascii=False,
        )
        return mid, text

    async def push(
        self, kind: str, topic: str, data: dict[str, Any] | str, *, twice: bool = False
    ) -> str:
        await self.wait_live()
        mid, text = self.frame(kind, topic, data)
        if kind != "SYSTEM":
            self.unacked[mid] = text
        await self._send(text, mid)
        if twice:
            await self._send(text, mid)
        return mid

    def robot_message(
        self, staff: str, msgtype: str, part: dict[str, Any], *, msg_id: str | None = None
    ) -> dict[str, Any]:
        hook = secrets.token_hex(6)
        data: dict[str, Any] = {
            "conversationId": "cid-" + staff,
            "chatbotCorpId": "ding-corp",
            "chatbotUserId": "bot-user",
            "msgId": msg_id or "msg" + secrets.token_hex(8),
            "senderNick": staff,
            "isAdmin": False,
            "senderStaffId": staff,
            "sessionWebhookExpiredTime": int(time.time() * 1000) + 5400_000,
            "createAt": int(time.time() * 1000) - 500,
            "senderCorpId": "ding-corp",
            "conversationType": "1",
            "senderId": "$:LWCP_v1:$" + secrets.token_hex(8),
            "sessionWebhook": str(self.server.make_url(f"/webhook/{hook}")),
            "robotCode": ROBOT_CODE,
            "msgtype": msgtype,
        }
        if msgtype == "text":
            data["text"] = part
        else:
            data["content"] = part
        return data

    async def push_text(
        self, staff: str, content: str, *, msg_id: str | None = None, twice: bool = False
    ) -> str:
        data = self.robot_message(staff, "text", {"content": content}, msg_id=msg_id)
        return await self.push("CALLBACK", "/v1.0/im/bot/messages/get", data, twice=twice)

    async def ping(self) -> str:
        return await self.push("SYSTEM", "ping", {"opaque": secrets.token_hex(4)})

    async def disconnect(self, close_after: float = 0.3) -> None:
        for ws in self.live:
            _, text = self.frame("SYSTEM", "disconnect", {"reason": "maintenance"})
            await ws.send_str(text)
            asyncio.get_running_loop().call_later(
                close_after, lambda ws=ws: asyncio.ensure_future(ws.close())
            )

    async def drop(self) -> None:
        for ws in list(self.live):
            await ws.close()

    def host_file(self, content: bytes) -> str:
        """A downloadCode the message-files API resolves to `content`."""
        code = "dc-" + secrets.token_hex(6)
        self.files[code] = content
        return code

    # --- HTTP APIs -----------------------------------------------------------------------------

    async def _token(self, request: web.Request) -> web.Response:
        body = await request.json()
        if body.get("appKey") != self.client_id or body.get("appSecret") != self.secret:
            return web.json_response({"code": "invalidClientIdOrSecret"}, status=400)
        token = "tok-" + secrets.token_hex(6)
        self.tokens.add(token)
        return web.json_response({"accessToken": token, "expireIn": 7200})

    def _authed(self, request: web.Request) -> bool:
        return request.headers.get("x-acs-dingtalk-access-token", "") in self.tokens

    async def _batch(self, request: web.Request) -> web.Response:
        if not self._authed(request):
            return web.json_response({"code": "InvalidAuthentication"}, status=401)
        body = await request.json()
        body["msgParam"] = json.loads(body["msgParam"])
        self.sent.append(body)
        await self._notify()
        return web.json_response(
            {
                "processQueryKey": secrets.token_hex(6),
                "invalidStaffIdList": [],
                "flowControlledStaffIdList": [],
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        if not self._authed(request):
            return web.json_response({"code": "InvalidAuthentication"}, status=401)
        body = await request.json()
        code = body.get("downloadCode", "")
        if code not in self.files or body.get("robotCode") != ROBOT_CODE:
            return web.json_response({"code": "invalidDownloadCode"}, status=400)
        return web.json_response({"downloadUrl": str(self.server.make_url(f"/files/{code}"))})

    async def _file(self, request: web.Request) -> web.Response:
        data = self.files.get(request.match_info["name"])
        return web.Response(status=404) if data is None else web.Response(body=data)

    async def _upload(self, request: web.Request) -> web.Response:
        if request.query.get("access_token", "") not in self.tokens:
            return web.json_response({"errcode": 40014, "errmsg": "invalid access_token"})
        form = await request.post()
        media = form["media"]
        media_id = "@media" + secrets.token_hex(6)
        self.uploads[media_id] = media.file.read()  # type: ignore[union-attr]
        return web.json_response(
            {"errcode": 0, "errmsg": "ok", "media_id": media_id, "type": form.get("type")}
        )

    async def _webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.webhook_status != 200:
            return web.Response(status=self.webhook_status, text="unavailable")
        self.webhook_posts.append((request.match_info["id"], body))
        await self._notify()
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    # --- reading what the bot did --------------------------------------------------------------

    def answered(self, data: dict[str, Any]) -> list[str]:
        """What was answered through this message's session webhook."""
        hook = data["sessionWebhook"].rsplit("/", 1)[-1]
        out = []
        for hid, body in self.webhook_posts:
            if hid == hook:
                out.append(
                    body["text"]["content"]
                    if body["msgtype"] == "text"
                    else body["markdown"]["text"]
                )
        return out

    def sent_to(self, staff: str) -> list[str]:
        out = []
        for body in self.sent:
            if staff in body["userIds"]:
                param = body["msgParam"]
                out.append(param.get("content") or param.get("text") or param.get("fileName") or "")
        return out
