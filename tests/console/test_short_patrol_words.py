"""The short-patrol alert reads in the operator's language (the console's notification and
its history line) and in the hand-over's short-patrols table."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from backend_client.hall_model import HallModel
from console.handover_text import ReportWords, section_table
from console.i18n import Language
from console.wording import Wording
from dispatch.catalog import Catalog
from dispatch.handover import Section, build
from dispatch.models import Duty, Shift, Staff
from dispatch.patrol_alert import short_patrol_alerts
from dispatch.tracks import PatrolDay

AT = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
DAY = date(2026, 11, 23)
WORKER = Staff(id="S010", name="王建国", unit="jw-1", role="网格员", shift=Shift.DAY,
               grids=("g1",), duty=Duty.ON_DUTY)  # fmt: skip
ALERT = short_patrol_alerts(
    DAY, [WORKER],
    {"S010": PatrolDay(staff="S010", day=DAY, points=21, patrol_minutes=22.0,
                       inside_minutes=20.0, short=True)},
    240, AT, rota=False, alerted=set(),
)[0]  # fmt: skip


def _words(locale: str) -> Wording:
    model = HallModel()
    model.staff["S010"] = WORKER
    return Wording(Language(locale), Catalog.default(), model)


def test_the_alert_names_the_worker_the_day_and_the_minutes_in_both_languages() -> None:
    zh = "巡查有效时间短：王建国（2026-11-23）网格内 20 分钟，低于 240 分钟（轨迹共 22 分钟）"
    assert _words("zh_CN").short_patrol(ALERT) == zh
    assert _words("zh_CN").history(ALERT) == zh
    en = "Short patrol: 王建国 on 2026-11-23, 20 of 240 min inside the grid (22 min tracked)"
    assert _words("en").short_patrol(ALERT) == en


def test_the_handover_table_lists_it() -> None:
    report = build([], [ALERT], AT.replace(hour=1), AT)
    rw = ReportWords(_words("zh_CN"), ZoneInfo("Asia/Shanghai"), {})
    heads, rows = section_table(Section.PATROLS, report, rw)
    assert heads == ("日期", "人员", "单位", "网格内（分钟）", "最低要求（分钟）")
    assert rows[0][0:2] == ("2026-11-23", "王建国") and rows[0][3:] == ("20", "240")
