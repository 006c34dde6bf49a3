"""The events a console keeps for the case screen stay bounded, however long it runs (issue 8's
soak: a console held every event it saw, ~1.6 kB each, and grew by tens of MB over days)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.seen_events import PER_CASE, TOTAL, SeenEvents
from dispatch.events import Event, EventType

T0 = datetime(2026, 11, 23, tzinfo=UTC)


def _event(seq: int, case: str) -> Event:
    return Event(
        seq=seq,
        at=T0 + timedelta(seconds=seq),
        actor="dispatcher-1",
        type=EventType.NOTED,
        case=case,
        reason=f"note {seq}",
        changes={"title": "x" * 200, "version": seq},
        data={"blob": "y" * 200},
    )


def test_five_days_of_events_stay_within_the_bound() -> None:
    seen = SeenEvents()
    seq = 0
    for day in range(5):
        batch = []
        for n in range(3_000):  # a day's events on 300 cases, ten each
            seq += 1
            batch.append(_event(seq, f"d{day}c{n % 300:03d}"))
        seen.add(batch)
        assert len(seen) <= TOTAL
    assert TOTAL - PER_CASE < len(seen) <= TOTAL
    # The newest cases are all there, the oldest forgotten; the hub has the rest.
    assert [e.seq for e in seen.of("d4c299")] == list(range(seq - 2_700, seq + 1, 300))
    assert seen.of("d0c000") == ()


def test_one_busy_case_keeps_its_latest_events_only() -> None:
    seen = SeenEvents()
    seen.add(_event(n, "busy") for n in range(1, 3 * PER_CASE + 1))
    kept = seen.of("busy")
    assert len(kept) == len(seen) == PER_CASE
    assert kept[-1].seq == 3 * PER_CASE
    last = seen.last("busy")
    assert last is not None and last.seq == 3 * PER_CASE


def test_what_the_case_screen_reads_is_kept_and_the_payload_is_not() -> None:
    seen = SeenEvents()
    event = _event(7, "c1")
    seen.add([event])
    (kept,) = seen.of("c1")
    assert (kept.seq, kept.at, kept.actor, kept.type, kept.case, kept.reason) == (
        event.seq, event.at, event.actor, event.type, event.case, event.reason,
    )  # fmt: skip
    assert kept.changes == {} and kept.data == {}
