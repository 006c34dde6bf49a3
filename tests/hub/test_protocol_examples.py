"""docs/PROTOCOL.md stays true to the hub: its client example runs against a real hub, its role
and workflow tables are the ones the hub enforces, and its examples name real ids.

(That every JSON example decodes as the type it shows is tests/console/test_protocol_doc.py.)
"""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest
from server_fixtures import UNIT, TestClient, running_hub, sqlite_url_in

from dispatch.catalog import Catalog
from dispatch.commands import OPS, Reject
from dispatch.errors import DETAILS, ENUM_PARAMS, ErrorCode, placeholders
from dispatch.models import IN_HAND_STATUSES, TERMINAL_STATUSES, Role, Status
from dispatch.protocol import Ack
from dispatch.roles import ALLOWED
from dispatch.workflow import RESULTS, TRANSITIONS
from hub.demo_city import demo_city

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")


def client_example() -> str:
    """The Python client between the doc's ``client-example`` markers."""
    found = re.search(
        r"<!-- client-example:begin -->\n```python\n(.*?)```\n<!-- client-example:end -->",
        DOC,
        flags=re.DOTALL,
    )
    assert found, "the client example's markers are missing from docs/PROTOCOL.md"
    return found.group(1)


def table_after(heading: str) -> list[list[str]]:
    """The cells of the first Markdown table after ``heading`` (header and rule left out)."""
    text = DOC[DOC.index(heading) :]
    lines = text[text.index("\n|") + 1 :].splitlines()
    rows = [line for line in lines[: next(i for i, s in enumerate(lines) if not s.startswith("|"))]]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]


def op_of_cell(cell: str) -> str:
    found = re.fullmatch(r"`(\w+)`", cell)
    assert found, cell
    return found.group(1)


async def test_the_client_example_runs_against_a_real_hub(tmp_path: Path) -> None:
    script = tmp_path / "watch.py"
    script.write_text(client_example(), encoding="utf-8")
    async with running_hub(sqlite_url_in(tmp_path)) as hub, TestClient.connect(hub.url) as hall:
        await hall.hello(hub.tokens[Role.COMMANDER])
        await hall.snapshot()
        acks = [(await hall.execute(hub.intake(n)))[1] for n in range(3)]
        assert all(isinstance(a, Ack) and a.case for a in acks)
        first = acks[0]
        assert isinstance(first, Ack) and first.case and first.version
        _, rejected = await hall.execute(
            Reject(id="reject-0", case=first.case, version=first.version, reason="不属于城市管理")
        )
        assert isinstance(rejected, Ack)
        seq_before = hub.engine.seq

        watcher = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            hub.url,
            hub.tokens[Role.OBSERVER],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert watcher.stdout is not None
            greeting = await asyncio.wait_for(watcher.stdout.readline(), UNIT * 5)
            assert greeting.decode().strip() == "op-observer (observer): 2 open cases"
            for n in range(10):  # each intake writes one event or more: ten at least
                _, ack = await hall.execute(hub.intake(f"live-{n}"))
                assert isinstance(ack, Ack)
            out, err = await asyncio.wait_for(watcher.communicate(), UNIT * 5)
        finally:
            if watcher.returncode is None:
                watcher.kill()
                await watcher.wait()
        expected = await hub.store.events_after(seq_before, 10)

    assert watcher.returncode == 0, err.decode()
    assert out.decode().splitlines() == [f"{e.seq} {e.type} {e.case}" for e in expected]


def test_the_role_table_is_the_one_the_hub_enforces() -> None:
    rows = table_after("### 4.1 Who may send what")
    roles = list(Role)
    assert {op_of_cell(row[0]) for row in rows} == OPS
    assert len(rows) == len(OPS)
    for row in rows:
        op, cells = op_of_cell(row[0]), row[1:]
        assert len(cells) == len(roles), row
        documented = {role for role, cell in zip(roles, cells, strict=True) if cell}
        assert documented == {role for role in roles if op in ALLOWED[role]}, op
        for role, cell in zip(roles, cells, strict=True):
            scoped = role in (Role.STANDBY, Role.UNIT) and op != "intake"
            # The chain of command narrows two cells by rule, not by the unit's own cases.
            special = {("instruct", Role.DISPATCHER): "at desk"}
            if op == "report_in" and scoped:
                special[op, role] = "summoned"
            expected = special.get((op, role), "own unit" if scoped else "✓")
            assert cell in ("", expected), (op, role, cell)


def _names(cell: str) -> set[str]:
    return set(re.findall(r"`(\w+)`", cell))


def test_the_detail_table_is_the_hubs() -> None:
    """Every detail id with its code, params and English text: a detail missing from the doc,
    or documented but not in ``DETAILS`` (or documented wrong), fails here."""
    rows = table_after("### 7.1 Detail ids")
    documented = {}
    for row in rows:
        detail, code, params, text = row[:4]
        assert re.fullmatch(r"`[^`]+`", text), row
        documented[op_of_cell(detail)] = (ErrorCode(op_of_cell(code)), _names(params), text[1:-1])
    assert len(rows) == len(documented)
    assert documented == {
        detail: (code, set(placeholders(text)), text) for detail, (code, text) in DETAILS.items()
    }


def test_the_param_table_names_every_param_and_which_are_enumerations() -> None:
    rows = table_after("### 7.2 Params")
    documented = {name: row[1] for row in rows for name in _names(row[0])}
    used = {name for _, text in DETAILS.values() for name in placeholders(text)}
    assert documented.keys() == used
    for name, holds in documented.items():
        assert ("(§6)" in holds) == (name in ENUM_PARAMS), name


def _statuses(cell: str) -> set[Status]:
    """The statuses a workflow table cell names: backticked ones plus the doc's shorthands."""
    found = {Status(s) for s in re.findall(r"`(\w+)`", cell) if s in set(Status)}
    if "in hand" in cell:
        found |= IN_HAND_STATUSES
    if "any open" in cell:
        found |= set(Status) - TERMINAL_STATUSES
    if "any status" in cell:
        found |= set(Status)
    return found


def test_the_workflow_table_is_transitions_and_results() -> None:
    rows = table_after("### 4.2 The workflow")
    assert {op_of_cell(row[0]) for row in rows} == OPS
    for row in rows:
        op, source, target = op_of_cell(row[0]), row[1], row[2]
        assert _statuses(source) == set(TRANSITIONS.get(op, ())), op
        assert _statuses(target) == set(RESULTS.get(op, ())), op


def _command_examples() -> list[dict[str, Any]]:
    examples = [msgspec.json.decode(e) for e in re.findall(r"```json\n(.*?)\n```", DOC, re.S)]
    bodies = [e["command"] if e.get("type") == "command" else e for e in examples]
    return [b for b in bodies if "op" in b]


@pytest.mark.parametrize("command", _command_examples(), ids=lambda c: f"{c['op']}-{c['id']}")
def test_command_examples_name_what_exists_in_the_demo_city(command: dict[str, Any]) -> None:
    city = demo_city()
    units = {u.id for u in city.units}
    staff = {s.id: s for s in city.staff}
    catalog = Catalog.default()
    for key in ("unit", "lead"):
        if key in command:
            assert command[key] in units, command
    assert set(command.get("supporting", ())) <= units
    if command.get("staff") is not None:
        assert command["staff"] in staff, command
        if command.get("unit") is not None:
            assert staff[command["staff"]].unit == command["unit"], command
    if command.get("grid") is not None:
        assert command["grid"] in {a.code for a in city.areas if a.kind == "grid"}
    if command.get("category") is not None:
        category = catalog.by_code[command["category"]]
        assert command.get("kind", category.kind) == category.kind, command


def test_the_unit_and_area_examples_are_the_demo_citys() -> None:
    city = demo_city()
    units = {u.id: msgspec.to_builtins(u) for u in city.units}
    # As on the wire (JSON): an area's outline is a list there, a tuple in to_builtins.
    areas = {a.code: msgspec.json.decode(msgspec.json.encode(a)) for a in city.areas}
    shapes = DOC[DOC.index("## 6. Shapes") :]
    examples = [msgspec.json.decode(e) for e in re.findall(r"```json\n(.*?)\n```", shapes, re.S)]
    unit = next(e for e in examples if "dept" in e)
    area = next(e for e in examples if "code" in e)
    assert units[unit["id"]] == unit
    assert areas[area["code"]] == area
