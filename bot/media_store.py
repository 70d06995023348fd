"""The media store: attachments users send, kept under the media directory as
`YYYY/MM/<sha256[:16]>-<name>` (the same layout the WeCom app's media/get download uses), so a
submission can refer to a file by its relative `ref` long after the platform's URL expired."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

from bot.wecom.client import StoredMedia, safe_filename

_FILENAME = re.compile(r"filename\*?=(?:UTF-8'')?\"?([^\";]+)\"?", re.IGNORECASE)


def download_name(headers: Mapping[str, str]) -> str:
    """A downloaded file's name: from Content-Disposition, else by its content type."""
    found = _FILENAME.search(headers.get("Content-Disposition", ""))
    if found:
        return unquote(found.group(1))
    return "image.jpg" if headers.get("Content-Type", "").startswith("image/") else "file"


def _write(folder: Path, data: bytes, filename: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    sha = hashlib.sha256(data).hexdigest()
    final = folder / f"{sha[:16]}-{filename}"
    tmp = folder / f".{secrets.token_hex(8)}.part"
    try:
        tmp.write_bytes(data)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()
    return final


async def store_bytes(
    media_dir: str | Path, data: bytes, filename: str, content_type: str = ""
) -> StoredMedia:
    """Keep `data` in the store (written to a temporary file first, then renamed)."""
    root = Path(media_dir)
    name = safe_filename(filename, fallback="file")
    now = datetime.now(UTC)
    final = await asyncio.to_thread(_write, root / f"{now:%Y}" / f"{now:%m}", data, name)
    sha = hashlib.sha256(data).hexdigest()
    ref = final.relative_to(root).as_posix()
    return StoredMedia(ref, final, name, content_type or "application/octet-stream", len(data), sha)
