"""Whether an action applies now, and if not, why — by the rules the hub will apply.

The console only greys out; the hub still checks every command. But a key offered on a case
the hub will refuse, or a key that does nothing when pressed, leaves the operator guessing, so
the console asks the workflow's own checks (:func:`dispatch.workflow.precheck`: role, the
operator's unit, the case's status, the op's own conditions such as "a hotline case is verified
before it is accepted") before offering a key, and says why when a key does not apply.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from console.actions import Action, role_may
from console.desk import Session
from dispatch.errors import Refusal
from dispatch.hall import Hall
from dispatch.models import Case
from dispatch.roles import require
from dispatch.workflow import precheck


class NotNow(Exception):
    """An action that does not apply now; ``refusal`` says why in the hub's own terms when the
    hub would refuse it, ``reason`` (a gettext id) when it is the console's own condition."""

    def __init__(self, reason: str = "", refusal: Refusal | None = None) -> None:
        super().__init__(reason or (refusal.message if refusal else ""))
        self.reason = reason
        self.refusal = refusal


NOT_SIGNED_IN = "Not signed in yet."
NOT_LIVE = "Not connected to the hub: the board is read only until it is back."
NO_CASE = "Select a case first."


def check(
    action: Action, cases: Sequence[Case], session: Session, hall: Hall, now: datetime
) -> None:
    """Raise :class:`NotNow` unless ``action`` applies to ``cases`` (the marked ones for a
    bulk action: it applies if it applies to any of them) for the signed-in operator."""
    actor = session.actor
    if action.ops and actor is None:
        raise NotNow(NOT_SIGNED_IN)
    if actor is not None and action.ops and not role_may(session.role, action):
        try:
            for op in sorted(action.ops):
                require(actor.role, op)
        except Refusal as refusal:
            raise NotNow(refusal=refusal) from None
    if action.live and not session.live:
        raise NotNow(NOT_LIVE)
    if not action.case:
        return
    if not cases:
        raise NotNow(NO_CASE)
    if actor is None:  # a local action on a case (mark, open): nothing for the hub to check
        return
    first: Refusal | None = None
    for case in cases:
        try:
            for op in sorted(action.ops):
                precheck(op, case, actor, now, hall)
        except Refusal as refusal:
            first = first or refusal
        else:
            return
    if first is not None:
        raise NotNow(refusal=first)
