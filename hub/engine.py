"""The hub's engine: the in-memory hall, the single writer, and the SLA ticker.

Every change goes through one writer task. It takes the queued commands that are waiting,
decides each against the current state (pure ``dispatch.workflow``), writes the whole group in
one transaction (group commit: many commands per transaction, each acknowledged only after the
commit), then publishes the events to listeners and resolves the callers. Nothing is
acknowledged that is not on disk, and nothing on disk is missing from memory.

A group whose deciding or commit raises leaves the in-memory state untouched, and one bad
command must not fail everyone's (:meth:`Engine._recover`): a command whose deciding raised is
refused alone; when the database refused the group's rows, a command applied long ago and
retried now is answered as a replay, and the rest is retried in halves, each decided afresh,
until the command the database will not take is alone and refused. A database that cannot take
writes at all (:class:`~hub.store.StoreUnavailable`) fails the group at once, without retries.

Command ids: the acks of the last :data:`RECENT_IDS` commands are held in memory, and an id
not among them is taken for a new one without a read. The commands table's primary key
refuses a reused id at commit, which sends the group to :meth:`Engine._recover`, where the
stored record answers it; a refused command is looked up before it is answered, since an old
command retried is usually refused when decided again (its case has moved on).

Several hubs on one PostgreSQL database (:attr:`Store.shared`): the writer decides and commits
each group inside the log's turn (:meth:`Store.log_turn`, a transaction under an advisory
lock), after folding in what the other hubs appended; between groups, :meth:`Engine.follow`
(called by hub/peers.py on their notifications) does the same, so this hub's clients see the
others' events. The SLA ticker runs only where hub/ticker_lock.py starts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import hashlib
import logging
from collections import ChainMap, OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from dispatch import escalation, handover, roles, sla, standby, workflow
from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Catalog
from dispatch.commands import (
    CaseCommand,
    Command,
    HandoverAck,
    HandoverNote,
    Intake,
    Merge,
    RotaCommander,
    RotaStandby,
    RotaSwap,
    ShiftChange,
    StaffStatus,
    op_of,
)
from dispatch.config import Settings
from dispatch.errors import Refusal, refuse
from dispatch.events import (
    WHOLE_CASE_EVENTS,
    Event,
    EventType,
    apply_case_event,
    apply_staff_event,
)
from dispatch.hall import Hall
from dispatch.models import HUB_ACTOR, Actor, Area, Case, Staff, Step, Unit
from dispatch.protocol import Ack
from dispatch.rota import (
    OnDuty,
    Rota,
    decide_rota,
    next_change,
    on_duty,
    require_on_duty,
    shift_events,
)
from dispatch.routing import OpenCases, duplicate_window
from hub.clock import Clock
from hub.deadlines import DeadlineQueue
from hub.rota_watch import AnswerQueue
from hub.store import Applied, AppliedRecord, Store, StoreUnavailable

log = logging.getLogger(__name__)

MAX_GROUP = 256
"""Commands written in one transaction at most: big enough to amortise the commit, small
enough that the first command of a burst is not kept waiting."""

RECENT_IDS = 50_000
"""Command ids whose acks are held in memory: a retry among them is answered without a read.
Older ones are found on the rare path (docstring above), so this only bounds memory."""

RECOVERY_FAILURES = 32
"""Failed transactions one group may cost while its bad commands are looked for (one bad
command among 256 costs 9); past it, the rest are answered ``store_failed`` (to be retried)."""

FOLLOW_PAGE = 5_000
"""Events read at a time when following what other hubs appended to a shared log."""

Listener = Callable[[Sequence[Event]], None]


@dataclass(frozen=True)
class HallSnapshot:
    """The committed state as of ``seq``: what a new client is sent."""

    seq: int
    areas: list[Area]
    units: list[Unit]
    staff: list[Staff]
    cases: list[Case]


@dataclass
class _Job:
    """A command waiting for the writer, or the ticker's breach (``command`` is None)."""

    actor: Actor
    command: Command | None
    future: asyncio.Future[Ack]
    breach: tuple[str, Step] | None = None
    digest: str = ""  # the command's (_digest), once decided
    new_case: str | None = None  # the id an intake was last decided with
    poisoned: bool = False  # refused alone for what it made the hub or its database do
    allowed: Callable[[], bool] | None = None  # False once the sender's session is revoked
    shift: bool = False  # the rota's shift change (dispatch/rota.py), ``announce`` it or not
    announce: bool = True
    answer: str | None = None  # a case whose standby answer clock ran out
    hub_events: Callable[[Hall], list[Event]] | None = None  # the hub's own (patrol alerts)


class _DecideFailed(Exception):
    """Deciding ``job`` raised something that is not a Refusal (the error is the cause)."""

    def __init__(self, job: _Job) -> None:
        super().__init__("deciding a command failed")
        self.job = job


@dataclass
class _Recovery:
    """What finding the bad commands of one writer's group has cost so far."""

    failures: int = 0


@dataclass
class _Group:
    """What one transaction changes, kept apart from the committed state until it commits."""

    cases: dict[str, Case] = field(default_factory=dict)
    staff: dict[str, Staff] = field(default_factory=dict)
    serial: dict[str, int] = field(default_factory=dict)
    applied: list[Applied] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    done: list[tuple[_Job, Ack | Refusal]] = field(default_factory=list)
    ids: dict[str, AppliedRecord] = field(default_factory=dict)
    actors: dict[str, str] = field(default_factory=dict)  # case id → who changed it last
    keyed: dict[tuple[str, str | None], set[str]] = field(default_factory=dict)
    """Cases changed in the group by (category, grid): duplicate candidates not yet indexed."""
    rota: Rota | None = None  # the rota as the group's rota commands left it


class Engine:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        catalog: Catalog,
        clock: Clock,
        *,
        ticker: bool = True,
        remember: int = RECENT_IDS,
    ) -> None:
        """``ticker=False``: no SLA ticker task; whoever drives the clock (the scenario player)
        calls :meth:`run_due` at each instant instead. ``remember``: how many of the latest
        command ids to answer a retry of from memory (:data:`RECENT_IDS`)."""
        self._store = store
        self._remember = remember
        self._own_ticker = ticker
        self._settings = settings
        self._clock = clock
        self._tz = ZoneInfo(settings.clock.timezone)
        calendar = WorkingCalendar(settings.calendar, self._tz)
        self.hall = Hall(settings=settings, catalog=catalog, calendar=calendar)
        self.seq = 0
        self._cases: dict[str, Case] = {}
        self._staff: dict[str, Staff] = {}
        self._serial: dict[str, int] = {}
        self._open = OpenCases()
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._listeners: list[Listener] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._ticker_task: asyncio.Task[None] | None = None
        self._turn = asyncio.Lock()
        """Held by the writer for a group and by :meth:`follow`: one of them changes state."""
        self._breach_pending: set[tuple[str, Step]] = set()
        self._deadlines = DeadlineQueue()
        self._sooner = asyncio.Event()
        """Set when a commit brings a deadline before the ticker's next wake-up."""
        self._ticker_wakes: datetime | None = None
        self._recent: OrderedDict[str, AppliedRecord] = OrderedDict()
        """The records of the last ``remember`` commands, so most retries need no read."""
        self._rota: Rota | None = None
        """The hall's rota (None: no rota, shifts change only by ``shift_change``)."""
        self._next_shift: datetime | None = None
        """When the rota's next shift change is due (None: no rota)."""
        self._answers = AnswerQueue()
        self._shift_catch_up = True
        """The first shift change after start only catches up: announced if someone's duty
        moved."""
        self._last_actor: dict[str, str] = {}
        """case id → the operator whose command last changed it (``hub`` for the ticker), for
        conflicts to say who; only changes since this engine started (not kept on disk)."""

    # --- life cycle -----------------------------------------------------------------------

    async def start(self) -> None:
        # Loading a month-eight hall makes ~600,000 objects, none in a cycle; the cyclic GC's
        # passes over everything alive meanwhile (~900 of them) took a quarter of the start.
        collecting = gc.isenabled()
        gc.disable()
        try:
            await self._load()
        finally:
            if collecting:
                gc.enable()
        self._tasks = [asyncio.create_task(self._writer(), name="griddesk-writer")]
        if self._own_ticker:
            self.start_ticker()
        log.info("engine started: %d cases in memory, seq %d", len(self._cases), self.seq)

    async def _load(self) -> None:
        """The hall from the store, and the indexes over it."""
        loaded = await self._store.load(serials_from=self._clock.now())
        self._staff = {s.id: s for s in loaded.staff}
        self.hall = dataclasses.replace(
            self.hall,
            areas={a.code: a for a in loaded.areas},
            units={u.id: u for u in loaded.units},
            staff=self._staff,
        )
        self._cases = {case.id: case for case in loaded.cases}
        self._open = OpenCases(loaded.cases)
        self._deadlines = DeadlineQueue(loaded.cases)
        self._answers = AnswerQueue(loaded.cases)
        self._rota = loaded.rota
        # With a rota, the first wake-up brings everyone's duty up to the rota's now (the hub
        # may have been down across a shift change): quietly, unless someone's duty moves.
        self._next_shift = self._clock.now() if loaded.rota is not None else None
        self._shift_catch_up = True
        self._serial = dict(loaded.last_case_serial)
        records = await self._store.recent_commands(self._remember)
        self._recent = OrderedDict((r.command_id, r) for r in records)
        self.seq = loaded.last_seq

    def start_ticker(self) -> None:
        """Run the SLA ticker from now on (hub/ticker_lock.py calls this once its hub holds
        the ticker lock of a shared store; a single hub's engine calls it at start)."""
        if self._ticker_task is None:
            self._ticker_task = asyncio.create_task(self._ticker(), name="griddesk-sla-ticker")

    async def stop_ticker(self) -> None:
        """Stop the SLA ticker (another hub may hold it now). Breach jobs already queued are
        still decided: in the shared log's turn, so one another hub wrote meanwhile is seen
        and not written twice."""
        task, self._ticker_task = self._ticker_task, None
        self._ticker_wakes = None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def ticking(self) -> bool:
        """Whether this engine runs the SLA ticker."""
        return self._ticker_task is not None

    async def stop(self) -> None:
        await self.stop_ticker()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        while not self._queue.empty():
            job = self._queue.get_nowait()
            if not job.future.done():
                job.future.set_exception(refuse("hub_stopping"))

    # --- reading ---------------------------------------------------------------------------

    @property
    def cases(self) -> Mapping[str, Case]:
        return self._cases

    @property
    def clock(self) -> Clock:
        return self._clock

    def snapshot(self) -> HallSnapshot:
        return HallSnapshot(
            seq=self.seq,
            areas=list(self.hall.areas.values()),
            units=list(self.hall.units.values()),
            staff=list(self._staff.values()),
            cases=list(self._cases.values()),
        )

    @property
    def rota(self) -> Rota | None:
        return self._rota

    def on_duty(self, at: datetime | None = None) -> OnDuty | None:
        """Who is on duty at ``at`` (default: the hub's now) per the rota; None without one."""
        if self._rota is None:
            return None
        return on_duty(self._rota, self.hall.calendar, at or self._clock.now())

    def next_shift_change(self, after: datetime) -> datetime | None:
        """The rota's next shift change after ``after`` (None without a rota)."""
        return None if self._rota is None else next_change(self.hall.calendar, after)

    def listen(self, fn: Listener) -> Callable[[], None]:
        self._listeners.append(fn)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(fn)

        return unsubscribe

    async def events_after(self, seq: int, limit: int = 10_000) -> list[Event]:
        return await self._store.events_after(seq, limit)

    # --- writing ---------------------------------------------------------------------------

    async def execute(
        self, command: Command, actor: Actor, *, allowed: Callable[[], bool] | None = None
    ) -> Ack:
        """Apply one command; returns its ack once it is committed, or raises a Refusal.
        ``allowed`` is asked when the command is decided: False (the sender's session was
        revoked meanwhile) refuses it, so nothing is applied after a revocation is noticed."""
        if not self._tasks:
            raise refuse("hub_not_running")
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        job = _Job(actor=actor, command=command, future=future, allowed=allowed)
        self._queue.put_nowait(job)
        return await future

    async def _writer(self) -> None:
        while True:
            jobs = [await self._queue.get()]
            while len(jobs) < MAX_GROUP and not self._queue.empty():
                jobs.append(self._queue.get_nowait())
            try:
                async with self._turn:
                    await self._run_group(jobs, _Recovery())
            except Exception:  # a fault of the engine's own: answer everyone, keep writing
                log.exception("the writer failed on a group of %d commands", len(jobs))
                self._fail(jobs, refuse("store_failed"))
            finally:
                for job in jobs:
                    if job.breach:
                        self._breach_pending.discard(job.breach)
                        if not job.poisoned:  # tried again at the next wake-up
                            self._requeue(job.breach[0])
                    if job.answer is not None and job.answer in self._cases:
                        self._answers.update(self._cases[job.answer])
                    if job.shift and _failed(job.future):  # tried again at the next wake-up
                        self._next_shift = self._clock.now()

    async def _run_group(self, jobs: list[_Job], recovery: _Recovery) -> None:
        """Decide ``jobs`` against the committed state, commit them as one transaction, then
        publish and answer. If deciding or the commit raises (anything but a Refusal), none
        of it is applied and :meth:`_recover` finds whom to blame."""
        try:
            if self._store.shared:
                group = await self._decide_on_shared_log(jobs)
            else:
                group = self._decide_group(jobs)
                if group.applied:
                    await self._store.commit(group.applied)
        except Exception as exc:
            await self._recover(jobs, exc, recovery)
            return
        # Committed: nothing from here on may send these commands through again, and their
        # callers hear of it even if handing the group over fails.
        if group.applied:
            try:
                self._publish(group)
            except Exception:
                log.exception("publishing %d committed events failed", len(group.events))
        await self._answer(group)

    def _decide_group(self, jobs: list[_Job]) -> _Group:
        group = _Group()
        now = self._clock.now()
        for job in jobs:
            outcome: Ack | Refusal
            try:
                outcome = self._decide(job, group, now)
            except Refusal as refusal:
                outcome = refusal
            except Exception as exc:
                raise _DecideFailed(job) from exc
            group.done.append((job, outcome))
        return group

    async def _answer(self, group: _Group) -> None:
        """Resolve the callers of a committed group: acks at once; refusals once a read has
        shown whether the command was applied long ago (then it is a replay: retried, it is
        refused when decided again, its case having moved on). One read for the group, and
        only for ids memory does not hold: a group without refusals reads nothing."""
        unknown: set[str] = set()
        for job, outcome in group.done:
            if isinstance(outcome, Ack):
                self._settle(job, outcome)
            elif job.command is not None and job.command.id not in self._recent:
                # (Memory holds this group's ids by now, and those a duplicate_id came from.)
                unknown.add(job.command.id)
        records: dict[str, AppliedRecord] = {}
        failed: Refusal | None = None
        if unknown:
            try:
                records = await self._store.applied_many(unknown)
            except Exception:
                # Cannot tell a replay from a refusal: "unavailable" has them sent again.
                log.exception("looking up %d refused command ids failed", len(unknown))
                failed = refuse("store_failed")
        for job, outcome in group.done:
            if isinstance(outcome, Refusal):
                command_id = job.command.id if job.command is not None else ""
                if command_id in records:
                    outcome = _replay(records[command_id], job.digest)
                elif failed is not None and command_id in unknown:
                    outcome = failed
                self._settle(job, outcome)

    async def _recover(self, jobs: list[_Job], error: Exception, recovery: _Recovery) -> None:
        """A group's deciding or commit raised: find the commands to blame, refuse those
        alone, and apply the rest. Nothing of the failed attempt was applied."""
        if isinstance(error, _DecideFailed):
            # Pure code raised on this command, given what the group's earlier commands did.
            job = error.job
            log.error("%s refused: deciding it failed", _name(job), exc_info=error.__cause__)
            job.poisoned = True
            self._settle(job, refuse("command_failed"))
            rest = [j for j in jobs if j is not job]
            if rest:
                await self._run_group(rest, recovery)
            return
        if isinstance(error, StoreUnavailable) or recovery.failures >= RECOVERY_FAILURES:
            log.error("commit of %d commands failed: %s", len(jobs), error, exc_info=error)
            self._fail(jobs, refuse("store_failed"))
            return
        recovery.failures += 1
        log.warning("the database refused a group of %d commands (%s: %s); looking for the "
                    "command to blame", len(jobs), type(error).__name__, error)  # fmt: skip
        # One read says what the database holds that this hub does not know of: the log's
        # tail, and the records of the group's command ids.
        try:
            tail = await self._store.last_seq()
            stored = await self._store.applied_many(
                {j.command.id for j in jobs if j.command is not None}
            )
        except Exception as exc:
            log.error("commit of %d commands failed, then the store: %s", len(jobs), exc,
                      exc_info=error)  # fmt: skip
            self._fail(jobs, refuse("store_failed"))
            return
        # (On a shared log the group was decided under the log lock on the log's own state:
        # other hubs' seqs are not the cause, and what they appended since is read next turn.)
        if tail != self.seq and not self._store.shared:
            # Another process appends to this log: every seq this hub gives is taken, and no
            # command is to blame. Only a restart, reading the log afresh, mends that.
            log.error(
                "the event log ends at %d, not at this hub's %d: another process writes to the "
                "database; commands fail until the hub restarts", tail, self.seq,
            )  # fmt: skip
            self._fail(jobs, refuse("store_failed"))
            return
        known = [j for j in jobs if j.command is not None and j.command.id in stored]
        if known:
            # Applied before, by this hub too long ago for memory or by another process:
            # the commands table's key refused it again. A replay (or a reused id).
            for job in known:
                assert job.command is not None
                self._settle(job, _replay(stored[job.command.id], job.digest))
            rest = [j for j in jobs if j not in known]
            if rest:
                await self._run_group(rest, recovery)
            return
        if len(jobs) > 1:
            # Each half decided afresh against what the one before it committed.
            half = len(jobs) // 2
            await self._run_group(jobs[:half], recovery)
            await self._run_group(jobs[half:], recovery)
            return
        job = jobs[0]
        log.error("%s refused: the database would not store it", _name(job), exc_info=error)
        job.poisoned = True
        if job.new_case is not None:
            # Its case id may be what the database refused (a row under it that this hub did
            # not write): never offer it again, so a retry of the intake gets the next one.
            day, serial = job.new_case[:6], int(job.new_case[6:])
            self._serial[day] = max(self._serial.get(day, 0), serial)
        self._settle(job, refuse("command_not_stored"))

    async def _decide_on_shared_log(self, jobs: list[_Job]) -> _Group:
        """Several hubs on one database: take the log's turn (a transaction under the log
        lock, so no other hub commits meanwhile), fold in what the others appended, decide the
        group on that state and write it. Seqs are allocated inside the committing
        transaction, and a version check, a case id or a command id is checked against the
        state the database holds: two commanders on two hubs, one case, one version — the
        second to take the turn finds the first's change and gets ``conflict``."""
        async with self._store.log_turn() as turn:
            missed = await turn.events_after(self.seq)
            if missed:  # committed by the others: this hub's state whatever becomes of ours
                self._take(missed)
            group = self._decide_group(jobs)
            if group.applied:
                await turn.write(group.applied)
        return group

    # --- following a shared log -------------------------------------------------------------

    async def follow(self) -> int:
        """Apply what other hubs appended to a shared log since this engine's ``seq``, in seq
        order, through the same reducer, and hand it to the listeners like its own events.
        Returns how many events were taken. (hub/peers.py calls this on each notification and
        on a timer; a single hub never needs it.)"""
        async with self._turn:
            return await self._follow()

    async def _follow(self) -> int:
        taken = 0
        while True:
            events = await self._store.events_after(self.seq, FOLLOW_PAGE)
            if not events:
                return taken
            self._take(events)
            taken += len(events)
            if len(events) < FOLLOW_PAGE:
                return taken

    def _take(self, events: Sequence[Event]) -> None:
        """Fold events another hub committed into the committed state, then publish them."""
        taken: list[Event] = []
        for event in events:
            if event.seq != self.seq + 1:
                # Commits are serialised by the log lock, so the visible log has no holes;
                # should one show, stop short of it and read again next time.
                log.warning("the shared log skips from %d to %d", self.seq, event.seq)
                break
            if event.case is not None and event.type is not EventType.ALERT:
                current = self._cases.get(event.case)
                if current is None and event.type not in WHOLE_CASE_EVENTS:
                    # A case finished before this hub started is not held in memory; its
                    # state is in the database and reaches a client through history.
                    log.info("event %d on case %s, not held in memory", event.seq, event.case)
                else:
                    case = apply_case_event(current, event)
                    self._put_case(case)
                    self._last_actor[case.id] = event.actor
                    if current is None:  # numbered by another hub: never offer that id again
                        day, serial = case.id[:6], case.id[6:]
                        if serial.isdigit():
                            self._serial[day] = max(self._serial.get(day, 0), int(serial))
            if event.staff is not None and event.changes:
                person = self._staff.get(event.staff)
                if person is not None:
                    self._staff[event.staff] = apply_staff_event(person, event)
            self.seq = event.seq
            taken.append(event)
        if not taken:
            return
        self._wake_ticker_if_sooner()
        for listener in list(self._listeners):
            try:
                listener(taken)
            except Exception:  # one broken listener must not stop the hall
                log.exception("event listener failed")

    def _settle(self, job: _Job, outcome: Ack | Refusal) -> None:
        if job.future.done():  # the caller went away (cancelled): nothing to tell
            return
        if isinstance(outcome, Refusal):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)

    def _fail(self, jobs: Sequence[_Job], refusal: Refusal) -> None:
        for job in jobs:
            self._settle(job, refusal)

    def _decide(self, job: _Job, group: _Group, now: datetime) -> Ack:
        if job.breach is not None:
            return self._decide_breach(job.breach, group, now)
        if job.shift or job.answer is not None:
            return self._decide_rota_job(job, group, now)
        if job.hub_events is not None:
            hall = dataclasses.replace(self.hall, staff=ChainMap(group.staff, self._staff))
            stored = self._apply(job.hub_events(hall), group, HUB_ACTOR, None, "", None)
            return Ack(command="", seq=stored[-1].seq if stored else self.seq)
        command = job.command
        assert command is not None
        if job.allowed is not None and not job.allowed():
            raise refuse("revoked")
        job.digest = digest = job.digest or _digest(command, job.actor)
        seen = group.ids.get(command.id) or self._recent.get(command.id)
        if seen is not None:
            replay = _replay(seen, digest)
            if isinstance(replay, Refusal):
                raise replay
            return replay
        # The role first, before any lookup: an operator who may not act must not learn
        # from not_found vs forbidden which cases exist.
        roles.require(job.actor.role, op_of(command))
        rota = group.rota or self._rota
        if rota is not None:
            require_on_duty(job.actor, op_of(command), self.hall.calendar, now)
        hall = dataclasses.replace(self.hall, staff=ChainMap(group.staff, self._staff))
        case_id: str | None = None
        new_rota: Rota | None = None
        if isinstance(command, Intake):
            job.new_case = case_id = self._new_case_id(now, group)
            others = self._candidates(command, group, now)
            events = workflow.decide(
                None, command, job.actor, now, hall, new_id=case_id, others=others
            )
            events = standby.after_command(None, events, now, hall, rota)
        elif isinstance(command, CaseCommand):
            case_id = command.case
            case = self._case(case_id, group)
            if case is None:
                raise refuse("unknown_case", case=case_id)
            others = {}
            if isinstance(command, Merge):
                target = self._case(command.into, group)
                if target is None:
                    raise refuse("unknown_case", case=command.into)
                others[target.id] = target
            try:
                events = workflow.decide(case, command, job.actor, now, hall, others=others)
            except Refusal as refusal:
                raise self._who_changed(refusal, group) from None
            events = standby.after_command(case, events, now, hall, rota)
        elif isinstance(command, StaffStatus):
            person = group.staff.get(command.staff) or self._staff.get(command.staff)
            if person is None:
                raise refuse("unknown_staff", staff=command.staff)
            events = workflow.decide_staff(person, command, job.actor, now, hall)
        elif isinstance(command, ShiftChange):
            events = workflow.decide_shift(command, job.actor, now, hall)
        elif isinstance(command, HandoverNote):
            events = handover.decide_note(command, job.actor, now)
        elif isinstance(command, HandoverAck):
            events = handover.decide_ack(command, job.actor, now)
        elif isinstance(command, RotaSwap | RotaStandby | RotaCommander):
            events, new_rota = decide_rota(command, job.actor, now, hall, rota)
        else:  # pragma: no cover - the protocol's union is closed
            raise refuse("unknown_op", op=type(command).__name__)
        stored = self._apply(events, group, job.actor, command.id, digest, case_id)
        if new_rota is not None:
            group.rota = new_rota
            group.applied[-1] = dataclasses.replace(group.applied[-1], rota=new_rota)
        version = None
        if case_id is not None:
            version = (group.cases.get(case_id) or self._cases[case_id]).version
        ack = Ack(command=command.id, seq=stored[-1].seq if stored else self.seq, case=case_id,
                  version=version)  # fmt: skip
        group.ids[command.id] = AppliedRecord(command.id, digest, ack.seq, case_id, version)
        return ack

    def _decide_breach(self, breach: tuple[str, Step], group: _Group, now: datetime) -> Ack:
        case_id, step = breach
        case = self._case(case_id, group)
        deadline = case.deadline(step) if case is not None else None
        if case is None or deadline is None or deadline not in sla.due_breaches(case, now):
            return Ack(command="", seq=self.seq)  # the step was done meanwhile: nothing to do
        # The people as they are in this group (the alert names who is on duty at the desk it
        # reaches; a shift change committed in the same group counts).
        hall = dataclasses.replace(self.hall, staff=ChainMap(group.staff, self._staff))
        events = escalation.on_breach(case, deadline, now, hall)
        stored = self._apply(events, group, HUB_ACTOR, None, "", None)
        return Ack(command="", seq=stored[-1].seq if stored else self.seq, case=case_id)

    def _decide_rota_job(self, job: _Job, group: _Group, now: datetime) -> Ack:
        """The hub's own rota work: a shift change, or a standby answer clock that ran out."""
        rota = group.rota or self._rota
        hall = dataclasses.replace(self.hall, staff=ChainMap(group.staff, self._staff))
        case_id = job.answer
        if job.shift:
            events = shift_events(rota, hall, now, announce=job.announce) if rota else []
        else:
            assert case_id is not None
            case = self._case(case_id, group)
            events = standby.on_unanswered(case, now, hall, rota) if case is not None else []
        if not events:
            return Ack(command="", seq=self.seq)
        stored = self._apply(events, group, HUB_ACTOR, None, "", None)
        return Ack(command="", seq=stored[-1].seq, case=case_id)

    def _who_changed(self, refusal: Refusal, group: _Group) -> Refusal:
        """A version conflict told who made the change the client has not seen, when this
        engine saw it (after a restart it may not know: then it says nothing, never guesses)."""
        if refusal.detail != "version_conflict":
            return refusal
        case_id = str(refusal.params["case"])
        by = group.actors.get(case_id) or self._last_actor.get(case_id)
        if by is None:
            return refusal
        return refuse("version_conflict_by", **refusal.params, by=by)

    def _apply(
        self,
        events: list[Event],
        group: _Group,
        actor: Actor,
        command_id: str | None,
        digest: str,
        ack_case: str | None,
    ) -> list[Event]:
        """Number the events, fold them into the group's state and queue them for the commit."""
        base = self.seq + len(group.events)
        stored = [msgspec.structs.replace(e, seq=base + i + 1) for i, e in enumerate(events)]
        touched_cases: dict[str, Case] = {}
        touched_staff: dict[str, Staff] = {}
        for event in stored:
            if event.case is not None and event.type is not EventType.ALERT:
                case = apply_case_event(self._case(event.case, group), event)
                group.cases[case.id] = touched_cases[case.id] = case
                group.actors[case.id] = event.actor
                group.keyed.setdefault((case.category, case.grid), set()).add(case.id)
            if event.staff is not None and event.changes:
                person = group.staff.get(event.staff) or self._staff[event.staff]
                group.staff[event.staff] = touched_staff[event.staff] = apply_staff_event(
                    person, event
                )
        group.events.extend(stored)
        group.applied.append(
            Applied(
                command_id=command_id,
                digest=digest,
                actor=actor.name,
                events=stored,
                cases=list(touched_cases.values()),
                staff=list(touched_staff.values()),
                ack_case=ack_case,
                ack_version=touched_cases[ack_case].version if ack_case in touched_cases else None,
            )
        )
        return stored

    def _publish(self, group: _Group) -> None:
        """Make a committed group the engine's state and hand its events to the listeners.
        The log's tail and the ids first: whatever fails after them, the next group numbers
        its events after this one and a retry of these commands is a replay."""
        if group.events:
            self.seq = group.events[-1].seq
        self._recent.update(group.ids)
        while len(self._recent) > self._remember:
            self._recent.popitem(last=False)
        self._serial.update(group.serial)
        for case in group.cases.values():
            self._put_case(case)
        self._staff.update(group.staff)
        if group.rota is not None:
            self._rota = group.rota
        self._last_actor.update(group.actors)
        self._wake_ticker_if_sooner()
        for listener in list(self._listeners):
            try:
                listener(group.events)
            except Exception:  # one broken listener must not stop the hall
                log.exception("event listener failed")

    # --- state helpers ---------------------------------------------------------------------

    def _case(self, case_id: str, group: _Group) -> Case | None:
        return group.cases.get(case_id) or self._cases.get(case_id)

    def _put_case(self, case: Case) -> None:
        self._open.put(self._cases.get(case.id), case)
        self._cases[case.id] = case
        self._deadlines.update(case)
        self._answers.update(case)

    def _requeue(self, case_id: str) -> None:
        """Back in the deadline queue after a breach job, committed or not (then it is
        tried again at the next wake-up)."""
        case = self._cases.get(case_id)
        if case is not None:
            self._deadlines.update(case)

    def _candidates(self, intake: Intake, group: _Group, now: datetime) -> dict[str, Case]:
        """The open cases an intake reported ``now`` could duplicate (``find_duplicate`` picks
        among them): of its category and grid, reported within the window — found through the
        index, plus those the group changed. A few, however many the hall holds."""
        key = (intake.category, intake.grid)
        ids = set(self._open.near(intake.category, intake.grid, now, duplicate_window(self.hall)))
        ids.update(group.keyed.get(key, ()))
        others: dict[str, Case] = {}
        for case_id in ids:
            case = self._case(case_id, group)
            if case is not None and case.is_open:
                others[case_id] = case
        return others

    def _new_case_id(self, now: datetime, group: _Group) -> str:
        """YYMMDD + a 4-digit serial of the day in the hall's time zone: ``2611230042``."""
        day = now.astimezone(self._tz).strftime("%y%m%d")
        serial = group.serial.get(day, self._serial.get(day, 0)) + 1
        group.serial[day] = serial
        return f"{day}{serial:04d}"

    # --- the SLA ticker --------------------------------------------------------------------

    async def _ticker(self) -> None:
        """Queue a breach job for every deadline that has passed, once a tick or at the next
        deadline if that comes sooner. (The scenario player runs without this task and calls
        :meth:`run_due` at each deadline instead, for exact virtual instants.)
        """
        tick = self._settings.hub.tick_seconds
        while True:
            # Wake for the next deadline if it comes before the tick: on a fast (virtual) clock
            # a whole tick would be minutes of hub time late.
            now, speed = self._clock.now(), self._clock.speed
            wakes = now + timedelta(seconds=tick * speed)
            soonest = self.next_wakeup()
            if soonest is not None and soonest < wakes:
                wakes = soonest
            self._ticker_wakes = wakes
            # At most ~100 wake-ups a second however tightly deadlines bunch up.
            wait = max((wakes - now).total_seconds() / speed, 0.01)
            self._sooner.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sooner.wait(), wait)
            self._queue_due(self._clock.now())

    def _wake_ticker_if_sooner(self) -> None:
        """After a commit: wake the ticker if the commit brought a deadline before its wake-up
        (the deadline queue is up to date by now)."""
        soonest = _earliest(self._deadlines.soonest(), self._answers.soonest())
        if self._ticker_wakes is not None and soonest is not None and soonest < self._ticker_wakes:
            self._sooner.set()

    async def write_hub_events(self, make: Callable[[Hall], list[Event]]) -> Ack:
        """Write the events ``make`` decides on the hall as the writer holds it (the hub's
        own, actor ``hub``: the short-patrol alerts); returns after the commit."""
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Job(actor=HUB_ACTOR, command=None, future=future, hub_events=make))
        return await future

    @property
    def has_rota(self) -> bool:
        """Whether the hall runs on a rota (its shift changes are the hub's)."""
        return self._rota is not None

    def next_deadline(self) -> datetime | None:
        """The earliest live deadline of any open case not yet marked breached, leaving out
        those whose breach is being committed."""
        return self._deadlines.soonest()

    def next_wakeup(self) -> datetime | None:
        """The earliest of the next deadline, the next standby answer time and the rota's next
        shift change: when the ticker (or whoever drives the clock) must act next."""
        return _earliest(self.next_deadline(), self._answers.soonest(), self._next_shift)

    async def run_due(self) -> None:
        """Breach every deadline due by the clock's now, and return once that is committed."""
        futures = self._queue_due(self._clock.now())
        if futures:
            await asyncio.gather(*futures, return_exceptions=True)

    def _queue_due(self, now: datetime) -> list[asyncio.Future[Ack]]:
        futures: list[asyncio.Future[Ack]] = []
        loop = asyncio.get_running_loop()
        if self._next_shift is not None and self._next_shift <= now and self._rota is not None:
            # One change for however many boundaries passed (a jump of the clock): the state
            # at now. The next boundary is taken now, so the change is queued once.
            announce, self._shift_catch_up = not self._shift_catch_up, False
            self._next_shift = next_change(self.hall.calendar, now)
            future: asyncio.Future[Ack] = loop.create_future()
            future.add_done_callback(_consume)
            self._queue.put_nowait(
                _Job(actor=HUB_ACTOR, command=None, future=future, shift=True, announce=announce)
            )
            futures.append(future)
        for case_id in self._answers.take_due(now):
            future = loop.create_future()
            future.add_done_callback(_consume)
            self._queue.put_nowait(_Job(actor=HUB_ACTOR, command=None, future=future,
                                        answer=case_id))  # fmt: skip
            futures.append(future)
        for case_id in self._deadlines.take_due(now):
            case = self._cases[case_id]
            for deadline in sla.due_breaches(case, now):
                key = (case.id, deadline.step)
                if key in self._breach_pending:
                    continue
                self._breach_pending.add(key)
                future = loop.create_future()
                future.add_done_callback(_consume)
                self._queue.put_nowait(
                    _Job(actor=HUB_ACTOR, command=None, future=future, breach=key)
                )
                futures.append(future)
        return futures


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)


def _failed(future: asyncio.Future[Ack]) -> bool:
    return future.done() and not future.cancelled() and future.exception() is not None


def _consume(future: asyncio.Future[Ack]) -> None:
    """Breach jobs have no caller; read their outcome so asyncio does not warn."""
    if not future.cancelled() and future.exception() is not None:
        log.warning("breach job failed: %s", future.exception())


def _replay(record: AppliedRecord, digest: str) -> Ack | Refusal:
    """The answer to a command whose id was applied as ``record``: its ack again, or
    ``duplicate_id`` if the id came with another body or from another operator."""
    if record.digest != digest:
        return refuse("duplicate_id", command=record.command_id)
    return Ack(command=record.command_id, seq=record.seq, case=record.case,
               version=record.version, replayed=True)  # fmt: skip


def _name(job: _Job) -> str:
    """A job for the log: the command and who sent it, or the breach."""
    if job.command is None and job.hub_events is not None:
        return "the hub's own events (short-patrol alerts)"
    if job.command is None:
        case_id, step = job.breach or ("?", "?")
        return f"breach of {step} on case {case_id}"
    return f"command {job.command.id} ({op_of(job.command)}) from {job.actor.name}"


def _digest(command: Command, actor: Actor) -> str:
    """What makes a retried command the same command: its body and who sent it."""
    return hashlib.sha256(actor.name.encode() + b"\0" + msgspec.json.encode(command)).hexdigest()
