"""The hand-over report from a small hand-built hall: each section lists what a commander taking
over needs and nothing else; the default window starts at the last shift change; the ack is
refused for a bad window or the wrong role, and is one event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dispatch.commands import HandoverAck, HandoverNote
from dispatch.errors import ErrorCode, Refusal
from dispatch.events import Event, EventType
from dispatch.handover import (
    CASE_SECTIONS,
    DEFAULT_SHIFT,
    EVENT_SECTIONS,
    Section,
    build,
    decide_ack,
    decide_note,
    shift_start,
    window_types,
    wired_sections,
)
from dispatch.models import (
    Actor,
    Basis,
    Case,
    Deadline,
    Kind,
    Request,
    Role,
    Source,
    Status,
    Step,
    Urgency,
)

SINCE = datetime(2026, 11, 23, 0, 30, tzinfo=UTC)  # 08:30 in the hall
UNTIL = SINCE + timedelta(hours=9)  # 17:30
COMMANDER = Actor(name="李指挥", role=Role.COMMANDER)


def case(case_id: str, **fields: Any) -> Case:
    values: dict[str, Any] = {
        "id": case_id,
        "kind": Kind.EVENT,
        "category": "E0101",
        "source": Source.PATROL,
        "urgency": Urgency.GENERAL,
        "status": Status.DISPATCHED,
        "title": f"case {case_id}",
        "reported_at": SINCE,
    }
    return Case(**(values | fields))


def due(minutes_after_until: int) -> tuple[Deadline, ...]:
    at = UNTIL + timedelta(minutes=minutes_after_until)
    return (
        Deadline(step=Step.RESULT, start=SINCE, due=at, limit_minutes=60, basis=Basis.WALL),
    )


def event(seq: int, type_: EventType, minutes: int, **fields: Any) -> Event:
    return Event(seq=seq, at=SINCE + timedelta(minutes=minutes), actor="王调度", type=type_,
                 **fields)  # fmt: skip


HALL = [
    case("urgent-ok", urgency=Urgency.URGENT, deadlines=due(30)),
    case("urgent-late", urgency=Urgency.URGENT, deadlines=due(-20)),
    case("general-late", deadlines=due(-90)),
    case("general-ok", deadlines=due(60)),
    case(
        "asks-more-time",
        request=Request(kind="extension", by="市政养护", at=SINCE, reason="等材料", minutes=120),
    ),
    case("urgent-closed", urgency=Urgency.URGENT, status=Status.CLOSED, deadlines=due(-20)),
    case("parked-late", status=Status.PARKED, deadlines=due(-20)),
]

EVENTS = [
    event(1, EventType.SHIFT_CHANGED, -1, command="s0", data={"to": "day"}),  # before the window
    event(2, EventType.ESCALATED, 10, case="urgent-late", changes={"level": "street"}),
    event(3, EventType.URGED, 20, case="general-late", data={"unit": "sanitation"}),
    event(4, EventType.JOINT, 30, case="general-ok", data={"lead": "a", "supporting": ["b"]}),
    event(5, EventType.STAFF_CHANGED, 40, staff="S1", changes={"duty": "off"}, reason="病假"),
    event(6, EventType.STAFF_CHANGED, 41, staff="S2", changes={"position": {"lon": 1, "lat": 2}}),
    event(7, EventType.NOTED, 50, case="general-ok", reason="a case note, not the hand-over"),
    event(8, EventType.STAFF_CHANGED, 530, staff="S3", command="s1", changes={"duty": "off"}),
    event(9, EventType.STAFF_CHANGED, 530, staff="S4", command="s1", changes={"duty": "standby"}),
    event(10, EventType.SHIFT_CHANGED, 530, command="s1", data={"to": "standby"}),
    event(11, EventType.HANDOVER_NOTED, 529, reason="青石路供水管仍关闭"),
    event(12, EventType.ESCALATED, 600, case="general-ok"),  # after the window
]


def test_each_section_lists_what_the_incoming_commander_must_know() -> None:
    report = build(HALL, EVENTS, SINCE, UNTIL)
    ids = {s: [c.id for c in cases] for s, cases in report.cases.items()}
    assert ids[Section.URGENT] == ["urgent-late", "urgent-ok"]  # open urgent only
    assert ids[Section.OVERDUE] == ["general-late", "urgent-late"]  # longest overdue first
    assert ids[Section.PENDING] == ["asks-more-time"]
    seqs = {s: [e.seq for e in events] for s, events in report.events.items()}
    assert seqs[Section.ESCALATIONS] == [2]  # not the one after the window
    assert seqs[Section.URGES] == [3]
    assert seqs[Section.JOINT] == [4]
    # A person put off sick is a staff change; a position update and the roster moving at the
    # shift change are not (the shift change says how many moved).
    assert seqs[Section.STAFF] == [5]
    assert seqs[Section.SHIFTS] == [10]
    assert report.moved == {"s1": 2}
    assert seqs[Section.NOTES] == [11]
    assert report.outgoing == "王调度"  # the note's author
    assert report.count(Section.OVERDUE) == 2


def test_whistles_and_instructions_are_driven_by_the_one_mapping() -> None:
    """Until the hub records whistles and instructions, their sections are empty and marked
    unwired; everything else is wired."""
    report = build(HALL, EVENTS, SINCE, UNTIL)
    known = {t.value for t in EventType}
    for section in (Section.WHISTLES, Section.INSTRUCTIONS):
        wired = all(t in known for t in EVENT_SECTIONS[section])
        on_case = CASE_SECTIONS[section] in Case.__struct_fields__
        assert (section in report.wired) is (wired or on_case)
        assert report.count(section) == 0
    assert wired_sections() >= {Section.URGENT, Section.ESCALATIONS, Section.NOTES}
    assert set(window_types()) <= set(EventType)
    assert EventType.ESCALATED in window_types()


def test_the_digest_changes_with_what_the_report_lists() -> None:
    one = build(HALL, EVENTS, SINCE, UNTIL)
    assert one.digest == build(HALL, EVENTS, SINCE, UNTIL).digest
    assert len(one.digest) == 16
    assert one.digest != build(HALL, EVENTS[:3], SINCE, UNTIL).digest


def test_the_shift_starts_at_the_last_shift_change_or_hand_over() -> None:
    marks = [e for e in EVENTS if e.type is EventType.SHIFT_CHANGED]
    assert shift_start(marks, UNTIL) == (marks[-1].at, marks[-1])
    assert shift_start(marks, SINCE) == (marks[0].at, marks[0])  # the later one is ahead
    assert shift_start([], UNTIL) == (UNTIL - DEFAULT_SHIFT, None)
    opened = marks[0]
    report = build(HALL, [], SINCE, UNTIL, opened_by=opened)
    assert report.outgoing == opened.actor  # who took the last shift hands this one over


def test_the_ack_is_one_event_naming_the_window_and_the_outgoing_commander() -> None:
    ack = HandoverAck(id="k", since=SINCE, until=UNTIL, outgoing="王调度", digest="ab" * 8)
    [written] = decide_ack(ack, COMMANDER, UNTIL + timedelta(minutes=1))
    assert written.type is EventType.HANDOVER_ACKNOWLEDGED and written.case is None
    assert written.data == {
        "since": "2026-11-23T00:30:00Z",
        "until": "2026-11-23T09:30:00Z",
        "outgoing": "王调度",
        "digest": "abababababababab",
    }
    [note] = decide_note(HandoverNote(id="n", text="交班", cases=("c1",)), COMMANDER, UNTIL)
    assert (note.type, note.reason) == (EventType.HANDOVER_NOTED, "交班")
    assert note.data == {"cases": ["c1"]}


@pytest.mark.parametrize(
    ("since", "until", "detail"),
    [
        (UNTIL, SINCE, "handover_window"),
        (SINCE, SINCE, "handover_window"),
        (SINCE, UNTIL + timedelta(hours=1), "handover_in_future"),
        (UNTIL - timedelta(hours=73), UNTIL, "handover_too_long"),
    ],
)
def test_a_bad_window_is_refused(since: datetime, until: datetime, detail: str) -> None:
    ack = HandoverAck(id="k", since=since, until=until, outgoing="王调度")
    with pytest.raises(Refusal) as refused:
        decide_ack(ack, COMMANDER, UNTIL)
    assert (refused.value.code, refused.value.detail) == (ErrorCode.INVALID, detail)


@pytest.mark.parametrize("role", [Role.OBSERVER, Role.STANDBY, Role.UNIT])
def test_only_the_hall_takes_a_shift_over(role: Role) -> None:
    actor = Actor(name="x", role=role, unit="u" if role is not Role.OBSERVER else None)
    ack = HandoverAck(id="k", since=SINCE, until=UNTIL, outgoing="王调度")
    with pytest.raises(Refusal) as refused:
        decide_ack(ack, actor, UNTIL)
    assert refused.value.code is ErrorCode.FORBIDDEN
    with pytest.raises(Refusal):
        decide_note(HandoverNote(id="n", text="x"), actor, UNTIL)
