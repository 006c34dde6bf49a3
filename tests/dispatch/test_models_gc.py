"""A case costs the cyclic GC nothing: the hub and every console hold a hall's 100,000 of
them, and each full collection used to walk every one (0.8 s a time on a month-eight hall)."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta

import msgspec

from dispatch.models import (
    Basis,
    Case,
    Deadline,
    Kind,
    Point,
    Request,
    RequestKind,
    Source,
    Status,
    Step,
    Urgency,
)

T0 = datetime(2026, 7, 15, 2, 30, tzinfo=UTC)


def _case() -> Case:
    deadline = Deadline(step=Step.RESULT, start=T0, due=T0 + timedelta(hours=4),
                        limit_minutes=240, basis=Basis.WORK_HOURS)  # fmt: skip
    request = Request(kind=RequestKind.EXTENSION, by="unit-op", at=T0, reason="缺料", minutes=60)
    return Case(id="2607150001", kind=Kind.EVENT, category="E0101", source=Source.HOTLINE,
                urgency=Urgency.GENERAL, status=Status.DISPATCHED, title="占道经营",
                position=Point(lon=121.5, lat=31.2), reported_at=T0, deadlines=(deadline,),
                supporting_units=("police",), request=request)  # fmt: skip


def test_a_case_and_what_it_holds_are_not_tracked_once_collected() -> None:
    built = _case()
    decoded = msgspec.json.decode(msgspec.json.encode(built), type=Case)
    gc.collect()  # tuples of untracked items are untracked by the first pass that sees them
    for case in (built, decoded):
        assert case == built
        held = [case, case.deadlines, *case.deadlines, case.request, case.position]
        assert [gc.is_tracked(x) for x in held] == [False] * len(held)
