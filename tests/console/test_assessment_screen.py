"""The assessment screen (K) against a real hub: it shows the figures of the cases reported
this month (read from the hub), switches period and grouping by key, lists the callbacks owed
with their due time, and a unit terminal — which may not read the whole hall — is told so and
sees the figures of its own cases. The roster's person detail shows their patrol today and
the short-patrol alert."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from console_fixtures import board_live, console_for, running_hub, sqlite_url_in, until
from textual.widgets import Static

from backend_client import HubClient
from dispatch.commands import (
    Accept,
    Acknowledge,
    Arrive,
    Check,
    Close,
    Dispatch,
    ReportBack,
    Verify,
)
from dispatch.models import Actor, Role, Source
from dispatch.tracks import TrackPoint
from screens.assessment import AssessmentScreen, Period
from screens.roster import RosterScreen
from widgets.roster_table import RosterTable

COMMANDER = Actor(name="op-commander", role=Role.COMMANDER)


class StillClock:
    """Hub time standing at a working afternoon (the patrol is today's whenever tests run)."""

    speed = 1.0
    at = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.at

    async def sleep(self, hub_seconds: float) -> None:
        await asyncio.sleep(3600)


async def patrolled(url: str, token: str) -> None:
    """S010 walked 20 minutes this afternoon (no grid outline in the demo city: 0 inside)."""
    start = StillClock.at - timedelta(minutes=30)
    points = [TrackPoint(at=start + timedelta(seconds=s), lon=121.4945, lat=31.2065)
              for s in range(0, 20 * 60 + 1, 30)]  # fmt: skip
    async with HubClient.connected(url, token, timeout=5) as bridge:
        assert await bridge.report_positions("S010", points) == 41


def shown(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    if not isinstance(screen, AssessmentScreen):
        return ""
    console = screen.app.console
    lines = []
    for part in ("#assessment-head", "#assessment-figures"):
        content = screen.query_one(part, Static).content
        rendered = console.render_lines(content, console.options.update_width(200))  # type: ignore[arg-type]
        lines += ["".join(seg.text for seg in line).rstrip() for line in rendered]
    return "\n".join(lines)


async def test_k_shows_the_figures_the_periods_the_groups_and_the_callbacks_owed(
    tmp_path: Path,
) -> None:
    async with running_hub(sqlite_url_in(tmp_path), clock=StillClock()) as hub:
        await patrolled(hub.url, hub.tokens[Role.COMMANDER])
        ack = await hub.engine.execute(hub.intake(1, source=Source.HOTLINE, reporter="12345-7"),
                                       COMMANDER)  # fmt: skip
        case, version = ack.case, ack.version
        assert case is not None and version is not None
        steps = [Verify(id="v", case=case, version=0, confirmed=True),
                 Accept(id="a", case=case, version=0),
                 Dispatch(id="d", case=case, version=0, unit="jw-1", staff="S010"),
                 Acknowledge(id="k", case=case, version=0), Arrive(id="o", case=case, version=0),
                 ReportBack(id="b", case=case, version=0, reason="已处置"),
                 Check(id="c", case=case, version=0, passed=True),
                 Close(id="z", case=case, version=0)]  # fmt: skip
        for step in steps:
            ack = await hub.engine.execute(msgspec.structs.replace(step, version=version),
                                           COMMANDER)  # fmt: skip
            version = ack.version
        await hub.engine.execute(hub.intake(2, source=Source.PATROL, found_by="S010"), COMMANDER)
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("K")
            assert isinstance(app.screen, AssessmentScreen)
            screen = app.screen
            await until(pilot, lambda: screen.assessment is not None)
            text = shown(app)
            assert "This month" in text and "Figures by Unit" in text
            whole = next(line for line in text.splitlines() if line.startswith("Whole hall"))
            # 2 reported, 1 accepted, 1 closed: 结案率 100 %, 主动发现率 50 %.
            assert whole.split()[2:6] == ["2", "1", "1", "100.00"]
            assert "50.00 %" in whole
            assert "Callback queue · owed 1 · overdue 0" in text and case in text
            assert "12345-7" in text
            assert "1 under the patrol minimum of 240 min" in text  # S010's 20 minutes

            await pilot.press("g")
            await until(pilot, lambda: "Figures by Grid" in shown(app))
            await pilot.press("d")
            await until(pilot, lambda: screen.period is Period.TODAY and screen.assessment)
            assert "Today" in shown(app)
            await pilot.press("escape")
            assert not isinstance(app.screen, AssessmentScreen)


async def test_a_unit_terminal_sees_its_own_cases_and_is_told_why(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        token = await hub.store.add_operator("jw1-terminal", Role.UNIT, "jw-1")
        app = console_for(hub.url, token, tmp_path)
        async with app.run_test(size=(200, 50)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("K")
            screen = app.screen
            assert isinstance(screen, AssessmentScreen)
            await until(pilot, lambda: screen.assessment is not None)
            assert "may not" in shown(app)  # the hub's refusal, in words
            assert screen.assessment is not None and screen.assessment.whole.reported == 0


async def test_the_roster_shows_a_persons_patrol_today_and_the_short_patrol_alert(
    tmp_path: Path,
) -> None:
    async with running_hub(sqlite_url_in(tmp_path), clock=StillClock()) as hub:
        await patrolled(hub.url, hub.tokens[Role.COMMANDER])
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("R")
            assert isinstance(app.screen, RosterScreen)
            table = app.screen.query_one(RosterTable)
            assert table.move_to("S010")
            await pilot.press("enter")
            detail = app.screen.query_one("#cases", Static)
            await until(pilot, lambda: "Patrol today" in str(detail.content))
            shown_text = str(detail.content)
            assert "Patrol today: 20 min, 20 min in own grid" in shown_text
            assert "under the minimum of 240 min" in shown_text
