"""The client library: connect to a hub, mirror its state, send commands and await acks.
Usable without Textual (the wallboard and scripts use it too). Imports ``dispatch`` only.

``HubClient`` owns the connection (``run()``, callbacks, ``send()``); ``Mirror`` is the local
copy of the hall; ``ConnectionState`` what the owner is told; the errors say why a command
or a connection failed.
"""

from backend_client.client import HubClient, hub_urls
from backend_client.errors import (
    AuthFailed,
    ClientError,
    CommandRefused,
    CommandTimeout,
    NotConnected,
    SessionRevoked,
)
from backend_client.mirror import Change, Diverged, Gap, Mirror
from backend_client.state import ConnectionState

__all__ = [
    "AuthFailed",
    "Change",
    "ClientError",
    "CommandRefused",
    "CommandTimeout",
    "ConnectionState",
    "Diverged",
    "Gap",
    "HubClient",
    "Mirror",
    "NotConnected",
    "SessionRevoked",
    "hub_urls",
]
