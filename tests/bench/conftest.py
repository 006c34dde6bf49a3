"""Tests of the benchmarks' seeded hall against a real hub: the hub's and the client's test
helpers live beside their tests."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
for helpers in (TESTS / "hub", TESTS / "backend_client"):
    if str(helpers) not in sys.path:
        sys.path.insert(0, str(helpers))
