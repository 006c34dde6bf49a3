"""Where a new case should go: the open case it duplicates, the unit, and the person.

Everything here *suggests*; a person in the hall decides (DESIGN.md §1, Routing and
Duplicates), unless the hall auto-dispatches a source. The catalog says who acts on each
category (:class:`dispatch.catalog.Acts`): its responsible department (主管部门), the locality
(属地) of the grid, or both — the department leading and the locality supporting, as for a gas
leak or a road collapse. Each suggestion carries the rule that made it, so a person sees why.
Pure functions over a :class:`Hall`.
"""

from __future__ import annotations

import bisect
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from dispatch.catalog import Acts
from dispatch.geo import distance_m
from dispatch.hall import Hall
from dispatch.models import Case, Duty, Field, Point, Staff, Unit

POSITION_FRESH = timedelta(minutes=30)
"""A reported position older than this says little about where a person is now."""

_ROUTABLE_DUTIES = (Duty.ON_DUTY, Duty.STANDBY)


def area_chain(code: str | None, hall: Hall) -> list[str]:
    """The area ``code`` and its ancestors, nearest first; empty for no or an unknown code."""
    chain: list[str] = []
    current = code
    while current is not None and current in hall.areas and current not in chain:
        chain.append(current)
        current = hall.areas[current].parent
    return chain


class Why(StrEnum):
    """The rule that picked a unit, shown beside it ("燃气泄漏 → 东川燃气公司：主管部门")."""

    DEPT = "dept"  # the category's responsible department (主管部门)
    LOCALITY = "locality"  # the locality answering for the grid (属地)


@dataclass(frozen=True)
class Suggestion:
    """Where a case should go: the unit that acts, why, and who supports it (joint
    enforcement, 联合执法 — the catalog's hazards: the department leads, the locality helps)."""

    unit: Unit
    why: Why
    supporting: tuple[Unit, ...] = ()


def suggest(case: Case, hall: Hall) -> Suggestion | None:
    """The unit ``case`` should be dispatched to, by what its category says acts on it.

    ``dept``: a unit of the category's department type, nearest the grid; ``locality``: the
    locality of the grid (the nearest area up the tree with ``locality`` set); ``joint``: the
    department, with the locality supporting. When the hall has no unit of the kind asked
    for, the other kind stands in (a department without a locality, a locality without the
    department), with its own reason. None only when neither exists (or the category is
    unknown).
    """
    category = hall.catalog.by_code.get(case.category)
    if category is None:
        return None
    chain = area_chain(case.grid, hall)
    locality = _locality(chain, hall)
    dept = _responsible(category.dept, chain, hall)
    if category.who_acts is Acts.LOCALITY:
        first, second = (locality, Why.LOCALITY), (dept, Why.DEPT)
    else:
        first, second = (dept, Why.DEPT), (locality, Why.LOCALITY)
    unit, why = first if first[0] is not None else second
    if unit is None:
        return None
    supporting: tuple[Unit, ...] = ()
    if category.who_acts is Acts.JOINT and locality is not None and locality.id != unit.id:
        supporting = (locality,)
    return Suggestion(unit=unit, why=why, supporting=supporting)


def suggest_unit(case: Case, hall: Hall) -> Unit | None:
    """The unit of :func:`suggest`, or None."""
    suggestion = suggest(case, hall)
    return suggestion.unit if suggestion is not None else None


def department(case: Case, hall: Hall) -> Unit | None:
    """The unit of the case's category's department type (主管部门) nearest its place, whoever
    the catalog says acts; None when the hall has none (or the category is unknown)."""
    category = hall.catalog.by_code.get(case.category)
    if category is None:
        return None
    return _responsible(category.dept, chain=area_chain(case.grid, hall), hall=hall)


def _responsible(dept: str, chain: list[str], hall: Hall) -> Unit | None:
    """The unit answering for department type ``dept`` at the place ``chain`` leads up from
    (``"locality"``: the place's locality itself)."""
    if dept == Why.LOCALITY.value:
        return _locality(chain, hall)
    return _department(dept, chain, hall)


def _locality(chain: list[str], hall: Hall) -> Unit | None:
    for code in chain:
        locality = hall.areas[code].locality
        if locality is not None and locality in hall.units:
            return hall.units[locality]
    return None


def _department(dept: str, chain: list[str], hall: Hall) -> Unit | None:
    """The unit of type ``dept`` answering most closely for the place.

    A unit bound to the grid beats one bound to the street, which beats one bound to no
    area; a unit bound to some other area comes last (still better than nobody). Ties go
    to the lowest unit id so the suggestion is stable.
    """
    depth = {code: i for i, code in enumerate(chain)}

    def closeness(unit: Unit) -> tuple[int, int, str]:
        if unit.area in depth:
            return (0, depth[unit.area], unit.id)
        if unit.area is None:
            return (1, 0, unit.id)
        return (2, 0, unit.id)

    candidates = [u for u in hall.units.values() if u.dept == dept]
    return min(candidates, key=closeness, default=None)


@dataclass(frozen=True)
class Ranked:
    """A person who could take the case, with what the ranking looked at."""

    staff: Staff
    load: int  # open cases this person owns
    distance_m: float | None  # from the case; None when either position is unknown or stale
    covers_grid: bool  # the case's grid (or an area above it) is one of the person's grids


def open_load(cases: Iterable[Case]) -> Callable[[str], int]:
    """Each person's open-case count, counted once from ``cases`` (a client with a hall model
    passes its ``load`` instead, kept by delta)."""
    loads = Counter(c.owner_staff for c in cases if c.is_open and c.owner_staff)
    return loads.__getitem__


DISTANCE_BAND_M = 500.0
"""Distances within one band count as equally near, so a lighter load can win over a few
hundred metres; a person a band farther away loses to a nearer one whatever the loads."""

_FIELD_ORDER = {
    Field.AVAILABLE: 0,
    Field.EN_ROUTE: 1,
    Field.ON_SCENE: 2,
    Field.BUSY: 2,
    Field.OFFLINE: 3,
}


def rank_staff(
    case: Case, unit_id: str, hall: Hall, now: datetime, load: Callable[[str], int]
) -> list[Ranked]:
    """The people of ``unit_id`` who could take ``case``, best first.

    Only staff whose duty is ON_DUTY or STANDBY are listed (off shift: never). The order is:

    1. reachable before offline — an offline person is never first while anyone answers;
    2. on duty before standby (standby means called in from home);
    3. free before en route, before on scene or busy;
    4. covering the case's grid before not (they know the place);
    5. nearer before farther, by :data:`DISTANCE_BAND_M` bands, unknown distance last;
    6. fewer open cases owned before more (spread the load: ``load(staff_id)``);
    7. the exact distance, then staff id, so equal candidates keep a stable order.

    The case's position is its reported one or, failing that, its grid's centre. A person's
    position counts when it has no ``seen_at`` (the post on the roster) or was seen within
    :data:`POSITION_FRESH` of ``now``.
    """
    chain = set(area_chain(case.grid, hall))
    target = _case_position(case, hall)
    ranked = [
        Ranked(
            staff=s,
            load=load(s.id),
            distance_m=_distance(target, s, now),
            covers_grid=any(g in chain for g in s.grids),
        )
        for s in hall.staff.values()
        if s.unit == unit_id and s.duty in _ROUTABLE_DUTIES
    ]
    ranked.sort(
        key=lambda r: (
            r.staff.field is Field.OFFLINE,
            r.staff.duty is not Duty.ON_DUTY,
            _FIELD_ORDER[r.staff.field],
            not r.covers_grid,
            r.distance_m is None,
            (r.distance_m or 0.0) // DISTANCE_BAND_M,
            r.load,
            r.distance_m or 0.0,
            r.staff.id,
        )
    )
    return ranked


def _case_position(case: Case, hall: Hall) -> Point | None:
    if case.position is not None:
        return case.position
    area = hall.areas.get(case.grid) if case.grid is not None else None
    return area.centre if area is not None else None


def _distance(target: Point | None, person: Staff, now: datetime) -> float | None:
    if target is None or person.position is None:
        return None
    if person.seen_at is not None and now - person.seen_at > POSITION_FRESH:
        return None
    return distance_m(target, person.position)


def find_duplicate(case: Case, open_cases: Iterable[Case], hall: Hall) -> Case | None:
    """The open case that ``case`` most likely repeats, or None.

    A duplicate has the same category and grid and was reported within the intake window
    (``duplicate_window_minutes``) of it. When both have a position they must also lie within
    ``duplicate_distance_m``. When either has none — a 12345 ticket rarely carries coordinates
    — the grid alone says little (a grid holds hundreds of addresses), so their words must
    match instead: the addresses when both give one, else the titles, at a
    :func:`text_similarity` of at least ``duplicate_text_similarity``. Of several, the nearest
    (or most alike) wins, then the earliest reported (the original), and a case already flagged
    as someone's duplicate only when nothing else fits.
    """
    if case.grid is None:
        return None
    intake = hall.settings.intake
    window = duplicate_window(hall)
    found: list[tuple[bool, float, datetime, str, Case]] = []
    for other in open_cases:
        if (
            other.id == case.id
            or not other.is_open
            or other.category != case.category
            or other.grid != case.grid
            or abs(other.reported_at - case.reported_at) > window
        ):
            continue
        if case.position is not None and other.position is not None:
            rank = distance_m(case.position, other.position)
            if rank > intake.duplicate_distance_m:
                continue
        else:
            alike = _words_alike(case, other)
            if alike < intake.duplicate_text_similarity:
                continue
            rank = (1.0 - alike) * intake.duplicate_distance_m
        found.append((other.duplicate_of is not None, rank, other.reported_at, other.id, other))
    return min(found, key=lambda f: f[:4])[4] if found else None


def _words_alike(case: Case, other: Case) -> float:
    if case.address.strip() and other.address.strip():
        return text_similarity(case.address, other.address)
    return text_similarity(case.title, other.title)


def text_similarity(a: str, b: str) -> float:
    """How alike two short texts are, 0 to 1: the Dice coefficient of their character pairs
    after NFKC folding (full-width digits and letters), lower case, and dropping spaces and
    punctuation. Character pairs suit Chinese addresses, which have no word breaks:
    "梧桐路12号" and "梧桐路１２号门口" score 0.83, "梧桐路12号" and "临河路3号" 0."""
    x, y = _pairs(a), _pairs(b)
    if not x or not y:
        return 1.0 if _folded(a) == _folded(b) and _folded(a) else 0.0
    common = sum((x & y).values())
    return 2.0 * common / (sum(x.values()) + sum(y.values()))


def _folded(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")


def _pairs(text: str) -> Counter[str]:
    folded = _folded(text)
    return Counter(folded[i : i + 2] for i in range(len(folded) - 1))


def duplicate_window(hall: Hall) -> timedelta:
    """How far apart in report time a case and its duplicate may be (``find_duplicate``)."""
    return timedelta(minutes=hall.settings.intake.duplicate_window_minutes)


class OpenCases:
    """The open cases by category and grid, each key's in order of report time: the only
    cases :func:`find_duplicate` can pick for a new one are those of its key reported within
    the window of it, and :meth:`near` finds them by bisection. Walking every open case of a
    key instead cost ~170 cases per intake in a hall's eighth month, and grew with the hall.

    Keep it with :meth:`put` after every change of a case (a closed case leaves; a case whose
    category or grid changed moves).
    """

    def __init__(self, cases: Iterable[Case] = ()) -> None:
        """The index of ``cases`` (built at once: a hall's 100,000 open cases at start)."""
        self._by_key: dict[tuple[str, str | None], list[tuple[datetime, str]]] = {}
        for case in cases:
            if case.is_open:
                self._by_key.setdefault((case.category, case.grid), []).append(
                    (case.reported_at, case.id)
                )
        for entries in self._by_key.values():
            entries.sort()

    def put(self, old: Case | None, new: Case) -> None:
        """``new`` replaces ``old`` (the same case before the change, None when it is new)."""
        if old is not None and old.is_open:
            entries = self._by_key.get((old.category, old.grid), [])
            entry = (old.reported_at, old.id)
            at = bisect.bisect_left(entries, entry)
            if at < len(entries) and entries[at] == entry:
                del entries[at]
        if new.is_open:
            bisect.insort(self._by_key.setdefault((new.category, new.grid), []),
                          (new.reported_at, new.id))  # fmt: skip

    def near(
        self, category: str, grid: str | None, at: datetime, window: timedelta
    ) -> Iterator[str]:
        """Ids of the open cases of ``category`` in ``grid`` reported within ``window`` of
        ``at`` (both ends included, as :func:`find_duplicate` counts them)."""
        entries = self._by_key.get((category, grid))
        if not entries:
            return
        first = bisect.bisect_left(entries, at - window, key=_reported)
        last = bisect.bisect_right(entries, at + window, key=_reported)
        for _, case_id in entries[first:last]:
            yield case_id


def _reported(entry: tuple[datetime, str]) -> datetime:
    return entry[0]
