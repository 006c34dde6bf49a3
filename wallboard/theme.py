"""The wall's looks in one place: a dark hall screen, large type, traffic-light colours.

Sizes are pixels at 1920×1080 (the hall's screen); :func:`scaled` shrinks them for a smaller
export so a thumbnail keeps the same proportions.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Final

from dispatch.models import Level
from dispatch.sla import Colour

BACKGROUND: Final = "#08111f"
PANEL: Final = "#0f1d33"
PANEL_EDGE: Final = "#1f3556"
TEXT: Final = "#e8eef8"
MUTED: Final = "#8ea3c2"
ACCENT: Final = "#38bdf8"
INTAKE: Final = "#38bdf8"
CLOSED: Final = "#34d399"
LAST_WEEK: Final = "#94a3b8"

LIGHT: Final[dict[Colour, str]] = {"green": "#22c55e", "amber": "#f59e0b", "red": "#ef4444"}
"""The traffic light (DESIGN.md §1): always shown with the numbers, never colour alone."""

LEVEL_COLOUR: Final[dict[Level, str]] = {
    Level.COMMUNITY: "#38bdf8",
    Level.STREET: "#a78bfa",
    Level.DISTRICT: "#f59e0b",
    Level.LEADERSHIP: "#ef4444",
}

STAFF_ON_DUTY: Final = "#facc15"
STAFF_OFF: Final = "#64748b"
URGENT_MARK: Final = "#ff3b3b"

BASE_WIDTH: Final = 1920


def scaled(pixels: int, width: int) -> int:
    """``pixels`` at 1920 wide, for a wall ``width`` wide (never under 6)."""
    return max(6, round(pixels * width / BASE_WIDTH))


def grid_fill(open_cases: int, most: int) -> str:
    """A grid's shade: deeper red the more open cases it holds relative to the busiest."""
    if open_cases <= 0 or most <= 0:
        return "#12304d"
    share = min(1.0, open_cases / most)
    # From a calm blue-grey to a strong red, through amber.
    stops = ((0.0, (30, 64, 96)), (0.5, (180, 110, 30)), (1.0, (200, 40, 40)))
    for (a, ca), (b, cb) in pairwise(stops):
        if share <= b:
            t = (share - a) / (b - a)
            r, g, bl = (round(x + (y - x) * t) for x, y in zip(ca, cb, strict=True))
            return f"#{r:02x}{g:02x}{bl:02x}"
    return "#c82828"
