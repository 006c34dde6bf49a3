"""Immutable domain values: places, units, staff, cases, and the enumerations they use.

All timestamps are timezone-aware UTC ``datetime``s. Structs are frozen; a change is a new
value made with ``msgspec.structs.replace`` (the workflow never mutates a case in place).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import msgspec


class Kind(StrEnum):
    """部件 (a physical component) or 事件 (an event)."""

    COMPONENT = "component"
    EVENT = "event"


class Source(StrEnum):
    """Where a case came from."""

    PATROL = "patrol"  # 巡查: a grid worker on patrol
    PHOTO = "photo"  # 随手拍: a citizen's photo
    HOTLINE = "hotline"  # 12345 hotline ticket
    VIDEO = "video"  # video analytics
    POLICE = "police"  # 非警务警情 forwarded by the police


PUBLIC_SOURCES = frozenset({Source.PHOTO, Source.HOTLINE})
"""Sources reported by the public: they may need on-site verification and get a callback."""

PROACTIVE_SOURCES = frozenset({Source.PATROL, Source.VIDEO})
"""Sources that count as proactive discovery (主动发现)."""


class Urgency(StrEnum):
    URGENT = "urgent"  # 紧急
    GENERAL = "general"  # 一般


class Level(StrEnum):
    """The escalation ladder, lowest first."""

    COMMUNITY = "community"  # 社区 / 网格工作站
    STREET = "street"  # 街道城运中心
    DISTRICT = "district"  # 区平台
    LEADERSHIP = "leadership"  # 区领导


LEVELS: tuple[Level, ...] = tuple(Level)


class Status(StrEnum):
    """Where a case stands in the workflow (DESIGN.md §1)."""

    REPORTED = "reported"  # 上报, waiting for the hall
    VERIFIED = "verified"  # 核实: confirmed on site, ready to accept
    ACCEPTED = "accepted"  # 立案, waiting for dispatch
    DISPATCHED = "dispatched"  # 派遣, waiting for the unit to sign
    ACKNOWLEDGED = "acknowledged"  # 签收
    ON_SCENE = "on_scene"  # 到场
    REPORTED_BACK = "reported_back"  # 处置反馈, waiting for the on-site check
    CHECKED = "checked"  # 核查 passed, ready to close
    CLOSED = "closed"  # 结案
    REJECTED = "rejected"  # 不予立案
    VOIDED = "voided"  # 作废
    PARKED = "parked"  # 挂账
    MERGED = "merged"  # merged into another case as a duplicate


TERMINAL_STATUSES = frozenset({Status.CLOSED, Status.REJECTED, Status.VOIDED, Status.MERGED})
"""A case in one of these is no longer open (no clock runs, no command but notes)."""

IN_HAND_STATUSES = frozenset({Status.DISPATCHED, Status.ACKNOWLEDGED, Status.ON_SCENE})
"""The unit holds the case: it can return it, ask for more time, report back."""


class Role(StrEnum):
    """What an operator may do; the hub checks every command against it."""

    COMMANDER = "commander"  # 指挥长: everything
    DISPATCHER = "dispatcher"  # 值班员: intake, dispatch, reassign, urge
    STANDBY = "standby"  # 备勤: after hours, own unit
    UNIT = "unit"  # a department's or grid worker's terminal: sign, arrive, report, request
    OBSERVER = "observer"  # wallboards: read only


class Shift(StrEnum):
    DAY = "day"  # 白班
    STANDBY = "standby"  # 备勤


class Duty(StrEnum):
    """Whether a person is working now."""

    ON_DUTY = "on_duty"
    STANDBY = "standby"  # reachable after hours
    OFF = "off"


class Field(StrEnum):
    """What a person on duty is doing right now."""

    AVAILABLE = "available"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    BUSY = "busy"
    OFFLINE = "offline"


class UnitKind(StrEnum):
    DEPARTMENT = "department"  # 职能部门
    LOCALITY = "locality"  # 属地: 街道, 居委/村委


class AreaKind(StrEnum):
    DISTRICT = "district"  # 区
    STREET = "street"  # 街道
    GRID = "grid"  # 责任网格
    CELL = "cell"  # 单元网格 / 管理单元


class Step(StrEnum):
    """A clocked step of the workflow; each has its own limit and deadline."""

    ACCEPT = "accept"  # reported → accepted
    DISPATCH = "dispatch"  # accepted → dispatched
    ON_SCENE = "on_scene"  # dispatched → on scene (urgent: 15 min)
    RESULT = "result"  # dispatched → reported back (urgent: first result 60 min)
    CHECK = "check"  # reported back → checked
    # Chain of command (dispatch/command_chain.py, dispatch/whistle.py): not workflow steps but
    # clocks the SLA ticker breaches like any other.
    INSTRUCTION = "instruction"  # a leadership instruction's (批办) deadline, met by report-back
    REPORT_IN = "report_in"  # 吹哨报到: the summoned units' report-in deadline


class Basis(StrEnum):
    """How a limit is counted."""

    WALL = "wall"  # wall-clock minutes
    WORK_HOURS = "work_hours"  # working minutes on the calendar
    WORK_DAYS = "work_days"  # whole working days on the calendar


Longitude = Annotated[float, msgspec.Meta(ge=-180.0, le=180.0)]
Latitude = Annotated[float, msgspec.Meta(ge=-90.0, le=90.0)]


# ``gc=False`` on the value structs a hall holds by the hundred thousand (cases and what they
# hold): frozen, made of strings, numbers, enums, datetimes and tuples of each other, they can
# never be part of a reference cycle, so the cyclic GC has nothing to find in them. Tracked,
# the 100,000 open cases of a month-eight hall made each full collection walk ~400,000 objects
# (0.8 s on the hub, several times a second under load: a quarter of its time, and its p99).


class Point(msgspec.Struct, frozen=True, gc=False):
    """A position, WGS-84 degrees. Bounded (so finite) when decoded from a client: a longitude
    of 1e308 once overflowed the distance maths inside a group commit."""

    lon: Longitude
    lat: Latitude


class Area(msgspec.Struct, frozen=True, kw_only=True):
    """A node of the place tree, identified by its grid code (网格编码)."""

    code: str
    name: str
    kind: AreaKind
    parent: str | None = None
    locality: str | None = None  # the unit id answering for events here (属地)
    centre: Point | None = None
    # The area's boundary, WGS-84, as a ring (the last point joins the first, not repeated);
    # empty where the city has not drawn it. The wall's map draws it; patrol minutes inside a
    # grid are counted against it.
    outline: tuple[Point, ...] = ()


class Unit(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    kind: UnitKind
    dept: str | None = None  # department type key (catalog ``dept``): "enforcement", "sanitation" …
    area: str | None = None  # the area a locality answers for
    parent: str | None = None  # the unit this one reports to (escalation, standby scope)
    # A hall's own unit is a desk of the chain of command (三级指挥): its operators' desk level
    # (街道城运中心 street, 区城运中心 district, 区领导 leadership). None: a handling unit.
    desk: Level | None = None


class Staff(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    unit: str
    role: str  # 网格员, 城管队员, 民警 … (a job title, not an operator Role)
    shift: Shift
    grids: tuple[str, ...] = ()
    duty: Duty = Duty.OFF
    field: Field = Field.OFFLINE
    position: Point | None = None
    seen_at: datetime | None = None
    phone: str | None = None
    version: int = 1


class Deadline(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One step's clock: started at ``start``, due at ``due`` (absolute, from the hub)."""

    step: Step
    start: datetime
    due: datetime
    limit_minutes: int
    basis: Basis
    breached: bool = False  # set once by the hub when the breach event is written


class Request(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """A unit's pending request that the hall must approve or refuse."""

    kind: str  # one of RequestKind
    by: str  # operator name
    at: datetime
    reason: str
    minutes: int | None = None  # for extensions


class RequestKind(StrEnum):
    RETURN = "return"  # 退单
    EXTENSION = "extension"  # 延期
    PARK = "park"  # 挂账
    VOID = "void"  # 作废


class Instruction(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """批办: an instruction recorded on the case, shown to everyone handling it."""

    by: str  # operator name
    desk: Level | None  # the instructing operator's desk (None: a commander with no desk)
    at: datetime
    text: str
    due: datetime | None = None  # its own deadline (Step.INSTRUCTION), when given


class Summons(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One unit summoned by a whistle, and when (and by whom) it reported in."""

    unit: str
    reported_at: datetime | None = None
    reported_by: str | None = None


class Whistle(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """吹哨: the units summoned to a case and their report-in deadline (报到)."""

    by: str
    at: datetime
    due: datetime
    units: tuple[Summons, ...]
    reason: str = ""


SATISFIED = "satisfied"
UNSATISFIED = "unsatisfied"
"""A callback's answers (``Case.callback``)."""


class Case(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    id: str
    kind: Kind
    category: str  # small-category code from the catalog
    source: Source
    urgency: Urgency
    status: Status
    title: str
    description: str = ""
    grid: str | None = None  # grid code
    address: str = ""
    position: Point | None = None
    reporter: str | None = None  # name or ticket number, for the callback
    # The reporters of duplicates merged into this case: each is owed a callback too.
    also_reported_by: tuple[str, ...] = ()
    # The grid worker (staff id) who found it on patrol: each worker's report count and
    # validity rate are assessed (屯溪: 上报事件数量，事件有效率需要记录在案).
    found_by: str | None = None
    reported_at: datetime
    level: Level = Level.COMMUNITY
    owner_unit: str | None = None
    owner_staff: str | None = None
    supporting_units: tuple[str, ...] = ()  # joint enforcement (联合执法) partners
    deadlines: tuple[Deadline, ...] = ()
    request: Request | None = None
    parked_from: Status | None = None
    parked_at: datetime | None = None  # when it was parked: resume shifts the clocks by this
    merged_into: str | None = None
    duplicate_of: str | None = None  # flagged at intake; the hall decides
    returns: int = 0
    urges: int = 0
    reworks: int = 0
    extensions: int = 0
    breaches: int = 0  # deadlines missed so far (a done step's deadline leaves, this stays)
    accepted_at: datetime | None = None
    dispatched_at: datetime | None = None
    closed_at: datetime | None = None
    on_time: bool | None = None  # set at close: was every deadline met
    instructions: tuple[Instruction, ...] = ()  # 批办, oldest first
    whistles: tuple[Whistle, ...] = ()  # 吹哨报到, oldest first; the last may be under way
    callback: str | None = None  # satisfied / unsatisfied, after close
    # After hours (dispatch/standby.py): while the case waits to be signed for, when the
    # standby officer called last must have signed, and how many of the unit's standby order
    # have been called so far. Meaningful only while the case is dispatched.
    answer_due: datetime | None = None
    answer_step: int = 0
    version: int = 1

    def deadline(self, step: Step) -> Deadline | None:
        for d in self.deadlines:
            if d.step == step:
                return d
        return None

    @property
    def is_open(self) -> bool:
        return self.status not in TERMINAL_STATUSES


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who sends a command: an authenticated operator (or ``hub`` for the SLA ticker)."""

    name: str
    role: Role
    unit: str | None = None  # own unit: scopes standby and unit operators


HUB_ACTOR = Actor(name="hub", role=Role.COMMANDER)
"""The hub itself, acting on deadlines."""
