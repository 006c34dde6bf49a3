"""Flood control for one connection: a token bucket, plus a tally of what it refused.

The bucket lets ``burst`` frames through at once and ``rate`` a second after that. Frames it
refuses are answered with ``rate_limited``; the refusals themselves drain away at ``rate`` a
second, so a client that slows down is forgiven, while one that keeps flooding runs the tally
past ``3 × burst`` and is disconnected. Runs on the monotonic clock, never hub time: a demo
hub at 60× speed must not let clients send 60× as much.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum

FLOOD_FACTOR = 3
"""Refused frames (net of forgiveness) allowed, in multiples of the burst, before closing."""


class Verdict(Enum):
    PASS = "pass"  # handle the frame
    LIMITED = "limited"  # answer rate_limited, drop the frame
    FLOOD = "flood"  # close the connection


class TokenBucket:
    def __init__(
        self, rate: float, burst: int, *, now: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = float(burst)
        self._now = now
        self._tokens = float(burst)
        self._refused = 0.0
        self._last = now()

    def check(self) -> Verdict:
        """Count one incoming frame and say what to do with it."""
        t = self._now()
        elapsed = max(0.0, t - self._last)
        self._last = t
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        self._refused = max(0.0, self._refused - elapsed * self._rate)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return Verdict.PASS
        self._refused += 1.0
        if self._refused > FLOOD_FACTOR * self._burst:
            return Verdict.FLOOD
        return Verdict.LIMITED
