"""The steps an operator takes on cases, as keys: what a screen that lists cases inherits.

:class:`CaseSteps` holds the keys of :data:`console.actions.ACTIONS` that act on the
highlighted (or marked) cases: whether each applies now — by the hub's own rules
(:mod:`console.permits`), greyed when not and saying why when pressed anyway — and, for each,
the short dialogue (:mod:`screens.dialogues`) and the command it sends through the desk. The
board supplies which case is highlighted and which are marked.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import events, work
from textual.screen import Screen
from textual.widgets import Input

from console.actions import BY_KEY, BY_METHOD, Action, key_label, role_first, role_may
from console.desk import Desk
from console.permits import NotNow, check
from console.refusals import describe
from dispatch.commands import (
    Accept,
    Acknowledge,
    Approve,
    Arrive,
    BlowWhistle,
    CaseCommand,
    Check,
    Close,
    Dispatch,
    Escalate,
    Instruct,
    Joint,
    Note,
    Reassign,
    Refuse,
    Reject,
    ReportBack,
    ReportIn,
    RequestExtension,
    RequestReturn,
    Rework,
    SendDown,
    Urge,
    Verify,
    op_of,
)
from dispatch.models import Case, Level
from screens.dialogues import Dialogues


class CaseSteps(Screen[None]):
    """A screen whose keys act on its highlighted or marked cases (see the module docstring)."""

    def __init__(self, desk: Desk) -> None:
        super().__init__()
        self.desk = desk
        self._selected: str | None = None
        """The highlighted case."""
        self._marked: frozenset[str] = frozenset()
        """The cases marked for a bulk action."""
        self._now: datetime | None = None
        """Hub time of the last tick."""
        self._dialogues = Dialogues(desk, self._ask)

    async def _ask(self, screen: Screen[Any]) -> Any:
        return await self.app.push_screen_wait(screen)

    def _marks_used(self) -> None:
        """A bulk action was sent: the screen may clear its marks."""

    # --- which keys apply ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        spec = BY_METHOD.get(action)
        if spec is None:
            return True
        if spec.ops and self.desk.session.role is not None and not self._role_may(spec):
            return False  # never this role's: off the key bar (help still lists it)
        return None if self._why_not(spec) is not None else True

    def _role_may(self, spec: Action) -> bool:
        return role_may(self.desk.session.role, spec)

    def _why_not(self, spec: Action) -> str | None:
        """Why ``spec`` does not apply now, in words; None when it does."""
        desk = self.desk
        targets = self._targets() if spec.bulk else [c for c in (self._case(),) if c is not None]
        try:
            check(spec, targets, desk.session, desk.hall(), self._now or desk.commands.hub_now())
        except NotNow as exc:
            if exc.refusal is not None:
                return describe(exc.refusal, desk.words)
            return desk.language.tr(exc.reason)
        return None

    def on_key(self, event: events.Key) -> None:
        """A key of the board that does not apply now says why (rather than nothing)."""
        spec = BY_KEY.get(event.key)
        if isinstance(self.focused, Input) or spec is None or not spec.ops:
            return  # typing, or a key that only moves around the board
        if self.check_action(spec.method, ()) is True:
            return
        why = self._why_not(spec)
        if why is not None:
            event.stop()
            self.desk.commands.not_sent(self.desk.language.tr(spec.description), why)

    def palette_entries(self) -> list[tuple[str, str]]:
        """For the command palette: the actions that apply now, the role's own first."""
        tr = self.desk.language.tr
        return [
            (f"{tr(a.description)} ({key_label(a)})", a.name)
            for a in role_first(self.desk.session.role)
            if self.check_action(a.method, ()) is True
        ]

    # --- the cases acted on --------------------------------------------------------------------

    def _case(self) -> Case | None:
        return self.desk.model.cases.get(self._selected or "")

    def _targets(self) -> list[Case]:
        """The marked cases, or the selected one."""
        cases = self.desk.model.cases
        if self._marked:
            return [cases[k] for k in sorted(self._marked) if k in cases]
        case = self._case()
        return [case] if case is not None else []

    def _what(self, op: str, cases: list[Case]) -> str:
        """How the feedback names a command: "立案 2611230042", or "立案 3 cases"."""
        words = self.desk.words
        if len(cases) == 1:
            return f"{words.op(op)} {cases[0].id}"
        return f"{words.op(op)} " + words.tr("{n} cases").format(n=len(cases))

    def _send(self, make: type[CaseCommand], case: Case, **fields: Any) -> None:
        commands = self.desk.commands
        command = make(id=commands.new_id(), case=case.id, version=case.version, **fields)
        commands.send(command, what=self._what(op_of(command), [case]))

    def _send_each(self, make: type[CaseCommand], cases: list[Case], **fields: Any) -> None:
        commands = self.desk.commands
        for case in cases:
            command = make(id=commands.new_id(), case=case.id, version=case.version, **fields)
            commands.send(command, what=self._what(op_of(command), [case]))
        self._marks_used()

    def _applicable(self, spec: str) -> list[Case]:
        """Targets the action applies to (a bulk action skips marked cases it does not fit)."""
        action = BY_METHOD[spec]
        desk = self.desk
        now = self._now or desk.commands.hub_now()
        out = []
        for case in self._targets() if action.bulk else [c for c in (self._case(),) if c]:
            try:
                check(action, [case], desk.session, desk.hall(), now)
            except NotNow:
                continue
            out.append(case)
        return out

    # --- the hall's steps ----------------------------------------------------------------------

    def action_accept(self) -> None:
        self._send_each(Accept, self._applicable("accept"))

    def action_acknowledge(self) -> None:
        self._send_each(Acknowledge, self._applicable("acknowledge"))

    def action_arrive(self) -> None:
        case = self._case()
        if case is not None:
            self._send(Arrive, case)

    @work(group="prompt", exit_on_error=False)
    async def action_reject(self) -> None:
        case = self._case()
        tr = self.desk.language.tr
        if case is None or not await self._dialogues.confirm(
            tr("Reject {case}?").format(case=case.id)
        ):
            return
        if (reason := await self._dialogues.reason("Reason for rejecting")) is not None:
            self._send(Reject, case, reason=reason)

    @work(group="prompt", exit_on_error=False)
    async def action_verify(self) -> None:
        tr = self.desk.language.tr
        case = self._case()
        yes = await self._dialogues.pick(
            "Verified on site?", [("yes", tr("Confirmed")), ("no", tr("Not confirmed: void"))]
        )
        if case is not None and yes is not None:
            self._send(Verify, case, confirmed=yes == "yes")

    @work(group="prompt", exit_on_error=False)
    async def action_dispatch(self) -> None:
        targets = self._applicable("dispatch")
        if not targets:
            return
        if len(targets) == 1:
            chosen = await self._dialogues.unit_and_person(targets[0], "Dispatch to which unit?")
            if chosen is None:
                return
            unit, staff = chosen
        else:
            picked = await self._dialogues.pick(
                "Dispatch to which unit?", self._dialogues.unit_choices(targets[0])
            )
            if picked is None:
                return
            unit, staff = picked, None
        self._send_each(Dispatch, targets, unit=unit, staff=staff)

    @work(group="prompt", exit_on_error=False)
    async def action_reassign(self) -> None:
        case = self._case()
        if case is None:
            return
        chosen = await self._dialogues.unit_and_person(case, "Reassign to which unit?")
        if chosen is None:
            return
        if (reason := await self._dialogues.reason("Reason for reassigning")) is not None:
            self._send(Reassign, case, unit=chosen[0], staff=chosen[1], reason=reason)

    async def _with_reason(self, make: type[CaseCommand], prompt: str) -> None:
        case = self._case()
        if case is not None and (reason := await self._dialogues.reason(prompt)) is not None:
            self._send(make, case, reason=reason)

    @work(group="prompt", exit_on_error=False)
    async def action_escalate(self) -> None:
        await self._with_reason(Escalate, "Reason for escalating")

    @work(group="prompt", exit_on_error=False)
    async def action_rework(self) -> None:
        await self._with_reason(Rework, "What must be redone?")

    @work(group="prompt", exit_on_error=False)
    async def action_note(self) -> None:
        await self._with_reason(Note, "Note")

    @work(group="prompt", exit_on_error=False)
    async def action_report_back(self) -> None:
        await self._with_reason(ReportBack, "What was done? (the result)")

    @work(group="prompt", exit_on_error=False)
    async def action_request_return(self) -> None:
        await self._with_reason(RequestReturn, "Reason for returning")

    @work(group="prompt", exit_on_error=False)
    async def action_urge(self) -> None:
        targets = self._applicable("urge")
        if not targets:
            return
        tr, words = self.desk.language.tr, self.desk.words
        if len(targets) == 1:
            owner = words.owner(targets[0]) or "—"
            question = tr("Urge {case} ({owner})?").format(case=targets[0].id, owner=owner)
        else:
            question = tr("Urge {n} cases?").format(n=len(targets))
        if await self._dialogues.confirm(question):
            self._send_each(Urge, targets)

    @work(group="prompt", exit_on_error=False)
    async def action_joint(self) -> None:
        case = self._case()
        if case is None:
            return
        chosen = await self._dialogues.joint(case)
        if chosen is not None:
            self._send(Joint, case, lead=chosen[0], supporting=chosen[1])

    @work(group="prompt", exit_on_error=False)
    async def action_check(self) -> None:
        tr = self.desk.language.tr
        case = self._case()
        verdict = await self._dialogues.pick(
            "On-site check", [("pass", tr("Passed")), ("fail", tr("Failed: rework"))]
        )
        if case is None or verdict is None:
            return
        reason = "" if verdict == "pass" else await self._dialogues.reason("What failed?")
        if reason is not None:
            self._send(Check, case, passed=verdict == "pass", reason=reason)

    @work(group="prompt", exit_on_error=False)
    async def action_close_case(self) -> None:
        case = self._case()
        tr = self.desk.language.tr
        if case is not None and await self._dialogues.confirm(
            tr("Close {case}?").format(case=case.id)
        ):
            self._send(Close, case)

    @work(group="prompt", exit_on_error=False)
    async def action_request_extension(self) -> None:
        case = self._case()
        minutes = await self._dialogues.minutes()
        if case is None or minutes is None:
            return
        if (reason := await self._dialogues.reason("Reason for the extension")) is not None:
            self._send(RequestExtension, case, minutes=minutes, reason=reason)

    def action_approve(self) -> None:
        case = self._case()
        if case is not None and case.request is not None:
            self._send(Approve, case, request=case.request.kind)

    @work(group="prompt", exit_on_error=False)
    async def action_refuse(self) -> None:
        case = self._case()
        if case is None or case.request is None:
            return
        if (reason := await self._dialogues.reason("Reason for refusing")) is not None:
            self._send(Refuse, case, request=case.request.kind, reason=reason)

    # --- the chain of command and 吹哨报到 -------------------------------------------------

    @work(group="prompt", exit_on_error=False)
    async def action_instruct(self) -> None:
        case = self._case()
        if case is None:
            return
        minutes = await self._dialogues.instruction_minutes()
        if minutes is False:
            return
        if (text := await self._dialogues.reason("Instruction")) is not None:
            self._send(Instruct, case, minutes=minutes or None, reason=text)

    @work(group="prompt", exit_on_error=False)
    async def action_send_down(self) -> None:
        case = self._case()
        if case is None or (level := await self._dialogues.lower_level(case)) is None:
            return
        if (reason := await self._dialogues.reason("Reason for sending it down")) is not None:
            self._send(SendDown, case, level=Level(level), reason=reason)

    @work(group="prompt", exit_on_error=False)
    async def action_whistle(self) -> None:
        case = self._case()
        if case is None or (chosen := await self._dialogues.summon(case)) is None:
            return
        units, minutes = chosen
        reason = await self._dialogues.reason("What are they summoned for?", required=False)
        if reason is not None:
            self._send(BlowWhistle, case, units=units, minutes=minutes, reason=reason)

    @work(group="prompt", exit_on_error=False)
    async def action_report_in(self) -> None:
        case = self._case()
        if case is not None and (unit := await self._dialogues.reporting_unit(case)) is not None:
            self._send(ReportIn, case, unit=unit)
