"""The callback queue (回访): which closed cases still owe the reporters an answer, and by when.

A closed public report (随手拍 photo, 12345 hotline) is owed one callback; so is a case that
absorbed duplicates (``also_reported_by``: their reporters are owed the same answer). The
due time is ``closed_at`` plus ``assessment.callback_due_hours``. The rule for *whether* a
case may be called back is the workflow's (``dispatch.workflow.CONDITIONS["callback"]``); this
module only orders what is owed, so the K screen and the report show one queue.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import msgspec

from dispatch.models import PUBLIC_SOURCES, Case, Status


class CallbackDue(msgspec.Struct, frozen=True, kw_only=True):
    """One case whose reporters wait for their callback."""

    case: str
    title: str
    reporters: tuple[str, ...]  # the case's own reporter first, then merged duplicates'
    closed_at: datetime
    due: datetime

    def overdue(self, now: datetime) -> bool:
        return now >= self.due


def owes_callback(case: Case) -> bool:
    """Closed, not yet called back, and reported by the public (itself or a merged duplicate)."""
    return (
        case.status is Status.CLOSED
        and case.callback is None
        and (case.source in PUBLIC_SOURCES or bool(case.also_reported_by))
    )


def callback_queue(cases: Iterable[Case], due_after: timedelta) -> list[CallbackDue]:
    """The callbacks owed, soonest due first (ties by case id, so the order is stable)."""
    owed = []
    for case in cases:
        if not owes_callback(case) or case.closed_at is None:
            continue
        reporters = tuple(r for r in (case.reporter, *case.also_reported_by) if r)
        owed.append(
            CallbackDue(
                case=case.id,
                title=case.title,
                reporters=reporters,
                closed_at=case.closed_at,
                due=case.closed_at + due_after,
            )
        )
    owed.sort(key=lambda c: (c.due, c.case))
    return owed
