"""The console's languages: compiled catalogs match their sources, every key description and
label has a Chinese text, the language switches at run time, and the demo badge reads as a
demo clock in either language."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from console_fixtures import board_live, console_for, running_hub, sqlite_url_in, until

from console import labels
from console.actions import ACTIONS
from console.demo import read_scenario
from console.i18n import catalogs, mo_bytes, parse_po, translator
from console.refusals import CODE_TEXT
from console.rows import COLUMNS, COUNTDOWN, ROSTER_COLUMNS, URGENT_MARK
from dispatch.errors import DETAILS
from dispatch.models import Role
from dispatch.queues import QUEUE_TITLES, QUICK_KINDS, SORT_TITLES
from hub.demo import demo_hall
from screens.board import CONNECTION
from wallboard import words as wall_words
from wallboard.app import LINK_WORDS
from widgets import status_bar
from widgets.key_bar import KeyBar
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


def test_every_word_the_code_names_has_a_chinese_text() -> None:
    """Every gettext id the code names — the enumeration tables, the actions, columns, queues,
    refusals, and every literal passed to a translator — has a Chinese text (the run-time walk
    in test_screens_language.py catches what is built at run time)."""
    zh = translator("zh_CN")
    words = [a.description for a in ACTIONS] + [c.title for c in COLUMNS]
    words += [*QUEUE_TITLES.values(), *SORT_TITLES.values(), *QUICK_KINDS.values()]
    words += [*labels.QUEUE_SHORT.values()]
    words += [*ROSTER_COLUMNS, COUNTDOWN.title, URGENT_MARK, status_bar.DEMO, status_bar.STOPPED]
    words += [*CODE_TEXT.values(), *CONNECTION.values(), *labels.OP.values()]
    words += [d.text for d in DETAILS.values()]
    for table in labels.TABLES:
        words += table.values()
    words += literal_ids()
    words += [*wall_words.LEVEL.values(), *wall_words.STATUS.values(), *LINK_WORDS.values()]
    untranslated = sorted({w for w in words if zh(w) == w})
    assert untranslated == []


def literal_ids() -> set[str]:
    """String literals the UI code hands a translator (:func:`_translated_args`)."""
    found: set[str] = set()
    for folder in ("console", "screens", "widgets", "wallboard"):
        for path in (Path(__file__).parents[2] / folder).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                for value in _translated_args(name, node.args):
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        found.add(value.value)
    return found


def _translated_args(name: str, args: list[ast.expr]) -> list[ast.expr]:
    """The arguments of a call that are gettext ids: what is passed to a translator, a
    binding's description, and the templates and expected-word names of the verbs' errors
    (``VerbError`` translates them when it is shown)."""
    if name in ("tr", "_tr", "VerbError", "_fail", "fail", "take", "text"):
        return args[:1]
    if name == "Binding":
        return args[2:3]
    if name == "_Kind":
        return args
    if name == "choice":
        return args[-1:]
    if name == "_word":
        return args[2:3]
    return []


def test_the_english_catalog_has_no_chinese_text() -> None:
    """In English every message reads as its English id; only the language switch names
    Chinese (it says where the key goes)."""
    for po, _ in catalogs():
        if "/en/" in str(po):
            chinese = {
                k: v
                for k, v in parse_po(po.read_text(encoding="utf-8")).items()
                if k and re.search(r"[\u4e00-\u9fff]", v) and k != "中文/English"
            }
            assert chinese == {}


async def test_language_switches_at_run_time(tmp_path: Path) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        app = console_for(hub.url, hub.tokens[Role.COMMANDER], tmp_path, locale="zh_CN")
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: board_live(app))
            await pilot.pause(0.1)
            assert app.screen.query_one(StatusBar).connection == "已连接"
            assert description_of(app, "accept") == "立案"
            await pilot.press("L")
            await pilot.pause(0.1)
            assert app.desk.language.locale == "en"
            assert app.screen.query_one(StatusBar).connection == "live"
            assert description_of(app, "accept") == "Accept"


def description_of(app: object, action: str) -> str:
    """The key bar's text of ``action``'s key on the current screen."""
    keys = app.screen.query_one(KeyBar).keys  # type: ignore[attr-defined]
    return next(k.description for k in keys if k.action == action)


async def test_demo_badge_shows_the_demo_clock_in_the_operators_language(tmp_path: Path) -> None:
    async with demo_hall(read_scenario("short"), directory=tmp_path, speed=2.5) as hall:
        app = console_for(hall.url, hall.token, tmp_path / "prefs", locale="zh_CN")
        async with app.run_test(size=(80, 24)) as pilot:
            bar = app.screen.query_one(StatusBar)
            await until(pilot, lambda: board_live(app) and bar.demo and bar.hub_time != "")
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
