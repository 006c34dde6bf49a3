"""One authenticated client: its ordered outbox and the task that drains it.

Everything a client is sent — welcome, snapshot chunks, missed events, live events, acks,
errors — goes through one FIFO outbox drained by one sender task, so the order the hub
decides is the order the client sees (a command's events always precede its ack). While the
client is being brought up to date, live event frames are held back and released after the
resync frames. A client that cannot keep up with the live stream is closed with 1013 rather
than holding the others back; it reconnects and resumes from its last seq. So is one that
stops reading: more than ``hub.send_buffer_bytes`` unsent, or no byte taken for
``hub.stall_seconds`` while some wait (:meth:`Connection.stalled`, checked by the server's
watch). Closing such a client cannot wait for its unread bytes: the server bounds the closing
handshake and then aborts the TCP connection, which frees its buffers.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from dispatch.models import Actor
from dispatch.visibility import FULL, Scope
from hub.store import Grant

log = logging.getLogger(__name__)

BACKLOG_BYTES = 8 * 1024 * 1024
"""Unsent bytes in a client's socket buffer beyond which it is too slow and is closed
(the default of ``hub.send_buffer_bytes``)."""

REFUSED_LOG_SECONDS = 1.0
"""At most one log line about a client's refused frames per this many seconds."""

TRY_AGAIN_LATER = 1013
"""Close code for a client whose outbox overflowed (RFC 6455 "try again later")."""


class Connection:
    def __init__(
        self,
        ws: ServerConnection,
        actor: Actor,
        outbox_limit: int,
        scope: Scope = FULL,
        *,
        grant: Grant | None = None,
        backlog_bytes: int = BACKLOG_BYTES,
    ) -> None:
        self.ws = ws
        self.actor = actor
        self.scope = scope
        """What of the hall this client may see (dispatch/visibility.py)."""
        self.grant = grant
        """What the session was opened under (token, role, unit): another one now revokes it."""
        self.revoked = False
        self.opened_at = time.monotonic()
        """When the session was registered (after its token was checked)."""
        self.close_code: tuple[int, str] | None = None
        """Set when the hub decides to close this client (code, reason)."""
        self._limit = outbox_limit
        self._outbox: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._held: list[bytes] | None = []  # None once live
        self._sender: asyncio.Task[None] | None = None
        # A frame serialised once for every client is only valid without extensions (the
        # hub serves with compression off, so this holds; otherwise go through the outbox).
        self._plain = not ws.protocol.extensions
        self._refused = 0  # bad frames since the last log line about them
        self._refused_logged = -math.inf
        self._backlog_bytes = backlog_bytes
        # Progress of the socket: bytes handed to the transport (exact for live frames, the
        # payloads for outbox frames) minus what still sits in its buffer is what the client
        # has taken. It not growing while bytes wait is a stall.
        self._sent = 0
        self._taken = 0
        self._progress_at = time.monotonic()

    @property
    def live(self) -> bool:
        return self._held is None

    @property
    def writes_directly(self) -> bool:
        """Live, with nothing queued: a frame written to the socket now keeps the order."""
        return self._held is None and not self._outbox and self.close_code is None and self._plain

    def write_live(self, wire: bytes) -> None:
        """Write a serialised live frame straight to the socket (when :attr:`writes_directly`);
        close the client if its socket buffer keeps growing (it is not reading).

        What ``websockets.broadcast()`` does for one client, minus building the same frame
        again for each: the bytes are shared by every client.
        """
        transport = self.ws.transport
        if self.ws.protocol.state is not State.OPEN or self.close_code is not None:
            return
        transport.write(wire)
        self._sent += len(wire)
        if transport.get_write_buffer_size() > self._backlog_bytes:
            self.abort(TRY_AGAIN_LATER, "too slow: reconnect and resume")

    @property
    def backlog(self) -> int:
        """Bytes written for this client that its socket has not sent yet."""
        return self.ws.transport.get_write_buffer_size()

    def stalled(self, now: float, seconds: float) -> bool:
        """Whether bytes have been waiting for this client and it has taken none of them for
        ``seconds`` (``now`` on the monotonic clock). Called periodically by the server."""
        backlog = self.backlog
        taken = self._sent - backlog
        if taken > self._taken or (backlog == 0 and not self._outbox):
            self._taken, self._progress_at = max(taken, self._taken), now
            return False
        return now - self._progress_at > seconds

    def put(self, frame: bytes) -> None:
        """Queue a reply or resync frame (never dropped: their volume is bounded elsewhere)."""
        if self.close_code is None:
            self._outbox.append(frame)
            self._wake.set()

    def put_live(self, frame: bytes) -> None:
        """Queue a live events frame; hold it during resync; close the client on overflow."""
        if self.close_code is not None:
            return
        if self._held is not None:
            self._held.append(frame)
            if len(self._held) > self._limit:
                self.abort(TRY_AGAIN_LATER, "too slow: reconnect and resume")
            return
        if len(self._outbox) >= self._limit:
            self.abort(TRY_AGAIN_LATER, "too slow: reconnect and resume")
            return
        self.put(frame)

    def drop_held(self) -> None:
        """Forget held live frames: a snapshot taken now already contains them."""
        if self._held is not None:
            self._held.clear()

    def go_live(self) -> None:
        """Release the held live frames after the resync frames and stop holding."""
        held, self._held = self._held or [], None
        for frame in held:
            self.put(frame)

    def note_refused(self, why: str) -> None:
        """Log a refused frame — at most one line a second per client, with how many there
        were, never a traceback: a client sending garbage must not flood the hub's log."""
        self._refused += 1
        now = time.monotonic()
        if now - self._refused_logged >= REFUSED_LOG_SECONDS:
            log.info("refused %d frame(s) from %s; the last: %s", self._refused, self.actor.name,
                     why[:200])  # fmt: skip
            self._refused, self._refused_logged = 0, now

    def allowed(self) -> bool:
        """Whether this session's commands may still be applied (the engine asks when it
        decides each one): not once it has been revoked."""
        return not self.revoked

    def revoke(self, code: int, reason: str) -> None:
        """End the session of an operator who lost its grant: nothing more is sent, no command
        of it in flight is applied, and the connection is closed with ``code``."""
        self.revoked = True
        self.abort(code, reason)

    def abort(self, code: int, reason: str, *, flush: bool = False) -> None:
        """Close this client soon: queue nothing more; with ``flush`` the sender first sends
        what is queued (the errors that explain the close), else it stops at once."""
        if self.close_code is not None:
            return
        log.info("closing %s: %d %s", self.actor.name, code, reason)
        self.close_code = (code, reason)
        if flush:
            self._wake.set()
            return
        self._outbox.clear()
        if self._sender is not None:
            self._sender.cancel()

    def start_sender(self) -> asyncio.Task[None]:
        self._sender = asyncio.create_task(self._send_loop(), name=f"send-{self.actor.name}")
        return self._sender

    async def _send_loop(self) -> None:
        try:
            while True:
                while self._outbox:
                    # JSON text frames; msgspec gives bytes already in UTF-8, sent as text.
                    frame = self._outbox.popleft()
                    self._sent += len(frame)
                    await self.ws.send(frame, text=True)
                if self.close_code is not None:
                    return
                self._wake.clear()
                await self._wake.wait()
        except ConnectionClosed:
            return
