"""``griddesk ctl swap|standby|commander`` end to end against a real hub with the demo city's
rota: the commander's change is on the hub (and on disk); a past duty day or a dispatcher is
refused, exit 1, and changes nothing."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hub"))

from server_fixtures import RunningHub, running_hub, seed_store, sqlite_url_in

from console.ctl import add_ctl_parser, ctl_async
from dispatch.models import Role
from dispatch.rota import CommanderFor, StandbyFor, Swap
from hub.demo_city import demo_rota
from hub.store import Store

LATER = date(2030, 1, 2)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in list(os.environ):
        if var.startswith("GRIDDESK_"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[tuple[RunningHub, dict[Role, str]]]:
    url = sqlite_url_in(tmp_path)
    tokens = await seed_store(url)
    store = await Store.open(url)
    await store.seed_rota(demo_rota())
    await store.close()
    async with running_hub(url, seed=False) as running:
        yield running, tokens


async def ctl(hub: RunningHub, tmp_path: Path, token: str, *words: str) -> int:
    path = tmp_path / "token"
    path.write_text(token + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser(prog="griddesk")
    add_ctl_parser(parser.add_subparsers())
    options = ["--hub", hub.url, "--token-file", str(path), "--timeout", "10"]
    return await ctl_async(parser.parse_args(["ctl", *options, *words]))


async def test_the_commanders_rota_verbs_change_the_hubs_rota(
    hub: tuple[RunningHub, dict[Role, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running, tokens = hub
    token = tokens[Role.COMMANDER]
    day = "2030-01-02"
    assert await ctl(running, tmp_path, token, "swap", day, "S037", "S041", "家中有事") == 0
    assert "ok rota_swap" in capsys.readouterr().out
    assert await ctl(running, tmp_path, token, "standby", day, "城管一中队", "S041,S034") == 0
    assert await ctl(running, tmp_path, token, "commander", day, "林晓红") == 0
    rota = running.engine.rota
    assert rota is not None
    assert rota.overrides == (
        Swap(on=LATER, a="S037", b="S041", by="op-commander"),
        StandbyFor(on=LATER, unit="enforcement-1", order=("S041", "S034"), by="op-commander"),
        CommanderFor(on=LATER, commander="林晓红", by="op-commander"),
    )
    assert (await running.store.load()).rota == rota  # on disk, for the next start


async def test_a_past_day_or_a_dispatcher_is_refused_and_changes_nothing(
    hub: tuple[RunningHub, dict[Role, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running, tokens = hub
    before = running.engine.rota
    past = ("swap", "2020-01-02", "S037", "S041")
    assert await ctl(running, tmp_path, tokens[Role.COMMANDER], *past) == 1
    assert "illegal_step: duty day 2020-01-02 is over" in capsys.readouterr().err
    dispatcher = tokens[Role.DISPATCHER]
    assert await ctl(running, tmp_path, dispatcher, "commander", "2030-01-02", "x") == 1
    assert running.engine.rota == before


async def test_rota_prints_who_is_on_duty_now_as_the_hub_says(
    hub: tuple[RunningHub, dict[Role, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    running, tokens = hub
    on = running.engine.on_duty()
    assert on is not None
    assert await ctl(running, tmp_path, tokens[Role.OBSERVER], "rota") == 0
    head, *units = capsys.readouterr().out.splitlines()
    assert head.startswith(f"duty day {on.day.isoformat()}, ")
    assert f"duty commander {on.commander};" in head
    squad = next(line for line in units if line.startswith("城管一中队: "))
    first = running.engine.hall.staff[on.standby["enforcement-1"][0]]
    assert f"1. {first.name} {first.id}" in squad
    assert await ctl(running, tmp_path, tokens[Role.COMMANDER], "--json", "rota") == 0
    answer = msgspec.json.decode(capsys.readouterr().out)
    assert answer["commander"] == on.commander and answer["standby"]["police"] == list(
        on.standby["police"]
    )


async def test_rota_on_a_hub_without_one_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_url_in(tmp_path)
    async with running_hub(url) as running:
        assert await ctl(running, tmp_path, running.tokens[Role.COMMANDER], "rota") == 0
    assert capsys.readouterr().out.startswith("no rota")
