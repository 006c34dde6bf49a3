"""Whether the terminal at the other end of an SSH link still answers; a console whose
terminal went silent ends itself.

A standby officer's phone tether drops, a home router forgets the connection: the link dies
without a FIN. OpenSSH's ``ClientAliveInterval`` only probes a session that is quiet, and a
console repaints its countdowns every second, so sshd never asks — in trials the console, and
the sshd session feeding it, outlived 40 s of a dead link and would have lived on until TCP
gave up retransmitting (some 15 minutes). The console asks the terminal itself: every quarter
of ``console.link_timeout`` it writes a cursor position request (DSR, ``ESC [ 6 n``), which
every xterm-compatible terminal answers (``ESC [ row ; col R``) through the same link. Nothing
heard from the terminal for ``link_timeout`` seconds — no answer and no key — and the console
exits with :data:`EXIT_LINK_LOST`; its session now quiet, sshd's own keep-alives end it too.

Done in the driver (Textual's public ``Driver.write`` / ``process_message`` hooks, the class
given to ``App(driver_class=…)``) and on a thread of its own, because a dead link can block the
app: once sshd stops reading, Textual's output queue fills and the app's own loop waits on it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from textual import events
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message

EXIT_LINK_LOST = 4
"""Exit code of a console whose terminal stopped answering (a dead SSH link)."""

CURSOR_POSITION_REQUEST = "\x1b[6n"
GRACE_S = 5.0
"""After saying the link is lost: how long the app gets to exit by itself before the process
is ended (a blocked output queue can keep it from ever running its exit)."""


def over_ssh(environ: Mapping[str, str]) -> bool:
    """The console runs in an SSH session (sshd sets ``SSH_CONNECTION`` for the command)."""
    return bool(environ.get("SSH_CONNECTION"))


class LinkLost(Message):
    """The terminal has not answered for the link timeout: the app should exit."""

    def __init__(self, silent_for: float) -> None:
        super().__init__()
        self.silent_for = silent_for


def probing_driver(timeout: float) -> type[LinuxDriver]:
    """A Linux terminal driver that checks the terminal answers within ``timeout`` seconds."""

    class ProbingDriver(LinuxDriver):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._heard = time.monotonic()
            self._stop = threading.Event()
            self._writing = threading.Lock()

        def start_application_mode(self) -> None:
            super().start_application_mode()  # type: ignore[no-untyped-call]  # Textual: untyped
            self._heard = time.monotonic()
            self._stop.clear()
            threading.Thread(target=self._watch, name="griddesk-link-probe", daemon=True).start()

        def stop_application_mode(self) -> None:
            self._stop.set()
            super().stop_application_mode()

        def process_message(self, message: Message) -> None:
            # Runs on the input thread: anything the terminal sends proves the link.
            self._heard = time.monotonic()
            if isinstance(message, events.CursorPosition):
                return  # our probe's answer; the app has no use for it
            super().process_message(message)

        def _watch(self) -> None:
            interval = max(0.2, timeout / 4)
            while not self._stop.wait(interval):
                silent = time.monotonic() - self._heard
                if silent > timeout:
                    self.send_message(LinkLost(silent))
                    if not self._stop.wait(GRACE_S):
                        os._exit(EXIT_LINK_LOST)  # the app could not run its exit
                    return
                self._probe()

        def _probe(self) -> None:
            # Textual's output queue blocks when full (a dead link): write from a thread of
            # its own, one at a time, so this watch keeps its time.
            if self._writing.acquire(blocking=False):

                def write() -> None:
                    try:
                        self.write(CURSOR_POSITION_REQUEST)
                    finally:
                        self._writing.release()

                threading.Thread(target=write, name="griddesk-link-write", daemon=True).start()

    return ProbingDriver
