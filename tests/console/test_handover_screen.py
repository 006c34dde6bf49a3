"""The hand-over screen against a real hub: ``H`` on the board opens the shift's report with
its sections and the case escalated during the shift; ``n`` writes the outgoing commander's
note (it then shows in the report); ``a`` acknowledges, and the hub's log holds the
acknowledgement; an observer has no ``H``."""

from __future__ import annotations

from pathlib import Path

from console_fixtures import (
    board_live,
    console_for,
    running_hub,
    sent_by_dispatcher,
    sqlite_url_in,
    until,
)
from textual.widgets import Static

from console.handover_text import SECTION_TITLES
from dispatch.commands import Accept, Escalate
from dispatch.events import EventType
from dispatch.handover import Section
from dispatch.models import Role
from screens.board import BoardScreen
from screens.handover import HandoverScreen


def shown(app: object) -> str:
    """The report as drawn (plain text of the screen's head and body)."""
    screen = app.screen  # type: ignore[attr-defined]
    if not isinstance(screen, HandoverScreen):
        return ""
    console = screen.app.console
    lines = []
    for part in ("#handover-head", "#handover-report"):
        content = screen.query_one(part, Static).content
        rendered = console.render_lines(content, console.options.update_width(150))  # type: ignore[arg-type]
        lines += ["".join(seg.text for seg in line) for line in rendered]
    return "\n".join(lines)


async def test_h_opens_the_report_n_writes_a_note_and_a_acknowledges(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        [created] = await sent_by_dispatcher(hub, hub.intake(1, urgency="urgent"))
        case = created.case  # type: ignore[union-attr]
        await sent_by_dispatcher(
            hub,
            Accept(id="a1", case=case, version=1),
            Escalate(id="e1", case=case, version=2, reason="需要街道协调"),
        )
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path)
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("H")
            assert isinstance(app.screen, HandoverScreen)
            screen = app.screen
            await until(pilot, lambda: screen.report is not None)
            text = shown(app)
            for section in Section:
                assert SECTION_TITLES[section] in text
            assert f"{SECTION_TITLES[Section.ESCALATIONS]} (1)" in text
            assert "需要街道协调" in text and case in text

            await pilot.press("n")
            await pilot.press(*"青石路供水管仍关闭", "enter")
            await until(pilot, lambda: "青石路供水管仍关闭" in shown(app))
            assert f"{SECTION_TITLES[Section.NOTES]} (1)" in shown(app)

            await pilot.press("a")
            await until(pilot, lambda: screen.acknowledged is not None)
            assert "Acknowledged by op-commander" in shown(app)
            stored = await hub.store.events_after(0)
            [ack] = [e for e in stored if e.type is EventType.HANDOVER_ACKNOWLEDGED]
            assert ack.actor == "op-commander" and ack.data["outgoing"] == "op-commander"
            assert ack.data["digest"] == screen.report.digest  # type: ignore[union-attr]
            await pilot.press("escape")
            assert isinstance(app.screen, BoardScreen)


async def test_an_observer_has_no_hand_over(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        app = console_for(hub.url, hub.tokens[Role.OBSERVER], tmp_path)
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.press("H")
            await pilot.pause()
            assert isinstance(app.screen, BoardScreen)
