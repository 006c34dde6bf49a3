"""The connection states a :class:`~backend_client.client.HubClient` reports to its owner."""

from __future__ import annotations

from enum import StrEnum


class ConnectionState(StrEnum):
    CONNECTING = "connecting"  # opening the socket and saying hello
    SYNCING = "syncing"  # welcomed; receiving the snapshot or the missed events
    LIVE = "live"  # the mirror is current; commands may be sent
    DISCONNECTED = "disconnected"  # lost; the last state is kept read-only, a retry is due
    AUTH_FAILED = "auth_failed"  # the hub refused the token: final, no retry
    REVOKED = "revoked"  # the hub ended the session (4003): operator disabled or changed; final
    CLOSED = "closed"  # stopped by its owner (or refused for good): final


FINAL_STATES = frozenset(
    {ConnectionState.AUTH_FAILED, ConnectionState.REVOKED, ConnectionState.CLOSED}
)
"""States after which ``run()`` has returned and nothing more happens."""
