"""Sliding-window pacing per recipient, because WeCom silently drops what exceeds its limits.

An app may send one member ≤30 messages/min and ≤1000/hour; a group robot takes ≤20/min
(PROTOCOL.md §3.3, §4). Excess is dropped without an error, so we wait instead. The clock and the
sleep function are injected so tests never really wait.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

MEMBER_WINDOWS: tuple[tuple[int, float], ...] = ((30, 60.0), (1000, 3600.0))
ROBOT_WINDOWS: tuple[tuple[int, float], ...] = ((20, 60.0),)


class Pacer:
    """`await pacer.acquire(key)` returns when one more send to `key` stays within every window."""

    def __init__(
        self,
        windows: Sequence[tuple[int, float]] = MEMBER_WINDOWS,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if not windows or any(n < 1 or span <= 0 for n, span in windows):
            raise ValueError("windows must be (count ≥ 1, seconds > 0) pairs")
        self.windows = tuple(windows)
        self._longest = max(span for _, span in self.windows)
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = defaultdict(deque)
        self._locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def _wait_needed(self, sent: deque[float], now: float) -> float:
        while sent and sent[0] <= now - self._longest:
            sent.popleft()
        wait = 0.0
        for count, span in self.windows:
            in_window = [t for t in sent if t > now - span]
            if len(in_window) >= count:
                wait = max(wait, in_window[-count] + span - now)
        return wait

    async def acquire(self, key: str) -> float:
        """Reserve a slot for `key`; returns how long it waited (0 when within limits)."""
        waited = 0.0
        async with self._locks[key]:
            sent = self._sent[key]
            while (wait := self._wait_needed(sent, self._clock())) > 0:
                waited += wait
                await self._sleep(wait)
            sent.append(self._clock())
        return waited
