"""Who may send which command: the role table, and the unit scope of standby and unit operators.

| op                         | commander | dispatcher | standby  | unit    | observer |
|----------------------------|:---------:|:----------:|:--------:|:-------:|:--------:|
| intake                     |     ✓     |     ✓      |    ✓     |    ✓    |          |
| verify, accept, reject     |     ✓     |     ✓      |          |         |          |
| dispatch                   |     ✓     |     ✓      | own unit |         |          |
| reassign, joint            |     ✓     |     ✓      |          |         |          |
| acknowledge, arrive        |     ✓     |            | own unit | own unit|          |
| report_back                |     ✓     |            | own unit | own unit|          |
| check, rework, close       |     ✓     |     ✓      |          |         |          |
| callback, merge, resume    |     ✓     |     ✓      |          |         |          |
| escalate, urge             |     ✓     |     ✓      | own unit |         |          |
| note                       |     ✓     |     ✓      | own unit | own unit|          |
| request_return/extension/  |     ✓     |            |          | own unit|          |
|   park/void                |           |            |          |         |          |
| approve, refuse            |     ✓     |     ✓      |          |         |          |
| staff_status               |     ✓     |     ✓      | own unit | own unit|          |
| shift_change               |     ✓     |     ✓      |          |         |          |
| handover_note, handover_ack|     ✓     |     ✓      |          |         |          |
| (read) events_window       |     ✓     |     ✓      |          |         |          |
| rota_swap/standby/commander|     ✓     |            |          |         |          |
| instruct (批办)            |     ✓     |  at desk   |          |         |          |
| send_down, whistle         |     ✓     |     ✓      |          |         |          |
| report_in (报到)           |     ✓     |     ✓      | summoned | summoned|          |
| (read) cases_window, tracks|     ✓     |     ✓      |          |         | redacted |
| position (patrol track)    |     ✓     |     ✓      |          | own unit|          |

"Own unit": a standby or unit operator acts only on cases owned by its unit (or a unit whose
``parent`` is its unit; a unit operator of a supporting unit in joint enforcement may add
notes). Standby may also take an *unowned* accepted case, but only to dispatch it to its own
unit (or escalate / note it). The hall's dispatchers hand over the shift with the commander,
so both may send ``shift_change``, write the hand-over note and acknowledge the hand-over
(``handover_note``, ``handover_ack``), and read a time window of the whole hall's events
(``events_window``, the hand-over report's source: :data:`READ_WINDOW`). The rota
(``dispatch/rota.py``) is the commander's alone. Where the hall has a rota, a standby operator
is refused every command in a working day's day shift (``rota.require_on_duty``,
``off_rota``): standby is after hours.

"At desk": a dispatcher instructs (批办) only from the district or leadership desk
(:mod:`dispatch.command_chain`). "Summoned": a standby or unit operator reports in (报到) for
its own unit when a whistle on the case summoned it, and may add notes to that case.
"""

from __future__ import annotations

from collections.abc import Mapping

from dispatch import command_chain, whistle
from dispatch.commands import OPS
from dispatch.errors import refuse
from dispatch.hall import Hall
from dispatch.models import Actor, Case, Role, Staff, Status

_REQUESTS = frozenset({"request_return", "request_extension", "request_park", "request_void"})

ALLOWED: Mapping[Role, frozenset[str]] = {
    Role.COMMANDER: OPS,
    Role.DISPATCHER: frozenset(
        {
            "intake",
            "verify",
            "accept",
            "reject",
            "dispatch",
            "reassign",
            "urge",
            "note",
            "escalate",
            "joint",
            "check",
            "close",
            "rework",
            "callback",
            "approve",
            "refuse",
            "resume",
            "merge",
            "staff_status",
            "shift_change",
            "handover_note",
            "handover_ack",
            "instruct",
            "send_down",
            "whistle",
            "report_in",
        }
    ),
    Role.STANDBY: frozenset(
        {
            "intake",
            "report_in",
            "acknowledge",
            "dispatch",
            "escalate",
            "note",
            "urge",
            "staff_status",
            "report_back",
            "arrive",
        }
    ),
    Role.UNIT: frozenset(
        {"intake", "acknowledge", "arrive", "report_back", "note", "staff_status", "report_in"}
        | _REQUESTS
    ),
    Role.OBSERVER: frozenset(),
}
"""op names each role may send (the console greys out the rest; the hub refuses them)."""

READ_WINDOW = frozenset({Role.COMMANDER, Role.DISPATCHER})
"""Roles that may read the whole hall's events of a time window (``events_window``): it holds
every case and person unredacted, so only the hall's own desk."""

READ_CASES = frozenset({Role.COMMANDER, Role.DISPATCHER, Role.OBSERVER})
"""Roles that may read the stored cases of a time window (``cases_window``, the monthly
assessment's source): observers get them redacted, as in their snapshot."""

READ_TRACKS = frozenset({Role.COMMANDER, Role.DISPATCHER, Role.OBSERVER})
"""Roles that may read the grid workers' patrol tracks (``tracks``): the hall and its wall."""

REPORT_POSITIONS = frozenset({Role.COMMANDER, Role.DISPATCHER, Role.UNIT})
"""Roles that may report positions (``position``): a unit terminal for its own people, the
hall (a patrol bridge) for anyone."""

SCOPED_ROLES = frozenset({Role.STANDBY, Role.UNIT})
"""Roles that act only for their own unit (and the units under it)."""
_UNOWNED_STANDBY_OPS = frozenset({"dispatch", "escalate", "note"})


def allowed(role: Role, op: str) -> bool:
    return op in ALLOWED[role]


def require(role: Role, op: str) -> None:
    """Refuse (``forbidden``) an op the role may not send."""
    if not allowed(role, op):
        raise refuse("role_may_not", role=role, op=op)


def own_units(actor: Actor, hall: Hall) -> frozenset[str]:
    """The operator's unit and the units that report to it (empty for an operator with no
    unit): where a standby or unit operator may act, and dispatch to."""
    if actor.unit is None:
        return frozenset()
    children = {u.id for u in hall.units.values() if u.parent == actor.unit}
    return frozenset({actor.unit, *children})


def check_scope(
    actor: Actor, case: Case, op: str, hall: Hall, target_unit: str | None = None
) -> None:
    """Refuse (``forbidden``) a standby or unit operator acting outside its own unit's cases.

    ``target_unit`` is where a ``dispatch`` sends the case; left out (a client asking whether
    to offer the key at all) only the case is judged, and the unit picker offers
    :func:`own_units`.
    """
    if op == "instruct":
        command_chain.check_instructs(actor, hall)
    if actor.role not in SCOPED_ROLES:
        return
    own = own_units(actor, hall)
    if not own:
        raise refuse("no_unit", operator=actor.name)
    if op == "dispatch" and target_unit is not None and target_unit not in own:
        raise refuse("dispatch_outside_unit", operator=actor.name, unit=target_unit)
    if op == "report_in":
        _check_report_in(actor, case, own, target_unit)
        return
    if op == "note" and own & whistle.summoned(case):
        return  # a summoned unit may write in the case's history
    if case.owner_unit in own:
        return
    if actor.role is Role.UNIT and op == "note" and own & set(case.supporting_units):
        return
    if (
        actor.role is Role.STANDBY
        and case.owner_unit is None
        and case.status is Status.ACCEPTED
        and op in _UNOWNED_STANDBY_OPS
    ):
        return
    raise refuse("not_own_unit", case=case.id, operator=actor.name)


def _check_report_in(
    actor: Actor, case: Case, own: frozenset[str], target_unit: str | None
) -> None:
    """A summoned unit reports in for itself only; asked without a unit (is the key to be
    offered?), only while one of its own units is still out."""
    if target_unit is not None and target_unit not in own:
        raise refuse("report_in_other_unit", operator=actor.name, unit=target_unit)
    called = own & whistle.summoned(case)
    if not called:
        raise refuse("not_own_unit", case=case.id, operator=actor.name)
    waiting = set(whistle.waiting(case))
    if target_unit is None and waiting and not called & waiting:
        raise refuse("already_reported_in", case=case.id, unit=min(called))


def check_staff_scope(actor: Actor, staff: Staff, hall: Hall) -> None:
    """Refuse a standby or unit operator changing someone outside its own unit."""
    if actor.role in SCOPED_ROLES and staff.unit not in own_units(actor, hall):
        raise refuse("staff_not_own_unit", staff=staff.id, operator=actor.name)
