"""The console's languages: gettext catalogs for zh_CN (the default) and en.

Message ids are the English text. The ``.po`` files under ``console/locale`` are the source;
the ``.mo`` files beside them are compiled from them by this module (``python -m
console.i18n``, or ``make i18n``) so no GNU gettext tools are needed, and a test checks that
every ``.mo`` is up to date with its ``.po``.
"""

from __future__ import annotations

import ast
import gettext
import struct
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path

LOCALES = ("zh_CN", "en")
DEFAULT_LOCALE = "zh_CN"
DOMAIN = "griddesk"
LOCALE_DIR = Path(__file__).with_name("locale")

Translate = Callable[[str], str]


@cache
def translator(locale: str) -> Translate:
    """``gettext`` for ``locale``; an unknown locale or message falls back to the English id."""
    catalog = gettext.translation(DOMAIN, LOCALE_DIR, languages=[locale], fallback=True)
    return catalog.gettext


def other_locale(locale: str) -> str:
    """The language the run-time switch goes to from ``locale``."""
    return "en" if locale == "zh_CN" else "zh_CN"


class Language:
    """The operator's language, switchable at run time: screens keep this object and read
    :attr:`tr` when they draw, so a switch needs no new screens, only a redraw."""

    def __init__(self, locale: str = DEFAULT_LOCALE) -> None:
        self.locale = locale if locale in LOCALES else DEFAULT_LOCALE
        self.tr: Translate = translator(self.locale)

    @property
    def english(self) -> bool:
        return self.locale == "en"

    def switch(self) -> None:
        self.locale = other_locale(self.locale)
        self.tr = translator(self.locale)


# --- compiling .po into .mo (what GNU msgfmt does, for the subset our catalogs use) --------


def parse_po(text: str) -> dict[str, str]:
    """msgid → msgstr of a ``.po`` file (no plurals or contexts; fuzzy entries are kept)."""
    messages: dict[str, str] = {}
    field: str | None = None
    current: dict[str, str] = {}

    def flush() -> None:
        if "msgid" in current and current.get("msgstr"):
            messages[current["msgid"]] = current["msgstr"]
        current.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            flush()
            field, line = "msgid", line[6:]
        elif line.startswith("msgstr "):
            field, line = "msgstr", line[7:]
        if field is None or not line.startswith('"'):
            raise ValueError(f"cannot parse po line: {raw!r}")
        current[field] = current.get(field, "") + ast.literal_eval(line)
    flush()
    return messages


def mo_bytes(messages: dict[str, str]) -> bytes:
    """The GNU ``.mo`` encoding of ``messages`` (ids sorted, no hash table)."""
    ids = sorted(messages)
    keys = [k.encode() for k in ids]
    values = [messages[k].encode() for k in ids]
    header = 7 * 4
    table = 2 * len(ids) * 8
    key_start = header + table
    value_start = key_start + sum(len(k) + 1 for k in keys)
    offsets: list[int] = []
    pos = key_start
    for k in keys:
        offsets += [len(k), pos]
        pos += len(k) + 1
    pos = value_start
    for v in values:
        offsets += [len(v), pos]
        pos += len(v) + 1
    out = struct.pack("<7I", 0x950412DE, 0, len(ids), header, header + len(ids) * 8, 0, 0)
    out += struct.pack(f"<{len(offsets)}I", *offsets)
    out += b"".join(k + b"\0" for k in keys) + b"".join(v + b"\0" for v in values)
    return out


def catalogs() -> list[tuple[Path, Path]]:
    """(``.po``, ``.mo``) path pairs of every shipped language."""
    return [
        (
            LOCALE_DIR / loc / "LC_MESSAGES" / f"{DOMAIN}.po",
            LOCALE_DIR / loc / "LC_MESSAGES" / f"{DOMAIN}.mo",
        )
        for loc in LOCALES
    ]


def compile_all() -> list[Path]:
    """Write every ``.mo`` from its ``.po``; the paths written."""
    written = []
    for po, mo in catalogs():
        mo.write_bytes(mo_bytes(parse_po(po.read_text(encoding="utf-8"))))
        written.append(mo)
    return written


if __name__ == "__main__":
    for path in compile_all():
        print(f"wrote {path}", file=sys.stderr)
