"""The encrypted WeCom callback: `GET /wecom/callback` (URL check) and `POST` (messages, events).

This module only speaks HTTP and WeCom's crypto:
1. refuse anything forged or broken with a 4xx *before* touching the database (size, query, time
   window, envelope XML, corp/agent id, signature, decryption, plaintext XML, implausible times);
2. hand the message to the inbound pipeline (bot/inbound.py), which records it under its unique
   key (only then is it acknowledged), handles it once and stores the reply;
3. answer in-line (encrypted, passive) when the reply is ready within the budget (~3 s from
   arrival, below WeCom's 5 s retry) and fits a passive reply; otherwise an empty 200, and the
   pipeline sends the reply through the outbox (`message/send`).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import unquote

from aiohttp import web

from bot.inbound import InboundPipeline
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
from handlers.types import InboundMessage, Reply, TextReply, UpdateButtonReply

log = logging.getLogger(__name__)

CHANNEL = "wecom"  # the pipeline's name for this channel (inbound rows, outbox payloads)


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
    """The body, refused past `limit` bytes before more is read than that."""
    if request.content_length is not None:  # WeCom's requests: the declared length is the body's
        if request.content_length > limit:
            raise Refused(413, f"body of {request.content_length} bytes exceeds {limit}")
        if limit <= request.client_max_size:  # (read() would refuse past that on its own terms)
            return await request.read()
    data = bytearray()
    async for chunk in request.content.iter_chunked(16 * 1024):
        data += chunk
        if len(data) > limit:
            raise Refused(413, f"body exceeds {limit} bytes")
    return bytes(data)


# --- the callback --------------------------------------------------------------------------------


class WeComCallback:
    """Request handlers for one self-built app; mount with `add_routes(app)`. Everything after
    verification and decryption is the channel-agnostic inbound pipeline (bot/inbound.py)."""

    def __init__(
        self,
        config: CallbackConfig,
        pipeline: InboundPipeline,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.crypto = WeComCrypto(config.token, config.encoding_aes_key, config.corp_id)
        self.pipeline = pipeline
        self.clock = clock  # wall time, for the freshness of signed requests
        self.stats: Counter[str] = Counter()

    def parse(self, plaintext: str) -> InboundMessage:
        """A recorded message read again (the pipeline's recovery)."""
        return parse_message(plaintext, corp_id=self.config.corp_id)

    def add_routes(self, app: web.Application, path: str = "/wecom/callback") -> None:
        app.router.add_get(path, self.handle_get)
        app.router.add_post(path, self.handle_post)

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
            msg = self.parse(plaintext)
        except XmlError as exc:
            raise Refused(400, f"message: {exc}") from None
        return msg, plaintext

    async def handle_post(self, request: web.Request) -> web.Response:
        started = time.monotonic()  # the budget counts from arrival, not from recording
        try:
            params = raw_query(request)
            body = await read_limited(request, self.config.max_body)
            msg, plaintext = self._verify_post(params, body)
        except Refused as exc:
            return self._refuse(request, exc)
        try:
            accepted = await self.pipeline.accept(
                msg,
                plaintext,
                channel=CHANNEL,
                budget=self.config.reply_budget,
                can_inline=lambda reply: fits_passive(msg, reply),
                started=started,
            )
        except Exception:
            # Not recorded, so not acknowledged: a non-200 makes WeCom deliver it again.
            log.exception("wecom callback: could not record %s", msg.key)
            self.stats["record_failed"] += 1
            return web.Response(status=503, text="try again")
        self.stats["duplicate" if accepted.repeat else "accepted"] += 1
        return self._passive(msg, accepted.reply)

    def _passive(self, msg: InboundMessage, reply: Reply | None) -> web.Response:
        if reply is None or not fits_passive(msg, reply):
            return web.Response(status=200)
        now = int(self.clock())
        if isinstance(reply, TextReply):
            plain = text_reply_xml(msg.sender, self.config.corp_id, now, reply.text)
        elif isinstance(reply, UpdateButtonReply):
            plain = update_button_xml(msg.sender, self.config.corp_id, now, reply.replace_name)
        else:  # pragma: no cover - fits_passive guards this
            return web.Response(status=200)
        timestamp, nonce = str(now), str(secrets.randbelow(10**10))
        encrypt, signature = self.crypto.encrypt_envelope(plain, timestamp, nonce)
        self.stats["passive"] += 1
        return web.Response(
            text=envelope_xml(encrypt, signature, timestamp, nonce), content_type="application/xml"
        )


def fits_passive(msg: InboundMessage, reply: Reply) -> bool:
    """WeCom takes text (within its limit) and card-button updates as a passive reply."""
    if isinstance(reply, TextReply):
        return 0 < utf8_len(reply.text) <= TEXT_LIMIT and bool(reply.text.strip())
    if isinstance(reply, UpdateButtonReply):
        return msg.event in ("template_card_event", "template_card_menu_event")
    return False
