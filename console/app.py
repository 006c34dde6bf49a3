"""The operator console's Textual app: wiring only.

:func:`make_console` builds the app (tests call it too); :func:`run_console` runs it for the
CLI and returns a non-zero exit code if the app died. The app owns the hub link worker, the
hall model (fed only by the link's messages), the session, the language and the one 1 Hz tick;
it hands screens a :class:`~console.desk.Desk` and tells them what changed with one message,
:class:`~console.messages.DeskChanged`. Screens hold layout and keys.

Nothing the operator does may end the console: an exception in an action or a worker is
logged and shown as an error notification, and the console goes on.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, cast

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.driver import Driver
from textual.message_pump import MessagePump
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from backend_client.client import HubClient
from backend_client.errors import ClientError, CommandRefused, NotConnected
from backend_client.hall_model import HallDelta, HallModel
from backend_client.state import ConnectionState
from console import colours, thin_updates
from console.actions import ActionsProvider
from console.desk import Desk, Feedback, Outcome, Session
from console.hub_link import run_link
from console.i18n import Language
from console.link_probe import EXIT_LINK_LOST, LinkLost, over_ssh, probing_driver
from console.messages import ConnectionChanged, DeskChanged, HallBatch, SwitchLanguage, Synced
from console.refusals import describe
from console.seen_events import SeenEvents
from console.wording import Wording
from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Catalog
from dispatch.command_chain import addressed_to
from dispatch.commands import Command
from dispatch.config import Settings
from dispatch.events import Event, EventType
from dispatch.patrol_alert import KIND as SHORT_PATROL
from screens.assessment import AssessmentLoaded
from screens.board import BoardScreen
from screens.case import HistoryLoaded
from screens.guard import ActionFailed
from screens.handover import HandoverLoaded
from screens.login import LoginScreen
from screens.roster import PatrolLoaded

log = logging.getLogger(__name__)

ClientFactory = Callable[[str, str], HubClient]

FEEDBACK_FADES = 8.0
"""Seconds an applied command's ✓ stays on the status bar (a refusal stays until the next)."""

EXIT_REVOKED = 3
"""Exit code of a console quit after the hub revoked its session (as ``griddesk ctl`` exits 3
when the hub will not take its token): a wrapper or an SSH session sees it was not a normal end."""

REVOKED_TEXT = (
    "An administrator disabled this operator or changed its role or unit. The board keeps the "
    "last state, read only, and is no longer updated. Quit (q) and log in again."
)
"""What the operator reads when the hub revokes the session (close 4003); a gettext msgid."""


class GriddeskApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "griddesk"
    COMMANDS: ClassVar[set[Any]] = {ActionsProvider}
    ENABLE_COMMAND_PALETTE = True
    BINDINGS: ClassVar[list[BindingType]] = [
        # Ctrl+C is how a terminal user stops a program; Textual's default only says "press
        # ctrl+q". Priority, so it quits from the filter and command inputs too.
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
        driver_class: type[Driver] | None = None,
        sixteen_colours: bool | None = None,
    ) -> None:
        """``sixteen_colours``: use the 16-colour theme (None: if the terminal has no more);
        ``driver_class``: the terminal driver (over SSH: one that probes the link)."""
        super().__init__(driver_class=driver_class)
        self._sixteen = sixteen_colours
        if settings.console.low_bandwidth:
            self.animation_level = "none"  # a scroll or a fade is frames on a slow link
        self.hub_url = hub_url
        self.client: HubClient | None = None
        self._token = token
        self._client_factory = client_factory
        language = Language(settings.console.locale)
        model = HallModel()
        catalog = Catalog.default()
        self.desk = Desk(
            model=model,
            words=Wording(language, catalog, model),
            language=language,
            session=Session(demo=demo),
            commands=self,
            seen=SeenEvents(),
            settings=settings,
            catalog=catalog,
            calendar=WorkingCalendar.from_settings(settings),
            prefs_dir=prefs_dir,
        )

    # --- start and the hub link -------------------------------------------------------------

    def on_mount(self) -> None:
        sixteen = self._sixteen
        if sixteen if sixteen is not None else colours.has_sixteen_colours(self.console):
            self.register_theme(colours.SIXTEEN)
            self.theme = colours.SIXTEEN.name
        self.push_screen(BoardScreen(self.desk))
        if self._token:
            self._connect(self._token)
        else:
            self.push_screen(LoginScreen(self.desk, self.hub_url), callback=self._logged_in)
        self.set_interval(1, self._tick)

    def on_link_lost(self, message: LinkLost) -> None:
        # The terminal (over SSH) stopped answering: nobody is looking at this console.
        self.exit(EXIT_LINK_LOST, message=f"terminal silent for {message.silent_for:.0f} s")

    def _logged_in(self, token: str | None) -> None:
        if token:
            self._connect(token)
        else:
            self.exit(1)

    def _connect(self, token: str) -> None:
        self.client = self._client_factory(self.hub_url, token)
        self._link(self.client)

    @work(exclusive=True, group="hub", exit_on_error=False)
    async def _link(self, client: HubClient) -> None:
        await run_link(client, self.post_message)

    @property
    def live(self) -> bool:
        return self.desk.session.live

    def hub_now(self) -> datetime:
        return self.client.hub_now() if self.client is not None else datetime.now(UTC)

    # --- messages from the link ---------------------------------------------------------------

    def on_synced(self, message: Synced) -> None:
        now = self.hub_now()
        unit = self.client.unit if self.client is not None else None
        delta = self.desk.model.replace(
            message.cases, message.staff, message.units, message.areas, now, desk_unit=unit
        )
        # A month-eight snapshot leaves hundreds of thousands of long-lived objects (the
        # mirror's and the model's); every full collection walked them all, ~0.15 s at 20,000
        # cases and more at 100,000, stalling a batch or a key. Frozen, the collector skips
        # them (they are still freed by reference counting when a resync replaces them).
        # Frozen once the board has drawn them (its listing is as long-lived as the model).
        self._tell(DeskChanged(now, hall=delta))
        self.call_after_refresh(_freeze)

    def on_hall_batch(self, message: HallBatch) -> None:
        now = self.hub_now()
        delta = self.desk.model.apply(message.cases, message.staff, now, message.removed)
        self.desk.seen.add(message.events)
        if delta.urgent_new:
            self.bell()
        self._alert(message.events)
        self._tell(DeskChanged(now, hall=delta))

    def _alert(self, events: tuple[Event, ...]) -> None:
        """An alert addressed to this operator's desk (an escalation reaching it, a case sent
        down to it, a missed instruction or roll call) rings and stays on screen a while."""
        desk = self.desk.model.desk
        unit, words = self.desk.session.unit, self.desk.words
        for event in events:
            if event.type is EventType.ALERT and event.data.get("kind") == SHORT_PATROL:
                # The hub sends it to the hall's desks and the worker's own unit only.
                self.notify(words.short_patrol(event), title=words.tr("Alert"),
                            severity="warning", timeout=60)  # fmt: skip
                continue
            if event.type is not EventType.ALERT or event.case is None or desk is None:
                continue
            if not addressed_to(event.data, unit, desk.level):
                continue
            case = self.desk.model.cases.get(event.case)
            title = f"{event.case} {case.title}" if case is not None else event.case
            absent = ", ".join(words.unit(u) for u in event.data.get("absent") or ())
            lines = [words.tr("Escalated to your desk ({level})").format(
                level=words.level(desk.level)), title]  # fmt: skip
            if event.reason:
                lines.append(event.reason)
            if absent:
                lines.append(words.tr("Never reported in: {units}").format(units=absent))
            self.bell()
            self.notify("\n".join(lines), title=words.tr("Alert"), severity="warning",
                        timeout=60)  # fmt: skip

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        session, client = self.desk.session, self.client
        session.connection, session.detail = message.state, message.detail
        if client is not None and message.state is ConnectionState.LIVE:
            session.operator = client.operator or ""
            session.role, session.unit = client.role, client.unit
            session.speed = client.speed
        self._tell(DeskChanged(self.hub_now(), session=True))
        if message.state is ConnectionState.AUTH_FAILED:
            tr = self.desk.language.tr
            self.notify(message.detail, title=tr("Login refused"), severity="error")
        elif message.state is ConnectionState.REVOKED:
            # The hub ended the session (4003): the link has stopped for good, no retries
            # with a token that no longer holds. What a duty commander expects: the board
            # stays as it was, read only (a case being handed over can still be read out),
            # the reason stays on screen until dismissed, and quitting exits non-zero.
            tr = self.desk.language.tr
            self.notify(
                tr(REVOKED_TEXT), title=tr("Session revoked"), severity="error", timeout=3600
            )

    def _tell(self, message: DeskChanged, *, top_only: bool = False) -> None:
        """Post ``message`` to the screens (each redraws what it shows of it)."""
        # Shutting down (q, Ctrl+C, a test's end): screens are being taken apart.
        if not self.is_running:
            return
        screens = [self.screen] if top_only else list(self.screen_stack)
        for screen in screens:
            if type(screen) is Screen:
                # The app's bare default screen under the board shows nothing of the hall. A
                # message would wake it, and Textual then repaints the whole top screen for
                # it (a screen below the top re-arms a full repaint on each of its updates):
                # ~40 ms on every batch at 200×50.
                continue
            screen.post_message(
                DeskChanged(
                    message.now,
                    hall=message.hall,
                    session=message.session,
                    language=message.language,
                )
            )

    def _tick(self) -> None:
        """The one 1 Hz tick: time moves the overdue queue and every countdown."""
        if self.client is None:
            return
        now = self.hub_now()
        delta: HallDelta | None = None
        if self.desk.model.now is not None:
            delta = self.desk.model.advance(now) or None
        session = self.desk.session
        faded = (
            session.feedback is not None
            and session.feedback.outcome is Outcome.APPLIED
            and time.monotonic() - session.feedback.at > FEEDBACK_FADES
        )
        if faded:
            session.feedback = None
        # Only a change of the hall concerns the screens below the top one.
        self._tell(DeskChanged(now, hall=delta, session=faded), top_only=delta is None)

    # --- commands (console.desk.Commands) -----------------------------------------------------

    def new_id(self) -> str:
        return HubClient.new_id()

    def send(self, command: Command, *, what: str) -> None:
        self.desk.session.feedback = Feedback(what, Outcome.SENT)
        self.desk.session.in_flight += 1
        self._tell(DeskChanged(self.hub_now(), session=True), top_only=True)
        self._send(command, what)

    def not_sent(self, what: str, why: str) -> None:
        self.desk.session.feedback = Feedback(what, Outcome.REFUSED, why, time.monotonic())
        self.notify(why, title=what, severity="warning")
        self._tell(DeskChanged(self.hub_now(), session=True), top_only=True)

    @work(group="commands", exit_on_error=False)
    async def _send(self, command: Command, what: str) -> None:
        session, tr = self.desk.session, self.desk.language.tr
        try:
            if self.client is None:
                raise NotConnected("not connected to the hub")
            await self.client.send(command)
        except CommandRefused as exc:
            why = describe(exc, self.desk.words, self.desk.seen)
            session.feedback = Feedback(what, Outcome.REFUSED, why, time.monotonic())
            self.notify(why, title=tr("Refused: {what}").format(what=what), severity="error")
        except ClientError as exc:
            why = tr("Not sent: the hub could not be reached. It may apply later if it was sent.")
            if isinstance(exc, NotConnected) and not self.live:
                why = tr("Not sent: not connected to the hub.")
            session.feedback = Feedback(what, Outcome.FAILED, why, time.monotonic())
            self.notify(why, title=tr("Not sent: {what}").format(what=what), severity="error")
        else:
            session.feedback = Feedback(what, Outcome.APPLIED, at=time.monotonic())
        finally:
            session.in_flight -= 1
        self._tell(DeskChanged(self.hub_now(), session=True))

    def fetch_history(self, case_id: str, reply_to: MessagePump) -> None:
        self._history(case_id, reply_to)

    @work(group="history", exit_on_error=False)
    async def _history(self, case_id: str, reply_to: MessagePump) -> None:
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

    def fetch_handover(self, reply_to: MessagePump) -> None:
        self._handover(reply_to)

    @work(group="handover", exclusive=True, exit_on_error=False)
    async def _handover(self, reply_to: MessagePump) -> None:
        """The current shift's hand-over report (its events asked of the hub), posted as
        :class:`HandoverLoaded` to ``reply_to``, or why not."""
        from backend_client.handover import shift_report

        try:
            if self.client is None:
                raise NotConnected("not connected to the hub")
            report = await shift_report(self.client)
        except CommandRefused as exc:  # e.g. a role that may not read the hall's events
            reply_to.post_message(
                HandoverLoaded(None, describe(exc, self.desk.words, self.desk.seen))
            )
        except ClientError as exc:
            reply_to.post_message(HandoverLoaded(None, str(exc)))
        else:
            reply_to.post_message(HandoverLoaded(report))

    def fetch_patrol(self, reply_to: MessagePump, staff_id: str) -> None:
        self._patrol(reply_to, staff_id)

    @work(group="patrol", exclusive=True, exit_on_error=False)
    async def _patrol(self, reply_to: MessagePump, staff_id: str) -> None:
        """The person's patrol today (``tracks``), posted as :class:`PatrolLoaded`; a role
        that may not read tracks gets ``None`` and the reason."""
        from zoneinfo import ZoneInfo

        try:
            if self.client is None:
                raise NotConnected("not connected to the hub")
            today = self.client.hub_now().astimezone(ZoneInfo(self.desk.settings.clock.timezone))
            tracks = await self.client.tracks(today.date(), [staff_id])
        except CommandRefused as exc:
            note = describe(exc, self.desk.words, self.desk.seen)
            reply_to.post_message(PatrolLoaded(staff_id, None, note=note))
        except ClientError as exc:
            reply_to.post_message(PatrolLoaded(staff_id, None, note=str(exc)))
        else:
            day = next((p for p in tracks.patrols if p.staff == staff_id), None)
            reply_to.post_message(PatrolLoaded(staff_id, day, tracks.minimum_minutes))

    def fetch_assessment(
        self, reply_to: MessagePump, since: datetime, until: datetime, workers: Sequence[str]
    ) -> None:
        self._assessment(reply_to, since, until, tuple(workers))

    @work(group="assessment", exclusive=True, exit_on_error=False)
    async def _assessment(
        self, reply_to: MessagePump, since: datetime, until: datetime, workers: tuple[str, ...]
    ) -> None:
        """The window's cases (``cases_window``) and today's patrol (``tracks``), posted as
        :class:`AssessmentLoaded`; a role that may not read the whole hall gets its own
        cases counted, and the reason said."""
        from zoneinfo import ZoneInfo

        try:
            if self.client is None:
                raise NotConnected("not connected to the hub")
            cases, _ = await self.client.cases_window(since, until)
            today = self.client.hub_now().astimezone(ZoneInfo(self.desk.settings.clock.timezone))
            tracks = await self.client.tracks(today.date(), workers)
        except CommandRefused as exc:
            note = describe(exc, self.desk.words, self.desk.seen)
            reply_to.post_message(AssessmentLoaded(since, None, note=note))
        except ClientError as exc:
            reply_to.post_message(AssessmentLoaded(since, None, note=str(exc)))
        else:
            reply_to.post_message(AssessmentLoaded(since, tuple(cases), tuple(tracks.patrols)))

    # --- never die of an operator's action -----------------------------------------------------

    async def run_action(
        self, action: Any, default_namespace: Any = None, namespaces: Any = None
    ) -> bool:
        """Every key and palette entry runs through here: an action that raises is logged and
        shown, and the console goes on (a crash would drop a commander's shift)."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as exc:
            self._failed(f"action {action!r}", exc)
            return True

    def on_action_failed(self, message: ActionFailed) -> None:
        self._failed(message.where, message.error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if event.state is WorkerState.ERROR and worker.error is not None:
            self._failed(f"worker {worker.name!r}", worker.error)

    def _failed(self, where: str, error: BaseException) -> None:
        log.error("%s failed", where, exc_info=error)
        title = self.desk.language.tr("Something went wrong; the console goes on")
        detail = f"{type(error).__name__}: {error}"
        self.desk.session.feedback = Feedback(title, Outcome.FAILED, detail, time.monotonic())
        self.notify(detail, title=title, severity="error")
        self._tell(DeskChanged(self.hub_now(), session=True), top_only=True)

    # --- language, palette, quitting -------------------------------------------------------------

    def on_switch_language(self, message: SwitchLanguage) -> None:
        self.desk.language.switch()
        self._tell(DeskChanged(self.hub_now(), language=True))

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(cast(App[object], self)):
            tr = self.desk.language.tr
            self.push_screen(
                CommandPalette(placeholder=tr("Search for commands…"), id="--command-palette")
            )

    async def action_quit(self) -> None:
        if self.client is not None:
            await self.client.close()
        revoked = self.desk.session.connection is ConnectionState.REVOKED
        self.exit(EXIT_REVOKED if revoked else 0)


def _freeze() -> None:
    gc.collect(1)  # the young garbage of the load, so that none of it is frozen
    gc.freeze()


def make_console(
    settings: Settings,
    *,
    hub_url: str,
    token: str | None,
    client_factory: ClientFactory = HubClient,
    prefs_dir: Path | None = None,
    demo: bool = False,
    driver_class: type[Driver] | None = None,
    sixteen_colours: bool | None = None,
) -> GriddeskApp:
    """The console app, ready to run (or to drive with ``run_test`` in tests)."""
    thin_updates.install()
    return GriddeskApp(
        settings,
        hub_url=hub_url,
        token=token,
        client_factory=client_factory,
        prefs_dir=prefs_dir,
        demo=demo,
        driver_class=driver_class,
        sixteen_colours=sixteen_colours,
    )


def exit_code(app: App[int], result: int | None) -> int:
    """The process exit code of a finished app: non-zero if it died of an exception (Textual
    sets its return code), else what it exited with."""
    if app.return_code:
        return app.return_code
    return result if isinstance(result, int) else 0


def in_a_terminal(command: str) -> bool:
    """The console draws on a terminal and reads keys from it. Started without one (from a
    script, a service, with input from /dev/null) Textual spins on an input that never comes,
    so it refuses with one line on stderr instead (``griddesk ctl`` is for scripts)."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return True
    print(
        f"griddesk {command}: needs a terminal (stdin and stdout are not one); "
        "use `griddesk ctl` from scripts",
        file=sys.stderr,
    )
    return False


def run_console(settings: Settings, hub_url: str, token: str | None) -> int:
    """Run the console until the operator quits; the exit code (2: no terminal to run in).
    No ``token``: it asks."""
    if not in_a_terminal("console"):
        return 2
    timeout = settings.console.link_timeout
    # Over SSH the console checks its terminal still answers (console/link_probe.py).
    driver = probing_driver(timeout) if timeout and over_ssh(os.environ) else None
    app = make_console(settings, hub_url=hub_url, token=token, driver_class=driver)
    return exit_code(app, app.run())
