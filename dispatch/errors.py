"""Typed refusals. Every way a command or frame can be refused has a stable code that goes on
the wire, and a stable *detail* id that says which rule refused it, with the values that
rule looked at as named parameters (docs/PROTOCOL.md §7 lists them all).

:data:`DETAILS` is the one table of them: detail id → code and English template. Code raises
``refuse("verify_first", source=case.source)``; the English ``message`` is formatted from the
template (people and ``griddesk ctl`` read it), while a client that speaks another language
looks the template up in its own catalog by the English text and formats it with ``params``.
Enum values go into ``params`` as their plain string values, so a client can localise them.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from enum import Enum, StrEnum
from typing import NamedTuple

from dispatch.models import Kind, Level, RequestKind, Role, Source, Status, Step


class ErrorCode(StrEnum):
    MALFORMED = "malformed"  # not JSON, or not an object
    INVALID = "invalid"  # wrong type, missing or unknown field, bad value
    UNKNOWN_MESSAGE = "unknown_message"  # a frame type the protocol does not have
    UNKNOWN_COMMAND = "unknown_command"  # an op the protocol does not have
    TOO_LARGE = "too_large"  # frame over the size limit (the connection is closed)
    UNAUTHENTICATED = "unauthenticated"  # bad or missing token (the connection is closed)
    PROTOCOL_VERSION = "protocol_version"  # the client speaks another protocol version
    FORBIDDEN = "forbidden"  # the operator's role may not do this
    NOT_FOUND = "not_found"  # unknown case, unit, staff, category or area
    CONFLICT = "conflict"  # the case changed since the version the client expected
    ILLEGAL_STEP = "illegal_step"  # the workflow does not allow this step from this status
    REASON_REQUIRED = "reason_required"  # the step needs a reason
    DEADLINE_PASSED = "deadline_passed"  # an extension asked after the deadline
    NO_REQUEST = "no_request"  # approve/refuse with no matching pending request
    DUPLICATE_ID = "duplicate_id"  # a command id reused for a different command
    RATE_LIMITED = "rate_limited"  # too many frames; slow down
    UNAVAILABLE = "unavailable"  # the hub cannot serve this now (shutting down)


Param = str | int | float | bool | None
"""A refusal parameter's value: JSON scalars only, so every client can read it."""


class Detail(NamedTuple):
    """One way to be refused: the wire code and the English template of its message."""

    code: ErrorCode
    text: str  # English, with ``{named}`` placeholders: exactly the refusal's params


DETAILS: Mapping[str, Detail] = {
    # --- frames (dispatch/protocol.py) ---
    "frame_too_large": Detail(ErrorCode.TOO_LARGE, "frame of {size} bytes exceeds {limit}"),
    "not_json": Detail(ErrorCode.MALFORMED, "not valid JSON: {error}"),
    "too_nested": Detail(ErrorCode.MALFORMED, "a frame may hold at most {limit} brackets"),
    "not_an_object": Detail(ErrorCode.MALFORMED, "a frame must be a JSON object"),
    "unknown_message": Detail(ErrorCode.UNKNOWN_MESSAGE, "unknown message type {type}"),
    "unknown_op": Detail(ErrorCode.UNKNOWN_COMMAND, "unknown command op {op}"),
    "invalid_frame": Detail(ErrorCode.INVALID, "invalid frame: {error}"),
    # --- the connection (hub/server.py) ---
    "no_hello": Detail(ErrorCode.UNAUTHENTICATED, "no hello in time"),
    "hello_expected": Detail(ErrorCode.UNAUTHENTICATED, "hello expected: {error}"),
    "hello_first": Detail(ErrorCode.UNAUTHENTICATED, "the first frame must be hello"),
    "bad_token": Detail(ErrorCode.UNAUTHENTICATED, "unknown or disabled token"),
    "protocol_version": Detail(
        ErrorCode.PROTOCOL_VERSION, "hub speaks protocol {protocol}, not {expected}"
    ),
    "revoked": Detail(ErrorCode.UNAUTHENTICATED, "this session was revoked"),
    "hello_again": Detail(ErrorCode.INVALID, "already authenticated: hello only comes first"),
    "rate_limited": Detail(ErrorCode.RATE_LIMITED, "too many frames: slow down"),
    "command_failed": Detail(ErrorCode.UNAVAILABLE, "the hub failed on this command"),
    "history_failed": Detail(ErrorCode.UNAVAILABLE, "the hub failed to read the history"),
    "window_failed": Detail(ErrorCode.UNAVAILABLE, "the hub failed to read the events"),
    "request_failed": Detail(ErrorCode.UNAVAILABLE, "the hub failed to answer the request"),
    # --- the engine (hub/engine.py) ---
    "hub_not_running": Detail(ErrorCode.UNAVAILABLE, "the hub is not running"),
    "hub_stopping": Detail(ErrorCode.UNAVAILABLE, "the hub is stopping"),
    "store_failed": Detail(ErrorCode.UNAVAILABLE, "the hub could not store the command"),
    "command_not_stored": Detail(
        ErrorCode.UNAVAILABLE, "the hub's database would not store this command"
    ),
    "duplicate_id": Detail(
        ErrorCode.DUPLICATE_ID, "command id {command} was used for another command"
    ),
    # --- lookups ---
    "unknown_case": Detail(ErrorCode.NOT_FOUND, "unknown case {case}"),
    "unknown_unit": Detail(ErrorCode.NOT_FOUND, "unknown unit {unit}"),
    "unknown_staff": Detail(ErrorCode.NOT_FOUND, "unknown staff {staff}"),
    "unknown_grid": Detail(ErrorCode.NOT_FOUND, "unknown grid {grid}"),
    "unknown_category": Detail(ErrorCode.NOT_FOUND, "unknown category {category}"),
    # --- roles and unit scope (dispatch/roles.py) ---
    "role_may_not": Detail(ErrorCode.FORBIDDEN, "a {role} may not {op}"),
    "no_unit": Detail(ErrorCode.FORBIDDEN, "{operator} has no unit to act for"),
    "dispatch_outside_unit": Detail(
        ErrorCode.FORBIDDEN, "{operator} may dispatch only within its own unit, not to {unit}"
    ),
    "not_own_unit": Detail(ErrorCode.FORBIDDEN, "case {case} is not in {operator}'s unit"),
    "staff_not_own_unit": Detail(ErrorCode.FORBIDDEN, "{staff} is not in {operator}'s unit"),
    "history_out_of_scope": Detail(
        ErrorCode.FORBIDDEN, "case {case} is neither owned nor supported by {operator}'s unit"
    ),
    # --- the workflow (dispatch/workflow.py) ---
    "version_conflict": Detail(
        ErrorCode.CONFLICT, "case {case} is at version {version} ({status}), not {expected}"
    ),
    "version_conflict_by": Detail(
        ErrorCode.CONFLICT,
        "case {case} was changed by {by}: it is at version {version} ({status}), not {expected}",
    ),
    "illegal_step": Detail(ErrorCode.ILLEGAL_STEP, "cannot {op} a case that is {status}"),
    "reason_required": Detail(ErrorCode.REASON_REQUIRED, "{op} needs a reason"),
    "result_required": Detail(ErrorCode.REASON_REQUIRED, "{op} needs the result"),
    "failed_check_reason": Detail(ErrorCode.REASON_REQUIRED, "a failed {op} needs a reason"),
    "note_text": Detail(ErrorCode.REASON_REQUIRED, "a {op} needs its text"),
    "kind_mismatch": Detail(ErrorCode.INVALID, "category {category} is not of kind {kind}"),
    "staff_not_in_unit": Detail(ErrorCode.INVALID, "{staff} is not in unit {unit}"),
    "not_verified_source": Detail(ErrorCode.ILLEGAL_STEP, "cases from {source} are not verified"),
    "verify_first": Detail(
        ErrorCode.ILLEGAL_STEP, "cannot accept a {source} case before it is verified"
    ),
    "already_with_unit": Detail(ErrorCode.INVALID, "case {case} is already with {unit}"),
    "no_callback": Detail(ErrorCode.ILLEGAL_STEP, "no callback for a {source} case"),
    "callback_done": Detail(ErrorCode.ILLEGAL_STEP, "case {case} already had its callback"),
    "reopen_satisfied": Detail(ErrorCode.INVALID, "a satisfied reporter does not reopen a case"),
    "top_level": Detail(ErrorCode.ILLEGAL_STEP, "case {case} is already at {level}, the top level"),
    "lead_supports": Detail(ErrorCode.INVALID, "{unit} cannot lead and support at once"),
    "request_pending": Detail(ErrorCode.ILLEGAL_STEP, "a {request} request is already pending"),
    "extension_too_late": Detail(
        ErrorCode.DEADLINE_PASSED, "an extension must be asked before the {step} deadline is due"
    ),
    "no_pending_request": Detail(ErrorCode.NO_REQUEST, "case {case} has no pending request"),
    "no_request": Detail(ErrorCode.NO_REQUEST, "case {case} has no pending {request} request"),
    "merge_into_itself": Detail(ErrorCode.INVALID, "a case cannot be merged into itself"),
    "merge_into_finished": Detail(
        ErrorCode.ILLEGAL_STEP, "cannot merge into case {into}: it is {status}"
    ),
    "merge_other_category": Detail(ErrorCode.INVALID, "case {into} is of another category"),
    "cases_window_backwards": Detail(
        ErrorCode.INVALID, "a cases window must start before it ends ({since} .. {until})"
    ),
    "position_out_of_scope": Detail(ErrorCode.FORBIDDEN, "{staff} is not a person of unit {unit}"),
    "handover_window": Detail(
        ErrorCode.INVALID, "a hand-over window must start before it ends ({since} .. {until})"
    ),
    "handover_in_future": Detail(
        ErrorCode.INVALID, "a hand-over cannot be acknowledged for after {now}: until {until}"
    ),
    "handover_too_long": Detail(
        ErrorCode.INVALID, "a hand-over window is at most {hours} hours long"
    ),
    # --- the rota (dispatch/rota.py) ---
    "no_rota": Detail(ErrorCode.ILLEGAL_STEP, "the hall has no rota"),
    "rota_past": Detail(
        ErrorCode.ILLEGAL_STEP, "duty day {on} is over: the rota can change from {today} on"
    ),
    "rota_swap_same": Detail(ErrorCode.INVALID, "{staff} cannot swap with themselves"),
    "rota_order_repeats": Detail(
        ErrorCode.INVALID, "the standby order of {unit} names someone twice"
    ),
    "off_rota": Detail(
        ErrorCode.FORBIDDEN, "{operator} stands by after hours only: no {op} in the day shift"
    ),
    # --- the chain of command and 吹哨报到 (dispatch/command_chain.py, dispatch/whistle.py) ---
    "not_instructing_desk": Detail(
        ErrorCode.FORBIDDEN, "{operator} is not at the district or leadership desk"
    ),
    "instruction_text": Detail(ErrorCode.REASON_REQUIRED, "an {op} needs its text"),
    "bottom_level": Detail(ErrorCode.ILLEGAL_STEP, "case {case} is not escalated"),
    "not_lower_level": Detail(
        ErrorCode.INVALID, "case {case} is at {level}: it can only be sent further down"
    ),
    "whistle_under_way": Detail(
        ErrorCode.ILLEGAL_STEP, "case {case} has a whistle under way: wait for its roll call"
    ),
    "no_whistle": Detail(ErrorCode.ILLEGAL_STEP, "case {case} has no unit waiting to report in"),
    "not_summoned": Detail(ErrorCode.INVALID, "{unit} was not summoned to case {case}"),
    "already_reported_in": Detail(
        ErrorCode.ILLEGAL_STEP, "{unit} has already reported in to case {case}"
    ),
    "other_street": Detail(
        ErrorCode.FORBIDDEN,
        "{operator} at a street desk may not assign to {unit} of another street",
    ),
    "report_in_other_unit": Detail(
        ErrorCode.FORBIDDEN, "{operator} may report in only for its own unit, not {unit}"
    ),
    # --- calls that break the workflow's contract (never sent by the hub's own engine) ---
    "intake_needs_id": Detail(ErrorCode.INVALID, "intake needs a new case id"),
    "not_a_case_command": Detail(ErrorCode.INVALID, "{op} is not a case command"),
    "wrong_target": Detail(ErrorCode.INVALID, "the command is for {target}, not {given}"),
    # --- hub-side only: scenario replay and config (never on the wire) ---
    "never_created": Detail(ErrorCode.NOT_FOUND, "case {case} was never created"),
    "config_not_toml": Detail(ErrorCode.MALFORMED, "config is not valid TOML: {error}"),
    "config_invalid": Detail(ErrorCode.INVALID, "config: {error}"),
}
"""detail id → its code and English template. Ids are stable: a client may key on them."""


ENUM_PARAMS: Mapping[str, type[StrEnum]] = {
    "status": Status,
    "source": Source,
    "kind": Kind,
    "level": Level,
    "role": Role,
    "request": RequestKind,
    "step": Step,
}
"""Params that hold an enumeration's value: a client shows them by their localised names.
(``op`` holds an op name, also a fixed vocabulary; the other params are ids, names, numbers
or free text.)"""


def placeholders(text: str) -> frozenset[str]:
    """The ``{named}`` placeholders of a template."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


class Refusal(Exception):
    """A command or frame refused with a code. Raised by pure code, turned into an error frame.

    ``detail`` names the rule (a key of :data:`DETAILS`) and ``params`` the values its
    template is formatted with; make one with :func:`refuse`.
    """

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        detail: str | None = None,
        params: Mapping[str, Param] | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.detail = detail
        self.params: dict[str, Param] = dict(params or {})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Refusal) and (
            other.code,
            other.message,
            other.detail,
            other.params,
        ) == (self.code, self.message, self.detail, self.params)

    def __hash__(self) -> int:
        return hash((self.code, self.message, self.detail))


def refuse(detail: str, **params: Param) -> Refusal:
    """The refusal ``detail`` of :data:`DETAILS`, its message formatted from ``params``.

    ``params`` must name exactly the template's placeholders (a slip is a ``TypeError`` that
    the tests catch, never a half-filled message on the wire); enum members become their
    values.
    """
    code, text = DETAILS[detail]
    if params.keys() != placeholders(text):
        raise TypeError(
            f"refusal {detail!r} takes {sorted(placeholders(text))}, not {sorted(params)}"
        )
    plain = {k: v.value if isinstance(v, Enum) else v for k, v in params.items()}
    return Refusal(code, text.format(**plain), detail=detail, params=plain)
