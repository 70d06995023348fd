"""Media of the 智能机器人: each picture or file URL (valid 5 minutes) serves AES-256-CBC
ciphertext under a key of its own (`aeskey`, base64 of 32 bytes) sent with the message; the IV is
the key's first 16 bytes and the padding PKCS#7 to a multiple of 32 bytes (PROTOCOL.md; the
official Node SDK's crypto.ts). Downloaded at once, decrypted, and kept in the media store."""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import replace
from pathlib import Path

import aiohttp
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.media_store import store_bytes
from bot.wecom.client import StoredMedia
from handlers.types import InboundMessage

log = logging.getLogger(__name__)

MAX_MEDIA_BYTES = 20 * 1024 * 1024  # WeCom's file limit
PAD_BLOCK = 32
EXTENSIONS = {"image": ".jpg", "video": ".mp4", "file": ""}


class MediaError(ValueError):
    """The media could not be fetched or does not decrypt with its key."""


def media_key(aeskey: str) -> bytes:
    try:
        key = base64.b64decode(aeskey + "=" * (-len(aeskey) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise MediaError("aeskey is not base64") from None
    if len(key) != 32:
        raise MediaError(f"aeskey decodes to {len(key)} bytes, not 32")
    return key


def decrypt_media(data: bytes, aeskey: str) -> bytes:
    key = media_key(aeskey)
    if not data or len(data) % 16:
        raise MediaError("ciphertext is not a whole number of AES blocks")
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= PAD_BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
        raise MediaError("bad padding: wrong key or damaged file")
    return plain[:-pad]


_FILENAME = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.IGNORECASE)


def _name_of(resp: aiohttp.ClientResponse, msg: InboundMessage) -> str:
    if msg.file_name:
        return msg.file_name
    disposition = resp.headers.get("Content-Disposition", "")
    found = _FILENAME.search(disposition)
    if found:
        from urllib.parse import unquote

        return unquote(found.group(1))
    return f"{msg.msg_id or 'media'}{EXTENSIONS.get(msg.msg_type, '')}"


class MediaFetcher:
    """`await fetcher(msg)` → the message with `attachment` (a media-store ref) or, when the media
    could not be kept, `attachment_error` — the handler then tells the user to send it again."""

    def __init__(self, media_dir: str | Path, session: aiohttp.ClientSession | None = None) -> None:
        self.media_dir = Path(media_dir)
        self._session = session

    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(self, msg: InboundMessage) -> StoredMedia:
        url, aeskey = msg.raw.get("url", ""), msg.raw.get("aeskey", "")
        if not url or not aeskey:
            raise MediaError("no media url or key")
        async with self.session().get(url) as resp:
            if resp.status != 200:
                raise MediaError(f"download answered HTTP {resp.status}")
            data = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > MAX_MEDIA_BYTES + PAD_BLOCK:
                    raise MediaError("file too large")
            name = _name_of(resp, msg)
        plain = decrypt_media(bytes(data), aeskey)
        stored = await store_bytes(
            self.media_dir, plain, name, resp.headers.get("Content-Type", "")
        )
        log.info("wecom bot: media of %s stored as %s (%d bytes)", msg.key, stored.ref, stored.size)
        return stored

    async def __call__(self, msg: InboundMessage) -> InboundMessage:
        if not msg.raw.get("url"):
            return msg
        try:
            stored = await self.fetch(msg)
        except (MediaError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("wecom bot: media of %s not kept: %s", msg.key, exc)
            return replace(msg, attachment_error=str(exc)[:200])
        return replace(msg, attachment=stored.ref, file_name=msg.file_name or stored.filename)
