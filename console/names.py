"""Names on the ``:`` line and in ``griddesk ctl``: units, people, grids, categories and cases.

Resolved against a :class:`Lookup` (the client's mirror and the catalog): by id or name, exact
match first, then a unique prefix; cases by id or a unique suffix of the id among open cases
(``0042``). A word that matches nothing or several things is a :class:`VerbError` that lists
the candidates, so the commander can type a longer word. Pure: imports ``dispatch`` only.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

from dispatch.catalog import Catalog, Category
from dispatch.models import Area, AreaKind, Case, Staff, Unit

MAX_CANDIDATES = 5
"""How many candidates an ambiguous or unknown name lists."""


@dataclass(frozen=True)
class Lookup:
    """What names are resolved against: the client's mirror and the category catalog."""

    cases: Mapping[str, Case]
    units: Mapping[str, Unit]
    staff: Mapping[str, Staff]
    areas: Mapping[str, Area]
    catalog: Catalog


class VerbError(Exception):
    """A line that cannot become a command. ``str()`` says why in English (``griddesk ctl``,
    logs); :meth:`text` in the operator's language: ``template`` is a gettext id whose
    ``{named}`` fields are ``params``; ``what`` (the kind of word that was expected: "case
    ID", "a reason" …) is itself translated. A verb's error also gives the verb's usage."""

    def __init__(
        self,
        template: str,
        /,
        *,
        verb: str | None = None,
        usage: str | None = None,
        **params: object,
    ) -> None:
        self.template = template
        self.params = params
        self.verb = verb
        self.usage = usage
        super().__init__(self.text(str))

    def text(self, tr: Callable[[str], str]) -> str:
        params = dict(self.params)
        if isinstance(params.get("what"), str):
            params["what"] = tr(str(params["what"]))
        why = tr(self.template).format(**params)
        if self.verb is None:
            return why
        return tr("{verb}: {why} (usage: {usage})").format(
            verb=self.verb, why=why, usage=self.usage
        )


class _Kind(NamedTuple):
    """How errors name one kind of thing (a template each, so each translates whole)."""

    none: str
    near: str
    several: str


_UNITS = _Kind(
    "no unit {word!r}",
    "no unit {word!r}; did you mean {names}?",
    "{word!r} matches several units: {names}",
)
_PEOPLE = _Kind(
    "no person {word!r}",
    "no person {word!r}; did you mean {names}?",
    "{word!r} matches several people: {names}",
)
_GRIDS = _Kind(
    "no grid {word!r}",
    "no grid {word!r}; did you mean {names}?",
    "{word!r} matches several grids: {names}",
)
_CATEGORIES = _Kind(
    "no category {word!r}",
    "no category {word!r}; did you mean {names}?",
    "{word!r} matches several categories: {names}",
)


_V = TypeVar("_V")


def _resolve(
    word: str,
    items: Iterable[_V],
    key: Callable[[_V], str],
    name: Callable[[_V], str],
    what: _Kind,
) -> _V:
    """By id, then exact name, then unique prefix of either; else a VerbError with candidates."""
    pool = list(items)
    for matches in (
        [i for i in pool if key(i) == word],
        [i for i in pool if name(i) == word],
        [i for i in pool if key(i).startswith(word) or name(i).startswith(word)],
    ):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise VerbError(what.several, word=word, names=_listing(matches, key, name))
    near = [i for i in pool if word in name(i) or word in key(i)]
    if not near:
        names = {name(i): i for i in pool}
        near = [names[n] for n in difflib.get_close_matches(word, list(names), n=5, cutoff=0.4)]
    if near:
        raise VerbError(what.near, word=word, names=_listing(near, key, name))
    raise VerbError(what.none, word=word)


def _listing(items: list[_V], key: Callable[[_V], str], name: Callable[[_V], str]) -> str:
    shown = ", ".join(
        key(i) if key(i) == name(i) else f"{name(i)} ({key(i)})" for i in items[:MAX_CANDIDATES]
    )
    more = len(items) - MAX_CANDIDATES
    return shown + (f" and {more} more" if more > 0 else "")


def resolve_unit(word: str, lookup: Lookup) -> Unit:
    return _resolve(word, lookup.units.values(), lambda u: u.id, lambda u: u.name, _UNITS)


def resolve_staff(word: str, lookup: Lookup, unit: Unit | None = None) -> Staff:
    """A person by id or name; with ``unit``, only among that unit's people."""
    pool = lookup.staff.values() if unit is None else members(unit, lookup)
    try:
        return _resolve(word, pool, lambda s: s.id, lambda s: s.name, _PEOPLE)
    except VerbError:
        if unit is not None:
            elsewhere = [s for s in lookup.staff.values() if word in (s.id, s.name)]
            if elsewhere:
                units = ", ".join(unit_name(s.unit, lookup) for s in elsewhere[:MAX_CANDIDATES])
                raise VerbError(
                    "{word} is not in {unit} but in {units}", word=word, unit=unit.name, units=units
                ) from None
        raise


def resolve_area(word: str, lookup: Lookup) -> Area:
    """A grid or cell by code or name."""
    places = [a for a in lookup.areas.values() if a.kind in (AreaKind.GRID, AreaKind.CELL)]
    return _resolve(word, places, lambda a: a.code, lambda a: a.name, _GRIDS)


def resolve_category(word: str, catalog: Catalog) -> Category:
    """A small category by code or Chinese or English name."""
    if word in catalog:
        return catalog.by_code[word]
    lower = word.lower()
    english = [c for c in catalog if c.name_en.lower() == lower]
    if len(english) == 1:
        return english[0]
    return _resolve(word, catalog, lambda c: c.code, lambda c: c.name, _CATEGORIES)


def resolve_case(word: str, lookup: Lookup) -> Case:
    """A case by id, or by a unique id suffix among open cases (then among all)."""
    if word in lookup.cases:
        return lookup.cases[word]
    cases = [c for c in lookup.cases.values() if c.id.endswith(word)]
    for matches in ([c for c in cases if c.is_open], cases):
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = sorted((c.id for c in matches), reverse=True)
            more = f" and {len(ids) - MAX_CANDIDATES} more" if len(ids) > MAX_CANDIDATES else ""
            raise VerbError(
                "{word!r} matches several cases: {names}",
                word=word,
                names=", ".join(ids[:MAX_CANDIDATES]) + more,
            )
    raise VerbError("no case {word!r}", word=word)


def members(unit: Unit, lookup: Lookup) -> list[Staff]:
    return [s for s in lookup.staff.values() if s.unit == unit.id]


def unit_name(unit_id: str, lookup: Lookup) -> str:
    unit = lookup.units.get(unit_id)
    return unit.name if unit else unit_id
