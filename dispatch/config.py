"""Typed settings: ``config.toml`` parsed once into frozen structs and passed down.

Parsing is pure (text in, settings out); reading the file, environment variables and CLI
flags is the CLI's job (``console/settings_loader.py``). Each key is documented in the root
``config.toml``; the defaults here are DESIGN.md's.
"""

from __future__ import annotations

import tomllib
from datetime import date
from typing import Annotated

import msgspec

from dispatch.errors import refuse
from dispatch.models import Level, Source, Urgency

Minutes = Annotated[int, msgspec.Meta(ge=1)]
HHMM = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class HubSettings(_Section, frozen=True, kw_only=True):
    listen: str = "127.0.0.1:8765"
    database: str = ""  # empty: sqlite file in the user data dir
    tls_cert: str = ""
    tls_key: str = ""
    max_frame_bytes: Annotated[int, msgspec.Meta(ge=1024)] = 256 * 1024
    frames_per_second: Annotated[int, msgspec.Meta(ge=1)] = 50
    burst: Annotated[int, msgspec.Meta(ge=1)] = 200
    snapshot_chunk: Annotated[int, msgspec.Meta(ge=1)] = 2000
    ping_interval: Annotated[float, msgspec.Meta(gt=0)] = 20.0
    ping_timeout: Annotated[float, msgspec.Meta(gt=0)] = 20.0
    tick_seconds: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    # A client that stops reading is let go within a bound (docs/PROTOCOL.md §7): closed
    # (1013) once more than send_buffer_bytes wait unsent for it, or once it has taken no
    # byte for stall_seconds while some were waiting; the closing handshake then gets
    # close_timeout seconds before the TCP connection is dropped.
    send_buffer_bytes: Annotated[int, msgspec.Meta(ge=64 * 1024)] = 8 * 1024 * 1024
    stall_seconds: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    close_timeout: Annotated[float, msgspec.Meta(gt=0)] = 2.0
    # How often the hub re-reads the operators table to end revoked sessions (4003).
    revocation_poll_seconds: Annotated[float, msgspec.Meta(gt=0, le=0.5)] = 0.5


class ClockSettings(_Section, frozen=True, kw_only=True):
    timezone: str = "Asia/Shanghai"
    speed: Annotated[float, msgspec.Meta(gt=0, le=10000)] = 1.0


class CalendarSettings(_Section, frozen=True, kw_only=True):
    periods: tuple[tuple[HHMM, HHMM], ...] = (("08:30", "12:00"), ("13:30", "17:30"))
    weekend: tuple[Annotated[int, msgspec.Meta(ge=1, le=7)], ...] = (6, 7)  # ISO weekdays
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()  # weekend days worked instead (调休)


class SlaSettings(_Section, frozen=True, kw_only=True):
    urgent_accept_minutes: Minutes = 5
    urgent_dispatch_minutes: Minutes = 5
    urgent_on_scene_minutes: Minutes = 15
    urgent_result_minutes: Minutes = 60
    urgent_check_minutes: Minutes = 120
    accept_work_minutes: Minutes = 30
    dispatch_work_minutes: Minutes = 30
    check_work_minutes: Minutes = 120
    amber_at: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.8


class EscalationSettings(_Section, frozen=True, kw_only=True):
    on_breach: bool = True  # a missed deadline raises the case one level
    returns_to_grid_head: Annotated[int, msgspec.Meta(ge=1)] = 2
    top: Level = Level.LEADERSHIP


class IntakeSettings(_Section, frozen=True, kw_only=True):
    verify_sources: tuple[Source, ...] = (Source.PHOTO, Source.HOTLINE)
    # 盈浦: police-forwarded non-police alerts (非警务类警情) are urgent.
    urgent_sources: tuple[Source, ...] = (Source.POLICE,)
    # Category code → default urgency, over the catalog and urgent_sources; checked against
    # the catalog when the hall is built (:meth:`dispatch.hall.Hall.of`).
    category_urgency: dict[str, Urgency] = msgspec.field(default_factory=dict)
    auto_dispatch_sources: tuple[Source, ...] = ()
    auto_dispatch_categories: tuple[str, ...] = ()
    duplicate_distance_m: Annotated[float, msgspec.Meta(ge=0)] = 100.0
    duplicate_window_minutes: Minutes = 120
    # Without positions on both, addresses (else titles) at least this alike (0–1).
    duplicate_text_similarity: Annotated[float, msgspec.Meta(ge=0, le=1)] = 0.6


class StandbySettings(_Section, frozen=True, kw_only=True):
    # After hours a case dispatched to a unit on the rota goes to its first standby officer;
    # not signed for (签收) within this many minutes (wall clock), the next is called, and
    # after the last one the hall's duty commander is alerted (dispatch/standby.py).
    answer_minutes: Minutes = 10


class ConsoleSettings(_Section, frozen=True, kw_only=True):
    hub_url: str = "ws://127.0.0.1:8765"
    """The hub, or several comma-separated (hubs of one PostgreSQL hall, tried in turn)."""
    token_file: str = ""
    locale: Annotated[str, msgspec.Meta(pattern="^(zh_CN|en)$")] = "zh_CN"
    # Over SSH: seconds the terminal may leave the console's probes unanswered before the
    # console exits (a link that died without a FIN); 0 turns the probe off.
    link_timeout: Annotated[float, msgspec.Meta(ge=0, le=3600)] = 60.0
    # For a slow or metered link (SSH over a phone tether): countdowns and the clock to the
    # minute, no animations, so the screen changes once a minute while nothing happens.
    low_bandwidth: bool = False


class AssessmentSettings(_Section, frozen=True, kw_only=True):
    """Callbacks (回访) and patrol tracks (巡查轨迹), as the monthly assessment counts them."""

    # A closed public report is owed its callback within this many hours of closing.
    callback_due_hours: Annotated[int, msgspec.Meta(ge=1, le=24 * 30)] = 48
    # Positions are stored only this far apart (metres) or this long apart (seconds).
    track_min_metres: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    track_min_seconds: Annotated[int, msgspec.Meta(ge=1)] = 30
    # A gap longer than this between two positions is not patrol time (terminal off).
    track_max_gap_minutes: Minutes = 10
    # Stored track points older than this many days are deleted (the per-day patrol figures
    # are kept 400 days).
    track_retention_days: Annotated[int, msgspec.Meta(ge=1, le=3660)] = 31
    # A grid worker with fewer minutes inside their own grids in a day is flagged (巡查有效时间短).
    patrol_minimum_minutes: Annotated[int, msgspec.Meta(ge=0)] = 240


Share = Annotated[float, msgspec.Meta(ge=0, le=1)]


class WallboardSettings(_Section, frozen=True, kw_only=True):
    # The hall's targets the wall's gauges measure this month's figures against (盈浦's:
    # 85 % found first by its own patrols, 97 % closed).
    found_first_target: Share = 0.85
    closed_target: Share = 0.97
    on_time_target: Share = 0.95
    satisfied_target: Share = 0.95
    # Units listed in the wall's "most overdue" panel.
    top_units: Annotated[int, msgspec.Meta(ge=1, le=20)] = 8


class Settings(_Section, frozen=True, kw_only=True):
    hub: HubSettings = HubSettings()
    clock: ClockSettings = ClockSettings()
    calendar: CalendarSettings = CalendarSettings()
    sla: SlaSettings = SlaSettings()
    escalation: EscalationSettings = EscalationSettings()
    intake: IntakeSettings = IntakeSettings()
    standby: StandbySettings = StandbySettings()
    console: ConsoleSettings = ConsoleSettings()
    assessment: AssessmentSettings = AssessmentSettings()
    wallboard: WallboardSettings = WallboardSettings()


def parse_settings(text: str) -> Settings:
    """Settings from TOML text; unknown keys and bad values are an ``invalid`` refusal."""
    try:
        raw = tomllib.loads(text)
        return msgspec.convert(raw, Settings, strict=False)
    except tomllib.TOMLDecodeError as exc:
        raise refuse("config_not_toml", error=str(exc)) from None
    except msgspec.ValidationError as exc:
        raise refuse("config_invalid", error=str(exc)) from None
