"""Recording a live hub as a scenario (``griddesk record``): one step per command as it happens,
written and flushed at once; the hub's own doings left out; what cannot be replayed skipped
and counted; and the round trip — record a hub while a scenario is fed into it, replay the
recording into a fresh hub, and the same day comes out."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from server_fixtures import UNIT, sqlite_url_in
from test_scenario_feed import GRID, HEADER, by_command, fast_hub, live_client, log_of, until

from backend_client import HubClient
from backend_client.scenario_feed import Outcome, feed, read_scenario
from backend_client.scenario_record import NeedsWholeView, RecordReport, record
from dispatch.commands import Accept
from dispatch.events import EventType
from dispatch.models import Case, Level, Role, Status
from dispatch.scenario import format_time, loads

SPEED = 2400.0 / UNIT
"""1200× (sixteen scripted minutes in under a second), slower where the tests' time unit is
scaled up: the script keeps its cases minutes inside their deadlines in hub time, and that
must stay more than a stall of a slow machine in real time."""


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)  # ints, and strings TOML reads alike


def _step(at: str, do: str, case: str | None = None, **fields: Any) -> str:
    values = {"at": at, "do": do} | ({"case": case} if case else {}) | fields
    return "\n[[step]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in values.items())


def _intake(at: str, case: str, category: str, title: str, **more: Any) -> str:
    more = {"kind": "event", "source": "patrol"} | more
    return _step(at, "intake", case, category=category, title=title, **more)


PHOTO = {"source": "photo", "reporter": "随手拍 138****0001"}

# A quarter of an hour of the hall, one of every kind of command: the workflow's main line,
# its side ways (verify, rework, return, extension, park, void refused, merge, reject), joint
# enforcement, people — and an urgent road collapse nobody accepts, which the hub escalates.
DAY = HEADER.format(name="day") + "".join(
    [
        _intake("09:00", "garbage", "E0101", "梧桐路暴露垃圾", grid=GRID),
        _intake("09:00:20", "bikes", "E0505", "共享单车乱停放", grid=GRID, **PHOTO),
        _intake("09:00:40", "collapse", "E0401", "临河路路面塌陷", grid="310115001002"),
        _step("09:01", "accept", "garbage"),
        _step("09:01:20", "verify", "bikes", confirmed=True),
        _step("09:01:40", "dispatch", "garbage", unit="jw-1", staff="S010"),
        _intake("09:02", "dup", "E0101", "梧桐路垃圾又报了一次", grid=GRID),
        _step("09:02:20", "merge", "dup", into="garbage", reason="同一处垃圾"),
        _step("09:02:40", "accept", "bikes", category="E0504", reason="实为机动车违停"),
        _step("09:03", "dispatch", "bikes", unit="traffic"),
        _step("09:03:20", "acknowledge", "garbage", by="jw-1"),
        _step("09:03:40", "request_return", "bikes", by="traffic", reason="应由城管处理"),
        _step("09:04", "approve", "bikes", request="return"),
        _step("09:04:20", "dispatch", "bikes", unit="enforcement-1", staff="S035"),
        _step("09:04:40", "arrive", "garbage", by="jw-1"),
        _step("09:05", "report_back", "garbage", by="jw-1", reason="已清运"),
        _step("09:05:20", "check", "garbage", passed=False, reason="仍有残留"),
        _step("09:05:40", "report_back", "garbage", by="jw-1", reason="已彻底清运"),
        _step("09:06", "check", "garbage", passed=True),
        _step("09:06:20", "close", "garbage"),
        _intake("09:06:40", "vendor", "E0501", "桐荫广场占道经营", grid=GRID),
        _step("09:07", "accept", "vendor"),
        _step("09:07:20", "joint", "vendor", lead="enforcement-1", supporting=["market", "police"]),
        _step("09:07:40", "request_extension", "vendor", minutes=60, reason="待市场所到场"),
        _step("09:08", "approve", "vendor", request="extension"),
        _step("09:08:20", "escalate", "vendor", reason="摊贩拒不撤离"),
        _step("09:08:40", "note", "vendor", reason="已联系派出所"),
        _step("09:09", "urge", "bikes"),
        _step("09:09:20", "report_back", "bikes", reason="已拖离"),
        _step("09:09:40", "check", "bikes", passed=True),
        _step("09:10", "close", "bikes"),
        _step("09:10:20", "callback", "bikes", satisfied=True),
        _intake("09:10:40", "noise", "E0602", "夜间噪声扰民", grid=GRID, source="hotline"),
        _step("09:11", "reject", "noise", reason="重复来电"),
        _intake("09:11:20", "rental", "E0601", "群租房", grid=GRID),
        _step("09:11:40", "accept", "rental"),
        _step("09:12", "dispatch", "rental", unit="housing"),
        _step("09:12:20", "request_park", "rental", reason="需区里协调"),
        _step("09:12:40", "approve", "rental", request="park"),
        _step("09:13", "resume", "rental"),
        _step("09:13:20", "request_void", "rental", reason="房东已整改"),
        _step("09:13:40", "refuse", "rental", request="void", reason="尚未核实"),
        _step("09:14", "reassign", "rental", unit="street", reason="改由街道牵头"),
        _step("09:14:10", "report_back", "vendor", by="enforcement-1", reason="已劝离"),
        _step("09:14:20", "rework", "vendor", reason="摊贩又回来了"),
        _intake("09:14:40", "stain", "E0103", "青石路路面污渍", grid=GRID, **PHOTO),
        _step("09:15", "verify", "stain", confirmed=False, reason="现场未见"),
        _step("09:15:20", "staff_status", staff="S005", field="en_route"),
        _step("09:15:40", "shift_change", to="standby"),
    ]
)

COMPARED = ("kind", "category", "source", "urgency", "status", "title", "grid", "reporter",
            "level", "owner_unit", "owner_staff", "supporting_units", "returns", "urges",
            "reworks", "extensions", "breaches", "callback", "on_time")  # fmt: skip


def _shape(case: Case, ids: dict[str, str]) -> dict[str, Any]:
    """What must come out the same, with case ids put through ``ids`` (one hub's → the other's)."""
    shape = {name: getattr(case, name) for name in COMPARED}
    shape["merged_into"] = ids.get(case.merged_into or "", case.merged_into)
    shape["duplicate_of"] = ids.get(case.duplicate_of or "", case.duplicate_of)
    shape["request"] = case.request.kind if case.request else None
    return shape


async def _caught_up(client: HubClient, seq: int) -> None:
    await until(client, lambda: client.mirror.seq >= seq)


async def test_a_recording_replays_into_a_fresh_hub_as_the_same_day(tmp_path: Path) -> None:
    original = loads(DAY)
    out = tmp_path / "recorded.toml"
    async with (
        fast_hub(sqlite_url_in(tmp_path / "live"), SPEED) as live,
        live_client(live.url, live.tokens[Role.DISPATCHER]) as watcher,
        live_client(live.url, live.tokens[Role.COMMANDER]) as desk,
    ):
        stop = asyncio.Event()
        recording = asyncio.create_task(record(watcher, out, name="recorded", stop=stop))
        await asyncio.sleep(0)  # let the recorder subscribe before the first step
        fed = await feed(desk, original)
        collapse = fed.cases["collapse"]
        await until(desk, lambda: desk.mirror.cases[collapse].breaches == 1)
        await _caught_up(watcher, live.engine.seq)
        stop.set()
        made = await recording
        live_cases = dict(live.engine.cases)
        live_staff = {s.id: (s.duty, s.field) for s in live.engine.snapshot().staff}
        live_log = await log_of(live)

    assert [r.outcome for r in fed.results] == [Outcome.APPLIED] * len(original.steps)
    recorded = read_scenario(out)
    assert made == RecordReport(steps=len(original.steps), cases=original.cases, skipped=0)
    # Step for step what was fed — nothing of the hub's own (the collapse's breach, its
    # escalation and alert are in the log, not in the file), nothing twice.
    assert any(e.type is EventType.DEADLINE_BREACHED for e in live_log)
    assert [s.do for s in recorded.steps] == [s.do for s in original.steps]
    assert [s.case for s in recorded.steps] == [fed.cases.get(s.case or "") for s in original.steps]
    for mine, theirs in zip(original.steps, recorded.steps, strict=True):
        fields = theirs.fields()
        if mine.do != "intake":
            fields.pop("into", None)  # the live hub's id of the merge target, checked below
            assert fields == {k: v for k, v in mine.fields().items() if k != "into"}, mine.where
        else:
            assert all(fields[k] == v for k, v in mine.fields().items()), mine.where
    # Each step at the hub time of the command's first event, to the second.
    first_events = by_command(live_log)
    for result, theirs in zip(fed.results, recorded.steps, strict=True):
        assert result.command_id is not None
        happened = first_events[result.command_id][0].at.replace(microsecond=0)
        assert recorded.instant(theirs.at) == happened, theirs.where
    merge = next(s for s in recorded.steps if s.do == "merge")
    assert merge.into == fed.cases["garbage"]
    # ``by``: the commander's steps are the hall's, except what only a unit may do, which
    # is the owning unit's (so the hub's own player can replay the file too).
    by = {(s.case, s.do): s.by for s in recorded.steps}
    assert by[(fed.cases["garbage"], "intake")] == "hall"
    assert by[(fed.cases["garbage"], "acknowledge")] == "jw-1"
    assert by[(fed.cases["bikes"], "request_return")] == "traffic"
    assert by[(fed.cases["vendor"], "request_extension")] == "enforcement-1"
    assert by[(fed.cases["bikes"], "approve")] == "hall"
    # Header: the hub's date and time of the first step, in the hall's time zone.
    first = min(e.at for e in live_log).astimezone(ZoneInfo("Asia/Shanghai"))
    assert recorded.header.date == first.date()
    assert recorded.header.start == first.strftime("%H:%M:%S")

    async with (
        fast_hub(sqlite_url_in(tmp_path / "fresh"), SPEED) as fresh,
        live_client(fresh.url, fresh.tokens[Role.COMMANDER]) as desk,
    ):
        replayed = await feed(desk, recorded)
        await until(desk, lambda: desk.mirror.cases[replayed.cases[collapse]].breaches == 1)
        fresh_cases = dict(fresh.engine.cases)
        fresh_staff = {s.id: (s.duty, s.field) for s in fresh.engine.snapshot().staff}

    assert (replayed.refused, replayed.skipped) == (0, 0)
    to_fresh = replayed.cases  # the recording's names are the live hub's ids
    assert set(to_fresh) == set(live_cases) and len(fresh_cases) == len(live_cases)
    for live_id, fresh_id in to_fresh.items():
        assert _shape(fresh_cases[fresh_id], {}) == _shape(live_cases[live_id], to_fresh)
    assert fresh_staff == live_staff
    # The day did go through its paces (a sanity check that the comparison compares things).
    by_name = {name: live_cases[fed.cases[name]] for name in fed.cases}
    assert by_name["garbage"].status is Status.CLOSED and by_name["garbage"].reworks == 1
    assert by_name["dup"].status is Status.MERGED
    assert by_name["bikes"].returns == 1 and by_name["bikes"].callback == "satisfied"
    assert by_name["vendor"].level is Level.STREET and by_name["vendor"].extensions == 1
    assert by_name["vendor"].reworks == 1 and by_name["vendor"].supporting_units
    assert by_name["collapse"].level is Level.STREET  # by the hub, not by the script
    assert by_name["rental"].owner_unit == "street" and by_name["stain"].status is Status.VOIDED


async def test_each_step_is_on_disk_as_it_happens_and_what_cannot_replay_is_skipped(
    tmp_path: Path,
) -> None:
    out = tmp_path / "live.toml"
    async with (
        fast_hub(sqlite_url_in(tmp_path), SPEED) as hub,
        live_client(hub.url, hub.tokens[Role.DISPATCHER]) as watcher,
        live_client(hub.url, hub.tokens[Role.COMMANDER]) as desk,
    ):
        early = await desk.send(hub.intake(1, id=desk.new_id()))
        await _caught_up(watcher, hub.engine.seq)
        stop = asyncio.Event()
        recording = asyncio.create_task(record(watcher, out, name="live", stop=stop))
        await asyncio.sleep(0)  # let the recorder subscribe
        assert early.case is not None and early.version is not None
        # A step on a case reported before the recording: its intake is not in the file.
        await desk.send(Accept(id=desk.new_id(), case=early.case, version=early.version))
        later = await desk.send(hub.intake(2, id=desk.new_id(), title="后来的案件"))
        await _caught_up(watcher, hub.engine.seq)
        on_disk = out.read_text(encoding="utf-8")  # before the recording stops
        stop.set()
        made = await recording
        created = next(e for e in await log_of(hub) if e.case == later.case)

    assert made == RecordReport(steps=1, cases=1, skipped=1)
    assert on_disk == out.read_text(encoding="utf-8")
    skipped, _ = on_disk.split("\n", 1)
    assert skipped == (
        f"# skipped: event {early.seq + 1} (accepted on {early.case}): "
        f"case {early.case} was reported before the recording started"
    )
    scenario = loads(on_disk)
    assert [(s.do, s.case) for s in scenario.steps] == [("intake", later.case)]
    assert scenario.steps[0].template.title == "后来的案件"  # type: ignore[attr-defined]
    local = created.at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert scenario.header.date == local.date()
    assert scenario.header.start == format_time(scenario.steps[0].at) == local.strftime("%H:%M:%S")
    assert scenario.header.name == "live"


async def test_a_quiet_hub_records_an_empty_scenario_to_an_open_sink(tmp_path: Path) -> None:
    sink = io.StringIO()
    async with (
        fast_hub(sqlite_url_in(tmp_path), SPEED) as hub,
        live_client(hub.url, hub.tokens[Role.DISPATCHER]) as watcher,
    ):
        stop = asyncio.Event()
        stop.set()
        made = await record(watcher, sink, name="quiet", stop=stop, timezone="Asia/Shanghai")
        now = watcher.hub_now().astimezone(ZoneInfo("Asia/Shanghai"))

    assert made == RecordReport(steps=0, cases=0, skipped=0)
    assert not sink.closed
    scenario = loads(sink.getvalue())
    assert scenario.steps == () and scenario.header.name == "quiet"
    assert scenario.header.date == now.date()


async def test_an_observer_cannot_record_a_scenario_it_cannot_see_whole(tmp_path: Path) -> None:
    """An observer gets no free text (reasons, descriptions): a recording from it would lose
    what every step needs. Refused at the first event, before anything is written."""
    sink = io.StringIO()
    async with (
        fast_hub(sqlite_url_in(tmp_path), SPEED) as hub,
        live_client(hub.url, hub.tokens[Role.OBSERVER]) as watcher,
        live_client(hub.url, hub.tokens[Role.DISPATCHER]) as desk,
    ):
        stop = asyncio.Event()
        recording = asyncio.create_task(record(watcher, sink, name="x", stop=stop))
        await asyncio.sleep(0)
        await desk.send(hub.intake(1))
        with pytest.raises(NeedsWholeView, match="commander's or dispatcher's token"):
            await asyncio.wait_for(recording, UNIT * 5)
    assert sink.getvalue() == ""
