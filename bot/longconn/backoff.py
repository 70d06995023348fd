"""Reconnect delays: exponential with full jitter, so that many instances (or one instance after a
network blip) do not all knock at the same second."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """`next()` → the next pause in seconds: a random value in [base·2ⁿ/2, base·2ⁿ], capped at
    `cap`; `reset()` after a connection that stayed up."""

    def __init__(
        self,
        base: float = 1.0,
        cap: float = 30.0,
        *,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if base <= 0 or cap < base:
            raise ValueError("need 0 < base <= cap")
        self.base, self.cap, self.rand = base, cap, rand
        self.attempt = 0

    def next(self) -> float:
        ceiling = min(self.cap, self.base * 2**self.attempt)
        self.attempt = min(self.attempt + 1, 30)
        return ceiling / 2 + self.rand() * ceiling / 2

    def reset(self) -> None:
        self.attempt = 0
