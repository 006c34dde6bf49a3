"""A new case's default urgency from the hall's intake rules, and the urgent on-site check on
the wall clock (issue 10: police alerts urgent out of the box, per-category overrides; an urgent
case reported back late on Friday is checked that evening, not on Monday)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from conftest import Flow, local, make_hall

from dispatch.catalog import Catalog
from dispatch.commands import Accept, Arrive, Dispatch, ReportBack
from dispatch.config import IntakeSettings, Settings, parse_settings
from dispatch.errors import Refusal
from dispatch.hall import Hall
from dispatch.models import Basis, Kind, Source, Step, Urgency


def flow_with(**intake: object) -> Flow:
    return Flow(make_hall(Settings(intake=IntakeSettings(**intake))))  # type: ignore[arg-type]


def test_police_alert_is_urgent_out_of_the_box(flow: Flow) -> None:
    police = flow.intake(source=Source.POLICE, title="非警务类警情：占道")
    patrol = flow.intake(source=Source.PATROL, title="垃圾堆放")
    assert police.urgency is Urgency.URGENT
    assert police.deadline(Step.ACCEPT).basis is Basis.WALL
    assert patrol.urgency is Urgency.GENERAL


def test_urgent_sources_are_the_halls_choice() -> None:
    flow = flow_with(urgent_sources=(Source.VIDEO,))
    assert flow.intake(source=Source.VIDEO).urgency is Urgency.URGENT
    assert flow.intake(source=Source.POLICE).urgency is Urgency.GENERAL


def test_a_category_override_beats_source_and_catalog() -> None:
    flow = flow_with(category_urgency={"E0101": Urgency.URGENT, "0101": Urgency.GENERAL})
    assert flow.intake(category="E0101").urgency is Urgency.URGENT
    # 0101 is urgent in the catalog and police is an urgent source: the override still wins.
    manhole = flow.intake(kind=Kind.COMPONENT, category="0101", source=Source.POLICE)
    assert manhole.urgency is Urgency.GENERAL


def test_the_urgency_an_intake_states_wins(flow: Flow) -> None:
    stated = flow.intake(source=Source.POLICE, urgency=Urgency.GENERAL)
    assert stated.urgency is Urgency.GENERAL


def test_an_override_for_an_unknown_category_is_refused() -> None:
    settings = parse_settings('[intake]\ncategory_urgency = { "9999" = "urgent" }\n')
    with pytest.raises(Refusal) as err:
        Hall.of(settings, Catalog.default())
    assert err.value.detail == "config_invalid"
    assert "9999" in str(err.value.params)


def test_a_bad_urgency_word_is_refused_when_parsed() -> None:
    with pytest.raises(Refusal) as err:
        parse_settings('[intake]\ncategory_urgency = { "E0101" = "very" }\n')
    assert err.value.detail == "config_invalid"


def _reported_back_at(flow: Flow, when: object, **intake: object) -> tuple[object, object]:
    case = flow.intake(**intake)
    case = flow.do(case, Accept)
    case = flow.do(case, Dispatch, unit="ENF")
    if case.urgency is Urgency.URGENT:
        case = flow.do(case, Arrive)
    flow.now = when  # type: ignore[assignment]
    case = flow.do(case, ReportBack, reason="已清理")
    return case, case.deadline(Step.CHECK)


def test_urgent_check_runs_on_the_wall_clock_over_a_weekend(flow: Flow) -> None:
    friday_late = local(2026, 11, 27, 17, 20)  # Friday, ten minutes before the close
    flow.now = friday_late - timedelta(minutes=30)
    _, urgent = _reported_back_at(flow, friday_late, source=Source.POLICE)
    assert urgent.basis is Basis.WALL
    assert urgent.due == local(2026, 11, 27, 19, 20)  # 120 wall minutes: that evening
    flow.now = friday_late - timedelta(minutes=30)
    _, general = _reported_back_at(flow, friday_late)
    assert general.basis is Basis.WORK_HOURS
    # 10 working minutes on Friday, 110 on Monday from 08:30.
    assert general.due == local(2026, 11, 30, 10, 20)


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('auto_dispatch_sources = ["photo"]', "photo"),  # verified first by default
        ('auto_dispatch_categories = ["E9999"]', "E9999"),
    ],
)
def test_auto_dispatch_rules_that_cannot_hold_are_refused(toml: str, named: str) -> None:
    settings = parse_settings(f"[intake]\n{toml}\n")
    with pytest.raises(Refusal) as err:
        Hall.of(settings, Catalog.default())
    assert err.value.detail == "config_invalid"
    assert named in str(err.value.params)
