"""The standard digital-city-management category catalog (部件 / 事件, 大类 / 小类).

Shipped as data (``dispatch/data/categories.json``), not code: a hall edits the file, not
Python. Each small category has a code, Chinese and English names, its kind, its big
category, the responsible department type (主管部门), who acts on it (:class:`Acts`), its
handling time limit and whether cases of it are urgent by default.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from enum import StrEnum
from importlib import resources

import msgspec

from dispatch.errors import refuse
from dispatch.models import Basis, Kind


class Acts(StrEnum):
    """Who acts on a category's cases: the rule routing suggests a unit by.

    Routing every event "locality first" is the flaw the 屯溪 report names (先属地后属主): a gas
    leak needs the gas company, not the residents' committee. So each category says it.
    """

    DEPT = "dept"  # 主管部门: the unit of the category's department type
    LOCALITY = "locality"  # 属地: the locality (街道, 居委) answering for the grid
    JOINT = "joint"  # 联合: the department leads, the locality supports (hazards)


class Category(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    code: str  # small-category code, e.g. "0101" (部件 公用设施 上水井盖)
    name: str  # 中文名
    name_en: str
    kind: Kind
    big: str  # big-category code, e.g. "01"
    big_name: str
    big_name_en: str
    dept: str  # department type that answers for it (units carry the same key)
    limit: int  # handling limit, counted on ``basis``
    basis: Basis
    urgent: bool = False  # urgent by default (a major safety hazard)
    # None: by kind, as GB/T 30428 sorts them — components to their department, events to the
    # locality.
    acts: Acts | None = None

    @property
    def who_acts(self) -> Acts:
        if self.acts is not None:
            return self.acts
        return Acts.DEPT if self.kind is Kind.COMPONENT else Acts.LOCALITY


class Catalog:
    """Lookup over the categories; immutable after construction."""

    def __init__(self, categories: list[Category]) -> None:
        self._by_code: dict[str, Category] = {}
        for c in categories:
            if c.code in self._by_code:
                raise ValueError(f"duplicate category code {c.code}")
            self._by_code[c.code] = c

    @classmethod
    def from_json(cls, data: bytes | str) -> Catalog:
        return cls(msgspec.json.decode(data, type=list[Category]))

    @classmethod
    def default(cls) -> Catalog:
        """The catalog shipped with griddesk."""
        data = resources.files("dispatch.data").joinpath("categories.json").read_bytes()
        return cls.from_json(data)

    def __len__(self) -> int:
        return len(self._by_code)

    def __iter__(self) -> Iterator[Category]:
        return iter(self._by_code.values())

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    @property
    def by_code(self) -> Mapping[str, Category]:
        return self._by_code

    def get(self, code: str) -> Category:
        """The category, or a ``not_found`` refusal."""
        try:
            return self._by_code[code]
        except KeyError:
            raise refuse("unknown_category", category=code) from None

    def search(self, text: str) -> list[Category]:
        """Categories whose code or name (either language) contains ``text``."""
        t = text.strip().lower()
        return [
            c
            for c in self._by_code.values()
            if t in c.code or t in c.name or t in c.name_en.lower() or t in c.big_name
        ]
