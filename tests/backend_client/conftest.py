"""Tests of the client library against a real hub: the hub's test helpers live beside its tests."""

from __future__ import annotations

import sys
from pathlib import Path

HUB_TESTS = Path(__file__).resolve().parents[1] / "hub"
if str(HUB_TESTS) not in sys.path:
    sys.path.insert(0, str(HUB_TESTS))
