"""The wall's words: gettext ids (English) of the enumerations it names, and the translator type.

The ids are shared with the console (dispatch/titles.py) so one catalog entry serves both; the CLI
passes the operator's translator in (the wallboard never imports the console).
"""

from __future__ import annotations

from collections.abc import Callable

from dispatch.titles import LEVEL_TITLES, STATUS_TITLES

Translate = Callable[[str], str]

LEVEL = LEVEL_TITLES
STATUS = STATUS_TITLES


def identity(text: str) -> str:
    """The untranslated (English) text: a translator for tests and scripts."""
    return text
