"""Partial screen updates that send only the refreshed cells (issue 11, item 6: thin links).

A widget that refreshes part of itself (``refresh(Region(...))``: a countdown cell, the hub
clock) marks only that region dirty, and Textual renders only the lines it touches — but its
``ChopsUpdate.render_segments`` (textual 8.x; upstream textualize/textual#5625, "not cropping to
the region start") writes each touched line from the *left edge of the widget* to the region's
right edge. A countdown at column 150 of the detail pane costs the whole pane's line, every
second, on every SSH link.

:func:`install` replaces that one method with one that also skips, on the left, the whole
segments that end before the region starts. It never splits a segment, so a wide (CJK)
character is never cut in half and the cursor lands where the first sent segment begins —
the same rule Textual's own ``ChopsUpdate.__rich_console__`` follows. Widgets that want cheap
ticks draw their changing text as segments of their own (see ``widgets/countdown_strip.py``).

Installed by the console's app factory, not at import: nothing changes for a process that
only imports the package.
"""

from __future__ import annotations

from rich.console import Console
from rich.control import Control
from textual._compositor import ChopsUpdate

_original = ChopsUpdate.render_segments


def render_segments(self: ChopsUpdate, console: Console) -> str:
    """The update as terminal data: per dirty span, the segments of each chop (a widget's
    part of the line) from the one holding the span's start to the span's end."""
    sequences: list[str] = []
    append = sequences.append
    move_to = Control.move_to
    chops = self.chops
    chop_ends = self.chop_ends
    last_y = self.spans[-1][0]
    for y, x1, x2 in self.spans:
        line = chops[y]
        ends = chop_ends[y]
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if strip is None or x >= x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                append(move_to(x, y).segment.text)
                append(strip.render(console))
                continue
            strip = strip.crop(0, min(end, x2) - x)
            if x < x1:
                skip = 0
                for segment in strip:
                    width = segment.cell_length
                    if x + skip + width > x1:
                        break
                    skip += width
                if skip:
                    strip = strip.crop(skip)
                    x += skip
            append(move_to(x, y).segment.text)
            append(strip.render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> None:
    """Send partial updates cropped to their regions (idempotent)."""
    ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]


def uninstall() -> None:
    """Textual's own behaviour again (tests compare the two)."""
    ChopsUpdate.render_segments = _original  # type: ignore[method-assign]
