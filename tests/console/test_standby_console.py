"""After hours on a real hub with the demo city's rota, as the hall's console shows it: a case
dispatched to the squad goes to that night's first standby officer, and when nobody signs the
board's person column moves to the next one and the case screen's history says, in Chinese,
whom the hub called."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from console_fixtures import TestClient, board_live, console_for, running_hub, until
from server_fixtures import seed_store, sqlite_url_in

from dispatch.commands import Accept, Dispatch
from dispatch.models import Role
from dispatch.protocol import Ack
from hub.clock import VirtualClock
from hub.demo_city import demo_rota
from hub.store import Store
from screens.case import CaseScreen
from widgets.case_detail import CaseDetail
from widgets.queue_list import QueueList

FRIDAY_NIGHT = datetime(2026, 12, 4, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SPEED = 300  # the ten minutes to sign in two seconds


async def test_an_unsigned_case_moves_down_the_standby_order_on_the_board(
    tmp_path: Path,
) -> None:
    url = sqlite_url_in(tmp_path)
    tokens = await seed_store(url)
    store = await Store.open(url)
    await store.seed_rota(demo_rota())
    await store.close()
    clock = VirtualClock(FRIDAY_NIGHT, SPEED)
    async with running_hub(url, seed=False, clock=clock) as hub:
        on = hub.engine.on_duty()
        assert on is not None and not on.day_shift
        first, second = (hub.engine.hall.staff[p].name for p in on.standby["enforcement-1"][:2])
        app = console_for(hub.url, tokens[Role.COMMANDER], tmp_path, locale="zh_CN")
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            async with TestClient.connect(hub.url) as desk:
                await desk.hello(tokens[Role.DISPATCHER])
                _, ack = await desk.execute(hub.intake(1))
                assert isinstance(ack, Ack) and ack.case is not None
                case_id = ack.case
                await desk.execute(Accept(id="a1", case=case_id, version=1))
                await desk.execute(Dispatch(id="d1", case=case_id, version=2,
                                            unit="enforcement-1"))  # fmt: skip
            await pilot.press("7")  # all cases

            def person_shown(name: str) -> bool:
                row = app.screen.query_one(QueueList).row(case_id)
                return row is not None and f"城管一中队 {name}" in row.cells

            await until(pilot, lambda: person_shown(first) or person_shown(second))
            await until(pilot, lambda: person_shown(second))  # nobody signed: the next
            await pilot.press("enter")
            assert isinstance(app.screen, CaseScreen)
            detail = app.screen.query_one(CaseDetail)

            def texts() -> list[str]:
                return [h.text for h in detail.view.history] if detail.view else []

            await until(pilot, lambda: f"已呼叫备勤人员 {second}（当晚备勤顺序第 2 位）" in texts())
            assert f"已呼叫备勤人员 {first}（当晚备勤顺序第 1 位）" in texts()
