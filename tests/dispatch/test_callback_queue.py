"""The callback queue (回访): what is owed, to whom, due when; its answers feed the figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from dispatch.callbacks import callback_queue
from dispatch.metrics import figures
from dispatch.models import Case, Kind, Source, Status, Urgency

CLOSED_AT = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


def case(n: int, source: Source, **changes: object) -> Case:
    base = Case(
        id=f"C{n}",
        kind=Kind.EVENT,
        category="E0101",
        source=source,
        urgency=Urgency.GENERAL,
        status=Status.CLOSED,
        title="暴露垃圾",
        reporter=f"R{n}",
        reported_at=CLOSED_AT - timedelta(hours=5),
        accepted_at=CLOSED_AT - timedelta(hours=4),
        closed_at=CLOSED_AT + timedelta(minutes=n),
        on_time=True,
    )
    return msgspec.structs.replace(base, **changes)


def test_closed_public_reports_and_merged_duplicates_are_owed_a_callback_by_due_time() -> None:
    cases = [
        case(3, Source.PHOTO),
        case(1, Source.HOTLINE),
        case(2, Source.PATROL),  # a patrol report: nobody to call back
        case(4, Source.PATROL, also_reported_by=("12345-9", "R-photo")),  # absorbed duplicates
        case(5, Source.HOTLINE, callback="satisfied"),  # already done
        case(6, Source.HOTLINE, status=Status.DISPATCHED, closed_at=None),  # still open
    ]
    queue = callback_queue(cases, timedelta(hours=48))
    assert [c.case for c in queue] == ["C1", "C3", "C4"]
    assert queue[0].due == CLOSED_AT + timedelta(minutes=1, hours=48)
    assert queue[2].reporters == ("R4", "12345-9", "R-photo")
    assert not queue[0].overdue(CLOSED_AT + timedelta(hours=48))
    assert queue[0].overdue(CLOSED_AT + timedelta(hours=48, minutes=1))


def test_an_unsatisfied_callback_that_reopened_the_case_still_counts_in_satisfaction() -> None:
    reopened = case(1, Source.HOTLINE, status=Status.DISPATCHED, closed_at=None,
                    callback="unsatisfied", reworks=1)  # fmt: skip
    done = case(2, Source.PHOTO, callback="satisfied")
    counted = figures([reopened, done], CLOSED_AT)
    assert (counted.called_back, counted.satisfied, counted.satisfaction_rate) == (2, 1, 0.5)
