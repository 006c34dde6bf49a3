"""The SLA ticker's deadline queue gives what a scan of every open case would give."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import msgspec

from dispatch import sla
from dispatch.models import Basis, Case, Deadline, Kind, Source, Status, Step, Urgency
from hub.deadlines import COMPACT_SLACK, DeadlineQueue

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
STEPS = (Step.ACCEPT, Step.DISPATCH, Step.ON_SCENE, Step.RESULT)


def _case(case_id: str, dues: list[int], *, status: Status = Status.DISPATCHED) -> Case:
    deadlines = tuple(
        Deadline(step=step, start=T0, due=T0 + timedelta(minutes=m), limit_minutes=m,
                 basis=Basis.WALL)
        for step, m in zip(STEPS, dues, strict=False)
    )  # fmt: skip
    return Case(
        id=case_id, kind=Kind.EVENT, category="E0101", source=Source.PATROL,
        urgency=Urgency.GENERAL, status=status, title="t", reported_at=T0, deadlines=deadlines,
    )  # fmt: skip


def _scan_soonest(cases: dict[str, Case]) -> datetime | None:
    dues = [d.due for c in cases.values() if c.is_open and (d := sla.next_deadline(c))]
    return min(dues, default=None)


def test_soonest_and_due_match_a_full_scan_through_random_changes() -> None:
    rng = random.Random(7)
    queue = DeadlineQueue()
    cases: dict[str, Case] = {}
    now = T0
    for _ in range(3000):
        roll = rng.random()
        case_id = f"c{rng.randrange(200)}"
        if roll < 0.6:  # a case changes: new deadlines, some breached, maybe closed or parked
            dues = [rng.randrange(1, 600) for _ in range(rng.randrange(0, 4))]
            status = rng.choice([Status.DISPATCHED] * 6 + [Status.CLOSED, Status.PARKED])
            case = _case(case_id, dues, status=status)
            if case.deadlines and rng.random() < 0.3:
                first = msgspec.structs.replace(case.deadlines[0], breached=True)
                case = msgspec.structs.replace(case, deadlines=(first, *case.deadlines[1:]))
            cases[case_id] = case
            queue.update(case)
        elif roll < 0.8:  # time passes; the ticker takes what is due and marks it breached
            now += timedelta(minutes=rng.randrange(0, 40))
            taken = queue.take_due(now)
            expected = {c.id for c in cases.values() if c.is_open and sla.due_breaches(c, now)}
            assert set(taken) == expected
            assert len(taken) == len(set(taken))  # each once, however often it was updated
            for taken_id in taken:
                case = cases[taken_id]
                marked = tuple(
                    msgspec.structs.replace(d, breached=True) if d.due <= now else d
                    for d in case.deadlines
                )
                cases[taken_id] = msgspec.structs.replace(case, deadlines=marked)
                queue.update(cases[taken_id])
        assert queue.soonest() == _scan_soonest(cases)


def test_a_queue_built_at_once_is_the_queue_built_case_by_case() -> None:
    rng = random.Random(11)
    statuses = [Status.DISPATCHED] * 6 + [Status.CLOSED, Status.PARKED]
    cases = [
        _case(f"c{n}", [rng.randrange(1, 600) for _ in range(rng.randrange(0, 4))],
              status=rng.choice(statuses))
        for n in range(500)
    ]  # fmt: skip
    at_once, one_by_one = DeadlineQueue(cases), DeadlineQueue()
    for case in cases:
        one_by_one.update(case)
    assert len(at_once) == len(one_by_one)
    assert at_once.soonest() == one_by_one.soonest() == _scan_soonest({c.id: c for c in cases})
    now = T0 + timedelta(minutes=300)
    assert at_once.take_due(now) == one_by_one.take_due(now)


def test_a_case_taken_but_not_breached_is_back_after_update() -> None:
    # A breach whose commit failed: the engine puts the case back and the ticker retries.
    queue = DeadlineQueue()
    case = _case("c1", [15])
    queue.update(case)
    assert queue.take_due(T0 + timedelta(minutes=20)) == ["c1"]
    assert queue.soonest() is None
    assert queue.take_due(T0 + timedelta(minutes=20)) == []
    queue.update(case)
    assert queue.soonest() == T0 + timedelta(minutes=15)
    assert queue.take_due(T0 + timedelta(minutes=20)) == ["c1"]


def test_stale_entries_do_not_pile_up() -> None:
    queue = DeadlineQueue()
    for minutes in range(1, 20_000):  # one case whose deadline moves at every change
        queue.update(_case("c1", [minutes]))
    assert len(queue) == 1
    assert queue.entries <= 2 * len(queue) + COMPACT_SLACK + 1  # compacted as it grew
    assert queue.soonest() == T0 + timedelta(minutes=19_999)
