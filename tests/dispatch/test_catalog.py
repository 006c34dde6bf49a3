"""The shipped category catalog: complete, consistent, and usable by routing and the clock."""

from __future__ import annotations

from collections import Counter

import pytest

from dispatch.catalog import Catalog
from dispatch.models import Basis, Kind

DEPT_KEYS = {
    "enforcement", "police", "market", "housing", "sanitation", "municipal", "greening",
    "traffic", "water", "power", "gas", "telecom", "locality",
}  # fmt: skip

BIG_CATEGORIES = {
    (Kind.COMPONENT, "01"): "公用设施",
    (Kind.COMPONENT, "02"): "道路交通",
    (Kind.COMPONENT, "03"): "市容环境",
    (Kind.COMPONENT, "04"): "园林绿化",
    (Kind.COMPONENT, "05"): "房屋土地",
    (Kind.COMPONENT, "06"): "其他设施",
    (Kind.EVENT, "E01"): "市容环境",
    (Kind.EVENT, "E02"): "宣传广告",
    (Kind.EVENT, "E03"): "施工管理",
    (Kind.EVENT, "E04"): "突发事件",
    (Kind.EVENT, "E05"): "街面秩序",
    (Kind.EVENT, "E06"): "其他事件",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.default()


def test_shipped_catalog_has_both_trees_and_all_big_categories(catalog: Catalog) -> None:
    assert len(catalog) >= 60
    assert {c.kind for c in catalog} == {Kind.COMPONENT, Kind.EVENT}
    bigs = {(c.kind, c.big): c.big_name for c in catalog}
    assert bigs == BIG_CATEGORIES


def test_codes_are_unique_and_nest_under_their_big_category(catalog: Catalog) -> None:
    codes = Counter(c.code for c in catalog)
    assert max(codes.values()) == 1
    for c in catalog:
        assert c.code.startswith(c.big) and len(c.code) == len(c.big) + 2, c.code
        assert c.code.startswith("E") == (c.kind is Kind.EVENT), c.code


def test_every_category_answers_to_a_known_department(catalog: Catalog) -> None:
    assert {c.dept for c in catalog} <= DEPT_KEYS


def test_every_big_category_name_is_the_same_within_it(catalog: Catalog) -> None:
    names: dict[str, set[tuple[str, str]]] = {}
    for c in catalog:
        names.setdefault(c.big, set()).add((c.big_name, c.big_name_en))
    assert all(len(v) == 1 for v in names.values())


def test_limits_are_realistic(catalog: Catalog) -> None:
    for c in catalog:
        if c.basis is Basis.WORK_HOURS:  # counted in working minutes
            assert 60 <= c.limit <= 24 * 60, c.code
        elif c.basis is Basis.WORK_DAYS:
            assert 1 <= c.limit <= 5, c.code
        else:
            assert c.limit == 60 and c.urgent, c.code
    urgent = [c for c in catalog if c.urgent]
    assert 0 < len(urgent) <= len(catalog) // 10


@pytest.mark.parametrize(
    ("name", "limit", "basis", "urgent"),
    [
        ("暴露垃圾", 240, Basis.WORK_HOURS, False),
        ("违法建设", 240, Basis.WORK_HOURS, False),
        ("路面塌陷", 60, Basis.WALL, True),
        ("井盖缺失", 60, Basis.WALL, True),
        ("燃气泄漏", 60, Basis.WALL, True),
        ("户外广告设施坠落隐患", 60, Basis.WALL, True),
    ],
)
def test_the_categories_a_hall_sees_daily_have_their_standard_limits(
    catalog: Catalog, name: str, limit: int, basis: Basis, urgent: bool
) -> None:
    [category] = [c for c in catalog if c.name == name]
    assert (category.limit, category.basis, category.urgent) == (limit, basis, urgent)


def test_search_finds_categories_by_chinese_and_english_name(catalog: Catalog) -> None:
    assert [c.code for c in catalog.search("暴露垃圾")] == ["E0101"]
    assert "0101" in {c.code for c in catalog.search("manhole")}
