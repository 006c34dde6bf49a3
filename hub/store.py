"""The hub's durable state: reference data, cases, the event log, applied commands, operators.

One :class:`Store` per hub process, over SQLite (the embedded default) or PostgreSQL. The
engine is its only writer: it hands over each group of applied commands as one batch and
acknowledges them once :meth:`Store.commit` returns, so a batch is one transaction and a kill
at any moment loses nothing acknowledged (SQLite runs with ``synchronous=FULL``: WAL with
NORMAL may drop the last transactions on power loss).

On a SQLite file the commit runs on a synchronous engine in one writer thread of its own, the
whole transaction in one hop off the event loop: through the async driver every statement is
a round trip that waits for a loop busy fanning frames out. PostgreSQL stays on asyncpg.

A failed commit says whose fault it was: :class:`StoreUnavailable` when the database cannot
take writes now (connection lost, disk full, locked, schema missing), so no command is to blame;
anything else when it refused these rows (a key another writer already used, a value the
column cannot hold), so the engine looks for the command that wrote them.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import msgspec
from sqlalchemy import (
    Connection,
    Select,
    Table,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, SQLAlchemyError, StatementError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
)

from dispatch.events import Event, EventType
from dispatch.models import TERMINAL_STATUSES, Actor, Area, Case, Role, Staff, Unit
from dispatch.roles import SCOPED_ROLES
from dispatch.rota import Rota, dump_rota, load_rota
from dispatch.tracks import TrackPoint
from hub import migrations, tracks_store
from hub.engines import SqliteWriter, async_url, make_engine, sqlite_file
from hub.schema import (
    AreaRow,
    Base,
    CaseRow,
    EventRow,
    OperatorRow,
    StaffRow,
    UnitRow,
)
from hub.tokens import new_token, token_hash, token_matches
from hub.tracks_store import PatrolState

RECENT_CLOSED = timedelta(days=7)
"""How long a finished case stays in the hub's memory: :meth:`Store.load` returns every open
case and those reported or closed within this window before the last event (hub time, so a
demo on a fast virtual clock ages cases by its own clock). Older ones stay in the database
for reports (:meth:`Store.all_cases`)."""

MIGRATION_LOCK_KEY = 0x6772_6964_6465_736B  # "griddesk": one hub migrates at a time on PG

LOG_LOCK_KEY = 0x6772_6964_6C6F_6721  # "gridlog!": held by the one hub committing to the log
"""On PostgreSQL, the transaction-level advisory lock a hub's writer holds while it reads what
the other hubs appended, decides its group and commits it (:meth:`Store.log_turn`): commits
from all hubs are serialised, so seqs are allocated inside the committing transaction,
gap-free and global, and every command is decided on the state the database holds."""

LOG_CHANNEL = "griddesk_log"
"""The LISTEN/NOTIFY channel a PostgreSQL commit announces its last seq on (hub/peers.py)."""

_CASE_ID = re.compile(r"^(\d{6})(\d+)$")  # YYMMDD + serial

_T = TypeVar("_T")

_TABLES = Base.metadata.tables
_AREAS: Table = _TABLES["areas"]
_UNITS: Table = _TABLES["units"]
_STAFF: Table = _TABLES["staff"]
_CASES: Table = _TABLES["cases"]
_EVENTS: Table = _TABLES["events"]
_COMMANDS: Table = _TABLES["commands"]
_ROTA: Table = _TABLES["rota"]
ROTA_ID = "hall"
"""The key of the hall's one rota document."""

_RECORDS = select(
    _COMMANDS.c.id, _COMMANDS.c.digest, _COMMANDS.c.seq, _COMMANDS.c.case, _COMMANDS.c.version
)
"""An :class:`AppliedRecord`'s columns, in its order."""

_encoder = msgspec.json.Encoder()
_area_decoder = msgspec.json.Decoder(Area)
_unit_decoder = msgspec.json.Decoder(Unit)
_staff_decoder = msgspec.json.Decoder(Staff)
_case_decoder = msgspec.json.Decoder(Case)


@dataclass(frozen=True)
class Loaded:
    """Everything the hub keeps in memory, read at start."""

    areas: list[Area]
    units: list[Unit]
    staff: list[Staff]
    cases: list[Case]
    last_seq: int
    last_case_serial: dict[str, int]  # "YYMMDD" -> highest serial used that day
    rota: Rota | None = None  # the hall's rota, if it has one (dispatch/rota.py)


@dataclass(frozen=True)
class Applied:
    """One command's effect, written atomically with the rest of its batch."""

    command_id: str | None  # None for the hub's own actions (the SLA ticker)
    digest: str
    actor: str
    events: Sequence[Event]  # with seq set
    cases: Sequence[Case]
    staff: Sequence[Staff]
    ack_case: str | None
    ack_version: int | None
    rota: Rota | None = None  # the rota after this command, when it changed it


class AppliedRecord(msgspec.Struct, frozen=True, gc=False):
    """What a retried command is answered with. The engine holds tens of thousands of them,
    read at start: plain values, not ORM rows, and nothing for the cyclic GC to walk."""

    command_id: str
    digest: str
    seq: int  # the command's last event, or the log's tail when it wrote none
    case: str | None
    version: int | None


@dataclass(frozen=True)
class Operator:
    name: str
    role: Role
    unit: str | None
    enabled: bool
    created_at: datetime


@dataclass(frozen=True)
class Grant:
    """What an operator's sessions were opened under: a session whose operator's current
    grant differs (disabled, another role, unit or token, or gone) is revoked."""

    token_hash: str
    role: Role
    unit: str | None


class StoreUnavailable(Exception):
    """The database cannot take writes now — the connection is lost, the disk is full, the file
    is locked or broken, a table is missing — whatever the rows were: no command is to blame,
    and retrying part of a batch would only fail again. Raised from the driver's error."""


class OperatorExists(ValueError):
    """``add_operator`` with a name already taken."""


class OperatorUnitError(ValueError):
    """``add_operator`` with a unit the role needs but was not given, or that does not exist:
    a standby or unit operator acts only for its unit, so without a real one every case
    command it sent would be refused."""


class Store:
    """The database behind one hub. Open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        self._postgres = engine.dialect.name == "postgresql"
        # On a SQLite file, commits go through a synchronous engine on one thread of their
        # own: the whole transaction is one hop off the event loop instead of one per
        # statement, each of which waits for the loop while it fans frames out.
        self._writer: SqliteWriter | None = None
        if sqlite_file(engine.url) is not None:
            self._writer = SqliteWriter(engine.url)

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Store:
        engine = make_engine(async_url(url))
        store = cls(engine)
        try:
            if migrate:
                await store._migrate()
            # Only now, with the schema at head, does the writer open its connection.
            if store._writer is not None:
                await store._writer.run(store._writer.connect)
        except BaseException:
            await store.close()
            raise
        return store

    async def _migrate(self) -> None:
        async with self._engine.begin() as conn:
            if self._postgres:
                # Several hubs may start at once against one database; the lock is released
                # with this transaction, after which the others find the schema at head.
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            await conn.run_sync(migrations.upgrade)

    async def close(self) -> None:
        try:
            if self._writer is not None:
                await self._writer.close()
        finally:
            await self._engine.dispose()

    @property
    def engine(self) -> AsyncEngine:
        """The async engine (for LISTEN/NOTIFY, advisory locks and other dialect features)."""
        return self._engine

    @property
    def shared(self) -> bool:
        """True when several hubs may write this store at once (PostgreSQL): the writer
        commits through :meth:`log_turn`. A SQLite store has one hub (hub/hub_lock.py) and
        commits through :meth:`commit`, without a round trip more."""
        return self._postgres

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    # --- reference data and start-up ------------------------------------------------------

    async def is_empty(self) -> bool:
        """True while no areas, units or staff have been loaded."""
        async with self._sessions() as session:
            for key in (AreaRow.code, UnitRow.id, StaffRow.id):
                if await session.scalar(select(key).limit(1)) is not None:
                    return False
        return True

    async def seed(
        self, areas: Sequence[Area], units: Sequence[Unit], staff: Sequence[Staff]
    ) -> None:
        """Load reference data in one transaction; rows with the same key are replaced."""
        async with self._sessions() as session, session.begin():
            if areas:
                rows = list({a.code: _area_row(a) for a in areas}.values())
                await session.execute(self._upsert(_AREAS, "code"), rows)
            if units:
                rows = list({u.id: _unit_row(u) for u in units}.values())
                await session.execute(self._upsert(_UNITS, "id"), rows)
            if staff:
                rows = list({p.id: _staff_row(p) for p in staff}.values())
                await session.execute(self._upsert(_STAFF, "id"), rows)

    async def seed_rota(self, rota: Rota) -> None:
        """Store the hall's rota (replacing the one there): reference data, like :meth:`seed`.
        A running hub reads it at start; the commander's changes go through commands."""
        async with self._sessions() as session, session.begin():
            row = {"id": ROTA_ID, "data": dump_rota(rota).decode()}
            await session.execute(self._upsert(_ROTA, "id"), [row])

    async def load(
        self, *, now: datetime | None = None, serials_from: datetime | None = None
    ) -> Loaded:
        """Everything the hub keeps in memory. ``now`` defaults to the time of the last event;
        see :data:`RECENT_CLOSED` for which finished cases are included.

        ``last_case_serial`` covers every day from the one of ``serials_from`` on (in any time
        zone: a day early in UTC), read through the case ids' index — the only days a hub whose
        clock stands there can still number cases on; without it, every day ever (a scan of
        every case id the hall has had)."""
        return await self._read(functools.partial(_read_loaded, now=now, serials_from=serials_from))

    async def _read(self, fn: Callable[[Connection], _T]) -> _T:
        """``fn(conn, …)`` in one read transaction, in one hop: on a SQLite file on the
        writer's thread (through the async driver, every row of a big read is handed across
        threads and through a greenlet: a third of the start on a month-eight hall)."""
        if self._writer is not None:
            return await self._writer.run(self._writer.transaction, fn)
        async with self._engine.connect() as conn:
            return await conn.run_sync(fn)

    # --- the write path -------------------------------------------------------------------

    async def commit(self, batch: Sequence[Applied]) -> None:
        """Write a batch of applied commands in one transaction: all of it, or (raising) none.
        (A hub on a :attr:`shared` store writes through :meth:`log_turn` instead: this takes
        no lock, for a store with one writer — a SQLite hub, a seeding tool.)

        Events are inserted (never updated: a reused seq fails the batch on the primary key),
        cases created in the batch inserted (a row already under a new case's id fails the
        batch: a new case never overwrites a case it did not write), other cases and staff
        upserted at their latest version in the batch, command ids inserted (an id already
        recorded fails the batch on the primary key).

        Raises :class:`StoreUnavailable` when the database cannot take writes now; any other
        error means it refused something in these rows.
        """
        if not batch:
            return
        rows = _batch_rows(batch)
        try:
            if self._writer is not None:
                await self._writer.run(self._writer.transaction, _write_batch, rows)
                return
            # Core on one connection, not the ORM session: the write path is the hub's hot
            # path. One run_sync for the whole transaction: the same statements on the same
            # asyncpg connection, without a greenlet round trip per statement.
            async with self._engine.begin() as conn:
                await conn.run_sync(_write_batch, rows)
        except Exception as exc:
            _raise_unavailable(exc)
            raise

    @contextlib.asynccontextmanager
    async def log_turn(self) -> AsyncIterator[LogTurn]:
        """The shared log's turn (PostgreSQL): a transaction holding :data:`LOG_LOCK_KEY`, in
        which the writer reads what the other hubs appended, decides its group on that state
        and writes it (:class:`LogTurn`); committed when the block ends, rolled back if it
        raises. Errors as :meth:`commit` (:class:`StoreUnavailable` or refused rows)."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(_LOCK_LOG, {"key": LOG_LOCK_KEY})
                yield LogTurn(conn)
        except Exception as exc:
            _raise_unavailable(exc)
            raise

    def _upsert(self, table: Table, key: str) -> Any:
        return _upsert(table, key, postgres=self._postgres)

    # --- reads ----------------------------------------------------------------------------

    async def events_after(self, seq: int, limit: int = 10_000) -> list[Event]:
        """Events with a seq above ``seq``, oldest first, at most ``limit``."""
        query = select(_EVENTS).where(EventRow.seq > seq).order_by(EventRow.seq).limit(limit)
        return await self._events(query)

    async def case_events(self, case_id: str, limit: int = 1000) -> list[Event]:
        """The events of one case (its audit history), oldest first, at most ``limit``."""
        query = select(_EVENTS).where(EventRow.case == case_id).order_by(EventRow.seq).limit(limit)
        return await self._events(query)

    async def window_seqs(self, since: datetime, until: datetime) -> tuple[int, int]:
        """The seqs of the first and the last event with ``since`` <= ``at`` <= ``until``
        (first > last: none), found by bisection on ``seq``, the primary key.

        The engine stamps a group's events with the hub clock as it writes them in seq order,
        so ``at`` never decreases along ``seq``: each edge is about log2(events) point reads on
        the key, done in one read transaction in one hop — no scan of the log, and no index on
        ``at`` (which would need a migration). Holes in the seq range (a log restored in part)
        are stepped over: each probe reads the first row at or after its seq. Should the wall
        clock ever step back, an edge is off by at most that step."""
        return await self._read(lambda conn: _window_seqs(conn, since, until))

    async def window_events(
        self, first: int, last: int, types: Collection[str], limit: int
    ) -> list[Event]:
        """Events with ``first`` <= seq <= ``last`` of ``types`` (all when empty), oldest first,
        at most ``limit``: a range read on the primary key, as long as the window is."""
        query = select(_EVENTS).where(EventRow.seq >= first, EventRow.seq <= last)
        if types:
            query = query.where(EventRow.type.in_(sorted(types)))
        return await self._events(query.order_by(EventRow.seq).limit(limit))

    async def _events(self, query: Select[Any]) -> list[Event]:
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [_event_of(r) for r in rows]

    async def last_seq(self) -> int:
        """The highest seq in the log, 0 when it is empty."""
        query = select(EventRow.seq).order_by(EventRow.seq.desc()).limit(1)
        async with self._sessions() as session:
            seq = await session.scalar(query)
        return int(seq or 0)

    async def applied(self, command_id: str) -> AppliedRecord | None:
        """The record of an applied command, or None if this id was never applied."""
        return (await self.applied_many([command_id])).get(command_id)

    async def recent_commands(self, limit: int) -> list[AppliedRecord]:
        """The records of the last ``limit`` applied commands, oldest first: read at start,
        newest first by the seq index, as plain rows (ORM objects for 50,000 of them took
        half of a month-eight hall's restart)."""
        return await self._read(functools.partial(_read_recent, limit=limit))

    async def applied_many(self, command_ids: Collection[str]) -> dict[str, AppliedRecord]:
        """The records of those ids that were applied: one query by primary key for many."""
        if not command_ids:
            return {}
        query = _RECORDS.where(_COMMANDS.c.id.in_(list(command_ids)))
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {row.id: AppliedRecord(*row) for row in rows}

    async def all_cases(self) -> list[Case]:
        """Every case in the database, open or not, by id."""
        async with self._sessions() as session:
            data = await session.scalars(select(CaseRow.data).order_by(CaseRow.id))
            return [_case_decoder.decode(d) for d in data]

    async def all_staff(self) -> list[Staff]:
        async with self._sessions() as session:
            data = await session.scalars(select(StaffRow.data).order_by(StaffRow.id))
            return [_staff_decoder.decode(d) for d in data]

    async def cases_reported(
        self, since: datetime, until: datetime, after: str | None, limit: int
    ) -> list[Case]:
        """Cases reported in [``since``, ``until``), by id after ``after``, at most ``limit``."""
        return await self._read(
            functools.partial(tracks_store.read_cases_reported, since=since, until=until,
                              after=after, limit=limit)
        )  # fmt: skip

    # --- patrol tracks (hub/tracks_store.py) ----------------------------------------------

    async def save_patrol(
        self, points: Sequence[tuple[str, TrackPoint]], days: Sequence[PatrolState] = ()
    ) -> None:
        """Store thinned ``(staff, point)`` pairs and the patrol days they moved, in one
        transaction."""
        await self._write(functools.partial(tracks_store.write_patrol, points=points, days=days))

    async def track_points(
        self, since: datetime, until: datetime, staff: Collection[str] = ()
    ) -> dict[str, list[TrackPoint]]:
        """Stored points with ``since`` <= ``at`` < ``until``, by person, in time order."""
        return await self._read(
            functools.partial(tracks_store.read_points, since=since, until=until, staff=staff)
        )

    async def patrol_days(self, day: date, staff: Collection[str] = ()) -> list[PatrolState]:
        """The counted patrol of ``day``, one per worker (of ``staff`` when given)."""
        return await self._read(
            functools.partial(tracks_store.read_patrol_days, day=day, staff=staff)
        )

    async def latest_patrol(self, staff: str) -> PatrolState | None:
        """The worker's latest counted day, with their last stored point."""
        return await self._read(functools.partial(tracks_store.latest_patrol, staff=staff))

    async def prune_patrol(self, points_before: datetime, days_before: date) -> int:
        """Delete track points before ``points_before`` and patrol days before
        ``days_before``; how many points went."""
        return await self._write(
            functools.partial(tracks_store.prune, points_before=points_before,
                              days_before=days_before)
        )  # fmt: skip

    async def _write(self, fn: Callable[[Connection], _T]) -> _T:
        """``fn(conn)`` in one write transaction (on a SQLite file, on the writer's thread:
        queued with the engine's commits, never racing them for the file's lock)."""
        if self._writer is not None:
            return await self._writer.run(self._writer.transaction, fn)
        async with self._engine.begin() as conn:
            return await conn.run_sync(fn)

    # --- operators ------------------------------------------------------------------------

    async def add_operator(self, name: str, role: Role, unit: str | None = None) -> str:
        """Create an operator and return its token: shown once, only its hash is kept.
        Raises :class:`OperatorExists` if the name is taken, :class:`OperatorUnitError` if a
        standby or unit operator has no unit, or a unit is named that the hall does not have."""
        await self._check_unit(role, unit)
        token = new_token()
        row = OperatorRow(
            name=name,
            token_hash=token_hash(token),
            role=str(Role(role)),
            unit=unit,
            enabled=True,
            created_at=datetime.now(UTC),
        )
        try:
            async with self._sessions() as session, session.begin():
                session.add(row)
        except IntegrityError as exc:
            raise OperatorExists(f"operator {name!r} already exists") from exc
        return token

    async def _check_unit(self, role: Role, unit: str | None) -> None:
        if role in SCOPED_ROLES and unit is None:
            raise OperatorUnitError(f"a {role} operator acts for one unit: give --unit")
        if unit is not None:
            async with self._sessions() as session:
                if await session.get(UnitRow, unit) is None:
                    known = sorted(await session.scalars(select(UnitRow.id)))
                    listed = ", ".join(known[:20]) + (" …" if len(known) > 20 else "")
                    raise OperatorUnitError(
                        f"no unit {unit!r} in this hall ({listed or 'none yet'})"
                    )

    async def set_operator_role(self, name: str, role: Role, unit: str | None = None) -> bool:
        """Give an operator another role and unit (its open sessions are revoked: they were
        opened under the old ones); False if there is no such name. Raises
        :class:`OperatorUnitError` as :meth:`add_operator` does."""
        await self._check_unit(role, unit)
        stmt = (
            update(OperatorRow)
            .where(OperatorRow.name == name)
            .values(role=str(Role(role)), unit=unit)
            .returning(OperatorRow.name)
        )
        async with self._sessions() as session, session.begin():
            changed = (await session.execute(stmt)).first()
        return changed is not None

    async def reset_token(self, name: str) -> str | None:
        """Give an operator a new token (the old one stops working); None if no such name."""
        token = new_token()
        async with self._sessions() as session, session.begin():
            row = await session.get(OperatorRow, name)
            if row is None:
                return None
            row.token_hash = token_hash(token)
        return token

    async def list_operators(self) -> list[Operator]:
        async with self._sessions() as session:
            rows = await session.scalars(select(OperatorRow).order_by(OperatorRow.name))
            return [
                Operator(
                    name=r.name,
                    role=Role(r.role),
                    unit=r.unit,
                    enabled=r.enabled,
                    created_at=r.created_at,
                )
                for r in rows
            ]

    async def set_operator_enabled(self, name: str, enabled: bool) -> bool:
        """Enable or disable an operator; False if there is no such name."""
        stmt = (
            update(OperatorRow)
            .where(OperatorRow.name == name)
            .values(enabled=enabled)
            .returning(OperatorRow.name)
        )
        async with self._sessions() as session, session.begin():
            changed = (await session.execute(stmt)).first()
        return changed is not None

    async def grants(self) -> dict[str, Grant]:
        """Every enabled operator's current grant, by name: what the hub compares its open
        sessions with, a few times a second. One small read (a hall has dozens of operators,
        not thousands) on either engine, whichever process changed the table."""
        query = select(
            OperatorRow.name, OperatorRow.token_hash, OperatorRow.role, OperatorRow.unit
        ).where(OperatorRow.enabled)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {name: Grant(digest, Role(role), unit) for name, digest, role, unit in rows}

    async def authenticate(self, token: str) -> Actor | None:
        """The operator holding ``token``, or None for an unknown or disabled one."""
        if not token:
            return None
        query = select(OperatorRow).where(OperatorRow.token_hash == token_hash(token))
        async with self._sessions() as session:
            row = await session.scalar(query)
        if row is None or not row.enabled or not token_matches(token, row.token_hash):
            return None
        return Actor(name=row.name, role=Role(row.role), unit=row.unit)


# --- the restart reads --------------------------------------------------------------------


def _raise_unavailable(exc: Exception) -> None:
    """Raise :class:`StoreUnavailable` for ``exc`` unless it is the database (or a value's
    conversion) refusing rows, or not the database's at all."""
    if isinstance(exc, SQLAlchemyError | OSError | TimeoutError) and not _rows_refused(exc):
        raise StoreUnavailable(f"{type(exc).__name__}: {exc}") from exc


class LogTurn:
    """The writer's turn on a shared log: one transaction under the log lock (no other hub
    commits meanwhile, so the log's tail cannot move under the group being decided)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def events_after(self, seq: int) -> list[Event]:
        """Every event above ``seq``, oldest first: what the other hubs appended."""
        query = select(_EVENTS).where(EventRow.seq > seq).order_by(EventRow.seq)
        rows = (await self._conn.execute(query)).all()
        return [_event_of(r) for r in rows]

    async def write(self, batch: Sequence[Applied]) -> None:
        """The statements of :meth:`Store.commit`, then a notification of the batch's last
        seq on :data:`LOG_CHANNEL` (delivered to the listening hubs at commit)."""
        if batch:
            rows = _batch_rows(batch)
            await self._conn.run_sync(_write_batch, rows)
            if rows.events:
                last = str(rows.events[-1]["seq"])
                await self._conn.execute(_NOTIFY_LOG, {"channel": LOG_CHANNEL, "seq": last})


def _batch_rows(batch: Sequence[Applied]) -> _BatchRows:
    """The rows :func:`_write_batch` writes for a batch of applied commands."""
    event_rows: list[dict[str, Any]] = []
    case_rows: dict[str, dict[str, Any]] = {}
    created: set[str] = set()
    staff_rows: dict[str, dict[str, Any]] = {}
    command_rows: list[dict[str, Any]] = []
    rota: Rota | None = None
    seq_so_far: int | None = None
    needs_tail = False
    for item in batch:
        event_rows.extend(_event_row(e) for e in item.events)
        created.update(e.case for e in item.events if e.type is EventType.CASE_CREATED and e.case)
        if item.events:
            seq_so_far = max(seq_so_far or 0, *(e.seq for e in item.events))
        # One statement may not upsert a key twice (PostgreSQL refuses): keep the latest.
        for case in item.cases:
            case_rows[case.id] = _case_row(case)
        for person in item.staff:
            staff_rows[person.id] = _staff_row(person)
        rota = item.rota or rota
        if item.command_id is not None:
            needs_tail = needs_tail or seq_so_far is None
            command_rows.append(
                {
                    "id": item.command_id,
                    "digest": item.digest,
                    "actor": item.actor,
                    "seq": seq_so_far,
                    "case": item.ack_case,
                    "version": item.ack_version,
                    "at": item.events[0].at if item.events else datetime.now(UTC),
                }
            )
    return _BatchRows(
        events=event_rows,
        new_cases=[row for key, row in case_rows.items() if key in created],
        cases=[row for key, row in case_rows.items() if key not in created],
        staff=list(staff_rows.values()),
        commands=command_rows,
        needs_tail=needs_tail,
        rota=None if rota is None else {"id": ROTA_ID, "data": dump_rota(rota).decode()},
    )


def _event_of(r: Any) -> Event:
    """An event from its row."""
    return Event(
        seq=r.seq,
        at=r.at,
        actor=r.actor,
        type=EventType(r.type),
        case=r.case,
        staff=r.staff,
        command=r.command,
        reason=r.reason,
        changes=r.changes,
        data=r.data,
    )


def _read_loaded(conn: Connection, now: datetime | None, serials_from: datetime | None) -> Loaded:
    """The reads of :meth:`Store.load`, inside the caller's transaction on ``conn``."""
    areas = [_area_decoder.decode(d) for d in conn.scalars(select(_AREAS.c.data)).all()]
    units = [_unit_decoder.decode(d) for d in conn.scalars(select(_UNITS.c.data)).all()]
    staff = [_staff_decoder.decode(d) for d in conn.scalars(select(_STAFF.c.data)).all()]
    tail = conn.execute(
        select(EventRow.seq, EventRow.at).order_by(EventRow.seq.desc()).limit(1)
    ).first()
    last_seq = 0 if tail is None else int(tail.seq)
    if now is None and tail is not None:
        now = tail.at
    # In the table's order, then sorted here: ordered by id, SQLite walks the id index and
    # looks every row up (a third of the read at 100,000 open cases).
    query = select(_CASES.c.data)
    if now is not None:
        cutoff = now - RECENT_CLOSED
        query = query.where(
            or_(
                CaseRow.status.not_in([str(s) for s in TERMINAL_STATUSES]),
                CaseRow.reported_at >= cutoff,
                CaseRow.closed_at >= cutoff,
            )
        )
    # .all(): one fetchall; iterating a result fetches row by row (a third slower here).
    cases = [_case_decoder.decode(d) for d in conn.scalars(query).all()]
    ids = select(CaseRow.id)
    if serials_from is not None:
        # Ids start with the hall's local YYMMDD: every local day from serials_from's on
        # sorts at or after the UTC day before it.
        first_day = (serials_from.astimezone(UTC) - timedelta(days=1)).strftime("%y%m%d")
        ids = ids.where(CaseRow.id >= first_day)
    serials: dict[str, int] = {}
    for case_id in conn.scalars(ids).all():
        match = _CASE_ID.match(case_id)
        if match:
            day, serial = match.group(1), int(match.group(2))
            serials[day] = max(serials.get(day, 0), serial)
    rota_doc = conn.scalar(select(_ROTA.c.data).where(_ROTA.c.id == ROTA_ID))
    return Loaded(
        rota=None if rota_doc is None else load_rota(rota_doc.encode()),
        areas=sorted(areas, key=_area_code),
        units=sorted(units, key=_ident),
        staff=sorted(staff, key=_ident),
        cases=sorted(cases, key=_ident),
        last_seq=last_seq,
        last_case_serial=serials,
    )


def _window_seqs(conn: Connection, since: datetime, until: datetime) -> tuple[int, int]:
    # Two reads, not min() and max() in one: SQLite answers either alone from the key, both
    # together only by scanning the whole log.
    low = conn.scalar(select(EventRow.seq).order_by(EventRow.seq).limit(1))
    high = conn.scalar(select(EventRow.seq).order_by(EventRow.seq.desc()).limit(1))
    if low is None or high is None:
        return 1, 0
    return (
        _first_seq_at(conn, since, int(low), int(high)),
        _first_seq_at(conn, until + timedelta(microseconds=1), int(low), int(high)) - 1,
    )


def _first_seq_at(conn: Connection, at: datetime, low: int, high: int) -> int:
    """The seq of the first event at or after ``at`` in ``low`` .. ``high`` (``high`` + 1 when
    there is none), by bisection (see :meth:`Store.window_seqs`)."""
    lo, hi = low, high + 1
    while lo < hi:
        mid = (lo + hi) // 2
        probe = conn.execute(
            select(EventRow.seq, EventRow.at)
            .where(EventRow.seq >= mid)
            .order_by(EventRow.seq)
            .limit(1)
        ).one()
        if probe.at >= at:
            hi = mid
        else:
            lo = int(probe.seq) + 1
    return lo


def _read_recent(conn: Connection, limit: int) -> list[AppliedRecord]:
    rows = conn.execute(_RECORDS.order_by(_COMMANDS.c.seq.desc()).limit(limit)).all()
    return [AppliedRecord(*row) for row in reversed(rows)]


def _ident(item: Unit | Staff | Case) -> str:
    return item.id


def _area_code(area: Area) -> str:
    return area.code


# --- the write transaction ----------------------------------------------------------------


@dataclass(frozen=True)
class _BatchRows:
    """The rows of one batch, ready to write."""

    events: list[dict[str, Any]]
    new_cases: list[dict[str, Any]]  # created in the batch: inserted, never over another row
    cases: list[dict[str, Any]]  # changed: upserted
    staff: list[dict[str, Any]]
    commands: list[dict[str, Any]]  # "seq" None: acknowledged at the log's tail (needs_tail)
    needs_tail: bool
    rota: dict[str, Any] | None = None  # the rota row, when the batch changed the rota


def _write_batch(conn: Connection, rows: _BatchRows) -> None:
    """The statements of :meth:`Store.commit`, inside the caller's transaction on ``conn``."""
    postgres = conn.dialect.name == "postgresql"
    if rows.events:
        conn.execute(insert(_EVENTS), rows.events)
    if rows.needs_tail:
        # A command that wrote no event before any other in the batch is acknowledged
        # at the log's tail as it was before this batch.
        first = min((r["seq"] for r in rows.events), default=None)
        query = select(EventRow.seq).order_by(EventRow.seq.desc()).limit(1)
        if first is not None:
            query = query.where(EventRow.seq < first)
        tail = conn.scalar(query) or 0
        for row in rows.commands:
            if row["seq"] is None:
                row["seq"] = tail
    if rows.new_cases:
        conn.execute(insert(_CASES), rows.new_cases)
    if rows.cases:
        conn.execute(_upsert(_CASES, "id", postgres=postgres), rows.cases)
    if rows.staff:
        conn.execute(_upsert(_STAFF, "id", postgres=postgres), rows.staff)
    if rows.commands:
        conn.execute(insert(_COMMANDS), rows.commands)
    if rows.rota is not None:
        conn.execute(_upsert(_ROTA, "id", postgres=postgres), [rows.rota])


_LOCK_LOG = text("SELECT pg_advisory_xact_lock(:key)")
_NOTIFY_LOG = text("SELECT pg_notify(:channel, :seq)")


@functools.cache
def _upsert(table: Table, key: str, *, postgres: bool) -> Any:
    """``INSERT … ON CONFLICT (key) DO UPDATE`` setting every other column. Built once per
    table and dialect (statements are immutable): building it, a proxy per column for
    ``excluded``, was half the writer thread's CPU per commit."""
    stmt: postgresql.Insert | sqlite.Insert = (
        postgresql.insert(table) if postgres else sqlite.insert(table)
    )
    columns = {c.name: stmt.excluded[c.name] for c in table.columns if c.name != key}
    return stmt.on_conflict_do_update(index_elements=[key], set_=columns)


_ROWS_REFUSED_SQLSTATES = ("22", "23")
"""PostgreSQL error classes about the values written: data exception, integrity violation."""


def _rows_refused(error: BaseException | None) -> bool:
    """Whether a failed commit's ``error`` is the database refusing these rows (so some
    command of the batch is to blame) rather than the database failing (:class:`StoreUnavailable`).

    Refused: a constraint (a key already taken), a value the column or driver cannot take
    (SQLite's integers stop at 2**63, PostgreSQL refuses a NUL in text), a value our column
    types refuse on the way in. Failing: everything else the driver or SQLAlchemy raises —
    lost connection, disk full, lock timeout, broken file, missing table — and the OS's errors.
    """
    if isinstance(error, IntegrityError | DataError):
        return True
    if isinstance(error, DBAPIError):
        # asyncpg's errors reach SQLAlchemy as one generic class; their SQLSTATE tells.
        state = getattr(error.orig, "sqlstate", None)
        return isinstance(state, str) and state.startswith(_ROWS_REFUSED_SQLSTATES)
    if isinstance(error, StatementError):  # a bind processor refused a value
        return _rows_refused(error.orig)
    # What is left was raised for a value by the driver (OverflowError, UnicodeEncodeError …).
    return error is not None and not isinstance(error, SQLAlchemyError | OSError | TimeoutError)


# --- rows ---------------------------------------------------------------------------------


def _area_row(area: Area) -> dict[str, Any]:
    return {
        "code": area.code,
        "name": area.name,
        "kind": str(area.kind),
        "parent": area.parent,
        "data": _encoder.encode(area).decode(),
    }


def _unit_row(unit: Unit) -> dict[str, Any]:
    return {
        "id": unit.id,
        "name": unit.name,
        "kind": str(unit.kind),
        "parent": unit.parent,
        "data": _encoder.encode(unit).decode(),
    }


def _staff_row(person: Staff) -> dict[str, Any]:
    return {
        "id": person.id,
        "name": person.name,
        "unit": person.unit,
        "shift": str(person.shift),
        "duty": str(person.duty),
        "version": person.version,
        "data": _encoder.encode(person).decode(),
    }


def _case_row(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "status": str(case.status),
        "urgency": str(case.urgency),
        "category": case.category,
        "kind": str(case.kind),
        "source": str(case.source),
        "grid": case.grid,
        "level": str(case.level),
        "owner_unit": case.owner_unit,
        "owner_staff": case.owner_staff,
        "reported_at": case.reported_at,
        "closed_at": case.closed_at,
        "version": case.version,
        "data": _encoder.encode(case).decode(),
    }


def _event_row(e: Event) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "at": e.at,
        "actor": e.actor,
        "type": str(e.type),
        "case": e.case,
        "staff": e.staff,
        "command": e.command,
        "reason": e.reason,
        "changes": e.changes,
        "data": e.data,
    }
