"""The Stream connection, our own client on aiohttp (not the `dingtalk-stream` package: its
keepalive can hang on `ws.ping()` with recent `websockets`, leaving a dead socket that looks alive
and drops every message — NousResearch/hermes-agent#79031, HKUDS/nanobot#1769 — and it opens
connections with blocking `requests` calls).

One `run()` is one connection's life (bot/longconn/supervisor.py reconnects): ask the gateway for
an endpoint and a one-time ticket, open the WebSocket, answer SYSTEM `ping` with an ACK echoing
its data, leave on SYSTEM `disconnect` (DingTalk stops delivering to a connection it is about to
close: reconnect at once, with a new ticket), ACK EVENT frames, hand CALLBACK frames to
`on_callback` with an `ack` to call once the frame is durably recorded. A socket that hears
nothing for `idle_timeout` seconds (DingTalk pings every ~30 s) is taken for dead and closed;
aiohttp's WebSocket heartbeat catches a dead TCP peer too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote_plus

import aiohttp

from bot.dingtalk import frames
from bot.dingtalk.api import DingTalkApi
from bot.dingtalk.frames import Frame, FrameError
from bot.longconn.sockets import closed_on

log = logging.getLogger(__name__)

Ack = Callable[[], Awaitable[None]]
CallbackHandler = Callable[[Frame, Ack], Awaitable[None]]


class DingTalkStream:
    name = "dingtalk stream"

    def __init__(
        self,
        api: DingTalkApi,
        on_callback: CallbackHandler,
        *,
        topics: tuple[str, ...] = (frames.TOPIC_ROBOT, frames.TOPIC_CARD),
        idle_timeout: float = 90.0,
        heartbeat: float = 20.0,
    ) -> None:
        self.api, self.on_callback, self.topics = api, on_callback, topics
        self.idle_timeout, self.heartbeat = idle_timeout, heartbeat
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pause: float | None = None
        self.connected = asyncio.Event()
        self.connections = 0
        self.acks = 0

    def pause_hint(self) -> float | None:
        pause, self._pause = self._pause, None
        return pause

    async def drain(self, timeout: float = 30.0) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def run(self, halt: asyncio.Event) -> None:
        subscriptions = [{"type": "EVENT", "topic": "*"}] + [
            {"type": "CALLBACK", "topic": t} for t in self.topics
        ]
        endpoint, ticket = await self.api.open_connection(subscriptions)
        url = f"{endpoint}{'&' if '?' in endpoint else '?'}ticket={quote_plus(ticket)}"
        async with self.api.session().ws_connect(
            url, heartbeat=self.heartbeat, max_msg_size=frames.MAX_FRAME
        ) as ws:
            self._ws = ws
            self.connections += 1
            self.connected.set()
            log.info("dingtalk stream: connected")
            try:
                async with closed_on(halt, ws):
                    await self._read(ws)
            finally:
                self.connected.clear()
                self._ws = None
        log.info("dingtalk stream: connection closed (%s)", ws.close_code)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while True:
            started = time.monotonic()
            try:
                message = await ws.receive(timeout=self.idle_timeout)
            except TimeoutError:
                log.error(
                    "dingtalk stream: nothing heard for %.0f s; taking the connection for dead",
                    time.monotonic() - started,
                )
                return
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSED,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.ERROR,
            ):
                return
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            try:
                frame = frames.decode(message.data)
            except FrameError as exc:
                log.warning("dingtalk stream: unreadable frame ignored: %s", exc)
                continue
            if frame.type == "SYSTEM":
                if frame.topic == "ping":
                    await self._send(ws, frames.ack(frame, frame.data))
                elif frame.topic == "disconnect":
                    log.info("dingtalk stream: the gateway asks us to reconnect")
                    self._pause = 0.0
                    return
                else:
                    log.info("dingtalk stream: system frame %r", frame.topic)
            elif frame.type == "EVENT":
                await self._send(ws, frames.ack(frame, frames.EVENT_OK))
            elif frame.type == "CALLBACK":
                task = asyncio.ensure_future(self._callback(ws, frame))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            else:
                log.info("dingtalk stream: frame type %r ignored", frame.type)

    async def _send(self, ws: aiohttp.ClientWebSocketResponse, text: str) -> None:
        with contextlib.suppress(ConnectionResetError):
            await ws.send_str(text)

    async def _callback(self, ws: aiohttp.ClientWebSocketResponse, frame: Frame) -> None:
        acked = False

        async def ack() -> None:
            nonlocal acked
            if not acked and not ws.closed:
                await self._send(ws, frames.ack(frame, frames.CALLBACK_OK))
                self.acks += 1
            acked = True

        try:
            await self.on_callback(frame, ack)
        except Exception:
            log.exception("dingtalk stream: callback %s failed", frame.message_id)
