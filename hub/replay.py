"""Play a scenario inside the hub: scripted steps and deadlines on one virtual timeline.

The :class:`Player` is the demo's clock driver and SLA ticker in one. It always works on the
next instant something must happen — the next scripted step or the next deadline of an open
case — moves the :class:`~hub.clock.SimClock` there, breaches what is due, then sends the steps
of that instant through the engine like any other operator's commands (the hub stays the only
writer; a refused step is recorded and the play goes on). Paced, it waits the real time between
instants at the clock's speed and wakes early when someone's command changes the deadlines;
unpaced, it jumps, so tests play a whole day in seconds with the same event log.

``python -m hub.replay FILE [--config FILE]`` plays a scenario unpaced on a temporary SQLite
file and prints the figures and escalations it ends with next to the ones its ``[expect]``
table states; it exits 1 when any differ or a step was refused, 2 on a file it cannot read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from dispatch import metrics
from dispatch.catalog import Catalog
from dispatch.commands import Intake
from dispatch.config import Settings
from dispatch.errors import Refusal, refuse
from dispatch.events import Event
from dispatch.hall import Hall
from dispatch.models import Case
from dispatch.scenario import Scenario, ScenarioError, Step, actor_for, check_city
from hub.clock import SimClock
from hub.engine import Engine
from hub.store import Store

log = logging.getLogger(__name__)


@dataclass
class Progress:
    """Where a play stands; the demo's status line reads it."""

    played: int = 0  # steps sent (accepted or refused): the next one is steps[played]
    total: int = 0
    refused: list[tuple[Step, Refusal]] = field(default_factory=list)
    case_ids: dict[str, str] = field(default_factory=dict)  # scenario name → hub case id
    finished: bool = False  # every step played and the clock at the scenario's end


class Player:
    """Plays ``scenario`` into ``engine`` (started with ``ticker=False``) on ``clock``."""

    def __init__(
        self,
        engine: Engine,
        scenario: Scenario,
        clock: SimClock,
        *,
        on_step: Callable[[Step, Refusal | None], None] | None = None,
    ) -> None:
        check_city(scenario, engine.hall)  # a step naming a stranger fails before anything runs
        self._engine = engine
        self._scenario = scenario
        self._clock = clock
        self._on_step = on_step
        self.progress = Progress(total=len(scenario.steps))
        self._changed = asyncio.Event()

    async def run(self, *, keep_ticking: bool = False, until: datetime | None = None) -> Progress:
        """Play every step, breaching deadlines on the way, up to the scenario's end.

        With ``keep_ticking`` the player then goes on as the hall's SLA ticker (the demo keeps
        running after the script is done); otherwise it returns with the clock at the end.
        With ``until`` it returns sooner: once every step and deadline up to that instant is
        done, with the clock held there. A later ``run`` goes on from there, so a day played in
        two stretches (the demo's morning at once, the rest paced) gives the log of one play.
        """
        unsubscribe = self._engine.listen(lambda _events: self._changed.set())
        try:
            end = self._scenario.instant(self._scenario.end)
            steps = self._scenario.steps
            while True:
                i = self.progress.played
                next_step = self._scenario.instant(steps[i].at) if i < len(steps) else None
                target = _earliest(next_step, self._engine.next_wakeup())
                if until is not None and (target is None or target > until):
                    if await self._wait_until(until):
                        return self.progress
                    continue
                if not self.progress.finished and (target is None or target > end):
                    if not await self._wait_until(end):
                        continue
                    self.progress.finished = True
                    log.info("scenario %s played to its end", self._scenario.header.name)
                    if not keep_ticking:
                        return self.progress
                    continue
                if target is None:  # nothing scheduled: time flows until someone acts
                    self._clock.run_until(None)
                    await self._wait_for_change(None)
                    continue
                if not await self._wait_until(target):
                    continue  # someone's command moved the deadlines: look again
                await self._engine.run_due()
                while (i := self.progress.played) < len(steps):
                    if self._scenario.instant(steps[i].at) > target:
                        break
                    await self._play(steps[i])
        finally:
            unsubscribe()

    async def _wait_until(self, target: datetime) -> bool:
        """Let hub time flow to ``target`` and hold it there; False if woken before."""
        if self._clock.paced and self._clock.now() < target:
            self._clock.run_until(target)
            if not await self._wait_for_change(self._clock.real_seconds_until(target)):
                return False
        self._clock.hold(target)
        return True

    async def _wait_for_change(self, seconds: float | None) -> bool:
        """Sleep ``seconds`` of real time; False if an event arrived first."""
        self._changed.clear()
        try:
            await asyncio.wait_for(self._changed.wait(), seconds)
        except TimeoutError:
            return True
        return False

    async def _play(self, step: Step) -> None:
        refusal: Refusal | None = None
        try:
            await self._send(step)
        except Refusal as exc:
            refusal = exc
            self.progress.refused.append((step, exc))
            log.info("%s refused: %s", step.where, exc)
        self.progress.played += 1
        if self._on_step is not None:
            self._on_step(step, refusal)

    async def _send(self, step: Step) -> None:
        command_id = f"scenario:{self._scenario.header.name}:{step.number}"
        actor = actor_for(step, self._engine.hall)
        ids = self.progress.case_ids
        if isinstance(step.template, Intake):
            ack = await self._engine.execute(step.command(command_id), actor)
            assert step.case is not None and ack.case is not None
            ids[step.case] = ack.case
            return
        case_id = into_id = None
        version = None
        if step.case is not None:
            case_id = ids.get(step.case)
            if case_id is None:
                raise refuse("never_created", case=step.case)
            case = self._engine.cases.get(case_id)
            version = case.version if case is not None else 1
        if step.into is not None:
            into_id = ids.get(step.into)
            if into_id is None:
                raise refuse("never_created", case=step.into)
        command = step.command(command_id, case_id=case_id, version=version, into_id=into_id)
        await self._engine.execute(command, actor)


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return min(present) if present else None


# --- playing a whole scenario offline ----------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a scenario did to a fresh hall, read back from the hub once it ended."""

    progress: Progress
    events: list[Event]  # the whole log, in seq order
    cases: dict[str, Case]  # hub id → final case
    figures: metrics.Figures  # at the scenario's end
    end: datetime

    @property
    def refused(self) -> list[tuple[Step, Refusal]]:
        return self.progress.refused

    @property
    def case_ids(self) -> dict[str, str]:
        return self.progress.case_ids


def scenario_settings(scenario: Scenario, settings: Settings | None = None) -> Settings:
    """``settings`` with the hall's time zone set to the scenario's, and the scenario's
    holidays and 调休 workdays added to the calendar's."""
    base = settings or Settings()
    header = scenario.header
    clock = msgspec.structs.replace(base.clock, timezone=header.timezone)
    calendar = msgspec.structs.replace(
        base.calendar,
        holidays=tuple(sorted({*base.calendar.holidays, *header.holidays})),
        workdays=tuple(sorted({*base.calendar.workdays, *header.workdays})),
    )
    return msgspec.structs.replace(base, clock=clock, calendar=calendar)


def escalations(outcome: Outcome, scenario: Scenario) -> list[tuple[str, str, str]]:
    """The escalations the hub made on missed deadlines, as ``[[expect.escalation]]`` states
    them: (the scenario's case name, time since the scenario's midnight as ``HH:MM:SS``,
    level). An ``escalate`` step of the script is a step, not an expectation."""
    from dispatch.events import EventType
    from dispatch.scenario import format_time

    names = {hub_id: name for name, hub_id in outcome.case_ids.items()}
    return [
        (names.get(e.case, e.case), format_time(scenario.offset(e.at)), str(e.changes["level"]))
        for e in outcome.events
        if e.type is EventType.ESCALATED and e.case is not None and e.actor == "hub"
    ]


def expected_escalations(scenario: Scenario) -> list[tuple[str, str, str]]:
    """The scenario's ``[[expect.escalation]]`` entries, in the form of :func:`escalations`."""
    from dispatch.scenario import format_time, parse_time

    if scenario.expect is None:
        return []
    return [
        (e.case, format_time(parse_time(e.at)), str(e.level)) for e in scenario.expect.escalation
    ]


def standby_calls(outcome: Outcome, scenario: Scenario) -> list[tuple[str, str, str]]:
    """The hub's standby calls as ``[[expect.standby_call]]`` states them: (case name, time
    as ``HH:MM:SS``, the officer called or ``commander``), in the log's order."""
    from dispatch.events import EventType
    from dispatch.scenario import format_time

    names = {hub_id: name for name, hub_id in outcome.case_ids.items()}
    return [
        (
            names.get(e.case, e.case),
            format_time(scenario.offset(e.at)),
            "commander" if e.data.get("to") == "commander" else str(e.data.get("staff")),
        )
        for e in outcome.events
        if e.type is EventType.STANDBY_CALLED and e.case is not None
    ]


def shift_changes(outcome: Outcome, scenario: Scenario) -> list[tuple[str, str]]:
    """The rota's shift changes as ``[[expect.shift]]`` states them: (time, ``day`` or
    ``standby``); the first, at the start, brings the roster to the rota's now."""
    from dispatch.events import EventType
    from dispatch.scenario import format_time

    return [
        (format_time(scenario.offset(e.at)), str(e.data.get("to")))
        for e in outcome.events
        if e.type is EventType.SHIFT_CHANGED and e.actor == "hub"
    ]


def roll_calls(outcome: Outcome) -> list[tuple[str, str, str]]:
    """Every case's roll call (点名) at the end as ``[[expect.roll_call]]`` states it: (case
    name, unit, attendance), for each case's latest whistle."""
    from dispatch.whistle import current, roll_call

    out: list[tuple[str, str, str]] = []
    for name, hub_id in outcome.case_ids.items():
        case = outcome.cases.get(hub_id)
        whistle = current(case) if case is not None else None
        if whistle is not None:
            out.extend((name, line.unit, str(line.attendance))
                       for line in roll_call(whistle, outcome.end))  # fmt: skip
    return out


def instructions(outcome: Outcome) -> list[tuple[str, bool]]:
    """Each case given an instruction (批办) with a deadline, and whether that deadline was
    missed (as ``[[expect.instruction]]`` states it)."""
    from dispatch.events import EventType
    from dispatch.models import Step as Clock

    names = {hub_id: name for name, hub_id in outcome.case_ids.items()}
    timed = {
        e.case for e in outcome.events if e.type is EventType.INSTRUCTED and "minutes" in e.data
    }
    missed = {
        e.case
        for e in outcome.events
        if e.type is EventType.DEADLINE_BREACHED and _breached_step(e) == Clock.INSTRUCTION
    }
    return sorted((names.get(c, c), c in missed) for c in timed if c is not None)


def _breached_step(event: Event) -> str | None:
    step = event.data.get("step", event.changes.get("step"))
    return str(step) if step is not None else None


def chain_figures(outcome: Outcome, scenario: Scenario) -> dict[str, list[tuple[object, ...]]]:
    """What the night did beyond the day's figures, next to what ``[expect]`` lists: the
    standby calls, the roll calls, the instructions and the rota's shift changes — only the
    kinds ``[expect]`` gives."""
    expect = scenario.expect
    if expect is None:
        return {}
    got: dict[str, list[tuple[object, ...]]] = {}
    if expect.standby_call:
        got["standby_call"] = [*standby_calls(outcome, scenario)]
    if expect.roll_call:
        got["roll_call"] = sorted(roll_calls(outcome))
    if expect.instruction:
        got["instruction"] = [*instructions(outcome)]
    if expect.shift:
        got["shift"] = [*shift_changes(outcome, scenario)]
    return got


def expected_chain_figures(scenario: Scenario) -> dict[str, list[tuple[object, ...]]]:
    """``[expect]``'s standby calls, roll calls and instructions in the form of
    :func:`chain_figures`."""
    from dispatch.scenario import format_time, parse_time

    expect = scenario.expect
    if expect is None:
        return {}
    want: dict[str, list[tuple[object, ...]]] = {}
    if expect.standby_call:
        want["standby_call"] = [
            (c.case, format_time(parse_time(c.at)), c.to) for c in expect.standby_call
        ]
    if expect.roll_call:
        want["roll_call"] = sorted((r.case, r.unit, r.attendance) for r in expect.roll_call)
    if expect.instruction:
        want["instruction"] = sorted((i.case, i.breached) for i in expect.instruction)
    if expect.shift:
        want["shift"] = [(format_time(parse_time(x.at)), str(x.to)) for x in expect.shift]
    return want


def demo_city_hall(scenario: Scenario, settings: Settings | None = None) -> Hall:
    """The demo city as a hall in the scenario's time zone (what ``check_city`` checks against)."""
    from hub.demo_city import demo_city

    city = demo_city()
    return Hall.of(
        scenario_settings(scenario, settings),
        Catalog.default(),
        areas=city.areas,
        units=city.units,
        staff=city.staff,
    )


@contextlib.asynccontextmanager
async def scenario_hall(
    scenario: Scenario, database_url: str, clock: SimClock, settings: Settings | None = None
) -> AsyncIterator[tuple[Store, Engine]]:
    """A fresh store at ``database_url`` with the demo city and an engine on ``clock`` with no
    ticker of its own (a :class:`Player` drives it); stopped and closed on exit."""
    from hub.demo_city import demo_city, demo_rota

    if scenario.header.city != "demo":
        raise ScenarioError(f"scenario city {scenario.header.city!r}: only 'demo' is built in")
    store = await Store.open(database_url, migrate=True)
    try:
        if not await store.is_empty():
            raise ScenarioError("the store already holds a hall: scenarios start from a fresh one")
        city = demo_city()
        await store.seed(city.areas, city.units, city.staff)
        if scenario.header.rota:  # shifts by the rota on the hub clock, not by steps
            await store.seed_rota(demo_rota())
        settings = scenario_settings(scenario, settings)
        engine = Engine(store, settings, Catalog.default(), clock, ticker=False)
        await engine.start()
        try:
            yield store, engine
        finally:
            await engine.stop()
    finally:
        await store.close()


async def play_offline(
    scenario: Scenario, database_url: str, settings: Settings | None = None
) -> Outcome:
    """Play ``scenario`` unpaced on a fresh store at ``database_url`` with the demo city."""
    clock = SimClock(scenario.instant(scenario.start), paced=False)
    async with scenario_hall(scenario, database_url, clock, settings) as (store, engine):
        progress = await Player(engine, scenario, clock).run()
        end = clock.now()
        cases = dict(engine.cases)
        events = await _all_events(store)
    return Outcome(
        progress=progress,
        events=events,
        cases=cases,
        figures=metrics.figures(cases.values(), end),
        end=end,
    )


async def _all_events(store: Store) -> list[Event]:
    events: list[Event] = []
    while page := await store.events_after(events[-1].seq if events else 0):
        events.extend(page)
    return events


def main(argv: Sequence[str] | None = None) -> int:
    import argparse
    import pathlib
    import tempfile

    from dispatch.config import parse_settings
    from dispatch.scenario import loads

    parser = argparse.ArgumentParser(prog="python -m hub.replay", description=__doc__)
    parser.add_argument("file", type=pathlib.Path)
    parser.add_argument(
        "--config", type=pathlib.Path, metavar="FILE",
        help="the hall's config.toml (SLA limits, calendar, escalation, intake rules)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        scenario = loads(args.file.read_text(encoding="utf-8"))
        settings = None
        if args.config is not None:
            settings = parse_settings(args.config.read_text(encoding="utf-8"))
    except (OSError, ScenarioError, Refusal) as exc:
        print(f"python -m hub.replay: {exc}")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        outcome = asyncio.run(play_offline(scenario, f"sqlite:///{tmp}/replay.db", settings))
    print(f"{len(outcome.events)} events, {len(outcome.refused)} steps refused")
    for step, refusal in outcome.refused:
        print(f"  {step.where}: {refusal}")
    expected = scenario.expect.figures() if scenario.expect else {}
    differ = bool(outcome.refused)
    for name, value in vars(outcome.figures).items():
        want = expected.get(name)
        differ |= want is not None and want != value
        mark = "" if want is None else ("  ok" if want == value else f"  expected {want}")
        print(f"{name:>15} {value}{mark}")
    if scenario.expect is not None:
        made, wanted = escalations(outcome, scenario), expected_escalations(scenario)
        print(f"{'escalations':>15} {len(made)}" + ("  ok" if made == wanted else ""))
        if made != wanted:
            differ = True
            for line in sorted(set(wanted) - set(made)):
                print(f"  expected, not made: {' '.join(line)}")
            for line in sorted(set(made) - set(wanted)):
                print(f"  made, not expected: {' '.join(line)}")
    differ |= _print_chain(outcome, scenario)
    return 1 if differ else 0


def _print_chain(outcome: Outcome, scenario: Scenario) -> bool:
    """Print the standby calls, roll calls and instructions the night made, beside the ones
    ``[expect]`` lists; True when a listed kind differs."""
    made: dict[str, list[tuple[object, ...]]] = {
        "standby_call": [*standby_calls(outcome, scenario)],
        "roll_call": sorted(roll_calls(outcome)),
        "instruction": [*instructions(outcome)],
        "shift": [*shift_changes(outcome, scenario)],
    }
    wanted = expected_chain_figures(scenario)
    differ = False
    for kind, rows in made.items():
        want = wanted.get(kind)
        ok = "" if want is None else ("  ok" if want == rows else "  differs from [expect]")
        print(f"{kind:>15} {len(rows)}{ok}")
        for row in rows:
            print("   ", " ".join(str(x) for x in row))
        if want is not None and want != rows:
            differ = True
            for row in want:
                if row not in rows:
                    print("  expected, not made:", " ".join(str(x) for x in row))
    return differ


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
