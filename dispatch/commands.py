"""Commands an operator sends to the hub: one struct per op, strictly typed.

Every command carries a client-made ``id`` (a retried command is applied once) and, when it
acts on a case, the case ``version`` it expects (two commanders on one case: one wins, the
other gets ``conflict``). The op name is the tag on the wire: ``{"op": "dispatch", ...}``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from dispatch.models import Duty, Field, Kind, Level, Point, Shift, Source, Urgency

ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
"""A one-line value (ids, names, titles, addresses): no control character at all."""
LINES = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
"""Free text (descriptions, reasons): tabs and line breaks, but no other control character.

NUL in particular: PostgreSQL cannot store it and SQLite can, so a title with one was applied
on one engine and failed a whole group commit on the other. Refused here, at decoding, it gets
the same ``invalid`` answer everywhere and never reaches the store."""


def _line(most: int, least: int = 0) -> msgspec.Meta:
    return msgspec.Meta(min_length=least, max_length=most, pattern=ONE_LINE)


Id = Annotated[str, _line(64, 1)]
Name = Annotated[str, _line(64, 1)]
Title = Annotated[str, _line(200, 1)]
Address = Annotated[str, _line(200)]
Reporter = Annotated[str, _line(100)]
Text = Annotated[str, msgspec.Meta(max_length=2000, pattern=LINES)]
Version = Annotated[int, msgspec.Meta(ge=1)]


class Command(
    msgspec.Struct, frozen=True, kw_only=True, tag_field="op", forbid_unknown_fields=True
):
    """Base of all commands: the client-made id, unique per command."""

    id: Id


class CaseCommand(Command, frozen=True, kw_only=True):
    """A command on one existing case, at the version the client last saw."""

    case: Id
    version: Version
    reason: Text = ""


# --- intake and the hall's decisions -------------------------------------------------------


class Intake(Command, frozen=True, kw_only=True, tag="intake"):
    """Register a new case from any source."""

    kind: Kind
    category: Id
    source: Source
    title: Title
    description: Text = ""
    urgency: Urgency | None = None  # None: the catalog's default for the category
    grid: Id | None = None
    address: Address = ""
    position: Point | None = None
    reporter: Reporter | None = None
    found_by: Id | None = None  # the grid worker (staff id) who found it, on patrol


class Verify(CaseCommand, frozen=True, kw_only=True, tag="verify"):
    """On-site verification (核实) of a public report: confirmed, or voided."""

    confirmed: bool


class Accept(CaseCommand, frozen=True, kw_only=True, tag="accept"):
    """立案: accept the case, optionally correcting its category and urgency."""

    category: Id | None = None
    urgency: Urgency | None = None


class Reject(CaseCommand, frozen=True, kw_only=True, tag="reject"):
    """不予立案 (reason required)."""


class Dispatch(CaseCommand, frozen=True, kw_only=True, tag="dispatch"):
    """派遣 to a unit and, where known, a person."""

    unit: Id
    staff: Id | None = None


class Reassign(CaseCommand, frozen=True, kw_only=True, tag="reassign"):
    """改派 to another unit or person (reason required)."""

    unit: Id
    staff: Id | None = None


class Acknowledge(CaseCommand, frozen=True, kw_only=True, tag="acknowledge"):
    """签收 by the unit."""


class Arrive(CaseCommand, frozen=True, kw_only=True, tag="arrive"):
    """On scene."""


class ReportBack(CaseCommand, frozen=True, kw_only=True, tag="report_back"):
    """处置反馈: the unit reports the result (the reason field carries the result text)."""


class Check(CaseCommand, frozen=True, kw_only=True, tag="check"):
    """核查 on site: passed, or back to the unit for rework."""

    passed: bool


class Rework(CaseCommand, frozen=True, kw_only=True, tag="rework"):
    """返工: back to the same unit (reason required)."""


class Close(CaseCommand, frozen=True, kw_only=True, tag="close"):
    """结案."""


class Callback(CaseCommand, frozen=True, kw_only=True, tag="callback"):
    """回访: the reporter's answer after closing. ``reopen`` (only with an unsatisfied answer,
    and a reason) sends the case back to its unit as rework (返工)."""

    satisfied: bool
    reopen: bool = False


class Escalate(CaseCommand, frozen=True, kw_only=True, tag="escalate"):
    """上报 one level up (reason required)."""


class Urge(CaseCommand, frozen=True, kw_only=True, tag="urge"):
    """督办 / 催办 the owning unit."""


class Joint(CaseCommand, frozen=True, kw_only=True, tag="joint"):
    """联合执法: a lead unit plus supporting units."""

    lead: Id
    supporting: Annotated[tuple[Id, ...], msgspec.Meta(min_length=1, max_length=10)]


class Note(CaseCommand, frozen=True, kw_only=True, tag="note"):
    """A free note in the case history (the reason field carries the text)."""


# --- the chain of command (dispatch/command_chain.py) and 吹哨报到 (dispatch/whistle.py) -----


class Instruct(CaseCommand, frozen=True, kw_only=True, tag="instruct"):
    """批办: an instruction on the case (the reason field carries its text), with its own
    deadline in wall minutes when given."""

    minutes: Annotated[int, msgspec.Meta(ge=1, le=60 * 24 * 30)] | None = None


class SendDown(CaseCommand, frozen=True, kw_only=True, tag="send_down"):
    """Send the case back down to a lower level (reason required); default: one level."""

    level: Level | None = None


class BlowWhistle(CaseCommand, frozen=True, kw_only=True, tag="whistle"):
    """吹哨: summon units to the case, each to report in within ``minutes``."""

    units: Annotated[tuple[Id, ...], msgspec.Meta(min_length=1, max_length=20)]
    minutes: Annotated[int, msgspec.Meta(ge=1, le=60 * 24)]


class ReportIn(CaseCommand, frozen=True, kw_only=True, tag="report_in"):
    """报到: a summoned unit reports in (its own terminal, or the hall on its behalf)."""

    unit: Id


# --- requests by the unit, decisions by the hall -------------------------------------------


class RequestReturn(CaseCommand, frozen=True, kw_only=True, tag="request_return"):
    """退单: the unit says the case is not theirs (reason required)."""


class RequestExtension(CaseCommand, frozen=True, kw_only=True, tag="request_extension"):
    """延期: more time, asked before the deadline (reason required)."""

    minutes: Annotated[int, msgspec.Meta(ge=1, le=60 * 24 * 30)]


class RequestPark(CaseCommand, frozen=True, kw_only=True, tag="request_park"):
    """挂账: cannot be solved now (reason required)."""


class RequestVoid(CaseCommand, frozen=True, kw_only=True, tag="request_void"):
    """作废 (reason required)."""


class Approve(CaseCommand, frozen=True, kw_only=True, tag="approve"):
    """The hall approves the pending request of this kind."""

    request: Annotated[str, msgspec.Meta(pattern="^(return|extension|park|void)$")]


class Refuse(CaseCommand, frozen=True, kw_only=True, tag="refuse"):
    """The hall refuses the pending request of this kind (reason required)."""

    request: Annotated[str, msgspec.Meta(pattern="^(return|extension|park|void)$")]


class Resume(CaseCommand, frozen=True, kw_only=True, tag="resume"):
    """Take a parked case back to where it was."""


class Merge(CaseCommand, frozen=True, kw_only=True, tag="merge"):
    """Merge this (duplicate) case into an open one."""

    into: Id


# --- people --------------------------------------------------------------------------------


class StaffStatus(Command, frozen=True, kw_only=True, tag="staff_status"):
    """A person's duty or field status, or position, changed."""

    staff: Id
    duty: Duty | None = None
    field: Field | None = None
    position: Point | None = None


class ShiftChange(Command, frozen=True, kw_only=True, tag="shift_change"):
    """Hand over: the named shift goes on duty, the other goes off (or to standby)."""

    to: Shift


# --- the hand-over (交接班; dispatch/handover.py builds the report) -------------------------

HandoverText = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=LINES)]
Instant = Annotated[datetime, msgspec.Meta(tz=True)]
"""A time with its offset (a naive one is refused: whose clock would it be?)."""
Digest = Annotated[str, msgspec.Meta(pattern="^([0-9a-f]{16,64})?$")]


class HandoverNote(Command, frozen=True, kw_only=True, tag="handover_note"):
    """The outgoing commander's note for the next shift (交接班记录): what is not in any one
    case's history ("the water main on 青石路 is still shut, the utility calls back at 20:00").
    ``cases`` names the cases it is about, if any."""

    text: HandoverText
    cases: Annotated[tuple[Id, ...], msgspec.Meta(max_length=20)] = ()


class HandoverAck(Command, frozen=True, kw_only=True, tag="handover_ack"):
    """The incoming commander acknowledges the hand-over report of ``since`` .. ``until``
    (hub time), handed over by ``outgoing``; ``digest`` fingerprints the report as read
    (``dispatch.handover.digest``), so the log says which version was acknowledged."""

    since: Instant
    until: Instant
    outgoing: Name
    digest: Digest = ""
    note: Text = ""


# --- the rota (dispatch/rota.py): the commander's date-bound changes ------------------------


class RotaCommand(Command, frozen=True, kw_only=True):
    """A change to the rota for one duty day (``on``, the hall's local date)."""

    on: date
    reason: Text = ""


class RotaSwap(RotaCommand, frozen=True, kw_only=True, tag="rota_swap"):
    """On that duty day, ``a`` and ``b`` take each other's place in the standby orders."""

    a: Id
    b: Id


class RotaStandby(RotaCommand, frozen=True, kw_only=True, tag="rota_standby"):
    """On that duty day, ``unit`` stands by in this order (first called first)."""

    unit: Id
    order: Annotated[tuple[Id, ...], msgspec.Meta(min_length=1, max_length=10)]


class RotaCommander(RotaCommand, frozen=True, kw_only=True, tag="rota_commander"):
    """On that duty day, ``commander`` (an operator name) is the hall's duty commander."""

    commander: Name


AnyCommand = (
    Intake
    | Verify
    | Accept
    | Reject
    | Dispatch
    | Reassign
    | Acknowledge
    | Arrive
    | ReportBack
    | Check
    | Rework
    | Close
    | Callback
    | Escalate
    | Urge
    | Joint
    | Note
    | RequestReturn
    | RequestExtension
    | RequestPark
    | RequestVoid
    | Approve
    | Refuse
    | Resume
    | Merge
    | Instruct
    | SendDown
    | BlowWhistle
    | ReportIn
    | StaffStatus
    | ShiftChange
    | HandoverNote
    | HandoverAck
    | RotaSwap
    | RotaStandby
    | RotaCommander
)

CASE_COMMANDS: tuple[type[CaseCommand], ...] = (
    Verify, Accept, Reject, Dispatch, Reassign, Acknowledge, Arrive, ReportBack, Check,
    Rework, Close, Callback, Escalate, Urge, Joint, Note, RequestReturn, RequestExtension,
    RequestPark, RequestVoid, Approve, Refuse, Resume, Merge, Instruct, SendDown, BlowWhistle,
    ReportIn,
)  # fmt: skip

ALL_COMMANDS: tuple[type[Command], ...] = (
    *CASE_COMMANDS, Intake, StaffStatus, ShiftChange, HandoverNote, HandoverAck,
    RotaSwap, RotaStandby, RotaCommander,
)  # fmt: skip

OPS: frozenset[str] = frozenset(str(c.__struct_config__.tag) for c in ALL_COMMANDS)
"""Every op name the protocol knows."""


def op_of(command: Command) -> str:
    """The wire name of a command."""
    return str(type(command).__struct_config__.tag)
