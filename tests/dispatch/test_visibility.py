"""dispatch.visibility: a unit's view of cases moving between units, and the redaction rules.

The property: a mirror that applies only what :func:`view_events` sends a scope, batch by
batch, always holds exactly the cases that scope may see, each as it may see it — whatever the
cases' moves (dispatch, reassignment, joint enforcement, return) and however they are batched.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from dispatch.events import Event, EventType, apply_case_event, case_fields
from dispatch.hall import Hall
from dispatch.models import (
    Actor,
    Case,
    Kind,
    Role,
    Shift,
    Source,
    Staff,
    Status,
    Summons,
    Urgency,
    Whistle,
)
from dispatch.visibility import (
    FULL,
    OBSERVER,
    Level,
    Placement,
    Scope,
    ViewKind,
    level,
    placement,
    redact_case,
    redact_event,
    redact_staff,
    scope_of,
    steps_of,
    view_events,
    visible_cases,
)

AT = datetime(2025, 3, 4, 1, 0, tzinfo=UTC)
UNITS = ("a", "b", "c")


def case(n: int) -> Case:
    return Case(
        id=f"c{n}",
        kind=Kind.EVENT,
        category="E0101",
        source=Source.HOTLINE,
        urgency=Urgency.GENERAL,
        status=Status.ACCEPTED,
        title=f"case {n}",
        description="门口堆放垃圾",
        reporter="12345-0117 13900001111",
        reported_at=AT,
    )


def move(rng: random.Random, before: Case, seq: int) -> Event:
    """A random event on ``before``: created, or its owner or supporting units changed, or a
    note (no placement change)."""
    kind = rng.choice(["owner", "owner", "joint", "note", "whistle"])
    changes: dict[str, Any] = {"version": before.version + 1}
    type_ = EventType.NOTED
    if kind == "owner":
        type_ = EventType.REASSIGNED
        changes["owner_unit"] = rng.choice((*UNITS, None))
    elif kind == "joint":
        type_ = EventType.JOINT
        changes["owner_unit"] = rng.choice(UNITS)
        changes["supporting_units"] = sorted(rng.sample(UNITS, rng.randrange(3)))
    elif kind == "whistle":  # 吹哨: the summoned units see the case too
        type_ = EventType.WHISTLED
        summoned = rng.sample(UNITS, rng.randrange(1, 3))
        whistle = Whistle(by="x", at=AT, due=AT, units=tuple(Summons(unit=u) for u in summoned))
        changes["whistles"] = msgspec.to_builtins((*before.whistles, whistle))
    return Event(seq=seq, at=AT, actor="x", type=type_, case=before.id, changes=changes,
                 reason="李四 13900001111")  # fmt: skip


def created(c: Case, seq: int) -> Event:
    return Event(seq=seq, at=AT, actor="x", type=EventType.CASE_CREATED, case=c.id,
                 changes=case_fields(c))  # fmt: skip


def fold(mirror: dict[str, Case], events: list[Event]) -> None:
    """What a client's mirror does with the events it is sent."""
    for event in events:
        assert event.case is not None
        if event.type is EventType.OUT_OF_SCOPE:
            assert event.case in mirror, "told to drop a case it never had"
            assert (event.changes, event.data, event.reason) == ({}, {}, "")
            del mirror[event.case]
            continue
        if event.type not in (EventType.IN_SCOPE, EventType.CASE_CREATED):
            assert event.case in mirror, f"{event.type} on a case it does not hold"
        mirror[event.case] = apply_case_event(mirror.get(event.case), event)


SCOPES = [
    FULL,
    OBSERVER,
    Scope(ViewKind.UNIT, frozenset({"a"})),
    Scope(ViewKind.UNIT, frozenset({"a", "b"})),
    Scope(ViewKind.UNIT, frozenset()),
]


@pytest.mark.parametrize("seed", range(40))
def test_a_scopes_mirror_holds_exactly_what_it_may_see(seed: int) -> None:
    rng = random.Random(seed)
    truth: dict[str, Case] = {}
    placements: dict[str, Placement] = {}
    mirrors: dict[Scope, dict[str, Case]] = {s: {} for s in SCOPES}
    seq = 0
    for _ in range(30):  # batches
        batch: list[Event] = []
        for _ in range(rng.randrange(1, 6)):
            seq += 1
            n = rng.randrange(4)
            before = truth.get(f"c{n}")
            event = created(case(n), seq) if before is None else move(rng, before, seq)
            truth[event.case or ""] = apply_case_event(before, event)
            batch.append(event)
        steps = steps_of(batch, placements)
        for scope, mirror in mirrors.items():
            sent = view_events(scope, steps, truth.get, lambda _: None)
            assert all(e.seq in {b.seq for b in batch} for e in sent)
            fold(mirror, sent)
            assert mirror == {c.id: c for c in visible_cases(scope, truth.values())}, scope
    assert placements == {k: placement(c) for k, c in truth.items()}


def test_levels_and_what_each_hides() -> None:
    unit_a = Scope(ViewKind.UNIT, frozenset({"a"}))
    c = case(1)
    none: frozenset[str] = frozenset()
    assert level(unit_a, ("a", none, none)) is Level.OWNS
    assert level(unit_a, ("b", frozenset({"a"}), none)) is Level.SUPPORTS
    assert level(unit_a, ("b", frozenset({"c"}), none)) is Level.NONE
    assert level(unit_a, ("b", none, frozenset({"a"}))) is Level.SUPPORTS  # summoned
    assert level(unit_a, None) is Level.NONE
    assert level(OBSERVER, None) is Level.REDACTED and level(FULL, None) is Level.WHOLE
    assert redact_case(c, Level.OWNS) is c and redact_case(c, Level.WHOLE) is c
    assert redact_case(c, Level.SUPPORTS).reporter is None
    assert redact_case(c, Level.SUPPORTS).description == c.description
    hidden = redact_case(c, Level.REDACTED)
    assert (hidden.reporter, hidden.description) == (None, "")
    assert msgspec_equal_but(c, hidden, {"reporter", "description"})


def test_merged_duplicates_reporters_are_hidden_like_the_reporter() -> None:
    c = msgspec.structs.replace(case(1), also_reported_by=("12345-0002", "王女士"))
    assert redact_case(c, Level.OWNS) is c
    assert redact_case(c, Level.SUPPORTS).also_reported_by == ()
    assert redact_case(c, Level.REDACTED).also_reported_by == ()
    merged = Event(
        at=datetime(2026, 3, 16, tzinfo=UTC),
        actor="op",
        type=EventType.DUPLICATE_MERGED,
        case="C1",
        changes={"version": 3, "also_reported_by": ["王女士"]},
    )
    assert redact_event(merged, Level.SUPPORTS).changes == {"version": 3, "also_reported_by": ()}
    assert redact_event(merged, Level.OWNS) is merged


def msgspec_equal_but(a: Case, b: Case, fields: set[str]) -> bool:
    left, right = case_fields(a), case_fields(b)
    return {k: v for k, v in left.items() if k not in fields} == {
        k: v for k, v in right.items() if k not in fields
    }


def test_phones_only_of_ones_own_unit_and_never_to_the_observer() -> None:
    person = Staff(id="S1", name="贾丽娟", unit="a", role="环卫班长", shift=Shift.DAY,
                   phone="13892658436")  # fmt: skip
    assert redact_staff(person, FULL) is person
    assert redact_staff(person, Scope(ViewKind.UNIT, frozenset({"a"}))) is person
    assert redact_staff(person, Scope(ViewKind.UNIT, frozenset({"b"}))).phone is None
    assert redact_staff(person, OBSERVER).phone is None
    event = Event(seq=1, at=AT, actor="x", type=EventType.STAFF_CHANGED, staff="S1",
                  changes={"phone": "13892658436", "version": 2})  # fmt: skip
    assert redact_event(event, Level.WHOLE, phone=False).changes["phone"] is None
    assert redact_event(event, Level.WHOLE) is event


def test_a_scope_is_the_same_for_every_terminal_of_a_unit(hall: Hall) -> None:
    some = next(iter(hall.units))
    unit = scope_of(Actor(name="u", role=Role.UNIT, unit=some), hall)
    standby = scope_of(Actor(name="s", role=Role.STANDBY, unit=some), hall)
    assert some in unit.units
    assert unit == standby and hash(unit) == hash(standby)
    assert scope_of(Actor(name="c", role=Role.COMMANDER), hall) is FULL
    assert scope_of(Actor(name="d", role=Role.DISPATCHER), hall) is FULL
    assert scope_of(Actor(name="o", role=Role.OBSERVER), hall) is OBSERVER
