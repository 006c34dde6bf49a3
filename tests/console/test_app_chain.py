"""The chain of command at the console, against a real hub: the district desk's console rings
and shows an alert when a case is escalated to it, lists it on its desk tab, and instructs
(批办) from the ``:`` line; a summoned police terminal reports in (报到) with one key and the
roll call shows it in time."""

from __future__ import annotations

from pathlib import Path

from console_fixtures import (
    RunningHub,
    board_live,
    console_for,
    running_hub,
    sent_by_dispatcher,
    sqlite_url_in,
    until,
)
from textual.message import Message
from textual.notifications import Notify

from dispatch.commands import Accept, BlowWhistle, Dispatch, Escalate
from dispatch.models import Level, Role, Step
from dispatch.protocol import Ack
from dispatch.queues import Queue
from hub.demo_city import DISTRICT_HALL
from screens.case import CaseScreen
from widgets.case_detail import CaseDetail
from widgets.queue_list import QueueList


async def escalate(hub: RunningHub, case: str, n: int) -> None:
    version = hub.engine.cases[case].version
    (ack,) = await sent_by_dispatcher(
        hub, Escalate(id=f"up-{case}-{n}", case=case, version=version, reason="协调不了")
    )
    assert isinstance(ack, Ack)


def alerts(seen: list[Message]) -> list[str]:
    return [m.notification.message for m in seen if isinstance(m, Notify)
            and m.notification.title == "Alert"]  # fmt: skip


def fields(app: object) -> list[tuple[str, str]]:
    detail = app.screen.query_one(CaseDetail)  # type: ignore[attr-defined]
    return list(detail.view.fields) if detail.view else []


async def test_the_district_desk_is_alerted_lists_the_case_and_instructs(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        token = await hub.store.add_operator("op-district", Role.DISPATCHER, DISTRICT_HALL)
        (made,) = await sent_by_dispatcher(hub, hub.intake(1))
        assert isinstance(made, Ack) and made.case is not None
        case = made.case
        app = console_for(hub.url, token, tmp_path)
        seen: list[Message] = []
        async with app.run_test(size=(160, 45), message_hook=seen.append) as pilot:
            bells: list[None] = []
            app.bell = lambda: bells.append(None)  # type: ignore[method-assign]
            await until(pilot, lambda: board_live(app))
            assert app.desk.model.desk is not None
            assert app.desk.model.desk.level is Level.DISTRICT
            await escalate(hub, case, 1)  # to the street desk: not this one's
            await until(pilot, lambda: app.desk.model.cases[case].level is Level.STREET)
            assert alerts(seen) == [] and bells == []
            assert app.desk.model.count(Queue.DESK) == 0
            await escalate(hub, case, 2)  # to the district: this desk is told
            await until(pilot, lambda: alerts(seen))
            (alert,) = alerts(seen)
            assert "Escalated to your desk (district)" in alert and case in alert
            assert bells
            await pilot.press("8")
            await until(pilot, lambda: app.screen.query_one(QueueList).row(case))
            assert app.desk.model.count(Queue.DESK) == 1
            await pilot.press("colon", *f"instruct {case} 90 report back within 90 minutes")
            await pilot.press("enter")
            await until(pilot, lambda: hub.engine.cases[case].instructions)
            (note,) = hub.engine.cases[case].instructions
            assert (note.by, note.desk, note.text) == (
                "op-district", Level.DISTRICT, "report back within 90 minutes"
            )  # fmt: skip
            assert hub.engine.cases[case].deadline(Step.INSTRUCTION) is not None
            await until(pilot, lambda: app.desk.model.cases[case].instructions)
            await pilot.press("enter")
            assert isinstance(app.screen, CaseScreen)
            shown = dict(fields(app))
            assert "report back within 90 minutes" in shown["Instruction"]
            assert "(district)" in shown["Instruction"] and "due" in shown["Instruction"]


async def test_a_summoned_police_terminal_reports_in_with_one_key(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        token = await hub.store.add_operator("op-police", Role.UNIT, "police")
        (made,) = await sent_by_dispatcher(hub, hub.intake(1))
        assert isinstance(made, Ack) and made.case is not None and made.version is not None
        case = made.case
        await sent_by_dispatcher(hub, Accept(id="a", case=case, version=made.version))
        app = console_for(hub.url, token, tmp_path)
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: board_live(app))
            assert case not in app.desk.model.cases
            version = hub.engine.cases[case].version
            await sent_by_dispatcher(hub, Dispatch(id="d", case=case, version=version, unit="jw-1"))
            units = ("police", "market")
            whistle = BlowWhistle(id="w", case=case, version=version + 1, units=units, minutes=30)
            await sent_by_dispatcher(hub, whistle)
            await until(pilot, lambda: case in app.desk.model.cases)
            await pilot.press("7")
            await until(pilot, lambda: app.screen.query_one(QueueList).row(case))
            assert app.screen.check_action("report_in", ()) is True
            assert app.screen.check_action("instruct", ()) is False  # not a unit's step
            await pilot.press("Y")
            await until(pilot, lambda: hub.engine.cases[case].whistles[-1].units[0].reported_at)
            police = hub.engine.cases[case].whistles[-1].units[0]
            assert (police.unit, police.reported_by) == ("police", "op-police")
            await until(pilot, lambda: app.desk.model.cases[case].whistles[-1].units[0].reported_at)
            await pilot.press("enter")
            roll = [v for k, v in fields(app) if k in ("Roll call", "")]
            assert any("1 in time" in line for line in roll), roll
            assert any("青石派出所: in time" in line for line in roll), roll
            assert any("青石市场监管所: not in yet" in line for line in roll), roll
            # Reported in: the key no longer applies (nothing left for this unit).
            await pilot.press("escape")
            assert app.screen.check_action("report_in", ()) is None


async def test_the_commander_blows_the_whistle_with_keys(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        (made,) = await sent_by_dispatcher(hub, hub.intake(1))
        assert isinstance(made, Ack) and made.case is not None and made.version is not None
        case = made.case
        await sent_by_dispatcher(hub, Accept(id="a", case=case, version=made.version))
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("3")  # to dispatch: the accepted case
            await until(pilot, lambda: app.screen.query_one(QueueList).row(case))
            # Summon the first unit, then the next one, done; within 30 minutes; a reason.
            await pilot.press("W", "enter", "down", "enter", "enter", "down", "enter")
            await pilot.press(*"all hands", "enter")
            await until(pilot, lambda: hub.engine.cases[case].whistles)
            (whistle,) = hub.engine.cases[case].whistles
            # By id, "district-hall" would come first: the desks summon, they are not offered.
            assert [s.unit for s in whistle.units] == ["enforcement-1", "enforcement-2"]
            assert (whistle.due - whistle.at).total_seconds() == 30 * 60
            assert whistle.reason == "all hands"
