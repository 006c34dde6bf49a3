"""Panel: the street's grid map — each grid a polygon shaded by its open cases, staff as dots
at their last position, urgent cases as blinking rings, and (a hook, empty until the hub
stores them) the day's patrol tracks fading from old to new.

Positions are WGS-84 degrees; the map draws longitude scaled by cos(latitude) so a street
block keeps its shape (an equirectangular projection is exact enough over a few kilometres).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from math import cos, radians

import pyqtgraph as pg
from PySide6.QtCore import QPointF
from PySide6.QtGui import QBrush, QColor, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsPolygonItem

from dispatch.models import Point
from wallboard import theme
from wallboard.fonts import wall_font
from wallboard.panel import Panel
from wallboard.wall_model import GridShade, Track, WallData
from wallboard.words import Translate


class GridMapPanel(Panel):
    def __init__(self, tr: Translate, family: str | None, width: int) -> None:
        super().__init__(tr("Grid map: open cases, staff, urgent cases"), family, width)
        self.open_word = tr("open")
        self.chart = self.plot()
        self.chart.hideAxis("left")
        self.chart.hideAxis("bottom")
        self.chart.setAspectLocked(True)
        self.legend = self.chart.addLegend(offset=(10, 10), labelTextSize=f"{self.px(16)}pt")
        self.legend.setLabelTextColor(theme.TEXT)
        self.staff = pg.ScatterPlotItem(size=self.px(11), pen=pg.mkPen("#0b1220", width=1))
        self.urgent = pg.ScatterPlotItem(
            size=self.px(34), brush=None, pen=pg.mkPen(theme.URGENT_MARK, width=self.px(5))
        )
        self.urgent.setZValue(30)
        self.staff.setZValue(20)
        self.chart.addItem(self.staff)
        self.chart.addItem(self.urgent)
        on = pg.ScatterPlotItem(brush=theme.STAFF_ON_DUTY, size=self.px(11))
        off = pg.ScatterPlotItem(brush=theme.STAFF_OFF, size=self.px(11))
        self.legend.addItem(on, tr("staff on duty"))
        self.legend.addItem(off, tr("staff off duty"))
        ring = pg.ScatterPlotItem(
            brush=None, size=self.px(16), pen=pg.mkPen(theme.URGENT_MARK, width=self.px(3))
        )
        self.legend.addItem(ring, tr("urgent case"))
        self.add(self.chart)
        self._polygons: dict[str, QGraphicsPolygonItem] = {}
        self._names: dict[str, pg.TextItem] = {}
        self._tracks: list[pg.PlotDataItem] = []
        self._outlines: tuple[tuple[str, tuple[Point, ...]], ...] = ()
        self._scale = 1.0
        self._blink_on = True
        self._dots: tuple[tuple[Point, bool], ...] = ()
        self._rings: tuple[Point, ...] = ()
        self._shades: dict[str, tuple[str, str]] = {}

    # --- drawing -------------------------------------------------------------------------

    def show_data(self, data: WallData) -> None:
        outlines = tuple((g.code, g.outline) for g in data.grids if g.outline)
        if outlines != self._outlines:
            self._build(data.grids)
            self._outlines = outlines
            self._shades = {}
        most = max((g.open_cases for g in data.grids), default=0)
        for grid in data.grids:
            fill = theme.grid_fill(grid.open_cases, most)
            text = f"{grid.name}\n{self.open_word} {grid.open_cases}"
            if self._shades.get(grid.code) == (fill, text):
                continue
            self._shades[grid.code] = (fill, text)
            polygon = self._polygons.get(grid.code)
            if polygon is not None:
                polygon.setBrush(QBrush(QColor(fill)))
            name = self._names.get(grid.code)
            if name is not None:
                name.setText(text)
        # The scatter items rebuild every spot on setData: only when a dot moved or changed.
        dots = tuple((d.position, d.on_duty) for d in data.staff)
        if dots != self._dots:
            self._dots = dots
            self.staff.setData(
                x=[self._x(p) for p, _ in dots],
                y=[p.lat for p, _ in dots],
                brush=[theme.STAFF_ON_DUTY if on else theme.STAFF_OFF for _, on in dots],
            )
        rings = tuple(data.urgent_points)
        if rings != self._rings:
            self._rings = rings
            self.urgent.setData(x=[self._x(p) for p in rings], y=[p.lat for p in rings])
        self.show_tracks(data.tracks)

    def grid_label(self, code: str) -> str:
        """What the map writes on grid ``code`` (its name and open count); "" if not drawn."""
        label = self._names.get(code)
        return label.textItem.toPlainText() if label is not None else ""

    @property
    def track_lines(self) -> int:
        """How many track segments the map draws now."""
        return len(self._tracks)

    def show_tracks(self, tracks: Iterable[Track]) -> None:
        """The day's patrol tracks, each person's line fading from faint (morning) to bright
        (now). The hook for the hub's stored tracks; the wall model hands an empty list until
        the hub reports positions."""
        for item in self._tracks:
            self.chart.removeItem(item)
        self._tracks = []
        for _, points in tracks:  # empty until the hub stores tracks: nothing drawn
            self._tracks.extend(self._fading(points))

    def blink(self, on: bool | None = None) -> None:
        """Urgent rings on, off, on …: called by the window's blink timer (``on``: set it)."""
        self._blink_on = (not self._blink_on) if on is None else on
        self.urgent.setVisible(self._blink_on)

    # --- building ------------------------------------------------------------------------

    def _build(self, grids: Sequence[GridShade]) -> None:
        for polygon in self._polygons.values():
            self.chart.removeItem(polygon)
        for name in self._names.values():
            self.chart.removeItem(name)
        self._polygons, self._names = {}, {}
        lats = [p.lat for g in grids for p in g.outline]
        self._scale = cos(radians(sum(lats) / len(lats))) if lats else 1.0
        edge = QPen(QColor("#9fb6d8"))
        edge.setCosmetic(True)  # the border's width in pixels, whatever the zoom
        edge.setWidthF(max(1.5, self.px(3)))
        for grid in grids:
            if not grid.outline:
                continue
            ring = QPolygonF([QPointF(self._x(p), p.lat) for p in grid.outline])
            polygon = QGraphicsPolygonItem(ring)
            polygon.setPen(edge)
            polygon.setZValue(-10)
            self.chart.addItem(polygon)
            self._polygons[grid.code] = polygon
            label = pg.TextItem(
                "", color=theme.TEXT, anchor=(0.5, 0.5), fill=pg.mkBrush(8, 17, 31, 170)
            )
            label.setFont(wall_font(self.family, self.px(22), bold=True))
            label.setZValue(25)  # above the dots: the name stays readable
            middle = _middle(grid.outline)
            label.setPos(self._x(middle), middle.lat)
            self.chart.addItem(label)
            self._names[grid.code] = label
        if lats:
            xs = [self._x(p) for g in grids for p in g.outline]
            self.chart.setXRange(min(xs), max(xs), padding=0.04)
            self.chart.setYRange(min(lats), max(lats), padding=0.04)

    def _fading(self, points: Sequence[Point]) -> list[pg.PlotDataItem]:
        """A track in a few segments, older ones fainter."""
        parts = 5
        out = []
        step = max(1, len(points) // parts)
        for i in range(0, max(0, len(points) - 1), step):
            chunk = points[i : i + step + 1]
            alpha = int(40 + 200 * (i + step) / max(1, len(points)))
            colour = QColor(theme.STAFF_ON_DUTY)
            colour.setAlpha(min(255, alpha))
            item = pg.PlotDataItem(
                [self._x(p) for p in chunk],
                [p.lat for p in chunk],
                pen=pg.mkPen(colour, width=self.px(3)),
            )
            item.setZValue(15)
            self.chart.addItem(item)
            out.append(item)
        return out

    def _x(self, point: Point) -> float:
        return point.lon * self._scale


def _middle(ring: Sequence[Point]) -> Point:
    """Where a grid's name goes: the mean of its outline's points."""
    return Point(lon=sum(p.lon for p in ring) / len(ring), lat=sum(p.lat for p in ring) / len(ring))
