"""The cases waiting for a standby officer to sign, ordered by when their answer clock runs
out (dispatch/standby.py): what the hub's ticker wakes for besides SLA deadlines.

Like :class:`hub.deadlines.DeadlineQueue`, entries are pushed when a case's answer time
changes and left in place when they go stale (dropped when they reach the top): an update
costs one push at most, "what runs out next" O(log n).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime

from dispatch.models import Case
from dispatch.standby import is_waiting


class AnswerQueue:
    """Case ids by answer time; :meth:`update` after every change of a case."""

    def __init__(self, cases: Iterable[Case] = ()) -> None:
        self._due: dict[str, datetime] = {}
        self._heap: list[tuple[datetime, str]] = []
        for case in cases:
            self.update(case)

    def __len__(self) -> int:
        return len(self._due)

    def update(self, case: Case) -> None:
        """Queue ``case`` by its answer time, or take it out if it waits for nobody."""
        if not is_waiting(case) or case.answer_due is None:
            self._due.pop(case.id, None)
            return
        if self._due.get(case.id) == case.answer_due:
            return
        self._due[case.id] = case.answer_due
        heapq.heappush(self._heap, (case.answer_due, case.id))

    def soonest(self) -> datetime | None:
        self._drop_stale()
        return self._heap[0][0] if self._heap else None

    def take_due(self, now: datetime) -> list[str]:
        """The cases whose answer time is up by ``now``, taken out of the queue (an
        :meth:`update` puts each back)."""
        taken: list[str] = []
        while True:
            self._drop_stale()
            if not self._heap or self._heap[0][0] > now:
                return taken
            _, case_id = heapq.heappop(self._heap)
            del self._due[case_id]
            taken.append(case_id)

    def _drop_stale(self) -> None:
        while self._heap:
            due, case_id = self._heap[0]
            if self._due.get(case_id) == due:
                return
            heapq.heappop(self._heap)
