"""``griddesk ctl`` and the chain of command, end to end against a real hub: the commander
blows the whistle, a unit reports in, ``rollcall`` prints (and ``--json`` gives) who came in
time and who is not in yet; ``show`` prints the instructions; ``list desk`` is the operator's
own desk queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest
from console_fixtures import RunningHub, running_hub, sqlite_url_in
from test_ctl import Ctl, args, intake, isolated, token_file

from console.ctl import ctl_async
from dispatch.models import Role
from hub.demo_city import DISTRICT_HALL

__all__ = ["isolated"]  # test_ctl's autouse fixture: no GRIDDESK_* env, no ./config.toml


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with running_hub(sqlite_url_in(tmp_path)) as running:
        yield running


@pytest.fixture
def ctl(hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Ctl:
    return Ctl(hub, tmp_path, capsys)


async def test_whistle_report_in_and_the_roll_call(ctl: Ctl) -> None:
    case = await intake(ctl)
    await ctl.ok("accept", case)
    assert "未吹哨" in await ctl.ok("rollcall", case)
    await ctl.ok("whistle", case, "青石派出所,青石市场监管所", "30", "占道回潮", "各部门报到")
    await ctl.ok("报到", case, "police")
    text = await ctl.ok("点名", case)
    police = next(line for line in text.splitlines() if line.startswith("青石派出所"))
    market = next(line for line in text.splitlines() if line.startswith("青石市场监管所"))
    assert "(in_time)" in police and "op-commander" in police
    assert "(waiting)" in market
    rolled = msgspec.json.decode(await ctl.ok("rollcall", case, json=True))
    assert [(u["unit"], u["attendance"]) for u in rolled["units"]] == [
        ("police", "in_time"), ("market", "waiting"),
    ]  # fmt: skip
    assert rolled["whistle"]["by"] == "op-commander"


async def test_show_prints_instructions_and_list_desk_is_the_operators_desk(
    ctl: Ctl, hub: RunningHub, tmp_path: Path
) -> None:
    case = await intake(ctl)
    for _ in range(2):
        await ctl.ok("escalate", case, "协调不了")
    await ctl.ok("instruct", case, "2h", "两小时内处置到位")
    shown = await ctl.ok("show", case)
    assert "批办 instructions" in shown and "两小时内处置到位" in shown and "due" in shown
    district = token_file(tmp_path, await hub.store.add_operator(
        "op-district", Role.DISPATCHER, DISTRICT_HALL), "district")  # fmt: skip
    options = ["--hub", hub.url, "--token-file", str(district), "--timeout", "10"]
    assert await ctl_async(args(*options, "list", "desk")) == 0
    out, _ = ctl.capsys.readouterr()
    assert case in out and "1 case(s) in desk" in out
