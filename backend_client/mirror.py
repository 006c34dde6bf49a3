"""The local copy of the hub's hall: built from a snapshot, kept current by events in seq order.

The mirror never decides anything: it folds the hub's events with the same reducers the hub
uses (:func:`dispatch.events.apply_case_event`, :func:`~dispatch.events.apply_staff_event`),
so after the same events it holds exactly the hub's rows. Each batch of events is applied
all-or-nothing and reported as a :class:`Change` for the screen to redraw what moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.events import (
    WHOLE_CASE_EVENTS,
    Event,
    EventType,
    apply_case_event,
    apply_staff_event,
)
from dispatch.models import Area, Case, Staff, Unit, Urgency
from dispatch.protocol import Snapshot


class Gap(Exception):
    """Events (or snapshot chunks) out of sequence: stop applying and resync from ``seq``."""


class Diverged(Exception):
    """An event names a case or person the mirror does not hold: only a snapshot repairs it."""


@dataclass(frozen=True)
class Change:
    """What one batch of events changed (new values, in the order first touched)."""

    cases: tuple[Case, ...] = ()
    new_cases: tuple[str, ...] = ()
    staff: tuple[Staff, ...] = ()
    events: tuple[Event, ...] = ()
    urgent_new: tuple[str, ...] = ()
    """New cases that are urgent: the console rings the bell for these."""
    removed: tuple[str, ...] = ()
    """Cases that left this client's view (``out_of_scope``): no longer in the mirror."""


class Mirror:
    def __init__(self) -> None:
        self.seq = 0
        """The last event applied (or the snapshot's position)."""
        self.complete = False
        """True once a whole snapshot arrived: only then can a reconnect resume from ``seq``."""
        self.cases: dict[str, Case] = {}
        self.staff: dict[str, Staff] = {}
        self.units: dict[str, Unit] = {}
        self.areas: dict[str, Area] = {}
        self._next_chunk = 1

    def reset(self) -> None:
        """Forget everything: the next connection asks for a snapshot."""
        self.seq = 0
        self.complete = False
        self.cases = {}
        self.staff = {}
        self.units = {}
        self.areas = {}
        self._next_chunk = 1

    def apply_snapshot(self, chunk: Snapshot) -> None:
        """Take one snapshot chunk; chunk 1 clears the mirror first, the last one completes it."""
        if chunk.chunk == 1:
            self.reset()
            self.seq = chunk.seq
        elif chunk.chunk != self._next_chunk or chunk.seq != self.seq:
            expected = self._next_chunk
            self.reset()
            raise Gap(f"snapshot chunk {chunk.chunk} at seq {chunk.seq}, expected {expected}")
        self.areas.update((a.code, a) for a in chunk.areas)
        self.units.update((u.id, u) for u in chunk.units)
        self.staff.update((s.id, s) for s in chunk.staff)
        self.cases.update((c.id, c) for c in chunk.cases)
        self._next_chunk = chunk.chunk + 1
        self.complete = chunk.chunk >= chunk.chunks

    def apply_events(
        self, events: Sequence[Event], after: int | None = None, seq: int | None = None
    ) -> Change:
        """Fold ``events`` in, or raise and change nothing.

        Without ``after``: they are seq ``self.seq + 1`` on, consecutive. With ``after`` and
        ``seq`` (a role-scoped client's frame, docs/PROTOCOL.md §8): the frame covers the stream
        from ``after`` to ``seq`` and ``after`` must be ``self.seq``; its events (only those
        this client may see) rise within that span, and the mirror ends at ``seq``.

        Raises :class:`Gap` on a sequence break and :class:`Diverged` when an event names an
        unknown case or person (the hub's rows and this mirror disagree)."""
        if after is not None:
            end = after if seq is None else seq
            if after != self.seq:
                raise Gap(f"a frame after seq {after} where {self.seq} was expected")
            last = after
            for event in events:
                if not last < event.seq <= end:
                    raise Gap(f"event seq {event.seq} outside {last} < seq <= {end}")
                last = event.seq
            if not events:
                self.seq = end
                return Change()
        elif not events:
            return Change()
        else:
            end = self.seq + len(events)
            expected = self.seq + 1
            for event in events:
                if event.seq != expected:
                    raise Gap(f"event seq {event.seq} where {expected} was expected")
                expected += 1
        cases: dict[str, Case] = {}
        staff: dict[str, Staff] = {}
        created: list[str] = []
        removed: dict[str, None] = {}
        for event in events:
            if event.type is EventType.OUT_OF_SCOPE and event.case is not None:
                cases.pop(event.case, None)
                if event.case in self.cases:
                    removed[event.case] = None
                continue
            # The same rules as the hub's engine: alerts carry a case id but change no case.
            if event.case is not None and event.type is not EventType.ALERT:
                if event.type in WHOLE_CASE_EVENTS:
                    before = None
                    removed.pop(event.case, None)
                else:
                    before = cases.get(event.case)
                    if before is None and event.case not in removed:
                        before = self.cases.get(event.case)
                if before is None and event.type not in WHOLE_CASE_EVENTS:
                    raise Diverged(
                        f"event {event.seq} ({event.type}) names unknown case {event.case}"
                    )
                known = event.case in cases or (
                    event.case in self.cases and event.case not in removed
                )
                cases[event.case] = apply_case_event(before, event)
                if event.type is EventType.CASE_CREATED or (
                    event.type is EventType.IN_SCOPE and not known
                ):
                    created.append(event.case)
            if event.staff is not None and event.changes:
                person = staff.get(event.staff) or self.staff.get(event.staff)
                if person is None:
                    raise Diverged(f"event {event.seq} names unknown staff {event.staff}")
                staff[event.staff] = apply_staff_event(person, event)
        for key in removed:
            del self.cases[key]
        self.cases.update(cases)
        self.staff.update(staff)
        self.seq = end
        return Change(
            cases=tuple(cases.values()),
            new_cases=tuple(c for c in created if c in cases),
            staff=tuple(staff.values()),
            events=tuple(events),
            urgent_new=tuple(
                c for c in created if c in cases and cases[c].urgency is Urgency.URGENT
            ),
            removed=tuple(removed),
        )
