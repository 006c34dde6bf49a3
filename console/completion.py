"""Completion for the ``:`` line: the words that may come next, slot by slot.

Each verb names what its words are (``case``, ``unit``, ``staff`` of the unit before it, a
category, a choice …); ``complete`` offers the matching ids and names from the mirror, best
first. Pure, like the grammar it follows (``console.verbs``).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from console.names import Lookup, VerbError, members, resolve_unit
from console.verbs import BY_WORD, INTAKE_VALUE_FLAGS
from dispatch.catalog import Catalog
from dispatch.models import AreaKind, Kind, Role, Source, Unit
from dispatch.roles import allowed

_V = TypeVar("_V")


def complete(line: str, lookup: Lookup, *, role: Role | None = None, limit: int = 50) -> list[str]:
    """Words that may replace the word under the cursor at the end of ``line`` (the whole
    word, not only its missing tail), best first, at most ``limit``. With ``role``, verbs the
    role may not send are not offered (the hub would refuse them)."""
    try:
        words = shlex.split(line.replace("\u3000", " "))
    except ValueError:  # an open quote: complete nothing rather than guess
        return []
    if not line or line[-1].isspace():
        words.append("")
    current = words[-1]
    if len(words) == 1:
        return [
            w
            for w, verb in BY_WORD.items()
            if w.startswith(current.lower())
            and (role is None or verb.op is None or allowed(role, verb.op))
        ][:limit]
    verb = BY_WORD.get(words[0].lower())
    if verb is None:
        return []
    position = len(words) - 2
    if verb.op == "intake":
        return _complete_intake(words, lookup, limit)
    if position >= len(verb.slots):
        return []
    out: list[str] = []
    for slot in verb.slots[position].split("/"):
        if slot == "staff":
            unit = _try(lambda: resolve_unit(words[-2], lookup))
            out += _complete_staff(current, lookup, unit)
        else:
            out += _complete_slot(slot, current, lookup)
        if len(out) >= limit:
            break
    return list(dict.fromkeys(out))[:limit]


def _complete_slot(slot: str, current: str, lookup: Lookup) -> list[str]:
    if slot == "case":
        return _complete_cases(current, lookup)
    if slot == "unit":
        return _names(current, lookup.units.values(), lambda u: u.id, lambda u: u.name)
    if slot == "units":
        head, sep, tail = current.rpartition(",")
        prefix = head + sep
        names = _names(tail, lookup.units.values(), lambda u: u.id, lambda u: u.name)
        return [prefix + n for n in names]
    if slot == "person":
        return _complete_staff(current, lookup, None)
    if slot == "category":
        return _complete_categories(current, lookup.catalog)
    if slot == "urgency":
        return [w for w in ("urgent", "general") if w.startswith(current.lower())]
    if "|" in slot:
        return [w for w in slot.split("|") if w.startswith(current.lower())]
    return []  # text, minutes: nothing to offer


def _complete_cases(current: str, lookup: Lookup) -> list[str]:
    hits = [c for c in lookup.cases.values() if c.id.startswith(current) or c.id.endswith(current)]
    hits.sort(key=lambda c: (not c.is_open, not c.id.startswith(current), c.id))
    return [c.id for c in hits]


def _complete_staff(current: str, lookup: Lookup, unit: Unit | None) -> list[str]:
    pool = lookup.staff.values() if unit is None else members(unit, lookup)
    return _names(current, pool, lambda s: s.id, lambda s: s.name)


def _complete_categories(current: str, catalog: Catalog) -> list[str]:
    by_code = [c.code for c in catalog if c.code.lower().startswith(current.lower())]
    by_name = [c.name for c in catalog if current in c.name and c.code not in by_code]
    return by_name + by_code if current and not current[0].isascii() else by_code + by_name


def _names(
    current: str, items: Iterable[_V], key: Callable[[_V], str], name: Callable[[_V], str]
) -> list[str]:
    """Names (or ids, where a name is shared) of the items whose name or id starts with
    ``current``."""
    pool = list(items)
    counts: dict[str, int] = {}
    for i in pool:
        counts[name(i)] = counts.get(name(i), 0) + 1
    return [
        name(i) if counts[name(i)] == 1 else key(i)
        for i in pool
        if name(i).startswith(current) or key(i).startswith(current)
    ]


def _complete_intake(words: list[str], lookup: Lookup, limit: int) -> list[str]:
    current, previous = words[-1], words[-2]
    wants_value = previous.startswith("--") and previous[2:] in INTAKE_VALUE_FLAGS
    if not wants_value:
        flags = [f"--{f}" for f in (*INTAKE_VALUE_FLAGS, "urgent", "general")]
        return [f for f in flags if f.startswith(current) and f not in words[:-1]][:limit]
    values: Mapping[str, Callable[[], list[str]]] = {
        "--category": lambda: _complete_categories(current, lookup.catalog),
        "--source": lambda: [s.value for s in Source if s.value.startswith(current)],
        "--kind": lambda: [k.value for k in Kind if k.value.startswith(current)],
        "--grid": lambda: _names(
            current,
            (a for a in lookup.areas.values() if a.kind in (AreaKind.GRID, AreaKind.CELL)),
            lambda a: a.code,
            lambda a: a.name,
        ),
    }
    offer = values.get(previous)
    return offer()[:limit] if offer else []


def _try(get: Callable[[], _V]) -> _V | None:
    try:
        return get()
    except VerbError:
        return None
