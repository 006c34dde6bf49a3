"""docs/PROTOCOL.md names everything a third-party client can meet on the wire, and its JSON
examples still decode with the protocol's own types."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from dispatch.commands import OPS, AnyCommand
from dispatch.errors import ErrorCode
from dispatch.events import Event, EventType
from dispatch.models import Area, Case, Staff, Unit
from dispatch.protocol import ClientMessage, HubMessage

DOC = (Path(__file__).resolve().parents[2] / "docs" / "PROTOCOL.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```json\n(.*?)\n```", DOC, flags=re.DOTALL)


@pytest.mark.parametrize("op", sorted(OPS))
def test_every_op_is_documented_with_an_example(op: str) -> None:
    assert f"**{op}**" in DOC
    assert f'{{"op":"{op}"' in DOC


@pytest.mark.parametrize("code", [c.value for c in ErrorCode])
def test_every_error_code_is_documented(code: str) -> None:
    assert f"| `{code}` |" in DOC


@pytest.mark.parametrize("kind", [t.value for t in EventType])
def test_every_event_type_is_documented(kind: str) -> None:
    assert f"| `{kind}` |" in DOC


def test_every_json_example_decodes_as_what_it_shows() -> None:
    assert len(EXAMPLES) >= 40
    decoders = [msgspec.json.Decoder(t) for t in (ClientMessage, HubMessage, AnyCommand, Event)]
    shapes = [msgspec.json.Decoder(t) for t in (Case, Staff, Unit, Area)]
    for example in EXAMPLES:
        ok = False
        for decoder in decoders + shapes:
            try:
                decoder.decode(example)
            except msgspec.ValidationError:
                continue
            ok = True
            break
        assert ok, example
