"""The console's languages: compiled catalogs match their sources, every key description and
label has a Chinese text, the language switches at run time, and the demo badge reads as a
demo clock in either language."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import pytest
from console_fixtures import console_for, running_hub, sqlite_url_in, until

from console import labels
from console.actions import ACTIONS
from console.board_model import COLUMNS, QUEUE_TITLES, ROSTER_COLUMNS
from console.demo import read_scenario
from console.i18n import catalogs, mo_bytes, parse_po, translator
from dispatch.models import Role
from hub.demo import demo_hall
from widgets import status_bar
from widgets.status_bar import StatusBar, format_speed


def test_every_mo_is_compiled_from_its_po() -> None:
    for po, mo in catalogs():
        assert mo.read_bytes() == mo_bytes(parse_po(po.read_text(encoding="utf-8"))), (
            f"{mo} is stale: run `python -m console.i18n`"
        )


def test_compiled_catalogs_read_back_with_gettext() -> None:
    po, mo = catalogs()[0]
    with mo.open("rb") as f:
        catalog = gettext.GNUTranslations(f)
    messages = parse_po(po.read_text(encoding="utf-8"))
    assert all(catalog.gettext(k) == v for k, v in messages.items() if k)


def test_every_visible_word_has_a_chinese_text() -> None:
    zh = translator("zh_CN")
    words = [a.description for a in ACTIONS] + [c.title for c in COLUMNS]
    words += [*QUEUE_TITLES.values(), *ROSTER_COLUMNS, status_bar.DEMO, status_bar.STOPPED]
    for table in (
        labels.STATUS,
        labels.SOURCE,
        labels.URGENCY,
        labels.LEVEL,
        labels.SHIFT,
        labels.FIELD,
        labels.ROLE,
        labels.STEP,
    ):
        words += table.values()
    untranslated = [w for w in words if zh(w) == w and w != "!"]
    assert untranslated == []


async def test_language_switches_at_run_time(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path, locale="zh_CN")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: app.live)
            await pilot.pause(0.1)
            assert app.screen.query_one(StatusBar).connection == "已连接"
            assert description_of(app, "accept") == "受理"
            await pilot.press("L")
            await pilot.pause(0.1)
            assert app.locale == "en"
            assert app.screen.query_one(StatusBar).connection == "live"
            assert description_of(app, "accept") == "Accept"


def description_of(app: object, action: str) -> str:
    """The footer text of ``action``'s key on the current screen."""
    bound = app.screen.active_bindings.values()  # type: ignore[attr-defined]
    return next(b.binding.description for b in bound if b.binding.action == action)


async def test_demo_badge_shows_the_demo_clock_in_the_operators_language(tmp_path: Path) -> None:
    async with demo_hall(read_scenario("short"), directory=tmp_path, speed=2.5) as hall:
        app = console_for(hall.url, hall.token, tmp_path / "prefs", locale="zh_CN")
        async with app.run_test(size=(80, 24)) as pilot:
            bar = app.screen.query_one(StatusBar)
            await until(pilot, lambda: app.live and bar.demo and bar.hub_time != "")
            # First on the line, so 80 columns never cut it off; the hub time is inside it and
            # nowhere else, so it cannot be taken for the wall clock.
            text = bar.render().plain
            assert re.match(r" 演练 ×2\.5 \d\d:\d\d:\d\d  ● 已连接", text), text
            assert text.count(bar.hub_time) == 1
            await pilot.press("L")
            await until(pilot, lambda: bar.render().plain.startswith(" DEMO ×2.5 "))


@pytest.mark.parametrize(
    ("speed", "shown"),
    [(30, "30"), (2.5, "2.5"), (0.5, "0.5"), (1 / 3, "0.33"), (1000, "1000"), (12.6, "13")],
)
def test_demo_badge_shows_the_speed_plainly(speed: float, shown: str) -> None:
    assert format_speed(speed) == shown


@pytest.mark.parametrize("speed", [0.0, 1e-9, 0.0099])
def test_demo_badge_shows_a_crawling_clock_as_stopped(speed: float) -> None:
    assert format_speed(speed) is None
