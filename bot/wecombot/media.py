"""Media of the 智能机器人: each picture or file URL (valid 5 minutes) serves AES-256-CBC
ciphertext under a key of its own (`aeskey`, base64 of 32 bytes) sent with the message; the IV is
the key's first 16 bytes and the padding PKCS#7 to a multiple of 32 bytes (PROTOCOL.md; the
official Node SDK's crypto.ts). Downloaded at once, decrypted, and kept in the media store."""

from __future__ import annotations

import base64
import binascii
import logging
from pathlib import Path

import aiohttp

from bot.media_store import download_name, store_bytes
from bot.wecom import aes
from bot.wecom.client import StoredMedia
from bot.wecombot.frames import split_media_ref

log = logging.getLogger(__name__)

MAX_MEDIA_BYTES = 20 * 1024 * 1024  # WeCom's file limit
PAD_BLOCK = 32


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
    plain = aes.decrypt(key, key[:16], data)
    pad = plain[-1]
    if not 1 <= pad <= PAD_BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
        raise MediaError("bad padding: wrong key or damaged file")
    return plain[:-pad]


class MediaFetcher:
    """`await fetcher(media_ref)` → the decrypted file, kept in the media store (a `Port`'s
    fetch_media: the pipeline turns a failure into the message's `attachment_error`, and the
    handler then asks the user to send it again)."""

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

    async def __call__(self, ref: str) -> StoredMedia:
        url, aeskey = split_media_ref(ref)
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
            name = download_name(resp.headers)
        plain = decrypt_media(bytes(data), aeskey)
        stored = await store_bytes(
            self.media_dir, plain, name, resp.headers.get("Content-Type", "")
        )
        log.info("wecom bot: media stored as %s (%d bytes)", stored.ref, stored.size)
        return stored
