"""A standby call reads as a line in the operator's language in the case history: whom the
hub called, their place in the night's order, or the duty commander it alerted."""

from __future__ import annotations

from datetime import UTC, datetime

from backend_client.hall_model import HallModel
from console.i18n import Language
from console.wording import Wording
from dispatch.catalog import Catalog
from dispatch.events import Event, EventType
from dispatch.models import Shift, Staff

AT = datetime(2026, 12, 4, 12, 10, tzinfo=UTC)


def _words(locale: str) -> Wording:
    model = HallModel()
    model.staff["S041"] = Staff(id="S041", name="唐宇航", unit="enforcement-1", role="城管队员",
                                shift=Shift.STANDBY)  # fmt: skip
    return Wording(Language(locale), Catalog.default(), model)


def _called(**data: object) -> Event:
    return Event(at=AT, actor="hub", type=EventType.STANDBY_CALLED, case="2612040001",
                 reason="not signed for within 10 minutes: next standby officer called",
                 data=dict(data))  # fmt: skip


def test_a_standby_call_names_the_officer_and_their_place_in_both_languages() -> None:
    event = _called(to="staff", staff="S041", unit="enforcement-1", step=2)
    assert _words("zh_CN").history(event) == "已呼叫备勤人员 唐宇航（当晚备勤顺序第 2 位）"
    english = "Standby officer 唐宇航 called (no. 2 on the night's order)"
    assert _words("en").history(event) == english


def test_the_end_of_the_order_names_the_duty_commander() -> None:
    event = _called(to="commander", commander="林晓红", unit="enforcement-1")
    assert _words("zh_CN").history(event) == "超时未签收：已通知值班指挥长 林晓红"
    assert _words("en").history(event) == "Not signed for in time: duty commander 林晓红 alerted"


def test_other_events_read_as_before() -> None:
    event = Event(at=AT, actor="hub", type=EventType.DEADLINE_BREACHED, case="2612040001",
                  reason="result deadline missed")  # fmt: skip
    assert _words("en").history(event) == "deadline missed result deadline missed"
