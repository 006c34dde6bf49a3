"""A revoked session (close 4003: the operator was disabled while its console ran): the console
says so in the operator's language and keeps the last state read only, does not reconnect with
the dead token, and quitting then exits non-zero."""

from __future__ import annotations

from pathlib import Path

from console_fixtures import UNIT, console_for, running_hub, sqlite_url_in, until
from textual.message import Message
from textual.notifications import Notify

from backend_client.state import ConnectionState
from console.app import EXIT_REVOKED
from dispatch.models import Role
from widgets.status_bar import StatusBar


async def test_a_revoked_console_says_so_in_chinese_stays_read_only_and_exits_non_zero(
    tmp_path: Path,
) -> None:
    async with running_hub(sqlite_url_in(tmp_path)) as hub:
        app = console_for(hub.url, hub.tokens[Role.DISPATCHER], tmp_path, locale="zh_CN")
        connects: list[ConnectionState] = []
        seen: list[Message] = []
        async with app.run_test(size=(120, 40), message_hook=seen.append) as pilot:
            await until(pilot, lambda: app.live)
            cases = dict(app.desk.model.cases)
            assert app.client is not None
            app.client.on_state(lambda state, _detail: connects.append(state))
            await hub.store.set_operator_enabled(f"op-{Role.DISPATCHER}", False)
            await until(pilot, lambda: app.desk.session.connection is ConnectionState.REVOKED)
            bar = app.screen.query_one(StatusBar)
            assert "会话已撤销" in bar.connection and bar.connected is False
            assert app.screen.has_class("-readonly")
            assert app.screen.check_action("accept", ()) is None
            assert app.desk.model.cases == cases  # the last state stays on screen
            shown = [
                (m.notification.title, m.notification.message)
                for m in seen
                if isinstance(m, Notify)
            ]
            assert any(
                title == "会话已撤销" and "管理员已停用此操作员" in message
                for title, message in shown
            ), shown
            await pilot.pause(UNIT / 2)  # the link is over: no retry with the dead token
            assert ConnectionState.CONNECTING not in connects
            assert hub.server.clients == 0
            await pilot.press("q")
        assert app.return_value == EXIT_REVOKED
