"""Feed a scenario into a running hub through a client, each step at its time on the hub's clock.

The scenario's timeline is pinned to the hub's "now" when the feed starts: its ``start`` is
that instant and a step ``at`` 08:05 on a scenario starting 08:00 is sent five hub minutes
later — on a hub running at ``--speed N``, N times sooner in real time. The scenario's date
does not matter here, only the distances between its times (so general cases' working-time
deadlines fall as the hub's calendar has them on the hub's day: a script's breaches repeat
when it is fed at the same clock time of a like day).

**Who acts.** Every step is sent as the operator whose token the client holds; a step's ``by``
is *not* impersonated (a client cannot act as someone else, by design of the protocol), so
``by`` only documents the script. Use a commander token: a commander may send every op, any
other role gets some steps refused as ``forbidden``.

The feed never stops for the hall: a step the hub refuses (someone at the console got there
first, a case is in another state) is recorded in the :class:`FeedReport` and the next step
goes on; steps on a case whose intake was refused are skipped. A lost connection is waited
out and the step is sent again with the *same* command id, so the hub applies it once even
if the first try had reached it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from backend_client.client import HubClient
from backend_client.errors import (
    AuthFailed,
    ClientError,
    CommandRefused,
    CommandTimeout,
    NotConnected,
)
from backend_client.mirror import Mirror
from backend_client.state import FINAL_STATES
from dispatch.catalog import Catalog
from dispatch.commands import CaseCommand, Command, Intake
from dispatch.config import Settings
from dispatch.errors import ErrorCode
from dispatch.hall import Hall
from dispatch.protocol import Ack
from dispatch.scenario import Scenario, ScenarioError, Step, check_city, loads

log = logging.getLogger(__name__)

RECHECK_SECONDS = 1.0
"""Real seconds a wait for a step's time lasts at most before reading the hub clock again (it
is corrected at each pong and reconnection, and a restarted hub may run at another speed)."""

LIVE_WAIT_SECONDS = 30.0
"""Real seconds between two looks at a client that is not live (it retries on its own)."""

CONFLICT_RETRIES = 3
"""Times a step refused as ``conflict`` is sent again at the case's newer version."""

_TRANSIENT = frozenset({ErrorCode.UNAVAILABLE, ErrorCode.RATE_LIMITED})
"""Refusals that say "not now" rather than "no": nothing was applied, so the step is sent
again (same id) after :data:`RETRY_PAUSE_SECONDS`."""

RETRY_PAUSE_SECONDS = 0.5


class Outcome(StrEnum):
    APPLIED = "applied"  # the hub acked it (``replayed`` if a retry found it applied already)
    REFUSED = "refused"  # the hub said no (code and message in the result); nothing changed
    SKIPPED = "skipped"  # not sent: the case it is about was never created on this hub


@dataclass(frozen=True)
class StepResult:
    """What became of one step."""

    step: Step
    outcome: Outcome
    due: datetime
    """Hub time the step was meant for (the feed's start plus the step's offset)."""
    sent: datetime | None = None
    """Hub time it was last sent (None when skipped)."""
    command_id: str | None = None
    case_id: str | None = None
    """The hub's id of the case the step is about (the new one, for an intake)."""
    ack: Ack | None = None
    code: ErrorCode | None = None
    message: str = ""
    """Why it was refused or skipped."""
    attempts: int = 0
    """Times it was sent: more than one after a lost connection, a timeout or a conflict."""

    def line(self) -> str:
        """One line for a progress log: ``step 3 (08:05:00 dispatch) c1=2503040001 applied``."""
        case = f" {self.step.case}={self.case_id}" if self.step.case and self.case_id else ""
        if self.outcome is Outcome.APPLIED:
            assert self.ack is not None
            how = "applied"
            if self.ack.version is not None:
                how += f" (v{self.ack.version})"
            if self.ack.replayed:
                how += ", found applied on retry"
        elif self.outcome is Outcome.REFUSED:
            how = f"refused: {self.code}: {self.message}"
        else:
            how = f"skipped: {self.message}"
        return f"{self.step.where}{case} {how}"


@dataclass
class FeedReport:
    """Every step's result, in scenario order, and the scenario's case names → hub ids."""

    scenario: str
    started: datetime
    """Hub time the scenario's ``start`` was pinned to."""
    speed: float
    """The hub clock's rate when the feed started."""
    results: list[StepResult] = field(default_factory=list)
    cases: dict[str, str] = field(default_factory=dict)

    def _count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def applied(self) -> int:
        return self._count(Outcome.APPLIED)

    @property
    def refused(self) -> int:
        return self._count(Outcome.REFUSED)

    @property
    def skipped(self) -> int:
        return self._count(Outcome.SKIPPED)

    def summary(self) -> str:
        """``scenario "demo-day": 40 steps, 38 applied, 1 refused, 1 skipped; 12 cases``."""
        return (
            f"scenario {self.scenario!r}: {len(self.results)} steps, {self.applied} applied, "
            f"{self.refused} refused, {self.skipped} skipped; {len(self.cases)} cases"
        )


class FeedAborted(ClientError):
    """The client closed for good (closed by its owner, or its token refused): the feed stopped.
    ``report`` holds the steps done before."""

    def __init__(self, detail: str, report: FeedReport) -> None:
        super().__init__(detail)
        self.report = report


StepCallback = Callable[[StepResult], Awaitable[None] | None]
"""Told each step's result; if it returns an awaitable, the feed awaits it before going on."""


def read_scenario(path: str | Path) -> Scenario:
    """The scenario in the file at ``path``; :class:`ScenarioError` says what is wrong with it
    (a file that cannot be read or decoded included)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    try:
        return loads(text)
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None


def check_against_hub(scenario: Scenario, mirror: Mirror) -> None:
    """:class:`ScenarioError` unless every unit, person, grid and category the scenario names
    exists on the hub (its mirror) — so a scenario for another city sends nothing at all."""
    hall = Hall.of(
        Settings(),
        Catalog.default(),
        areas=mirror.areas.values(),
        units=mirror.units.values(),
        staff=mirror.staff.values(),
    )
    check_city(scenario, hall)


async def feed(
    client: HubClient, scenario: Scenario, *, on_step: StepCallback | None = None
) -> FeedReport:
    """Replay ``scenario`` into the hub ``client`` is connected to; see the module docstring.

    Waits for the client to be live, checks the scenario against the hub's hall
    (:class:`ScenarioError`, before anything is sent), pins the timeline to hub now, then
    sends each step at its time and calls ``on_step`` with its result (awaited if it is a
    coroutine function). Returns the report once the last step is done; raises
    :class:`FeedAborted` if the client closes for good.
    """
    report = FeedReport(scenario=scenario.header.name, started=client.hub_now(), speed=1.0)
    await _wait_live(client, report)
    check_against_hub(scenario, client.mirror)
    report.started, report.speed = client.hub_now(), client.speed
    log.info(
        "feeding scenario %r (%d steps) from hub time %s at %g×",
        scenario.header.name,
        len(scenario.steps),
        report.started.isoformat(),
        report.speed,
    )
    for step in scenario.steps:
        due = report.started + (step.at - scenario.start)
        await _until(client, due)
        result = await _play(client, step, due, report)
        report.results.append(result)
        if result.outcome is Outcome.APPLIED and isinstance(step.template, Intake):
            assert step.case is not None and result.case_id is not None
            report.cases[step.case] = result.case_id
        log.info("%s", result.line())
        if on_step is not None:
            told = on_step(result)
            if inspect.isawaitable(told):
                await told
    log.info("%s", report.summary())
    return report


async def _until(client: HubClient, due: datetime) -> None:
    """Return once hub time reaches ``due`` (at once if it has)."""
    while True:
        left = (due - client.hub_now()).total_seconds()
        if left <= 0:
            return
        await asyncio.sleep(min(left / client.speed, RECHECK_SECONDS))


async def _wait_live(client: HubClient, report: FeedReport) -> None:
    """Wait, as long as it takes, for the client to be live; abort if it never will be."""
    while True:
        try:
            await client.wait_live(LIVE_WAIT_SECONDS)
            return
        except AuthFailed as exc:
            raise FeedAborted(str(exc), report) from None
        except NotConnected as exc:
            if client.state in FINAL_STATES:
                raise FeedAborted(str(exc), report) from None
            log.info("scenario feed waiting for the hub: %s", client.detail)


def _refs(step: Step, report: FeedReport) -> tuple[str | None, str | None, str]:
    """The hub ids of the step's case and merge target, or why a name has none."""
    names = [n for n in (step.case, step.into) if n is not None]
    if isinstance(step.template, Intake):
        names = []
    missing = [n for n in names if n not in report.cases]
    why = f"case {', '.join(map(repr, missing))} was never created on the hub" if missing else ""
    case_id = report.cases.get(step.case) if step.case and not why else None
    into_id = report.cases.get(step.into) if step.into and not why else None
    return case_id, into_id, why


def _build(step: Step, client: HubClient, command_id: str, case_id: str | None,
           into_id: str | None) -> Command | None:  # fmt: skip
    """The wire command at the case version the mirror shows now (None: the case is gone)."""
    if not isinstance(step.template, CaseCommand):
        return step.command(command_id)
    case = client.mirror.cases.get(case_id) if case_id is not None else None
    if case is None:
        return None
    return step.command(command_id, case_id=case.id, version=case.version, into_id=into_id)


async def _play(client: HubClient, step: Step, due: datetime, report: FeedReport) -> StepResult:
    """Send one step until the hub answers for good: ack, or a refusal that is final."""
    case_id, into_id, why = _refs(step, report)
    if why:
        return StepResult(step=step, outcome=Outcome.SKIPPED, due=due, message=why)
    command_id = client.new_id()
    attempts = 0
    conflicts = 0
    command: Command | None = None
    while True:
        await _wait_live(client, report)
        if command is None:
            command = _build(step, client, command_id, case_id, into_id)
            if command is None:  # the hub lost it (restored from a backup): nothing to act on
                message = f"case {case_id} is not in the hub's hall"
                return StepResult(step=step, outcome=Outcome.SKIPPED, due=due, case_id=case_id,
                                  message=message, attempts=attempts)  # fmt: skip
        sent = client.hub_now()
        attempts += 1
        try:
            ack = await client.send(command)
        except (NotConnected, CommandTimeout) as exc:
            # Its fate is unknown: the same command object (same id, same version) again,
            # once live, is applied at most once by the hub.
            log.info("%s: %s; sending it again once the hub answers", step.where, exc)
            continue
        except CommandRefused as refused:
            if refused.code in _TRANSIENT:
                log.info("%s: %s; sending it again shortly", step.where, refused)
                await asyncio.sleep(RETRY_PAUSE_SECONDS)
                continue
            if _stale(refused, command, client) and conflicts < CONFLICT_RETRIES:
                # Someone changed the case since the mirror was read (a note, an urge): the
                # step may still make sense at the new version. Refused means not applied,
                # so the id is still unused.
                conflicts += 1
                command = None
                continue
            return StepResult(
                step=step,
                outcome=Outcome.REFUSED,
                due=due,
                sent=sent,
                command_id=command_id,
                case_id=case_id,
                code=refused.code,
                message=refused.message,
                attempts=attempts,
            )
        return StepResult(
            step=step,
            outcome=Outcome.APPLIED,
            due=due,
            sent=sent,
            command_id=command_id,
            case_id=ack.case if isinstance(step.template, Intake) else case_id,
            ack=ack,
            attempts=attempts,
        )


def _stale(refused: CommandRefused, command: Command, client: HubClient) -> bool:
    """A conflict on a case the mirror now shows at another version than the one sent."""
    if refused.code is not ErrorCode.CONFLICT or not isinstance(command, CaseCommand):
        return False
    case = client.mirror.cases.get(command.case)
    return case is not None and case.version != command.version
