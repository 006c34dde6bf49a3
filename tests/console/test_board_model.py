"""The board's pure model: which queue a case is in, counts, rows, the strip and the roster."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from console import board_model as bm
from console.i18n import translator
from dispatch.catalog import Catalog
from dispatch.events import Event, EventType
from dispatch.models import (
    Area,
    AreaKind,
    Basis,
    Case,
    Deadline,
    Duty,
    Kind,
    Level,
    Shift,
    Source,
    Staff,
    Status,
    Step,
    Unit,
    UnitKind,
    Urgency,
)

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
CATALOG = Catalog.default()
CATEGORY = next(iter(CATALOG))


def case(
    id: str,
    status: Status = Status.REPORTED,
    *,
    urgent: bool = False,
    due_in: float | None = 600,
    owner: str | None = None,
    **kw: object,
) -> Case:
    deadlines = (
        ()
        if due_in is None
        else (
            Deadline(
                step=Step.ACCEPT,
                start=NOW - timedelta(minutes=10),
                due=NOW + timedelta(seconds=due_in),
                limit_minutes=20,
                basis=Basis.WALL,
            ),
        )
    )
    return Case(
        id=id,
        kind=Kind.COMPONENT,
        category=CATEGORY.code,
        source=Source.PATROL,
        urgency=Urgency.URGENT if urgent else Urgency.GENERAL,
        status=status,
        title=f"t{id}",
        reported_at=NOW - timedelta(minutes=10),
        deadlines=deadlines,
        owner_staff=owner,
        **kw,
    )  # type: ignore[arg-type]


def names(locale: str = "zh_CN") -> bm.Names:
    units = {"u1": Unit(id="u1", name="城管一中队", kind=UnitKind.DEPARTMENT)}
    return bm.Names(translator(locale), CATALOG, units, english=locale == "en")


def test_each_status_lands_in_its_queue_and_all_holds_everything() -> None:
    cases = [
        case("1", Status.REPORTED),
        case("2", Status.VERIFIED),
        case("3", Status.ACCEPTED),
        case("4", Status.ON_SCENE),
        case("5", Status.REPORTED_BACK),
        case("6", Status.CLOSED, due_in=None),
        case("7", Status.ACCEPTED, urgent=True, due_in=-60),
    ]
    counts = bm.counts(cases, NOW)
    assert counts == {
        bm.Queue.URGENT: 1,
        bm.Queue.TO_ACCEPT: 2,
        bm.Queue.TO_DISPATCH: 2,
        bm.Queue.IN_PROGRESS: 1,
        bm.Queue.TO_VERIFY: 1,
        bm.Queue.OVERDUE: 1,
        bm.Queue.ALL: 7,
    }


def test_a_closed_or_parked_case_is_never_overdue() -> None:
    assert not bm.is_overdue(case("1", Status.CLOSED, due_in=-60), NOW)
    assert not bm.is_overdue(case("2", Status.PARKED, due_in=-60), NOW)
    assert bm.is_overdue(case("3", Status.DISPATCHED, due_in=-1), NOW)


def test_rows_sort_by_nearest_deadline_and_speak_the_operators_language() -> None:
    cases = [case("a", due_in=900), case("b", due_in=60, urgent=True), case("c", due_in=None)]
    rows = bm.lines(cases, bm.Queue.ALL, NOW, names("zh_CN"))
    assert [r.key for r in rows] == ["b", "a", "c"]
    assert rows[0].urgent and rows[0].cells[2] == "上报"
    assert rows[0].cells[3] == CATEGORY.name
    english = bm.lines(cases, bm.Queue.ALL, NOW, names("en"))
    assert english[0].cells[2] == "reported" and english[0].cells[3] == CATEGORY.name_en
    assert len(rows[0].cells) == len(bm.COLUMNS)


def test_quick_filters_narrow_the_rows() -> None:
    cases = [case("a", owner_unit="u1"), case("b")]
    rows = bm.lines(cases, bm.Queue.ALL, NOW, names(), bm.QuickFilter(unit="u1"))
    assert [r.key for r in rows] == ["a"]


def test_the_strip_shows_the_closest_deadlines_first() -> None:
    cases = [
        case("a", due_in=500),
        case("b", due_in=-30),
        case("c", due_in=None),
        case("d", due_in=20),
    ]
    assert [c.id for c in bm.strip_cases(cases, 2)] == ["b", "d"]


def test_roster_counts_open_cases_per_person_and_hides_people_off_duty() -> None:
    staff = [
        Staff(id="s1", name="张伟", unit="u1", role="队员", shift=Shift.DAY, duty=Duty.ON_DUTY),
        Staff(id="s2", name="李娜", unit="u1", role="队员", shift=Shift.DAY, duty=Duty.OFF),
    ]
    cases = [case("a", Status.DISPATCHED, owner="s1"), case("b", Status.CLOSED, owner="s1")]
    rows = bm.roster_lines(staff, cases, names(), NOW, on_duty_only=True)
    assert rows == [("s1", ("张伟", "城管一中队", "队员", "白班", "离线", "1", "—"))]
    assert len(bm.roster_lines(staff, cases, names(), NOW, on_duty_only=False)) == 2


def test_history_keeps_a_bounded_list_per_case() -> None:
    history = bm.History(per_case=2)
    events = [Event(seq=i, at=NOW, actor="x", type=EventType.NOTED, case="a") for i in (1, 2, 3)]
    history.add(events)
    assert [e.seq for e in history.of("a")] == [2, 3]
    assert history.of("b") == ()
    assert msgspec.to_builtins(history.of("a")[0])["type"] == "noted"


def test_an_overdue_case_keeps_its_countdown_red_not_blank() -> None:
    breached = msgspec.structs.replace(
        case("a", due_in=-120),
        deadlines=tuple(
            msgspec.structs.replace(d, breached=True) for d in case("a", due_in=-120).deadlines
        ),
    )
    row = bm.line(breached, names())
    assert row.deadline is not None and row.deadline.breached
    assert [c.id for c in bm.strip_cases([breached], 3)] == ["a"]


def test_quick_filter_values_and_status_text_speak_the_operators_language() -> None:
    grid = Area(code="110101001", name="东华门网格", kind=AreaKind.GRID)
    zh = bm.Names(
        translator("zh_CN"), CATALOG, names().units, english=False, areas={grid.code: grid}
    )
    cases = [case("1", grid="110101001"), case("2", grid="999")]
    assert ("u1", "城管一中队") in bm.quick_values("unit", zh, cases)
    assert ("patrol", "巡查") in bm.quick_values("source", zh, cases)
    assert [g for g, _ in bm.quick_values("grid", zh, cases)] == ["999", "110101001"]
    quick = bm.QuickFilter().with_value("unit", "u1").with_value("level", "street")
    assert quick == bm.QuickFilter(unit="u1", level=Level.STREET)
    assert bm.quick_text(quick, zh) == "层级:街道 单位:城管一中队"
    assert bm.quick_text(quick.with_value("unit", None), names("en")) == "Level:street"
    assert bm.quick_text(bm.QuickFilter(), zh) == ""


def test_counts_follow_the_quick_filter() -> None:
    cases = [case("1", Status.REPORTED, owner_unit="u1"), case("2", Status.REPORTED)]
    counts = bm.counts(cases, NOW, bm.QuickFilter(unit="u1"))
    assert counts[bm.Queue.ALL] == 1
    assert counts[bm.Queue.TO_ACCEPT] == 1
