"""Supervision figures: the standard rates, counted the way the assessment counts them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.metrics import (
    Figures,
    by_finder,
    by_grid,
    by_period,
    by_unit,
    by_worker,
    figures,
)
from dispatch.models import Basis, Case, Deadline, Kind, Source, Status, Step, Urgency

NOW = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
DAY = datetime(2026, 3, 16, 0, 0, tzinfo=UTC)


def case(
    n: int,
    status: Status = Status.CLOSED,
    *,
    source: Source = Source.PATROL,
    accepted: bool = True,
    on_time: bool | None = None,
    reworks: int = 0,
    returns: int = 0,
    due: datetime | None = None,
    callback: str | None = None,
    found_by: str | None = None,
    grid: str | None = "G1",
    unit: str | None = "enf1",
    staff: str | None = None,
    reported_at: datetime = DAY,
) -> Case:
    deadlines: tuple[Deadline, ...] = ()
    if due is not None:
        deadlines = (
            Deadline(step=Step.RESULT, start=DAY, due=due, limit_minutes=60, basis=Basis.WALL),
        )
    return Case(
        id=f"C{n}",
        kind=Kind.EVENT,
        category="E0101",
        source=source,
        urgency=Urgency.GENERAL,
        status=status,
        title="暴露垃圾",
        grid=grid,
        reported_at=reported_at,
        accepted_at=DAY if accepted else None,
        dispatched_at=DAY if accepted and status is not Status.ACCEPTED else None,
        callback=callback,
        found_by=found_by,
        owner_unit=unit,
        owner_staff=staff,
        on_time=on_time if status is Status.CLOSED else None,
        reworks=reworks,
        returns=returns,
        deadlines=deadlines,
    )


def test_the_district_closure_rate_from_the_source_material() -> None:
    # 70,830 of 73,342 accepted cases closed in eight months: 96.57 %.
    closed = case(0, Status.CLOSED, on_time=True)
    in_hand = case(1, Status.DISPATCHED)
    cases = [closed] * 70_830 + [in_hand] * (73_342 - 70_830)
    f = figures(cases, NOW)
    assert (f.accepted, f.closed) == (73_342, 70_830)
    assert f.closure_rate is not None
    assert round(f.closure_rate * 100, 2) == 96.57


def test_each_rate_has_its_own_denominator() -> None:
    f = Figures(
        accepted=200,
        closed=160,
        closed_on_time=120,
        reworked=8,
        returned=10,
        proactive=170,
        reported=250,
        dispatched=190,
        due_to_close=192,
        called_back=40,
        satisfied=37,
    )
    assert f.closure_rate == 0.8  # / accepted
    assert f.on_time_rate == 0.625  # / due to be closed (应结案), not / closed (0.75)
    assert f.rework_rate == 0.05  # / closed
    assert f.return_rate == 10 / 190  # / dispatched
    assert f.proactive_share == 0.68  # / reported
    assert f.satisfaction_rate == 0.925  # / called back
    assert f.validity_rate == 0.8  # accepted / reported


def test_no_cases_means_no_rate_not_zero_percent() -> None:
    f = figures([], NOW)
    assert f == Figures()
    assert None is f.closure_rate is f.on_time_rate is f.rework_rate
    assert None is f.return_rate is f.proactive_share is f.satisfaction_rate is f.validity_rate


def test_counting_follows_the_standard_definitions() -> None:
    cases = [
        case(1, Status.CLOSED, on_time=True),
        case(2, Status.CLOSED, on_time=False, reworks=1, source=Source.HOTLINE),
        case(3, Status.ON_SCENE, returns=2, source=Source.VIDEO, due=NOW - timedelta(minutes=1)),
        case(4, Status.DISPATCHED, source=Source.PHOTO, due=NOW + timedelta(minutes=1)),
        case(5, Status.REPORTED, accepted=False, source=Source.PHOTO, due=NOW - timedelta(hours=1)),
        case(6, Status.REJECTED, accepted=False, source=Source.HOTLINE),
        # Parked (挂账): its clocks stand still, so it is not overdue.
        case(7, Status.PARKED, due=NOW - timedelta(hours=1)),
    ]
    f = figures(cases, NOW)
    assert f == Figures(
        accepted=5,
        closed=2,
        closed_on_time=1,
        reworked=1,
        returned=1,
        overdue=2,
        proactive=3,
        reported=7,
        dispatched=5,  # 1, 2, 3, 4 and the parked 7 were sent to a unit
        due_to_close=3,  # 1 and 2 closed, 3 open past its deadline (5 was never accepted)
    )
    assert f.proactive_share == pytest.approx(3 / 7)
    assert f.on_time_rate == pytest.approx(1 / 3)  # closed-on-time / closed would say 1/2


def test_an_overdue_case_lowers_the_on_time_rate_as_the_assessment_counts_it() -> None:
    """Ten cases due by now: eight closed on time, one closed late, one still open and late."""
    cases = [case(n, on_time=True) for n in range(8)]
    cases += [case(8, on_time=False), case(9, Status.DISPATCHED, due=NOW - timedelta(hours=2))]
    cases += [case(10, Status.DISPATCHED, due=NOW + timedelta(hours=2))]  # not due yet
    f = figures(cases, NOW)
    assert (f.closed_on_time, f.due_to_close) == (8, 10)
    assert f.on_time_rate == 0.8
    assert f.closure_rate == pytest.approx(9 / 11)


def test_satisfaction_counts_the_callbacks_made() -> None:
    cases = [
        case(1, callback="satisfied"),
        case(2, callback="satisfied"),
        case(3, callback="unsatisfied"),
        case(4),  # closed, not called back (a patrol case is not)
    ]
    f = figures(cases, NOW)
    assert (f.called_back, f.satisfied) == (3, 2)
    assert f.satisfaction_rate == pytest.approx(2 / 3)


def test_each_grid_workers_reports_and_validity() -> None:
    cases = [
        case(1, found_by="w1"),
        case(2, Status.DISPATCHED, found_by="w1"),
        case(3, Status.REJECTED, accepted=False, found_by="w1"),  # not a valid report
        case(4, Status.VOIDED, accepted=False, found_by="w2"),
        case(5, source=Source.HOTLINE),  # nobody found it on patrol
    ]
    finders = by_finder(cases, NOW)
    assert {w: (f.reported, f.accepted) for w, f in finders.items()} == {
        "w1": (3, 2),
        "w2": (1, 0),
    }
    assert finders["w1"].validity_rate == pytest.approx(2 / 3)
    assert finders["w2"].validity_rate == 0.0


def test_figures_per_unit_grid_and_worker() -> None:
    cases = [
        case(1, unit="enf1", grid="G1", staff="p1", on_time=True),
        case(2, Status.DISPATCHED, unit="enf1", grid="G2", staff="p2"),
        case(3, unit="san", grid="G2", staff="p2", on_time=False),
        case(4, Status.ACCEPTED, unit=None, grid=None, staff=None),
    ]
    units = by_unit(cases, NOW)
    assert list(units) == ["enf1", "san"]
    assert (units["enf1"].closed, units["enf1"].accepted) == (1, 2)
    assert units["san"].on_time_rate == 0.0
    grids = by_grid(cases, NOW)
    assert {g: f.reported for g, f in grids.items()} == {"G1": 1, "G2": 2}
    workers = by_worker(cases, NOW)
    assert {w: f.closure_rate for w, f in workers.items()} == {"p1": 1.0, "p2": 0.5}


def test_by_period_counts_cases_reported_in_the_half_open_range() -> None:
    start, end = DAY, DAY + timedelta(hours=3)
    cases = [
        case(1, reported_at=start - timedelta(seconds=1)),
        case(2, reported_at=start),
        case(3, reported_at=start + timedelta(minutes=59)),
        case(4, reported_at=start + timedelta(hours=2, minutes=30)),
        case(5, reported_at=end),
    ]
    assert {k: f.reported for k, f in by_period(cases, start, end, NOW).items()} == {
        start.isoformat(): 3
    }
    hourly = by_period(cases, start, end, NOW, step=timedelta(hours=1))
    assert [f.reported for f in hourly.values()] == [2, 0, 1]
    assert list(hourly)[1] == (start + timedelta(hours=1)).isoformat()


def test_by_period_cuts_the_last_period_at_the_end() -> None:
    start, end = DAY, DAY + timedelta(minutes=150)
    periods = by_period(
        [case(1, reported_at=start + timedelta(minutes=140))],
        start,
        end,
        NOW,
        step=timedelta(hours=1),
    )
    assert [f.reported for f in periods.values()] == [0, 0, 1]
    assert by_period([], end, start, NOW) == {}
