"""The console's languages: compiled catalogs match their sources, every key description and
label has a Chinese text, and the language switches at run time."""

from __future__ import annotations

import gettext
from pathlib import Path

from console_fixtures import console_for, running_hub, sqlite_url_in, until

from console import labels
from console.actions import ACTIONS
from console.board_model import COLUMNS, QUEUE_TITLES, ROSTER_COLUMNS
from console.i18n import catalogs, mo_bytes, parse_po, translator
from dispatch.models import Role
from widgets.status_bar import StatusBar


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
    words += [*QUEUE_TITLES.values(), *ROSTER_COLUMNS]
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
