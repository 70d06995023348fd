"""The 智能机器人 WebSocket: subscribe, heartbeat, requests matched to answers by req_id, pushes
handed to `on_push` (each in a task of its own, so a slow handler never stalls the socket).

One `run()` is one connection's life (bot/longconn/supervisor.py reconnects): it subscribes, pings
every `heartbeat` seconds and closes the socket after two pings in a row went unanswered (a
half-dead TCP connection would otherwise hang the read loop for minutes). A `disconnected_event`
means a newer connection of this bot subscribed elsewhere: this one stops and asks for a long
pause, since two connections of one bot would displace each other forever (PROTOCOL.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.longconn.sockets import closed_on
from bot.wecombot import frames
from bot.wecombot.frames import Frame, FrameError

log = logging.getLogger(__name__)

INVALID_CREDENTIALS = 853000


class NotConnected(ConnectionError):
    """No live, subscribed connection to send on."""


class RequestFailed(RuntimeError):
    def __init__(self, cmd: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"{cmd}: errcode {errcode} {errmsg}")
        self.cmd, self.errcode, self.errmsg = cmd, errcode, errmsg


class SubscribeRefused(RuntimeError):
    """Wrong bot id or secret: retrying soon cannot help."""


PushHandler = Callable[[Frame], Awaitable[None]]


class WeComBotConnection:
    name = "wecom bot"

    def __init__(
        self,
        *,
        url: str,
        bot_id: str,
        secret: str,
        on_push: PushHandler,
        heartbeat: float = 30.0,
        request_timeout: float = 5.0,
        displaced_pause: float = 300.0,
        refused_pause: float = 300.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.url, self.bot_id, self.secret = url, bot_id, secret
        self.on_push = on_push
        self.heartbeat, self.request_timeout = heartbeat, request_timeout
        self.displaced_pause, self.refused_pause = displaced_pause, refused_pause
        self._session = session
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._pending: dict[str, asyncio.Future[Frame]] = {}
        self._req_locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pause: float | None = None
        self.subscribed = asyncio.Event()
        self.displaced = 0  # disconnected_event frames seen
        self.subscribes = 0

    def pause_hint(self) -> float | None:
        pause, self._pause = self._pause, None
        return pause

    async def close(self) -> None:
        await self.drain()
        if self._session is not None:
            await self._session.close()

    async def drain(self, timeout: float = 30.0) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    # --- one connection ------------------------------------------------------------------------

    async def run(self, halt: asyncio.Event) -> None:
        async with self._http().ws_connect(
            self.url, autoping=True, heartbeat=None, max_msg_size=frames.MAX_FRAME
        ) as ws:
            self._ws = ws
            try:
                async with closed_on(halt, ws):
                    await self._serve(ws)
            finally:
                self.subscribed.clear()
                self._ws = None
                for future in self._pending.values():
                    if not future.done():
                        future.set_exception(NotConnected("connection closed"))
                self._pending.clear()
        log.info("wecom bot: connection closed (%s)", ws.close_code)

    async def _serve(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Read frames (answers included) while subscribing, then heartbeat until it ends."""
        reader = asyncio.ensure_future(self._read(ws))
        pinger: asyncio.Task[None] | None = None
        try:
            await self._subscribe()
            pinger = asyncio.ensure_future(self._ping(ws))
            await reader
        finally:
            for task in (pinger, reader):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task

    async def _subscribe(self) -> None:
        answer = await self._request(
            frames.SUBSCRIBE, {"bot_id": self.bot_id, "secret": self.secret}, connected=False
        )
        if answer.errcode == INVALID_CREDENTIALS:
            self._pause = self.refused_pause
            raise SubscribeRefused(f"WECOM_BOT_ID/WECOM_BOT_SECRET refused: {answer.errmsg}")
        if answer.errcode:
            raise RequestFailed(frames.SUBSCRIBE, answer.errcode, answer.errmsg)
        self.subscribes += 1
        self.subscribed.set()
        log.info("wecom bot: subscribed as %s", self.bot_id)

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        missed = 0
        while not ws.closed:
            await asyncio.sleep(self.heartbeat)
            try:
                await self._request(frames.PING, None, connected=False)
                missed = 0
            except (TimeoutError, RequestFailed):
                missed += 1
                log.warning("wecom bot: heartbeat %d unanswered", missed)
                if missed >= 2:
                    log.error("wecom bot: two heartbeats unanswered; closing the connection")
                    await ws.close()
                    return
            except NotConnected:
                return

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                frame = frames.decode(message.data)
            except FrameError as exc:
                log.warning("wecom bot: unreadable frame ignored: %s", exc)
                continue
            if frame.is_answer or (not frame.cmd and frame.req_id in self._pending):
                future = self._pending.pop(frame.req_id, None)
                if future is not None and not future.done():
                    future.set_result(frame)
                continue
            if frame.cmd == frames.EVENT_CALLBACK and _event_type(frame) == "disconnected_event":
                self.displaced += 1
                self._pause = self.displaced_pause
                log.error(
                    "wecom bot: a newer connection of this bot took over (another deployment "
                    "with the same WECOM_BOT_ID?); this one closes and waits %.0f s",
                    self.displaced_pause,
                )
                await ws.close()
                return
            if frame.cmd in (frames.MSG_CALLBACK, frames.EVENT_CALLBACK):
                task = asyncio.ensure_future(self._push(frame))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                log.info("wecom bot: frame %r ignored", frame.cmd)

    async def _push(self, frame: Frame) -> None:
        try:
            await self.on_push(frame)
        except Exception:
            log.exception("wecom bot: handling %s %s failed", frame.cmd, frame.req_id)

    # --- requests ------------------------------------------------------------------------------

    async def _request(
        self,
        cmd: str,
        body: dict[str, Any] | None,
        *,
        req_id: str | None = None,
        connected: bool = True,
    ) -> Frame:
        ws = self._ws
        if ws is None or ws.closed or (connected and not self.subscribed.is_set()):
            raise NotConnected("the wecom bot connection is not up")
        req_id = req_id or frames.new_req_id(cmd)
        lock = self._req_locks.setdefault(req_id, asyncio.Lock())
        try:
            async with lock:  # answers carry only the req_id: one request per req_id at a time
                future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
                self._pending[req_id] = future
                try:
                    await ws.send_str(frames.encode(cmd, req_id, body))
                    return await asyncio.wait_for(future, self.request_timeout)
                except ConnectionResetError as exc:
                    raise NotConnected(str(exc)) from exc
                finally:
                    self._pending.pop(req_id, None)
        finally:
            if not lock.locked() and self._req_locks.get(req_id) is lock:
                del self._req_locks[req_id]

    async def request(self, cmd: str, body: dict[str, Any], *, req_id: str | None = None) -> Frame:
        """Send a command and wait for its answer; RequestFailed on a non-zero errcode."""
        answer = await self._request(cmd, body, req_id=req_id)
        if answer.errcode:
            raise RequestFailed(cmd, answer.errcode, answer.errmsg)
        return answer


def _event_type(frame: Frame) -> str:
    event = frame.body.get("event")
    return str(event.get("eventtype") or "") if isinstance(event, dict) else ""
