"""The hub's websockets endpoint: greeting, resync, commands, and the live event fan-out.

A connection says ``hello`` (token, protocol, last seen seq) first; an unknown token gets one
``unauthenticated`` error and a 4001 close, nothing else. An operator gets ``welcome``, then
either a chunked snapshot or the events it missed, then the live stream. Commands go to the
engine; their events reach every client (the sender's own ones before its ack) through one
engine listener that encodes and frames each batch once per view and sends the same bytes to
every client of that view: straight to the socket when nothing is queued for it, else through
its outbox. Commanders and dispatchers share one view (the batch as it is); observers one,
redacted; each unit's standby and unit terminals one, holding only that unit's cases
(dispatch/visibility.py decides; docs/PROTOCOL.md §5.1). The snapshot, a resume and
``history`` are filtered by the same rules. A ``history`` request reads one case's events from
the store and answers that client alone; so does an ``events_window`` request (the hall's
events of a time window, for the hand-over report; commanders and dispatchers only).
Bad frames get a typed error and change nothing; floods are throttled, then closed.

A client the hub closes is let go within a bound: the closing handshake gets
``hub.close_timeout`` seconds, then the TCP connection is aborted. Without that bound, a
client that stopped reading would keep its socket and its megabytes of unsent frames: the
library's close waits for the write buffer to drain first, which never happens. A watch task
looks at every client a few times a second and closes the stalled ones (1013).

Revocation is immediate: another watch task re-reads the operators' grants (see
:meth:`HubServer._watch_operators`) and closes with 4003 every session whose operator was
disabled or given another role, unit or token; a command of it still in flight is refused
when the engine decides it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Sequence
from datetime import datetime
from http import HTTPStatus
from ssl import SSLContext

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response

from dispatch.config import HubSettings
from dispatch.errors import Refusal, refuse
from dispatch.events import Event
from dispatch.models import Actor, Point, Role
from dispatch.protocol import (
    CASES_PAGE,
    PROTOCOL_VERSION,
    WINDOW_PAGE,
    Cases,
    CasesRequest,
    CatalogRequest,
    Categories,
    CommandFrame,
    Error,
    Events,
    Hello,
    History,
    HistoryRequest,
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
    command_id_of,
    decode_client,
    encode,
)
from dispatch.roles import READ_CASES, READ_TRACKS, READ_WINDOW, REPORT_POSITIONS
from dispatch.visibility import (
    Level,
    Scope,
    final_placement,
    level,
    redact_event,
    scope_of,
    sees_phone,
    unplaced,
    view_events,
    visible_cases,
    visible_staff,
)
from hub.connection import TRY_AGAIN_LATER, Connection
from hub.engine import Engine, HallSnapshot
from hub.patrol import PatrolKeeper
from hub.patrol_alerts import PatrolAlerts
from hub.ratelimit import TokenBucket, Verdict
from hub.scoping import Placements
from hub.store import Grant, Store
from hub.tokens import token_hash

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4001
"""Close code after a bad, disabled or missing token (or no hello in time)."""
CLOSE_PROTOCOL_VERSION = 4002
"""Close code after a hello speaking another protocol version."""
CLOSE_REVOKED = 4003
"""Close code for a session whose operator was disabled, or given another role, unit or token
since it said hello."""
CLOSE_POLICY = 1008
"""Close code for a client that keeps flooding after being told to slow down."""

FLUSH_TIMEOUT = 1.0
"""Seconds a client closed by the hub is given to receive the frames explaining why."""
EVENTS_PER_FRAME = 500
"""Events in one ``events`` frame at most (resync pages and live batches alike)."""
MAX_RESUME_EVENTS = 100_000
"""Further behind than this, a snapshot is cheaper than replaying the log."""
HISTORY_LIMIT = 1000
"""Events in a ``history`` reply at most (the oldest ones; a case has dozens, not thousands)."""


class HubServer:
    def __init__(
        self,
        engine: Engine,
        store: Store,
        settings: HubSettings,
        *,
        ssl: SSLContext | None = None,
        hello_timeout: float = 10.0,
        outbox_limit: int = 1000,
        max_inflight: int = 64,
    ) -> None:
        self._engine = engine
        self._store = store
        self._settings = settings
        self._ssl = ssl
        self._hello_timeout = hello_timeout
        self._outbox_limit = outbox_limit
        self._max_inflight = max_inflight
        self._clients: set[Connection] = set()
        self._sockets: set[ServerConnection] = set()  # every connection until its handler ends
        self._commands: set[asyncio.Task[None]] = set()
        self._server: Server | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._placements: Placements | None = None
        """Where each case stands for role-scoped clients; made when the first one connects."""
        self._unlisten = engine.listen(self._fan_out)
        self._patrol = PatrolKeeper(store, lambda: engine.hall, lambda: engine.clock)
        self._patrol.publish = self._fan_out_positions
        self._patrol_alerts = PatrolAlerts(engine, self._patrol, store)

    # --- life cycle ------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> None:
        s = self._settings
        self._server = await serve(
            self._handle,
            host,
            port,
            ssl=self._ssl,
            process_request=self._health,
            compression=None,  # hall LAN: deflate triples the fan-out CPU (DESIGN §4)
            max_size=s.max_frame_bytes,
            ping_interval=s.ping_interval,
            ping_timeout=s.ping_timeout,
            close_timeout=s.close_timeout,
        )
        self._watch_task = asyncio.create_task(self._watch(), name="hub-watch")
        await self._patrol.start()
        await self._patrol_alerts.start()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not started")
        sockname = next(iter(self._server.sockets)).getsockname()
        return int(sockname[1])

    @property
    def patrol_alerts(self) -> PatrolAlerts:
        """The short-patrol alerts' watch (tests call its ``check`` at an instant)."""
        return self._patrol_alerts

    @property
    def patrol(self) -> PatrolKeeper:
        """The patrol tracks' keeper (the demo hall reports its walking workers through it)."""
        return self._patrol

    @property
    def clients(self) -> int:
        """Authenticated connections now."""
        return len(self._clients)

    @property
    def sockets(self) -> int:
        """Connections the hub holds now, authenticated or not, closing ones included."""
        return len(self._sockets)

    @property
    def backlog(self) -> int:
        """Bytes the hub holds written for its connections and not sent yet, all told."""
        return sum(ws.transport.get_write_buffer_size() for ws in self._sockets)

    async def close(self) -> None:
        """Stop accepting, close every connection (1001), let commands in flight finish.
        A client that does not complete the closing handshake within ``close_timeout`` (it
        stopped reading) has its TCP connection aborted."""
        self._unlisten()
        await self._patrol_alerts.close()
        await self._patrol.close()
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        if self._server is not None:
            self._server.close()
            try:
                await asyncio.wait_for(
                    asyncio.shield(self._server.wait_closed()), self._settings.close_timeout
                )
            except TimeoutError:
                for ws in self._sockets:
                    ws.transport.abort()
                await self._server.wait_closed()
        if self._commands:
            await asyncio.gather(*self._commands, return_exceptions=True)

    # --- HTTP ------------------------------------------------------------------------------

    def _health(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path != "/healthz":
            return None
        return connection.respond(HTTPStatus.OK, f"ok seq={self._engine.seq}\n")

    # --- one connection --------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        self._sockets.add(ws)
        try:
            await self._serve(ws)
        finally:
            self._sockets.discard(ws)

    async def _serve(self, ws: ServerConnection) -> None:
        actor, hello = await self._greet(ws)
        if actor is None or hello is None:
            return
        if hello.last_seq is not None and hello.last_seq > self._engine.seq:
            # A client that moved here from another hub of a shared store may have seen events
            # this hub has not read yet: read them, so it resumes instead of starting over.
            with contextlib.suppress(Exception):
                await self._engine.follow()
        scope = scope_of(actor, self._engine.hall)
        conn = Connection(
            ws,
            actor,
            self._outbox_limit,
            scope,
            grant=Grant(token_hash(hello.token), actor.role, actor.unit),
            backlog_bytes=self._settings.send_buffer_bytes,
        )
        # Registering and reading the engine's seq with no await between: every event after
        # that seq reaches this client through the listener (held until the resync is sent).
        self._clients.add(conn)
        seq = self._engine.seq
        if scope.placed:
            self._scoped_placements()
        fresh = hello.last_seq is None or hello.last_seq > seq  # new, or confused: start over
        snapshot = self._engine.snapshot() if fresh else None
        sender = conn.start_sender()
        consumer = asyncio.create_task(
            self._consume(conn, hello.last_seq, seq, snapshot), name=f"recv-{actor.name}"
        )
        log.info("%s (%s) connected from %s", actor.name, actor.role, ws.remote_address)
        try:
            await asyncio.wait({sender, consumer}, return_when=asyncio.FIRST_COMPLETED)
            if consumer.done() and conn.close_code is not None:
                # Closed by the hub (flood): let the queued errors go out first, briefly.
                await asyncio.wait({sender}, timeout=FLUSH_TIMEOUT)
        finally:
            self._clients.discard(conn)
            for task in (sender, consumer):
                task.cancel()
            for task in (sender, consumer):
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task
        if conn.close_code is not None:
            await _close_draining(ws, *conn.close_code, within=self._settings.close_timeout)
        log.info("%s disconnected (%s)", actor.name, ws.close_code)

    async def _greet(self, ws: ServerConnection) -> tuple[Actor | None, Hello | None]:
        """Read and check the hello; on failure send one error, close, and return Nones."""
        try:
            frame = await asyncio.wait_for(ws.recv(), self._hello_timeout)
        except TimeoutError:
            await self._refuse(ws, refuse("no_hello"))
            return None, None
        except ConnectionClosed:
            return None, None
        try:
            hello = decode_client(frame, self._settings.max_frame_bytes)
        except Refusal as refusal:
            await self._refuse(ws, refuse("hello_expected", error=refusal.message))
            return None, None
        if not isinstance(hello, Hello):
            await self._refuse(ws, refuse("hello_first"))
            return None, None
        if hello.protocol != PROTOCOL_VERSION:
            wrong = refuse("protocol_version", protocol=PROTOCOL_VERSION, expected=hello.protocol)
            await self._refuse(ws, wrong, CLOSE_PROTOCOL_VERSION)
            return None, None
        actor = await self._store.authenticate(hello.token)
        if actor is None:
            await self._refuse(ws, refuse("bad_token"))
            return None, None
        return actor, hello

    async def _refuse(
        self, ws: ServerConnection, refusal: Refusal, close: int = CLOSE_UNAUTHENTICATED
    ) -> None:
        with contextlib.suppress(ConnectionClosed):
            await ws.send(_error(refusal), text=True)
            await ws.close(close, refusal.message[:120])
        log.info("refused %s: %s", ws.remote_address, refusal.message)

    async def _consume(
        self, conn: Connection, last_seq: int | None, seq: int, snapshot: HallSnapshot | None
    ) -> None:
        await self._resync(conn, last_seq, seq, snapshot)
        bucket = TokenBucket(self._settings.frames_per_second, self._settings.burst)
        inflight = asyncio.Semaphore(self._max_inflight)
        try:
            async for frame in conn.ws:
                verdict = bucket.check()
                if verdict is Verdict.FLOOD:
                    conn.abort(CLOSE_POLICY, "flooding", flush=True)
                    return
                if verdict is Verdict.LIMITED:
                    # Naming the dropped command lets the client retry exactly that one.
                    conn.put(_error(refuse("rate_limited"), command_id_of(frame)))
                    continue
                await self._dispatch(conn, frame, inflight)
        except ConnectionClosed:
            return

    async def _dispatch(
        self, conn: Connection, frame: str | bytes, inflight: asyncio.Semaphore
    ) -> None:
        try:
            message = decode_client(frame, self._settings.max_frame_bytes)
        except Refusal as refusal:
            conn.note_refused(refusal.message)
            conn.put(_error(refusal, command_id_of(frame)))
            return
        if isinstance(message, Ping):
            conn.put(encode(Pong(hub_time=self._engine.clock.now())))
        elif isinstance(message, Hello):
            conn.put(_error(refuse("hello_again")))
        elif isinstance(message, CommandFrame):
            # A client may pipeline commands; past max_inflight it waits (its reads stop).
            await inflight.acquire()
            task = asyncio.create_task(self._run_command(conn, message, inflight))
            self._commands.add(task)
            task.add_done_callback(self._commands.discard)
        elif isinstance(message, CatalogRequest):
            # Static reference data from memory: answered at once, no database.
            categories = list(self._engine.hall.catalog)
            conn.put(encode(Categories(id=message.id, categories=categories)))
        elif isinstance(message, RotaRequest):
            # From memory, like the catalog: who is on duty now per the rota.
            conn.put(encode(self._on_duty_now(message.id)))
        elif isinstance(message, HistoryRequest):
            # A read, but it waits on the database: run it like a command, under the same cap.
            await inflight.acquire()
            task = asyncio.create_task(self._run_history(conn, message, inflight))
            self._commands.add(task)
            task.add_done_callback(self._commands.discard)
        elif isinstance(message, WindowRequest):
            # The role first, before any read: the window holds every case unredacted.
            if conn.actor.role not in READ_WINDOW:
                forbidden = refuse("role_may_not", role=conn.actor.role, op="events_window")
                conn.put(_error(forbidden, message.id))
                return
            await inflight.acquire()
            window = asyncio.create_task(self._run_window(conn, message, inflight))
            self._commands.add(window)
            window.add_done_callback(self._commands.discard)
        elif isinstance(message, CasesRequest | PositionReport | TracksRequest):
            await self._read_request(conn, message, inflight)

    async def _read_request(
        self,
        conn: Connection,
        message: CasesRequest | PositionReport | TracksRequest,
        inflight: asyncio.Semaphore,
    ) -> None:
        """The assessment's requests: the role first, before any read; then, like a command,
        in a task under the same cap of requests in flight."""
        if isinstance(message, CasesRequest):
            allowed, op = READ_CASES, "cases_window"
        elif isinstance(message, TracksRequest):
            allowed, op = READ_TRACKS, "tracks"
        else:
            allowed, op = REPORT_POSITIONS, "position"
        if conn.actor.role not in allowed:
            conn.put(_error(refuse("role_may_not", role=conn.actor.role, op=op), message.id))
            return
        await inflight.acquire()
        task = asyncio.create_task(self._run_read(conn, message, inflight))
        self._commands.add(task)
        task.add_done_callback(self._commands.discard)

    async def _run_read(
        self,
        conn: Connection,
        message: CasesRequest | PositionReport | TracksRequest,
        inflight: asyncio.Semaphore,
    ) -> None:
        try:
            answer = await self._answer(conn, message)
        except Refusal as refusal:
            conn.put(_error(refusal, message.id))
        except Exception:
            log.exception("%s %s for %s failed", message.__struct_config__.tag, message.id,
                          conn.actor.name)  # fmt: skip
            conn.put(_error(refuse("request_failed"), message.id))
        else:
            conn.put(answer)
        finally:
            inflight.release()

    async def _answer(
        self, conn: Connection, message: CasesRequest | PositionReport | TracksRequest
    ) -> bytes:
        if isinstance(message, CasesRequest):
            if message.until <= message.since:
                raise refuse("cases_window_backwards", since=message.since.isoformat(),
                             until=message.until.isoformat())  # fmt: skip
            cases = await self._store.cases_reported(
                message.since, message.until, message.after, CASES_PAGE + 1
            )
            more = len(cases) > CASES_PAGE
            shown = visible_cases(conn.scope, cases[:CASES_PAGE])
            return encode(Cases(id=message.id, since=message.since, until=message.until,
                                cases=shown, more=more))  # fmt: skip
        if isinstance(message, TracksRequest):
            patrols, points = await self._patrol.patrols(message.day, message.staff, message.points)
            minimum = self._engine.hall.settings.assessment.patrol_minimum_minutes
            return encode(Tracks(id=message.id, day=message.day, minimum_minutes=minimum,
                                 patrols=patrols, points=points))  # fmt: skip
        person = self._engine.hall.staff.get(message.staff)
        if person is None:
            raise refuse("unknown_staff", staff=message.staff)
        if conn.actor.role is Role.UNIT and person.unit != conn.actor.unit:
            raise refuse("position_out_of_scope", staff=message.staff, unit=conn.actor.unit)
        kept = await self._patrol.report(message.staff, message.points)
        return encode(PositionTaken(id=message.id, kept=kept))

    def _fan_out_positions(self, at: datetime, moved: dict[str, Point]) -> None:
        """The moved positions of the last second, one frame for the hall's and the wall's
        views (role-scoped unit terminals are not sent the whole city's staff)."""
        clients = [c for c in self._clients if c.actor.role in READ_TRACKS]
        if clients:
            self._send_live(clients, [encode(Positions(at=at, positions=moved))])

    def _on_duty_now(self, request_id: str) -> OnDutyNow:
        now = self._engine.clock.now()
        on = self._engine.on_duty(now)
        if on is None:
            return OnDutyNow(id=request_id, at=now)
        return OnDutyNow(
            id=request_id,
            at=now,
            day=on.day.isoformat(),
            shift=str(on.shift()),
            commander=on.commander,
            standby={unit: list(order) for unit, order in on.standby.items()},
            next_change=self._engine.next_shift_change(now),
        )

    async def _run_command(
        self, conn: Connection, message: CommandFrame, inflight: asyncio.Semaphore
    ) -> None:
        command = message.command
        try:
            ack = await self._engine.execute(command, conn.actor, allowed=conn.allowed)
        except Refusal as refusal:
            conn.put(_error(refusal, command.id))
        except Exception:
            log.exception("command %s from %s failed", command.id, conn.actor.name)
            conn.put(_error(refuse("command_failed"), command.id))
        else:
            conn.put(encode(ack))
        finally:
            inflight.release()

    async def _run_history(
        self, conn: Connection, request: HistoryRequest, inflight: asyncio.Semaphore
    ) -> None:
        """A case's history, as its snapshot row is seen: commanders, dispatchers and observers
        (redacted) any case; standby and unit operators the cases their unit owns or supports
        now, else ``forbidden`` (docs/PROTOCOL.md §5.1)."""
        try:
            events = await self._store.case_events(request.case, HISTORY_LIMIT)
        except Exception:
            log.exception("history of %s for %s failed", request.case, conn.actor.name)
            conn.put(_error(refuse("history_failed"), request.id))
        else:
            # Every case starts with a case_created event: no events means no such case.
            if not events:
                conn.put(_error(refuse("unknown_case", case=request.case), request.id))
                return
            scope = conn.scope
            if not scope.full:
                seen = level(scope, final_placement(events))
                if seen is Level.NONE:
                    out = refuse(
                        "history_out_of_scope", case=request.case, operator=conn.actor.name
                    )
                    conn.put(_error(out, request.id))
                    return
                events = [
                    redact_event(
                        e,
                        seen,
                        phone=e.staff is None or sees_phone(scope, self._staff_unit(e.staff)),
                    )
                    for e in events
                ]
            conn.put(encode(History(id=request.id, case=request.case, events=events)))
        finally:
            inflight.release()

    async def _run_window(
        self, conn: Connection, request: WindowRequest, inflight: asyncio.Semaphore
    ) -> None:
        """The hall's events of a time window (the hand-over's source), a page at a time: the
        window's seq range is found by bisection on the log (``Store.window_seqs``), then read
        as a range of the primary key — proportional to the window, not to the log."""
        try:
            until = request.until or self._engine.clock.now()
            first, last = await self._store.window_seqs(request.since, until)
            start = max(first, (request.after or 0) + 1)
            types = {str(t) for t in request.types}
            events = await self._store.window_events(start, last, types, WINDOW_PAGE + 1)
        except Exception:
            log.exception("events window for %s failed", conn.actor.name)
            conn.put(_error(refuse("window_failed"), request.id))
        else:
            more = len(events) > WINDOW_PAGE
            answer = Window(
                id=request.id,
                since=request.since,
                until=until,
                first=first,
                last=last,
                events=events[:WINDOW_PAGE],
                more=more,
            )
            conn.put(encode(answer))
        finally:
            inflight.release()

    # --- resync ----------------------------------------------------------------------------

    async def _resync(
        self, conn: Connection, last_seq: int | None, seq: int, snapshot: HallSnapshot | None
    ) -> None:
        """Welcome, then the snapshot or the missed events ``last_seq+1 .. seq``, then release
        the live stream (held since registration: everything after ``seq``)."""
        missed: list[bytes] | None = None
        if snapshot is None and last_seq is not None:
            missed = await self._missed(conn.scope, last_seq, seq)
            if missed is None:
                # Taken now, so it includes whatever the listener held meanwhile.
                conn.drop_held()
                snapshot = self._engine.snapshot()
        clock = self._engine.clock
        welcome = Welcome(
            protocol=PROTOCOL_VERSION,
            operator=conn.actor.name,
            role=conn.actor.role,
            unit=conn.actor.unit,
            hub_time=clock.now(),
            seq=snapshot.seq if snapshot is not None else seq,
            resync="snapshot" if snapshot is not None else "events",
            speed=clock.speed,
        )
        conn.put(encode(welcome))
        if snapshot is not None:
            for chunk in _snapshot_chunks(
                _scoped(snapshot, conn.scope), self._settings.snapshot_chunk
            ):
                conn.put(chunk)
        else:
            for page in missed or []:
                conn.put(page)
        conn.go_live()

    async def _missed(self, scope: Scope, last_seq: int, seq: int) -> list[bytes] | None:
        """Frames of the events ``last_seq+1 .. seq`` as ``scope`` sees them, or None when the
        log cannot supply them all (or, for a scoped client, they are too far back to place)."""
        pages = await self._missed_events(last_seq, seq)
        if pages is None:
            return None
        if scope.full:
            return [encode(Events(events=page)) for page in pages]
        if last_seq >= seq:
            return []
        missed = [e for page in pages for e in page]
        steps = (
            self._scoped_placements().replay(missed, last_seq) if scope.placed else unplaced(missed)
        )
        if steps is None:
            return None
        seen = view_events(scope, steps, self._engine.cases.get, self._staff_unit)
        return _scoped_frames(scope, seen, last_seq, seq)

    async def _missed_events(self, last_seq: int, seq: int) -> list[list[Event]] | None:
        """Events ``last_seq+1 .. seq`` in pages, or None when the log cannot supply them all."""
        if seq - last_seq > MAX_RESUME_EVENTS:
            return None
        pages: list[list[Event]] = []
        cursor = last_seq
        while cursor < seq:
            page = await self._engine.events_after(cursor, EVENTS_PER_FRAME)
            if not page or page[0].seq != cursor + 1:
                return None
            page = [e for e in page if e.seq <= seq]
            pages.append(page)
            cursor = page[-1].seq
        return pages

    # --- the watch ---------------------------------------------------------------------------

    async def _watch(self) -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._watch_stalls())
            tasks.create_task(self._watch_operators())

    async def _watch_stalls(self) -> None:
        """A few times a second: close the clients that stopped taking what they are sent."""
        stall = self._settings.stall_seconds
        period = min(0.5, stall / 4)
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            for conn in list(self._clients):
                try:
                    if conn.close_code is None and conn.stalled(now, stall):
                        conn.abort(TRY_AGAIN_LATER, "stalled: reconnect and resume")
                except Exception:  # a fault of ours on one client must not stop the watch
                    log.exception("checking %s for a stall failed", conn.actor.name)

    async def _watch_operators(self) -> None:
        """Every ``hub.revocation_poll_seconds`` (≤ 0.5 s): revoke (close 4003) the sessions
        whose operator's grant is not the one they were opened under.

        Why a poll of the operators table: ``griddesk operator disable`` and ``operator
        set`` (like a new token) write to the store from another process, often with no hub
        running or with several hubs on one PostgreSQL database; each hub must learn of it
        without the CLI knowing where the hubs are. Reading the enabled operators' (name,
        token hash, role, unit) is one small read of a table of dozens of rows, the same on
        SQLite and PostgreSQL, needs no schema change, and compares the current state rather
        than a change feed, so a change made while a hub was down, or between a session's
        hello and its registration, is caught all the same. On PostgreSQL a LISTEN on a
        channel the CLI notifies could wake this sooner; polling stays as the fallback.

        Only sessions opened before the read began are judged by it: one that logged in
        during the read may hold a newer grant than the read saw (its operator was just
        changed) and is judged by the next read instead."""
        period = self._settings.revocation_poll_seconds
        failing = False
        while True:
            await asyncio.sleep(period)
            if not self._clients:
                continue
            began = time.monotonic()
            try:
                grants = await self._store.grants()
            except Exception as exc:  # the database is away: keep the sessions, say it once
                if not failing:
                    log.warning("cannot read the operators to check sessions: %s", exc)
                failing = True
                continue
            failing = False
            for conn in list(self._clients):
                if conn.revoked or conn.opened_at >= began:
                    continue
                if grants.get(conn.actor.name) != conn.grant:
                    conn.revoke(CLOSE_REVOKED, "revoked")

    # --- fan-out ---------------------------------------------------------------------------

    def _scoped_placements(self) -> Placements:
        """The case placements role-scoped clients are served from, made on first use (from
        the engine's state now, so only with no await since the engine's seq was read)."""
        if self._placements is None:
            engine = self._engine
            self._placements = Placements(engine.cases.values(), engine.seq, MAX_RESUME_EVENTS)
        return self._placements

    def _staff_unit(self, staff_id: str) -> str | None:
        person = self._engine.hall.staff.get(staff_id)
        return person.unit if person is not None else None

    def _fan_out(self, events: Sequence[Event]) -> None:
        """Engine listener: encode each frame once per scope — one encoding for every
        commander and dispatcher, one per distinct role scope (a unit's terminals share it)
        — and send the same bytes to every client of that scope."""
        steps = self._placements.advance(events) if self._placements is not None else None
        if not self._clients or not events:
            return
        by_scope: dict[Scope, list[Connection]] = {}
        for conn in self._clients:
            by_scope.setdefault(conn.scope, []).append(conn)
        for scope, clients in by_scope.items():
            if scope.full:
                payloads = [
                    encode(Events(events=list(events[i : i + EVENTS_PER_FRAME])))
                    for i in range(0, len(events), EVENTS_PER_FRAME)
                ]
            else:
                # No placements yet: no unit's terminal has connected, only observers.
                placed = steps if steps is not None else unplaced(events)
                seen = view_events(scope, placed, self._engine.cases.get, self._staff_unit)
                payloads = _scoped_frames(scope, seen, events[0].seq - 1, events[-1].seq)
            self._send_live(clients, payloads)

    def _send_live(self, clients: list[Connection], payloads: list[bytes]) -> None:
        # Clients with nothing queued get the frame written straight to their sockets,
        # serialised once for all of them: this is what keeps the fan-out at or below a bare
        # websockets broadcast(). The rest (resyncing, or with replies still queued) go
        # through their ordered outbox.
        direct: list[Connection] = []
        for conn in clients:
            if conn.writes_directly:
                direct.append(conn)
            else:
                for payload in payloads:
                    conn.put_live(payload)
        for payload in payloads:
            wire = Frame(Opcode.TEXT, payload).serialize(mask=False)
            for conn in direct:
                conn.write_live(wire)


async def _close_draining(ws: ServerConnection, code: int, reason: str, *, within: float) -> None:
    """Close while discarding unread frames: a flooder's backlog stalls the library's reads
    (flow control), and then the peer's closing frame would never be seen. The handshake gets
    ``within`` seconds, then the TCP connection is aborted: a peer that stopped reading never
    takes the closing frame (it waits behind its unread bytes) and would hold them forever."""

    async def drain() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for _ in ws:
                pass

    draining = asyncio.create_task(drain())
    try:
        async with asyncio.timeout(within):
            await ws.close(code, reason)
    except TimeoutError:
        log.info("%s did not close in %g s: connection aborted", ws.remote_address, within)
        ws.transport.abort()
    finally:
        draining.cancel()


def _error(refusal: Refusal, command: str | None = None) -> bytes:
    """The error frame telling a client of ``refusal`` (about its command or request id)."""
    return encode(
        Error(
            code=refusal.code,
            message=refusal.message,
            command=command,
            detail=refusal.detail,
            params=refusal.params,
        )
    )


def _scoped(snapshot: HallSnapshot, scope: Scope) -> HallSnapshot:
    """The snapshot as ``scope`` sees it (dispatch/visibility.py)."""
    if scope.full:
        return snapshot
    return HallSnapshot(
        seq=snapshot.seq,
        areas=snapshot.areas,
        units=snapshot.units,
        staff=visible_staff(scope, snapshot.staff),
        cases=visible_cases(scope, snapshot.cases),
    )


def _scoped_frames(scope: Scope, events: Sequence[Event], after: int, seq: int) -> list[bytes]:
    """A role-scoped client's frames for the span ``after`` < seq <= ``seq``. An observer sees
    every event (redacted): plain pages, gap-free. A unit's view skips events: pages of its
    events, each saying the span it covers (the last ends at ``seq``; no events: one empty
    frame, so the client's position still moves on)."""
    if not scope.placed:
        return [
            encode(Events(events=list(events[i : i + EVENTS_PER_FRAME])))
            for i in range(0, len(events), EVENTS_PER_FRAME)
        ]
    frames = []
    start = after
    for i in range(0, len(events), EVENTS_PER_FRAME):
        page = list(events[i : i + EVENTS_PER_FRAME])
        end = seq if i + EVENTS_PER_FRAME >= len(events) else page[-1].seq
        frames.append(encode(Events(events=page, after=start, seq=end)))
        start = end
    if not frames:
        frames.append(encode(Events(events=[], after=after, seq=seq)))
    return frames


def _snapshot_chunks(snapshot: HallSnapshot, size: int) -> list[bytes]:
    """Frames of ``size`` cases each (``chunk`` counts from 1); places and people go first."""
    cases = snapshot.cases
    count = max(1, math.ceil(len(cases) / size))
    frames = []
    for i in range(count):
        first = i == 0
        frames.append(
            encode(
                Snapshot(
                    seq=snapshot.seq,
                    chunk=i + 1,
                    chunks=count,
                    areas=snapshot.areas if first else [],
                    units=snapshot.units if first else [],
                    staff=snapshot.staff if first else [],
                    cases=cases[i * size : (i + 1) * size],
                )
            )
        )
    return frames
