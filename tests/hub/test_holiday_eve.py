"""A holiday-eve night as a scenario file (issue 10, item 8): the calendar is in the file
(国庆 holidays and a 调休 Saturday), every deadline and escalation below is computed by hand,
and ``python -m hub.replay`` compares the escalations as well as the figures.

The eve is Wednesday 30 September 2026; 1–7 October are holidays and Saturday 10 October is
worked instead (调休). Working hours 08:30–12:00 and 13:30–17:30.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dispatch.models import Basis, Status, Step, Urgency
from dispatch.scenario import loads
from hub.replay import main, play_offline

SCENARIO = """
[scenario]
name = "holiday-eve"
date = 2026-09-30
start = "16:30"
end = "22:00"
holidays = [2026-10-01, 2026-10-02, 2026-10-03, 2026-10-04, 2026-10-05, 2026-10-06, 2026-10-07]
workdays = [2026-10-10]

[expect]
reported = 3
accepted = 1
closed = 0
closed_on_time = 0
returned = 0
reworked = 0
overdue = 1

# The police alert is urgent by the hall's rule: 5 wall minutes to accept, missed at 20:05.
[[expect.escalation]]
case = "alert"
at = "20:05:00"
level = "street"

[[step]]
at = "17:00:00"
do = "intake"
case = "garbage"
kind = "event"
category = "E0101"
source = "patrol"
title = "临河里垃圾堆放"
grid = "310115001002"

[[step]]
at = "17:05:00"
do = "accept"
case = "garbage"
by = "hall"

[[step]]
at = "17:10:00"
do = "dispatch"
case = "garbage"
by = "hall"
unit = "sanitation"

[[step]]
at = "17:20:00"
do = "intake"
case = "late"
kind = "event"
category = "E0101"
source = "hotline"
title = "望江路垃圾未清运"
grid = "310115001004"
reporter = "12345-0930-0001"

[[step]]
at = "20:00:00"
do = "intake"
case = "alert"
kind = "event"
category = "E0506"
source = "police"
title = "露天烧烤扰民（非警务类警情）"
grid = "310115001005"
"""


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC) - timedelta(hours=8)


async def test_a_holiday_eve_plays_on_the_files_calendar(tmp_path: Path) -> None:
    scenario = loads(SCENARIO)
    outcome = await play_offline(scenario, f"sqlite+aiosqlite:///{tmp_path / 'eve.db'}")
    assert outcome.refused == []
    case = {name: outcome.cases[hub_id] for name, hub_id in outcome.case_ids.items()}

    # 240 working minutes from Wednesday 17:10: 20 that evening, then the seven days off,
    # then 220 from Thursday 8 October 08:30 — the morning's 210 and 10 after lunch.
    result = case["garbage"].deadline(Step.RESULT)
    assert result is not None and result.basis is Basis.WORK_HOURS
    assert result.due == local(2026, 10, 8, 13, 40)

    # 30 working minutes from 17:20: 10 on the eve, 20 on 8 October.
    accept = case["late"].deadline(Step.ACCEPT)
    assert accept is not None and accept.due == local(2026, 10, 8, 8, 50)
    assert case["late"].status is Status.REPORTED and not accept.breached

    alert = case["alert"]
    assert alert.urgency is Urgency.URGENT
    assert alert.deadline(Step.ACCEPT).breached  # type: ignore[union-attr]
    assert str(alert.level) == "street"


def test_a_days_limit_starts_counting_the_day_after_the_clock_starts() -> None:
    """The start-day rule, deliberate: the day a clock starts never counts, whatever the hour
    (开始的当日不计入，自下一日开始计算 — the Civil Code's rule for periods counted in days). So a
    3-working-day limit started on the 调休 Saturday 10 October, even before opening, ends a
    working day later than one started on Friday evening, which that Saturday counts in."""
    from dispatch.calendar import WorkingCalendar
    from dispatch.config import CalendarSettings, Settings

    calendar = WorkingCalendar.from_settings(
        Settings(calendar=CalendarSettings(workdays=(datetime(2026, 10, 10).date(),)))
    )
    friday_evening = calendar.add_work_days(local(2026, 10, 9, 20), 3)
    saturday_early = calendar.add_work_days(local(2026, 10, 10, 6, 40), 3)
    assert friday_evening == local(2026, 10, 13, 17, 30)  # Sat 10, Mon 12, Tue 13
    assert saturday_early == local(2026, 10, 14, 17, 30)  # Mon 12, Tue 13, Wed 14


@pytest.mark.parametrize("wrong", [False, True])
def test_replay_compares_the_escalations_and_takes_a_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], wrong: bool
) -> None:
    text = SCENARIO.replace('at = "20:05:00"', 'at = "20:06:00"') if wrong else SCENARIO
    scenario = tmp_path / "eve.toml"
    scenario.write_text(text, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[escalation]\ntop = "district"\n', encoding="utf-8")
    code = main([str(scenario), "--config", str(config)])
    out = capsys.readouterr().out
    if wrong:
        assert code == 1
        assert "expected, not made: alert 20:06:00 street" in out
        assert "made, not expected: alert 20:05:00 street" in out
    else:
        assert code == 0, out
        assert "escalations 1  ok" in out


def test_replay_refuses_a_config_it_cannot_take(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "eve.toml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text("[sla]\nno_such_key = 1\n", encoding="utf-8")
    assert main([str(scenario), "--config", str(config)]) == 2
    assert "config" in capsys.readouterr().out
