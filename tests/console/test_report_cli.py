"""``griddesk report`` against a real hub on loopback: the figures of a small hall, counted by
hand from what was done to each case, are exactly the report's — in Markdown and in CSV, per
unit and per worker; each grid worker's report count, validity and patrol; the callbacks
owed. An operator who may not read the hall is refused (exit 1); a backwards window exits 2."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hub"))

from server_fixtures import RunningHub, running_hub, sqlite_url_in

from backend_client import HubClient
from console.i18n import translator
from console.report_cli import add_report_parser, report_async
from dispatch.commands import (
    Accept,
    Acknowledge,
    Approve,
    Arrive,
    Callback,
    Check,
    Close,
    Dispatch,
    Reject,
    ReportBack,
    RequestReturn,
    Verify,
)
from dispatch.models import Actor, Role, Source
from dispatch.protocol import Ack
from dispatch.tracks import TrackPoint

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # Monday 14:00 in the hall
COMMANDER = Actor(name="op-commander", role=Role.COMMANDER)
ZH = translator("zh_CN")


class StepClock:
    speed = 1.0

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    async def sleep(self, hub_seconds: float) -> None:
        await asyncio.sleep(3600)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for var in list(os.environ):
        if var.startswith("GRIDDESK_"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with running_hub(sqlite_url_in(tmp_path), clock=StepClock(NOW)) as running:
        yield running


class Hall:
    """Drives cases through the hub's engine as the commander, keeping their versions."""

    def __init__(self, hub: RunningHub) -> None:
        self.hub = hub
        self.versions: dict[str, int] = {}
        self.n = 0

    async def intake(self, **fields: Any) -> str:
        self.n += 1
        ack = await self.hub.engine.execute(self.hub.intake(self.n, **fields), COMMANDER)
        assert isinstance(ack, Ack) and ack.case is not None and ack.version is not None
        self.versions[ack.case] = ack.version
        return ack.case

    async def do(self, case: str, *steps: tuple[type, dict[str, Any]]) -> None:
        for kind, fields in steps:
            self.n += 1
            command = kind(id=f"c{self.n}", case=case, version=self.versions[case], **fields)
            ack = await self.hub.engine.execute(command, COMMANDER)
            assert ack.version is not None
            self.versions[case] = ack.version


def handled(unit: str, staff: str) -> list[tuple[type, dict[str, Any]]]:
    return [
        (Dispatch, {"unit": unit, "staff": staff}),
        (Acknowledge, {}),
        (Arrive, {}),
        (ReportBack, {"reason": "已处置"}),
    ]


CHECKED_CLOSED = [(Check, {"passed": True}), (Close, {})]
VERIFIED = [(Verify, {"confirmed": True}), (Accept, {})]


async def a_small_hall(hub: RunningHub) -> None:
    """Six cases in the first grid, handled by jw-1 (its grid workers S010 and S011)."""
    hall = Hall(hub)
    unit = "jw-1"
    p1 = await hall.intake(source=Source.PATROL, found_by="S010")  # closed on time
    await hall.do(p1, (Accept, {}), *handled(unit, "S010"), *CHECKED_CLOSED)
    p2 = await hall.intake(source=Source.PATROL, found_by="S010")  # not a case: rejected
    await hall.do(p2, (Reject, {"reason": "不属于受理范围"}))
    h1 = await hall.intake(source=Source.HOTLINE, reporter="12345-1")  # reworked, satisfied
    await hall.do(
        h1,
        *VERIFIED,
        *handled(unit, "S010"),
        (Check, {"passed": False, "reason": "仍有残留"}),
        (ReportBack, {"reason": "已再处置"}),
        *CHECKED_CLOSED,
        (Callback, {"satisfied": True}),
    )
    h2 = await hall.intake(source=Source.PHOTO, reporter="随手拍-2")  # returned, unsatisfied
    await hall.do(
        h2,
        *VERIFIED,
        (Dispatch, {"unit": unit, "staff": "S011"}),
        (RequestReturn, {"reason": "非本单位职责"}),
        (Approve, {"request": "return"}),
        *handled(unit, "S011"),
        *CHECKED_CLOSED,
        (Callback, {"satisfied": False}),
    )
    v1 = await hall.intake(source=Source.VIDEO)  # still in hand
    await hall.do(v1, (Accept, {}), (Dispatch, {"unit": unit, "staff": "S011"}))
    h3 = await hall.intake(source=Source.HOTLINE, reporter="12345-3")  # closed, callback owed
    await hall.do(h3, *VERIFIED, *handled(unit, "S010"), *CHECKED_CLOSED)
    # S010 patrols 20 minutes today (the demo city draws no grid outlines yet: 0 inside).
    points = [
        TrackPoint(at=NOW - timedelta(hours=1, seconds=-s), lon=121.4945, lat=31.2065)
        for s in range(0, 20 * 60, 30)
    ]
    async with HubClient.connected(hub.url, hub.tokens[Role.COMMANDER], timeout=10) as client:
        assert await client.report_positions("S010", points) == 40


async def report(
    hub: RunningHub,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    role: Role = Role.COMMANDER,
) -> tuple[int, str, str]:
    token = tmp_path / f"token-{role}"
    token.write_text(hub.tokens[role] + "\n", encoding="utf-8")
    parser = argparse.ArgumentParser(prog="griddesk")
    add_report_parser(parser.add_subparsers())
    options = ["--hub", hub.url, "--token-file", str(token), "--timeout", "10"]
    code = await report_async(parser.parse_args(["report", *options, *argv]))
    out, err = capsys.readouterr()
    return code, out, err


def md_rows(out: str, first_cell: str) -> list[list[str]]:
    return [
        [c.strip() for c in line.strip("|").split("|")]
        for line in out.splitlines()
        if line.startswith(f"| {first_cell} |")
    ]


async def test_markdown_figures_per_unit_are_the_ones_counted_by_hand(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await a_small_hall(hub)
    code, out, err = await report(hub, tmp_path, capsys)
    assert code == 0, err
    assert out.startswith("# " + ZH("Assessment report {since} – {until}").split(" ")[0])
    heads = md_rows(out, ZH("Unit"))[0]
    assert heads[4:10] == [
        ZH("Closure rate"),
        ZH("On-time closure rate"),
        ZH("Rework rate"),
        ZH("Return rate"),
        ZH("Found-first share"),
        ZH("Satisfaction"),
    ]
    # Reported, accepted, closed, 结案率, 按期结案率, 返工率, 退单率, 主动发现率, 回访满意率, 超期.
    [whole] = md_rows(out, ZH("Whole hall"))
    assert whole[1:] == [
        "6",
        "5",
        "4",
        "80.00 %",
        "100.00 %",
        "25.00 %",
        "20.00 %",
        "50.00 %",
        "50.00 %",
        "0",
    ]
    [jw1] = md_rows(out, hub.engine.hall.units["jw-1"].name)
    assert jw1[1:] == [
        "5",
        "5",
        "4",
        "80.00 %",
        "100.00 %",
        "25.00 %",
        "20.00 %",
        "40.00 %",
        "50.00 %",
        "0",
    ]
    # The grid worker who found P1 and P2: two reports, one became a case; 20 minutes on patrol,
    # all of them inside its own grid (the demo city draws the grids), still short of the minimum.
    [s010] = md_rows(out, hub.engine.hall.staff["S010"].name)
    assert s010[1:] == ["2", "1", "50.00 %", "1", "20", "20", "1"]  # all inside its grid
    [s011] = md_rows(out, hub.engine.hall.staff["S011"].name)
    assert s011[1:] == ["0", "0", "—", "0", "0", "0", "0"]  # found nothing: no rate, not 0 %
    assert f"{ZH('Callbacks owed')}: 1 · {ZH('overdue')}: 0" in out


async def test_csv_per_worker_carries_the_same_figures(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await a_small_hall(hub)
    code, out, err = await report(
        hub,
        tmp_path,
        capsys,
        "--by",
        "worker",
        "--format",
        "csv",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-23",
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    by_id = {(r[ZH("Section")], r[ZH("Id")]): r for r in rows}
    whole = rows[0]
    assert (whole[ZH("Closure rate")], whole[ZH("Satisfaction")]) == ("80.00", "50.00")
    s010 = by_id[(ZH("Worker"), "S010")]  # owned P1, H1, H3: all closed, H1 reworked
    assert [
        s010[ZH(c)] for c in ("Reported", "Closed", "Closure rate", "Rework rate", "Satisfaction")
    ] == ["3", "3", "100.00", "33.33", "100.00"]
    s011 = by_id[(ZH("Worker"), "S011")]  # owned H2 (returned once, unsatisfied) and V1
    assert [
        s011[ZH(c)] for c in ("Reported", "Closed", "Closure rate", "Return rate", "Satisfaction")
    ] == ["2", "1", "50.00", "50.00", "0.00"]
    finder = by_id[(ZH("Grid worker"), "S010")]
    assert (finder[ZH("Reported")], finder[ZH("Validity")]) == ("2", "50.00")
    assert finder[ZH("Patrol minutes")] == "19.5" and finder[ZH("Short-patrol days")] == "1"
    # Before the hall's first case: a window with nothing in it has no rates, not 0 %.
    code, out, _ = await report(
        hub, tmp_path, capsys, "--format", "csv", "--from", "2026-10-01", "--to", "2026-10-31"
    )
    empty = next(csv.DictReader(io.StringIO(out)))
    assert (empty[ZH("Reported")], empty[ZH("Closure rate")]) == ("0", "")


async def test_refusals_exit_codes(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await report(hub, tmp_path, capsys, "--from", "2026-11-20", "--to", "2026-11-01")
    assert code == 2 and "--from" in err
    unit_token = await hub.store.add_operator("jw1-terminal", Role.UNIT, "jw-1")
    hub.tokens[Role.UNIT] = unit_token
    code, _, err = await report(hub, tmp_path, capsys, role=Role.UNIT)
    assert code == 1 and "forbidden" in err
