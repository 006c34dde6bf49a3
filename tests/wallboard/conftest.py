"""The wall's tests draw the real wall offscreen (no display needed) against a real hub; the
hub's and the client's test helpers live beside their own tests."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TESTS = Path(__file__).resolve().parents[1]
for helpers in (TESTS / "hub",):
    if str(helpers) not in sys.path:
        sys.path.insert(0, str(helpers))

from PySide6.QtWidgets import QApplication  # noqa: E402 (after the platform is chosen)


@pytest.fixture(scope="session")
def qt_app() -> Iterator[QApplication]:
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    yield app
