"""The hub's refusals read in Chinese: every template of ``dispatch.errors.DETAILS`` is a msgid
of both catalogs, in the block kept at the end of each ``.po``, and its zh_CN text keeps exactly
the template's placeholders (the console fills them from the error's params)."""

from __future__ import annotations

import ast
import string

import pytest

from console.i18n import catalogs, translator
from dispatch.errors import DETAILS, refuse

MARK = "# --- hub refusals (dispatch/errors.py) ---"
TEMPLATES = sorted({text for _, text in DETAILS.values()})


def _fields(text: str) -> list[str]:
    """Placeholder names in order, with repeats, and any conversion or format spec kept."""
    return sorted(
        f"{name}!{conv}:{spec}"
        for _, name, spec, conv in string.Formatter().parse(text)
        if name is not None
    )


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_refusal_has_a_chinese_text_with_the_same_placeholders(template: str) -> None:
    zh = translator("zh_CN")(template)
    assert zh != template, f"no zh_CN text for {template!r}"
    assert _fields(zh) == _fields(template), zh
    assert "上报" not in zh  # escalate is 升级; 上报 names no action


def _msgids(text: str) -> set[str]:
    return {ast.literal_eval(line[6:]) for line in text.splitlines() if line.startswith("msgid ")}


def test_the_refusals_are_one_block_at_the_end_of_each_catalog() -> None:
    """Appended, not interleaved: the top of the catalogs is edited by the console's work."""
    for po, _ in catalogs():
        text = po.read_text(encoding="utf-8")
        assert text.count(MARK) == 1, po
        before, block = text.split(MARK)
        assert _msgids(block) == set(TEMPLATES), po
        assert _msgids(before).isdisjoint(TEMPLATES), po


def test_a_refusal_formats_in_chinese_from_its_params() -> None:
    zh = translator("zh_CN")
    refusal = refuse("verify_first", source="hotline")
    text = zh(DETAILS[refusal.detail or ""].text).format(**refusal.params)
    assert text == "hotline案件须先核实才能立案"  # the console puts 12345 for hotline first
