"""docs/SCENARIOS.md is enough to write a scenario: its table of steps says what the code allows,
every header and [expect] key is there, and its example is a scenario of the demo city."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import msgspec
import pytest

from dispatch.commands import ALL_COMMANDS, OPS, Command
from dispatch.models import IN_HAND_STATUSES, TERMINAL_STATUSES, Actor, Role, Status
from dispatch.roles import allowed
from dispatch.scenario import (
    Expect,
    ExpectedCall,
    ExpectedEscalation,
    ExpectedInstruction,
    ExpectedRollCall,
    ExpectedShift,
    Header,
    actor_for,
    check_city,
    loads,
)
from dispatch.workflow import TRANSITIONS
from hub.replay import demo_city_hall

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "SCENARIOS.md").read_text(encoding="utf-8")
SHIPPED = ROOT / "hub" / "data" / "scenarios"

# The §2.5 table; each row keeps the cells after `do`: fields, reason, from, hall, standby, unit.
ROWS = {
    m.group(1): [cell.strip() for cell in m.group(2).split("|")]
    for m in re.finditer(r"^\| `([a-z_]+)` \|(.*)\|$", DOC, flags=re.MULTILINE)
    if m.group(1) in OPS
}
BY_COLUMNS = {3: Role.DISPATCHER, 4: Role.STANDBY, 5: Role.UNIT}  # who `hall` / staff / unit are
SHORTHAND = {
    "in hand": IN_HAND_STATUSES,
    "any open": frozenset(Status) - TERMINAL_STATUSES,
    "any": frozenset(Status),
}
PLAYER_SET = {"id", "case", "version", "reason"}  # set by the player, or its own column


def _command(op: str) -> type[Command]:
    return next(c for c in ALL_COMMANDS if c.__struct_config__.tag == op)


def doc_example() -> str:
    """The one complete TOML scenario in the doc (§1)."""
    blocks: list[str] = re.findall(r"```toml\n(.*?)\n```", DOC, flags=re.DOTALL)
    assert len(blocks) == 1, "the doc should hold exactly one TOML example"
    return blocks[0]


def test_every_op_has_a_row_in_the_table_of_steps() -> None:
    assert set(ROWS) == OPS


@pytest.mark.parametrize("op", sorted(OPS))
def test_who_may_send_each_step_is_what_the_hub_allows(op: str) -> None:
    row = ROWS[op]
    for column, role in BY_COLUMNS.items():
        if not allowed(role, op):
            expected = ""
        elif role is Role.DISPATCHER or op == "intake":  # intake is not scoped to a unit
            expected = "✓"
        else:
            expected = "own unit"
        assert row[column] == expected, f"{op}: column for {role}"


@pytest.mark.parametrize("op", sorted(OPS))
def test_each_step_lists_exactly_its_commands_fields(op: str) -> None:
    names = set(re.findall(r"`([a-z_]+)`", ROWS[op][0]))
    fields = {f.encode_name for f in msgspec.structs.fields(_command(op))} - PLAYER_SET
    assert names == fields


@pytest.mark.parametrize("op", sorted(TRANSITIONS))
def test_each_step_says_the_statuses_it_may_be_played_in(op: str) -> None:
    cell = ROWS[op][2]
    statuses: set[Status] = set(Status(s) for s in re.findall(r"`([a-z_]+)`", cell))
    for words, group in SHORTHAND.items():
        if re.search(rf"(^|, ){words}(,|$)", cell):
            statuses |= group
    assert statuses == TRANSITIONS[op]


EXPECT_LISTS = ("escalation", "standby_call", "roll_call", "instruction", "shift")
"""``[expect]`` keys that are arrays of tables, each documented as ``[[expect.KEY]]``."""


@pytest.mark.parametrize(
    "struct",
    [Header, Expect, ExpectedEscalation, ExpectedCall, ExpectedRollCall, ExpectedInstruction,
     ExpectedShift],
)  # fmt: skip
def test_every_header_and_expect_key_is_documented(struct: type[msgspec.Struct]) -> None:
    for info in msgspec.structs.fields(struct):
        if struct is not Expect or info.encode_name not in EXPECT_LISTS:
            assert f"| `{info.encode_name}` |" in DOC, info.encode_name
    for key in EXPECT_LISTS:
        assert f"[[expect.{key}]]" in DOC, key


def test_the_example_is_a_scenario_of_the_demo_city() -> None:
    scenario = loads(doc_example())

    check_city(scenario, demo_city_hall(scenario))
    assert scenario.expect is not None and scenario.expect.escalation
    assert scenario.end > scenario.steps[-1].at  # deadlines run on after the last step
    assert {s.by for s in scenario.steps} >= {"hall", "S110", "S032", "municipal", None}


def test_every_shipped_scenario_is_described() -> None:
    section = DOC.split("## 5. The shipped scenarios", 1)[1].split("\n## ", 1)[0]
    for path in SHIPPED.glob("*.toml"):
        assert f"| `{path.stem}` |" in section, path.name


def test_the_upper_desks_and_the_commander_are_who_the_doc_says() -> None:
    """§2.4: `district-hall`, `leadership` and their people are dispatchers at their desk (so
    they may instruct, 批办); `commander` is the duty commander; `street` stays a terminal."""
    scenario = loads(doc_example())
    hall = demo_city_hall(scenario)
    step = scenario.steps[0]

    def actor(by: str) -> Actor:
        return actor_for(dataclasses.replace(step, by=by), hall)

    for by, unit in [("district-hall", "district-hall"), ("leadership", "leadership"),
                     ("S123", "district-hall"), ("S126", "leadership")]:  # fmt: skip
        assert actor(by).role is Role.DISPATCHER and actor(by).unit == unit, by
    assert actor("commander").role is Role.COMMANDER
    assert actor("street").role is Role.UNIT and actor("hall").unit is None
