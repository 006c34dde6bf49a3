"""Typed refusals. Every way a command or frame can be refused has a stable code that goes on
the wire (docs/PROTOCOL.md lists them); the message is for people."""

from __future__ import annotations

from enum import StrEnum


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


class Refusal(Exception):
    """A command or frame refused with a code. Raised by pure code, turned into an error frame."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Refusal) and other.code == self.code and other.message == self.message
        )

    def __hash__(self) -> int:
        return hash((self.code, self.message))
