"""The hub client: connect, authenticate, mirror, send commands, reconnect — without Textual.

One :meth:`HubClient.run` call owns the connection for the client's life: it connects, says
hello (with the last seq it applied, after the first time), takes the snapshot or the missed
events into :attr:`HubClient.mirror`, then applies live events until the connection drops, and
starts over with exponential backoff and jitter. A refused token ends it for good.

Its owner learns what happens through plain synchronous callbacks (``on_state``,
``on_snapshot``, ``on_change``), called on the event loop in the order things happened; a
Textual worker turns them into messages. A callback that raises is logged and ignored.

Why our own reconnect loop rather than ``async for ws in websockets.connect(...)``: the
library's loop retries only failures to *open* the socket and resets its backoff as soon as
the handshake succeeds. Our failures happen after it — a refused token is an ``error`` frame
and a 4001 close, a sequence gap is found in a live frame — and the owner must see every state
change (disconnected, retrying in N s). So: one connection per loop turn, backoff reset only
once a connection got LIVE, auth refusals final — and so is a revoked session (close 4003:
the operator was disabled or changed): REVOKED, no retry with a token that no longer holds.

Several hubs (one PostgreSQL, N hubs): the client takes a list of hub URLs (a sequence, or one
string with commas between them, as config and ``--hub`` give it) and, when a connection ends
or cannot be opened, tries the next one. The seqs are the hall's, not a hub's, so the new hub
resumes it from the last seq it applied; commands that were waiting fail with ``NotConnected``
and are safe to send again with the same id (the hubs share the commands table).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl as ssl_module
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, ParamSpec, TypeVar

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidURI

from backend_client.errors import (
    LOST_WHILE_WAITING,
    AuthFailed,
    CommandRefused,
    CommandTimeout,
    NotConnected,
    SessionRevoked,
)
from backend_client.hub_clock import HubClock
from backend_client.mirror import Change, Diverged, Gap, Mirror
from backend_client.state import FINAL_STATES, ConnectionState
from dispatch.catalog import Category
from dispatch.commands import Command
from dispatch.errors import ErrorCode
from dispatch.events import Event, EventType
from dispatch.models import Case, Point, Role
from dispatch.protocol import (
    PROTOCOL_VERSION,
    Ack,
    Cases,
    CasesRequest,
    CatalogRequest,
    Categories,
    Error,
    Events,
    Hello,
    History,
    HistoryRequest,
    HubMessage,
    OnDutyNow,
    Ping,
    Pong,
    PositionReport,
    Positions,
    PositionTaken,
    RotaRequest,
    Snapshot,
    Tracks,
    TracksRequest,
    Welcome,
    Window,
    WindowRequest,
    decode_hub,
    encode,
)
from dispatch.tracks import TrackPoint

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4001
CLOSE_PROTOCOL_VERSION = 4002
CLOSE_REVOKED = 4003

P = ParamSpec("P")

StateCallback = Callable[[ConnectionState, str], None]
SnapshotCallback = Callable[[Mirror], None]
ChangeCallback = Callable[[Change], None]
Unsubscribe = Callable[[], None]
"""Returned by the ``on_*`` registrations: call it to stop the callback being called."""
C = TypeVar("C", StateCallback, SnapshotCallback, ChangeCallback)


class _Refused(Exception):
    """The hub will never take us as we are (bad token, other protocol): stop, don't retry."""

    def __init__(self, state: ConnectionState, detail: str) -> None:
        super().__init__(detail)
        self.state = state
        self.detail = detail


_Request = (
    HistoryRequest
    | CatalogRequest
    | WindowRequest
    | RotaRequest
    | CasesRequest
    | TracksRequest
    | PositionReport
)
_Answer = History | Categories | Window | OnDutyNow | Cases | Tracks | PositionTaken


def hub_urls(urls: str | Sequence[str]) -> tuple[str, ...]:
    """The hub URLs of ``"ws://a:8765, ws://b:8765"`` or of a list, in order, blanks dropped."""
    parts = urls.split(",") if isinstance(urls, str) else list(urls)
    return tuple(part.strip() for part in parts if part.strip())


class HubClient:
    """A connection to a hub, kept alive by :meth:`run`; see the module docstring."""

    def __init__(
        self,
        url: str | Sequence[str],
        token: str,
        *,
        ssl: ssl_module.SSLContext | None = None,
        client_name: str = "griddesk",
        command_timeout: float = 10.0,
        backoff_min: float = 0.2,
        backoff_max: float = 2.0,
        open_timeout: float = 10.0,
        clock_refresh: float = 30.0,
    ) -> None:
        self.urls = hub_urls(url) or ("",)
        """The hubs to try, in order; :attr:`url` is the one in use or tried next."""
        self._at = 0
        self._token = token
        self._ssl = ssl
        self._client_name = client_name[:100]
        self._command_timeout = command_timeout
        self._backoff_min = backoff_min
        self._backoff_max = max(backoff_min, backoff_max)
        self._open_timeout = open_timeout
        self._clock_refresh = clock_refresh

        self.mirror = Mirror()
        self.state = ConnectionState.DISCONNECTED
        self.detail = "not started"
        """Words for people about the current state (why disconnected, when the next retry)."""
        self.operator: str | None = None
        self.role: Role | None = None
        self.unit: str | None = None

        self._clock = HubClock()
        self._ws: ClientConnection | None = None
        self._pending: dict[str, asyncio.Future[Ack]] = {}
        self._requests: dict[str, asyncio.Future[_Answer]] = {}
        """Reads awaiting their answer (``history``, ``catalog``), by request id."""
        self._ping_sent: float | None = None
        self._changed = asyncio.Event()  # set and replaced at every state change
        self._stop = asyncio.Event()
        self._closing = False
        self._running = False
        self._run_task: asyncio.Task[Any] | None = None
        self._reached_live = False
        self._on_state: list[StateCallback] = []
        self._on_snapshot: list[SnapshotCallback] = []
        self._on_change: list[ChangeCallback] = []
        self.positions: dict[str, Point] = {}
        """Staff's last reported positions from the hub's ``positions`` frames (commanders,
        dispatchers and observers only; not part of the mirror: positions are not events)."""
        self.positions_at: datetime | None = None
        """Hub time of the last ``positions`` frame."""

    # --- callbacks -------------------------------------------------------------------------

    # Each returns a function that takes the callback off again, for owners (a recorder, a
    # screen) that live shorter than the client.

    def on_state(self, fn: StateCallback) -> Unsubscribe:
        """Call ``fn(state, detail)`` at every connection state change."""
        return _subscribe(self._on_state, fn)

    def on_snapshot(self, fn: SnapshotCallback) -> Unsubscribe:
        """Call ``fn(mirror)`` after a full snapshot was taken in (the mirror was replaced)."""
        return _subscribe(self._on_snapshot, fn)

    def on_change(self, fn: ChangeCallback) -> Unsubscribe:
        """Call ``fn(change)`` after each events frame was applied to the mirror."""
        return _subscribe(self._on_change, fn)

    # --- reading ---------------------------------------------------------------------------

    @property
    def speed(self) -> float:
        """The hub clock's rate (1.0; N in demo mode)."""
        return self._clock.speed

    def hub_now(self) -> datetime:
        """Hub time now: the last hub reading advanced at the hub's speed (see HubClock)."""
        return self._clock.now()

    def clock_offset(self) -> timedelta:
        """Hub time minus local time, for a status line."""
        return self._clock.offset()

    @staticmethod
    def new_id() -> str:
        """A fresh command id (32 hex digits)."""
        return uuid.uuid4().hex

    @property
    def url(self) -> str:
        """The hub in use (or tried next)."""
        return self.urls[self._at]

    # --- life cycle ------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def connected(
        cls,
        url: str | Sequence[str],
        token: str,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 (the error must say why it is not live)
        **options: Any,
    ) -> AsyncIterator[HubClient]:
        """A live client for a script (``griddesk ctl``): runs it in a task, waits for LIVE
        (raising :class:`AuthFailed` or :class:`NotConnected` with the reason), closes at exit.
        ``options`` are the constructor's keyword arguments."""
        client = cls(url, token, **options)
        task = asyncio.create_task(client.run(), name="griddesk-hub-client")
        try:
            await client.wait_live(timeout)
            yield client
        finally:
            await client.close()
            await task

    async def run(self) -> None:
        """Connect and stay connected until :meth:`close` or a refused token. Never raises for
        network trouble: it reports DISCONNECTED and retries."""
        if self._running:
            raise RuntimeError("HubClient.run() is already running")
        self._running = True
        self._run_task = asyncio.current_task()
        failures = 0
        try:
            while not self._closing:
                self._set_state(ConnectionState.CONNECTING, f"connecting to {self.url}")
                try:
                    detail = await self._connect_once()
                except _Refused as refused:
                    self._set_state(refused.state, refused.detail)
                    return
                except Exception as exc:  # every other failure is worth another try
                    detail = _describe(exc)
                    if not isinstance(exc, OSError | ConnectionClosed | TimeoutError | Gap):
                        log.warning("hub connection failed: %s", detail, exc_info=exc)
                if self._closing:
                    break
                if self._reached_live:
                    failures, self._reached_live = 0, False
                if len(self.urls) > 1:
                    # The next hub after the shortest backoff; it grows once per round of them all.
                    self._at = (self._at + 1) % len(self.urls)
                    detail = f"{detail}; next hub {self.url}"
                delay = self._backoff(failures // len(self.urls))
                failures += 1
                self._set_state(
                    ConnectionState.DISCONNECTED, f"{detail}; retrying in {delay:.1f} s"
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        finally:
            self._running = False
            self._run_task = None
            if self.state not in FINAL_STATES:
                self._set_state(ConnectionState.CLOSED, "closed")

    async def wait_live(self, timeout: float) -> None:  # noqa: ASYNC109 (as connected())
        """Return once LIVE; :class:`AuthFailed` if the token was refused, :class:`NotConnected`
        if the client closed or is not live within ``timeout`` seconds."""
        try:
            async with asyncio.timeout(timeout):
                while self.state is not ConnectionState.LIVE:
                    if self.state is ConnectionState.AUTH_FAILED:
                        raise AuthFailed(f"the hub at {self.url} refused the token: {self.detail}")
                    if self.state is ConnectionState.REVOKED:
                        raise SessionRevoked(f"the hub at {self.url} revoked this session")
                    if self.state is ConnectionState.CLOSED:
                        raise NotConnected(f"not connected to {self.url}: {self.detail}")
                    await self._changed.wait()
        except TimeoutError:
            raise NotConnected(
                f"hub at {self.url} not reached within {timeout:g} s ({self.state}: {self.detail})"
            ) from None

    async def close(self) -> None:
        """Stop: close the connection, end :meth:`run` (awaited unless called from it)."""
        self._closing = True
        self._stop.set()
        ws = self._ws
        if ws is not None:
            await ws.close()
        task = self._run_task
        if task is not None and task is not asyncio.current_task():
            await asyncio.wait({task})
        if self.state not in FINAL_STATES:
            self._set_state(ConnectionState.CLOSED, "closed")

    # --- commands --------------------------------------------------------------------------

    async def send(self, command: Command) -> Ack:
        """Send ``command``; return the hub's ack (the mirror already shows its events).

        Raises :class:`NotConnected` at once when not LIVE (nothing is queued for later);
        :class:`CommandRefused` with the hub's code when refused (nothing changed);
        :class:`CommandTimeout` when no answer came in ``command_timeout`` seconds; and
        :class:`NotConnected` when the connection dropped while waiting.

        After a timeout or a lost connection the command may or may not have applied:
        sending the *same command object* (same id) again once LIVE is safe — the hub applies
        an id once and answers a repeat with the original ack (``replayed=True``)."""
        ws = self._ws
        if self.state is ConnectionState.REVOKED:
            raise SessionRevoked("the hub revoked this session: the command was not sent")
        if self.state is not ConnectionState.LIVE or ws is None:
            raise NotConnected(f"not connected to the hub ({self.state}): the command was not sent")
        future = self._pending.get(command.id)
        if future is None:  # the same id already waiting: wait for the same answer
            future = asyncio.get_running_loop().create_future()
            self._pending[command.id] = future
            try:
                await ws.send(_command_frame(command), text=True)
            except ConnectionClosed:
                self._forget(command.id, future)
                raise NotConnected(LOST_WHILE_WAITING) from None
        try:
            async with asyncio.timeout(self._command_timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            raise CommandTimeout(
                f"no answer from the hub in {self._command_timeout:g} s; the command may or may "
                "not have applied — resend with the same id to be sure"
            ) from None
        finally:
            self._forget(command.id, future)

    async def history(self, case_id: str) -> list[Event]:
        """The case's stored events, oldest first — its whole audit trail, including what
        happened before this client connected (the mirror keeps cases, not events).

        Raises :class:`NotConnected` when not LIVE or when the connection drops while waiting,
        :class:`CommandRefused` (``not_found`` for an unknown case) and :class:`CommandTimeout`,
        as :meth:`send`; asking again is always safe: nothing changes on the hub."""
        request_id = self.new_id()
        answer = await self._read(HistoryRequest(id=request_id, case=case_id), "history")
        assert isinstance(answer, History)
        return answer.events

    async def catalog(self) -> list[Category]:
        """The hub's category catalog (what a bridge maps its own ticket types onto); raises
        as :meth:`history`."""
        answer = await self._read(CatalogRequest(id=self.new_id()), "catalog")
        assert isinstance(answer, Categories)
        return answer.categories

    async def events_window(
        self,
        since: datetime,
        until: datetime | None = None,
        types: Sequence[EventType] = (),
        *,
        most: int = 50_000,
    ) -> tuple[datetime, list[Event], bool]:
        """The whole hall's stored events of ``since`` .. ``until`` (hub time; default: now),
        of ``types`` (default all), oldest first — asked a page at a time. Returns the window's
        end as the hub fixed it, the events, and whether ``most`` cut them short. Commanders
        and dispatchers only (``forbidden`` otherwise); raises as :meth:`history`."""
        out: list[Event] = []
        after: int | None = None
        while True:
            request = WindowRequest(
                id=self.new_id(), since=since, until=until, types=tuple(types), after=after
            )
            answer = await self._read(request, "events window")
            assert isinstance(answer, Window)
            until = answer.until  # the later pages end where the first one did
            out.extend(answer.events)
            if not answer.more or not answer.events:
                return until, out, False
            if len(out) >= most:
                return until, out[:most], True
            after = answer.events[-1].seq

    async def on_duty(self) -> OnDutyNow:
        """Who is on duty now per the hub's rota (the duty day, its shift, the duty commander,
        each unit's standby order, the next change); raises as :meth:`history`."""
        answer = await self._read(RotaRequest(id=self.new_id()), "rota")
        assert isinstance(answer, OnDutyNow)
        return answer

    async def cases_window(
        self, since: datetime, until: datetime, *, most: int = 500_000
    ) -> tuple[list[Case], bool]:
        """The stored cases reported in [``since``, ``until``) as they stand now — open or
        finished, also those older than the hub keeps in memory — by id, asked a page at a
        time; and whether ``most`` cut them short. Commanders and dispatchers (whole) and
        observers (redacted); ``forbidden`` otherwise; raises as :meth:`history`."""
        out: list[Case] = []
        after: str | None = None
        while True:
            request = CasesRequest(id=self.new_id(), since=since, until=until, after=after)
            answer = await self._read(request, "cases window")
            assert isinstance(answer, Cases)
            out.extend(answer.cases)
            if not answer.more or not answer.cases:
                return out, False
            if len(out) >= most:
                return out[:most], True
            after = answer.cases[-1].id

    async def tracks(self, day: date, staff: Sequence[str] = (), *, points: bool = False) -> Tracks:
        """The grid workers' patrol of ``day`` (the hall's calendar): minutes, inside-grid
        minutes and the short-patrol flag per person, with the stored tracks if ``points``.
        Commanders, dispatchers and observers; raises as :meth:`history`."""
        request = TracksRequest(id=self.new_id(), day=day, staff=tuple(staff), points=points)
        answer = await self._read(request, "tracks")
        assert isinstance(answer, Tracks)
        return answer

    async def report_positions(self, staff: str, points: Sequence[TrackPoint]) -> int:
        """Report where ``staff`` was (a grid worker's terminal); returns how many points the
        hub stored after thinning. Raises as :meth:`history`."""
        request = PositionReport(id=self.new_id(), staff=staff, points=tuple(points))
        answer = await self._read(request, "position")
        assert isinstance(answer, PositionTaken)
        return answer.kept

    async def _read(self, request: _Request, what: str) -> _Answer:
        """Send a read request and wait for its answer (by the request id)."""
        ws = self._ws
        if self.state is not ConnectionState.LIVE or ws is None:
            raise NotConnected(f"not connected to the hub ({self.state}): {what} not asked")
        future: asyncio.Future[_Answer] = asyncio.get_running_loop().create_future()
        self._requests[request.id] = future
        try:
            try:
                await ws.send(encode(request), text=True)
            except ConnectionClosed:
                raise NotConnected(LOST_WHILE_WAITING) from None
            async with asyncio.timeout(self._command_timeout):
                return await future
        except TimeoutError:
            raise CommandTimeout(f"no {what} from the hub in {self._command_timeout:g} s") from None
        finally:
            self._requests.pop(request.id, None)

    def _forget(self, command_id: str, future: asyncio.Future[Ack]) -> None:
        if self._pending.get(command_id) is future:
            del self._pending[command_id]

    def _fail_pending(self) -> None:
        requests, self._requests = self._requests, {}
        for request in requests.values():
            if not request.done():
                request.set_exception(NotConnected(LOST_WHILE_WAITING))
                request.exception()
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(NotConnected(LOST_WHILE_WAITING))
                future.exception()  # retrieved here: a caller that timed out never will

    # --- one connection --------------------------------------------------------------------

    async def _connect_once(self) -> str:
        """One connection from open to close; returns why it ended (raises on failures)."""
        options: dict[str, Any] = {}
        if self._ssl is not None:
            options["ssl"] = self._ssl
        try:
            async with connect(
                self.url,
                compression=None,  # as the hub: the hall is a LAN, deflate costs CPU
                max_size=None,  # snapshot chunks are big; the hub is trusted
                open_timeout=self._open_timeout,
                user_agent_header=f"{self._client_name} (griddesk backend_client)",
                **options,
            ) as ws:
                if self._closing:
                    return "closed"
                self._ws = ws
                try:
                    await self._session(ws)
                except ConnectionClosed as closed:
                    self._raise_if_refused(closed)
                    return _describe(closed)
                finally:
                    self._ws = None
                    self._fail_pending()
                return "connection closed"
        except InvalidURI as exc:
            raise _Refused(ConnectionState.CLOSED, f"bad hub address: {exc}") from None

    async def _session(self, ws: ClientConnection) -> None:
        last_seq = self.mirror.seq if self.mirror.complete else None
        hello = Hello(
            protocol=PROTOCOL_VERSION,
            token=self._token,
            last_seq=last_seq,
            client=self._client_name,
        )
        sent = time.monotonic()
        await ws.send(encode(hello), text=True)
        async with asyncio.timeout(self._open_timeout):
            welcome = await self._welcome(ws)
        self._clock.observe(welcome.hub_time, welcome.speed, sent=sent)
        self.operator, self.role, self.unit = welcome.operator, welcome.role, welcome.unit
        target = welcome.seq
        self._set_state(
            ConnectionState.SYNCING,
            f"{'snapshot' if welcome.resync == 'snapshot' else 'missed events'} up to seq {target}",
        )
        if welcome.resync != "snapshot" and self.mirror.seq >= target:
            self._go_live()
        pinger: asyncio.Task[None] | None = None
        try:
            while True:
                message = self._decode(await ws.recv(decode=False))
                if message is None:
                    continue
                self._take(message)
                if self.state is ConnectionState.SYNCING and self._caught_up(welcome):
                    self._go_live()
                if pinger is None and self.state is ConnectionState.LIVE:
                    pinger = asyncio.create_task(self._ping_loop(ws), name="griddesk-hub-ping")
        finally:
            if pinger is not None:
                pinger.cancel()

    async def _welcome(self, ws: ClientConnection) -> Welcome:
        """Read the hub's answer to hello: a welcome, or a refusal made final."""
        message = self._decode(await ws.recv(decode=False))
        if isinstance(message, Welcome):
            return message
        if isinstance(message, Error) and message.code is ErrorCode.UNAUTHENTICATED:
            raise _Refused(ConnectionState.AUTH_FAILED, message.message)
        if isinstance(message, Error) and message.code is ErrorCode.PROTOCOL_VERSION:
            raise _Refused(ConnectionState.CLOSED, message.message)
        raise ConnectionError(f"expected welcome, the hub sent {type(message).__name__}")

    def _raise_if_refused(self, closed: ConnectionClosed) -> None:
        code = closed.rcvd.code if closed.rcvd is not None else None
        reason = closed.rcvd.reason if closed.rcvd is not None else ""
        if code == CLOSE_UNAUTHENTICATED:
            raise _Refused(ConnectionState.AUTH_FAILED, reason or "unauthenticated") from None
        if code == CLOSE_PROTOCOL_VERSION:
            raise _Refused(ConnectionState.CLOSED, reason or "protocol version refused") from None
        if code == CLOSE_REVOKED:  # disabled, or another role or unit: this token must stop
            raise _Refused(ConnectionState.REVOKED, reason or "revoked") from None

    def _caught_up(self, welcome: Welcome) -> bool:
        if welcome.resync == "snapshot":
            return self.mirror.complete
        return self.mirror.seq >= welcome.seq

    def _go_live(self) -> None:
        self._reached_live = True
        self._set_state(
            ConnectionState.LIVE, f"live at seq {self.mirror.seq} as {self.operator} ({self.role})"
        )

    def _decode(self, raw: str | bytes) -> HubMessage | None:
        try:
            return decode_hub(raw)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            # An events frame lost here shows up as a gap on the next one: that resyncs.
            log.warning("ignored a hub frame that does not decode: %s", exc)
            return None

    def _take(self, message: HubMessage) -> None:
        """Apply one hub frame (events before the ack they belong to, by the hub's order)."""
        if isinstance(message, Events):
            try:
                change = self.mirror.apply_events(message.events, message.after, message.seq)
            except Diverged:
                self.mirror.complete = False  # the next hello asks for a snapshot
                raise
            self._emit(self._on_change, change)
        elif isinstance(message, Snapshot):
            self.mirror.apply_snapshot(message)
            if self.mirror.complete:
                self._emit(self._on_snapshot, self.mirror)
        elif isinstance(message, Ack):
            future = self._pending.get(message.command)
            if future is not None and not future.done():
                future.set_result(message)
        elif isinstance(message, Positions):
            self.positions.update(message.positions)
            self.positions_at = message.at
        elif isinstance(
            message, History | Categories | Window | OnDutyNow | Cases | Tracks | PositionTaken
        ):
            request = self._requests.get(message.id)
            if request is not None and not request.done():
                request.set_result(message)
        elif isinstance(message, Error):
            key = message.command or ""
            waiting: asyncio.Future[Any] | None = self._pending.get(key) or self._requests.get(key)
            if waiting is not None and not waiting.done():
                refused = CommandRefused(
                    message.code, message.message, detail=message.detail, params=message.params
                )
                waiting.set_exception(refused)
            else:
                log.warning("hub error: %s: %s", message.code, message.message)
        elif isinstance(message, Pong):
            self._clock.observe(message.hub_time, self._clock.speed, sent=self._ping_sent)
            self._ping_sent = None
        else:
            log.warning("ignored an unexpected %s frame", type(message).__name__)

    async def _ping_loop(self, ws: ClientConnection) -> None:
        """Ask for the hub's clock now and then (drift, and a hub clock that was reset)."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(self._clock_refresh)
                self._ping_sent = time.monotonic()
                await ws.send(encode(Ping()), text=True)

    # --- state and callbacks ---------------------------------------------------------------

    def _set_state(self, state: ConnectionState, detail: str) -> None:
        if (state, detail) == (self.state, self.detail):
            return
        self.state, self.detail = state, detail
        log.info("hub connection %s: %s", state, detail)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
        self._emit(self._on_state, state, detail)

    def _emit(self, callbacks: list[Callable[P, None]], *args: P.args, **kwargs: P.kwargs) -> None:
        for fn in list(callbacks):
            try:
                fn(*args, **kwargs)
            except Exception:  # the owner's bug must not take the connection down
                log.exception("hub client callback %r failed", fn)

    def _backoff(self, failures: int) -> float:
        """Exponential, capped, with equal jitter (half fixed, half random) so a hall full of
        consoles does not reconnect in lockstep after a hub restart."""
        ceiling = min(self._backoff_max, self._backoff_min * 2.0**failures)
        return ceiling / 2 + random.uniform(0, ceiling / 2)


def _subscribe(callbacks: list[C], fn: C) -> Unsubscribe:
    callbacks.append(fn)

    def unsubscribe() -> None:
        with contextlib.suppress(ValueError):  # already off: calling twice is harmless
            callbacks.remove(fn)

    return unsubscribe


def _command_frame(command: Command) -> bytes:
    # Built by hand: CommandFrame is typed with the union of concrete ops, this takes any.
    return b'{"type":"command","command":' + msgspec.json.encode(command) + b"}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionClosed):
        frame = exc.rcvd
        if frame is None:
            return "connection lost"
        return f"hub closed the connection ({frame.code} {frame.reason})".replace(" )", ")")
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, Gap):
        return f"out of sequence ({exc}): resyncing"
    if isinstance(exc, Diverged):
        return f"mirror out of step ({exc}): taking a fresh snapshot"
    return str(exc) or type(exc).__name__
