"""Each operator's board preferences (queue, quick filters, text filter, sort), kept across
restarts as one small JSON file per operator in the user state directory."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import platformdirs

from dispatch.models import Level, Source
from dispatch.queues import QUEUE_ALIASES, Queue, QuickFilter, Sort


class Prefs(msgspec.Struct, frozen=True, kw_only=True):
    queue: Queue = Queue.URGENT
    sort: Sort = Sort.DEADLINE
    filter: str = ""
    level: Level | None = None
    unit: str | None = None
    source: Source | None = None
    grid: str | None = None

    @property
    def quick(self) -> QuickFilter:
        return QuickFilter(level=self.level, unit=self.unit, source=self.source, grid=self.grid)


def state_dir() -> Path:
    return Path(platformdirs.user_state_dir("griddesk", appauthor=False))


def _path(directory: Path, operator: str) -> Path:
    safe = re.sub(r"[^\w.-]", "_", operator) or "_"
    return directory / f"prefs-{safe}.json"


def load(operator: str, directory: Path | None = None) -> Prefs:
    """The operator's saved prefs; the defaults when none are saved or the file is unreadable.
    A queue saved under an older name (``to_verify``) is read by its alias."""
    path = _path(directory or state_dir(), operator)
    try:
        raw = msgspec.json.decode(path.read_bytes())
        if isinstance(raw, dict) and isinstance(raw.get("queue"), str):
            raw["queue"] = QUEUE_ALIASES.get(raw["queue"], Queue.URGENT).value
        return msgspec.convert(raw, Prefs)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return Prefs()


def save(operator: str, prefs: Prefs, directory: Path | None = None) -> None:
    path = _path(directory or state_dir(), operator)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(msgspec.json.encode(prefs))
    tmp.replace(path)
