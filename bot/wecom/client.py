"""The active side of WeCom: access token, message/send, media, card updates and the group robot.

Why it looks the way it does (PROTOCOL.md §3–§5):
- one cached token per app, refreshed ahead of expiry, fetched single-flight; a 40014/42001 answer
  invalidates only the token that failed (compare-and-invalidate) and the call is retried once;
- 40001/40013/60020/48002 are configuration errors: reported clearly, remembered for a cool-down, never
  retried in a loop (wrong secrets repeated can get the server IP banned);
- -1/45009/45033 and network errors back off and retry (sends carry `enable_duplicate_check`, so a
  retried send is not delivered twice);
- JSON goes out as raw UTF-8 (`ensure_ascii=False`): `\\u` escapes are refused (40033) or shown literally;
- sends are paced per member and per robot, because WeCom drops excess silently.
Secrets and tokens never appear in logs or exception messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot import metrics
from bot.wecom.chunks import ROBOT_MARKDOWN_LIMIT, TEXT_LIMIT, split_utf8
from bot.wecom.pacing import MEMBER_WINDOWS, ROBOT_WINDOWS, Clock, Pacer, Sleep

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
TOKEN_INVALID = frozenset({40014, 42001})
RETRYABLE = frozenset({-1, 45009, 45033})
CONFIG_ERRORS: Mapping[int, str] = {
    40001: "invalid secret: check WECOM_SECRET",
    40013: "invalid corp id: check WECOM_CORP_ID",
    60020: "this server's IP is not in the app's 企业可信IP list",
    48002: "this API is not permitted for the app",
}
TRANSPORT_ERROR = -2  # our own code for network errors and timeouts after all retries
MAX_MEDIA_BYTES = 32 * 1024 * 1024


class WeComAPIError(Exception):
    """WeCom answered with a non-zero errcode (or could not be reached)."""

    def __init__(self, api: str, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeCom {api}: errcode {errcode}: {errmsg}")
        self.api = api
        self.errcode = errcode
        self.errmsg = errmsg


class WeComConfigError(WeComAPIError):
    """The app is misconfigured (secret, corp id, trusted IP, permissions): retrying cannot help."""


def dumps(body: Any) -> bytes:
    """UTF-8 JSON with no \\u escapes (WeCom rejects or mis-displays them)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class StoredMedia:
    """A downloaded attachment: `ref` is the path relative to the media directory (what to keep)."""

    ref: str
    path: Path
    filename: str
    content_type: str
    size: int
    sha256: str


_UNSAFE = re.compile(r"[^\w.\-()（）\[\] ]+")


def safe_filename(name: str, fallback: str = "file") -> str:
    """A bare file name that cannot escape its directory or upset a file system."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name.encode("utf-8")) > 120:
        stem, dot, ext = name.rpartition(".")
        ext = ext[:16] if dot else ""
        stem = (stem if dot else name).encode("utf-8")[:100].decode("utf-8", "ignore")
        name = f"{stem}.{ext}" if ext else stem
    return name or fallback


class _Api:
    """Shared request loop: JSON in, JSON out, retries with backoff, clean error reporting."""

    def __init__(
        self,
        *,
        api_base: str,
        session: aiohttp.ClientSession | None,
        clock: Clock,
        sleep: Sleep,
        max_retries: int,
        backoff: float,
        timeout: float,
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self._session = session
        self._own_session = session is None
        self._clock = clock
        self._sleep = sleep
        self.max_retries = max_retries
        self.backoff = backoff
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
            self._own_session = True
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()

    async def __aenter__(self) -> _Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _once(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        data: bytes | None,
        headers: Mapping[str, str] | None,
        read: Callable[[aiohttp.ClientResponse], Awaitable[dict[str, Any]]] | None,
    ) -> dict[str, Any]:
        async with self.session.request(
            method,
            self.api_base + path,
            params=params,
            data=data,
            headers=headers,
            timeout=self.timeout,
        ) as resp:
            if read is not None:
                return await read(resp)
            if resp.status >= 500:
                return {"errcode": -1, "errmsg": f"HTTP {resp.status}"}
            try:
                result = await resp.json(content_type=None)
            except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
                return {"errcode": TRANSPORT_ERROR, "errmsg": f"HTTP {resp.status}, not JSON"}
            if not isinstance(result, dict):
                return {"errcode": TRANSPORT_ERROR, "errmsg": "JSON answer is not an object"}
            return result

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        read: Callable[[aiohttp.ClientResponse], Awaitable[dict[str, Any]]] | None = None,
        token: Callable[[], Awaitable[str]] | None = None,
        on_bad_token: Callable[[str], None] | None = None,
    ) -> dict[str, Any]:
        """One API call with the retry rules; returns the JSON answer (errcode 0)."""
        if body is not None:
            data = dumps(body)
            headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        api = path.rsplit("/cgi-bin/", 1)[-1]
        attempt = 0
        token_retried = False
        while True:
            query = dict(params or {})
            used = ""
            if token is not None:
                used = await token()
                query["access_token"] = used
            try:
                result = await self._once(method, path, query, data, headers, read)
            except (aiohttp.ClientError, TimeoutError) as exc:
                result = {"errcode": TRANSPORT_ERROR, "errmsg": type(exc).__name__}
            code = result.get("errcode", 0)
            try:
                code = int(code)
            except (TypeError, ValueError):
                code = TRANSPORT_ERROR
            if code == 0:
                return result
            metrics.WECOM_API_ERRORS.labels(api=api, errcode=str(code)).inc()
            errmsg = str(result.get("errmsg", ""))[:200]
            if code in TOKEN_INVALID and token is not None and not token_retried:
                log.info("wecom %s: token rejected (%s), refreshing once", api, code)
                token_retried = True
                if on_bad_token is not None:
                    on_bad_token(used)
                continue
            if code in CONFIG_ERRORS:
                raise WeComConfigError(api, code, f"{CONFIG_ERRORS[code]} ({errmsg})")
            if (code in RETRYABLE or code == TRANSPORT_ERROR) and attempt < self.max_retries:
                delay = self.backoff * (2**attempt)
                attempt += 1
                log.warning(
                    "wecom %s: errcode %s (%s), retry %d/%d in %.1fs",
                    api,
                    code,
                    errmsg,
                    attempt,
                    self.max_retries,
                    delay,
                )
                await self._sleep(delay)
                continue
            raise WeComAPIError(api, code, errmsg)


class WeComClient(_Api):
    """Async client for one self-built app (corp id + secret + agent id)."""

    def __init__(
        self,
        *,
        corp_id: str,
        secret: str,
        agent_id: int,
        api_base: str = DEFAULT_API_BASE,
        media_dir: str | Path = "media",
        session: aiohttp.ClientSession | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        pacer: Pacer | None = None,
        max_retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 10.0,
        refresh_margin: float = 300.0,
        config_error_cooldown: float = 300.0,
        duplicate_check_interval: int = 120,
    ) -> None:
        super().__init__(
            api_base=api_base,
            session=session,
            clock=clock,
            sleep=sleep,
            max_retries=max_retries,
            backoff=backoff,
            timeout=timeout,
        )
        self.corp_id = corp_id
        self._secret = secret
        self.agent_id = int(agent_id)
        self.media_dir = Path(media_dir)
        self.pacer = pacer or Pacer(MEMBER_WINDOWS, clock=clock, sleep=sleep)
        self.refresh_margin = refresh_margin
        self.config_error_cooldown = config_error_cooldown
        self.duplicate_check_interval = duplicate_check_interval
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()
        self._config_error: WeComConfigError | None = None
        self._config_error_until = 0.0

    def __repr__(self) -> str:  # never show the secret
        return f"WeComClient(corp_id={self.corp_id!r}, agent_id={self.agent_id})"

    # --- token ---------------------------------------------------------------------------------

    def _cached_token(self) -> str | None:
        if self._token and self._clock() < self._token_expires:
            return self._token
        return None

    def _raise_if_misconfigured(self) -> None:
        if self._config_error is not None and self._clock() < self._config_error_until:
            raise self._config_error

    async def get_token(self) -> str:
        """The cached access token, fetched (single-flight) when missing or close to expiry."""
        if (token := self._cached_token()) is not None:
            return token
        self._raise_if_misconfigured()
        async with self._token_lock:
            if (token := self._cached_token()) is not None:
                return token
            self._raise_if_misconfigured()
            try:
                result = await self._request(
                    "GET",
                    "/cgi-bin/gettoken",
                    params={"corpid": self.corp_id, "corpsecret": self._secret},
                )
            except WeComConfigError as exc:
                log.error("wecom gettoken: configuration error %s: %s", exc.errcode, exc.errmsg)
                self._config_error = exc
                self._config_error_until = self._clock() + self.config_error_cooldown
                raise
            token = str(result.get("access_token") or "")
            if not token:
                raise WeComAPIError("gettoken", TRANSPORT_ERROR, "answer without access_token")
            expires_in = float(result.get("expires_in") or 7200)
            self._token = token
            self._token_expires = self._clock() + max(
                expires_in - self.refresh_margin, expires_in / 2
            )
            log.info("wecom gettoken: new token, valid %ds", int(expires_in))
            return token

    def invalidate_token(self, token: str) -> None:
        """Drop the cached token only if it is still the one that failed (compare-and-invalidate)."""
        if token and self._token == token:
            self._token = None
            self._token_expires = 0.0

    async def call(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        """Any authenticated API call (`path` like '/cgi-bin/message/send')."""
        return await self._request(
            method, path, token=self.get_token, on_bad_token=self.invalidate_token, **kw
        )

    # --- message/send --------------------------------------------------------------------------

    async def send(
        self,
        touser: str | Sequence[str],
        msgtype: str,
        payload: Mapping[str, Any],
        *,
        duplicate_check: bool = True,
    ) -> dict[str, Any]:
        """One `message/send` (paced per member). Returns WeCom's answer (msgid, response_code…)."""
        users = [touser] if isinstance(touser, str) else list(touser)
        for user in users:
            if user != "@all":
                await self.pacer.acquire(user)
        body: dict[str, Any] = {
            "touser": "|".join(users),
            "msgtype": msgtype,
            "agentid": self.agent_id,
            msgtype: dict(payload),
        }
        if duplicate_check:
            body["enable_duplicate_check"] = 1
            body["duplicate_check_interval"] = self.duplicate_check_interval
        try:
            result = await self.call("POST", "/cgi-bin/message/send", body=body)
        except WeComAPIError as exc:
            log.warning("wecom send %s failed: errcode %s", msgtype, exc.errcode,
                        extra={"context": {"to": body["touser"]}})  # fmt: skip
            raise
        metrics.WECOM_SENDS.labels(msgtype=msgtype).inc()
        log.info("wecom send %s msgid=%s", msgtype, result.get("msgid", ""),
                 extra={"context": {"to": body["touser"]}})  # fmt: skip
        if result.get("invaliduser"):
            log.warning("wecom message/send: invalid users %s", result["invaliduser"])
        return result

    async def send_text(self, touser: str | Sequence[str], text: str) -> list[dict[str, Any]]:
        """Text, split on UTF-8 boundaries into ≤2048-byte messages."""
        return [await self.send(touser, "text", {"content": c}) for c in split_utf8(text)]

    async def send_markdown(
        self, touser: str | Sequence[str], markdown: str
    ) -> list[dict[str, Any]]:
        return [
            await self.send(touser, "markdown", {"content": c})
            for c in split_utf8(markdown, TEXT_LIMIT)
        ]

    async def send_file(
        self, touser: str | Sequence[str], path: str | Path, *, filename: str | None = None
    ) -> dict[str, Any]:
        media_id = await self.upload_media(path, "file", filename=filename)
        return await self.send(touser, "file", {"media_id": media_id})

    async def send_template_card(
        self, touser: str | Sequence[str], card: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Send a template card; the answer's `response_code` allows one later update."""
        return await self.send(touser, "template_card", card)

    async def update_template_card(
        self,
        response_code: str,
        *,
        userids: Sequence[str] = (),
        replace_name: str | None = None,
        template_card: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Grey out the buttons (`replace_name`) or replace the card; each code works once."""
        if (replace_name is None) == (template_card is None):
            raise ValueError("give exactly one of replace_name and template_card")
        body: dict[str, Any] = {
            "userids": list(userids),
            "agentid": self.agent_id,
            "response_code": response_code,
        }
        if replace_name is not None:
            body["button"] = {"replace_name": replace_name}
        else:
            body["template_card"] = dict(template_card or {})
        return await self.call("POST", "/cgi-bin/message/update_template_card", body=body)

    # --- media ---------------------------------------------------------------------------------

    async def upload_media(
        self, path: str | Path, media_type: str = "file", *, filename: str | None = None
    ) -> str:
        """Upload a temporary media file (valid three days); returns its media_id."""
        path = Path(path)
        content = await asyncio.to_thread(path.read_bytes)
        name = (filename or path.name).replace('"', "'").replace("\r", "").replace("\n", "")
        boundary = "kaohe" + secrets.token_hex(12)
        head = (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="media"; filename="{name}"; '
            f"filelength={len(content)}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        data = head + content + f"\r\n--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        result = await self.call(
            "POST", "/cgi-bin/media/upload", params={"type": media_type}, data=data, headers=headers
        )
        media_id = str(result.get("media_id") or "")
        if not media_id:
            raise WeComAPIError("media/upload", TRANSPORT_ERROR, "answer without media_id")
        return media_id

    async def download_media(self, media_id: str) -> StoredMedia:
        """Download a media file and keep it under `media_dir` (media ids expire after 3 days)."""
        stored: list[StoredMedia] = []

        async def read(resp: aiohttp.ClientResponse) -> dict[str, Any]:
            ctype = resp.headers.get("Content-Type", "")
            if "json" in ctype or "text/plain" in ctype or resp.status != 200:
                try:
                    result = await resp.json(content_type=None)
                except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
                    result = None
                if isinstance(result, dict) and result.get("errcode"):
                    return result
                if resp.status >= 500:
                    return {"errcode": -1, "errmsg": f"HTTP {resp.status}"}
                if resp.status != 200:
                    return {"errcode": TRANSPORT_ERROR, "errmsg": f"HTTP {resp.status}"}
            stored.append(await self._store(resp, media_id))
            return {"errcode": 0}

        await self.call("GET", "/cgi-bin/media/get", params={"media_id": media_id}, read=read)
        return stored[-1]

    async def _store(self, resp: aiohttp.ClientResponse, media_id: str) -> StoredMedia:
        disposition = resp.content_disposition
        filename = safe_filename(
            (disposition.filename if disposition else None) or "", fallback=safe_filename(media_id)
        )
        now = datetime.now(UTC)
        folder = self.media_dir / f"{now:%Y}" / f"{now:%m}"
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        tmp = folder / f".{secrets.token_hex(8)}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            with tmp.open("wb") as fh:
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > MAX_MEDIA_BYTES:
                        raise WeComAPIError("media/get", 830002, "file too large")
                    digest.update(chunk)
                    fh.write(chunk)
            sha = digest.hexdigest()
            final = folder / f"{sha[:16]}-{filename}"
            os.replace(tmp, final)
        finally:
            if tmp.exists():
                tmp.unlink()
        ref = final.relative_to(self.media_dir).as_posix()
        ctype = resp.headers.get("Content-Type", "application/octet-stream")
        log.info("wecom media/get: stored %s (%d bytes)", ref, size)
        return StoredMedia(ref, final, filename, ctype, size, sha)


class WebhookClient(_Api):
    """The group robot (消息推送): push-only, the key is its only credential, ≤20 messages/min."""

    def __init__(
        self,
        key: str,
        *,
        api_base: str = DEFAULT_API_BASE,
        session: aiohttp.ClientSession | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        pacer: Pacer | None = None,
        max_retries: int = 3,
        backoff: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(
            api_base=api_base,
            session=session,
            clock=clock,
            sleep=sleep,
            max_retries=max_retries,
            backoff=backoff,
            timeout=timeout,
        )
        self._key = key
        self.pacer = pacer or Pacer(ROBOT_WINDOWS, clock=clock, sleep=sleep)

    def __repr__(self) -> str:  # never show the key
        return "WebhookClient(key=***)"

    async def send(self, msgtype: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        await self.pacer.acquire("robot")
        return await self._request(
            "POST",
            "/cgi-bin/webhook/send",
            params={"key": self._key},
            body={"msgtype": msgtype, msgtype: dict(payload)},
        )

    async def send_markdown(self, markdown: str) -> list[dict[str, Any]]:
        """Markdown, split into ≤4096-byte messages."""
        return [
            await self.send("markdown", {"content": c})
            for c in split_utf8(markdown, ROBOT_MARKDOWN_LIMIT)
        ]

    async def send_text(
        self, text: str, *, mentioned_list: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        payloads = [{"content": c} for c in split_utf8(text, TEXT_LIMIT)]
        if payloads and mentioned_list:
            payloads[0]["mentioned_list"] = list(mentioned_list)  # type: ignore[assignment]
        return [await self.send("text", p) for p in payloads]
