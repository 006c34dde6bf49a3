"""Where every case stands for role-scoped clients: its placement (owner and supporting units)
kept current by the events, and how it was placed a while ago, for resuming clients.

The rules (who sees what, redaction) are :mod:`dispatch.visibility`; this module only keeps the
state they are applied to. It exists once a role-scoped client has connected (a hall of
commanders and dispatchers alone never pays for it) and is advanced by the server's fan-out
with every committed batch, before anything is sent.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterable, Mapping, Sequence

from dispatch.events import Event
from dispatch.models import Case
from dispatch.visibility import Placement, Step, placement, steps_of


class Placements:
    """Case id → placement as of :attr:`seq`, and the placement changes of the last
    ``window`` events (so :meth:`replay` can place the events a resuming client missed)."""

    def __init__(self, cases: Iterable[Case], seq: int, window: int) -> None:
        self._now: dict[str, Placement] = {c.id: placement(c) for c in cases}
        self.since = seq
        """The oldest position :meth:`replay` can start from (where this began, or the
        window's start): before it, a scoped client gets a snapshot."""
        self.seq = seq
        self._window = window
        self._moves: deque[tuple[int, str, Placement | None]] = deque()
        """(seq, case, placement before that event), in seq order."""

    def advance(self, events: Sequence[Event]) -> list[Step]:
        """Take a committed batch; the placement of each event's case before and after it."""
        steps = steps_of(events, self._now)
        for step in steps:
            if step.before != step.after and step.event.case is not None:
                self._moves.append((step.event.seq, step.event.case, step.before))
        if events:
            self.seq = events[-1].seq
        floor = self.seq - self._window
        while self._moves and self._moves[0][0] <= floor:
            self._moves.popleft()
        self.since = max(self.since, floor)
        return steps

    def get(self, case_id: str) -> Placement | None:
        return self._now.get(case_id)

    def replay(self, events: Sequence[Event], after: int) -> list[Step] | None:
        """Steps for stored events that followed position ``after`` (a resuming client's
        missed events), placed as they were then; None when that is too far back."""
        if after < self.since:
            return None
        then: dict[str, Placement] = {}
        first = bisect.bisect_right(self._moves, after, key=lambda m: m[0])
        undone: set[str] = set()
        for _, case_id, before in list(self._moves)[first:]:
            if case_id in undone:
                continue  # the earliest move after ``after`` says where it stood then
            undone.add(case_id)
            if before is not None:
                then[case_id] = before
        placements = _Overlay(then, undone, self._now)
        return steps_of(events, placements)


class _Overlay(dict[str, Placement]):
    """A dict of past placements that falls back on the current ones for cases that have not
    moved since (writes stay in the overlay)."""

    def __init__(
        self, then: dict[str, Placement], moved: set[str], now: Mapping[str, Placement]
    ) -> None:
        super().__init__(then)
        self._moved = moved
        self._fallback = now

    def get(self, key: str, default: Placement | None = None) -> Placement | None:  # type: ignore[override]
        if key in self:
            return self[key]
        if key in self._moved:  # created after the resume point: not there yet
            return default
        return self._fallback.get(key, default)
