"""A WebSocket that closes itself when the supervisor halts (stop, or the lease was lost)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp


async def _close_when(halt: asyncio.Event, ws: aiohttp.ClientWebSocketResponse) -> None:
    await halt.wait()
    await ws.close()


@contextlib.asynccontextmanager
async def closed_on(
    halt: asyncio.Event, ws: aiohttp.ClientWebSocketResponse
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """Within the block `ws` is closed as soon as `halt` is set; on leaving it, always."""
    closer = asyncio.ensure_future(_close_when(halt, ws))
    try:
        yield ws
    finally:
        closer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closer
        if not ws.closed:
            await ws.close()
