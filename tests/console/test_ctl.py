"""``griddesk ctl`` end to end against a real hub on a loopback port: the verbs change the hub's
state, read verbs print it, refusals exit 1 with the hub's code and change nothing, a bad
token or an unreachable hub exits 3, a bad line exits 2 before anything is sent."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hub"))

from server_fixtures import RunningHub, running_hub, sqlite_url_in

from console.ctl import add_ctl_parser, ctl_async, run_ctl
from console.i18n import translator
from console.labels import label
from dispatch.config import Settings
from dispatch.models import Case, Role, Staff, Status
from dispatch.protocol import Ack

_ZH = translator("zh_CN")


def zh(status: Status) -> str:
    """The status as ctl prints it in the default zh_CN console: the board's own label."""
    return label(status, _ZH)


CATEGORY = "E0101"


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No GRIDDESK_* from the developer's shell, and no ./config.toml from the repo root."""
    for var in list(os.environ):
        if var.startswith("GRIDDESK_"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with running_hub(sqlite_url_in(tmp_path)) as running:
        yield running


def token_file(tmp_path: Path, token: str, name: str = "token") -> Path:
    path = tmp_path / name
    path.write_text(token + "\n", encoding="utf-8")
    return path


def args(*argv: str | Path) -> argparse.Namespace:
    """Parse a ``griddesk ctl …`` line with the parser the CLI uses."""
    parser = argparse.ArgumentParser(prog="griddesk")
    add_ctl_parser(parser.add_subparsers())
    return parser.parse_args(["ctl", *map(str, argv)])


class Ctl:
    """Runs ``griddesk ctl`` in-process as the commander; returns (exit code, stdout, stderr)."""

    def __init__(self, hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
        self.hub = hub
        self.token = token_file(tmp_path, hub.tokens[Role.COMMANDER])
        self.capsys = capsys

    async def __call__(self, *words: str, json: bool = False) -> tuple[int, str, str]:
        options = ["--hub", self.hub.url, "--token-file", str(self.token), "--timeout", "10"]
        code = await ctl_async(args(*options, *(["--json"] if json else []), *words))
        out, err = self.capsys.readouterr()
        return code, out, err

    async def ok(self, *words: str, json: bool = False) -> str:
        code, out, err = await self(*words, json=json)
        assert code == 0, err
        return out

    async def case(self, case_id: str) -> Case:
        return msgspec.json.decode(await self.ok("show", case_id, json=True), type=Case)


@pytest.fixture
def ctl(hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Ctl:
    return Ctl(hub, tmp_path, capsys)


async def intake(ctl: Ctl, title: str = "路边堆放垃圾") -> str:
    out = await ctl.ok(
        "intake",
        "--category",
        CATEGORY,
        "--source",
        "patrol",
        "--grid",
        "梧桐苑网格",
        "--title",
        title,
        json=True,
    )
    ack = msgspec.json.decode(out, type=Ack)
    assert ack.case is not None and ack.version == 1
    return ack.case


async def test_intake_list_accept_assign_show(ctl: Ctl) -> None:
    case_id = await intake(ctl)

    listed = await ctl.ok("list", "accept")
    row = next(line for line in listed.splitlines() if line.startswith(case_id))
    assert zh(Status.REPORTED) in row and "梧桐苑网格" in row
    assert "1 case(s) in to_accept" in listed
    assert case_id not in await ctl.ok("list", "dispatch")

    accepted = await ctl.ok("accept", case_id[-4:])
    assert f"ok accept: case {case_id} version 2" in accepted

    assigned = await ctl.ok("assign", case_id, "城管一中队", "叶立新")
    assert "城管一中队 叶立新" in assigned

    shown = await ctl.ok("show", case_id)
    assert "城管一中队 叶立新" in shown  # the owner, by name
    assert f"{zh(Status.DISPATCHED)} (dispatched)" in shown
    assert "路边堆放垃圾" in shown
    assert "时限 deadlines:" in shown and "result" in shown
    # The intake happened on an earlier connection: the history comes from the hub's log.
    history = shown.split("历史 history:")[1].splitlines()
    hall = ZoneInfo(Settings().clock.timezone)
    for event in await ctl.hub.store.case_events(case_id):
        line = next(line for line in history if str(event.type) in line.split())
        assert event.at.astimezone(hall).strftime("%Y-%m-%d %H:%M:%S") in line
        assert "op-commander" in line

    case = await ctl.case(case_id)
    assert (case.status, case.owner_unit, case.owner_staff, case.version) == (
        Status.DISPATCHED,
        "enforcement-1",
        "S034",
        3,
    )
    assert ctl.hub.engine.cases[case_id] == case  # what ctl printed is the hub's truth


async def test_refused_command_exits_1_and_changes_nothing(ctl: Ctl) -> None:
    case_id = await intake(ctl)
    before = ctl.hub.engine.cases[case_id]
    seq = ctl.hub.engine.seq

    code, out, err = await ctl("close", case_id)  # a reported case cannot be closed

    assert code == 1
    assert out == ""
    assert "refused by the hub: illegal_step" in err
    assert ctl.hub.engine.cases[case_id] == before
    assert ctl.hub.engine.seq == seq  # no event written


async def test_json_outputs_parse(ctl: Ctl) -> None:
    case_id = await intake(ctl)

    ack = msgspec.json.decode(await ctl.ok("note", case_id, "已电话联系", json=True), type=Ack)
    assert (ack.case, ack.version, ack.replayed) == (case_id, 2, False)

    cases = msgspec.json.decode(await ctl.ok("list", "all", json=True), type=list[Case])
    assert [c.id for c in cases] == [case_id]

    people = msgspec.json.decode(await ctl.ok("roster", "城管一中队", json=True), type=list[Staff])
    assert people and {p.unit for p in people} == {"enforcement-1"}


async def test_suggest_sends_a_gas_leak_to_the_gas_company_with_the_locality_helping(
    ctl: Ctl,
) -> None:
    out = await ctl.ok(
        "intake", "--category", "E0403", "--source", "photo", "--grid", "临河里网格",
        "--title", "燃气泄漏", json=True,
    )  # fmt: skip
    case_id = msgspec.json.decode(out, type=Ack).case
    assert case_id is not None
    text = await ctl.ok("suggest", case_id)
    lines = text.splitlines()
    assert lines[0] == f"{case_id} E0403 燃气泄漏 → 东川燃气公司：主管部门"
    assert any(line.startswith("  + 临河里居委会：属地 · 协办") for line in lines)
    people = [line for line in lines if line.startswith("    1. ")]
    assert len(people) == 2  # the first of each unit, with what ranked them
    assert all("在岗" in p or "备勤" in p for p in people)
    answer = msgspec.json.decode(await ctl.ok("suggest", case_id, json=True))
    assert (answer["unit"], answer["why"]) == ("gas", "dept")
    assert [(s["unit"], s["why"]) for s in answer["supporting"]] == [("jw-2", "locality")]
    first = answer["staff"][0]
    assert first["field"] != "offline" and first["duty"] == "on_duty"


async def test_roster_prints_people_of_a_unit(ctl: Ctl) -> None:
    out = await ctl.ok("roster", "城管一中队")
    assert "叶立新" in out and "城管一中队" in out
    assert "青石派出所" not in out


async def test_staff_status_changes_the_person(ctl: Ctl) -> None:
    out = await ctl.ok("staff", "叶立新", "busy")
    assert out.startswith("ok staff_status")
    people = msgspec.json.decode(await ctl.ok("roster", json=True), type=list[Staff])
    assert next(p for p in people if p.id == "S034").field == "busy"


async def test_bad_token_exits_3(
    ctl: Ctl, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = token_file(tmp_path, "gd_not-a-token", "bad-token")
    code = await ctl_async(args("--hub", ctl.hub.url, "--token-file", bad, "list"))
    _, err = capsys.readouterr()
    assert code == 3
    assert "refused the token" in err


async def test_unreachable_hub_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    token = token_file(tmp_path, "whatever")
    # port 9 (discard) on loopback: nothing listens there
    code = await ctl_async(
        args("--hub", "ws://127.0.0.1:9", "--token-file", token, "--timeout", "0.5", "list")
    )
    _, err = capsys.readouterr()
    assert code == 3
    assert "not reached" in err


async def test_parse_error_exits_2_and_sends_nothing(ctl: Ctl) -> None:
    case_id = await intake(ctl)
    seq = ctl.hub.engine.seq

    code, out, err = await ctl("assign", case_id, "城管")  # two units start with 城管
    assert code == 2 and out == ""
    assert "matches several units" in err

    code, _, err = await ctl("escalate", case_id)  # no reason
    assert code == 2 and "a reason is required" in err

    assert ctl.hub.engine.seq == seq


def test_usage_errors_exit_2_without_a_hub(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_file(tmp_path, "whatever")
    nowhere = ("--hub", "ws://127.0.0.1:9", "--token-file", token)

    assert run_ctl(args(*nowhere)) == 2
    assert "say a verb" in capsys.readouterr().err

    assert run_ctl(args(*nowhere, "asign", "0042")) == 2
    assert "did you mean assign" in capsys.readouterr().err

    assert run_ctl(args("--hub", "ws://127.0.0.1:9", "list")) == 2
    assert "no token" in capsys.readouterr().err

    assert run_ctl(args("--token-file", tmp_path / "missing", "list")) == 2
    assert "cannot read the token file" in capsys.readouterr().err


def test_token_from_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRIDDESK_TOKEN", "from-env")
    # the token is taken (no "no token" usage error); the hub is unreachable: exit 3
    code = run_ctl(args("--hub", "ws://127.0.0.1:9", "--timeout", "0.3", "list"))
    assert code == 3
    assert "no token" not in capsys.readouterr().err


async def test_a_hub_list_passes_over_a_dead_hub_to_the_next(ctl: Ctl) -> None:
    """``--hub`` (and console.hub_url) take several hubs: one that does not answer is skipped."""
    dead = "ws://127.0.0.1:9"  # the discard port: nothing listens there
    options = ["--hub", f"{dead},{ctl.hub.url}", "--token-file", str(ctl.token), "--timeout", "10"]
    code = await ctl_async(args(*options, "list", "accept"))
    out, err = ctl.capsys.readouterr()
    assert code == 0, err
    assert "case(s) in to_accept" in out
