"""``griddesk wallboard``: the wall on the hall's big screen, or PNGs of it for reports.

:class:`WallDriver` is the loop: every frame (a Qt timer) it drains the hub feed into the
:class:`~wallboard.wall_model.WallModel`, lets time pass, and hands the window one
:class:`~wallboard.wall_model.WallData`; it blinks the urgent rings and writes the PNG exports.
:func:`run_wallboard` builds the lot and runs Qt until the window closes, ``--once`` has
written its picture, or the hub refuses the token. Exit codes: 0 done, 1 the hub refused us or
never sent a hall within ``wait`` seconds.
"""

from __future__ import annotations

import gc
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from backend_client import ConnectionState
from dispatch.calendar import WorkingCalendar
from dispatch.config import Settings
from dispatch.models import Case, Role, Staff
from wallboard.feed import Batch, Feed, HubFeed, Item, Whole
from wallboard.fonts import choose_cjk_family
from wallboard.wall_model import WallModel
from wallboard.window import URGENT_CARDS, WallWindow
from wallboard.words import Translate

FRAME_MS = 200
"""A frame every fifth of a second: the feed is drained each frame, each panel redrawn each
second (countdowns tick by the second)."""

PHASES = 5
"""Frames in a round of panel groups (window.PANEL_GROUPS): a round is one second."""

MAP_PHASE = 4
"""The map's frame of the round: the urgent rings toggle with it (a second on, a second off),
so the blink costs no repaint of its own."""

LINK_WORDS = {
    ConnectionState.CONNECTING: "connecting",
    ConnectionState.SYNCING: "syncing",
    ConnectionState.LIVE: "live",
    ConnectionState.DISCONNECTED: "hub lost, reconnecting",
    ConnectionState.AUTH_FAILED: "token refused",
    ConnectionState.REVOKED: "session revoked",
    ConnectionState.CLOSED: "closed",
}


NOT_OBSERVER = (
    "griddesk wallboard: this token is a {role}'s; a wall should log in as an observer "
    "(griddesk operator add … --role observer), which the hub sends no personal data"
)


def export_name(now: datetime, tz: ZoneInfo) -> str:
    """The PNG's file name: the hub's local time of the picture."""
    return now.astimezone(tz).strftime("wall-%Y%m%d-%H%M%S.png")


class WallDriver(QObject):
    """Feed → model → window, once a frame; see the module docstring."""

    def __init__(
        self,
        window: WallWindow,
        model: WallModel,
        feed: Feed,
        tr: Translate,
        tz: ZoneInfo,
        *,
        export: Path | None = None,
        every: float | None = None,
        once: bool = False,
        wait: float = 60.0,
        err: TextIO = sys.stderr,
    ) -> None:
        super().__init__()
        self.window = window
        self.model = model
        self.feed = feed
        self.translate = tr
        self.tz = tz
        self.export = export
        self.every = every
        self.once = once
        self.wait = wait
        self.err = err
        self.exit_code: int | None = None
        """Set when the wall must stop (``--once`` done, a refused token, nothing to show)."""
        self.has_hall = False
        self.state = ConnectionState.CONNECTING
        self.frames: list[float] = []
        """Seconds each frame took (drain, model, panels): the bench reads these."""
        self.written: list[Path] = []
        self._started = time.monotonic()
        self._last_export: float | None = None
        self._frame = 0
        self._role_checked = False
        self._shown = 0  # frames drawn: an export waits for a round, laid out by Qt
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.frame)

    def start(self) -> None:
        self.timer.start(FRAME_MS)

    def frame(self) -> None:
        started = time.perf_counter()
        self.take(self.feed.take())
        phase = self._frame % PHASES
        self._frame += 1
        if self.has_hall:
            self.model.advance(self.feed.hub_now())
            # Each frame redraws one group of panels, in turn: each is current within a
            # second, and no frame pays for repainting the whole wall.
            self.window.show_part(self.model.data(), phase)
            self._shown += 1
            if phase == MAP_PHASE:
                self.window.map.blink()
        self.frames.append(time.perf_counter() - started)
        self._after_frame()

    def take(self, items: list[Item]) -> bool:
        """Apply what the feed brought; whether the hall changed. A run of batches goes into
        the model as one (the latest value of each case wins, as the hall model takes it)."""
        moved = False
        run: list[Batch] = []
        for item in items:
            if isinstance(item, Batch):
                run.append(item)
                continue
            moved |= self._apply_run(run)
            run = []
            if isinstance(item, Whole):
                self.model.replace(item.cases, item.staff, item.units, item.areas, item.now)
                self.has_hall = moved = True
                # The hall just taken in lives until the next snapshot: out of the cyclic
                # collector's reach, so a full collection (tens of ms over 20,000 cases and
                # the panels' Qt wrappers) does not land in a frame.
                gc.freeze()
            else:
                self.state = item.state
                words = self.translate(LINK_WORDS[item.state])
                self.window.set_link(words, ok=item.state is ConnectionState.LIVE)
                if item.state is ConnectionState.LIVE and not self._role_checked:
                    self._role_checked = True
                    role = self.feed.role
                    if role is not None and role is not Role.OBSERVER:
                        # The hub sends other roles personal data (phones, reporters) that a
                        # screen in a public hall should not even hold.
                        print(NOT_OBSERVER.format(role=role), file=self.err)
                if item.state in (ConnectionState.AUTH_FAILED, ConnectionState.REVOKED):
                    print(f"griddesk wallboard: {words}: {item.detail}", file=self.err)
                    self.stop(1)
        return self._apply_run(run) or moved

    def _apply_run(self, run: list[Batch]) -> bool:
        if not run or not self.has_hall:
            return False
        cases: dict[str, Case] = {}
        staff: dict[str, Staff] = {}
        removed: dict[str, None] = {}
        for batch in run:
            for key in batch.removed:
                cases.pop(key, None)
                removed[key] = None
            for case in batch.cases:
                removed.pop(case.id, None)
                cases[case.id] = case
            staff.update((s.id, s) for s in batch.staff)
        delta = self.model.apply(cases.values(), staff.values(), run[-1].now, removed)
        return bool(delta)

    def _after_frame(self) -> None:
        if self.exit_code is not None:
            return
        live = self.has_hall and self.state is ConnectionState.LIVE
        if not live and self.once and time.monotonic() - self._started > self.wait:
            print(
                f"griddesk wallboard: no hall from the hub within {self.wait:.0f} s",
                file=self.err,
            )
            self.stop(1)
            return
        if self.export is None or not live or self._shown < PHASES + 1:
            return
        due = self._last_export is None or (
            self.every is not None and time.monotonic() - self._last_export >= self.every
        )
        if due:
            self.write_png()
            if self.once:
                self.stop(0)

    def write_png(self) -> Path:
        """The wall as it stands, as a PNG in the export folder; its path."""
        assert self.export is not None
        self.window.show_data(self.model.data())
        self.window.map.blink(on=True)  # a picture shows the urgent rings, whatever the phase
        layout = self.window.layout()
        if layout is not None:
            layout.activate()  # labels whose text just grew get their width before the grab
        self.export.mkdir(parents=True, exist_ok=True)
        path = self.export / export_name(self.model.hall.now or self.feed.hub_now(), self.tz)
        n = 1
        while path.exists():  # two pictures within one second: keep both
            n += 1
            path = path.with_name(f"{path.stem.rsplit('~', 1)[0]}~{n}.png")
        self.window.grab().save(str(path), "PNG")
        self._last_export = time.monotonic()
        self.written.append(path)
        print(path, flush=True)
        return path

    def stop(self, code: int) -> None:
        self.exit_code = code
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.exit(code)


def make_wall(
    settings: Settings,
    tr: Translate,
    feed: Feed,
    *,
    size: tuple[int, int] = (1920, 1080),
    export: Path | None = None,
    every: float | None = None,
    once: bool = False,
    wait: float = 60.0,
    err: TextIO = sys.stderr,
) -> WallDriver:
    """The window, its model and the driver on ``feed`` (tests and the bench build it here).
    Needs a QApplication; chooses the CJK font (a warning on ``err`` if there is none)."""
    family = choose_cjk_family(err)
    if family is not None:
        QApplication.setFont(QFont(family))
    tz = ZoneInfo(settings.clock.timezone)
    model = WallModel(
        tz=tz,
        calendar=WorkingCalendar.from_settings(settings),
        amber_at=settings.sla.amber_at,
        top_units=settings.wallboard.top_units,
        urgent_rows=URGENT_CARDS,
    )
    window = WallWindow(tr, settings.wallboard, family, tz, size)
    return WallDriver(
        window, model, feed, tr, tz, export=export, every=every, once=once, wait=wait, err=err
    )


def run_wallboard(
    settings: Settings,
    url: str,
    token: str,
    tr: Translate,
    *,
    fullscreen: bool = False,
    export: Path | None = None,
    every: float | None = None,
    once: bool = False,
    size: tuple[int, int] = (1920, 1080),
    wait: float = 60.0,
) -> int:
    """Run the wall until its window closes (or ``once`` wrote its PNG); the exit code."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    feed = HubFeed(url, token)
    driver = make_wall(
        settings, tr, feed, size=size, export=export, every=every, once=once, wait=wait
    )
    window = driver.window
    if once:
        from PySide6.QtCore import Qt

        # Laid out at its size but never put on a screen: a picture for a report, no flash.
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        window.show()
    elif fullscreen:
        window.showFullScreen()
    else:
        window.show()
    feed.start()
    driver.start()
    # Ctrl+C or SIGTERM closes the wall cleanly (the frame timer lets Python see the signal).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: driver.stop(0))
    try:
        code = app.exec()
    finally:
        feed.stop()
        _dispose(window)
    if driver.exit_code is not None:
        return driver.exit_code
    return 0 if code == 0 else 1


def _dispose(window: WallWindow) -> None:
    """Destroy the window's Qt objects now, while Python is still whole: left to the
    interpreter's shutdown, PySide6 and pyqtgraph free them in an order that aborts the process
    (a refcount error in the last garbage collection) after the work was done."""
    import gc

    from PySide6.QtCore import QCoreApplication, QEvent

    window.close()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()


__all__ = ["WallDriver", "make_wall", "run_wallboard"]
