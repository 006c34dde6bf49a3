"""A walk through every screen and dialogue in each language: nothing the console words is left
untranslated, no English catalog text shows in a Chinese session and no Chinese catalog text
in an English one.

The translator is wrapped to record every id the console asks for while the walk runs (what is
built at run time: statuses, refusals, titles …), and each screen's text is read from its
screenshot as the operator would read it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from console_fixtures import (
    board_live,
    console_for,
    running_hub,
    sent_by_dispatcher,
    sqlite_url_in,
    until,
)
from textual.pilot import Pilot

from console import i18n
from console.i18n import catalogs, parse_po
from dispatch.commands import Accept
from dispatch.models import Role, Source, Urgency
from screens.case import CaseScreen
from screens.confirm import ConfirmScreen
from screens.handover import HandoverScreen
from screens.help import HelpScreen
from screens.intake import IntakeScreen
from screens.pick import PickScreen
from screens.reason import ReasonScreen
from screens.roster import RosterScreen

CJK = re.compile(r"[\u4e00-\u9fff]")
LANGUAGE_SWITCH = "中文/English"
"""The one text that names both languages on purpose (it says where the key goes)."""


def _catalog(locale: str) -> dict[str, str]:
    po = next(p for p, _ in catalogs() if f"/{locale}/" in str(p))
    return {k: v for k, v in parse_po(po.read_text(encoding="utf-8")).items() if k}


def _screen_text(app: object) -> str:
    """Everything the screen shows, as text (from its screenshot)."""
    svg = app.export_screenshot()  # type: ignore[attr-defined]
    return html.unescape(" ".join(re.findall(r"<text[^>]*>([^<]*)</text>", svg)))


async def _walk(pilot: Pilot[int], look: Callable[[str], None]) -> None:
    """Every screen and dialogue of the console, each looked at once."""
    app = pilot.app
    look("board")
    await pilot.press("7", "home")
    look("board, all cases")
    for keys, kind in (
        (("enter",), CaseScreen),
        (("R",), RosterScreen),
        (("question_mark",), HelpScreen),
        (("i",), IntakeScreen),
        (("H",), HandoverScreen),
    ):
        await pilot.press(*keys)
        await until(pilot, lambda kind=kind: isinstance(app.screen, kind))
        if isinstance(app.screen, HandoverScreen):
            opened = app.screen
            await until(pilot, lambda opened=opened: opened.report is not None)
        await pilot.pause(0.3)
        look(kind.__name__)
        await pilot.press("escape")
    # Dialogues: a dispatch picker, a reason, a confirmation (on the accepted case, second).
    await pilot.press("down", "d")
    await until(pilot, lambda: isinstance(app.screen, PickScreen))
    look("dispatch picker")
    await pilot.press("escape")
    await pilot.press("e")
    await until(pilot, lambda: isinstance(app.screen, ReasonScreen))
    look("reason")
    await pilot.press("escape")
    await pilot.press("u")
    await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    look("confirm")
    await pilot.press("n")
    # A key that does not apply says why; a line that cannot be read says why.
    await pilot.press("z")
    await pilot.pause(0.2)
    look("why not")
    await pilot.press("colon", *"frobnicate", "enter")
    await pilot.pause(0.2)
    look("verb error")
    await pilot.press("ctrl+p")
    await pilot.pause(0.3)
    look("command palette")
    await pilot.press("escape")


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_every_screen_speaks_one_language(
    tmp_path: Path, locale: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: set[str] = set()
    real = i18n.translator

    def recording(loc: str) -> Callable[[str], str]:
        translate = real(loc)

        def tr(message: str) -> str:
            asked.add(message)
            return translate(message)

        return tr

    monkeypatch.setattr(i18n, "translator", recording)
    zh = _catalog("zh_CN")
    screens: dict[str, str] = {}
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        acks = await sent_by_dispatcher(
            hub,
            hub.intake(1, title="井盖缺失", urgency=Urgency.URGENT, source=Source.HOTLINE),
            hub.intake(2, title="占道经营"),
        )
        await sent_by_dispatcher(hub, Accept(id="acc", case=acks[1].case or "", version=1))
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path, locale=locale)
        async with app.run_test(size=(160, 45)) as pilot:
            await until(pilot, lambda: board_live(app) and len(app.desk.model.cases) == 2)
            await pilot.pause(0.3)
            await _walk(pilot, lambda where: screens.update({where: _screen_text(app)}))
            data = " ".join(
                [*(u.name for u in app.desk.model.units.values())]
                + [*(a.name for a in app.desk.model.areas.values())]
                + [f"{s.name} {s.role}" for s in app.desk.model.staff.values()]
                + [c.title for c in app.desk.model.cases.values()]
                + [c.name for c in app.desk.catalog]
            )
            operator = app.desk.session.operator
    assert len(screens) == 13
    untranslated = sorted(m for m in asked if m not in zh and m != LANGUAGE_SWITCH)
    assert untranslated == [], "asked for but not in the Chinese catalog"
    for where, shown in screens.items():
        text = shown.replace(operator, "")  # a name (op-commander) is data, not wording
        if locale == "zh_CN":
            english = [
                m
                for m in asked
                if zh.get(m, m) != m
                and re.fullmatch(r"[A-Za-z][A-Za-z ,.'/()?-]{3,}", m)
                and re.search(rf"(?<![A-Za-z]){re.escape(m)}(?![A-Za-z])", text)
            ]
            assert english == [], f"English on the {where} screen of a Chinese session"
        else:
            chinese = [
                zh[m]
                for m in asked
                if m in zh
                and m != LANGUAGE_SWITCH
                and len(CJK.findall(zh[m])) >= 2
                and zh[m] not in data
                and zh[m] in text
            ]
            assert chinese == [], f"Chinese catalog text on the {where} screen of an English one"
