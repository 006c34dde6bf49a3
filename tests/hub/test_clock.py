"""The hub clock, the per-connection flood bucket, and the listen-address parser."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hub.clock import Clock, VirtualClock, WallClock
from hub.ratelimit import TokenBucket, Verdict
from hub.runner import parse_listen


def test_wall_clock_is_aware_utc_now() -> None:
    clock: Clock = WallClock()
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs((now - datetime.now(UTC)).total_seconds()) < 1
    assert clock.speed == 1.0


async def test_virtual_clock_runs_speed_times_faster_from_its_start() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    clock: Clock = VirtualClock(start, speed=600.0)
    assert clock.now() - start < timedelta(seconds=6)  # 10 ms of slack at 600×
    wall = time.monotonic()
    await clock.sleep(60.0)  # one hub minute = 0.1 s at 600×
    waited = time.monotonic() - wall
    assert 0.09 <= waited < 1.0
    assert clock.now() - start >= timedelta(seconds=60)
    assert clock.now().utcoffset() == timedelta(0)


def test_virtual_clock_refuses_naive_start_and_non_positive_speed() -> None:
    with pytest.raises(ValueError, match="aware"):
        VirtualClock(datetime(2026, 1, 1), 1.0)
    with pytest.raises(ValueError, match="positive"):
        VirtualClock(datetime(2026, 1, 1, tzinfo=UTC), 0)


async def test_wall_clock_sleep_is_real_seconds() -> None:
    wall = time.monotonic()
    await WallClock().sleep(0.05)
    assert time.monotonic() - wall >= 0.045
    await asyncio.sleep(0)


class FakeTime:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_bucket_lets_a_burst_through_then_limits_then_refills() -> None:
    now = FakeTime()
    bucket = TokenBucket(10, 5, now=now)
    assert [bucket.check() for _ in range(5)] == [Verdict.PASS] * 5
    assert bucket.check() is Verdict.LIMITED
    now.t += 0.5  # 5 tokens back at 10/s
    assert [bucket.check() for _ in range(5)] == [Verdict.PASS] * 5


def test_bucket_closes_a_client_that_keeps_flooding_but_forgives_one_that_slows() -> None:
    now = FakeTime()
    bucket = TokenBucket(10, 5, now=now)
    verdicts = [bucket.check() for _ in range(5 + 15)]
    assert verdicts.count(Verdict.LIMITED) == 15  # 3 × burst refused, still connected
    now.t += 2.0  # quiet for a while: the tally drains
    assert bucket.check() is Verdict.PASS
    flood = [bucket.check() for _ in range(100)]
    assert flood[-1] is Verdict.FLOOD


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("127.0.0.1:8765", ("127.0.0.1", 8765)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("localhost:80", ("localhost", 80)),
        ("[::1]:8765", ("::1", 8765)),
        (" [::]:1 ", ("::", 1)),
    ],
)
def test_parse_listen(text: str, expected: tuple[str, int]) -> None:
    assert parse_listen(text) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("8765", "host:port"),
        ("::1:8765", "brackets"),
        ("[::1]8765", r"\[ipv6\]:port"),
        (":8765", "host is missing"),
        ("host:http", "0-65535"),
        ("host:70000", "0-65535"),
    ],
)
def test_parse_listen_says_what_is_wrong(text: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_listen(text)
