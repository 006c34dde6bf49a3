"""The seeded day generator: the same seed gives the same text, a generated day looks like a
district hall's day (volume, sources, categories, urgency, closure), and every step it writes is
one the demo city and the scenario format accept. Replaying it through the hub is
tests/hub/test_generated_day.py."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta

import pytest

from dispatch.calendar import WorkingCalendar
from dispatch.catalog import Catalog
from dispatch.commands import Dispatch, Intake, Reassign
from dispatch.config import Settings
from dispatch.hall import Hall
from dispatch.intake_rules import default_urgency
from dispatch.models import Shift, Source, Step, Urgency
from dispatch.scenario import Scenario, check_city, dumps, loads, make_step, parse_time
from dispatch.scenario import Step as ScenarioStep
from dispatch.scenario_gen import DayParams, GeneratorError, day_sources, generate
from dispatch.scenario_plan import MARGIN, CaseSpec, Crew, Day, Sim, TooClose
from hub.demo_city import demo_city

CATALOG = Catalog.default()
SETTINGS = Settings()


def _hall() -> Hall:
    city = demo_city()
    return Hall(
        settings=SETTINGS,
        catalog=CATALOG,
        calendar=WorkingCalendar.from_settings(SETTINGS),
        areas={a.code: a for a in city.areas},
        units={u.id: u for u in city.units},
        staff={s.id: s for s in city.staff},
    )


def _day(**params: object) -> Scenario:
    return generate(DayParams(**params), city=demo_city(), catalog=CATALOG, settings=SETTINGS)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def days() -> list[Scenario]:
    """Three default days (seeds 1–3): one for most checks, all three for the calibration."""
    return [_day(seed=seed) for seed in (1, 2, 3)]


@pytest.fixture(scope="module")
def text(days: list[Scenario]) -> str:
    """The first day as written to a file."""
    return dumps(days[0])


def _intakes(*scenarios: Scenario) -> list[Intake]:
    return [s.template for sc in scenarios for s in sc.steps if isinstance(s.template, Intake)]


def _urgent(intake: Intake) -> bool:
    """Urgent as the hub will make it: stated, or by the default intake rules."""
    rules = Settings().intake
    return (
        intake.urgency or default_urgency(CATALOG.get(intake.category), intake.source, rules)
    ) is Urgency.URGENT


def _ops(scenario: Scenario) -> Counter[str]:
    return Counter(s.do for s in scenario.steps)


# --- determinism and the format -------------------------------------------------------------------


def test_the_same_seed_writes_the_same_text_and_another_seed_another(
    days: list[Scenario], text: str
) -> None:
    assert dumps(_day(seed=1)) == text
    assert days[1].steps != days[0].steps


def test_the_text_does_not_depend_on_the_interpreters_hash_seed() -> None:
    """No set or dict order leaks into the day: two interpreters hashing differently agree."""
    code = (
        "import hashlib\n"
        "from dispatch.catalog import Catalog\n"
        "from dispatch.config import Settings\n"
        "from dispatch.scenario import dumps\n"
        "from dispatch.scenario_gen import DayParams, generate\n"
        "from hub.demo_city import demo_city\n"
        "day = generate(DayParams(seed=9, cases=60), city=demo_city(), catalog=Catalog.default(),"
        " settings=Settings())\n"
        "print(hashlib.sha256(dumps(day).encode()).hexdigest())\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(digests) == 1


def test_a_generated_day_reads_back_as_the_same_scenario(days: list[Scenario], text: str) -> None:
    assert loads(text) == days[0]


def test_every_step_names_someone_and_something_in_the_demo_city(days: list[Scenario]) -> None:
    check_city(days[0], _hall())


def test_a_hall_works_as_the_city_as_well_as_its_lists(days: list[Scenario]) -> None:
    from_hall = generate(DayParams(seed=1), city=_hall(), catalog=CATALOG, settings=SETTINGS)
    assert from_hall == days[0]


def test_the_header_records_the_seed_and_parameters_that_made_the_day(
    days: list[Scenario],
) -> None:
    header = days[0].header
    assert (header.seed, header.date, header.start, header.end) == (1, date(2026, 11, 23),
                                                                    "00:00", "24:00")  # fmt: skip
    assert header.generator["cases"] == 300
    assert header.generator["sources"] == {"patrol": 0.45, "hotline": 0.25, "photo": 0.15,
                                           "video": 0.1, "police": 0.05}  # fmt: skip


# --- calibration ----------------------------------------------------------------------------------


def test_a_day_brings_about_three_hundred_cases(days: list[Scenario]) -> None:
    for day in days:
        assert day.cases == 300
        assert day.expect is not None and day.expect.reported == 300


def test_patrols_and_cameras_find_85_percent_first(days: list[Scenario]) -> None:
    """盈浦's target, 先行发现率达85%: the default day is calibrated on it."""
    intakes = _intakes(*days)
    counts = Counter(i.source for i in intakes)
    ranking = [source for source, _ in counts.most_common()]
    assert ranking[:2] == [Source.PATROL, Source.VIDEO]
    share = {source: n / len(intakes) for source, n in counts.items()}
    assert share[Source.PATROL] + share[Source.VIDEO] == pytest.approx(0.85, abs=0.03)
    assert share[Source.HOTLINE] > share[Source.PHOTO] > share[Source.POLICE]
    found = [i for i in intakes if i.source is Source.PATROL]
    assert all(i.found_by is not None for i in found)  # each patrol case has its grid worker
    assert all(i.found_by is None for i in intakes if i.source is not Source.PATROL)


def test_found_first_is_a_parameter_and_none_keeps_the_sources_as_given() -> None:
    as_given = day_sources(DayParams(found_first=None))
    assert dict(as_given)[Source.PATROL] == pytest.approx(0.45)
    half = dict(day_sources(DayParams(found_first=0.5)))
    assert half[Source.PATROL] + half[Source.VIDEO] == pytest.approx(0.5)
    assert half[Source.PATROL] / half[Source.VIDEO] == pytest.approx(4.5)  # their own mix
    assert sum(half.values()) == pytest.approx(1.0)


def test_street_order_city_appearance_and_public_facilities_dominate(
    days: list[Scenario],
) -> None:
    intakes = _intakes(*days)
    bigs = Counter(CATALOG.get(i.category).big_name for i in intakes)
    top = [name for name, _ in bigs.most_common(3)]
    assert set(top) == {"街面秩序", "市容环境", "公用设施"}
    assert sum(bigs[name] for name in top) / len(intakes) > 0.55


def test_a_few_percent_are_urgent_and_police_alerts_always(days: list[Scenario]) -> None:
    intakes = _intakes(*days)
    share = sum(map(_urgent, intakes)) / len(intakes)
    assert 0.04 <= share <= 0.10
    assert all(_urgent(i) for i in intakes if i.source is Source.POLICE)


def test_arrivals_peak_morning_and_afternoon_and_quieten_at_night(days: list[Scenario]) -> None:
    hours = Counter(
        int(s.at.total_seconds()) // 3600 for day in days for s in day.steps if s.do == "intake"
    )
    night = sum(hours[h] for h in range(6)) / 6
    assert hours[10] > 5 * night and hours[15] > 5 * night
    assert hours[12] < hours[10] and hours[12] < hours[15]  # the lunch dip


def test_about_ninety_seven_percent_of_accepted_cases_are_closed(days: list[Scenario]) -> None:
    for day in days:
        assert day.expect is not None and day.expect.accepted and day.expect.closed
        assert day.expect.accepted < day.cases  # a few are rejected at intake
        assert day.expect.closed / day.expect.accepted == pytest.approx(0.97, abs=0.012)


def test_slow_units_miss_deadlines_and_the_hub_escalates_them(days: list[Scenario]) -> None:
    for day in days:
        assert day.expect is not None and day.expect.closed and day.expect.closed_on_time
        assert len(day.expect.escalation) >= 5
        assert 0.85 <= day.expect.closed_on_time / day.expect.closed < 1


def test_a_day_takes_every_side_way_of_the_workflow(days: list[Scenario]) -> None:
    ops = _ops(days[0])
    for op in ("verify", "accept", "dispatch", "acknowledge", "arrive", "report_back", "check",
               "close", "callback", "reject", "request_return", "approve", "reassign", "joint",
               "urge", "staff_status", "shift_change"):  # fmt: skip
        assert ops[op] > 0, op
    failed = [s for s in days[0].steps if s.do == "check" and not s.template.passed]  # type: ignore[attr-defined]
    assert failed
    assert days[0].expect is not None and days[0].expect.returned and days[0].expect.reworked


def test_the_flow_follows_settings_on_verification(days: list[Scenario]) -> None:
    verified = {s.case for s in days[0].steps if s.do == "verify"}
    sources = {s.case: s.template.source for s in days[0].steps if isinstance(s.template, Intake)}
    assert {sources[c] for c in verified} == {Source.PHOTO, Source.HOTLINE}
    no_verify = Settings(intake=SETTINGS.intake.__class__(verify_sources=()))
    day = generate(DayParams(seed=1, cases=60), city=demo_city(), catalog=CATALOG,
                   settings=no_verify)  # fmt: skip
    assert _ops(day)["verify"] == 0


# --- shifts and people ----------------------------------------------------------------------------


def _shift_changes(day: Scenario) -> list[tuple[timedelta, Shift]]:
    return [(s.at, s.template.to) for s in day.steps if s.do == "shift_change"]  # type: ignore[attr-defined]


def test_the_hall_goes_to_standby_at_half_past_five(days: list[Scenario]) -> None:
    assert _shift_changes(days[0]) == [
        (parse_time("00:00"), Shift.STANDBY),  # the night before the day shift
        (parse_time("08:30"), Shift.DAY),
        (parse_time("17:30"), Shift.STANDBY),
    ]
    afternoon = _day(seed=4, cases=120, start="12:00", end="20:00")
    assert _shift_changes(afternoon) == [(parse_time("17:30"), Shift.STANDBY)]


def _dispatched_staff(day: Scenario) -> list[tuple[ScenarioStep, str]]:
    return [
        (s, s.template.staff)
        for s in day.steps
        if isinstance(s.template, Dispatch | Reassign) and s.template.staff is not None
    ]


def test_after_hours_only_standby_people_are_sent(days: list[Scenario]) -> None:
    roster = {p.id: p for p in demo_city().staff}
    night = _day(seed=5, start="18:00", end="30:00", after_hours=True)
    assert _shift_changes(night) == [(parse_time("18:00"), Shift.STANDBY)]
    sent = _dispatched_staff(night)
    assert sent and all(roster[staff].shift is Shift.STANDBY for _, staff in sent)
    day_sent = [(s, p) for s, p in _dispatched_staff(days[0])
                if parse_time("08:30") <= s.at < parse_time("17:30")]  # fmt: skip
    assert day_sent and all(roster[staff].shift is Shift.DAY for _, staff in day_sent)


def test_people_report_going_arriving_and_free_again(days: list[Scenario]) -> None:
    statuses = [s for s in days[0].steps if s.do == "staff_status"]
    fields = Counter(s.template.field for s in statuses)  # type: ignore[attr-defined]
    assert fields["en_route"] and fields["on_scene"] and fields["available"]
    moved = [s for s in statuses if s.template.position is not None]  # type: ignore[attr-defined]
    assert moved and all(s.by == s.template.staff for s in statuses)  # type: ignore[attr-defined]


def test_a_person_works_one_case_at_a_time(days: list[Scenario]) -> None:
    """Between going out for a case and being free again (or going off shift at a hand-over,
    which takes everyone off the field), nobody is sent out on another."""
    out: dict[str, str] = {}
    for step in days[0].steps:
        if step.do == "shift_change":
            out.clear()
        if step.do != "staff_status":
            continue
        staff, field = step.template.staff, step.template.field  # type: ignore[attr-defined]
        if field == "en_route":
            assert staff not in out, f"{staff} sent out again at {step.where}"
            out[staff] = step.where
        elif field == "available":
            out.pop(staff, None)


# --- parameters -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "18:00", "end": "08:00"}, "must come after"),
        ({"end": "25:61"}, "start/end"),
        ({"demo_from": "9h30"}, "demo_from: time '9h30'"),
        ({"start": "08:00", "end": "12:00", "demo_from": "13:00"}, "demo_from 13:00 is outside"),
        ({"cases": -1}, "cases"),
        ({"urgent_share": 1.5}, "urgent_share"),
        ({"sources": ()}, "sources"),
        ({"sources": ((Source.PATROL, -1.0),)}, "sources"),
        ({"sources": (("drone", 1.0),)}, "unknown source"),
    ],
)
def test_parameters_that_make_no_day_are_a_clear_error(
    params: dict[str, object], message: str
) -> None:
    with pytest.raises(GeneratorError, match=message):
        _day(**params)


def test_a_window_gets_its_share_of_the_days_cases() -> None:
    evening = _day(seed=6, start="18:00", end="24:00")
    assert 20 <= evening.cases <= 60  # the evening tail of a 300-case day
    assert _day(seed=6, cases=0).cases == 0


# --- the margin that makes the expectation robust -------------------------------------------------


def test_a_step_too_close_to_a_live_deadline_voids_the_plan(days: list[Scenario]) -> None:
    """The planner re-draws any case whose step lies within MARGIN of one of its deadlines, so
    the hub breaches each deadline clearly before or after the step, never at the same time."""
    hall = _hall()
    day = Day(hall=hall, frame=days[0], end=parse_time("24:00"),
              crew=Crew(hall, Shift.DAY, []))  # fmt: skip
    intake = {"kind": "event", "category": "E0501", "source": "patrol", "title": "占道经营",
              "grid": next(iter(sorted(hall.areas)))}  # fmt: skip
    spec = CaseSpec(at=parse_time("10:00"), intake=intake)
    sim = Sim(day)
    sim.feed(make_step(1, spec.at, "intake", case="c", **intake))
    due = sim.due(Step.ACCEPT)
    assert due == parse_time("10:30")  # 30 working minutes to accept
    with pytest.raises(TooClose):
        sim.feed(make_step(2, due - MARGIN + timedelta(minutes=1), "accept", by="hall", case="c"))
    sim.feed(make_step(2, due - MARGIN, "accept", by="hall", case="c"))
    assert sim.case is not None and sim.case.accepted_at is not None
