"""The operator console's Textual app: wiring only.

:func:`make_console` builds the app (tests call it too); :func:`run_console` runs it for the
CLI. The app owns the hub link worker, the UI's own copy of the hall (updated only from the
link's messages), the 1 Hz tick and the operator's language; screens hold layout and keys.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message_pump import MessagePump

from backend_client.client import HubClient
from backend_client.errors import ClientError, CommandRefused, NotConnected
from backend_client.state import ConnectionState
from console import prefs as prefs_store
from console.actions import ActionsProvider
from console.board_model import History
from console.hub_link import run_link
from console.i18n import Translate, other_locale, translator
from console.messages import CasesChanged, ConnectionChanged, RosterChanged, Synced
from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Catalog
from dispatch.commands import Command
from dispatch.config import Settings
from dispatch.hall import Hall
from dispatch.models import Area, Case, Role, Staff, Unit
from screens.board import BoardScreen
from screens.case import HistoryLoaded
from screens.login import LoginScreen

ClientFactory = Callable[[str, str], Any]


@dataclass
class HallView:
    """The UI's own copy of the hall, changed only by the app's message handlers."""

    cases: dict[str, Case] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)
    units: dict[str, Unit] = field(default_factory=dict)
    areas: dict[str, Area] = field(default_factory=dict)
    history: History = field(default_factory=History)
    synced: bool = False


class GriddeskApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "griddesk"
    COMMANDS = App.COMMANDS | {ActionsProvider}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        # Ctrl+C is how a terminal user stops a program; Textual's default only says "press
        # ctrl+q". Priority, so it quits from the filter and command inputs too. Hidden: the
        # footer already shows q.
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="quit-ctrl-c"),
    ]

    def __init__(
        self,
        settings: Settings,
        *,
        hub_url: str,
        token: str | None,
        client_factory: ClientFactory = HubClient,
        prefs_dir: Path | None = None,
        demo: bool = False,
    ) -> None:
        super().__init__()
        self.demo = demo
        """Running on ``griddesk demo``'s embedded hall: the status bar marks the demo clock
        even at speed 1."""
        self.settings = settings
        self.hub_url = hub_url
        self.locale = settings.console.locale
        self.tr: Translate = translator(self.locale)
        self.catalog = Catalog.default()
        self.calendar = WorkingCalendar.from_settings(settings)
        self.view = HallView()
        self.prefs_dir = prefs_dir
        self.connection = ConnectionState.CONNECTING
        self.connection_detail = ""
        self.client: Any = None
        self._token = token
        self._client_factory = client_factory

    # --- start and the hub link -------------------------------------------------------------

    def on_mount(self) -> None:
        self.push_screen(BoardScreen())
        if self._token:
            self._connect(self._token)
        else:
            self.push_screen(LoginScreen(), callback=self._logged_in)
        self.set_interval(1, self._tick)

    def _logged_in(self, token: str | None) -> None:
        if token:
            self._connect(token)
        else:
            self.exit(1)

    def _connect(self, token: str) -> None:
        self.client = self._client_factory(self.hub_url, token)
        self._link()

    @work(exclusive=True, group="hub", exit_on_error=False)
    async def _link(self) -> None:
        await run_link(self.client, self.post_message)

    @property
    def role(self) -> Role | None:
        return self.client.role if self.client is not None else None

    @property
    def operator(self) -> str:
        return (self.client.operator if self.client is not None else None) or ""

    @property
    def live(self) -> bool:
        return self.connection is ConnectionState.LIVE

    def hub_now(self) -> datetime:
        now: datetime = self.client.hub_now()
        return now

    def hall(self) -> Hall:
        """The reference data routing suggestions need, from the UI's copy."""
        v = self.view
        return Hall(self.settings, self.catalog, self.calendar, v.areas, v.units, v.staff)

    # --- messages from the link ---------------------------------------------------------------

    def on_synced(self, message: Synced) -> None:
        v = self.view
        v.cases = {c.id: c for c in message.cases}
        v.staff = {s.id: s for s in message.staff}
        v.units = {u.id: u for u in message.units}
        v.areas = {a.code: a for a in message.areas}
        v.synced = True
        self._each_screen("hall_replaced")

    def on_cases_changed(self, message: CasesChanged) -> None:
        self.view.cases.update((c.id, c) for c in message.cases)
        self.view.history.add(message.events)
        if message.urgent:
            self.bell()
        self._each_screen("cases_changed", message)

    def on_roster_changed(self, message: RosterChanged) -> None:
        self.view.staff.update((s.id, s) for s in message.staff)
        self._each_screen("roster_changed")

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        self.connection, self.connection_detail = message.state, message.detail
        if message.state is ConnectionState.LIVE and self.operator:
            self._each_screen("operator_known")
        self._each_screen("connection_changed")
        if message.state is ConnectionState.AUTH_FAILED:
            self.notify(message.detail, title=self.tr("Login refused"), severity="error")

    def _each_screen(self, method: str, *args: Any) -> None:
        # Shutting down (q, Ctrl+C, a test's end): Textual stops running the app before it
        # prunes the screens, so a hub message handled now would find widgets half removed.
        if not self.is_running:
            return
        with self.batch_update():
            for screen in self.screen_stack:
                if not screen.is_attached:  # quitting: its widgets may be gone already
                    continue
                handler = getattr(screen, method, None)
                if handler is not None:
                    handler(*args)

    def _tick(self) -> None:
        if self.client is None:
            return
        tick = getattr(self.screen, "tick", None)
        if tick is not None:
            tick(self.hub_now())

    # --- commands ------------------------------------------------------------------------------

    def new_id(self) -> str:
        new_id: str = self.client.new_id()
        return new_id

    @work(group="commands", exit_on_error=False)
    async def send(self, command: Command) -> bool:
        """Send ``command``; a refusal is shown in plain words and changes nothing on screen."""
        try:
            await self.client.send(command)
        except CommandRefused as exc:
            self.notify(
                exc.message,
                title=self.tr("Refused: {code}").format(code=exc.code),
                severity="error",
            )
            return False
        except ClientError as exc:
            self.notify(str(exc), title=self.tr("Not sent"), severity="error")
            return False
        return True

    @work(group="history", exit_on_error=False)
    async def fetch_history(self, case_id: str, reply_to: MessagePump) -> None:
        """Ask the hub for the case's whole audit history; post :class:`HistoryLoaded` (the
        events, or why not) to ``reply_to`` — a worker never touches the screen itself."""
        try:
            if self.client is None:
                raise NotConnected("not connected to the hub")
            events = await self.client.history(case_id)
        except ClientError as exc:
            reply_to.post_message(HistoryLoaded(case_id, None, str(exc)))
        else:
            reply_to.post_message(HistoryLoaded(case_id, tuple(events)))

    # --- language ------------------------------------------------------------------------------

    def switch_language(self) -> None:
        self.locale = other_locale(self.locale)
        self.tr = translator(self.locale)
        self._each_screen("relabel")

    async def action_quit(self) -> None:
        if self.client is not None:
            await self.client.close()
        self.exit(0)

    def load_prefs(self) -> prefs_store.Prefs:
        return prefs_store.load(self.operator, self.prefs_dir)

    def save_prefs(self, prefs: prefs_store.Prefs) -> None:
        if self.operator:
            prefs_store.save(self.operator, prefs, self.prefs_dir)


def make_console(
    settings: Settings,
    *,
    hub_url: str,
    token: str | None,
    client_factory: ClientFactory = HubClient,
    prefs_dir: Path | None = None,
    demo: bool = False,
) -> GriddeskApp:
    """The console app, ready to run (or to drive with ``run_test`` in tests)."""
    return GriddeskApp(
        settings,
        hub_url=hub_url,
        token=token,
        client_factory=client_factory,
        prefs_dir=prefs_dir,
        demo=demo,
    )


def read_token(settings: Settings) -> str | None:
    """The token from ``GRIDDESK_TOKEN`` or ``settings.console.token_file``; None: ask."""
    if token := os.environ.get("GRIDDESK_TOKEN", "").strip():
        return token
    if settings.console.token_file:
        return Path(settings.console.token_file).expanduser().read_text().strip() or None
    return None


def run_console(settings: Settings, hub_url: str, token: str | None) -> int:
    """Run the console until the operator quits; the exit code."""
    app = make_console(settings, hub_url=hub_url, token=token or read_token(settings))
    code = app.run()
    return code if isinstance(code, int) else 0
