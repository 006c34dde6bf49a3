"""Every refusal the domain and the hub raise is one of ``dispatch.errors.DETAILS``: raised
through ``refuse`` with a detail id and exactly its template's params, never built by hand, and
no entry of the table is dead."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dispatch.errors import DETAILS, ENUM_PARAMS, ErrorCode, Refusal, placeholders, refuse
from dispatch.models import Status

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(
    p
    for package in ("dispatch", "hub")
    for p in (ROOT / package).rglob("*.py")
    if p != ROOT / "dispatch" / "errors.py"
)


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(encoding="utf-8"))) for p in SOURCES]


def test_no_refusal_is_built_by_hand() -> None:
    built = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _name(node.func) == "Refusal"
    ]
    assert built == [], "raise refuse(detail, **params) instead"


def test_every_refuse_call_names_a_detail_with_its_params() -> None:
    calls = 0
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _name(node.func) == "refuse"):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            first = node.args[0]
            if not isinstance(first, ast.Constant):
                continue  # a detail passed in (``_need_reason``): its callers name it
            calls += 1
            assert first.value in DETAILS, where
            given = {k.arg for k in node.keywords if k.arg is not None}
            if not any(k.arg is None for k in node.keywords):  # ``**params``: checked at run
                assert given == placeholders(DETAILS[first.value].text), where
    assert calls > 40


def test_every_detail_is_raised_somewhere() -> None:
    named = {
        node.value
        for _, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert set(DETAILS) - named == set()


@pytest.mark.parametrize("detail", sorted(DETAILS))
def test_every_template_formats_from_its_params(detail: str) -> None:
    code, text = DETAILS[detail]
    params = {name: f"<{name}>" for name in placeholders(text)}
    refusal = refuse(detail, **params)
    assert (refusal.code, refusal.detail, refusal.params) == (code, detail, params)
    assert refusal.message == text.format(**params)
    assert "{" not in refusal.message
    assert detail.isidentifier() and detail == detail.lower()


def test_enum_params_go_in_as_plain_values() -> None:
    refusal = refuse("illegal_step", op="close", status=Status.REPORTED)
    assert refusal.params == {"op": "close", "status": "reported"}
    assert type(refusal.params["status"]) is str
    assert refusal.message == "cannot close a case that is reported"
    assert refusal == refuse("illegal_step", op="close", status="reported")
    assert refusal != refuse("illegal_step", op="close", status="verified")


def test_refuse_wants_exactly_the_templates_params() -> None:
    with pytest.raises(TypeError):
        refuse("unknown_case")
    with pytest.raises(TypeError):
        refuse("unknown_case", case="x", unit="y")


def test_enum_params_are_params_of_some_template() -> None:
    used = {name for _, text in DETAILS.values() for name in placeholders(text)}
    assert set(ENUM_PARAMS) <= used


def test_a_refusal_without_detail_still_compares() -> None:
    plain = Refusal(ErrorCode.INVALID, "x")
    assert plain.detail is None and plain.params == {}
    assert plain == Refusal(ErrorCode.INVALID, "x")
