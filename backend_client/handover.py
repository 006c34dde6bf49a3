"""The shift's hand-over report, read from a hub: the one way the CLI and the screen get it.

The case lists come from the client's mirror (the hall as it stands now); the events of the
shift from the hub's ``events_window`` (the mirror keeps cases, not their past events). With
no ``since``, the window starts at the current shift's start: the last shift change or
hand-over acknowledgement in the last day (``dispatch.handover.shift_start``).
"""

from __future__ import annotations

from datetime import datetime

from backend_client.client import HubClient
from dispatch.handover import (
    LOOKBACK,
    SHIFT_MARKS,
    HandoverReport,
    build,
    shift_start,
    window_types,
)


async def shift_report(client: HubClient, since: datetime | None = None) -> HandoverReport:
    """The hand-over report of ``since`` (default: the shift's start) .. the hub's time now.

    Raises what :meth:`HubClient.events_window` raises (``forbidden`` for a role that may not
    read the whole hall's events)."""
    now = client.hub_now()
    opened_by = None
    if since is None:
        _, marks, _ = await client.events_window(now - LOOKBACK, now, sorted(SHIFT_MARKS))
        since, opened_by = shift_start(marks, now)
    until, events, cut = await client.events_window(since, now, window_types())
    cases = client.mirror.cases.values()
    return build(cases, events, since, until, opened_by=opened_by, complete=not cut)
