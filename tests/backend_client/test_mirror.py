"""The mirror folds snapshot chunks and events exactly as the hub does, and refuses to apply
anything out of sequence (all or nothing), so a gap always leads to a resync."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from backend_client import Diverged, Gap, Mirror
from dispatch.events import Event, EventType, case_fields
from dispatch.models import Case, Duty, Field, Kind, Shift, Source, Staff, Status, Urgency
from dispatch.protocol import Snapshot

AT = datetime(2025, 3, 4, 1, 12, 5, tzinfo=UTC)


def case(case_id: str, **fields: Any) -> Case:
    values: dict[str, Any] = {
        "id": case_id,
        "kind": Kind.EVENT,
        "category": "0201",
        "source": Source.PATROL,
        "urgency": Urgency.GENERAL,
        "status": Status.REPORTED,
        "title": f"case {case_id}",
        "reported_at": AT,
    }
    return Case(**(values | fields))


PERSON = Staff(id="s-1", name="张伟", unit="u-1", role="网格员", shift=Shift.DAY)


def created(seq: int, new: Case) -> Event:
    return Event(
        seq=seq, at=AT, actor="op", type=EventType.CASE_CREATED, case=new.id,
        changes=case_fields(new),
    )  # fmt: skip


def changed(seq: int, case_id: str, kind: EventType = EventType.ACCEPTED, **changes: Any) -> Event:
    return Event(seq=seq, at=AT, actor="op", type=kind, case=case_id, changes=changes)


def snapshot(seq: int, chunk: int, chunks: int, cases: list[Case], **rest: Any) -> Snapshot:
    return Snapshot(seq=seq, chunk=chunk, chunks=chunks, cases=cases, **rest)


def test_a_chunked_snapshot_replaces_everything_and_completes_on_the_last_chunk() -> None:
    mirror = Mirror()
    mirror.apply_snapshot(snapshot(7, 1, 1, [case("old")]))
    mirror.apply_snapshot(snapshot(12, 1, 2, [case("a")], staff=[PERSON]))
    assert not mirror.complete and "old" not in mirror.cases
    mirror.apply_snapshot(snapshot(12, 2, 2, [case("b")]))
    assert mirror.complete and mirror.seq == 12
    assert set(mirror.cases) == {"a", "b"} and mirror.staff == {"s-1": PERSON}


def test_a_snapshot_chunk_out_of_order_is_a_gap() -> None:
    mirror = Mirror()
    mirror.apply_snapshot(snapshot(12, 1, 3, [case("a")]))
    with pytest.raises(Gap):
        mirror.apply_snapshot(snapshot(12, 3, 3, [case("c")]))
    assert not mirror.complete


def test_events_are_folded_like_the_hub_and_reported_as_a_change() -> None:
    mirror = Mirror()
    mirror.apply_snapshot(snapshot(10, 1, 1, [case("a")], staff=[PERSON]))
    urgent = case("u", urgency=Urgency.URGENT)
    person_moved = Event(
        seq=14, at=AT, actor="op", type=EventType.STAFF_CHANGED, staff="s-1",
        changes={"field": "on_scene", "duty": "on_duty", "version": 2},
    )  # fmt: skip
    change = mirror.apply_events(
        [
            changed(11, "a", status="accepted", version=2),
            created(12, urgent),
            created(13, case("g")),
            person_moved,
            Event(seq=15, at=AT, actor="hub", type=EventType.ALERT, case="a", data={"level": 1}),
        ]
    )
    assert mirror.seq == 15
    assert mirror.cases["a"].status is Status.ACCEPTED and mirror.cases["a"].version == 2
    assert mirror.staff["s-1"].field is Field.ON_SCENE and mirror.staff["s-1"].duty is Duty.ON_DUTY
    assert [c.id for c in change.cases] == ["a", "u", "g"]
    assert change.new_cases == ("u", "g")
    assert change.urgent_new == ("u",)
    assert change.staff == (mirror.staff["s-1"],)
    assert len(change.events) == 5


@pytest.mark.parametrize("seqs", [[12], [11, 13], [10], [11, 11]])
def test_a_gap_or_a_repeat_raises_gap_and_changes_nothing(seqs: list[int]) -> None:
    mirror = Mirror()
    mirror.apply_snapshot(snapshot(10, 1, 1, [case("a")]))
    before = msgspec.to_builtins(mirror.cases)
    with pytest.raises(Gap):
        mirror.apply_events([changed(s, "a", status="accepted", version=2) for s in seqs])
    assert mirror.seq == 10 and msgspec.to_builtins(mirror.cases) == before


def test_an_event_on_an_unknown_case_is_divergence_not_a_crash() -> None:
    mirror = Mirror()
    mirror.apply_snapshot(snapshot(10, 1, 1, [case("a")]))
    with pytest.raises(Diverged):
        mirror.apply_events([changed(11, "a", version=2), changed(12, "nobody", version=2)])
    assert mirror.seq == 10 and mirror.cases["a"].version == 1
