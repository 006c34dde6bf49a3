"""docs/PROTOCOL.md names everything a third-party client can meet on the wire, and its JSON
examples still decode with the protocol's own types."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import msgspec
import pytest

from dispatch.commands import OPS, AnyCommand
from dispatch.errors import DETAILS, ErrorCode
from dispatch.events import Event, EventType
from dispatch.models import Area, Case, Staff, Unit
from dispatch.protocol import (
    Ack,
    Cases,
    CasesRequest,
    ClientMessage,
    CommandFrame,
    Error,
    Events,
    Hello,
    History,
    HistoryRequest,
    HubMessage,
    Ping,
    Pong,
    PositionReport,
    Positions,
    PositionTaken,
    Snapshot,
    Tracks,
    TracksRequest,
    Welcome,
)

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```json\n(.*?)\n```", DOC, flags=re.DOTALL)
CLIENT_TYPES = {
    str(t.__struct_config__.tag)
    for t in (
        Hello,
        CommandFrame,
        Ping,
        HistoryRequest,
        CasesRequest,
        PositionReport,
        TracksRequest,
    )
}
HUB_TYPES = {
    str(t.__struct_config__.tag)
    for t in (
        Welcome,
        Snapshot,
        Events,
        Ack,
        Error,
        Pong,
        History,
        Cases,
        PositionTaken,
        Tracks,
        Positions,
    )
}


@pytest.mark.parametrize("op", sorted(OPS))
def test_every_op_is_documented_with_an_example(op: str) -> None:
    assert f"**{op}**" in DOC
    assert f'{{"op":"{op}"' in DOC


@pytest.mark.parametrize("code", [c.value for c in ErrorCode])
def test_every_error_code_is_documented(code: str) -> None:
    assert f"| `{code}` |" in DOC


@pytest.mark.parametrize("detail", sorted(DETAILS))
def test_every_detail_id_is_documented(detail: str) -> None:
    assert f"| `{detail}` |" in DOC


@pytest.mark.parametrize("kind", [t.value for t in EventType])
def test_every_event_type_is_documented(kind: str) -> None:
    assert f"| `{kind}` |" in DOC


def _shown_type(example: dict[str, Any]) -> Any:
    """The protocol type an example shows, told by the keys a reader would go by."""
    if "op" in example:
        return AnyCommand
    if "actor" in example:
        return Event
    if example.get("type") == "history":  # both ways: the answer is the one with events
        return HubMessage if "events" in example else ClientMessage
    if example.get("type") == "catalog":  # both ways: the answer is the one with categories
        return HubMessage if "categories" in example else ClientMessage
    if example.get("type") == "events_window":  # both ways: the answer holds the events
        return HubMessage if "events" in example else ClientMessage
    answers = {"cases_window": "cases", "position": "kept", "tracks": "patrols", "rota": "at"}
    if example.get("type") in answers:  # both ways: the answer holds these
        return HubMessage if answers[example["type"]] in example else ClientMessage
    if example.get("type") in CLIENT_TYPES:
        return ClientMessage
    if example.get("type") in HUB_TYPES:
        return HubMessage
    for key, shape in (("status", Case), ("duty", Staff), ("dept", Unit), ("code", Area)):
        if key in example:
            return shape
    raise AssertionError(f"an example of no known type: {example}")


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_every_json_example_is_exactly_what_the_hub_encodes(example: str) -> None:
    """Decoded as the type it shows, it re-encodes to itself: no field missing, extra or
    misspelt, no value the type would refuse."""
    raw = msgspec.json.decode(example)
    decoded = msgspec.json.decode(example, type=_shown_type(raw))
    assert msgspec.json.decode(msgspec.json.encode(decoded)) == raw


def test_the_doc_has_an_example_of_every_message() -> None:
    shown = {msgspec.json.decode(e).get("type") for e in EXAMPLES}
    assert shown >= CLIENT_TYPES | HUB_TYPES
    assert len(EXAMPLES) >= 40
