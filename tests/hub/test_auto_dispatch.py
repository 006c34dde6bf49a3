"""Auto-dispatch and urgent-by-source against a real hub on loopback (issue 10, items 2–3):
a video case is sent to the suggested unit by the hub itself, as actor ``hub`` in the history;
a hazard goes out as joint enforcement; with nobody of the unit on duty, or a possible
duplicate, the hub holds back and says why; a police alert arrives urgent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from server_fixtures import RunningHub, TestClient, events_in, running_hub, sqlite_url_in

from dispatch.commands import Intake, StaffStatus
from dispatch.config import IntakeSettings, Settings
from dispatch.events import EventType
from dispatch.models import Basis, Duty, Kind, Role, Source, Status, Urgency
from dispatch.protocol import Ack, History, HistoryRequest, encode

GRID = "310115001002"  # 临河里网格 (居委: jw-2)
SETTINGS = Settings(intake=IntakeSettings(auto_dispatch_sources=(Source.VIDEO,)))


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[RunningHub]:
    async with running_hub(sqlite_url_in(tmp_path), settings=SETTINGS) as running:
        yield running


def intake(n: int, category: str, source: Source, kind: Kind = Kind.EVENT) -> Intake:
    return Intake(
        id=f"auto-{n}", kind=kind, category=category, source=source, title=f"视频发现{n}",
        grid=GRID,
    )  # fmt: skip


async def sent(client: TestClient, command: Intake) -> tuple[list[object], Ack]:
    frames, reply = await client.execute(command)
    assert isinstance(reply, Ack), reply
    return frames, reply


async def history(client: TestClient, case: str) -> History:
    await client.send(encode(HistoryRequest(id="h-1", case=case)).decode())
    return await client.expect(History)


async def test_a_video_case_goes_out_by_the_hub_with_its_reason(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        _, ack = await sent(client, intake(1, "E0101", Source.VIDEO))  # 暴露垃圾 → 属地
        assert ack.case is not None and ack.version == 1  # one command, one version
        case = hub.engine.cases[ack.case]
        assert (case.status, case.owner_unit, case.owner_staff) == (
            Status.DISPATCHED, "jw-2", None,
        )  # fmt: skip
        steps = (await history(client, ack.case)).events
        assert [(e.type, e.actor) for e in steps] == [
            (EventType.CASE_CREATED, "op-dispatcher"),
            (EventType.ACCEPTED, "hub"),
            (EventType.DISPATCHED, "hub"),
        ]
        assert steps[2].data == {"unit": "jw-2", "staff": None, "auto": True}
        assert "locality" in steps[2].reason


async def test_a_video_hazard_goes_out_as_joint_enforcement(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        frames, ack = await sent(client, intake(2, "E0403", Source.VIDEO))  # 燃气泄漏
        assert ack.case is not None
        case = hub.engine.cases[ack.case]
        assert case.urgency is Urgency.URGENT
        assert (case.status, case.owner_unit, case.supporting_units) == (
            Status.DISPATCHED, "gas", ("jw-2",),
        )  # fmt: skip
        on_scene = {d.step: d for d in case.deadlines}
        assert {str(s) for s in on_scene} == {"on_scene", "result"}
        assert all(d.basis is Basis.WALL for d in case.deadlines)
        joint = [e for e in events_in(frames) if e.type is EventType.JOINT]
        assert joint and joint[0].actor == "hub"


async def test_with_nobody_of_the_unit_on_duty_the_hub_holds_back_and_says_why(
    hub: RunningHub,
) -> None:
    gas_people = [s.id for s in hub.engine.hall.staff.values() if s.unit == "gas"]
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.COMMANDER])
        for n, person in enumerate(gas_people):
            _, reply = await client.execute(StaffStatus(id=f"off-{n}", staff=person, duty=Duty.OFF))
            assert isinstance(reply, Ack)
        frames, ack = await sent(client, intake(3, "E0403", Source.VIDEO))
        assert ack.case is not None
        assert hub.engine.cases[ack.case].status is Status.REPORTED  # the hall decides
        (note,) = [e for e in events_in(frames) if e.type is EventType.NOTED]
        assert note.actor == "hub" and note.data == {"auto": "held"}
        assert "东川燃气公司" in note.reason and "on duty" in note.reason


async def test_a_possible_duplicate_is_not_sent_out_unseen(hub: RunningHub) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        _, first = await sent(client, intake(4, "E0101", Source.PATROL))
        frames, second = await sent(client, intake(5, "E0101", Source.VIDEO))
        assert second.case is not None
        case = hub.engine.cases[second.case]
        assert case.duplicate_of == first.case and case.status is Status.REPORTED
        (note,) = [e for e in events_in(frames) if e.type is EventType.NOTED]
        assert f"may repeat {first.case}" in note.reason


async def test_other_sources_wait_for_a_person_and_police_alerts_arrive_urgent(
    hub: RunningHub,
) -> None:
    async with TestClient.connect(hub.url) as client:
        await client.hello(hub.tokens[Role.DISPATCHER])
        _, ack = await sent(client, intake(6, "E0501", Source.POLICE))  # 占道经营
        assert ack.case is not None
        case = hub.engine.cases[ack.case]
        assert case.status is Status.REPORTED
        assert case.urgency is Urgency.URGENT
        (accept,) = case.deadlines
        assert accept.basis is Basis.WALL
        assert (accept.due - accept.start).total_seconds() == 5 * 60
