"""Refusals in the operator's language.

The hub refuses with a stable code (and, for most refusals, a detail id with structured
parameters — docs/PROTOCOL.md §7); the English ``message`` is for logs and scripts. The console
words every refusal from its own catalogs: the detail's template when it knows it, with each
parameter put in words (a status as a status, a unit by its name), else a sentence for the
code. A conflict also says who changed the case last and what it is now, from the events this
console saw — the board already shows the new state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.seen_events import SeenEvents
from console.wording import Wording
from dispatch.errors import DETAILS, ErrorCode, Refusal
from dispatch.models import Kind, Level, Role, Source, Status, Step, Urgency

CODE_TEXT: Mapping[ErrorCode, str] = {
    ErrorCode.MALFORMED: "The hub could not read the request.",
    ErrorCode.INVALID: "The request is not valid.",
    ErrorCode.UNKNOWN_MESSAGE: "The hub does not know this request.",
    ErrorCode.UNKNOWN_COMMAND: "The hub does not know this command.",
    ErrorCode.TOO_LARGE: "The request is too large.",
    ErrorCode.UNAUTHENTICATED: "The hub does not accept this operator's token.",
    ErrorCode.PROTOCOL_VERSION: "This console speaks another protocol version than the hub.",
    ErrorCode.FORBIDDEN: "Your role may not do this here.",
    ErrorCode.NOT_FOUND: "The hub does not know that case, unit, person or place.",
    ErrorCode.CONFLICT: "The case changed before your command arrived; look again and decide.",
    ErrorCode.ILLEGAL_STEP: "That step does not apply to the case as it is now.",
    ErrorCode.REASON_REQUIRED: "This step needs a reason.",
    ErrorCode.DEADLINE_PASSED: "More time must be asked for before the deadline.",
    ErrorCode.NO_REQUEST: "The case has no such pending request.",
    ErrorCode.DUPLICATE_ID: "That command id was already used for another command.",
    ErrorCode.RATE_LIMITED: "Too many requests; wait a moment and try again.",
    ErrorCode.UNAVAILABLE: "The hub cannot do this now; nothing was applied. Try again.",
}
"""A sentence per code (gettext ids), for refusals whose detail the console does not know."""

CONFLICT_BY = "{case} was changed by {by} ({event}); it is now {status}, version {version}."
"""What the console adds to a conflict, from the last event it saw on the case."""


def _word(name: str, value: Any, words: Wording) -> str:
    """A parameter's value in words, by the parameter's name."""
    text = str(value)
    try:
        match name:
            case "status" | "from_status":
                return words.status(Status(text))
            case "source":
                return words.source(Source(text))
            case "level":
                return words.level(Level(text))
            case "role":
                return words.role(Role(text))
            case "urgency":
                return words.urgency(Urgency(text))
            case "step":
                return words.step(Step(text))
            case "op":
                return words.op(text)
            case "request":
                return words.request(text)
            case "kind":
                return words.kind(Kind(text))
            case "unit" | "lead":
                return words.unit(text)
            case "staff":
                return words.person(text)
            case "operator" | "by":
                return text
            case "category":
                return words.category(text)
            case "grid":
                return words.grid(text)
    except ValueError:
        pass
    return text


def describe(refusal: Refusal, words: Wording, seen: SeenEvents | None = None) -> str:
    """The refusal in the operator's language: its detail's template (the hub's
    :data:`~dispatch.errors.DETAILS`) translated and filled with its parameters in words, or a
    sentence for its code when the detail is unknown to this console."""
    tr = words.tr
    params = refusal.params
    detail = DETAILS.get(refusal.detail or "")
    text = ""
    if detail is not None:
        try:
            text = tr(detail.text).format(**{k: _word(k, v, words) for k, v in params.items()})
        except (KeyError, IndexError, ValueError):  # a catalog out of step: still say something
            text = ""
    if not text:
        text = tr(CODE_TEXT.get(refusal.code, "Refused."))
        if words.language.english and refusal.message:
            text = f"{text} ({refusal.message})"
    if refusal.code is ErrorCode.CONFLICT and seen is not None and "by" not in params:
        text += _last_change(str(params.get("case", "")), words, seen)
    return text


def _last_change(case_id: str, words: Wording, seen: SeenEvents) -> str:
    """Who changed the case last, from the events this console saw (after a hub restart the
    hub may not know; the console may)."""
    last = seen.last(case_id) if case_id else None
    case = words.model.cases.get(case_id)
    if last is None or case is None:
        return ""
    return " " + words.tr(CONFLICT_BY).format(
        case=case_id,
        by=last.actor,
        event=words.event(last.type),
        status=words.status(case.status),
        version=case.version,
    )
