"""The console in a 16-colour terminal (``TERM=xterm`` over SSH, a Linux console).

Textual draws in true colour and, on a terminal that has only the 16 ANSI colours, maps each
theme colour to the nearest one: the default theme's amber (#ffa62b) and red (#ba3c5b) both
become red, so the traffic light loses its middle, and the cyan the cursor row gets leaves a
red or green countdown hard to read. In such a terminal the console uses :data:`SIXTEEN`, a
theme made of ANSI colours themselves: green, yellow and red are three hues, the cursor row is
blue with bright white text, on which each of the three stays legible (red is drawn as a red
background, see the widgets' ``.tcss``).
"""

from __future__ import annotations

from rich.console import Console
from textual.theme import Theme

SIXTEEN = Theme(
    name="griddesk-16",
    ansi=True,
    dark=True,
    primary="ansi_blue",
    secondary="ansi_cyan",
    accent="ansi_bright_cyan",
    warning="ansi_bright_yellow",
    error="ansi_red",
    success="ansi_bright_green",
    foreground="ansi_default",
    background="ansi_default",
    surface="ansi_default",
    panel="ansi_default",
    boost="ansi_default",
    variables={
        "ansi-background": "ansi_black",
        "ansi-foreground": "ansi_white",
        "border-blurred": "ansi_black",
        "block-cursor-foreground": "ansi_bright_white",
        "block-cursor-background": "ansi_blue",
        "block-cursor-text-style": "bold",
        "block-cursor-blurred-foreground": "ansi_bright_white",
        "block-cursor-blurred-background": "ansi_bright_black",
        "text-success": "ansi_bright_green",
        "text-warning": "ansi_bright_yellow",
        "text-error": "ansi_bright_red",
        "input-cursor-background": "ansi_black",
        "input-cursor-foreground": "ansi_bright_white",
        "input-cursor-text-style": "none",
        "input-selection-background": "ansi_bright_blue",
        "input-selection-foreground": "ansi_black",
        "screen-selection-background": "ansi_bright_blue",
        "screen-selection-foreground": "ansi_black",
    },
)
"""The theme of a 16-colour terminal."""


def has_sixteen_colours(console: Console) -> bool:
    """Whether the terminal has only the 16 ANSI colours (rich's "standard" system)."""
    return console.color_system in ("standard", "windows")
