"""For every test: the ``pg`` tests need a PostgreSQL server named by ``GRIDDESK_TEST_PG``
(``.ci/run`` sets it); without one they are deselected, not skipped, so a green run never
pretends they passed."""

from __future__ import annotations

import os

import pytest

PG_ENV = "GRIDDESK_TEST_PG"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(PG_ENV):
        return
    deselected = [item for item in items if item.get_closest_marker("pg") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.get_closest_marker("pg") is None]
