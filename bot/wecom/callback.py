"""The encrypted WeCom callback: `GET /wecom/callback` (URL check) and `POST` (messages, events).

Order of work for a POST, and why:
1. refuse anything forged or broken with a 4xx *before* touching the database (size, query, time
   window, envelope XML, corp/agent id, signature, decryption, plaintext XML);
2. record the delivery under its unique key — only then may it be acknowledged; a repeat delivery
   gets the stored reply and is never handled again;
3. run the handler; if it answers within the budget (~3 s, below WeCom's 5 s retry) and the answer
   fits a passive reply, answer in-line (encrypted); otherwise answer an empty 200 at once and send
   the reply through `message/send` when it is ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import unquote

from aiohttp import web

from bot.wecom.chunks import TEXT_LIMIT, utf8_len
from bot.wecom.crypto import SIGNATURE_INVALID, WeComCrypto, WeComCryptoError
from bot.wecom.messages import (
    XmlError,
    envelope_xml,
    parse_envelope,
    parse_message,
    text_reply_xml,
    update_button_xml,
)
from handlers.channel import Channel, deliver
from handlers.types import (
    CardReply,
    FileReply,
    Handler,
    InboundMessage,
    MarkdownReply,
    Reply,
    TextReply,
    UpdateButtonReply,
)
from storage.inbound import (
    claim_unanswered,
    record_inbound,
    release_claims,
    renew_claim,
    store_reply,
)

log = logging.getLogger(__name__)

MEDIA_TYPES = frozenset({"image", "voice", "video", "file"})
UNREADABLE = '{"mode": "unreadable"}'  # stored for a recorded message that no longer parses
RECOVERY_STOP_GRACE = 10.0  # seconds a recovery sweep in progress may take to finish at shutdown


class _Stored(Protocol):
    ref: str


MediaFetcher = Callable[[str], Awaitable[_Stored]]


@dataclass(frozen=True)
class CallbackConfig:
    """Callback identity (token, key, corp id) and the knobs tests and operators may turn."""

    token: str
    encoding_aes_key: str
    corp_id: str
    agent_id: int | None = None
    reply_budget: float = 3.0  # seconds before falling back to message/send
    timestamp_window: float = 600.0  # seconds a request's timestamp may differ from our clock
    max_body: int = 64 * 1024  # bytes; real callbacks are a few KB
    # A recorded message with no stored reply after this long was lost with its process: handle it
    # again and answer actively (checked every `recover_every` seconds, looking back `recover_window`).
    recover_after: float = 120.0
    recover_every: float = 60.0
    recover_window: float = 24 * 3600.0
    # a recovery claim older than this belongs to a sweep that died or was cut off: claimed again
    recover_claim_timeout: float = 600.0


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def raw_query(request: web.Request) -> dict[str, str]:
    """Query parameters decoded once with `unquote` (not `unquote_plus`): a literal '+' in echostr
    or a signature stays '+', which `request.query` would turn into a space (PROTOCOL.md §1.2)."""
    params: dict[str, str] = {}
    for part in request.rel_url.raw_query_string.split("&"):
        if part:
            name, _, value = part.partition("=")
            params.setdefault(unquote(name), unquote(value))
    return params


async def read_limited(request: web.Request, limit: int) -> bytes:
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, f"body of {request.content_length} bytes exceeds {limit}")
    data = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        data += chunk
        if len(data) > limit:
            raise Refused(413, f"body exceeds {limit} bytes")
    return bytes(data)


# --- stored replies (what a repeat delivery gets back) -------------------------------------------


def reply_to_json(reply: Reply | None, mode: str) -> str:
    """`mode`: passive (sent in-line: a repeat gets it again), active (sent via message/send),
    none (nothing to say) or error (the handler failed)."""
    data: dict[str, Any] = {"mode": mode}
    if isinstance(reply, TextReply):
        data.update(type="text", text=reply.text)
    elif isinstance(reply, MarkdownReply):
        data.update(type="markdown", markdown=reply.markdown)
    elif isinstance(reply, UpdateButtonReply):
        data.update(type="update_button", replace_name=reply.replace_name)
    elif isinstance(reply, FileReply):
        data.update(type="file", path=reply.path, text=reply.text)
    elif isinstance(reply, CardReply):
        data.update(type="card", title=reply.card.title, task_id=reply.card.task_id)
    return json.dumps(data, ensure_ascii=False)


def _passive_reply(stored: str | None) -> Reply | None:
    if not stored:
        return None
    try:
        data = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("mode") != "passive":
        return None
    if data.get("type") == "text":
        return TextReply(str(data.get("text", "")))
    if data.get("type") == "update_button":
        return UpdateButtonReply(str(data.get("replace_name", "")))
    return None


# --- the callback --------------------------------------------------------------------------------


class WeComCallback:
    """Request handlers for one self-built app; mount with `add_routes(app)`."""

    def __init__(
        self,
        config: CallbackConfig,
        db: Any,
        handler: Handler,
        *,
        channel: Channel | None = None,
        fetch_media: MediaFetcher | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.crypto = WeComCrypto(config.token, config.encoding_aes_key, config.corp_id)
        self.db = db
        self.handler = handler
        self.channel = channel
        self.fetch_media = fetch_media
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = asyncio.Event()

    def add_routes(self, app: web.Application, path: str = "/wecom/callback") -> None:
        app.router.add_get(path, self.handle_get)
        app.router.add_post(path, self.handle_post)
        app.on_startup.append(self._start_recovery)
        app.on_cleanup.append(self._stop_recovery)
        app.on_cleanup.append(lambda _app: self.drain())

    async def _start_recovery(self, _app: web.Application) -> None:
        self._recovery = asyncio.ensure_future(self._recovery_loop())

    async def _stop_recovery(self, _app: web.Application) -> None:
        """Let a sweep in progress finish (its database work and replies), then stop; cancel it
        only if it takes longer than `RECOVERY_STOP_GRACE` seconds."""
        self._stopping.set()
        task = getattr(self, "_recovery", None)
        if task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, RECOVERY_STOP_GRACE)

    async def _recovery_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.recover()
            except Exception:
                log.exception("wecom callback: recovery sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.config.recover_every)

    async def recover(self) -> int:
        """Handle again every recorded message whose process died before a reply was stored, and
        send the reply actively. Returns how many were handled."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        claimant = secrets.token_hex(8)
        rows = await claim_unanswered(
            self.db,
            claimant=claimant,
            older_than=now - timedelta(seconds=self.config.recover_after),
            newer_than=now - timedelta(seconds=self.config.recover_window),
            abandoned_before=now - timedelta(seconds=self.config.recover_claim_timeout),
        )
        handled = 0
        for i, row in enumerate(rows):
            if self._stopping.is_set():  # give the rest back for the next start
                await release_claims(self.db, [r.key for r in rows[i:]], claimant)
                break
            if not await renew_claim(self.db, row.key, claimant):
                continue  # answered meanwhile, or taken over by another sweep
            try:
                msg = parse_message(row.content, corp_id=self.config.corp_id)
            except XmlError:
                log.error("wecom callback: recorded message %s no longer parses", row.key)
                await store_reply(self.db, row.key, UNREADABLE)
                continue
            log.warning("wecom callback: recovering %s (no reply was stored)", row.key)
            self.stats["recovered"] += 1
            handled += 1
            reply = await self._process(msg)
            await self._store(msg, reply, "active" if reply is not None else "none")
            if reply is not None:
                await self._send(msg, reply)
        return handled

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for replies still being produced or sent in the background."""
        while self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            if pending:
                log.warning("wecom callback: %d background replies still running", len(pending))
                return

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _refuse(self, request: web.Request, exc: Refused) -> web.Response:
        self.stats["refused"] += 1
        log.warning(
            "wecom callback refused %s %s from %s: %s",
            request.method,
            exc.status,
            request.remote,
            exc.reason,
        )
        return web.Response(status=exc.status, text="refused")

    def _check_common(self, params: dict[str, str], *names: str) -> None:
        missing = [n for n in names if not params.get(n)]
        if missing:
            raise Refused(400, f"missing query parameter(s) {', '.join(missing)}")
        try:
            ts = int(params["timestamp"])
        except ValueError:
            raise Refused(400, "timestamp is not a number") from None
        skew = abs(self.clock() - ts)
        if skew > self.config.timestamp_window:
            raise Refused(400, f"timestamp {int(skew)} s away from now")

    def _decrypt(self, params: dict[str, str], encrypted: str) -> str:
        try:
            return self.crypto.verify_and_decrypt(
                params["msg_signature"], params["timestamp"], params["nonce"], encrypted
            )
        except WeComCryptoError as exc:
            status = 403 if exc.code == SIGNATURE_INVALID else 400
            raise Refused(status, f"crypto {exc.code}: {exc.reason}") from None

    # --- GET: URL verification -----------------------------------------------------------------

    async def handle_get(self, request: web.Request) -> web.Response:
        try:
            params = raw_query(request)
            self._check_common(params, "msg_signature", "timestamp", "nonce", "echostr")
            plain = self._decrypt(params, params["echostr"])
        except Refused as exc:
            return self._refuse(request, exc)
        log.info("wecom callback: URL verified")
        return web.Response(body=plain.encode("utf-8"), content_type="text/plain")

    # --- POST: messages and events -------------------------------------------------------------

    def _verify_post(self, params: dict[str, str], body: bytes) -> tuple[InboundMessage, str]:
        self._check_common(params, "msg_signature", "timestamp", "nonce")
        try:
            envelope = parse_envelope(body)
        except XmlError as exc:
            raise Refused(400, f"envelope: {exc}") from None
        if envelope.to_user and envelope.to_user != self.config.corp_id:
            raise Refused(400, "envelope addressed to another corp id")
        if (
            self.config.agent_id is not None
            and envelope.agent_id
            and envelope.agent_id != str(self.config.agent_id)
        ):
            raise Refused(400, "envelope for another agent id")
        plaintext = self._decrypt(params, envelope.encrypt)
        try:
            msg = parse_message(plaintext, corp_id=self.config.corp_id)
        except XmlError as exc:
            raise Refused(400, f"message: {exc}") from None
        return msg, plaintext

    async def handle_post(self, request: web.Request) -> web.Response:
        try:
            params = raw_query(request)
            body = await read_limited(request, self.config.max_body)
            msg, plaintext = self._verify_post(params, body)
        except Refused as exc:
            return self._refuse(request, exc)

        try:
            record = await record_inbound(
                self.db,
                key=msg.key,
                sender=msg.sender,
                msg_type=msg.msg_type,
                received_at=datetime.now(UTC),
                content=plaintext,
            )
        except Exception:
            # Not recorded, so not acknowledged: a non-200 makes WeCom deliver it again.
            log.exception("wecom callback: could not record %s", msg.key)
            self.stats["record_failed"] += 1
            return web.Response(status=503, text="try again")

        if not record.new:
            self.stats["duplicate"] += 1
            log.info("wecom callback: repeat delivery of %s", msg.key)
            return self._passive(msg, _passive_reply(record.reply))

        self.stats["accepted"] += 1
        task = self._spawn(self._process(msg))
        try:
            done, _ = await asyncio.wait({task}, timeout=self.config.reply_budget)
        except asyncio.CancelledError:  # the connection went away: still answer, later
            self._spawn(self._deliver_late(msg, task))
            raise
        if not done:
            self.stats["late"] += 1
            log.info(
                "wecom callback: %s over the %.1fs budget, replying later",
                msg.key,
                self.config.reply_budget,
            )
            self._spawn(self._deliver_late(msg, task))
            return web.Response(status=200)
        reply = task.result()
        if reply is None:
            await self._store(msg, None, "none")
            return web.Response(status=200)
        if self._fits_passive(msg, reply):
            await self._store(msg, reply, "passive")
            return self._passive(msg, reply)
        await self._store(msg, reply, "active")
        self._spawn(self._send(msg, reply))
        return web.Response(status=200)

    # --- processing and delivery ---------------------------------------------------------------

    async def _process(self, msg: InboundMessage) -> Reply | None:
        if self.fetch_media is not None and msg.media_id and msg.msg_type in MEDIA_TYPES:
            try:
                stored = await self.fetch_media(msg.media_id)
                msg = replace(msg, attachment=stored.ref)
            except Exception as exc:
                log.warning("wecom callback: media of %s not downloaded: %s", msg.key, exc)
                msg = replace(msg, attachment_error=str(exc)[:200])
        try:
            return await self.handler(msg)
        except Exception:
            log.exception("wecom callback: handler failed for %s", msg.key)
            self.stats["handler_failed"] += 1
            return None

    @staticmethod
    def _fits_passive(msg: InboundMessage, reply: Reply) -> bool:
        if isinstance(reply, TextReply):
            return 0 < utf8_len(reply.text) <= TEXT_LIMIT and bool(reply.text.strip())
        if isinstance(reply, UpdateButtonReply):
            return msg.event in ("template_card_event", "template_card_menu_event")
        return False

    def _passive(self, msg: InboundMessage, reply: Reply | None) -> web.Response:
        if reply is None:
            return web.Response(status=200)
        now = int(self.clock())
        if isinstance(reply, TextReply):
            plain = text_reply_xml(msg.sender, self.config.corp_id, now, reply.text)
        elif isinstance(reply, UpdateButtonReply):
            plain = update_button_xml(msg.sender, self.config.corp_id, now, reply.replace_name)
        else:  # pragma: no cover - _fits_passive guards this
            return web.Response(status=200)
        timestamp, nonce = str(now), str(secrets.randbelow(10**10))
        encrypt, signature = self.crypto.encrypt_envelope(plain, timestamp, nonce)
        self.stats["passive"] += 1
        return web.Response(
            text=envelope_xml(encrypt, signature, timestamp, nonce), content_type="application/xml"
        )

    async def _store(self, msg: InboundMessage, reply: Reply | None, mode: str) -> None:
        try:
            await store_reply(self.db, msg.key, reply_to_json(reply, mode))
        except Exception:
            log.exception("wecom callback: could not store the reply for %s", msg.key)

    async def _deliver_late(self, msg: InboundMessage, task: asyncio.Task[Reply | None]) -> None:
        reply = await task
        await self._store(msg, reply, "active" if reply is not None else "none")
        if reply is not None:
            await self._send(msg, reply)

    async def _send(self, msg: InboundMessage, reply: Reply) -> None:
        if self.channel is None:
            log.error("wecom callback: no active channel configured; reply to %s dropped", msg.key)
            return
        try:
            await deliver(self.channel, msg.sender, reply, response_code=msg.response_code)
            self.stats["active"] += 1
        except Exception:
            log.exception("wecom callback: sending the reply to %s failed", msg.key)
            self.stats["send_failed"] += 1
