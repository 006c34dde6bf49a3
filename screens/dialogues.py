"""The short dialogues that turn a key into a command: pick a unit, a person, a verdict, type a
reason. Each asks through the modal screens (which return typed values) and returns what the
operator chose, or None when they backed out with escape.

Choices offer only what the hub would accept: a standby officer's dispatch picker lists its
own unit(s), people are those on duty of the chosen unit, ranked by ``dispatch.routing``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.screen import Screen

from console.desk import Desk
from console.labels import label
from console.suggestions import person_line
from dispatch import whistle
from dispatch.command_chain import check_assign
from dispatch.errors import Refusal
from dispatch.hall import Hall
from dispatch.models import LEVELS, Actor, Case
from dispatch.roles import SCOPED_ROLES, own_units
from dispatch.routing import Why, rank_staff, suggest
from screens.confirm import ConfirmScreen
from screens.pick import PickScreen
from screens.reason import ReasonScreen

Ask = Callable[[Screen[Any]], Awaitable[Any]]
"""Push a modal screen and wait for its answer (``App.push_screen_wait``)."""

NONE = "-"
"""The pick key for "nobody" (dispatch to the unit only) or "any" (a quick filter)."""
DONE = "*done"
"""The pick key that ends a multi-pick (joint enforcement's supporting units)."""
JOINT_MAX = 10
"""The most supporting units a joint command takes (dispatch.commands.Joint)."""
WHISTLE_MAX = 20
"""The most units a whistle summons (dispatch.commands.BlowWhistle)."""


def _may_assign(actor: Actor, unit: str, hall: Hall) -> bool:
    try:
        check_assign(actor, [unit], hall)
    except Refusal:
        return False
    return True


class Dialogues:
    """The dialogues of one screen, in the operator's language."""

    def __init__(self, desk: Desk, ask: Ask) -> None:
        self._desk = desk
        self._ask = ask

    @property
    def _tr(self) -> Callable[[str], str]:
        return self._desk.language.tr

    async def reason(self, prompt: str, *, required: bool = True) -> str | None:
        answer = await self._ask(ReasonScreen(self._tr(prompt), required=required))
        return answer if isinstance(answer, str) else None

    async def confirm(self, question: str) -> bool:
        return bool(await self._ask(ConfirmScreen(question, self._tr("y: yes   n: no"))))

    async def pick(self, prompt: str, choices: list[tuple[str, str]]) -> str | None:
        answer = await self._ask(PickScreen(self._tr(prompt), choices))
        return answer if isinstance(answer, str) else None

    def unit_choices(self, case: Case) -> list[tuple[str, str]]:
        """Units the operator may send ``case`` to, the routing suggestion first with the rule
        that made it ("★ 东川燃气公司  主管部门 · 推荐"), then the units that support it."""
        desk, tr = self._desk, self._tr
        units = sorted(desk.model.units.values(), key=lambda u: u.id)
        actor = desk.session.actor
        if actor is not None and actor.role in SCOPED_ROLES:
            # The hub lets a standby officer dispatch only within its own unit and the units
            # that report to it; offering the rest would only earn refusals.
            own = own_units(actor, desk.hall())
            units = [u for u in units if u.id in own]
        if actor is not None:
            # A street desk assigns within its own street (and to district-wide units).
            hall = desk.hall()
            units = [u for u in units if _may_assign(actor, u.id, hall)]
        suggestion = suggest(case, desk.hall())
        marked: dict[str, str] = {}
        if suggestion is not None:
            why = label(suggestion.why, tr)
            marked[suggestion.unit.id] = f"★ {suggestion.unit.name}  {why} · {tr('suggested')}"
            for helper in suggestion.supporting:
                marked[helper.id] = f"☆ {helper.name}  {label(Why.LOCALITY, tr)} · {tr('supports')}"
        first = [(u.id, marked[u.id]) for u in units if u.id in marked]
        first.sort(key=lambda choice: not choice[1].startswith("★"))
        return first + [(u.id, u.name) for u in units if u.id not in marked]

    def staff_choices(self, case: Case, unit: str) -> list[tuple[str, str]]:
        """The unit's people who could go, best first, each with what ranked them."""
        desk, tr = self._desk, self._tr
        ranked = rank_staff(case, unit, desk.hall(), desk.commands.hub_now(), desk.model.load)
        people = [(r.staff.id, person_line(r, tr)) for r in ranked]
        return [(NONE, tr("(unit only, no person)")), *people]

    async def unit_and_person(self, case: Case, prompt: str) -> tuple[str, str | None] | None:
        unit = await self.pick(prompt, self.unit_choices(case))
        if unit is None:
            return None
        staff = await self.pick("Which person?", self.staff_choices(case, unit))
        if staff is None:
            return None
        return unit, None if staff == NONE else staff

    async def joint(self, case: Case) -> tuple[str, tuple[str, ...]] | None:
        """A lead unit, then supporting units one pick at a time until "done"."""
        tr, units = self._tr, self._desk.model.units
        choices = self.unit_choices(case)
        lead = await self.pick("Lead unit?", choices)
        if lead is None:
            return None
        support: list[str] = []
        while True:
            rest = [x for x in choices if x[0] != lead and x[0] not in support]
            chosen = ", ".join(units[u].name if u in units else u for u in support)
            prompt = tr("Supporting unit?") + (f"  ({chosen})" if support else "")
            done = [(DONE, "✓ " + tr("Done: send"))] if support else []
            answer = await self._ask(PickScreen(prompt, done + rest))
            if not isinstance(answer, str):
                return None
            if answer == DONE:
                break
            support.append(answer)
            if not rest[1:] or len(support) == JOINT_MAX:
                break
        return lead, tuple(support)

    async def minutes(self) -> int | None:
        tr = self._tr
        picked = await self.pick(
            "How much more time?",
            [
                ("30", tr("30 minutes")),
                ("60", tr("1 hour")),
                ("240", tr("4 hours")),
                ("1440", tr("1 day")),
            ],
        )
        return int(picked) if picked is not None else None

    async def instruction_minutes(self) -> int | bool | None:
        """An instruction's own deadline: minutes, None for none, False when backed out."""
        tr = self._tr
        picked = await self.pick(
            "Deadline for the instruction?",
            [
                (NONE, tr("No deadline")),
                ("30", tr("30 minutes")),
                ("60", tr("1 hour")),
                ("120", tr("2 hours")),
                ("240", tr("4 hours")),
                ("1440", tr("1 day")),
            ],
        )
        if picked is None:
            return False
        return None if picked == NONE else int(picked)

    async def lower_level(self, case: Case) -> str | None:
        """The level to send ``case`` down to, the one just below first."""
        below = list(reversed(LEVELS[: LEVELS.index(case.level)]))
        words = self._desk.words
        return await self.pick("Send down to which level?", [(lv, words.level(lv)) for lv in below])

    async def summon(self, case: Case) -> tuple[tuple[str, ...], int] | None:
        """吹哨: the units to summon, one pick at a time until "done", then the report-in
        minutes."""
        tr, units = self._tr, self._desk.model.units
        choices = [(u.id, u.name) for u in sorted(units.values(), key=lambda u: u.id)
                   if u.desk is None]  # fmt: skip
        called: list[str] = []
        while True:
            rest = [x for x in choices if x[0] not in called]
            chosen = ", ".join(units[u].name if u in units else u for u in called)
            prompt = tr("Summon which unit?") + (f"  ({chosen})" if called else "")
            done = [(DONE, "✓ " + tr("Done: set the deadline"))] if called else []
            answer = await self._ask(PickScreen(prompt, done + rest))
            if not isinstance(answer, str):
                return None
            if answer == DONE:
                break
            called.append(answer)
            if not rest[1:] or len(called) == WHISTLE_MAX:
                break
        picked = await self.pick(
            "Report in within?",
            [
                ("15", tr("15 minutes")),
                ("30", tr("30 minutes")),
                ("60", tr("1 hour")),
                ("120", tr("2 hours")),
            ],
        )
        return (tuple(called), int(picked)) if picked is not None else None

    async def reporting_unit(self, case: Case) -> str | None:
        """Which summoned unit reports in: a unit's own terminal its own unit (no question
        when it is the only one); the hall picks among those still out."""
        desk = self._desk
        waiting = list(whistle.waiting(case))
        actor = desk.session.actor
        if actor is not None and actor.role in SCOPED_ROLES:
            own = own_units(actor, desk.hall())
            waiting = [u for u in waiting if u in own]
        if len(waiting) == 1:
            return waiting[0]
        units = desk.model.units
        return await self.pick(
            "Which unit reports in?", [(u, units[u].name if u in units else u) for u in waiting]
        )
