"""``griddesk handover`` against a real hub on loopback: Markdown that starts with a ``#``
heading and has every section with its count; the shift's escalations and notes in it; the
default window starts at the last shift change; ``--ack`` writes the acknowledgement into the
log; an observer is refused (exit 1) and nothing is written; a bad ``--since`` exits 2."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hub"))

from server_fixtures import RunningHub, running_hub, sqlite_url_in

from console.handover_cli import add_handover_parser, handover_async, parse_since
from console.handover_text import SECTION_TITLES
from console.i18n import translator
from dispatch.commands import Accept, Escalate, ShiftChange
from dispatch.events import EventType
from dispatch.handover import Section
from dispatch.models import Role, Shift
from dispatch.protocol import Ack

TZ = ZoneInfo("Asia/Shanghai")


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


class Handover:
    """Runs ``griddesk handover`` in-process; returns (exit code, stdout, stderr)."""

    def __init__(self, hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
        self.hub, self.tmp_path, self.capsys = hub, tmp_path, capsys

    async def __call__(self, *argv: str, role: Role = Role.COMMANDER) -> tuple[int, str, str]:
        token = self.tmp_path / f"token-{role}"
        token.write_text(self.hub.tokens[role] + "\n", encoding="utf-8")
        parser = argparse.ArgumentParser(prog="griddesk")
        add_handover_parser(parser.add_subparsers())
        options = ["--hub", self.hub.url, "--token-file", str(token), "--timeout", "10"]
        code = await handover_async(parser.parse_args(["handover", *options, *argv]))
        out, err = self.capsys.readouterr()
        return code, out, err


@pytest.fixture
def handover(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Handover:
    return Handover(hub, tmp_path, capsys)


async def run(hub: RunningHub, *commands: object) -> list[Ack]:
    acks = []
    for command in commands:
        ack = await hub.engine.execute(command, _dispatcher())  # type: ignore[arg-type]
        acks.append(ack)
    return acks


def _dispatcher():  # type: ignore[no-untyped-def]
    from dispatch.models import Actor

    return Actor(name="op-dispatcher", role=Role.DISPATCHER)


async def a_shift(hub: RunningHub) -> str:
    """An urgent case escalated by hand during the shift; its id."""
    [ack] = await run(hub, hub.intake(1, urgency="urgent"))
    assert ack.case is not None
    await run(
        hub,
        Accept(id="a1", case=ack.case, version=1),
        Escalate(id="e1", case=ack.case, version=2, reason="需要街道协调"),
    )
    return ack.case


async def test_markdown_has_the_heading_and_every_section_with_its_count(
    hub: RunningHub, handover: Handover
) -> None:
    case = await a_shift(hub)
    code, out, err = await handover("--note", "青石路供水管仍关闭")
    assert code == 0, err
    zh = translator("zh_CN")
    lines = out.splitlines()
    assert lines[0].startswith("# ")
    headings = [line for line in lines if line.startswith("## ")]
    assert [h.split(" (")[0][3:] for h in headings] == [zh(SECTION_TITLES[s]) for s in Section]
    assert f"## {zh(SECTION_TITLES[Section.URGENT])} (1)" in headings
    assert f"## {zh(SECTION_TITLES[Section.ESCALATIONS])} (1)" in headings
    assert f"## {zh(SECTION_TITLES[Section.NOTES])} (1)" in headings
    assert any(case in line and "需要街道协调" in line for line in lines)
    assert any("青石路供水管仍关闭" in line for line in lines)
    # Nothing acknowledged without --ack.
    stored = await hub.store.events_after(0)
    assert EventType.HANDOVER_ACKNOWLEDGED not in {e.type for e in stored}


async def test_the_default_window_starts_at_the_last_shift_change(
    hub: RunningHub, handover: Handover
) -> None:
    await a_shift(hub)
    await run(hub, ShiftChange(id="s1", to=Shift.STANDBY))
    code, out, _ = await handover("--format", "json")
    assert code == 0
    data = msgspec.json.decode(out)
    shift = [e for e in await hub.store.events_after(0) if e.type is EventType.SHIFT_CHANGED]
    assert datetime.fromisoformat(data["since"]) == shift[-1].at
    # The escalation was before the shift change: not this shift's.
    assert data["sections"]["escalations"]["events"] == []
    assert len(data["sections"]["urgent"]["cases"]) == 1  # still open: handed on


async def test_ack_writes_the_acknowledgement_into_the_log(
    hub: RunningHub, handover: Handover
) -> None:
    await a_shift(hub)
    code, out, err = await handover("--ack", "--outgoing", "张建国", role=Role.DISPATCHER)
    assert code == 0, err
    assert out.startswith("# ")
    [ack] = [e for e in await hub.store.events_after(0)
             if e.type is EventType.HANDOVER_ACKNOWLEDGED]  # fmt: skip
    assert ack.actor == "op-dispatcher" and ack.data["outgoing"] == "张建国"
    assert ack.data["digest"] in err
    # The next report starts where that one was taken over.
    code, out, _ = await handover("--format", "json")
    assert datetime.fromisoformat(msgspec.json.decode(out)["since"]) == ack.at


async def test_an_observer_is_refused_and_nothing_is_written(
    hub: RunningHub, handover: Handover
) -> None:
    before = hub.engine.seq
    code, out, err = await handover("--ack", role=Role.OBSERVER)
    assert code == 1 and out == ""
    assert "forbidden" in err
    assert hub.engine.seq == before


async def test_a_bad_since_is_bad_usage(handover: Handover) -> None:
    code, _, err = await handover("--since", "25:99")
    assert code == 2 and "--since" in err


def test_since_reads_a_clock_time_today_or_an_iso_time() -> None:
    now = datetime(2026, 11, 23, 9, 45, tzinfo=UTC)  # 17:45 in the hall
    assert parse_since("17:30", now, TZ) == datetime(2026, 11, 23, 17, 30, tzinfo=TZ)
    assert parse_since("18:00", now, TZ) == datetime(2026, 11, 22, 18, 0, tzinfo=TZ)
    assert parse_since("2026-11-23T08:30", now, TZ) == datetime(2026, 11, 23, 8, 30, tzinfo=TZ)
    assert parse_since("2026-11-23T00:30:00+00:00", now, TZ) == now - timedelta(hours=9, minutes=15)
    with pytest.raises(ValueError):
        parse_since("noon", now, TZ)


async def test_ctl_verbs_write_the_note_and_take_the_shift_over(
    hub: RunningHub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from console.ctl import add_ctl_parser, ctl_async

    token = tmp_path / "token"
    token.write_text(hub.tokens[Role.COMMANDER] + "\n", encoding="utf-8")

    async def ctl(*words: str) -> int:
        parser = argparse.ArgumentParser(prog="griddesk")
        add_ctl_parser(parser.add_subparsers())
        options = ["--hub", hub.url, "--token-file", str(token), "--timeout", "10"]
        return await ctl_async(parser.parse_args(["ctl", *options, *words]))

    assert await ctl("交班记录", "雨水泵站", "2号泵检修中") == 0
    now = hub.engine.clock.now()
    since, until = (now - timedelta(hours=8)).isoformat(), now.isoformat()
    assert await ctl("takeover", since, until, "张建国") == 0
    before = hub.engine.seq
    assert await ctl("takeover", "2026-11-23T08:30", until, "张建国") == 2  # no offset
    assert "offset" in capsys.readouterr().err
    assert hub.engine.seq == before
    note, ack = (await hub.store.events_after(0))[-2:]
    assert (note.type, note.reason) == (EventType.HANDOVER_NOTED, "雨水泵站 2号泵检修中")
    assert ack.type is EventType.HANDOVER_ACKNOWLEDGED and ack.data["outgoing"] == "张建国"


def test_a_cut_window_says_the_report_is_incomplete() -> None:
    from backend_client.hall_model import HallModel
    from console.handover_text import INCOMPLETE, ReportWords, markdown
    from console.i18n import Language
    from console.wording import Wording
    from dispatch.catalog import Catalog
    from dispatch.handover import build

    until = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    words = Wording(Language("en"), Catalog.default(), HallModel())
    rw = ReportWords(words, TZ, {})
    whole = markdown(build([], [], until - timedelta(hours=9), until), rw)
    cut = markdown(build([], [], until - timedelta(hours=9), until, complete=False), rw)
    assert INCOMPLETE not in whole and f"> {INCOMPLETE}" in cut
    assert whole.startswith("# Shift hand-over 2026-11-23 08:30 – 17:30\n")
