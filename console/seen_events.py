"""The events this console saw, per case, bounded: what the case screen shows at once while it
asks the hub for the whole history.

The mirror keeps cases, not their events, so without this the case screen would be empty
until the hub answers. It is bounded in total, not per case: a console on a twelve-hour shift
sees tens of thousands of events, and keeping every one would grow without end. The cases
touched least recently are forgotten first; the hub keeps everything.

Only what the case screen and a conflict's "who changed it last" read is kept — seq, time,
actor, type, case and reason — not the event's ``changes`` and ``data``: a creation carries
the whole case there, and kept whole an event weighed ~1.6 kB (the soak bench,
``bench/console_soak.py``, saw the 20,000 once kept grow the console by ~6 MB a virtual day on
their way to ~30 MB); kept slim, ~0.3 kB.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable

import msgspec

from dispatch.events import Event

PER_CASE = 100
"""Events kept per case (a case's history rarely exceeds a few dozen)."""
TOTAL = 2_000
"""Events kept in all (~0.6 MB), across the cases touched most recently: a district hall's
last few busy hours (~3,000 events a day). They only stand in until the hub's answer."""


class SeenEvents:
    """A bounded, per-case record of the events that arrived (newest last), without their
    ``changes`` and ``data``."""

    def __init__(self, per_case: int = PER_CASE, total: int = TOTAL) -> None:
        self._per_case = per_case
        self._total = total
        self._held = 0
        self._events: OrderedDict[str, deque[Event]] = OrderedDict()

    def add(self, events: Iterable[Event]) -> None:
        for event in events:
            if event.case is None:
                continue
            kept = self._events.get(event.case)
            if kept is None:
                kept = self._events[event.case] = deque(maxlen=self._per_case)
            else:
                self._events.move_to_end(event.case)
            if len(kept) == self._per_case:
                self._held -= 1
            kept.append(_slim(event))
            self._held += 1
        while self._held > self._total and self._events:
            _, dropped = self._events.popitem(last=False)
            self._held -= len(dropped)

    def of(self, case_id: str) -> tuple[Event, ...]:
        return tuple(self._events.get(case_id, ()))

    def last(self, case_id: str) -> Event | None:
        """The latest event seen on the case (who changed it last, for a conflict)."""
        kept = self._events.get(case_id)
        return kept[-1] if kept else None

    def __len__(self) -> int:
        return self._held

    def clear(self) -> None:
        self._events.clear()
        self._held = 0


def _slim(event: Event) -> Event:
    """The event without what nothing here reads (a creation's whole case, a change's fields)."""
    if not event.changes and not event.data:
        return event
    return msgspec.structs.replace(event, changes={}, data={})
