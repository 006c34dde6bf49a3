"""The console as a unit's terminal and as a standby officer, against a real hub: the board lists
only the unit's cases, a case reassigned away leaves the board, one reassigned in arrives and
can be worked with the keys."""

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

from dispatch.commands import Accept, Dispatch, Reassign
from dispatch.models import Role, Status
from dispatch.protocol import Ack
from widgets.queue_list import QueueList

X, Y = "sanitation", "municipal"


def listed(app: object, case_id: str) -> bool:
    return app.screen.query_one(QueueList).row(case_id) is not None  # type: ignore[attr-defined]


async def dispatched_to(hub: RunningHub, n: int, unit: str) -> str:
    (made,) = await sent_by_dispatcher(hub, hub.intake(n, reporter="王五 13700000000"))
    assert isinstance(made, Ack) and made.case is not None and made.version is not None
    (accepted,) = await sent_by_dispatcher(
        hub, Accept(id=f"accept-{n}", case=made.case, version=made.version)
    )
    assert isinstance(accepted, Ack) and accepted.version is not None
    (sent,) = await sent_by_dispatcher(
        hub, Dispatch(id=f"dispatch-{n}", case=made.case, version=accepted.version, unit=unit)
    )
    assert isinstance(sent, Ack)
    return made.case


async def test_a_unit_terminal_lists_its_own_cases_and_loses_one_reassigned_away(
    tmp_path: Path,
) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        token = await hub.store.add_operator("op-unit-x", Role.UNIT, X)
        mine = await dispatched_to(hub, 1, X)
        theirs = await dispatched_to(hub, 2, Y)
        app = console_for(hub.url, token, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app) and mine in app.desk.model.cases)
            await pilot.press("7")  # every case it holds
            await until(pilot, lambda: listed(app, mine))
            assert theirs not in app.desk.model.cases and not listed(app, theirs)
            assert app.desk.model.cases[mine].reporter == "王五 13700000000"

            case = hub.engine.cases[mine]
            await sent_by_dispatcher(
                hub, Reassign(id="away", case=mine, version=case.version, unit=Y, reason="r")
            )
            await until(pilot, lambda: mine not in app.desk.model.cases)
            await until(pilot, lambda: not listed(app, mine))
            assert app.screen.query_one(QueueList).row_count == 0
            assert app.live


async def test_a_standby_officer_gets_a_case_reassigned_in_and_signs_for_it(
    tmp_path: Path,
) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        token = await hub.store.add_operator("op-standby-y", Role.STANDBY, Y)
        moving = await dispatched_to(hub, 1, X)
        app = console_for(hub.url, token, tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("7")
            assert moving not in app.desk.model.cases

            case = hub.engine.cases[moving]
            await sent_by_dispatcher(
                hub, Reassign(id="in", case=moving, version=case.version, unit=Y, reason="r")
            )
            await until(pilot, lambda: listed(app, moving))
            assert app.desk.model.cases[moving] == hub.engine.cases[moving]
            await pilot.press("home", "g")  # sign for it
            await until(pilot, lambda: hub.engine.cases[moving].status is Status.ACKNOWLEDGED)
            await until(pilot, lambda: app.desk.model.cases[moving].status is Status.ACKNOWLEDGED)
