"""What one SLA ticker wake-up costs with many open cases: the deadline queue vs a full scan.

The hub's ticker wakes at least once a second (and at every deadline) to ask "what falls due
next, and what is due now". The baseline is the bare way to answer that, a scan of every open
case with the same pure ``dispatch.sla`` functions, measured in the same run on the same cases.

    python -m bench.ticker [--cases 100000]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec

from dispatch import sla
from dispatch.models import Basis, Case, Deadline, Kind, Source, Status, Step, Urgency
from hub.deadlines import DeadlineQueue

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPEATS = 20


def _cases(n: int, rng: random.Random) -> list[Case]:
    out = []
    for i in range(n):
        start = T0 - timedelta(minutes=rng.randrange(0, 600))
        limits = (rng.randrange(60, 5000), rng.randrange(120, 9000))
        deadlines = tuple(
            Deadline(step=step, start=start, due=start + timedelta(minutes=m + 600),
                     limit_minutes=m, basis=Basis.WALL)
            for step, m in zip((Step.ON_SCENE, Step.RESULT), limits, strict=True)
        )  # fmt: skip
        case = Case(
            id=f"{i:010d}", kind=Kind.EVENT, category="E0101", source=Source.PATROL,
            urgency=Urgency.GENERAL, status=Status.DISPATCHED, title="bench",
            reported_at=start, deadlines=deadlines,
        )  # fmt: skip
        out.append(case)
    return out


def _scan_wake(cases: list[Case], now: datetime) -> tuple[datetime | None, int]:
    """The bare wake-up: every open case's next deadline, and every due breach."""
    soonest: datetime | None = None
    due = 0
    for case in cases:
        deadline = sla.next_deadline(case) if case.is_open else None
        if deadline is not None and (soonest is None or deadline.due < soonest):
            soonest = deadline.due
        due += bool(sla.due_breaches(case, now))
    return soonest, due


def _queue_wake(queue: DeadlineQueue, now: datetime) -> tuple[datetime | None, int]:
    return queue.soonest(), len(queue.take_due(now))


def _moved(case: Case, minutes: int) -> Case:
    """``case`` with its first deadline moved to ``minutes`` after T0."""
    first = msgspec.structs.replace(case.deadlines[0], due=T0 + timedelta(minutes=minutes))
    return msgspec.structs.replace(case, deadlines=(first, *case.deadlines[1:]))


def _median_ms(fn: Callable[..., object], *args: object) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn(*args)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    rng = random.Random(2026)
    cases = _cases(args.cases, rng)
    queue = DeadlineQueue()
    started = time.perf_counter()
    for case in cases:
        queue.update(case)
    build_s = time.perf_counter() - started

    # A wake-up when nothing is due (the common one), answered both ways; same answer.
    now = T0
    assert _scan_wake(cases, now) == _queue_wake(queue, now)
    scan_ms = _median_ms(_scan_wake, cases, now)
    queue_ms = _median_ms(_queue_wake, queue, now)

    # A case changes (a command or a breach commits): one update.
    changed = [_moved(rng.choice(cases), rng.randrange(1, 900)) for _ in range(10_000)]
    started = time.perf_counter()
    for case in changed:
        queue.update(case)
    update_us = (time.perf_counter() - started) / len(changed) * 1e6

    print(f"SLA ticker wake-up with {args.cases} open cases (median of {REPEATS})")
    print(f"bare scan of every case      {scan_ms:9.2f} ms per wake-up")
    print(f"griddesk deadline queue      {queue_ms:9.4f} ms per wake-up")
    print(f"ratio queue/scan: {queue_ms / scan_ms:.1e}x")
    print(f"queue build: {build_s * 1000:.0f} ms; one case update: {update_us:.1f} µs")
    print(f"at one wake-up a second the scan costs {scan_ms / 10:.1f} % of a core")


if __name__ == "__main__":
    main()
