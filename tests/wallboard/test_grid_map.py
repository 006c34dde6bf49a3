"""The map's hook for patrol tracks: empty today (no line drawn), and a track handed in is
drawn as fading segments and replaced, not piled up, on the next frame."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtWidgets import QApplication

from dispatch.calendar import WorkingCalendar
from dispatch.config import Settings
from dispatch.models import Point
from hub.demo_city import demo_city
from wallboard.grid_map import GridMapPanel
from wallboard.wall_model import WallModel
from wallboard.words import identity


def test_tracks_are_drawn_only_when_there_are_some(qt_app: QApplication) -> None:
    city = demo_city()
    wall = WallModel(
        tz=ZoneInfo("Asia/Shanghai"), calendar=WorkingCalendar.from_settings(Settings())
    )
    wall.replace([], city.staff, city.units, city.areas, datetime(2026, 3, 16, 2, tzinfo=UTC))
    panel = GridMapPanel(identity, None, 1280)
    panel.show_data(wall.data())
    assert panel.track_lines == 0
    assert panel.grid_label("310115001001") == "梧桐苑网格\nopen 0"
    walk = [Point(lon=121.494 + i * 0.0005, lat=31.206) for i in range(11)]
    wall.tracks = [("S001", walk)]
    panel.show_data(wall.data())
    assert panel.track_lines >= 3  # older parts fainter, in segments
    drawn = panel.track_lines
    panel.show_data(wall.data())
    assert panel.track_lines == drawn
