"""The hall model: what every client shows of the hall, kept current by delta.

A console, ``griddesk ctl``, the wallboard and reports all need the same picture: which cases
are in which queue and how many, the order a queue is listed in, the urgent cases nearest a
deadline, how many open cases each person holds, which cases are overdue. :class:`HallModel`
keeps all of it from the mirror's batches at a cost proportional to the cases that changed,
never to the hall — at 100,000 open cases a batch or a second of time passing touches only
what moved. It is pure (no Textual, no asyncio, no I/O): the UI feeds it and reads it.

The rules come from ``dispatch``: queue membership from :mod:`dispatch.queues`, "overdue" and
the shown deadline from :mod:`dispatch.sla`. Each change returns a :class:`HallDelta` saying
what moved, so a screen redraws exactly that.

Costs, with n cases held and k changed: a batch is O(k log n) comparisons plus one memory copy
of each affected sorted list (a slice copy, not comparisons); time passing is O(m log n) for
the m cases that became overdue; a tab's listing is a copy of the queue's sorted list, kept by
the same splices; changing the sort or the quick filter (a person's deliberate choice) is a
full O(n log n) rebuild.
"""

from __future__ import annotations

import gc
import heapq
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, field
from datetime import datetime

from dispatch.command_chain import Desk, desk_of
from dispatch.models import Area, Case, Staff, Unit, Urgency
from dispatch.queues import (
    QUEUES,
    Entry,
    Queue,
    QuickFilter,
    Sort,
    entry,
    splice,
    timeless_queues,
)
from dispatch.sla import is_overdue, overdue_from, shown_deadline

StripEntry = tuple[float, str]
"""An urgent case's place on the strip: its shown deadline (epoch seconds), then its id."""


@dataclass(frozen=True)
class QueueDelta:
    """How one queue's sorted listing changed: entries that left, entries that joined (a case
    that moved is both), and cases still listed in place whose row must be redrawn."""

    removed: tuple[Entry, ...] = ()
    added: tuple[Entry, ...] = ()
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.removed or self.added or self.changed)


@dataclass(frozen=True)
class HallDelta:
    """What one change to the model moved. ``replaced``: everything may differ (a snapshot, a
    new sort or quick filter): redraw from the model rather than from the deltas."""

    replaced: bool = False
    cases: tuple[str, ...] = ()
    """Cases whose value changed, in the order first touched."""
    new: tuple[str, ...] = ()
    """Cases the model did not hold before."""
    removed: tuple[str, ...] = ()
    """Cases the model no longer holds (they left a role-scoped client's view)."""
    urgent_new: tuple[str, ...] = ()
    """New cases that are urgent: a console rings the bell for these."""
    staff: tuple[str, ...] = ()
    """People whose record or open-case load changed."""
    queues: Mapping[Queue, QueueDelta] = field(default_factory=dict)
    """Per queue, only those whose listing changed."""
    counts_changed: bool = False
    strip_changed: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.replaced
            or self.cases
            or self.removed
            or self.staff
            or self.queues
            or self.counts_changed
            or self.strip_changed
        )

    def queue(self, queue: Queue) -> QueueDelta:
        return self.queues.get(queue, _NO_CHANGE)


_NO_CHANGE = QueueDelta()


class HallModel:
    """Queues, counts, order, urgent strip, roster load and the overdue set, by delta."""

    def __init__(self, *, sort: Sort = Sort.DEADLINE, quick: QuickFilter | None = None) -> None:
        self.cases: dict[str, Case] = {}
        self.staff: dict[str, Staff] = {}
        self.units: dict[str, Unit] = {}
        self.areas: dict[str, Area] = {}
        self.now: datetime | None = None
        """The hub time membership of the overdue queue was last decided at."""
        self._sort = sort
        self._quick = quick or QuickFilter()
        self._members: dict[Queue, set[str]] = {q: set() for q in QUEUES}
        # The queues each case is listed in (quick filter applied): a batch moves a case by
        # the difference from here, not by asking every queue about it.
        self._placed: dict[str, frozenset[Queue]] = {}
        self._entries: dict[str, Entry] = {}
        self._order: list[Entry] = []  # every admitted case (the ALL queue), sorted
        # Every other queue's listing, sorted, kept by the same splices: a tab switch copies
        # one list instead of filtering 100,000 entries.
        self._lists: dict[Queue, list[Entry]] = {q: [] for q in QUEUES if q is not Queue.ALL}
        # Changes not yet spliced into a listing, per queue: (entries gone, entries joined).
        # A listing is read only on a tab switch, a new sort or a snapshot, so a batch only
        # notes its changes here; they are spliced in at the next read, or once they come to a
        # sixteenth of the list (one copy of the list per that many changes, not per batch).
        self._unspliced: dict[Queue, tuple[set[Entry], set[Entry]]] = {}
        self._overdue: set[str] = set()  # regardless of the quick filter (figures, wallboard)
        self._pending: list[tuple[datetime, str]] = []  # (overdue_from, id): not yet overdue
        self._pending_at: dict[str, datetime] = {}  # the last instant pushed per case
        self._strip: list[StripEntry] = []
        self._strip_entries: dict[str, StripEntry] = {}
        self._owned: dict[str, set[str]] = {}  # staff id → open cases they own
        self._desk: Desk | None = None  # the operator's desk: what the DESK queue holds

    # --- reading -------------------------------------------------------------------------

    @property
    def sort(self) -> Sort:
        return self._sort

    @property
    def quick(self) -> QuickFilter:
        return self._quick

    @property
    def desk(self) -> Desk | None:
        """The operator's desk of the chain of command (None: at no desk), from the last
        snapshot's units and places."""
        return self._desk

    def count(self, queue: Queue) -> int:
        """Cases in ``queue`` that the quick filter admits."""
        return len(self._members[queue])

    def counts(self) -> dict[Queue, int]:
        return {q: len(self._members[q]) for q in QUEUES}

    def members(self, queue: Queue) -> Set[str]:
        """The ids in ``queue`` (quick filter applied); read only."""
        return self._members[queue]

    def listing(self, queue: Queue) -> list[Entry]:
        """``queue``'s entries in order: a fresh list the caller may keep and splice."""
        self._splice(queue)
        return list(self._order if queue is Queue.ALL else self._lists[queue])

    def entry_of(self, case_id: str) -> Entry | None:
        """Where the case sorts now (whether or not the quick filter admits it)."""
        return self._entries.get(case_id)

    def strip(self, limit: int) -> list[Case]:
        """The open urgent cases nearest (or furthest past) their shown deadline."""
        return [self.cases[key] for _, key in self._strip[:limit]]

    def load(self, staff_id: str) -> int:
        """How many open cases the person owns."""
        return len(self._owned.get(staff_id, ()))

    def owned(self, staff_id: str) -> Set[str]:
        """The open cases the person owns (read only)."""
        return self._owned.get(staff_id, frozenset())

    @property
    def overdue(self) -> Set[str]:
        """Every overdue case held, quick filter or not (:func:`dispatch.sla.is_overdue`)."""
        return self._overdue

    def admits(self, case: Case) -> bool:
        return self._quick.admits(case)

    # --- changing ------------------------------------------------------------------------

    def replace(
        self,
        cases: Iterable[Case],
        staff: Iterable[Staff],
        units: Iterable[Unit],
        areas: Iterable[Area],
        now: datetime,
        *,
        desk_unit: str | None = None,
    ) -> HallDelta:
        """Take a whole snapshot (a first sync or a resync); ``desk_unit``: the operator's
        unit, whose desk (if it is one) decides the DESK queue."""
        self.cases = {c.id: c for c in cases}
        self.staff = {s.id: s for s in staff}
        self.units = {u.id: u for u in units}
        self.areas = {a.code: a for a in areas}
        self.now = now
        self._desk = desk_of(desk_unit, self.units, self.areas)
        self._rebuild()
        return HallDelta(replaced=True, counts_changed=True, strip_changed=True)

    def set_sort(self, sort: Sort) -> HallDelta:
        if sort is self._sort:
            return HallDelta()
        self._sort = sort
        self._entries = {c.id: entry(c, sort) for c in self.cases.values()}
        self._order = sorted(self._entries[k] for k in self._members[Queue.ALL])
        self._lists = self._split(self._order)
        self._unspliced.clear()
        return HallDelta(replaced=True)

    def set_quick(self, quick: QuickFilter) -> HallDelta:
        if quick == self._quick:
            return HallDelta()
        self._quick = quick
        self._rebuild()
        return HallDelta(replaced=True, counts_changed=True)

    def apply(
        self,
        cases: Iterable[Case],
        staff: Iterable[Staff],
        now: datetime,
        removed: Iterable[str] = (),
    ) -> HallDelta:
        """Take a batch of new values (the latest of each case and person wins); ``removed``:
        cases that left this client's view (a role-scoped client's ``out_of_scope``)."""
        if self.now is not None and now < self.now:  # the hub's clock was set back
            self.now = now
            self._rebuild()
        self.now = now
        batch = {c.id: c for c in cases}
        gone: dict[Queue, list[Entry]] = {}
        joined: dict[Queue, list[Entry]] = {}
        redraw: dict[Queue, list[str]] = {}
        strip_gone: list[StripEntry] = []
        strip_joined: list[StripEntry] = []
        staff_touched: dict[str, None] = {}
        new: list[str] = []
        counts_changed = False
        dropped: list[str] = []
        for key in removed:
            old = self.cases.pop(key, None) if key not in batch else None
            if old is None:
                continue
            dropped.append(key)
            old_entry = self._entries.pop(key, None)
            for queue in self._placed.pop(key, _NOWHERE):
                gone.setdefault(queue, []).append(_known(old_entry))
                self._members[queue].discard(key)
                counts_changed = True
            self._overdue.discard(key)
            self._pending_at.pop(key, None)  # its heap entry goes stale: advance() skips it
            old_strip = self._strip_entries.pop(key, None)
            if old_strip is not None:
                strip_gone.append(old_strip)
            if old.is_open and old.owner_staff is not None:
                owned = self._owned.get(old.owner_staff)
                if owned is not None:
                    owned.discard(key)
                    if not owned:
                        del self._owned[old.owner_staff]
                staff_touched[old.owner_staff] = None
        for case in batch.values():
            old = self.cases.get(case.id)
            if old is None:
                new.append(case.id)
            self.cases[case.id] = case
            before = self._placed.get(case.id, _NOWHERE)
            old_entry = self._entries.get(case.id)
            after = self._place(case, now)
            new_entry = self._entries[case.id]
            counts_changed |= before != after
            for queue in before | after:
                if queue not in after:
                    gone.setdefault(queue, []).append(_known(old_entry))
                elif queue not in before:
                    joined.setdefault(queue, []).append(new_entry)
                elif old_entry != new_entry:
                    gone.setdefault(queue, []).append(_known(old_entry))
                    joined.setdefault(queue, []).append(new_entry)
                else:
                    redraw.setdefault(queue, []).append(case.id)
            old_strip = self._strip_entries.pop(case.id, None)
            new_strip = _strip_entry(case)
            if new_strip is not None:
                self._strip_entries[case.id] = new_strip
            if old_strip != new_strip:
                if old_strip is not None:
                    strip_gone.append(old_strip)
                if new_strip is not None:
                    strip_joined.append(new_strip)
            for person in self._move_load(old, case):
                staff_touched[person] = None
        for member in staff:
            self.staff[member.id] = member
            staff_touched[member.id] = None
        for queue in gone.keys() | joined.keys():
            self._defer(queue, gone.get(queue, ()), joined.get(queue, ()))
        if strip_gone or strip_joined:
            self._strip = splice(self._strip, strip_gone, strip_joined)
        queues = {
            q: QueueDelta(
                removed=tuple(gone.get(q, ())),
                added=tuple(joined.get(q, ())),
                changed=tuple(redraw.get(q, ())),
            )
            for q in QUEUES
            if q in gone or q in joined or q in redraw
        }
        return HallDelta(
            cases=tuple(batch),
            removed=tuple(dropped),
            new=tuple(new),
            urgent_new=tuple(k for k in new if batch[k].urgency is Urgency.URGENT),
            staff=tuple(staff_touched),
            queues=queues,
            counts_changed=counts_changed,
            strip_changed=bool(strip_gone or strip_joined),
        )

    def advance(self, now: datetime) -> HallDelta:
        """Time passed: cases whose deadline came due join the overdue queue (the hub marks
        the breach a moment later, and that event arrives as an ordinary change)."""
        if self.now is not None and now < self.now:
            self.now = now
            self._rebuild()
            return HallDelta(replaced=True, counts_changed=True)
        self.now = now
        joined: list[Entry] = []
        pending = self._pending
        while pending and pending[0][0] <= now:
            at, key = heapq.heappop(pending)
            if self._pending_at.get(key) == at:
                del self._pending_at[key]
            case = self.cases.get(key)
            if case is None:  # it left this client's view
                continue
            # Entries are never removed from the heap when a case changes; a stale one is
            # recognised here (the case's overdue instant moved) and dropped.
            if key in self._overdue or overdue_from(case) != at or not is_overdue(case, now):
                continue
            self._overdue.add(key)
            if self._quick.admits(case):
                self._members[Queue.OVERDUE].add(key)
                self._placed[key] = self._placed.get(key, _NOWHERE) | _OVERDUE
                joined.append(self._entries[key])
        if not joined:
            return HallDelta()
        self._defer(Queue.OVERDUE, (), joined)
        return HallDelta(
            queues={Queue.OVERDUE: QueueDelta(added=tuple(joined))}, counts_changed=True
        )

    # --- bookkeeping ---------------------------------------------------------------------

    def _place(self, case: Case, now: datetime) -> frozenset[Queue]:
        """Record ``case`` (already in ``self.cases``) in its queues; returns them."""
        key = case.id
        self._entries[key] = entry(case, self._sort)
        due = overdue_from(case)  # overdue now iff this instant has come (sla.is_overdue)
        overdue = due is not None and due <= now
        if overdue:
            self._overdue.add(key)
        else:
            self._overdue.discard(key)
            # Most changes leave a case's overdue instant where it was: one heap entry each.
            if due is not None and self._pending_at.get(key) != due:
                self._pending_at[key] = due
                heapq.heappush(self._pending, (due, key))
        if not self._quick.admits(case):
            queues = _NOWHERE
        elif overdue:
            queues = timeless_queues(case, self._desk) | _OVERDUE
        else:
            queues = timeless_queues(case, self._desk)
        before = self._placed.get(key, _NOWHERE)
        if queues is not before:
            members = self._members
            for queue in before - queues:
                members[queue].discard(key)
            for queue in queues - before:
                members[queue].add(key)
            self._placed[key] = queues
        return queues

    def _move_load(self, old: Case | None, new: Case) -> list[str]:
        """Move the case between owners' open sets; the people whose load changed."""
        before = old.owner_staff if old is not None and old.is_open else None
        after = new.owner_staff if new.is_open else None
        if before == after:
            return []
        out = []
        if before is not None:
            owned = self._owned[before]
            owned.discard(new.id)
            if not owned:
                del self._owned[before]
            out.append(before)
        if after is not None:
            self._owned.setdefault(after, set()).add(new.id)
            out.append(after)
        return out

    def _rebuild(self) -> None:
        """Everything from ``self.cases`` at ``self.now``: a snapshot, a new quick filter.

        One pass filling fresh structures (what :meth:`_place` does case by case, without its
        bookkeeping of a previous place), with the cyclic collector off: a month-eight
        snapshot makes some 400,000 tuples, and collections started meanwhile walked
        everything alive, again and again (the hub's ``Engine.start`` does the same)."""
        now = self.now
        assert now is not None, "the model needs a time before it can place cases"
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._fill(now)
        finally:
            if collecting:
                gc.enable()

    def _defer(self, queue: Queue, gone: Iterable[Entry], joined: Iterable[Entry]) -> None:
        """Note a batch's changes to ``queue``'s listing (see ``_unspliced``)."""
        out, into = self._unspliced.setdefault(queue, (set(), set()))
        for e in gone:
            if e in into:
                into.discard(e)  # joined since the last splice: it never was in the list
            else:
                out.add(e)
        for e in joined:
            if e in out:
                out.discard(e)  # left and came back at the same place: still in the list
            else:
                into.add(e)
        listed = self._order if queue is Queue.ALL else self._lists[queue]
        if len(out) + len(into) > max(_SPLICE_AT_LEAST, len(listed) // 16):
            self._splice(queue)

    def _splice(self, queue: Queue) -> None:
        pending = self._unspliced.pop(queue, None)
        if pending is None:
            return
        out, into = pending
        if queue is Queue.ALL:
            self._order = splice(self._order, list(out), list(into))
        else:
            self._lists[queue] = splice(self._lists[queue], list(out), list(into))

    def _split(self, order: list[Entry]) -> dict[Queue, list[Entry]]:
        """Each queue's listing but ALL's, from ``order`` (ALL's, sorted)."""
        members = self._members
        return {q: [e for e in order if e[1] in members[q]] for q in QUEUES if q is not Queue.ALL}

    def _fill(self, now: datetime) -> None:
        sort, admits, desk = self._sort, self._quick.admits, self._desk
        members: dict[Queue, set[str]] = {q: set() for q in QUEUES}
        late_queue = members[Queue.OVERDUE]
        entries: dict[str, Entry] = {}
        overdue: set[str] = set()
        pending: list[tuple[datetime, str]] = []
        pending_at: dict[str, datetime] = {}
        owned: dict[str, set[str]] = {}
        strip: dict[str, StripEntry] = {}
        placed: dict[str, frozenset[Queue]] = {}
        for key, case in self.cases.items():
            entries[key] = entry(case, sort)
            due = overdue_from(case)
            late = due is not None and due <= now
            if late:
                overdue.add(key)
            elif due is not None:
                pending_at[key] = due
                pending.append((due, key))
            if admits(case):
                queues = timeless_queues(case, desk)
                for queue in queues:
                    members[queue].add(key)
                if late:
                    late_queue.add(key)
                    queues = queues | _OVERDUE
                placed[key] = queues
            if case.owner_staff is not None and case.is_open:
                owned.setdefault(case.owner_staff, set()).add(key)
            place = _strip_entry(case)
            if place is not None:
                strip[key] = place
        heapq.heapify(pending)
        self._members, self._entries, self._overdue = members, entries, overdue
        self._placed = placed
        self._pending, self._pending_at, self._owned = pending, pending_at, owned
        self._order = sorted(entries[k] for k in members[Queue.ALL])
        self._lists = self._split(self._order)
        self._unspliced.clear()
        self._strip_entries = strip
        self._strip = sorted(strip.values())


_SPLICE_AT_LEAST = 2_000
"""Changes a listing may hold back, however short it is (see ``HallModel._unspliced``)."""
_NOWHERE: frozenset[Queue] = frozenset()
_OVERDUE = frozenset({Queue.OVERDUE})


def _strip_entry(case: Case) -> StripEntry | None:
    if case.urgency is not Urgency.URGENT:
        return None
    deadline = shown_deadline(case)
    return (deadline.due.timestamp(), case.id) if deadline is not None else None


def _known(value: Entry | None) -> Entry:
    assert value is not None, "a case listed in a queue always has an entry"
    return value
